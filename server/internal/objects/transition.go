package objects

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/meta"
)

// The transition data path: a version's data moves to a remote tier, leaving a
// stub; reads of the stub stream from the tier; RestoreObject brings a copy back
// for a while; deleting the stub deletes the remote copy.
//
// What goes to the tier is the stored byte stream, exactly what WriteRange
// serves: for an SSE object that is the ciphertext package stream (each part's
// stream for a multipart object), so the tier never sees plaintext, and the
// sealed object key stays in the local metadata (Internal). A GET of the stub
// asks the tier for the stored range it needs, and the S3 layer decrypts it as
// it decrypts local data. Without the local metadata the remote copy is
// unreadable; with it, and the KMS, it is an ordinary encrypted object.
//
// The stub is the same version (id, ModTime, Size, ETag, checksums, parts,
// metadata, tags) with meta.Version.Transition set and no local data; listings
// and HEAD show the tier's name as its storage class.
//
// Remote keys are "<deployment id>/<bucket>/<key>/<version id>-<random uuid>"
// (the key replaced by "sha256-<hash>" when the whole would exceed 900 bytes):
// a new random part per transition, so two transitions never share a remote
// object, whatever happened to the version in between.

// RemoteTier is a remote object store holding transitioned data (a tier.Tier).
type RemoteTier interface {
	// Put stores size bytes read from r under key.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get returns bytes [offset, offset+length) of key (length < 0: to the end;
	// 0: checks the object exists). The caller closes the reader.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Tiers finds remote tiers by name (the server adapts its *tier.Store).
type Tiers interface {
	// Tier returns the client of the named tier and whether deleting a
	// transitioned version must keep its remote copy.
	Tier(ctx context.Context, name string) (t RemoteTier, keepRemote bool, err error)
}

// SetTiers installs the tiers transitions use (before serving or StartBackground).
func (l *Layer) SetTiers(t Tiers) { l.tiers = t }

// Errors of the transition data path.
var (
	// ErrTierUnavailable: a transitioned version's tier could not be reached or
	// failed (503 ServiceUnavailable; retry later). A *TierError says which tier.
	ErrTierUnavailable = errors.New("objects: remote tier unavailable")
	// ErrInvalidObjectState: the operation does not apply to the version's
	// storage state (RestoreObject on a version that was never transitioned).
	ErrInvalidObjectState = errors.New("objects: invalid object state") // InvalidObjectState 403
	// ErrVersionChanged: the version changed (overwritten, deleted, transitioned
	// elsewhere) while a transition or restore was copying its data; nothing
	// was changed, and the copy was discarded.
	ErrVersionChanged = errors.New("objects: version changed during the operation")
)

// TierError is a failure of a remote tier while serving a transitioned version.
type TierError struct {
	Tier string
	Op   string // "get", "put", "restore", …
	Err  error
}

func (e *TierError) Error() string {
	return fmt.Sprintf("objects: tier %s (%s): %v", e.Tier, e.Op, e.Err)
}
func (e *TierError) Unwrap() []error { return []error{ErrTierUnavailable, e.Err} }

// TransitionInfo describes where a transitioned version's data lives.
type TransitionInfo struct {
	Tier      string
	RemoteKey string
	At        time.Time
	// RestoreExpiry is when the restored local copy expires (zero: no copy;
	// reads stream from the tier).
	RestoreExpiry time.Time
}

// TierStats are the transition data path's counters.
type TierStats struct {
	Transitioned        int64 // versions whose data moved to a tier
	Restored            int64 // restored copies made
	RestoresExpired     int64 // restored copies dropped after their expiry
	RemoteDeletes       int64 // remote copies deleted
	RemoteDeletesQueued int64 // remote deletes that failed and went to the retry queue
	RemoteReads         int64 // reads of stubs served from a tier
}

type tierCounters struct {
	transitioned, restored, expired, deletes, queued, reads atomic.Int64
}

// TierStats returns the counters.
func (l *Layer) TierStats() TierStats {
	c := &l.tierStats
	return TierStats{
		Transitioned: c.transitioned.Load(), Restored: c.restored.Load(), RestoresExpired: c.expired.Load(),
		RemoteDeletes: c.deletes.Load(), RemoteDeletesQueued: c.queued.Load(), RemoteReads: c.reads.Load(),
	}
}

// tier returns the named tier's client.
func (l *Layer) tier(ctx context.Context, name string) (RemoteTier, bool, error) {
	if l.tiers == nil {
		return nil, false, &TierError{Tier: name, Op: "open", Err: errors.New("no tiers are configured on this server")}
	}
	t, keep, err := l.tiers.Tier(ctx, name)
	if err != nil {
		return nil, false, &TierError{Tier: name, Op: "open", Err: err}
	}
	return t, keep, nil
}

// remoteKey names a new remote copy of version v of bucket/key.
func (l *Layer) remoteKey(bucket, key string, v *meta.Version) string {
	vid := "null"
	if !v.ID.IsNull() {
		vid = formatUUID(v.ID)
	}
	dep := l.depID
	if dep == "" {
		dep = "cairn"
	}
	name := key
	if len(dep)+len(bucket)+len(key)+80 > 900 {
		h := sha256.Sum256([]byte(key))
		name = "sha256-" + hex.EncodeToString(h[:])
	}
	return dep + "/" + bucket + "/" + name + "/" + vid + "-" + formatUUID(newID())
}

// TransitionOptions select the version TransitionObject moves.
type TransitionOptions struct {
	// VersionID is the version ("" or "null": the null version).
	VersionID string
	// Tier is the name of the tier to move it to.
	Tier string
	// ModTime, when set, must be the version's: a version rewritten since the
	// caller looked at it (the null version) is left alone (ErrVersionChanged).
	ModTime time.Time
}

// TransitionObject moves a version's data to a tier and leaves a stub.
//
// The stored bytes stream from the drives to the tier under a new remote key
// without holding the object's lock: a tier may be slow, and client writes
// must not wait for it. A concurrent overwrite or delete may free the data
// being read; the copy then fails, and the version is found changed. Then,
// under the write lock, the version is checked to be the one that was copied,
// unchanged (same id, time, ETag, data); if so every drive's copy of it becomes
// the stub and its shards are freed, else the remote copy is deleted and
// ErrVersionChanged returned. Nothing is lost on any failure: the local data is
// freed only by the commit that records the remote copy. A version already in
// the tier is left alone (nil); one in another tier moves from there, and its
// old remote copy is deleted.
func (l *Layer) TransitionObject(ctx context.Context, bucket, key string, opts TransitionOptions) error {
	if err := checkObjectName(key); err != nil {
		return err
	}
	vid := opts.VersionID
	if vid == "" {
		vid = NullVersion
	}
	t, _, err := l.tier(ctx, opts.Tier)
	if err != nil {
		return err
	}
	o, err := l.open(ctx, bucket, key, GetOptions{VersionID: vid}, true)
	if err != nil {
		return err
	}
	// Keep the drives' metadata read under the lock (the shard holders), but
	// release the lock itself: the upload must not block writers.
	o.unlock()
	o.unlock = func() {}
	v := o.v
	if !opts.ModTime.IsZero() && !v.ModTime.Equal(opts.ModTime) {
		o.Close()
		return ErrVersionChanged
	}
	if v.Transition != nil && v.Transition.Tier == opts.Tier {
		o.Close()
		return nil
	}
	rkey := l.remoteKey(bucket, key, &v)
	body, stop := o.stream(ctx, 0, v.Size)
	err = t.Put(ctx, rkey, body, v.Size)
	readErr := stop()
	o.Close()
	if err != nil || readErr != nil {
		// Whatever reached the tier is not a complete copy.
		l.discardFailedUpload(ctx, t, opts.Tier, rkey)
		if readErr != nil {
			if l.versionChanged(ctx, bucket, key, &v) {
				return ErrVersionChanged // overwritten or deleted while being read
			}
			return readErr // reading the local data failed (read quorum, …)
		}
		return ctxErr(ctx, &TierError{Tier: opts.Tier, Op: "put", Err: err})
	}

	s := o.s
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		l.deleteRemote(ctx, opts.Tier, rkey, false)
		return asWriteQuorum(err)
	}
	defer unlock()
	now := cur.Find(v.ID)
	if now == nil || keyOf(now) != keyOf(&v) || !sameContent(now, &v) || !sameStorage(now, &v) {
		l.deleteRemote(ctx, opts.Tier, rkey, false)
		return ErrVersionChanged
	}
	tr := &meta.Transition{Tier: opts.Tier, RemoteKey: rkey, At: l.now().UTC()}
	k := keyOf(&v)
	err = s.run(ctx, commit{bucket: bucket, key: key, stem: stem, metas: metas, apply: func(i int, f *meta.File) []string {
		for j := range f.Versions {
			dv := &f.Versions[j]
			if keyOf(dv) != k {
				continue
			}
			garbage := garbageOf(stem, dv)
			if old := dv.Transition; old != nil {
				garbage = append(garbage, remoteGarbage(old.Tier, old.RemoteKey))
			}
			dv.Transition = tr
			dv.DataDir, dv.DataFile, dv.Inline = [16]byte{}, false, nil
			return garbage
		}
		return nil
	}})
	if err != nil {
		l.deleteRemote(ctx, opts.Tier, rkey, false)
		return err
	}
	l.tierStats.transitioned.Add(1)
	return nil
}

