package erasure_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/erasure"
	"github.com/klauspost/reedsolomon"
)

const (
	benchBlock = 1 << 20
	benchSize  = 16 << 20
)

// BenchmarkEncode encodes a 16 MiB object on 4+2 with 1 MiB blocks.
//
//   - discard: writers are io.Discard, so this is Reed-Solomon plus the
//     block plumbing (run with -cpu=1 for the per-core encode rate);
//   - bitrot: each writer is a bitrot.NewWriter into io.Discard;
//   - files: bitrot writers into real temp files, the local-drive case;
//   - latency: writers that sleep 100µs per Write, a stand-in for a remote
//     drive's round trip.
//
// Each runs with concurrent (default) and sequential shard writes.
func BenchmarkEncode(b *testing.B) {
	data := randBytes(1, benchSize)
	for _, sink := range []string{"discard", "bitrot", "files", "latency"} {
		for _, mode := range []string{"concurrent", "sequential"} {
			b.Run(fmt.Sprintf("4+2/%s/%s", sink, mode), func(b *testing.B) {
				e := mustNew(b, 4, 2, benchBlock)
				erasure.SetSequentialIO(e, mode == "sequential")
				ws := make([]io.Writer, 6)
				var files []*os.File
				for i := range ws {
					switch sink {
					case "discard":
						ws[i] = io.Discard
					case "latency":
						ws[i] = slowWriter{}
					case "bitrot":
						ws[i] = bitrot.NewWriter(io.Discard, alg, e.ShardBlockSize())
					case "files":
						f, err := os.Create(filepath.Join(b.TempDir(), fmt.Sprint(i)))
						if err != nil {
							b.Fatal(err)
						}
						files = append(files, f)
					}
				}
				src := bytes.NewReader(data)
				b.SetBytes(benchSize)
				for b.Loop() {
					for i, f := range files {
						f.Seek(0, io.SeekStart)
						ws[i] = bitrot.NewWriter(f, alg, e.ShardBlockSize())
					}
					src.Reset(data)
					if _, err := e.Encode(context.Background(), src, ws, 6); err != nil {
						b.Fatal(err)
					}
				}
				for _, f := range files {
					f.Close()
				}
			})
		}
	}
}

// BenchmarkDecode decodes a 16 MiB 4+2 object with no loss and with two
// shards lost (one data shard offline, one corrupt in its first frame), from
// in-memory shards: raw (no bitrot, the Reed-Solomon cost alone), framed
// with bitrot (the real read path minus the disk), and raw behind readers
// that sleep 100µs per Read (remote drives). Each runs with concurrent
// (default) and sequential shard reads.
func BenchmarkDecode(b *testing.B) {
	data := randBytes(2, benchSize)
	e := mustNew(b, 4, 2, benchBlock)
	framed := encodeStore(b, e, data)
	raw := make([][]byte, 6)
	for i := range raw {
		var err error
		raw[i], err = bitrot.Unframe(alg, e.ShardBlockSize(), framed.files[i], e.ShardSize(benchSize))
		if err != nil {
			b.Fatal(err)
		}
	}
	lost := framed.clone()
	lost.files[0] = nil
	lost.corrupt(2, 0)

	rawOpen := func(lose bool) erasure.ShardOpener {
		return func(shard int, firstBlock int64) (io.ReadCloser, error) {
			if lose && (shard == 0 || shard == 2) {
				return nil, nil
			}
			off := firstBlock * int64(e.ShardBlockSize())
			return io.NopCloser(bytes.NewReader(raw[shard][off:])), nil
		}
	}
	slowOpen := func(shard int, firstBlock int64) (io.ReadCloser, error) {
		r, _ := rawOpen(false)(shard, firstBlock)
		return slowReader{r}, nil
	}
	for _, tc := range []struct {
		name string
		open erasure.ShardOpener
	}{
		{"4+2/raw/no-loss", rawOpen(false)},
		{"4+2/raw/2-lost", rawOpen(true)},
		{"4+2/bitrot/no-loss", framed.open},
		{"4+2/bitrot/2-lost", lost.open},
		{"4+2/latency/no-loss", slowOpen},
	} {
		for _, mode := range []string{"concurrent", "sequential"} {
			b.Run(tc.name+"/"+mode, func(b *testing.B) {
				erasure.SetSequentialIO(e, mode == "sequential")
				defer erasure.SetSequentialIO(e, false)
				b.SetBytes(benchSize)
				for b.Loop() {
					if _, err := e.Decode(context.Background(), io.Discard, tc.open, benchSize, 0, benchSize); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// slowWriter and slowReader sleep 100µs per call, like a network round trip.
type slowWriter struct{}

func (slowWriter) Write(p []byte) (int, error) {
	time.Sleep(100 * time.Microsecond)
	return len(p), nil
}

type slowReader struct{ io.ReadCloser }

func (r slowReader) Read(p []byte) (int, error) {
	time.Sleep(100 * time.Microsecond)
	return r.ReadCloser.Read(p)
}

// BenchmarkReedSolomon measures klauspost/reedsolomon alone on one 1 MiB
// block split 4+2 (256 KiB shards): parity encoding, and rebuilding two lost
// data shards. Run with -cpu=1 for the per-core rate; b.SetBytes counts the
// 1 MiB of object data per operation.
func BenchmarkReedSolomon(b *testing.B) {
	enc, err := reedsolomon.New(4, 2)
	if err != nil {
		b.Fatal(err)
	}
	block := randBytes(3, benchBlock)
	shards, err := enc.Split(block)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode/4+2/1MiB", func(b *testing.B) {
		b.SetBytes(benchBlock)
		for b.Loop() {
			if err := enc.Encode(shards); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reconstruct-data/4+2/1MiB/2-lost", func(b *testing.B) {
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
		work := make([][]byte, len(shards))
		b.SetBytes(benchBlock)
		for b.Loop() {
			copy(work, shards)
			work[0], work[2] = shards[0][:0], shards[2][:0]
			if err := enc.ReconstructData(work); err != nil {
				b.Fatal(err)
			}
		}
	})
}
