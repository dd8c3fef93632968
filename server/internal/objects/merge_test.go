package objects

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sliceIter yields fixed entries (benchmarks and tests of merge).
type sliceIter struct {
	es []entry
	i  int
}

func (s *sliceIter) next() (entry, bool) {
	if s.i >= len(s.es) {
		return entry{}, false
	}
	s.i++
	return s.es[s.i-1], true
}

func (s *sliceIter) seek(after string) {
	for s.i < len(s.es) && s.es[s.i].key <= after {
		s.i++
	}
}

func (s *sliceIter) err() error { return nil }

// A merge yields every key of its iterators once, in order, combined from
// exactly the iterators holding it (in iterator order), across lockstep
// stretches (all iterators on one key), disjoint stretches, exhausted
// iterators and seeks.
func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 1 + rng.IntN(13)
		holders := map[string][]int{}
		src := make([][]entry, n)
		for k := range 200 {
			key := fmt.Sprintf("k%04d", k)
			all := rng.IntN(3) > 0 // long stretches of keys on every iterator
			for j := range n {
				if all || rng.IntN(3) == 0 {
					src[j] = append(src[j], entry{key: key})
					holders[key] = append(holders[key], j)
				}
			}
		}
		its := make([]iterator, n)
		for j := range its {
			its[j] = &sliceIter{es: src[j]}
		}
		var got []entry
		m := newMerge(its, func(es []entry) entry {
			var srcs []int
			for _, e := range es {
				srcs = append(srcs, e.src)
				if e.key != es[0].key {
					t.Fatalf("round %d: one combine, keys %q and %q", round, es[0].key, e.key)
				}
			}
			if want := holders[es[0].key]; !slices.Equal(srcs, want) {
				t.Fatalf("round %d: %s combined from %v, held by %v", round, es[0].key, srcs, want)
			}
			return es[0]
		})
		seekAt, seekTo := rng.IntN(200), fmt.Sprintf("k%04d", rng.IntN(200))
		for {
			if len(got) == seekAt {
				m.seek(seekTo)
			}
			e, ok := m.next()
			if !ok {
				break
			}
			got = append(got, e)
		}
		var want []string
		for k := range 200 {
			key := fmt.Sprintf("k%04d", k)
			if len(holders[key]) > 0 && (len(want) < seekAt || key > seekTo) {
				want = append(want, key)
			}
		}
		keys := make([]string, len(got))
		for i, e := range got {
			keys[i] = e.key
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("round %d (%d iterators, seek to %s after %d): got %d keys, want %d\n%v\n%v", round, n, seekTo, seekAt, len(keys), len(want), keys, want)
		}
	}
}

// BenchmarkMerge merges what a listing's quorum walk merges on a 12+4 set
// (12 drives holding the same keys) and what a pool's walk merges (sets
// holding different keys), per key listed.
func BenchmarkMerge(b *testing.B) {
	const keys = 10000
	names := make([]string, keys)
	raw := []byte("value")
	for i := range names {
		names[i] = fmt.Sprintf("dir%03d/file%05d", i/1000, i%1000)
	}
	for _, c := range []struct {
		name string
		its  int
		same bool
	}{{"same-keys-12", 12, true}, {"same-keys-3", 3, true}, {"own-keys-8", 8, false}} {
		b.Run(c.name, func(b *testing.B) {
			src := make([][]entry, c.its)
			for i, k := range names {
				for j := range src {
					if c.same || i%c.its == j {
						src[j] = append(src[j], entry{key: k, raw: raw})
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for b.Loop() {
				its := make([]iterator, c.its)
				for j := range its {
					its[j] = &sliceIter{es: src[j]}
				}
				m := newMerge(its, func(es []entry) entry { return es[0] })
				for {
					if _, ok := m.next(); !ok {
						break
					}
					n++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/key")
		})
	}
}
