package metrics

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// Drive operations timed by cairn_drive_operation_duration_seconds (the op label).
// Streams are timed at Create and Open; their bytes are counted separately.
var driveOps = []drive.Op{
	drive.OpReadFile, drive.OpWriteFile, drive.OpCreate, drive.OpOpen,
	drive.OpRename, drive.OpDelete, drive.OpList, drive.OpSync,
}

// Error kinds of cairn_drive_errors_total (the kind label), indexed by errorKind.
var errorKinds = []string{"offline", "disk_full", "faulty", "canceled", "other"}

// errorKind classifies a drive error as an index into errorKinds; -1 for nil and
// for answers that are not failures (not found, already exists, not empty, bad
// path, end of stream).
func errorKind(err error) int {
	switch {
	case err == nil, errors.Is(err, io.EOF),
		errors.Is(err, drive.ErrNotFound), errors.Is(err, drive.ErrExists),
		errors.Is(err, drive.ErrNotEmpty), errors.Is(err, drive.ErrBadPath):
		return -1
	case errors.Is(err, drive.ErrOffline):
		return 0
	case errors.Is(err, drive.ErrDiskFull):
		return 1
	case errors.Is(err, drive.ErrFaulty):
		return 2
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 3
	}
	return 4
}

type driveMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	read     *prometheus.CounterVec
	written  *prometheus.CounterVec
}

func newDriveMetrics(reg prometheus.Registerer) *driveMetrics {
	labels := []string{"pool", "set", "drive"}
	dm := &driveMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "drive", Name: "operation_duration_seconds",
			Help:    "Node-local. Duration of the calls this node made to the drive (local or remote), by operation (streams: opening only).",
			Buckets: driveBuckets,
		}, append(labels, "op")),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "drive", Name: "errors_total",
			Help: "Node-local. Failed calls and stream reads/writes this node made to the drive, by kind (offline, disk_full, faulty, canceled, other).",
		}, append(labels, "kind")),
		read: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "drive", Name: "read_bytes_total",
			Help: "Node-local. Bytes this node read from the drive (files and streams).",
		}, labels),
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "drive", Name: "written_bytes_total",
			Help: "Node-local. Bytes this node wrote to the drive (files and streams).",
		}, labels),
	}
	reg.MustRegister(dm.duration, dm.errors, dm.read, dm.written)
	return dm
}

// WrapDrive returns d, a drive of erasure set set of pool, instrumented: every call
// is timed and its failure counted. name is the drive label: the endpoint as the
// operator wrote it, the same on every node (d.String() if empty). The result is a
// drive.Drive with d's behaviour; errors pass through unchanged. Wrap each drive
// once.
func (m *Metrics) WrapDrive(d drive.Drive, pool, set int, name string) drive.Drive {
	if name == "" {
		name = d.String()
	}
	p, s := strconv.Itoa(pool), strconv.Itoa(set)
	w := &instrumented{Drive: d, name: name}
	for i, op := range driveOps {
		w.dur[i] = m.dm.duration.WithLabelValues(p, s, name, string(op))
	}
	for i, k := range errorKinds {
		w.errs[i] = m.dm.errors.WithLabelValues(p, s, name, k) // exported as 0 from the start
	}
	w.read = m.dm.read.WithLabelValues(p, s, name)
	w.written = m.dm.written.WithLabelValues(p, s, name)
	return w
}

// instrumented is a Drive that records metrics around another.
type instrumented struct {
	drive.Drive
	name          string                 // the drive label
	dur           [8]prometheus.Observer // indexed like driveOps
	errs          [5]prometheus.Counter  // indexed like errorKinds (errorKind)
	read, written prometheus.Counter
}

var _ drive.Drive = (*instrumented)(nil)

// Indexes into instrumented.dur, in driveOps order.
const (
	iReadFile = iota
	iWriteFile
	iCreate
	iOpen
	iRename
	iDelete
	iList
	iSync
)

// done records a call of op that started at start and returned err.
func (d *instrumented) done(op int, start time.Time, err error) {
	d.dur[op].Observe(time.Since(start).Seconds())
	d.fail(err)
}

func (d *instrumented) fail(err error) {
	if k := errorKind(err); k >= 0 {
		d.errs[k].Inc()
	}
}

// Unwrap returns the drive underneath.
func (d *instrumented) Unwrap() drive.Drive { return d.Drive }

func (d *instrumented) ReadFile(ctx context.Context, path string) ([]byte, error) {
	start := time.Now()
	b, err := d.Drive.ReadFile(ctx, path)
	d.done(iReadFile, start, err)
	d.read.Add(float64(len(b)))
	return b, err
}

func (d *instrumented) WriteFile(ctx context.Context, path string, data []byte) error {
	start := time.Now()
	err := d.Drive.WriteFile(ctx, path, data)
	d.done(iWriteFile, start, err)
	if err == nil {
		d.written.Add(float64(len(data)))
	}
	return err
}

func (d *instrumented) Create(ctx context.Context, path string) (io.WriteCloser, error) {
	start := time.Now()
	w, err := d.Drive.Create(ctx, path)
	d.done(iCreate, start, err)
	if err != nil {
		return w, err
	}
	return &countingWriter{w: w, d: d}, nil
}

func (d *instrumented) Open(ctx context.Context, path string, offset, length int64) (io.ReadCloser, error) {
	start := time.Now()
	r, err := d.Drive.Open(ctx, path, offset, length)
	d.done(iOpen, start, err)
	if err != nil {
		return r, err
	}
	return &countingReader{r: r, d: d}, nil
}

func (d *instrumented) Rename(ctx context.Context, src, dst string) error {
	start := time.Now()
	err := d.Drive.Rename(ctx, src, dst)
	d.done(iRename, start, err)
	return err
}

func (d *instrumented) Delete(ctx context.Context, path string, recursive bool) error {
	start := time.Now()
	err := d.Drive.Delete(ctx, path, recursive)
	d.done(iDelete, start, err)
	return err
}

func (d *instrumented) List(ctx context.Context, path string) ([]string, error) {
	start := time.Now()
	names, err := d.Drive.List(ctx, path)
	d.done(iList, start, err)
	return names, err
}

func (d *instrumented) Sync(ctx context.Context) error {
	start := time.Now()
	err := d.Drive.Sync(ctx)
	d.done(iSync, start, err)
	return err
}

// countingWriter counts a stream's bytes and adds them to the drive's counter at
// Close (one atomic add per stream, not per write). Stream failures are counted.
type countingWriter struct {
	w      io.WriteCloser
	d      *instrumented
	n      int64
	closed atomic.Bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		c.d.fail(err)
	}
	return n, err
}

func (c *countingWriter) Close() error {
	err := c.w.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.d.written.Add(float64(c.n))
		c.d.fail(err)
	}
	return err
}

// countingReader is countingWriter's twin for Open.
type countingReader struct {
	r      io.ReadCloser
	d      *instrumented
	n      int64
	closed atomic.Bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil {
		c.d.fail(err)
	}
	return n, err
}

func (c *countingReader) Close() error {
	err := c.r.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.d.read.Add(float64(c.n))
		c.d.fail(err)
	}
	return err
}
