package bitrot_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-io/cairn/server/internal/bitrot"
)

func ExampleNewWriter() {
	const blockSize = 4
	var shard bytes.Buffer // stands in for a drive file

	w := bitrot.NewWriter(&shard, bitrot.DefaultAlgorithm, blockSize)
	io.WriteString(w, "hello, world")
	if err := w.Close(); err != nil { // flushes the last frame; does not close shard
		panic(err)
	}
	fmt.Println("framed size:", shard.Len(), bitrot.FramedSize(bitrot.DefaultAlgorithm, 12, blockSize))

	// Read back from block 1 on: seek to its frame, ask for the rest.
	framed := shard.Bytes()
	off := bitrot.FrameOffset(bitrot.DefaultAlgorithm, 1, blockSize)
	r := bitrot.NewReader(bytes.NewReader(framed[off:]), bitrot.DefaultAlgorithm, blockSize, 12-1*blockSize)
	data, err := io.ReadAll(r)
	fmt.Printf("%q %v\n", data, err)

	// Flip one bit in the last block: the reader returns the intact blocks
	// and then an error, never the damaged bytes.
	framed[len(framed)-1] ^= 1
	data, err = io.ReadAll(bitrot.NewReader(bytes.NewReader(framed), bitrot.DefaultAlgorithm, blockSize, 12))
	fmt.Printf("%q %v\n", data, errors.Is(err, bitrot.ErrCorrupt))
	fmt.Println(err)
	// Output:
	// framed size: 60 60
	// "o, world" <nil>
	// "hello, w" true
	// bitrot: shard data corrupt: block 2: hash mismatch
}

func ExampleUnframe() {
	inline := bitrot.Frame(bitrot.DefaultAlgorithm, 1<<10, []byte("small object"))
	data, err := bitrot.Unframe(bitrot.DefaultAlgorithm, 1<<10, inline, 12)
	fmt.Printf("%q %v\n", data, err)
	// Output: "small object" <nil>
}
