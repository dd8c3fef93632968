package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// Store is what the Worker uses of the object layer (an *objects.Layer).
type Store interface {
	BucketConfig(ctx context.Context, bucket string) (objects.BucketConfig, error)
	ListBuckets(ctx context.Context) ([]objects.BucketInfo, error)
	DeleteObject(ctx context.Context, bucket, key string, opts objects.DeleteOptions) (objects.DeleteResult, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts objects.ListUploadsOptions) (objects.ListUploadsResult, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	TransitionObject(ctx context.Context, bucket, key string, opts objects.TransitionOptions) error
}

var _ Store = (*objects.Layer)(nil)

// WorkerConfig configures a Worker. Objects is required.
type WorkerConfig struct {
	Objects Store
	// Now is the clock rules are evaluated at (default time.Now). Give it the
	// object layer's clock: ModTimes come from there.
	Now func() time.Time
	// Logger receives what the worker does (actions at Debug, failures at Warn).
	Logger *slog.Logger
}

// Worker applies buckets' lifecycle rules. It walks nothing itself: its Hooks
// ride on the object layer's scanner, which visits every key at a bounded rate
// and resumes where it stopped after a restart, so the worker is incremental by
// construction. Every scanner cycle evaluates each object once (Object hook) and
// aborts the incomplete multipart uploads that are due (Cycle hook). Actions are
// applied with the layer's public API, so they take the same locks and keep the
// same invariants as client requests.
//
// Transition actions move the version's data with the layer's
// TransitionObject (see the objects package for the data path). A transition
// that fails (the tier is down, a drive quorum is lost) changes nothing and is
// counted in Stats.Failed; the next scanner cycle finds the version still due
// and tries again. After a tier failed, the cycle's other transitions to it
// wait for the next cycle. Transitions run on the scanner's goroutine: the
// scanner waits while a version's data is uploaded. A version changed meanwhile (overwritten, deleted) is left
// to the next cycle's evaluation, without counting a failure.
//
// A Worker is safe for concurrent use; its hooks run on the scanner's goroutine.
type Worker struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	mu    sync.Mutex
	cache map[string]parsed // bucket → its parsed configuration
	// down: tiers that failed a transition, with the cycle they failed in;
	// their other transitions wait for the next cycle instead of each paying
	// the tier client's retries on the scanner's goroutine.
	down map[string]int64

	objects atomic.Int64
	cycles  atomic.Int64
	errs    atomic.Int64
	done    [len(actionNames)]atomic.Int64
	failed  [len(actionNames)]atomic.Int64
}

type parsed struct {
	raw string
	cfg *Configuration // nil: the stored configuration does not parse
}

// NewWorker returns a worker; install its Hooks with (*objects.Layer).SetScanHooks
// before StartBackground.
func NewWorker(cfg WorkerConfig) *Worker {
	w := &Worker{store: cfg.Objects, now: cfg.Now, log: cfg.Logger, cache: map[string]parsed{}, down: map[string]int64{}}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w
}

// Hooks are the scanner hooks that run the worker.
func (w *Worker) Hooks() objects.ScanHooks {
	return objects.ScanHooks{Cycle: w.Cycle, Object: w.Object}
}

// Stats are the worker's counters, for metrics.
type Stats struct {
	Objects int64 // objects evaluated in buckets with a lifecycle configuration
	Cycles  int64 // scanner cycles whose upload pass ran
	Errors  int64 // actions that failed (retried the next cycle)
	// Actions counts the actions applied, by type (transitions: versions moved).
	Actions map[ActionType]int64
	// Failed counts the actions that failed, by type (their sum is Errors;
	// transitions: mostly an unreachable tier).
	Failed map[ActionType]int64
}

// Stats returns the counters.
func (w *Worker) Stats() Stats {
	s := Stats{
		Objects: w.objects.Load(), Cycles: w.cycles.Load(), Errors: w.errs.Load(),
		Actions: map[ActionType]int64{}, Failed: map[ActionType]int64{},
	}
	for _, t := range ActionTypes {
		s.Actions[t] = w.done[t].Load()
		s.Failed[t] = w.failed[t].Load()
	}
	return s
}

