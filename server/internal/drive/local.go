//go:build unix

package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Local is a Drive on a local filesystem directory.
//
// Every operation is resolved relative to a directory descriptor opened once at
// Open, never by re-resolving the root path: if an operator deletes or replaces the
// drive's directory, the drive goes offline instead of silently writing into a fresh,
// empty directory at the same path.
type Local struct {
	root   string
	fd     int // O_PATH|O_DIRECTORY descriptor of root
	syncer *committer
	tmpSeq atomic.Uint64
	idx    *index // metadata index (index.go); nil unless EnableIndex
	closed atomic.Bool
}

var _ Drive = (*Local)(nil)

// OpenLocal opens the drive at root, which must be an existing directory. Drives on
// one filesystem share the group committer of g.
func OpenLocal(root string, g *SyncGroup) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("drive %s: %w", abs, mapErr(err))
	}
	c, err := g.committer(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("drive %s: %w", abs, err)
	}
	return &Local{root: abs, fd: fd, syncer: c}, nil
}

// EnableIndex makes the drive keep a metadata index (see index.go) of the files
// cfg names. Call it once, before the drive is used.
func (d *Local) EnableIndex(cfg IndexConfig) { d.idx = openIndex(d, cfg) }

// Scan implements Drive.
func (d *Local) Scan(ctx context.Context, bucket string, q ScanQuery) (IndexPage, error) {
	if d.idx == nil {
		return IndexPage{}, ErrNoIndex
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	return d.idx.scan(bucket, q.From, q.Limit, q.Digest)
}

// Changes implements Drive.
func (d *Local) Changes(bucket string) (uint64, bool) {
	if d.idx == nil {
		return 0, false
	}
	return d.idx.changes(bucket), true
}

// indexed tells the index that the file at p now holds content (nil: gone).
func (d *Local) indexed(p string, content []byte) {
	if d.idx == nil {
		return
	}
	if bucket, key, ok := d.idx.cfg.Key(p); ok {
		d.idx.changed(bucket, key, content)
	}
}

func (d *Local) isIndexed(p string) bool {
	if d.idx == nil {
		return false
	}
	_, _, ok := d.idx.cfg.Key(p)
	return ok
}

// Close writes the metadata index out and releases the drive's directory
// descriptor. Calls after the first do nothing: closing the descriptor number
// again would close whatever the process opened under it since.
func (d *Local) Close() error {
	if !d.closed.CompareAndSwap(false, true) {
		return nil
	}
	if d.idx != nil {
		d.idx.close()
	}
	return unix.Close(d.fd)
}

func (d *Local) String() string { return d.root }

// Root is the drive's absolute directory.
func (d *Local) Root() string { return d.root }

// alive reports whether the drive directory still exists (it has links).
func (d *Local) alive() bool {
	var st unix.Stat_t
	return unix.Fstat(d.fd, &st) == nil && st.Nlink > 0
}

// fail maps a syscall error, turning "not found" into ErrOffline when the drive
// directory itself is gone.
func (d *Local) fail(op, p string, err error) error {
	err = mapErr(err)
	if errors.Is(err, ErrNotFound) && !d.alive() {
		err = ErrOffline
	}
	return fmt.Errorf("drive %s: %s %s: %w", d.root, op, p, err)
}

func mapErr(err error) error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return errors.Join(ErrNotFound, err)
	case errors.Is(err, unix.EEXIST):
		return errors.Join(ErrExists, err)
	case errors.Is(err, unix.ENOTEMPTY):
		return errors.Join(ErrNotEmpty, err)
	case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EDQUOT):
		return errors.Join(ErrDiskFull, err)
	case errors.Is(err, unix.EIO), errors.Is(err, unix.EROFS):
		return errors.Join(ErrFaulty, err)
	}
	return err
}

// mkdirAll creates the directories of p below the root (never the root itself).
func (d *Local) mkdirAll(p string) error {
	if p == "." || p == "" {
		return nil
	}
	err := unix.Mkdirat(d.fd, p, 0o755)
	if err == nil || errors.Is(err, unix.EEXIST) {
		return nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return err
	}
	if err := d.mkdirAll(path.Dir(p)); err != nil {
		return err
	}
	err = unix.Mkdirat(d.fd, p, 0o755)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}

func (d *Local) openat(p string, flags int, mode uint32) (*os.File, error) {
	for {
		fd, err := unix.Openat(d.fd, p, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, mode)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), filepath.Join(d.root, p)), nil
	}
}

func (d *Local) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	f, err := d.openat(p, unix.O_RDONLY, 0)
	if err != nil {
		return nil, d.fail("read", p, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, d.fail("read", p, err)
	}
	return b, nil
}

