package objects

import (
	"context"
	"maps"
	"strings"

	"github.com/cairn-io/cairn/server/internal/meta"
)

// DeleteObject removes a version (opts.VersionID set) or, without a version id,
// deletes the object as S3 does for the bucket's versioning state: unversioned
// buckets remove the null version, versioned buckets add a delete marker, suspended
// buckets replace the null version with a null delete marker.
func (l *Layer) DeleteObject(ctx context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error) {
	if err := checkObjectName(key); err != nil {
		return DeleteResult{}, err
	}
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return DeleteResult{}, err
	}
	id, err := parseVersionID(opts.VersionID)
	if err != nil {
		return DeleteResult{}, err
	}
	s := l.readSet(ctx, bucket, key)
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return DeleteResult{}, asWriteQuorum(err)
	}
	defer unlock()
	if opts.Conditions.IfMatch != "" {
		if err := checkConditions(cur, Conditions{IfMatch: opts.Conditions.IfMatch}); err != nil {
			return DeleteResult{}, err
		}
	}
	var res DeleteResult
	var apply func(i int, f *meta.File) []string
	switch {
	case opts.VersionID != "":
		v := cur.Find(id)
		if v == nil {
			return DeleteResult{VersionID: opts.VersionID}, nil // S3: deleting a missing version succeeds
		}
		res = DeleteResult{VersionID: opts.VersionID, DeleteMarker: v.Kind == meta.KindDeleteMarker}
		apply = func(i int, f *meta.File) []string { return replacedGarbage(stem, f.Remove(id)) }
	case cfg.Versioning == VersioningUnset:
		if cur.Find(meta.VersionID{}) == nil {
			return DeleteResult{}, nil
		}
		apply = func(i int, f *meta.File) []string { return replacedGarbage(stem, f.Remove(meta.VersionID{})) }
	default:
		dm := meta.Version{Kind: meta.KindDeleteMarker, ModTime: l.now().UTC()}
		if latest := cur.Latest(); latest != nil && !dm.ModTime.After(latest.ModTime) {
			dm.ModTime = latest.ModTime.Add(1)
		}
		if cfg.Versioning == VersioningEnabled {
			dm.ID = newID()
		}
		res = DeleteResult{VersionID: versionInfo(bucket, key, &dm, true, cfg.Versioning).VersionID, DeleteMarker: true}
		apply = func(i int, f *meta.File) []string { return replacedGarbage(stem, f.Add(dm)) }
	}
	if err := s.run(ctx, commit{bucket: bucket, key: key, stem: stem, metas: metas, apply: apply}); err != nil {
		return DeleteResult{}, err
	}
	return res, nil
}

// PutObjectTags replaces the tag set of a version (latest when versionID is "").
func (l *Layer) PutObjectTags(ctx context.Context, bucket, key, versionID, tags string) (ObjectInfo, error) {
	if err := checkObjectName(key); err != nil {
		return ObjectInfo{}, err
	}
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	s := l.readSet(ctx, bucket, key)
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer unlock()
	v, err := selectVersion(cur, id, versionID != "")
	if err != nil {
		if _, ok := err.(*MarkerError); ok {
			return ObjectInfo{}, ErrMethodNotAllowed
		}
		return ObjectInfo{}, err
	}
	k := keyOf(v)
	err = s.run(ctx, commit{bucket: bucket, key: key, stem: stem, metas: metas, apply: func(i int, f *meta.File) []string {
		for j := range f.Versions {
			if keyOf(&f.Versions[j]) == k {
				f.Versions[j].Tags = tags
			}
		}
		return nil
	}})
	if err != nil {
		return ObjectInfo{}, err
	}
	v.Tags = tags
	return versionInfo(bucket, key, v, v == cur.Latest(), cfg.Versioning), nil
}

// UpdateInternal changes the internal metadata of one version (latest when
// versionID is ""): fn gets a copy and returns the new map and whether it changed.
// The data is not touched (re-wrapping an object's sealed key after a KMS key
// rotation).
func (l *Layer) UpdateInternal(ctx context.Context, bucket, key, versionID string, fn func(internal map[string]string) (map[string]string, bool, error)) error {
	if err := checkObjectName(key); err != nil {
		return err
	}
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return err
	}
	s := l.readSet(ctx, bucket, key)
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return asWriteQuorum(err)
	}
	defer unlock()
	v, err := selectVersion(cur, id, versionID != "")
	if err != nil {
		return err
	}
	oi := versionInfo(bucket, key, v, false, VersioningUnset)
	internal, changed, err := fn(maps.Clone(oi.Internal))
	if err != nil || !changed {
		return err
	}
	k := keyOf(v)
	return s.run(ctx, commit{bucket: bucket, key: key, stem: stem, metas: metas, apply: func(i int, f *meta.File) []string {
		for j := range f.Versions {
			if keyOf(&f.Versions[j]) != k {
				continue
			}
			m := make(map[string]string, len(f.Versions[j].Meta))
			for name, val := range f.Versions[j].Meta {
				if !strings.HasPrefix(name, internalPrefix) || name == internalPrefix+"Actual-Size" {
					m[name] = val
				}
			}
			for name, val := range internal {
				m[internalPrefix+name] = val
			}
			f.Versions[j].Meta = m
		}
		return nil
	}})
}