// versionChanged reports whether v is no longer bucket/key's version as it was.
func (l *Layer) versionChanged(ctx context.Context, bucket, key string, v *meta.Version) bool {
	s := l.readSet(ctx, bucket, key)
	cur, err := s.resolve(s.readMetas(ctx, objectStem(bucket, key)))
	if err != nil {
		return false
	}
	now := cur.Find(v.ID)
	return now == nil || keyOf(now) != keyOf(v) || !sameContent(now, v)
}

// sameStorage reports whether two copies of a version keep their data in the
// same place (the same local data directory, the same remote copy, the same
// restored copy).
func sameStorage(a, b *meta.Version) bool {
	if a.DataDir != b.DataDir || a.DataFile != b.DataFile || (a.Transition == nil) != (b.Transition == nil) {
		return false
	}
	if a.Transition == nil {
		return true
	}
	ta, tb := a.Transition, b.Transition
	return ta.Tier == tb.Tier && ta.RemoteKey == tb.RemoteKey && ta.RestoreExpiry.Equal(tb.RestoreExpiry)
}

// stream returns a reader of bytes [off, off+n) of o and a stop function that
// ends the copy (whether or not the reader was drained) and returns the
// reading side's error, if any. o stays open.
func (o *object) stream(ctx context.Context, off, n int64) (io.Reader, func() error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := o.WriteRange(ctx, pw, off, n)
		pw.CloseWithError(err)
		done <- err
	}()
	return pr, func() error {
		pr.CloseWithError(errStreamStopped)
		err := <-done
		if errors.Is(err, errStreamStopped) {
			return nil // the consumer stopped early: its own error says why
		}
		return err
	}
}

