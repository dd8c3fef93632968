//go:build !unix

package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// Local is a Drive on a local directory, for systems without the unix calls the
// unix implementation uses (Windows). Paths are resolved under the root path; every
// file is flushed when it is closed and Sync is then only a barrier, which is
// slower than the unix group commit but as durable.
type Local struct {
	root   string
	tmpSeq atomic.Uint64
}

var _ Drive = (*Local)(nil)

// SyncGroup exists for API compatibility; files are flushed individually here.
type SyncGroup struct{}

// NewSyncGroup returns an empty group.
func NewSyncGroup() *SyncGroup { return &SyncGroup{} }

// Flushes is always 0 here (no group commit).
func (g *SyncGroup) Flushes() uint64 { return 0 }

// OpenLocal opens the drive at root, which must be an existing directory.
func OpenLocal(root string, _ *SyncGroup) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("drive %s: %w", abs, mapOSErr(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("drive %s: not a directory", abs)
	}
	return &Local{root: abs}, nil
}

// Close releases nothing here.
func (d *Local) Close() error { return nil }

// EnableIndex is a no-op here: on this platform listing walks the drive.
func (d *Local) EnableIndex(cfg IndexConfig) {}

// Scan implements Drive: no metadata index on this platform.
func (d *Local) Scan(ctx context.Context, bucket string, q ScanQuery) (IndexPage, error) {
	return IndexPage{}, ErrNoIndex
}

// Changes implements Drive: without an index the drive does not count.
func (d *Local) Changes(string) (uint64, bool) { return 0, false }

func (d *Local) String() string { return d.root }

// Root is the drive's absolute directory.
func (d *Local) Root() string { return d.root }

func (d *Local) abs(p string) string { return filepath.Join(d.root, filepath.FromSlash(p)) }

func (d *Local) alive() bool {
	fi, err := os.Stat(d.root)
	return err == nil && fi.IsDir()
}

func mapOSErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.Join(ErrNotFound, err)
	case errors.Is(err, fs.ErrExist):
		return errors.Join(ErrExists, err)
	}
	return err
}

func (d *Local) fail(op, p string, err error) error {
	err = mapOSErr(err)
	if errors.Is(err, ErrNotFound) && !d.alive() {
		err = ErrOffline
	}
	return fmt.Errorf("drive %s: %s %s: %w", d.root, op, p, err)
}

// mkdirParent creates p's parent directories, never the root itself.
func (d *Local) mkdirParent(p string) error {
	if !d.alive() {
		return ErrOffline
	}
	return os.MkdirAll(filepath.Dir(d.abs(p)), 0o755)
}

func (d *Local) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(d.abs(p))
	if err != nil {
		return nil, d.fail("read", p, err)
	}
	return b, nil
}

func (d *Local) writeSynced(p string, data []byte, flag int) error {
	f, err := os.OpenFile(d.abs(p), flag, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *Local) WriteFile(ctx context.Context, p string, data []byte) error {
	if err := check(p); err != nil {
		return err
	}
	tmp := ".cairn/tmp/w" + strconv.FormatUint(d.tmpSeq.Add(1), 36)
	if err := d.mkdirParent(tmp); err != nil {
		return d.fail("write", p, err)
	}
	if err := d.writeSynced(tmp, data, os.O_WRONLY|os.O_CREATE|os.O_EXCL); err != nil {
		os.Remove(d.abs(tmp))
		return d.fail("write", p, err)
	}
	if err := d.Rename(ctx, tmp, p); err != nil {
		os.Remove(d.abs(tmp))
		return err
	}
	return nil
}

func (d *Local) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	if err := d.mkdirParent(p); err != nil {
		return nil, d.fail("create", p, err)
	}
	f, err := os.OpenFile(d.abs(p), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, d.fail("create", p, err)
	}
	return &syncedFile{f: f}, nil
}

type syncedFile struct{ f *os.File }

func (w *syncedFile) Write(b []byte) (int, error) { return w.f.Write(b) }

func (w *syncedFile) Close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *Local) Open(ctx context.Context, p string, offset, length int64) (io.ReadCloser, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	f, err := os.Open(d.abs(p))
	if err != nil {
		return nil, d.fail("open", p, err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, d.fail("seek", p, err)
		}
	}
	if length < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, nil
}

func (d *Local) Rename(ctx context.Context, src, dst string) error {
	if err := check(src); err != nil {
		return err
	}
	if err := check(dst); err != nil {
		return err
	}
	if err := d.mkdirParent(dst); err != nil {
		return d.fail("rename", dst, err)
	}
	if err := os.Rename(d.abs(src), d.abs(dst)); err != nil {
		return d.fail("rename", src+" → "+dst, err)
	}
	return nil
}

func (d *Local) Delete(ctx context.Context, p string, recursive bool) error {
	if err := check(p); err != nil {
		return err
	}
	var err error
	if recursive {
		err = os.RemoveAll(d.abs(p))
	} else {
		err = os.Remove(d.abs(p))
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d.fail("delete", p, err)
	}
	for dir := filepath.Dir(p); dir != "." && strings.Contains(filepath.ToSlash(dir), "/"); dir = filepath.Dir(dir) {
		if os.Remove(d.abs(dir)) != nil {
			break
		}
	}
	return nil
}

func (d *Local) List(ctx context.Context, p string) ([]string, error) {
	dir := d.root
	if p != "" && p != "." {
		if err := check(p); err != nil {
			return nil, err
		}
		dir = d.abs(p)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, d.fail("list", p, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Sync is a barrier only: every file was flushed when it was closed.
func (d *Local) Sync(ctx context.Context) error {
	if !d.alive() {
		return fmt.Errorf("drive %s: sync: %w", d.root, ErrOffline)
	}
	return nil
}

func (d *Local) Info(ctx context.Context) (Info, error) {
	return Info{Online: d.alive()}, nil
}