// config returns the parsed configuration of bucket (nil: none or unusable).
func (w *Worker) config(bucket, raw string) *Configuration {
	if raw == "" {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.cache[bucket]; ok && p.raw == raw {
		return p.cfg
	}
	// Tiers are not checked here: a rule naming a tier removed since is skipped
	// when its transition runs, the rest of the configuration still applies.
	cfg, err := Parse([]byte(raw), Options{})
	if err != nil {
		w.log.Warn("lifecycle: stored configuration does not parse; bucket skipped", "bucket", bucket, "err", err)
		cfg = nil
	}
	w.cache[bucket] = parsed{raw: raw, cfg: cfg}
	return cfg
}

// Object is the scanner's per-key hook: it evaluates the bucket's rules on the
// key's versions (newest first) and applies the actions that are due.
func (w *Worker) Object(ctx context.Context, bucket string, bc objects.BucketConfig, key string, versions []objects.ObjectInfo) {
	cfg := w.config(bucket, bc.Lifecycle)
	if cfg == nil {
		return
	}
	w.objects.Add(1)
	for _, a := range cfg.Evaluate(versions, w.now()) {
		w.apply(ctx, bucket, key, a)
	}
}

// apply carries out one action.
func (w *Worker) apply(ctx context.Context, bucket, key string, a Action) {
	var err error
	switch a.Type {
	case ExpireCurrent:
		_, err = w.store.DeleteObject(ctx, bucket, key, objects.DeleteOptions{Conditions: objects.Conditions{IfMatch: a.ETag}})
		if errors.Is(err, objects.ErrPreconditionFailed) || errors.Is(err, objects.ErrObjectNotFound) {
			// Written or deleted since the scanner read it: the next cycle decides.
			w.log.Debug("lifecycle: object changed before it expired", "bucket", bucket, "key", key)
			return
		}
	case DeleteNoncurrent, DeleteExpiredMarker:
		id := a.VersionID
		if id == "" {
			id = objects.NullVersion // never the "no version id" delete, which adds a marker
		}
		_, err = w.store.DeleteObject(ctx, bucket, key, objects.DeleteOptions{VersionID: id})
	case TransitionCurrent, TransitionNoncurrent:
		if w.tierDown(a.Class) {
			w.log.Debug("lifecycle: transition waits for the next cycle (its tier failed this cycle)", "bucket", bucket, "key", key, "tier", a.Class)
			return
		}
		err = w.store.TransitionObject(ctx, bucket, key, objects.TransitionOptions{VersionID: a.VersionID, Tier: a.Class, ModTime: a.ModTime})
		if errors.Is(err, objects.ErrVersionChanged) || errors.Is(err, objects.ErrObjectNotFound) || errors.Is(err, objects.ErrVersionNotFound) {
			w.log.Debug("lifecycle: version changed before its transition", "bucket", bucket, "key", key, "version", a.VersionID)
			return
		}
		if errors.Is(err, objects.ErrTierUnavailable) {
			w.mu.Lock()
			w.down[a.Class] = w.cycles.Load()
			w.mu.Unlock()
		}
	default:
		return
	}
	if err != nil {
		w.errs.Add(1)
		w.failed[a.Type].Add(1)
		w.log.Warn("lifecycle: action failed", "action", a.Type.String(), "bucket", bucket, "key", key,
			"version", a.VersionID, "rule", a.RuleID, "err", err)
		return
	}
	w.done[a.Type].Add(1)
	w.log.Debug("lifecycle: applied", "action", a.Type.String(), "bucket", bucket, "key", key,
		"version", a.VersionID, "rule", a.RuleID)
}

// tierDown reports whether tier failed a transition during this cycle.
func (w *Worker) tierDown(tier string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.down[tier]
	return ok && c == w.cycles.Load()
}

// Cycle is the scanner's per-cycle hook: it aborts the incomplete multipart
// uploads an AbortIncompleteMultipartUpload rule says are due.
func (w *Worker) Cycle(ctx context.Context, cycle int64) {
	w.cycles.Add(1)
	buckets, err := w.store.ListBuckets(ctx)
	if err != nil {
		w.log.Warn("lifecycle: listing buckets", "err", err)
		return
	}
	for _, b := range buckets {
		if ctx.Err() != nil {
			return
		}
		bc, err := w.store.BucketConfig(ctx, b.Name)
		if err != nil {
			continue
		}
		if cfg := w.config(b.Name, bc.Lifecycle); cfg != nil && cfg.HasUploadRules() {
			w.abortUploads(ctx, b.Name, cfg)
		}
	}
}

func (w *Worker) abortUploads(ctx context.Context, bucket string, cfg *Configuration) {
	opts := objects.ListUploadsOptions{MaxUploads: 1000}
	for {
		res, err := w.store.ListMultipartUploads(ctx, bucket, opts)
		if err != nil {
			w.errs.Add(1)
			w.log.Warn("lifecycle: listing uploads", "bucket", bucket, "err", err)
			return
		}
		now := w.now()
		for _, u := range res.Uploads {
			a, ok := cfg.EvaluateUpload(u.Key, u.Initiated, now)
			if !ok {
				continue
			}
			err := w.store.AbortMultipartUpload(ctx, bucket, u.Key, u.UploadID)
			switch {
			case err == nil:
				w.done[AbortUpload].Add(1)
				w.log.Debug("lifecycle: aborted upload", "bucket", bucket, "key", u.Key, "upload", u.UploadID, "rule", a.RuleID)
			case errors.Is(err, objects.ErrUploadNotFound):
			default:
				w.errs.Add(1)
				w.log.Warn("lifecycle: aborting upload", "bucket", bucket, "key", u.Key, "upload", u.UploadID, "err", err)
			}
		}
		if !res.IsTruncated || ctx.Err() != nil {
			return
		}
		opts.KeyMarker, opts.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}