var errStreamStopped = errors.New("objects: stream consumer stopped")

// Remote copies to delete travel through commit garbage as a marked string, so
// that every path that replaces or removes versions (overwrite, delete, …)
// deletes the remote copy once the commit holds, exactly when it would free
// local data.
const remoteGarbagePrefix = "\x00tier\x00"

func remoteGarbage(tier, key string) string { return remoteGarbagePrefix + tier + "\x00" + key }

func parseRemoteGarbage(p string) (tier, key string, ok bool) {
	rest, ok := strings.CutPrefix(p, remoteGarbagePrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "\x00")
}

// keepReferenced drops from garbage the remote copies that f still names: a
// remote copy is deleted only when the committed metadata no longer refers to
// it (a pool drain re-adding a stub, a version replaced by itself).
func keepReferenced(garbage []string, f *meta.File) []string {
	out := garbage[:0]
	for _, p := range garbage {
		if tier, key, ok := parseRemoteGarbage(p); ok && namesRemote(f, tier, key) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func namesRemote(f *meta.File, tier, key string) bool {
	for i := range f.Versions {
		if t := f.Versions[i].Transition; t != nil && t.Tier == tier && t.RemoteKey == key {
			return true
		}
	}
	return false
}

// replacedGarbage is garbageOf plus the remote copy of a transitioned version:
// for the commits by which clients replace or delete versions.
func replacedGarbage(stem string, old *meta.Version) []string {
	g := garbageOf(stem, old)
	if old != nil && old.Transition != nil {
		g = append(g, remoteGarbage(old.Transition.Tier, old.Transition.RemoteKey))
	}
	return g
}

// remoteDeleteTimeout bounds the synchronous attempt to delete a remote copy,
// made by the commit that removed the version (the client's DELETE waits for
// it, holding the object's lock); after it the delete goes to the retry queue,
// whose attempts get queuedDeleteTimeout.
const (
	remoteDeleteTimeout = 3 * time.Second
	queuedDeleteTimeout = 30 * time.Second
)

// The remote-delete retry queue: one configuration document per remote copy
// still to delete, drained by every scanner cycle.
const tierGCDir = "tier-gc"

type tierGCEntry struct {
	Tier string `json:"tier"`
	Key  string `json:"key"`
}

func tierGCDoc(e tierGCEntry) string {
	h := sha256.Sum256([]byte(e.Tier + "\x00" + e.Key))
	return tierGCDir + "/" + hex.EncodeToString(h[:16]) + ".json"
}

// deleteRemote deletes a remote copy now, or queues the delete for the scanner
// when the tier fails. honourKeep: the tier's KeepRemote setting applies (a
// client's delete); copies that never became a version's data are always
// deleted.
func (l *Layer) deleteRemote(ctx context.Context, tierName, key string, honourKeep bool) {
	ctx = context.WithoutCancel(ctx)
	t, keep, err := l.tier(ctx, tierName)
	if err == nil && keep && honourKeep {
		return
	}
	if err == nil {
		dctx, cancel := context.WithTimeout(ctx, remoteDeleteTimeout)
		err = t.Delete(dctx, key)
		cancel()
		if err == nil {
			l.tierStats.deletes.Add(1)
			return
		}
	}
	e := tierGCEntry{Tier: tierName, Key: key}
	raw, _ := json.Marshal(e)
	l.tierStats.queued.Add(1)
	if werr := l.WriteConfig(ctx, tierGCDoc(e), raw); werr != nil {
		l.log.Error("tier: remote copy could not be deleted nor queued for deletion; it stays in the tier", "tier", tierName, "key", key, "err", err, "queue_err", werr)
		return
	}
	l.log.Warn("tier: deleting a remote copy failed; queued for retry", "tier", tierName, "key", key, "err", err)
}

// discardFailedUpload deletes what an upload that failed may have left in
// the tier. The clients commit nothing on failure (a single PUT is atomic,
// multipart and resumable uploads are abandoned), so this is one best-effort
// attempt, not queued: a tier that is down would otherwise fill the retry
// queue with a delete per failed attempt. At worst an unreferenced remote
// object remains; nothing local is lost.
func (l *Layer) discardFailedUpload(ctx context.Context, t RemoteTier, tierName, key string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), remoteDeleteTimeout)
	defer cancel()
	if err := t.Delete(dctx, key); err != nil {
		l.log.Debug("tier: cleaning up after a failed upload", "tier", tierName, "key", key, "err", err)
	}
}

