package sse_test

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/cairn-io/cairn/server/internal/sse"
)

type memObject []byte

func (m memObject) WriteRange(_ context.Context, w io.Writer, off, n int64) error {
	_, err := w.Write(m[off : off+n])
	return err
}

// Encrypt a body as the S3 layer does for a PUT, then read a range back,
// touching only the header and the package that holds it.
func Example() {
	var key sse.ObjectKey // in the server: from Service.NewObjectKey
	plain := bytes.Repeat([]byte("cairn "), 50000)
	r, _ := sse.NewEncryptReader(bytes.NewReader(plain), key, 0)
	stored, _ := io.ReadAll(r)
	fmt.Println(len(stored) == int(sse.EncryptedSize(int64(len(plain)))))

	segs, _ := sse.Segments(int64(len(stored)), nil)
	var out bytes.Buffer
	_ = sse.DecryptRange(context.Background(), memObject(stored), &out, key, segs, 200000, 11)
	fmt.Printf("%q\n", out.String())
	// Output:
	// true
	// "irn cairn c"
}
