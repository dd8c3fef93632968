package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// sharedPayloadAbove is the total payload memory (ObjectSize times
	// Concurrency) above which workers share one read-only payload instead of
	// each having its own.
	sharedPayloadAbove = 2 << 30
	// deleteBatch is the most keys one DeleteObjects call may name.
	deleteBatch = 1000
	// cleanupBudget bounds cleanup; after an interrupted run it gets
	// cleanupBudgetInterrupted instead, so Ctrl-C still returns quickly.
	cleanupBudget            = 2 * time.Minute
	cleanupBudgetInterrupted = 5 * time.Second
)

// runner holds one run's state; Run owns it.
type runner struct {
	opt     Options
	out     io.Writer
	setup   *s3.Client // retries; bucket, prepare, cleanup
	load    *s3.Client // no retries; the measured phase
	prefix  string     // "bench-<time>-<hex>/"
	workers []*worker
}

// Run benchmarks opt.Endpoint as described in the package documentation and
// prints progress, a table of results and, with opt.JSON, one JSON line per
// result to out. It returns one Result per operation kind: [PUT] for put,
// [GET] for get, [GET PUT STAT DELETE TOTAL] for mixed.
//
// Errors of individual operations are counted in the results, not returned.
// Run returns an error if the options are invalid (wrapping ErrUsage), if
// the bucket cannot be used, if the prepare phase fails, or if ctx is
// cancelled; after a cancellation during the measured phase it returns the
// results measured so far together with the error. Failed cleanup is
// reported on out but is not an error. Run is safe to call concurrently.
func Run(ctx context.Context, opt Options, out io.Writer) ([]Result, error) {
	opt.setDefaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.ServerPID > 0 {
		if _, err := readProc(opt.ServerPID); err != nil {
			return nil, err
		}
	}
	tr, err := newTransport(opt)
	if err != nil {
		return nil, err
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	r := &runner{
		opt:    opt,
		out:    out,
		setup:  newS3Client(opt, hc, true),
		load:   newS3Client(opt, hc, false),
		prefix: runPrefix(),
	}

	fmt.Fprintf(out, "cairn bench: %s, %s objects, %d workers, %v, against %s, bucket %s, prefix %s\n",
		opt.Op, formatSize(opt.ObjectSize), opt.Concurrency, opt.Duration, opt.Endpoint, opt.Bucket, r.prefix)
	if err := r.ensureBucket(ctx); err != nil {
		return nil, err
	}

	var shared []byte
	if opt.ObjectSize*int64(opt.Concurrency) > sharedPayloadAbove {
		shared = randomPayload(opt.ObjectSize, mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 0)))
	}
	for i := range opt.Concurrency {
		r.workers = append(r.workers, newWorker(r, i, shared))
	}
	if !opt.KeepData {
		defer r.cleanup(ctx)
	}

	if opt.Op != "put" {
		if err := r.prepare(ctx); err != nil {
			return nil, err
		}
	}

	results, err := r.measure(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(out, "interrupted; results cover the part that ran")
	}
	if results != nil {
		fmt.Fprintln(out)
		writeTable(out, results, opt.ServerPID)
		if opt.JSON {
			if jerr := writeJSON(out, opt, results); jerr != nil && err == nil {
				err = jerr
			}
		}
	}
	return results, err
}

// runPrefix returns a fresh key prefix, unique per run.
func runPrefix() string {
	var b [4]byte
	rand.Read(b[:])
	return "bench-" + time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:]) + "/"
}

// ensureBucket creates the bucket unless it exists.
func (r *runner) ensureBucket(ctx context.Context) error {
	bucket := aws.String(r.opt.Bucket)
	_, err := r.setup.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bucket})
	if err == nil {
		return nil
	}
	if statusCode(err) != http.StatusNotFound {
		return fmt.Errorf("bench: bucket %s: %w", r.opt.Bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: bucket}
	if r.opt.Region != DefaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(r.opt.Region),
		}
	}
	_, err = r.setup.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("bench: creating bucket %s: %w", r.opt.Bucket, err)
	}
	fmt.Fprintf(r.out, "created bucket %s\n", r.opt.Bucket)
	return nil
}

