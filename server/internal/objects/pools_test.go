package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
)

func newDrives(t *testing.T, n int) ([]drive.Drive, []string) {
	t.Helper()
	g := drive.NewSyncGroup()
	var ds []drive.Drive
	var roots []string
	for i := 0; i < n; i++ {
		root := filepath.Join(t.TempDir(), fmt.Sprintf("p%d", i))
		os.MkdirAll(root, 0o755)
		ld, err := drive.OpenLocal(root, g)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ld.Close() })
		ds = append(ds, ld)
		roots = append(roots, root)
	}
	return ds, roots
}

func TestPoolsAddAndDecommission(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	want := healFixture(t, l) // inline, single-file and multipart objects in "bkt"
	mkBucket(t, l, "ver")
	l.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil })
	v1 := l.put(t, "ver", "doc", []byte("one"))
	l.put(t, "ver", "doc", []byte("two"))
	l.DeleteObject(ctx, "ver", "doc", DeleteOptions{})

	newPool, newRoots := newDrives(t, 6)
	if err := l.AddPool(ctx, 1, [][]drive.Drive{newPool}, 2, AddPoolOptions{}); err != nil {
		t.Fatal(err)
	}
	if ps := l.Pools(ctx); len(ps) != 2 || ps[1].Drives != 6 {
		t.Fatalf("pools: %+v", ps)
	}
	// Buckets exist on the new pool: writes that land there work.
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("after-add/%d", i)
		want[k] = randData(int64(100+i), 1000*i)
		l.put(t, "bkt", k, want[k])
	}
	l.checkAll(t, want)

	// Decommission pool 0 while writers keep writing.
	done := make(chan error, 1)
	if err := l.Decommission(ctx, 0, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprintf("during/%d", i)
			data := randData(int64(1000+i), 3000)
			if _, err := l.PutObject(ctx, "bkt", k, bytes.NewReader(data), PutOptions{Size: int64(len(data))}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			want[k] = data
			mu.Unlock()
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("decommission: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("decommission did not finish")
	}
	close(stop)
	wg.Wait()
	if ps := l.Pools(ctx); len(ps) != 1 || ps[0].Index != 1 {
		t.Fatalf("pools after decommission: %+v", ps)
	}
	l.checkAll(t, want)
	// The multipart object kept its parts.
	if oi, err := l.StatObject(ctx, "bkt", "multi", GetOptions{}); err != nil || oi.PartCount != 2 || len(oi.Parts) != 2 || oi.Parts[0].Size != MinPartSize {
		t.Fatalf("multipart object after decommission: %+v %v", oi, err)
	}
	// Versions and delete markers moved with their ids.
	res, err := l.ListObjectVersions(ctx, "ver", ListOptions{})
	if err != nil || len(res.Objects) != 3 || !res.Objects[0].DeleteMarker {
		t.Fatalf("versions after decommission: %+v %v", res.Objects, err)
	}
	if got, err := l.get(t, "ver", "doc", v1.VersionID, 0, -1); err != nil || string(got) != "one" {
		t.Fatalf("old version by id: %q %v", got, err)
	}
	// No object metadata is left on the old pool's drives.
	for _, r := range l.roots {
		filepath.Walk(filepath.Join(r, "bkt"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(p, metaSuffix) {
				t.Errorf("left on the decommissioned pool: %s", p)
			}
			return nil
		})
	}
	_ = newRoots
	// The last pool cannot be drained; unknown pools are refused.
	if err := l.Decommission(ctx, 1, nil); !errors.Is(err, ErrLastPool) {
		t.Fatalf("decommission last pool: %v", err)
	}
	if err := l.Decommission(ctx, 7, nil); !errors.Is(err, ErrPoolNotFound) {
		t.Fatalf("unknown pool: %v", err)
	}
}

// After a pool is added, a rebalance moves existing objects (every version) so
// both pools hold about half the data (same capacity: both on one file system);
// everything reads and lists as before, once.
func TestRebalance(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	if err := l.Rebalance(ctx); !errors.Is(err, ErrNothingToBalance) {
		t.Fatalf("rebalance of one pool: %v", err)
	}
	mkBucket(t, l, "bkt")
	want := map[string][]byte{}
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf("o/%02d", i)
		want[k] = randData(int64(i), 2000+i*700)
		l.put(t, "bkt", k, want[k])
	}
	mkBucket(t, l, "ver")
	l.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil })
	l.put(t, "ver", "doc", []byte("one"))
	l.put(t, "ver", "doc", []byte("two"))
	newPool, _ := newDrives(t, 6)
	for _, d := range newPool {
		d.(*drive.Local).EnableIndex(MetaIndex())
	}
	if err := l.AddPool(ctx, 1, [][]drive.Drive{newPool}, 2, AddPoolOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Rebalance(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var st RebalanceStatus
	for st, _ = l.RebalanceState(ctx); st.Running(); st, _ = l.RebalanceState(ctx) {
		if time.Now().After(deadline) {
			t.Fatalf("rebalance still running: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !st.Complete() || st.Objects == 0 || len(st.Pools) != 2 {
		t.Fatalf("rebalance: %+v", st)
	}
	t.Logf("moved %d objects, %d versions, %d bytes; pools at start %+v", st.Objects, st.Versions, st.Bytes, st.Pools)
	buckets, _ := l.ListBuckets(ctx)
	var data [2]int64
	for i, p := range l.poolList() {
		if data[i], _ = l.poolData(ctx, p, buckets); data[i] == 0 {
			t.Fatalf("pool %d empty after the rebalance", i)
		}
	}
	total := data[0] + data[1]
	if d := data[0] - data[1]; d > total/5 || -d > total/5 {
		t.Fatalf("pools hold %d and %d bytes after the rebalance", data[0], data[1])
	}
	l.checkAll(t, want)
	if got := listKeys(t, l.Layer, "bkt", "", 7); len(got) != len(want) {
		t.Fatalf("listing after the rebalance: %d keys, want %d", len(got), len(want))
	}
	res, err := l.ListObjectVersions(ctx, "ver", ListOptions{})
	if err != nil || len(res.Objects) != 2 {
		t.Fatalf("versions after the rebalance: %d, %v", len(res.Objects), err)
	}
	if got, err := l.get(t, "ver", "doc", "", 0, -1); err != nil || string(got) != "two" {
		t.Fatalf("ver/doc: %q %v", got, err)
	}
}
