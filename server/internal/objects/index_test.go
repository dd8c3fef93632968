package objects

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
)

func listKeys(t *testing.T, l *Layer, bucket, prefix string, page int) []string {
	t.Helper()
	var keys []string
	opts := ListOptions{Prefix: prefix, MaxKeys: page}
	for {
		res, err := l.ListObjects(context.Background(), bucket, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			keys = append(keys, o.Key)
		}
		if !res.IsTruncated {
			return keys
		}
		opts.Marker = res.NextMarker
	}
}

// Listings read the drives' metadata indexes; after an unclean stop the indexes
// are rebuilt from the files, and listings are right before, during and after.
func TestListingIndexAfterCrash(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	ctx := context.Background()
	var want []string
	for i := 0; i < 400; i++ {
		k := fmt.Sprintf("d%d/o%03d", i%4, i)
		size := int64(i * 300) // inline and erasure-coded
		if _, err := l.PutObject(ctx, "bkt", k, bytes.NewReader(make([]byte, size)), PutOptions{Size: size}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if _, err := l.DeleteObject(ctx, "bkt", k, DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, k)
	}
	// Keys whose escaped paths sort unlike the keys, and keys that sort
	// between a directory's keys (the rebuild walks the files in key order).
	for _, k := range []string{"d1", "d1-x", "d10/a", "../x", "./y", "a//b", "%", "%/q", "/lead", "d2/", "ü/x", "d1/\x00"} {
		if _, err := l.PutObject(ctx, "bkt", k, bytes.NewReader(nil), PutOptions{}); err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
		want = append(want, k)
	}
	slices.Sort(want)
	check := func(l *Layer, when string) {
		t.Helper()
		for _, page := range []int{1000, 37} {
			if got := listKeys(t, l, "bkt", "", page); !slices.Equal(got, want) {
				t.Fatalf("%s, pages of %d: %d keys, want %d", when, page, len(got), len(want))
			}
		}
		var sub []string
		for _, k := range want {
			if strings.HasPrefix(k, "d2/") {
				sub = append(sub, k)
			}
		}
		if got := listKeys(t, l, "bkt", "d2/", 10); !slices.Equal(got, sub) {
			t.Fatalf("%s, prefix d2/: %d keys, want %d", when, len(got), len(sub))
		}
	}
	check(l.Layer, "indexed")

	// "Crash": open the same directories again without closing the drives.
	g := drive.NewSyncGroup()
	var ds []drive.Drive
	for _, root := range l.roots {
		ld, err := drive.OpenLocal(root, g)
		if err != nil {
			t.Fatal(err)
		}
		ld.EnableIndex(MetaIndex())
		t.Cleanup(func() { ld.Close() })
		ds = append(ds, ld)
	}
	l2, err := New(Config{Sets: [][]drive.Drive{ds}, Parity: 2, DeploymentID: "test", BlockSize: 64 << 10, InlineLimit: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	check(l2, "right after the crash (walking)")
	deadline := time.Now().Add(20 * time.Second)
	for _, d := range ds {
		for {
			if _, err := d.Scan(ctx, "bkt", drive.ScanQuery{Limit: 1}); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("indexes not rebuilt")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	check(l2, "rebuilt")
}

// An overwrite whose flushes fail on half the drives (or whose client goes away
// mid-commit) is rolled back on every drive it touched: the old object stays
// readable instead of being split 3/3 between two histories.
func TestFailedOverwriteKeepsTheOldObject(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	old := []byte("the acknowledged object")
	l.put(t, "bkt", "k", old)
	for i := 0; i < 3; i++ {
		l.faulty[i].Fail(drive.OpSync, drive.ErrFaulty)
	}
	if _, err := l.PutObject(context.Background(), "bkt", "k", bytes.NewReader([]byte("new")), PutOptions{Size: 3}); err == nil {
		t.Fatal("overwrite succeeded with 3 of 6 flushes failing")
	}
	for i := 0; i < 3; i++ {
		l.faulty[i].Fail(drive.OpSync, nil)
	}
	if got, err := l.get(t, "bkt", "k", "", 0, -1); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("after a failed overwrite: %q, %v", got, err)
	}
	// A client that disconnects after the body was read: the commit finishes.
	ctx, cancel := context.WithCancel(context.Background())
	l.faulty[4].Delay(drive.OpSync, 50*time.Millisecond)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err := l.PutObject(ctx, "bkt", "k", bytes.NewReader([]byte("newer")), PutOptions{Size: 5})
	got, gerr := l.get(t, "bkt", "k", "", 0, -1)
	if gerr != nil || (string(got) != "newer" && !bytes.Equal(got, old)) || (err == nil && string(got) != "newer") {
		t.Fatalf("after a cancelled overwrite (put err %v): %q, %v", err, got, gerr)
	}
}

// Listings read a read quorum of the drives' indexes; keys whose copies there
// disagree (a write or a delete that missed a drive read) are resolved from every
// drive, so the listing is what reads see.
//
// Over remote drives (all but drive 0), the listing compares the digests they
// send with drive 0's values.
func TestQuorumListingWithMissedWrites(t *testing.T) {
	t.Run("local", func(t *testing.T) { testQuorumListing(t, newTestLayer(t, 6, 2)) })
	t.Run("remote", func(t *testing.T) { testQuorumListing(t, newTestLayerRemote(t, 6, 2, 1)) })
}

func testQuorumListing(t *testing.T, l *testLayer) {
	mkBucket(t, l, "bkt")
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		l.put(t, "bkt", fmt.Sprintf("k%d", i), []byte("v"))
	}
	// Drive 0 (always read) misses a new object and a delete; drive 1 misses an
	// overwrite.
	l.faulty[0].Fail(drive.OpCreate, drive.ErrFaulty)
	l.faulty[0].Fail(drive.OpWriteFile, drive.ErrFaulty)
	l.faulty[0].Fail(drive.OpDelete, drive.ErrFaulty)
	l.put(t, "bkt", "new", []byte("n"))
	if _, err := l.DeleteObject(ctx, "bkt", "k3", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []drive.Op{drive.OpCreate, drive.OpWriteFile, drive.OpDelete} {
		l.faulty[0].Fail(op, nil)
		l.faulty[1].Fail(op, drive.ErrFaulty)
	}
	l.put(t, "bkt", "k5", []byte("five, again"))
	for _, op := range []drive.Op{drive.OpCreate, drive.OpWriteFile, drive.OpDelete} {
		l.faulty[1].Fail(op, nil)
		l.faulty[0].Fail(op, drive.ErrFaulty)
	}
	// Drive 0, the one whose index values the listing takes (the others send
	// digests), misses an overwrite.
	l.put(t, "bkt", "k7", []byte("seven, again"))
	for _, op := range []drive.Op{drive.OpCreate, drive.OpWriteFile, drive.OpDelete} {
		l.faulty[0].Fail(op, nil)
	}
	want := []string{"k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9", "new"}
	if got := listKeys(t, l.Layer, "bkt", "", 3); !slices.Equal(got, want) {
		t.Fatalf("listing %v, want %v", got, want)
	}
	res, err := l.ListObjects(ctx, "bkt", ListOptions{Prefix: "k5"})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Size != int64(len("five, again")) {
		t.Fatalf("k5 after an overwrite drive 1 missed: %+v %v", res.Objects, err)
	}
	res, err = l.ListObjects(ctx, "bkt", ListOptions{Prefix: "k7"})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Size != int64(len("seven, again")) {
		t.Fatalf("k7 after an overwrite drive 0 missed: %+v %v", res.Objects, err)
	}
}

// A listing reads any read quorum of the drives through their indexes: drives
// that cannot be read so (offline, a node down, an index being rebuilt) are
// passed over, and only when fewer than a quorum remain are the files walked.
func TestQuorumListingPassesOverDrives(t *testing.T) {
	tl := newTestLayer(t, 6, 2) // read quorum 4
	mkBucket(t, tl, "bkt")
	var want []string
	for i := range 50 {
		k := fmt.Sprintf("k%02d", i)
		tl.put(t, "bkt", k, nil)
		want = append(want, k)
	}
	for _, c := range []struct {
		name  string
		bad   []int
		err   error
		walks bool
	}{
		{"two without an index", []int{0, 1}, drive.ErrNoIndex, false},
		{"one offline", []int{0}, drive.ErrOffline, false},
		{"three without an index", []int{0, 2, 4}, drive.ErrNoIndex, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, i := range c.bad {
				tl.faulty[i].Fail(drive.OpScan, c.err)
				defer tl.faulty[i].Fail(drive.OpScan, nil)
			}
			scans, lists := make([]int, len(tl.faulty)), 0
			for i, f := range tl.faulty {
				scans[i], lists = f.Calls(drive.OpScan), lists+f.Calls(drive.OpList)
			}
			if got := listKeys(t, tl.Layer, "bkt", "", 1000); !slices.Equal(got, want) {
				t.Fatalf("listed %d keys, want %d", len(got), len(want))
			}
			scanned, listed := 0, 0
			for i, f := range tl.faulty {
				if !slices.Contains(c.bad, i) && f.Calls(drive.OpScan) > scans[i] {
					scanned++
				}
				listed += f.Calls(drive.OpList)
			}
			if walked := listed > lists; walked != c.walks {
				t.Fatalf("files walked: %v, want %v", walked, c.walks)
			}
			if !c.walks && scanned != 4 {
				t.Fatalf("%d good drives' indexes read, want a read quorum (4)", scanned)
			}
		})
	}
}