// drainRemoteDeletes retries the queued remote deletes (a scanner cycle step).
// After one failure of a tier, that tier's other entries wait for the next cycle.
func (l *Layer) drainRemoteDeletes(ctx context.Context) {
	names, err := l.ListConfig(ctx, tierGCDir)
	if err != nil {
		return
	}
	down := map[string]bool{}
	for _, n := range names {
		if ctx.Err() != nil {
			return
		}
		doc := tierGCDir + "/" + n
		raw, err := l.ReadConfig(ctx, doc)
		if err != nil {
			continue
		}
		var e tierGCEntry
		if json.Unmarshal(raw, &e) != nil || e.Tier == "" || e.Key == "" {
			l.DeleteConfig(ctx, doc)
			continue
		}
		if down[e.Tier] {
			continue
		}
		t, _, err := l.tier(ctx, e.Tier)
		if err == nil {
			dctx, cancel := context.WithTimeout(ctx, queuedDeleteTimeout)
			err = t.Delete(dctx, e.Key)
			cancel()
		}
		if err != nil {
			l.log.Debug("tier: queued remote delete still failing", "tier", e.Tier, "key", e.Key, "err", err)
			down[e.Tier] = true
			continue
		}
		l.tierStats.deletes.Add(1)
		l.DeleteConfig(ctx, doc)
	}
}

// PendingRemoteDeletes returns the number of remote deletes in the retry queue.
func (l *Layer) PendingRemoteDeletes(ctx context.Context) (int, error) {
	names, err := l.ListConfig(ctx, tierGCDir)
	if errors.Is(err, ErrConfigNotFound) {
		return 0, nil
	}
	return len(names), err
}