// prepare writes opt.Objects objects, object i as worker i%c's key i/c, so
// that every worker starts the measured phase owning its share.
func (r *runner) prepare(ctx context.Context) error {
	start := time.Now()
	fmt.Fprintf(r.out, "preparing %d objects of %s\n", r.opt.Objects, formatSize(r.opt.ObjectSize))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c := r.opt.Concurrency
	var wg sync.WaitGroup
	for _, w := range r.workers {
		count := r.opt.Objects / c
		if w.id < r.opt.Objects%c {
			count++
		}
		wg.Go(func() {
			for range count {
				if _, err := w.put(ctx, r.setup); err != nil {
					cancel(fmt.Errorf("bench: preparing %s: %w", w.key(w.next-1), err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	for _, w := range r.workers {
		w.live = w.live[:0]
		for n := range w.next {
			w.live = append(w.live, n)
		}
	}
	fmt.Fprintf(r.out, "prepared in %.2f s\n", time.Since(start).Seconds())
	return nil
}

// measure runs the measured phase and merges the workers' stats.
func (r *runner) measure(ctx context.Context) ([]Result, error) {
	var before procSample
	if r.opt.ServerPID > 0 {
		var err error
		if before, err = readProc(r.opt.ServerPID); err != nil {
			return nil, err
		}
	}
	cpu0 := selfCPU()
	start := time.Now()
	deadline := start.Add(r.opt.Duration)
	opCtx, cancel := context.WithDeadline(ctx, deadline.Add(grace(r.opt.Duration)))
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Go(func() { w.loop(ctx, opCtx, deadline) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	clientCPU := selfCPU() - cpu0
	var after procSample
	if r.opt.ServerPID > 0 {
		var err error
		if after, err = readProc(r.opt.ServerPID); err != nil {
			fmt.Fprintf(r.out, "warning: %v\n", err)
		}
	}

	var kinds []opKind
	switch r.opt.Op {
	case "put":
		kinds = []opKind{opPut}
	case "get":
		kinds = []opKind{opGet}
	default:
		kinds = []opKind{opGet, opPut, opStat, opDelete}
	}
	var results []Result
	var total opStats
	for _, k := range kinds {
		var s opStats
		for _, w := range r.workers {
			s.merge(&w.stats[k])
		}
		if len(kinds) > 1 {
			total.merge(&s)
		}
		results = append(results, s.result(k.String(), elapsed))
	}
	if len(kinds) > 1 {
		results = append(results, total.result("TOTAL", elapsed))
	}
	whole := &results[len(results)-1]
	whole.ClientCPU = clientCPU
	if after != (procSample{}) {
		whole.ServerCPU = after.cpu - before.cpu
		whole.ServerPeakRSS, whole.ServerRSS = after.hwm, after.rss
	}
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("bench: interrupted: %w", context.Cause(ctx))
	}
	return results, nil
}

// cleanup deletes every key the workers may have written. It runs even after
// ctx is cancelled, within a budget, and reports on r.out rather than
// failing the run.
func (r *runner) cleanup(ctx context.Context) {
	var total int64
	for _, w := range r.workers {
		total += w.next
	}
	if total == 0 {
		return
	}
	budget := cleanupBudget
	if ctx.Err() != nil {
		budget = cleanupBudgetInterrupted
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	start := time.Now()

	var (
		batch    []types.ObjectIdentifier
		single   bool // the server rejected DeleteObjects; delete one by one
		failed   int64
		firstErr error
	)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if !single {
			out, err := r.setup.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(r.opt.Bucket),
				Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
			})
			if err == nil {
				failed += int64(len(out.Errors))
				if len(out.Errors) > 0 && firstErr == nil {
					e := out.Errors[0]
					firstErr = fmt.Errorf("%s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
				}
				batch = batch[:0]
				return
			}
			if ctx.Err() != nil {
				failed += int64(len(batch))
				firstErr = cmpErr(firstErr, err)
				batch = batch[:0]
				return
			}
			single = true
		}
		n, err := r.deleteEach(ctx, batch)
		failed += n
		firstErr = cmpErr(firstErr, err)
		batch = batch[:0]
	}
	for _, w := range r.workers {
		for n := range w.next {
			batch = append(batch, types.ObjectIdentifier{Key: aws.String(w.key(n))})
			if len(batch) == deleteBatch {
				flush()
			}
		}
	}
	flush()
	if failed > 0 {
		fmt.Fprintf(r.out, "warning: cleanup could not delete %d of %d keys under s3://%s/%s: %v\n",
			failed, total, r.opt.Bucket, r.prefix, firstErr)
		return
	}
	fmt.Fprintf(r.out, "cleanup: deleted %d keys in %.2f s\n", total, time.Since(start).Seconds())
}

// deleteEach deletes keys with one DeleteObject each, opt.Concurrency at a
// time, and returns how many failed and the first error.
func (r *runner) deleteEach(ctx context.Context, keys []types.ObjectIdentifier) (int64, error) {
	var (
		mu       sync.Mutex
		failed   int64
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan *string)
	for range min(r.opt.Concurrency, len(keys)) {
		wg.Go(func() {
			for key := range next {
				_, err := r.setup.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(r.opt.Bucket), Key: key})
				if err != nil && statusCode(err) != http.StatusNotFound {
					mu.Lock()
					failed++
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, k := range keys {
		next <- k.Key
	}
	close(next)
	wg.Wait()
	return failed, firstErr
}

// cmpErr returns first if set, else err.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
