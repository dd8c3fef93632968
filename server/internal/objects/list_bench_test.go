package objects

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestListingRate measures listing speed on a 4+2 set; run with
// CAIRN_LIST_OBJECTS=100000 go test -run TestListingRate -v ./server/internal/objects/
// (skipped by default: creating the objects takes a while).
func TestListingRate(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CAIRN_LIST_OBJECTS"))
	if n == 0 {
		t.Skip("set CAIRN_LIST_OBJECTS to run")
	}
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	ctx := context.Background()
	start := time.Now()
	sem := make(chan struct{}, 32)
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			key := fmt.Sprintf("dir%03d/file%05d", i/1000, i%1000)
			_, err := l.PutObject(ctx, "bkt", key, bytes.NewReader(nil), PutOptions{Size: 0})
			errc <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("created %d objects in %v (%.0f/s)", n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())
	for pass := 1; pass <= 3; pass++ {
		start = time.Now()
		total := 0
		opts := ListOptions{MaxKeys: 1000}
		for {
			res, err := l.ListObjects(ctx, "bkt", opts)
			if err != nil {
				t.Fatal(err)
			}
			total += len(res.Objects)
			if !res.IsTruncated {
				break
			}
			opts.Marker = res.NextMarker
		}
		el := time.Since(start)
		if total != n {
			t.Fatalf("listed %d of %d", total, n)
		}
		t.Logf("pass %d: listed %d objects in %v: %.0f objects/s", pass, total, el.Round(time.Millisecond), float64(total)/el.Seconds())
	}
}
