package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/servertest"
)

// uploads records the PUTs of TestCrashDuringUploads. A key is acked once the
// server answered 200; every other key that was sent (in flight at the kill, or
// answered with an error) is unknown: it may be absent or complete, never partial.
// After a restart an unknown key found complete counts as acked from then on, and
// one found absent is gone: it must never appear later.
type uploads struct {
	mu      sync.Mutex
	acked   map[string]object
	unknown map[string]object
	gone    map[string]object
}

func (u *uploads) begin(o object) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.unknown[o.key] = o
}

func (u *uploads) ack(o object) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.unknown, o.key)
	u.acked[o.key] = o
}

// TestCrashDuringUploads SIGKILLs the server while eight clients upload objects of
// 1 KiB–3 MiB, restarts it and checks that acknowledged objects survived intact,
// that nothing partial is visible, that the temp area was cleared and that the
// server takes writes again; three times over, each check covering all the cycles.
func TestCrashDuringUploads(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ctx := context.Background()
	p := servertest.StartProcess(t, servertest.ProcOptions{Drives: 6})
	const bucket = "crash"
	createBucket(t, ctx, newClient(p), bucket)
	u := &uploads{acked: map[string]object{}, unknown: map[string]object{}, gone: map[string]object{}}
	testStart := time.Now()

	for cycle := range 3 {
		// A fresh client per server life: no connection outlives a kill.
		c := newClient(p)
		sent, failed := upload(t, ctx, c, p, bucket, cycle, u)
		tmp := 0
		for _, d := range p.Drives {
			ents, _ := os.ReadDir(filepath.Join(d, ".cairn", "tmp"))
			tmp += len(ents)
		}
		t.Logf("cycle %d: killed after %d PUTs: %d acked in total, %d unknown in total (%d answered with an error), %d temp entries left on the drives", cycle, sent, len(u.acked), len(u.unknown), failed, tmp)
		if len(u.acked) == 0 {
			t.Fatalf("cycle %d: no PUT was acknowledged before the kill", cycle)
		}

		start := time.Now()
		p.Restart(t)
		t.Logf("cycle %d: restarted in %v", cycle, time.Since(start).Round(time.Millisecond))
		for _, d := range p.Drives {
			ents, err := os.ReadDir(filepath.Join(d, ".cairn", "tmp"))
			if err != nil && !os.IsNotExist(err) {
				t.Errorf("cycle %d: reading %s/.cairn/tmp: %v", cycle, d, err)
			}
			if len(ents) > 0 {
				t.Errorf("cycle %d: %s/.cairn/tmp holds %d entries after the restart (first %s); want it empty", cycle, d, len(ents), ents[0].Name())
			}
		}
		c = newClient(p)
		verifyAfterCrash(t, ctx, c, bucket, cycle, u)

		// The server takes writes again.
		o, data := newObject(fmt.Sprintf("after/%d", cycle), 9000+uint64(cycle), 1<<20+17, false)
		if err := put(ctx, c, bucket, o, data); err != nil {
			t.Errorf("cycle %d: PUT after the restart: %v", cycle, err)
		} else {
			u.ack(o)
			if msg := check(ctx, c, bucket, o); msg != "" {
				t.Errorf("cycle %d: after the restart: %s", cycle, msg)
			}
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("total %v", time.Since(testStart).Round(time.Millisecond))
}

// upload runs eight workers putting fresh objects until, after about two seconds,
// the server is killed. It returns how many PUTs were sent and how many were
// answered with an error.
func upload(t *testing.T, ctx context.Context, c *s3.Client, p *servertest.Process, bucket string, cycle int, u *uploads) (sent, failed int64) {
	t.Helper()
	var stop atomic.Bool
	var nsent, nfailed atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(cycle), uint64(w)))
			for n := 0; !stop.Load(); n++ {
				// Log-uniform sizes from 1 KiB to 3 MiB: mostly small, some large.
				size := int64(math.Exp(math.Log(1<<10) + rng.Float64()*(math.Log(3<<20)-math.Log(1<<10))))
				seed := uint64(cycle)<<40 | uint64(w)<<32 | uint64(n)
				o, data := newObject(fmt.Sprintf("c%d/w%d/%05d", cycle, w, n), seed, size, false)
				u.begin(o)
				nsent.Add(1)
				pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := c.PutObject(pctx, &s3.PutObjectInput{
					Bucket: aws.String(bucket), Key: aws.String(o.key),
					Body: bytes.NewReader(data), ContentLength: aws.Int64(size),
				})
				cancel()
				if err != nil {
					nfailed.Add(1)
					if !stop.Load() {
						t.Errorf("cycle %d: PUT %s before the kill: %v", cycle, o.key, err)
					}
					continue
				}
				u.ack(o)
			}
		})
	}
	time.Sleep(2 * time.Second)
	// Stop starting PUTs and kill the server with those in flight.
	stop.Store(true)
	p.Kill()
	wg.Wait()
	return nsent.Load(), nfailed.Load()
}

