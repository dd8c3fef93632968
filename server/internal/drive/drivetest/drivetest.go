// Package drivetest is the conformance suite every drive.Drive implementation must
// pass: local drives now, remote (node RPC) drives when they exist. Run it from the
// implementation's tests with a constructor for fresh, empty drives.
package drivetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// Run runs the suite. newDrive returns a fresh, empty drive for each subtest.
func Run(t *testing.T, newDrive func(t *testing.T) drive.Drive) {
	ctx := context.Background()
	t.Run("WriteReadFile", func(t *testing.T) {
		d := newDrive(t)
		if err := d.WriteFile(ctx, "a/b/c.json", []byte("one")); err != nil {
			t.Fatal(err)
		}
		if err := d.WriteFile(ctx, "a/b/c.json", []byte("two")); err != nil {
			t.Fatal(err)
		}
		got, err := d.ReadFile(ctx, "a/b/c.json")
		if err != nil || string(got) != "two" {
			t.Fatalf("read %q %v", got, err)
		}
		if _, err := d.ReadFile(ctx, "a/missing"); !errors.Is(err, drive.ErrNotFound) {
			t.Fatalf("missing file: %v", err)
		}
	})
	t.Run("BadPaths", func(t *testing.T) {
		d := newDrive(t)
		for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "x\x00y", strings.Repeat("z", 256)} {
			if err := d.WriteFile(ctx, p, nil); !errors.Is(err, drive.ErrBadPath) {
				t.Errorf("WriteFile(%q): %v", p, err)
			}
			if _, err := d.ReadFile(ctx, p); !errors.Is(err, drive.ErrBadPath) {
				t.Errorf("ReadFile(%q): %v", p, err)
			}
			if err := d.Delete(ctx, p, true); !errors.Is(err, drive.ErrBadPath) {
				t.Errorf("Delete(%q): %v", p, err)
			}
		}
	})
	t.Run("CreateOpenRange", func(t *testing.T) {
		d := newDrive(t)
		w, err := d.Create(ctx, "tmp/x/part.1")
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("0123456789"), 1000)
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// Create over an existing file fails with ErrExists, at Create or (remote
		// drives, whose stream starts later) at Close, and leaves the file alone.
		if w2, err := d.Create(ctx, "tmp/x/part.1"); !errors.Is(err, drive.ErrExists) {
			if err != nil {
				t.Fatalf("Create over existing file: %v", err)
			}
			w2.Write([]byte("other"))
			if err := w2.Close(); !errors.Is(err, drive.ErrExists) {
				t.Fatalf("Create over existing file, at Close: %v", err)
			}
		}
		for _, c := range []struct{ off, n int64 }{{0, -1}, {5, 10}, {9990, -1}, {9995, 5}, {0, 0}} {
			r, err := d.Open(ctx, "tmp/x/part.1", c.off, c.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			end := int64(len(data))
			if c.n >= 0 {
				end = c.off + c.n
			}
			if err != nil || !bytes.Equal(got, data[c.off:end]) {
				t.Fatalf("range %+v: %v", c, err)
			}
		}
	})
	t.Run("RenameDeleteList", func(t *testing.T) {
		d := newDrive(t)
		for _, p := range []string{"t/u1/part.1", "t/u1/part.2"} {
			if err := d.WriteFile(ctx, p, []byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Rename(ctx, "t/u1", "bkt/obj/%vdata"); err != nil {
			t.Fatal(err)
		}
		names, err := d.List(ctx, "bkt/obj")
		if err != nil || strings.Join(names, ",") != "%vdata/" {
			t.Fatalf("list %v %v", names, err)
		}
		names, _ = d.List(ctx, "bkt/obj/%vdata")
		if strings.Join(names, ",") != "part.1,part.2" {
			t.Fatalf("list %v", names)
		}
		if err := d.Delete(ctx, "bkt/obj/%vdata", false); err == nil {
			t.Fatal("non-recursive delete of a non-empty directory succeeded")
		}
		if err := d.Delete(ctx, "bkt/obj/%vdata", true); err != nil {
			t.Fatal(err)
		}
		if err := d.Delete(ctx, "bkt/obj/%vdata", true); err != nil {
			t.Fatalf("deleting a missing path: %v", err)
		}
		// Empty parents are pruned up to the first segment.
		names, _ = d.List(ctx, "bkt")
		if len(names) != 0 {
			t.Fatalf("parents not pruned: %v", names)
		}
		if _, err := d.List(ctx, "nope"); !errors.Is(err, drive.ErrNotFound) {
			t.Fatalf("list missing dir: %v", err)
		}
	})
	t.Run("ConcurrentSync", func(t *testing.T) {
		d := newDrive(t)
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.WriteFile(ctx, "s/f"+string(rune('a'+i%26))+string(rune('a'+i/26)), []byte("x")); err != nil {
					errs <- err
					return
				}
				errs <- d.Sync(ctx)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("Info", func(t *testing.T) {
		info, err := newDrive(t).Info(ctx)
		if err != nil || !info.Online || info.Total == 0 || info.Free > info.Total {
			t.Fatalf("%+v %v", info, err)
		}
	})
}
