package drive

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Offline returns a Drive that answers every call with ErrOffline: the stand-in for
// a drive that could not be opened at start.
func Offline(name string) Drive { return offline(name) }

type offline string

var _ Drive = offline("")

func (o offline) String() string { return string(o) }
func (o offline) err() error     { return fmt.Errorf("drive %s: %w", string(o), ErrOffline) }
func (o offline) ReadFile(context.Context, string) ([]byte, error) {
	return nil, o.err()
}
func (o offline) WriteFile(context.Context, string, []byte) error { return o.err() }
func (o offline) Create(context.Context, string) (io.WriteCloser, error) {
	return nil, o.err()
}
func (o offline) Open(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, o.err()
}
func (o offline) Rename(context.Context, string, string) error   { return o.err() }
func (o offline) Delete(context.Context, string, bool) error     { return o.err() }
func (o offline) List(context.Context, string) ([]string, error) { return nil, o.err() }
func (o offline) Sync(context.Context) error                     { return o.err() }
func (o offline) Info(context.Context) (Info, error)             { return Info{}, o.err() }
func (o offline) Scan(context.Context, string, ScanQuery) (IndexPage, error) {
	return IndexPage{}, o.err()
}
func (o offline) Changes(string) (uint64, bool) { return 0, false }

// Op names a Drive method, for fault injection.
type Op string

const (
	OpReadFile  Op = "ReadFile"
	OpWriteFile Op = "WriteFile"
	OpCreate    Op = "Create"
	OpWrite     Op = "Write" // writes to a stream returned by Create
	OpOpen      Op = "Open"
	OpRead      Op = "Read" // reads from a stream returned by Open
	OpRename    Op = "Rename"
	OpDelete    Op = "Delete"
	OpList      Op = "List"
	OpScan      Op = "Scan"
	OpSync      Op = "Sync"
)

// Faulty wraps a Drive and injects failures and delays, for tests of everything
// above the drive. Set faults with Fail and Delay; it is safe for concurrent use.
type Faulty struct {
	Drive
	mu     sync.Mutex
	fails  map[Op]error
	delays map[Op]time.Duration
	calls  map[Op]int
}

var _ Drive = (*Faulty)(nil)

// NewFaulty wraps d with no faults.
func NewFaulty(d Drive) *Faulty {
	return &Faulty{Drive: d, fails: map[Op]error{}, delays: map[Op]time.Duration{}, calls: map[Op]int{}}
}

// Fail makes op return err (nil clears). Pass ErrOffline to simulate a dead drive,
// ErrDiskFull for a full disk.
func (f *Faulty) Fail(op Op, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fails, op)
	} else {
		f.fails[op] = err
	}
}

// FailAll makes every operation return err (nil clears all).
func (f *Faulty) FailAll(err error) {
	for _, op := range []Op{OpReadFile, OpWriteFile, OpCreate, OpWrite, OpOpen, OpRead, OpRename, OpDelete, OpList, OpScan, OpSync} {
		f.Fail(op, err)
	}
}

// Delay makes op sleep d before running (a slow drive).
func (f *Faulty) Delay(op Op, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delays[op] = d
}

// Calls reports how often op was called.
func (f *Faulty) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *Faulty) before(ctx context.Context, op Op) error {
	f.mu.Lock()
	err, d := f.fails[op], f.delays[op]
	f.calls[op]++
	f.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("drive %s: injected %s fault: %w", f.Drive.String(), op, err)
	}
	return nil
}

func (f *Faulty) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := f.before(ctx, OpReadFile); err != nil {
		return nil, err
	}
	return f.Drive.ReadFile(ctx, p)
}

func (f *Faulty) WriteFile(ctx context.Context, p string, b []byte) error {
	if err := f.before(ctx, OpWriteFile); err != nil {
		return err
	}
	return f.Drive.WriteFile(ctx, p, b)
}

func (f *Faulty) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := f.before(ctx, OpCreate); err != nil {
		return nil, err
	}
	w, err := f.Drive.Create(ctx, p)
	if err != nil {
		return nil, err
	}
	return &faultyWriter{WriteCloser: w, f: f, ctx: ctx}, nil
}

type faultyWriter struct {
	io.WriteCloser
	f   *Faulty
	ctx context.Context
}

func (w *faultyWriter) Write(b []byte) (int, error) {
	if err := w.f.before(w.ctx, OpWrite); err != nil {
		return 0, err
	}
	return w.WriteCloser.Write(b)
}

func (f *Faulty) Open(ctx context.Context, p string, off, n int64) (io.ReadCloser, error) {
	if err := f.before(ctx, OpOpen); err != nil {
		return nil, err
	}
	r, err := f.Drive.Open(ctx, p, off, n)
	if err != nil {
		return nil, err
	}
	return &faultyReader{ReadCloser: r, f: f, ctx: ctx}, nil
}

type faultyReader struct {
	io.ReadCloser
	f   *Faulty
	ctx context.Context
}

func (r *faultyReader) Read(b []byte) (int, error) {
	if err := r.f.before(r.ctx, OpRead); err != nil {
		return 0, err
	}
	return r.ReadCloser.Read(b)
}

func (f *Faulty) Rename(ctx context.Context, src, dst string) error {
	if err := f.before(ctx, OpRename); err != nil {
		return err
	}
	return f.Drive.Rename(ctx, src, dst)
}

func (f *Faulty) Delete(ctx context.Context, p string, recursive bool) error {
	if err := f.before(ctx, OpDelete); err != nil {
		return err
	}
	return f.Drive.Delete(ctx, p, recursive)
}

func (f *Faulty) List(ctx context.Context, p string) ([]string, error) {
	if err := f.before(ctx, OpList); err != nil {
		return nil, err
	}
	return f.Drive.List(ctx, p)
}

func (f *Faulty) Scan(ctx context.Context, bucket string, q ScanQuery) (IndexPage, error) {
	if err := f.before(ctx, OpScan); err != nil {
		return IndexPage{}, err
	}
	return f.Drive.Scan(ctx, bucket, q)
}

func (f *Faulty) Sync(ctx context.Context) error {
	if err := f.before(ctx, OpSync); err != nil {
		return err
	}
	return f.Drive.Sync(ctx)
}
