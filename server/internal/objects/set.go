package objects

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/erasure"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// set is one erasure set: N drives, every object stored as data+parity shards, one
// shard per drive.
//
// Quorum rule: a version exists when its metadata is on at least readQuorum (= data)
// drives. A write commits on at least writeQuorum drives; a delete removes from at
// least writeQuorum, leaving it on at most N-writeQuorum < data drives. So a version
// is visible exactly when it was committed and not deleted, whatever subset of
// drives failed, and crash leftovers on a minority never become visible.
type set struct {
	l            *Layer
	pool         *pool
	drives       []drive.Drive
	data, parity int
	ec           *erasure.Erasure
	inlineLimit  int64
}

func (s *set) writeQuorum() int {
	if s.data == s.parity {
		return s.data + 1
	}
	return s.data
}

func (s *set) readQuorum() int { return s.data }

// driveMeta is one drive's metadata file for an object.
type driveMeta struct {
	f   *meta.File // nil when absent or unreadable
	raw []byte
	err error // nil, drive.ErrNotFound-wrapping (absent) or another failure
}

// responded reports whether the drive answered (with a file or a definite "absent").
func (m *driveMeta) responded() bool { return m.err == nil || errors.Is(m.err, drive.ErrNotFound) }

func (s *set) readMetas(ctx context.Context, stem string) []driveMeta {
	metas := make([]driveMeta, len(s.drives))
	parallel(len(s.drives), func(i int) {
		raw, err := s.drives[i].ReadFile(ctx, stem+metaSuffix)
		if err != nil {
			metas[i].err = err
			return
		}
		f, err := meta.Unmarshal(raw)
		if err != nil {
			metas[i].err = err
			return
		}
		metas[i] = driveMeta{f: f, raw: raw}
	})
	return metas
}

type versionKey struct {
	id  meta.VersionID
	mod int64
}

func keyOf(v *meta.Version) versionKey { return versionKey{v.ID, v.ModTime.UnixNano()} }

// resolve returns the version history a read quorum of drives agrees on. Inline data
// and shard indexes are drive-specific and left empty in the result.
func (s *set) resolve(metas []driveMeta) (*meta.File, error) {
	responded := 0
	for i := range metas {
		if metas[i].responded() {
			responded++
		}
	}
	if responded < s.readQuorum() {
		return nil, ErrReadQuorum
	}
	type variant struct {
		v     *meta.Version
		count int
	}
	counts := map[versionKey]int{}
	variants := map[versionKey][]variant{}
	for i := range metas {
		if metas[i].f == nil {
			continue
		}
		for j := range metas[i].f.Versions {
			v := &metas[i].f.Versions[j]
			k := keyOf(v)
			counts[k]++
			vs := variants[k]
			found := false
			for n := range vs {
				if sameContent(vs[n].v, v) {
					vs[n].count++
					found = true
					break
				}
			}
			if !found {
				vs = append(vs, variant{v: v, count: 1})
			}
			variants[k] = vs
		}
	}
	out := &meta.File{}
	for k, n := range counts {
		if n < s.readQuorum() {
			continue
		}
		best := variants[k][0]
		for _, vr := range variants[k][1:] {
			if vr.count > best.count {
				best = vr
			}
		}
		v := *best.v
		v.Inline = nil
		v.Erasure.Index = 0 // drive-specific: holders() reads each drive's own
		out.Versions = append(out.Versions, v)
	}
	out.Sort()
	return out, nil
}

// sameContent compares the mutable, drive-independent fields of one version.
func sameContent(a, b *meta.Version) bool {
	return a.Tags == b.Tags && a.ETag == b.ETag && a.Size == b.Size && len(a.Meta) == len(b.Meta) && sameStorage(a, b)
}

// holders maps each shard index to the drive holding it for version v.
func (s *set) holders(metas []driveMeta, v *meta.Version) (shardDrive []int, shardVer []*meta.Version) {
	shardDrive = make([]int, s.data+s.parity)
	shardVer = make([]*meta.Version, s.data+s.parity)
	for i := range shardDrive {
		shardDrive[i] = -1
	}
	k := keyOf(v)
	for i := range metas {
		if metas[i].f == nil {
			continue
		}
		for j := range metas[i].f.Versions {
			dv := &metas[i].f.Versions[j]
			if keyOf(dv) == k {
				if idx := dv.Erasure.Index; idx >= 0 && idx < len(shardDrive) && shardDrive[idx] < 0 {
					shardDrive[idx] = i
					shardVer[idx] = dv
				}
				break
			}
		}
	}
	return shardDrive, shardVer
}

// commit is one metadata update, applied to every drive's own file.
type commit struct {
	bucket, key string // for the heal queue when the commit misses drives
	stem        string
	metas       []driveMeta
	// skip[i]: drive i is not written (it failed an earlier step of the operation).
	skip []bool
	// prepare runs on drive i before its metadata is written (e.g. move the data
	// directory into place); undo reverts it when the commit is rolled back.
	prepare func(ctx context.Context, i int) error
	undo    func(ctx context.Context, i int)
	// apply changes drive i's file and returns drive paths to delete once the
	// commit holds (the data of replaced versions).
	apply func(i int, f *meta.File) (garbage []string)
}

