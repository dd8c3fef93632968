package objects

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// A paging client gets its continuation pages from the read-ahead, and a
// change made between two pages shows in the next page as it would without it.
func TestListReadAhead(t *testing.T) {
	t.Run("local", func(t *testing.T) { testListReadAhead(t, newTestLayer(t, 6, 2)) })
	// Drives 2–5 on another node, their counts from it (drive.ChangeCounts), and
	// drives 0–1 offline: only the remote counts see the changes.
	t.Run("remote", func(t *testing.T) {
		tl := newTestLayerRemote(t, 6, 2, 2)
		tl.faulty[0].FailAll(drive.ErrOffline)
		tl.faulty[1].FailAll(drive.ErrOffline)
		testListReadAhead(t, tl)
	})
}

func testListReadAhead(t *testing.T, tl *testLayer) {
	ctx := context.Background()
	if err := tl.MakeBucket(ctx, "bkt", BucketConfig{}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 50 {
		k := fmt.Sprintf("k%03d", i*2) // k000, k002, … k098: room for keys between
		tl.put(t, "bkt", k, []byte(k))
		want = append(want, k)
	}
	// page lists 10 keys after marker and returns them.
	page := func(marker string, versions bool) []string {
		t.Helper()
		list := tl.ListObjects
		if versions {
			list = tl.ListObjectVersions
		}
		res, err := list(ctx, "bkt", ListOptions{Marker: marker, MaxKeys: 10})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range res.Objects {
			keys = append(keys, o.Key)
		}
		return keys
	}
	all := func(versions bool) []string {
		var got []string
		for marker := ""; ; {
			keys := page(marker, versions)
			if len(keys) == 0 {
				return got
			}
			got, marker = append(got, keys...), keys[len(keys)-1]
		}
	}
	hits := tl.ahead.hits.Load()
	if got := all(false); !slices.Equal(got, want) {
		t.Fatalf("listing = %v, want %v", got, want)
	}
	// Pages 3–5 were listed ahead by pages 2–4 (page 5 is the last: not truncated).
	if n := tl.ahead.hits.Load() - hits; n != 3 {
		t.Fatalf("%d pages from the read-ahead, want 3", n)
	}

	// Page 2 starts reading page 3 (k040…k058) ahead; writes then land in it.
	p2 := page("k018", false)
	waitAhead(t, tl)
	tl.put(t, "bkt", "k041", []byte("new"))
	hits = tl.ahead.hits.Load()
	p3 := page(p2[len(p2)-1], false)
	if !slices.Contains(p3, "k041") {
		t.Fatalf("page 3 after a write into it = %v: the write is missing", p3)
	}
	if tl.ahead.hits.Load() != hits {
		t.Fatal("page 3 was served from the read-ahead after a write into it")
	}
	// The same for a delete, and for the versions listing.
	p2 = page("k018", true)
	waitAhead(t, tl)
	if _, err := tl.DeleteObject(ctx, "bkt", "k044", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if p3 := page(p2[len(p2)-1], true); slices.Contains(p3, "k044") {
		t.Fatalf("versions page 3 after a delete = %v: the deleted key is still there", p3)
	}
}

// waitAhead waits for the pages being listed ahead.
func waitAhead(t *testing.T, tl *testLayer) {
	t.Helper()
	tl.ahead.mu.Lock()
	var pending []*aheadPage
	for _, p := range tl.ahead.pages {
		pending = append(pending, p)
	}
	tl.ahead.mu.Unlock()
	if len(pending) == 0 {
		t.Fatal("nothing is being listed ahead")
	}
	for _, p := range pending {
		<-p.done
	}
}

// A listing page costs each drive it reads one Scan: the walk asks for the page
// and the keys after it that the listing and the merge look at. (Asking
// for a fixed 1,000 took a second, sequential Scan per drive on every full page
// of 1,000: on a cluster, one more round trip to each remote drive in turn.)
func TestListOneScanPerPage(t *testing.T) {
	tl := newTestLayer(t, 6, 2)
	ctx := context.Background()
	if err := tl.MakeBucket(ctx, "bkt", BucketConfig{}); err != nil {
		t.Fatal(err)
	}
	for i := range 1005 { // more than a full page of 1,000
		tl.put(t, "bkt", fmt.Sprintf("k%04d", i), nil)
	}
	scans := func() int {
		n := 0
		for _, f := range tl.faulty {
			n += f.Calls(drive.OpScan)
		}
		return n
	}
	before := scans()
	res, err := tl.ListObjects(ctx, "bkt", ListOptions{})
	if err != nil || len(res.Objects) != 1000 || !res.IsTruncated {
		t.Fatalf("page: %d objects, truncated %v, %v", len(res.Objects), res.IsTruncated, err)
	}
	// A read quorum of the 4+2 set: 4 drives, one Scan each.
	if n := scans() - before; n != 4 {
		t.Fatalf("%d Scans for one page, want 4", n)
	}
}
