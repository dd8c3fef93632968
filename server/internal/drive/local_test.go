package drive_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/drive/drivetest"
)

func openLocal(t *testing.T, g *drive.SyncGroup) (*drive.Local, string) {
	t.Helper()
	root := t.TempDir()
	d, err := drive.OpenLocal(root, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, root
}

func TestLocalConformance(t *testing.T) {
	g := drive.NewSyncGroup()
	drivetest.Run(t, func(t *testing.T) drive.Drive { d, _ := openLocal(t, g); return d })
}

func TestFaultyConformance(t *testing.T) {
	g := drive.NewSyncGroup()
	drivetest.Run(t, func(t *testing.T) drive.Drive { d, _ := openLocal(t, g); return drive.NewFaulty(d) })
}

// A drive whose directory is deleted goes offline; it never recreates the directory.
func TestLocalRootRemovedGoesOffline(t *testing.T) {
	ctx := context.Background()
	d, root := openLocal(t, drive.NewSyncGroup())
	if err := d.WriteFile(ctx, "b/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFile(ctx, "b/x"); !errors.Is(err, drive.ErrOffline) {
		t.Fatalf("read after removal: %v", err)
	}
	if err := d.WriteFile(ctx, "b/y", []byte("y")); err == nil {
		t.Fatal("write after removal succeeded")
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatalf("drive directory was recreated: %v", err)
	}
	if err := d.Sync(ctx); !errors.Is(err, drive.ErrOffline) {
		t.Fatalf("sync: %v", err)
	}
}

// Concurrent Syncs on one filesystem share flushes (group commit).
func TestGroupCommitBatches(t *testing.T) {
	g := drive.NewSyncGroup()
	var ds []*drive.Local
	for i := 0; i < 6; i++ {
		d, _ := openLocal(t, g)
		ds = append(ds, d)
	}
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := ds[i%len(ds)]
			if err := d.WriteFile(context.Background(), filepath.Join("b", "f", string(rune('a'+i%26))+string(rune('a'+i/26))), []byte("x")); err != nil {
				t.Error(err)
			}
			if err := d.Sync(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f := g.Flushes(); f == 0 || f >= n {
		t.Fatalf("%d syncs took %d flushes; want batching", n, f)
	}
	t.Logf("%d syncs, %d flushes", n, g.Flushes())
}

func TestFaultyInjects(t *testing.T) {
	d, _ := openLocal(t, drive.NewSyncGroup())
	f := drive.NewFaulty(d)
	f.Fail(drive.OpWriteFile, drive.ErrDiskFull)
	if err := f.WriteFile(context.Background(), "a/b", nil); !errors.Is(err, drive.ErrDiskFull) {
		t.Fatalf("%v", err)
	}
	f.Fail(drive.OpWriteFile, nil)
	if err := f.WriteFile(context.Background(), "a/b", nil); err != nil {
		t.Fatal(err)
	}
	if f.Calls(drive.OpWriteFile) != 2 {
		t.Fatalf("calls %d", f.Calls(drive.OpWriteFile))
	}
}

// A second Close does nothing: closing the directory descriptor's number again
// would close whatever the process opened under it since (a server closed twice
// broke a test server running beside it).
func TestLocalCloseTwice(t *testing.T) {
	d, err := drive.OpenLocal(t.TempDir(), drive.NewSyncGroup())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(t.TempDir()) // most likely under the number just freed
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); err != nil {
		t.Fatalf("a file opened after the first Close: %v", err)
	}
}
