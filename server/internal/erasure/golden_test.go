package erasure_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestGoldenShards pins the shard layout and the Reed-Solomon matrix: the
// raw shards of a fixed object on 4+2 with 32-byte blocks. If an upgrade of
// klauspost/reedsolomon changes its default matrix, parity written before
// would no longer reconstruct; this test fails first.
func TestGoldenShards(t *testing.T) {
	e := mustNew(t, 4, 2, 32)
	object := strings.Repeat("cairn erasure golden object. ", 4)[:100] // 3 full blocks + 4 bytes
	shards := make([]bytes.Buffer, 6)
	ws := make([]io.Writer, 6)
	for i := range ws {
		ws[i] = &shards[i]
	}
	if _, err := e.Encode(context.Background(), strings.NewReader(object), ws, 6); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for i := range shards {
		fmt.Fprintf(&got, "shard %d: %x\n", i, shards[i].Bytes())
	}
	path := filepath.Join("testdata", "shards-4+2-32.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got.String() != string(want) {
		t.Fatalf("shards changed:\ngot\n%swant\n%s", got.String(), want)
	}
}
