package metrics

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/drive/drivetest"
)

// The wrapper must be a conforming drive.
func TestInstrumentedConformance(t *testing.T) {
	m := New(Options{})
	g := drive.NewSyncGroup()
	drivetest.Run(t, func(t *testing.T) drive.Drive {
		return m.WrapDrive(openLocal(t, filepath.Join(t.TempDir(), "d"), g), 0, 0, "")
	})
}

func TestInstrumentedCounts(t *testing.T) {
	ctx := context.Background()
	m := New(Options{})
	root := filepath.Join(t.TempDir(), "d")
	d := m.WrapDrive(openLocal(t, root, drive.NewSyncGroup()), 0, 2, "")
	lbl := []string{"pool=0", "set=2", "drive=" + root}

	if err := d.WriteFile(ctx, "a/meta", []byte("12345")); err != nil {
		t.Fatal(err)
	}
	w, err := d.Create(ctx, "a/part.1")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 1000))
	w.Close()
	w.Close() // a second Close must not count twice
	r, err := d.Open(ctx, "a/part.1", 10, -1)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r)
	r.Close()
	if _, err := d.ReadFile(ctx, "a/meta"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFile(ctx, "a/missing"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatal(err)
	}

	f := gather(t, m.Registry())
	if got := value(t, f, "cairn_drive_written_bytes_total", lbl...); got != 1005 {
		t.Errorf("written %v, want 1005", got)
	}
	if got := value(t, f, "cairn_drive_read_bytes_total", lbl...); got != 995 {
		t.Errorf("read %v, want 995", got)
	}
	if got := value(t, f, "cairn_drive_operation_duration_seconds", append(lbl, "op=ReadFile")...); got != 2 {
		t.Errorf("ReadFile calls %v, want 2", got)
	}
	if got := value(t, f, "cairn_drive_operation_duration_seconds", append(lbl, "op=Sync")...); got != 0 {
		t.Errorf("Sync calls %v, want 0", got)
	}
	for _, k := range errorKinds {
		if got := value(t, f, "cairn_drive_errors_total", append(lbl, "kind="+k)...); got != 0 {
			t.Errorf("errors{kind=%s} = %v, want 0 (not found is an answer)", k, got)
		}
	}
}

func TestInstrumentedErrors(t *testing.T) {
	ctx := context.Background()
	m := New(Options{})
	root := filepath.Join(t.TempDir(), "d")
	faulty := drive.NewFaulty(openLocal(t, root, drive.NewSyncGroup()))
	d := m.WrapDrive(faulty, 0, 0, "")
	lbl := []string{"drive=" + root}

	faulty.Fail(drive.OpWriteFile, drive.ErrDiskFull)
	faulty.Fail(drive.OpList, drive.ErrOffline)
	faulty.Fail(drive.OpRead, drive.ErrFaulty)
	d.WriteFile(ctx, "x", []byte("x"))
	d.List(ctx, "")
	d.List(ctx, "")
	faulty.Fail(drive.OpWriteFile, nil)
	if err := d.WriteFile(ctx, "y", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if r, err := d.Open(ctx, "y", 0, -1); err == nil {
		io.Copy(io.Discard, r)
		r.Close()
	}
	off := m.WrapDrive(drive.Offline("/gone"), 0, 0, "")
	off.Sync(ctx)

	f := gather(t, m.Registry())
	for kind, want := range map[string]float64{"disk_full": 1, "offline": 2, "faulty": 1, "other": 0, "canceled": 0} {
		if got := value(t, f, "cairn_drive_errors_total", append(lbl, "kind="+kind)...); got != want {
			t.Errorf("errors{kind=%s} = %v, want %v", kind, got, want)
		}
	}
	if got := value(t, f, "cairn_drive_errors_total", "drive=/gone", "kind=offline"); got != 1 {
		t.Errorf("offline drive errors %v, want 1", got)
	}
}

// nopDrive answers every call at once, so a benchmark measures only the wrapper.
type nopDrive struct{ drive.Drive }

func (nopDrive) String() string                                   { return "/nop" }
func (nopDrive) WriteFile(context.Context, string, []byte) error  { return nil }
func (nopDrive) ReadFile(context.Context, string) ([]byte, error) { return nil, nil }
func (nopDrive) Rename(context.Context, string, string) error     { return nil }
func (nopDrive) List(context.Context, string) ([]string, error)   { return nil, nil }
func (nopDrive) Delete(context.Context, string, bool) error       { return nil }
func (nopDrive) Sync(context.Context) error                       { return nil }

// BenchmarkInstrumentedCall is the cost the wrapper adds to one drive call.
func BenchmarkInstrumentedCall(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		d    drive.Drive
	}{
		{"bare", nopDrive{}},
		{"instrumented", New(Options{}).WrapDrive(nopDrive{}, 0, 0, "")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.d.WriteFile(ctx, "a/b", nil)
			}
		})
	}
}