// readRemote writes bytes [offset, offset+length) of a stub's data from its
// tier to w.
func (o *object) readRemote(ctx context.Context, w io.Writer, offset, length int64) error {
	tr := o.v.Transition
	rc := o.takePrepared(offset, length)
	if rc == nil {
		var err error
		if rc, err = o.openRemote(ctx, offset, length); err != nil {
			return err
		}
	}
	defer rc.Close()
	src := &errReader{r: rc}
	n, err := io.Copy(w, io.LimitReader(src, length))
	if err == nil && n < length {
		err = &TierError{Tier: tr.Tier, Op: "get", Err: fmt.Errorf("remote copy ended after %d of %d bytes: %w", n, length, io.ErrUnexpectedEOF)}
	}
	if err != nil && src.err != nil && !errors.Is(err, ErrTierUnavailable) {
		err = &TierError{Tier: tr.Tier, Op: "get", Err: src.err}
	}
	o.s.l.tierStats.reads.Add(1)
	return ctxErr(ctx, err)
}

func (o *object) openRemote(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	tr := o.v.Transition
	t, _, err := o.s.l.tier(ctx, tr.Tier)
	if err != nil {
		return nil, err
	}
	rc, err := t.Get(ctx, tr.RemoteKey, offset, length)
	if err != nil {
		return nil, ctxErr(ctx, &TierError{Tier: tr.Tier, Op: "get", Err: err})
	}
	return rc, nil
}

// Prepare makes sure the data of bytes [offset, offset+length) can be read
// before a caller commits to a response: for a version whose data is in a
// tier it opens the remote range (length 0: reads the first byte, to check
// the tier answers), so an unreachable tier is an error before any byte is
// sent. The next WriteRange of exactly that range uses the opened stream. For
// local data it does nothing.
func (o *object) Prepare(ctx context.Context, offset, length int64) error {
	if o.v.HasLocalData() {
		return nil
	}
	if length == 0 {
		rc, err := o.openRemote(ctx, 0, min(1, o.v.Size))
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return ctxErr(ctx, &TierError{Tier: o.v.Transition.Tier, Op: "get", Err: err})
		}
		return nil
	}
	rc, err := o.openRemote(ctx, offset, length)
	if err != nil {
		return err
	}
	o.closePrepared()
	o.prepared = &preparedRange{off: offset, n: length, rc: rc}
	return nil
}

type preparedRange struct {
	off, n int64
	rc     io.ReadCloser
}

func (o *object) takePrepared(offset, length int64) io.ReadCloser {
	p := o.prepared
	if p == nil || p.off != offset || p.n != length {
		o.closePrepared()
		return nil
	}
	o.prepared = nil
	return p.rc
}

func (o *object) closePrepared() {
	if o.prepared != nil {
		o.prepared.rc.Close()
		o.prepared = nil
	}
}

// errReader remembers the error of the reader it wraps.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// RestoreOptions control RestoreObject.
type RestoreOptions struct {
	VersionID string // "": the latest version
	Days      int    // how long the restored copy stays (≥ 1)
}

// RestoreResult tells what RestoreObject did.
type RestoreResult struct {
	// AlreadyRestored: a restored copy existed; only its expiry changed.
	AlreadyRestored bool
	Expiry          time.Time
}

// restoreExpiry is when a copy restored at t for days expires: as S3, the
// first midnight UTC after t + days.
func restoreExpiry(t time.Time, days int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day()+days+1, 0, 0, 0, 0, time.UTC)
}