// run applies c on every drive and requires a write quorum; below quorum it restores
// the drives it changed, so nothing of the operation stays visible.
func (s *set) run(ctx context.Context, c commit) error {
	// Once the commit starts it runs to the end, or to a clean rollback, even if
	// the client goes away: a commit cut short could leave drives split between
	// the old and the new history, with neither on a read quorum.
	ctx = context.WithoutCancel(ctx)
	n := len(s.drives)
	done := make([]bool, n)
	wrote := make([]bool, n) // metadata written, flush failed: restored below
	garbage := make([][]string, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		if c.skip != nil && c.skip[i] {
			errs[i] = errSkipped
			return
		}
		m := &c.metas[i]
		if !m.responded() && !errors.Is(m.err, meta.ErrCorrupt) {
			errs[i] = m.err
			return
		}
		if c.prepare != nil {
			if err := c.prepare(ctx, i); err != nil {
				errs[i] = err
				return
			}
		}
		f := &meta.File{}
		if m.f != nil {
			// Re-decode so each drive's apply works on its own copy.
			f, _ = meta.Unmarshal(m.raw)
		}
		garbage[i] = keepReferenced(c.apply(i, f), f)
		err := s.writeMeta(ctx, i, c.stem+metaSuffix, f, m.raw == nil && m.err != nil)
		if err == nil {
			if err = s.drives[i].Sync(ctx); err != nil {
				wrote[i] = true // the new file may be there: put the old one back
			}
		}
		if err != nil {
			errs[i] = err
			if c.undo != nil && !wrote[i] {
				c.undo(ctx, i)
			}
			return
		}
		done[i] = true
	})
	if slices.Contains(wrote, true) {
		s.rollback(ctx, c, wrote)
	}
	ok := 0
	for _, d := range done {
		if d {
			ok++
		}
	}
	if ok < s.writeQuorum() {
		s.rollback(ctx, c, done)
		return fmt.Errorf("%w: %d of %d drives committed, %d needed: %w", ErrWriteQuorum, ok, n, s.writeQuorum(), errors.Join(errs...))
	}
	if ok < n && c.key != "" {
		s.l.queueHeal(c.bucket, c.key)
	}
	remote := map[string]bool{}
	for i, paths := range garbage {
		if !done[i] {
			continue
		}
		for _, p := range paths {
			if _, _, ok := parseRemoteGarbage(p); ok {
				remote[p] = true
				continue
			}
			if err := s.l.discard(context.WithoutCancel(ctx), s.drives[i], p); err != nil {
				s.l.log.Warn("removing replaced data", "drive", s.drives[i].String(), "path", p, "err", err)
			}
		}
	}
	// Remote copies of replaced or deleted transitioned versions: once, not per drive.
	for p := range remote {
		tier, key, _ := parseRemoteGarbage(p)
		s.l.deleteRemote(ctx, tier, key, true)
	}
	return nil
}

var errSkipped = errors.New("objects: drive skipped")

// writeMeta stores f as drive i's metadata file (removing it when f is empty). A
// file that does not exist yet is created in place, one file operation instead of
// temp file + rename: a crash can tear it, but the checksum makes a torn file count
// as absent, which is what it was.
func (s *set) writeMeta(ctx context.Context, i int, p string, f *meta.File, absent bool) error {
	d := s.drives[i]
	if len(f.Versions) == 0 {
		return d.Delete(ctx, p, false)
	}
	data := f.Marshal()
	if absent && s.createFile(ctx, d, p, data) == nil {
		return nil
	}
	return d.WriteFile(ctx, p, data)
}

// createFile writes a new file (nil error), or fails without having changed an
// existing one.
func (s *set) createFile(ctx context.Context, d drive.Drive, p string, data []byte) error {
	w, err := d.Create(ctx, p)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, drive.ErrExists) { // never remove a file we did not create
		d.Delete(ctx, p, false)
	}
	return err
}

func (s *set) rollback(ctx context.Context, c commit, done []bool) {
	parallel(len(s.drives), func(i int) {
		if !done[i] {
			return
		}
		var err error
		if c.metas[i].raw != nil {
			err = s.drives[i].WriteFile(ctx, c.stem+metaSuffix, c.metas[i].raw)
		} else {
			err = s.drives[i].Delete(ctx, c.stem+metaSuffix, false)
		}
		if c.undo != nil {
			c.undo(ctx, i)
		}
		if err == nil {
			err = s.drives[i].Sync(ctx)
		}
		if err != nil {
			s.l.log.Warn("rollback", "drive", s.drives[i].String(), "dir", c.stem, "err", err)
		}
	})
}

func dataDirPath(stem string, id [16]byte) string {
	return stem + dataDirInfix + hex.EncodeToString(id[:])
}

// asWriteQuorum reports a failed metadata read during a write as a write failure.
func asWriteQuorum(err error) error {
	if errors.Is(err, ErrReadQuorum) {
		return fmt.Errorf("%w: %w", ErrWriteQuorum, err)
	}
	return err
}

// lockedView takes bucket/key's write lock and reads the version history the set's
// drives agree on. On success the caller must call unlock; on error nothing is held.
func (s *set) lockedView(ctx context.Context, bucket, key string) (stem string, metas []driveMeta, cur *meta.File, unlock func(), err error) {
	unlock, err = s.l.lockWrite(ctx, bucket+"/"+key)
	if err != nil {
		return "", nil, nil, nil, err
	}
	stem = objectStem(bucket, key)
	metas = s.readMetas(ctx, stem)
	if cur, err = s.resolve(metas); err != nil {
		unlock()
		return "", nil, nil, nil, err
	}
	return stem, metas, cur, unlock, nil
}
