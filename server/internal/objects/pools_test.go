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