// RestoreObject brings a transitioned version's data back onto the drives for
// opts.Days days (reads are then served locally); the version stays
// transitioned, and the scanner drops the local copy once it expires. A
// version never transitioned is ErrInvalidObjectState. A version already
// restored gets the new expiry. The copy is made synchronously: the data
// streams from the tier into the set's temp areas (erasure coded as a PUT
// would), then is committed under the write lock if the version is unchanged.
func (l *Layer) RestoreObject(ctx context.Context, bucket, key string, opts RestoreOptions) (RestoreResult, error) {
	if err := checkObjectName(key); err != nil {
		return RestoreResult{}, err
	}
	if opts.Days < 1 {
		return RestoreResult{}, fmt.Errorf("objects: restore for %d days", opts.Days)
	}
	o, err := l.open(ctx, bucket, key, GetOptions{VersionID: opts.VersionID}, false)
	if err != nil {
		return RestoreResult{}, err
	}
	v := o.v
	if v.Transition == nil {
		return RestoreResult{}, ErrInvalidObjectState
	}
	expiry := restoreExpiry(l.now(), opts.Days)
	s := o.s
	if v.HasLocalData() {
		return RestoreResult{AlreadyRestored: true, Expiry: expiry}, l.setRestoreExpiry(ctx, s, bucket, key, &v, expiry)
	}
	tr := v.Transition
	t, _, err := l.tier(ctx, tr.Tier)
	if err != nil {
		return RestoreResult{}, err
	}
	rc, err := t.Get(ctx, tr.RemoteKey, 0, -1)
	if err != nil {
		return RestoreResult{}, ctxErr(ctx, &TierError{Tier: tr.Tier, Op: "restore", Err: err})
	}
	defer rc.Close()
	src := &errReader{r: rc}
	st, err := s.stageRestore(ctx, bucket, key, &v, src)
	if err != nil {
		if src.err != nil {
			return RestoreResult{}, ctxErr(ctx, &TierError{Tier: tr.Tier, Op: "restore", Err: src.err})
		}
		return RestoreResult{}, err
	}
	defer st.cleanup(context.WithoutCancel(ctx))

	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return RestoreResult{}, asWriteQuorum(err)
	}
	defer unlock()
	now := cur.Find(v.ID)
	if now == nil || keyOf(now) != keyOf(&v) || !sameStorage(now, &v) {
		return RestoreResult{}, ErrVersionChanged
	}
	rv := *now
	rt := *tr
	rt.RestoreExpiry = expiry
	rv.Transition = &rt
	rv.Erasure = st.erasure
	rv.DataDir, rv.DataFile, rv.Inline = st.dataDir, st.dataFile, nil
	k := keyOf(&v)
	err = s.run(ctx, commit{
		bucket: bucket, key: key, stem: stem, metas: metas, skip: st.skip(),
		prepare: st.prepare, undo: st.undo,
		apply: func(i int, f *meta.File) []string {
			for j := range f.Versions {
				if keyOf(&f.Versions[j]) != k {
					continue
				}
				dv := rv
				dv.Erasure.Index = st.shardOf[i]
				if st.inline != nil {
					dv.Inline = st.inline[i]
				}
				f.Versions[j] = dv
			}
			return nil
		},
	})
	if err != nil {
		return RestoreResult{}, err
	}
	st.committed = true
	l.tierStats.restored.Add(1)
	return RestoreResult{Expiry: expiry}, nil
}

// setRestoreExpiry changes the expiry of a restored copy.
func (l *Layer) setRestoreExpiry(ctx context.Context, s *set, bucket, key string, v *meta.Version, expiry time.Time) error {
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return asWriteQuorum(err)
	}
	defer unlock()
	now := cur.Find(v.ID)
	if now == nil || keyOf(now) != keyOf(v) || !sameStorage(now, v) {
		return ErrVersionChanged
	}
	k := keyOf(v)
	return s.run(ctx, commit{bucket: bucket, key: key, stem: stem, metas: metas, apply: func(i int, f *meta.File) []string {
		for j := range f.Versions {
			if dv := &f.Versions[j]; keyOf(dv) == k && dv.Transition != nil {
				t := *dv.Transition
				t.RestoreExpiry = expiry
				dv.Transition = &t
			}
		}
		return nil
	}})
}

// restoreStage is a restored copy staged on a set's drives, not yet visible.
type restoreStage struct {
	s         *set
	erasure   meta.Erasure
	shardOf   []int    // by drive
	inline    [][]byte // by drive: the framed shard (single small part), else nil
	ok        []bool   // by drive
	dataDir   [16]byte
	dataFile  bool
	tmpFile   string // single-file layout: the staged file, renamed at commit
	stem      string
	committed bool
}