// verifyAfterCrash checks the bucket against what was uploaded: every acked object
// is listed and reads back identical; every listed key was sent, and if its PUT was
// not acked it reads back complete and identical (never partial); an unlisted
// unknown key is absent for HEAD too.
func verifyAfterCrash(t *testing.T, ctx context.Context, c *s3.Client, bucket string, cycle int, u *uploads) {
	t.Helper()
	start := time.Now()
	listed, err := listKeys(ctx, c, bucket, "")
	if err != nil {
		t.Fatalf("cycle %d: LIST: %v", cycle, err)
	}
	inList := map[string]bool{}
	for _, k := range listed {
		inList[k] = true
	}
	var toRead []object
	for k, o := range u.acked {
		if !inList[k] {
			t.Errorf("cycle %d: acknowledged %s (%d bytes) is not listed", cycle, k, o.size)
		}
		toRead = append(toRead, o)
	}
	var present, absent []object
	for _, k := range listed {
		if _, ok := u.acked[k]; ok {
			continue
		}
		o, ok := u.unknown[k]
		if !ok {
			if g, ok := u.gone[k]; ok {
				t.Errorf("cycle %d: %s (%d bytes), absent after an earlier restart, is listed now", cycle, k, g.size)
			} else {
				t.Errorf("cycle %d: listed %s was never uploaded", cycle, k)
			}
			continue
		}
		present = append(present, o)
	}
	for k, o := range u.unknown {
		if !inList[k] {
			absent = append(absent, o)
		}
	}
	sort.Slice(toRead, func(i, j int) bool { return toRead[i].key < toRead[j].key })

	var mu sync.Mutex
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		t.Errorf(format, args...)
	}
	all := slices.Concat(toRead, present)
	forEach(len(all), 4, func(i int) error {
		if msg := check(ctx, c, bucket, all[i]); msg != "" {
			kind := "acknowledged"
			if i >= len(toRead) {
				kind = "listed, in flight at the kill"
			}
			report("cycle %d: %s object: %s", cycle, kind, msg)
		}
		return nil
	})
	for _, o := range present {
		u.ack(o)
	}
	for _, o := range absent {
		delete(u.unknown, o.key)
		u.gone[o.key] = o
	}
	forEach(len(absent), 4, func(i int) error {
		o := absent[i]
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key)})
		switch {
		case err == nil:
			report("cycle %d: %s is not listed but HEAD finds it (%d bytes, sent %d)", cycle, o.key, aws.ToInt64(out.ContentLength), o.size)
		case httpStatus(err) != 404:
			report("cycle %d: HEAD %s (not listed): %s; want 404", cycle, o.key, describe(err))
		}
		return nil
	})
	t.Logf("cycle %d: verified %d acknowledged objects (%s), %d in-flight objects present, %d absent in %v",
		cycle, len(toRead), mib(totalSize(toRead)), len(present), len(absent), time.Since(start).Round(time.Millisecond))
}
