package erasure_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/erasure"
)

// ExampleErasure_Encode stores an object on a 4+2 set whose drives are
// in-memory buffers, loses two drives, and reads a range back.
func ExampleErasure_Encode() {
	e, err := erasure.New(4, 2, 16) // 4 data + 2 parity shards, 16-byte blocks
	if err != nil {
		panic(err)
	}
	object := strings.Repeat("erasure coding! ", 5) // 80 bytes: 5 blocks

	// One bitrot-framed shard file per drive.
	drives := make([]bytes.Buffer, 6)
	framers := make([]io.WriteCloser, 6)
	writers := make([]io.Writer, 6)
	for i := range drives {
		framers[i] = bitrot.NewWriter(&drives[i], bitrot.DefaultAlgorithm, e.ShardBlockSize())
		writers[i] = framers[i]
	}
	res, err := e.EncodeWithResult(context.Background(), strings.NewReader(object), writers, 4)
	if err != nil {
		panic(err)
	}
	for _, f := range framers {
		f.Close() // flush the last frame; the drive file stays open
	}
	fmt.Println("read", res.N, "bytes; shard size", e.ShardSize(res.N), "failed", res.Failed)

	// Drives 1 and 4 die.
	drives[1].Reset()
	drives[4].Reset()

	open := func(shard int, firstBlock int64) (io.ReadCloser, error) {
		if drives[shard].Len() == 0 {
			return nil, fmt.Errorf("drive %d offline", shard)
		}
		framed := drives[shard].Bytes()[bitrot.FrameOffset(bitrot.DefaultAlgorithm, firstBlock, e.ShardBlockSize()):]
		r := bitrot.NewReader(bytes.NewReader(framed), bitrot.DefaultAlgorithm, e.ShardBlockSize(), e.ShardSizeFrom(res.N, firstBlock))
		return io.NopCloser(r), nil
	}
	var out strings.Builder
	dres, err := e.Decode(context.Background(), &out, open, res.N, 20, 40)
	fmt.Printf("%q %v failed=%v\n", out.String(), err, dres.Failed)
	// Output:
	// read 80 bytes; shard size 20 failed []
	// "ure coding! erasure coding! erasure codi" <nil> failed=[1 4]
}
