package bitrot

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkHash measures the one-shot frame hash of each algorithm.
func BenchmarkHash(b *testing.B) {
	for _, alg := range []Algorithm{HighwayHash256, XXH128, BLAKE3} {
		for _, size := range []int{256 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", alg, size>>10), func(b *testing.B) {
				data := make([]byte, size)
				for i := range data {
					data[i] = byte(i * 7)
				}
				sum := make([]byte, 0, MaxHashSize)
				b.SetBytes(int64(size))
				b.ResetTimer()
				for b.Loop() {
					sum = alg.sum(sum[:0], data)
				}
			})
		}
	}
}

// BenchmarkBitrotWriter frames 1 MiB writes into 256 KiB frames (a 1 MiB
// object block split 4 ways) into io.Discard.
func BenchmarkBitrotWriter(b *testing.B) {
	for _, alg := range []Algorithm{XXH128, HighwayHash256, BLAKE3} {
		b.Run(alg.String(), func(b *testing.B) {
			data := make([]byte, 1<<20)
			w := NewWriter(io.Discard, alg, 256<<10)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w.Write(data)
			}
			w.Close()
		})
	}
}

// BenchmarkBitrotReader reads back 256 KiB frames from memory.
func BenchmarkBitrotReader(b *testing.B) {
	const bs = 256 << 10
	for _, alg := range []Algorithm{XXH128, HighwayHash256, BLAKE3} {
		b.Run(alg.String(), func(b *testing.B) {
			framed := Frame(alg, bs, make([]byte, 4*bs))
			buf := make([]byte, 32<<10)
			src := bytes.NewReader(framed)
			b.SetBytes(4 * bs)
			for b.Loop() {
				src.Reset(framed)
				if _, err := io.CopyBuffer(io.Discard, NewReader(src, alg, bs, 4*bs), buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
