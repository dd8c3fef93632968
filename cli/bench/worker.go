package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// opKind is one S3 operation the generator issues.
type opKind int

const (
	opGet opKind = iota
	opPut
	opStat
	opDelete
	numOps
)

func (k opKind) String() string {
	switch k {
	case opGet:
		return "GET"
	case opPut:
		return "PUT"
	case opStat:
		return "STAT"
	case opDelete:
		return "DELETE"
	}
	return "op" + strconv.Itoa(int(k))
}

// maxSamples bounds the latency samples kept per operation kind over all
// workers; beyond it each worker keeps a uniform reservoir sample.
const maxSamples = 1 << 20

// opStats accumulates one worker's results for one operation kind. It is
// owned by one goroutine while the run is measured and merged afterwards.
type opStats struct {
	ops, bytes, errors int64
	max                time.Duration
	samples            []time.Duration
	capacity           int // reservoir size; 0 means unbounded (merged stats)
	firstErr           string
	firstErrAt         time.Time
}

func (s *opStats) record(d time.Duration, n int64, rng *rand.Rand) {
	s.ops++
	s.bytes += n
	s.max = max(s.max, d)
	if s.capacity == 0 || len(s.samples) < s.capacity {
		s.samples = append(s.samples, d)
		return
	}
	// Algorithm R: the ops-th sample replaces a random slot with
	// probability capacity/ops.
	if j := rng.Int64N(s.ops); j < int64(s.capacity) {
		s.samples[j] = d
	}
}

func (s *opStats) fail(err error, at time.Time) {
	s.errors++
	if s.firstErr == "" || at.Before(s.firstErrAt) {
		s.firstErr, s.firstErrAt = err.Error(), at
	}
}

// merge adds o into s; s keeps every sample of both.
func (s *opStats) merge(o *opStats) {
	s.ops += o.ops
	s.bytes += o.bytes
	s.errors += o.errors
	s.max = max(s.max, o.max)
	s.samples = append(s.samples, o.samples...)
	if o.firstErr != "" && (s.firstErr == "" || o.firstErrAt.Before(s.firstErrAt)) {
		s.firstErr, s.firstErrAt = o.firstErr, o.firstErrAt
	}
}

// worker issues one request at a time. Worker w owns the keys
// <prefix>w<w>/<n> for n in [0, next): every key it has ever tried to write.
type worker struct {
	id      int
	run     *runner
	payload []byte // ObjectSize bytes; shared read-only if !own
	own     bool   // payload is this worker's and may be stamped
	rng     *rand.Rand
	next    int64   // keys [0, next) may exist
	live    []int64 // mixed: keys this worker believes exist
	stats   [numOps]opStats
}

func newWorker(r *runner, id int, shared []byte) *worker {
	w := &worker{
		id:  id,
		run: r,
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(id))),
	}
	if shared != nil {
		w.payload = shared
	} else {
		w.payload, w.own = randomPayload(r.opt.ObjectSize, w.rng), true
	}
	per := max(maxSamples/r.opt.Concurrency, 1024)
	for k := range w.stats {
		w.stats[k].capacity = per
	}
	return w
}

// randomPayload returns n pseudo-random bytes: incompressible enough that a
// compressing server gains nothing, and cheap to make.
func randomPayload(n int64, rng *rand.Rand) []byte {
	b := make([]byte, n)
	var i int64
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	for ; i < n; i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func (w *worker) key(n int64) string {
	return w.run.prefix + "w" + strconv.Itoa(w.id) + "/" + strconv.FormatInt(n, 10)
}

// loop issues operations until deadline or until ctx is done. Operations run
// under opCtx, which outlives deadline by the grace period; an operation that
// fails because ctx was cancelled is not counted at all.
func (w *worker) loop(ctx, opCtx context.Context, deadline time.Time) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		kind := w.pick()
		start := time.Now()
		n, err := w.do(opCtx, kind)
		d := time.Since(start)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if opCtx.Err() != nil {
				err = fmt.Errorf("still running %v after the measured phase ended: %w", grace(w.run.opt.Duration), err)
			}
			w.stats[kind].fail(err, start)
			continue
		}
		w.stats[kind].record(d, n, w.rng)
	}
}

// pick chooses the next operation.
func (w *worker) pick() opKind {
	switch w.run.opt.Op {
	case "get":
		return opGet
	case "put":
		return opPut
	}
	if len(w.live) == 0 {
		return opPut
	}
	switch p := w.rng.IntN(100); {
	case p < 45:
		return opGet
	case p < 75:
		return opPut
	case p < 90:
		return opStat
	default:
		return opDelete
	}
}

// do runs one operation with the no-retry client and returns the payload
// bytes it moved.
func (w *worker) do(ctx context.Context, kind opKind) (int64, error) {
	c := w.run.load
	switch kind {
	case opPut:
		return w.put(ctx, c)
	case opGet:
		return w.get(ctx, c, w.target())
	case opStat:
		return 0, w.stat(ctx, c, w.target())
	case opDelete:
		return 0, w.delete(ctx, c)
	}
	return 0, fmt.Errorf("bench: unknown operation %v", kind)
}

// target returns the key to read: any prepared object for get, one of the
// worker's own for mixed.
func (w *worker) target() string {
	if w.run.opt.Op == "get" {
		c := w.run.opt.Concurrency
		i := w.rng.IntN(w.run.opt.Objects)
		// Object i was prepared by worker i%c as its key i/c.
		return w.run.workers[i%c].key(int64(i / c))
	}
	return w.key(w.live[w.rng.IntN(len(w.live))])
}

// put writes the worker's next key. The key counts as possibly written even
// if the call fails, so cleanup tries it too.
func (w *worker) put(ctx context.Context, c *s3.Client) (int64, error) {
	n := w.next
	w.next++
	if w.own && len(w.payload) >= 8 {
		binary.LittleEndian.PutUint64(w.payload, uint64(w.id)<<48^uint64(n))
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(w.run.opt.Bucket),
		Key:           aws.String(w.key(n)),
		Body:          bytes.NewReader(w.payload),
		ContentLength: aws.Int64(int64(len(w.payload))),
	})
	if err != nil {
		return 0, err
	}
	if w.run.opt.Op == "mixed" {
		w.live = append(w.live, n)
	}
	return int64(len(w.payload)), nil
}

func (w *worker) get(ctx context.Context, c *s3.Client, key string) (int64, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(w.run.opt.Bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, out.Body)
	out.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("GET %s: reading body after %d bytes: %w", key, n, err)
	}
	if n != w.run.opt.ObjectSize {
		return 0, fmt.Errorf("GET %s: got %d bytes, want %d", key, n, w.run.opt.ObjectSize)
	}
	return n, nil
}

func (w *worker) stat(ctx context.Context, c *s3.Client, key string) error {
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(w.run.opt.Bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	if got := aws.ToInt64(out.ContentLength); got != w.run.opt.ObjectSize {
		return fmt.Errorf("HEAD %s: Content-Length %d, want %d", key, got, w.run.opt.ObjectSize)
	}
	return nil
}

// delete removes a random one of the worker's objects. It is forgotten even
// if the call fails, so no later GET depends on an object in an unknown
// state; cleanup still covers it.
func (w *worker) delete(ctx context.Context, c *s3.Client) error {
	i := w.rng.IntN(len(w.live))
	n := w.live[i]
	w.live[i] = w.live[len(w.live)-1]
	w.live = w.live[:len(w.live)-1]
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(w.run.opt.Bucket), Key: aws.String(w.key(n))})
	return err
}