// stageRestore erasure codes a stub's stored bytes, read from r, onto s: one
// data file (or inline) for a single-part version, a directory of part files
// (moved into place before the commit, as a pool drain does) for a multipart one.
func (s *set) stageRestore(ctx context.Context, bucket, key string, v *meta.Version, r io.Reader) (*restoreStage, error) {
	n := len(s.drives)
	rs := &restoreStage{s: s, stem: objectStem(bucket, key), shardOf: make([]int, n), ok: make([]bool, n)}
	if len(v.Parts) <= 1 {
		st, err := s.stage(ctx, r, stageOptions{size: v.Size, rot: -1, inline: true})
		if err != nil {
			return nil, err
		}
		rs.erasure, rs.shardOf, rs.ok, rs.tmpFile = st.erasure, st.shardOf, st.ok, st.tmpFile
		if st.inline != nil {
			rs.inline = make([][]byte, n)
			for i := range rs.inline {
				rs.inline[i] = st.inline[st.shardOf[i]]
			}
		} else {
			rs.dataDir, rs.dataFile = newID(), true
		}
		return rs, nil
	}
	rot := int(newID()[0]) % n
	rs.dataDir = newID()
	dir := dataDirPath(rs.stem, rs.dataDir)
	for i := range rs.ok {
		rs.ok[i] = true
	}
	for _, p := range v.Parts {
		st, err := s.stage(ctx, io.LimitReader(r, p.Size), stageOptions{size: p.Size, rot: rot})
		if err != nil {
			rs.cleanup(context.WithoutCancel(ctx))
			return nil, err
		}
		parallel(n, func(i int) {
			if !st.ok[i] || s.drives[i].Rename(ctx, st.tmpFile, dir+"/part."+itoa(p.Number)) != nil {
				rs.ok[i] = false
			}
		})
		st.cleanup(context.WithoutCancel(ctx))
		rs.erasure, rs.shardOf = st.erasure, st.shardOf
		if count(rs.ok) < s.writeQuorum() {
			rs.cleanup(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("%w: part %d restored to %d drives", ErrWriteQuorum, p.Number, count(rs.ok))
		}
	}
	return rs, nil
}

func (rs *restoreStage) skip() []bool {
	skip := make([]bool, len(rs.ok))
	for i := range skip {
		skip[i] = !rs.ok[i]
	}
	return skip
}

func (rs *restoreStage) prepare(ctx context.Context, i int) error {
	if rs.tmpFile == "" {
		return nil
	}
	return rs.s.drives[i].Rename(ctx, rs.tmpFile, dataDirPath(rs.stem, rs.dataDir))
}

func (rs *restoreStage) undo(ctx context.Context, i int) {
	if rs.dataDir != ([16]byte{}) {
		rs.s.drives[i].Delete(ctx, dataDirPath(rs.stem, rs.dataDir), true)
	}
}

// cleanup removes what was staged unless it was committed.
func (rs *restoreStage) cleanup(ctx context.Context) {
	if rs.committed {
		return
	}
	parallel(len(rs.s.drives), func(i int) {
		if rs.tmpFile != "" {
			rs.s.drives[i].Delete(ctx, rs.tmpFile, false)
		}
		rs.undo(ctx, i)
	})
}

// expireRestores drops the restored copies of bucket/key's versions whose
// expiry has passed (a scanner step; versions as the scanner resolved them).
func (l *Layer) expireRestores(ctx context.Context, bucket, key string, versions []meta.Version) {
	now := l.now()
	for i := range versions {
		v := &versions[i]
		if v.Transition == nil || v.Transition.RestoreExpiry.IsZero() || now.Before(v.Transition.RestoreExpiry) {
			continue
		}
		if err := l.dropRestored(ctx, bucket, key, v); err != nil && !errors.Is(err, ErrVersionChanged) {
			l.log.Warn("tier: dropping an expired restored copy", "bucket", bucket, "key", key, "err", err)
		}
	}
}

// dropRestored removes the restored local copy of v (the stub stays).
func (l *Layer) dropRestored(ctx context.Context, bucket, key string, v *meta.Version) error {
	s := l.readSet(ctx, bucket, key)
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return err
	}
	defer unlock()
	now := cur.Find(v.ID)
	if now == nil || keyOf(now) != keyOf(v) || !sameStorage(now, v) {
		return ErrVersionChanged
	}
	k := keyOf(v)
	err = s.run(ctx, commit{bucket: bucket, key: key, stem: stem, metas: metas, apply: func(i int, f *meta.File) []string {
		for j := range f.Versions {
			dv := &f.Versions[j]
			if keyOf(dv) != k || dv.Transition == nil {
				continue
			}
			garbage := garbageOf(stem, dv)
			t := *dv.Transition
			t.RestoreExpiry = time.Time{}
			dv.Transition = &t
			dv.DataDir, dv.DataFile, dv.Inline = [16]byte{}, false, nil
			return garbage
		}
		return nil
	}})
	if err == nil {
		l.tierStats.expired.Add(1)
	}
	return err
}