func (d *Local) WriteFile(ctx context.Context, p string, data []byte) error {
	if err := check(p); err != nil {
		return err
	}
	// The temp file lives in the drive's temp area (emptied at start), so a crash
	// never leaves stray files beside the data.
	tmp := tmpDir + "/w" + strconv.FormatUint(d.tmpSeq.Add(1), 36)
	f, err := d.create(tmp)
	if err != nil {
		return d.fail("write", p, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.rename(tmp, p)
	}
	if err != nil {
		unix.Unlinkat(d.fd, tmp, 0)
		return d.fail("write", p, err)
	}
	d.indexed(p, data)
	return nil
}

// tmpDir is the drive's temp area; see the package doc.
const tmpDir = ".cairn/tmp"

// create makes a new file, creating missing parent directories only when needed
// (directory operations are expensive: the common case is one openat).
func (d *Local) create(p string) (*os.File, error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL
	f, err := d.openat(p, flags, 0o644)
	// A parent may be missing, or pruned by a concurrent delete between our mkdir
	// and open: create it and try again, a few times.
	for attempt := 0; errors.Is(err, unix.ENOENT) && attempt < 3; attempt++ {
		if err := d.mkdirAll(path.Dir(p)); err != nil {
			return nil, err
		}
		f, err = d.openat(p, flags, 0o644)
	}
	return f, err
}

// rename renames, creating dst's parent directories only when needed.
func (d *Local) rename(src, dst string) error {
	err := unix.Renameat(d.fd, src, d.fd, dst)
	for attempt := 0; errors.Is(err, unix.ENOENT) && attempt < 3; attempt++ {
		if merr := d.mkdirAll(path.Dir(dst)); merr != nil {
			return merr
		}
		err = unix.Renameat(d.fd, src, d.fd, dst)
	}
	return err
}

func (d *Local) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	f, err := d.create(p)
	if err != nil {
		return nil, d.fail("create", p, err)
	}
	w := &fileWriter{f: f, d: d, p: p}
	if d.isIndexed(p) {
		w.keep = &bytes.Buffer{} // small: a metadata file
	}
	return w, nil
}

type fileWriter struct {
	f    *os.File
	d    *Local
	p    string
	keep *bytes.Buffer // what was written, for the index
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil {
		err = w.d.fail("write", w.p, err)
	}
	if w.keep != nil {
		w.keep.Write(b[:n])
	}
	return n, err
}

func (w *fileWriter) Close() error {
	if err := w.f.Close(); err != nil {
		return w.d.fail("close", w.p, err)
	}
	if w.keep != nil {
		w.d.indexed(w.p, w.keep.Bytes())
	}
	return nil
}

func (d *Local) Open(ctx context.Context, p string, offset, length int64) (io.ReadCloser, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	f, err := d.openat(p, unix.O_RDONLY, 0)
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
	return &limitedFile{Reader: io.LimitReader(f, length), f: f}, nil
}

type limitedFile struct {
	io.Reader
	f *os.File
}

func (l *limitedFile) Close() error { return l.f.Close() }

func (d *Local) Rename(ctx context.Context, src, dst string) error {
	if err := check(src); err != nil {
		return err
	}
	if err := check(dst); err != nil {
		return err
	}
	if err := d.rename(src, dst); err != nil {
		return d.fail("rename", src+" → "+dst, err)
	}
	if d.isIndexed(src) {
		d.indexed(src, nil)
	}
	if d.isIndexed(dst) {
		if b, err := d.ReadFile(ctx, dst); err == nil {
			d.indexed(dst, b)
		}
	}
	return nil
}

func (d *Local) Delete(ctx context.Context, p string, recursive bool) error {
	if err := check(p); err != nil {
		return err
	}
	err := unix.Unlinkat(d.fd, p, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		err = unix.Unlinkat(d.fd, p, unix.AT_REMOVEDIR)
		if recursive && (errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST)) {
			if !d.alive() {
				return d.fail("delete", p, unix.ENOENT)
			}
			err = os.RemoveAll(filepath.Join(d.root, p))
		}
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return d.fail("delete", p, err)
	}
	if d.idx != nil {
		if recursive && !strings.Contains(p, "/") && !strings.HasPrefix(p, ".") {
			d.idx.dropped(p) // a bucket directory
		} else {
			d.indexed(p, nil)
		}
	}
	d.prune(path.Dir(p))
	return nil
}

// prune removes empty parent directories up to the first path segment.
func (d *Local) prune(dir string) {
	// The drive's own directories (.cairn/tmp, …) stay: pruning them races with
	// concurrent writers that just created them for a new file.
	for dir != "." && strings.Contains(dir, "/") && !strings.HasPrefix(dir, ".cairn/") {
		if unix.Unlinkat(d.fd, dir, unix.AT_REMOVEDIR) != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

func (d *Local) List(ctx context.Context, p string) ([]string, error) {
	var f *os.File
	var err error
	if p == "" || p == "." {
		f, err = d.openat(".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	} else {
		if err := check(p); err != nil {
			return nil, err
		}
		f, err = d.openat(p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	}
	if err != nil {
		return nil, d.fail("list", p, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, d.fail("list", p, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.Type()&fs.ModeDir != 0 {
			name += "/"
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

func (d *Local) Sync(ctx context.Context) error {
	if !d.alive() {
		return fmt.Errorf("drive %s: sync: %w", d.root, ErrOffline)
	}
	return d.syncer.sync(ctx)
}

func (d *Local) Info(ctx context.Context) (Info, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(d.fd, &st); err != nil {
		return Info{}, d.fail("statfs", ".", err)
	}
	bs := uint64(st.Bsize)
	info := Info{Total: st.Blocks * bs, Free: st.Bavail * bs, Online: d.alive()}
	info.Used = info.Total - st.Bfree*bs
	return info, nil
}
