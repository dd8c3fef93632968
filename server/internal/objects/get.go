package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/erasure"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// StatObject returns a version's information without opening its data.
func (l *Layer) StatObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, error) {
	o, err := l.open(ctx, bucket, key, opts, false)
	if err != nil {
		return ObjectInfo{}, err
	}
	return o.info, nil
}

// OpenObject opens a version for reading. The returned Object holds the object's
// read lock until Close, so a concurrent overwrite cannot remove data being streamed.
func (l *Layer) OpenObject(ctx context.Context, bucket, key string, opts GetOptions) (Object, error) {
	return l.open(ctx, bucket, key, opts, true)
}

func (l *Layer) open(ctx context.Context, bucket, key string, opts GetOptions, lock bool) (*object, error) {
	if err := checkObjectName(key); err != nil {
		return nil, err
	}
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return nil, err
	}
	id, err := parseVersionID(opts.VersionID)
	if err != nil {
		return nil, err
	}
	s := l.readSet(ctx, bucket, key)
	unlock := func() {}
	if lock {
		if unlock, err = l.locks.RLock(ctx, bucket+"/"+key); err != nil {
			return nil, err
		}
	}
	stem := objectStem(bucket, key)
	metas := s.readMetas(ctx, stem)
	cur, err := s.resolve(metas)
	if err != nil {
		unlock()
		return nil, err
	}
	v, err := selectVersion(cur, id, opts.VersionID != "")
	if err != nil {
		unlock()
		var me *MarkerError
		if errors.As(err, &me) {
			me.Info = versionInfo(bucket, key, v, v == cur.Latest(), cfg.Versioning)
		}
		return nil, err
	}
	o := &object{
		s: s, stem: stem, metas: metas, v: *v, unlock: unlock,
		info: versionInfo(bucket, key, v, v == cur.Latest(), cfg.Versioning),
	}
	if !lock {
		o.metas = nil
	}
	return o, nil
}

// selectVersion picks the latest version or the one with id.
func selectVersion(cur *meta.File, id meta.VersionID, byID bool) (*meta.Version, error) {
	var v *meta.Version
	if byID {
		if v = cur.Find(id); v == nil {
			return nil, ErrVersionNotFound
		}
	} else if v = cur.Latest(); v == nil {
		return nil, ErrObjectNotFound
	}
	if v.Kind == meta.KindDeleteMarker {
		return v, &MarkerError{}
	}
	return v, nil
}

type object struct {
	s      *set
	stem   string
	metas  []driveMeta
	v      meta.Version
	info   ObjectInfo
	unlock func()
	// prepared is a remote range opened by Prepare (transitioned versions).
	prepared *preparedRange
}

var _ Object = (*object)(nil)

func (o *object) Info() ObjectInfo { return o.info }

func (o *object) Close() error {
	o.closePrepared()
	o.unlock()
	return nil
}

// WriteRange streams bytes [offset, offset+length) to w, part by part,
// reconstructing missing or corrupt shards on the fly; for a transitioned
// version without a restored copy, from its tier (only that range).
func (o *object) WriteRange(ctx context.Context, w io.Writer, offset, length int64) error {
	if offset < 0 || length < 0 || offset+length > o.v.Size {
		return fmt.Errorf("objects: range %d+%d outside object of %d bytes", offset, length, o.v.Size)
	}
	if length == 0 {
		return nil
	}
	if !o.v.HasLocalData() {
		return o.readRemote(ctx, w, offset, length) // transitioned: the data is in a tier
	}
	ec, err := o.s.coder(o.v.Erasure)
	if err != nil {
		return err
	}
	shardDrive, shardVer := o.s.holders(o.metas, &o.v)
	var partStart int64
	for _, p := range o.v.Parts {
		partEnd := partStart + p.Size
		if partEnd <= offset || p.Size == 0 {
			partStart = partEnd
			continue
		}
		if partStart >= offset+length {
			break
		}
		from := max(offset, partStart) - partStart
		to := min(offset+length, partEnd) - partStart
		open := o.opener(ec, shardDrive, shardVer, p)
		res, err := ec.Decode(ctx, w, open, p.Size, from, to-from)
		o.s.l.stats.reconstructed.Add(int64(len(res.Failed)))
		o.s.l.stats.corrupt.Add(int64(len(res.Corrupt)))
		if len(res.Failed) > 0 {
			o.s.l.log.Warn("read reconstructed shards", "object", o.stem, "failed", res.Failed, "corrupt", res.Corrupt)
			o.s.l.queueHeal(o.info.Bucket, o.info.Key)
		}
		if err != nil {
			if errors.Is(err, erasure.ErrReadQuorum) {
				return fmt.Errorf("%w: %w", ErrReadQuorum, err)
			}
			return ctxErr(ctx, err)
		}
		partStart = partEnd
	}
	return nil
}

// opener returns the shard opener for one part of the object.
func (o *object) opener(ec *erasure.Erasure, shardDrive []int, shardVer []*meta.Version, p meta.Part) erasure.ShardOpener {
	alg := bitrot.Algorithm(o.v.Erasure.BitrotAlgorithm)
	sbs := ec.ShardBlockSize()
	return func(shard int, firstBlock int64) (io.ReadCloser, error) {
		d := shardDrive[shard]
		if d < 0 {
			return nil, fmt.Errorf("shard %d: no drive holds it", shard)
		}
		remaining := ec.ShardSizeFrom(p.Size, firstBlock)
		off := bitrot.FrameOffset(alg, firstBlock, sbs)
		if dv := shardVer[shard]; dv.IsInline() {
			if off > int64(len(dv.Inline)) {
				return nil, fmt.Errorf("shard %d: inline data short: %w", shard, bitrot.ErrCorrupt)
			}
			return io.NopCloser(bitrot.NewReader(bytes.NewReader(dv.Inline[off:]), alg, sbs, remaining)), nil
		}
		path := dataDirPath(o.stem, o.v.DataDir)
		if !o.v.DataFile {
			path += "/part." + itoa(p.Number)
		}
		rc, err := o.s.drives[d].Open(context.Background(), path, off, bitrot.FramedSize(alg, remaining, sbs))
		if err != nil {
			return nil, err
		}
		return readCloser{bitrot.NewReader(rc, alg, sbs, remaining), rc}, nil
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// coder returns the erasure coder for a version's recorded layout: the set's own when
// it matches, a new one otherwise (parity may have changed since it was written).
func (s *set) coder(e meta.Erasure) (*erasure.Erasure, error) {
	if e.Data == s.data && e.Parity == s.parity && e.BlockSize == s.ec.BlockSize() {
		return s.ec, nil
	}
	return erasure.New(e.Data, e.Parity, e.BlockSize)
}
