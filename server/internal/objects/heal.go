package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// Healing brings every online drive of a set back to the version history the quorum
// agrees on: versions a drive lacks get their shard rebuilt from the others (the
// shard index nobody holds), versions a drive holds but the quorum does not (crash
// leftovers, writes that missed quorum) are removed, and, when asked to verify,
// shards that fail their bitrot check are rebuilt in place.

// HealOptions control HealObject.
type HealOptions struct {
	// Verify reads every shard and rebuilds those that fail their bitrot check
	// (the scanner's deep mode). Without it only missing versions and missing data
	// files are repaired.
	Verify bool
}

// HealResult tells what HealObject did.
type HealResult struct {
	ShardsRebuilt   int   // shards written (missing or corrupt)
	VersionsRemoved int   // stale versions removed from single drives
	BytesWritten    int64 // shard bytes written, framed
}

// HealObject repairs one object on its set. It takes the object's write lock.
func (l *Layer) HealObject(ctx context.Context, bucket, key string, opts HealOptions) (HealResult, error) {
	if err := checkObjectName(key); err != nil {
		return HealResult{}, err
	}
	s := l.readSet(ctx, bucket, key)
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return HealResult{}, err
	}
	defer unlock()
	var res HealResult
	n := len(s.drives)
	// files[i] is drive i's new metadata, nil when the drive needs no change.
	files := make([]*meta.File, n)
	own := func(i int) *meta.File {
		if files[i] == nil {
			files[i] = &meta.File{}
			if metas[i].f != nil {
				files[i], _ = meta.Unmarshal(metas[i].raw)
			}
		}
		return files[i]
	}
	online := make([]bool, n)
	for i := range metas {
		online[i] = metas[i].responded() || errors.Is(metas[i].err, meta.ErrCorrupt)
	}
	// Remove versions the quorum does not know.
	valid := map[versionKey]bool{}
	for i := range cur.Versions {
		valid[keyOf(&cur.Versions[i])] = true
	}
	garbage := make([][]string, n)
	for i := range metas {
		if metas[i].f == nil {
			continue
		}
		for _, v := range metas[i].f.Versions {
			if !valid[keyOf(&v)] {
				f := own(i)
				old := f.Remove(v.ID)
				garbage[i] = append(garbage[i], garbageOf(stem, old)...)
				res.VersionsRemoved++
			}
		}
	}
	// A drive's copy that disagrees with the quorum on where the data is (it
	// missed a transition, restore or restore expiry) is dropped from that
	// drive and then healed like a missing one; local data only it had is freed.
	hmetas := append([]driveMeta(nil), metas...)
	for vi := range cur.Versions {
		v := &cur.Versions[vi]
		for i := range hmetas {
			if hmetas[i].f == nil {
				continue
			}
			for j := range hmetas[i].f.Versions {
				dv := &hmetas[i].f.Versions[j]
				if keyOf(dv) != keyOf(v) || sameStorage(dv, v) {
					continue
				}
				own(i).Remove(dv.ID)
				if dv.DataDir != v.DataDir {
					garbage[i] = append(garbage[i], garbageOf(stem, dv)...)
				}
				nf := &meta.File{Versions: append(append([]meta.Version(nil), hmetas[i].f.Versions[:j]...), hmetas[i].f.Versions[j+1:]...)}
				hmetas[i].f = nf
				break
			}
		}
	}
	// Rebuild missing or broken shards of every valid version.
	for vi := range cur.Versions {
		v := &cur.Versions[vi]
		if v.Kind == meta.KindDeleteMarker || !v.HasLocalData() {
			// A marker, or a transitioned version's stub: metadata only.
			for i := range hmetas {
				if online[i] && !hasVersion(hmetas[i].f, v) {
					own(i).Add(*v)
				}
			}
			continue
		}
		n, err := s.healVersion(ctx, stem, hmetas, online, v, opts, own)
		res.ShardsRebuilt += n.shards
		res.BytesWritten += n.bytes
		if err != nil {
			return res, err
		}
	}
	// Write the changed metadata files.
	errs := make([]error, n)
	parallel(n, func(i int) {
		if files[i] == nil {
			return
		}
		err := s.writeMeta(ctx, i, stem+metaSuffix, files[i], metas[i].raw == nil)
		if err == nil {
			err = s.drives[i].Sync(ctx)
		}
		if err != nil {
			errs[i] = err
			return
		}
		for _, p := range garbage[i] {
			s.drives[i].Delete(ctx, p, true)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("objects: heal %s/%s: %w", bucket, key, err)
	}
	return res, nil
}

func hasVersion(f *meta.File, v *meta.Version) bool {
	if f == nil {
		return false
	}
	k := keyOf(v)
	for i := range f.Versions {
		if keyOf(&f.Versions[i]) == k {
			return true
		}
	}
	return false
}

type healCount struct {
	shards int
	bytes  int64
}

// healVersion rebuilds the shards of v that online drives lack.
func (s *set) healVersion(ctx context.Context, stem string, metas []driveMeta, online []bool, v *meta.Version, opts HealOptions, own func(int) *meta.File) (healCount, error) {
	var cnt healCount
	n := len(s.drives)
	shardDrive, shardVer := s.holders(metas, v)
	ec, err := s.coder(v.Erasure)
	if err != nil {
		return cnt, err
	}
	alg := bitrot.Algorithm(v.Erasure.BitrotAlgorithm)
	sbs := ec.ShardBlockSize()
	total := v.Erasure.Data + v.Erasure.Parity
	if total != n {
		return cnt, fmt.Errorf("objects: heal: version written for %d drives, set has %d", total, n)
	}
	// broken[shard]: the holder's copy is missing or corrupt.
	broken := make([]bool, total)
	for sh, d := range shardDrive {
		if d < 0 || !online[d] {
			continue
		}
		if !s.shardIntact(ctx, stem, v, shardVer[sh], d, ec, opts.Verify) {
			broken[sh] = true
		}
	}
	// Targets: a drive without the version gets a shard nobody holds.
	target := make([]int, total) // shard → drive to (re)write, -1 none
	for i := range target {
		target[i] = -1
	}
	var free []int
	for sh, d := range shardDrive {
		if d < 0 {
			free = append(free, sh)
		} else if broken[sh] {
			target[sh] = d
		}
	}
	for i := 0; i < n && len(free) > 0; i++ {
		if online[i] && !hasVersion(metas[i].f, v) {
			target[free[0]] = i
			free = free[1:]
		}
	}
	rewrite := false
	for _, d := range target {
		if d >= 0 {
			rewrite = true
		}
	}
	if !rewrite {
		return cnt, nil
	}
	// Rebuild each part into the target drives.
	inline := make([]*bytes.Buffer, total)
	tmp := make([]string, total)
	defer func() {
		for sh, p := range tmp {
			if p != "" {
				s.drives[target[sh]].Delete(context.WithoutCancel(ctx), p, false)
			}
		}
	}()
	readable := func(sh int) bool { return shardDrive[sh] >= 0 && !broken[sh] && target[sh] < 0 }
	for _, p := range v.Parts {
		writers := make([]io.Writer, total)
		closers := make([]io.Closer, total)
		files := make([]io.WriteCloser, total)
		for sh, d := range target {
			if d < 0 {
				continue
			}
			var w io.Writer
			if v.DataDir == ([16]byte{}) { // inline versions have no data directory
				inline[sh] = &bytes.Buffer{}
				w = inline[sh]
			} else {
				tmp[sh] = tmpPath()
				f, err := s.drives[d].Create(ctx, tmp[sh])
				if err != nil {
					target[sh] = -1
					tmp[sh] = ""
					continue
				}
				files[sh], w = f, f
			}
			bw := bitrot.NewWriter(w, alg, sbs)
			writers[sh], closers[sh] = bw, bw
		}
		o := &object{s: s, stem: stem, v: *v}
		openAll := o.opener(ec, shardDrive, shardVer, p)
		open := func(sh int, block int64) (io.ReadCloser, error) {
			if !readable(sh) {
				return nil, fmt.Errorf("shard %d: being rebuilt", sh)
			}
			return openAll(sh, block)
		}
		if _, err := ec.Heal(ctx, writers, open, p.Size); err != nil {
			for _, f := range files {
				if f != nil {
					f.Close()
				}
			}
			return cnt, err
		}
		for sh := range closers {
			if closers[sh] == nil {
				continue
			}
			err := closers[sh].Close()
			if files[sh] != nil {
				if cerr := files[sh].Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return cnt, err
			}
		}
		if len(v.Parts) > 1 || !v.DataFile {
			// Multipart data directories: move each part into place now.
			for sh, d := range target {
				if d < 0 || tmp[sh] == "" {
					continue
				}
				dst := dataDirPath(stem, v.DataDir) + "/part." + itoa(p.Number)
				if err := s.drives[d].Rename(ctx, tmp[sh], dst); err != nil {
					return cnt, err
				}
				tmp[sh] = ""
			}
		}
	}
	// Make the data durable, move single data files into place, then record the
	// version in each target drive's metadata.
	for sh, d := range target {
		if d < 0 {
			continue
		}
		if tmp[sh] != "" {
			if err := s.drives[d].Rename(ctx, tmp[sh], dataDirPath(stem, v.DataDir)); err != nil {
				return cnt, err
			}
			tmp[sh] = ""
		}
		if err := s.drives[d].Sync(ctx); err != nil {
			return cnt, err
		}
		dv := *v
		dv.Erasure.Index = sh
		dv.Inline = nil
		if inline[sh] != nil {
			dv.Inline = append(make([]byte, 0, inline[sh].Len()), inline[sh].Bytes()...)
			cnt.bytes += int64(len(dv.Inline))
		} else {
			cnt.bytes += bitrot.FramedSize(alg, ec.ShardSize(v.Size), sbs)
		}
		f := own(d)
		f.Add(dv)
		cnt.shards++
	}
	return cnt, nil
}

// shardIntact checks drive d's copy of shard data for v: its data file exists
// (non-inline) and, with verify, every frame passes its bitrot check.
func (s *set) shardIntact(ctx context.Context, stem string, v, dv *meta.Version, d int, ec interface {
	ShardSize(int64) int64
	ShardBlockSize() int
}, verify bool) bool {
	alg := bitrot.Algorithm(v.Erasure.BitrotAlgorithm)
	sbs := ec.ShardBlockSize()
	if dv.IsInline() || v.DataDir == ([16]byte{}) {
		if !verify {
			return true
		}
		return bitrot.Verify(bytes.NewReader(dv.Inline), alg, sbs, ec.ShardSize(v.Size)) == nil
	}
	for _, p := range v.Parts {
		path := dataDirPath(stem, v.DataDir)
		if !v.DataFile {
			path += "/part." + itoa(p.Number)
		}
		size := ec.ShardSize(p.Size)
		if !verify {
			rc, err := s.drives[d].Open(ctx, path, 0, 0)
			if err != nil {
				return !errors.Is(err, drive.ErrNotFound) || errors.Is(err, drive.ErrOffline)
			}
			rc.Close()
			continue
		}
		rc, err := s.drives[d].Open(ctx, path, 0, bitrot.FramedSize(alg, size, sbs))
		if err != nil {
			return false
		}
		err = bitrot.Verify(rc, alg, sbs, size)
		rc.Close()
		if err != nil {
			return false
		}
	}
	return true
}
