package server

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/cairn-io/cairn/server/internal/kms"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// After a KMS key rotation, every object whose data key that key sealed is re-sealed
// under the key's new version, in the background: only the small sealed key in each
// version's metadata changes, never the data (DESIGN.md: no re-encryption).

// rotatingManager is the KMS key manager the admin API gets: RotateKey also starts
// the re-wrap of the stored object keys.
type rotatingManager struct {
	kms.Manager
	s *Server
}

// RewrapStatus reports the last re-wrap after a rotation.
type RewrapStatus struct {
	Key                         string
	Running                     bool
	Versions, Rewrapped, Failed int64
}

type rewrapState struct {
	key                         atomic.Pointer[string]
	running                     atomic.Bool
	versions, rewrapped, failed atomic.Int64
}

// RotateKey rotates name, then re-wraps the object keys it sealed.
func (m rotatingManager) RotateKey(ctx context.Context, name string) (kms.KeyInfo, error) {
	r, ok := m.Manager.(kms.Rotator)
	if !ok {
		return kms.KeyInfo{}, kms.ErrNotSupported
	}
	info, err := r.RotateKey(ctx, name)
	if err != nil {
		return info, err
	}
	go m.s.rewrap(context.WithoutCancel(ctx), name)
	return info, nil
}

// Rewrap reports the re-wrap after the last key rotation.
func (s *Server) Rewrap() RewrapStatus {
	st := RewrapStatus{Running: s.rewrapState.running.Load(), Versions: s.rewrapState.versions.Load(),
		Rewrapped: s.rewrapState.rewrapped.Load(), Failed: s.rewrapState.failed.Load()}
	if k := s.rewrapState.key.Load(); k != nil {
		st.Key = *k
	}
	return st
}

func (s *Server) rewrap(ctx context.Context, key string) {
	st := &s.rewrapState
	if !st.running.CompareAndSwap(false, true) {
		s.cfg.Logger.Warn("re-wrap already running; the new rotation is covered when the next one runs", "key", key)
		return
	}
	defer st.running.Store(false)
	st.key.Store(&key)
	st.versions.Store(0)
	st.rewrapped.Store(0)
	st.failed.Store(0)
	buckets, err := s.layer.ListBuckets(ctx)
	if err != nil {
		s.cfg.Logger.Error("re-wrap after key rotation", "key", key, "err", err)
		return
	}
	for _, b := range buckets {
		opts := objects.ListOptions{}
		for {
			page, err := s.layer.ListObjectVersions(ctx, b.Name, opts)
			if err != nil {
				s.cfg.Logger.Error("re-wrap: listing", "bucket", b.Name, "err", err)
				break
			}
			for _, o := range page.Objects {
				if o.DeleteMarker || !sealedBy(o.Internal, key) {
					continue
				}
				st.versions.Add(1)
				err := s.layer.UpdateInternal(ctx, o.Bucket, o.Key, o.VersionID, func(md map[string]string) (map[string]string, bool, error) {
					return s.sse.Rewrap(ctx, md, o.Bucket, o.Key)
				})
				if err != nil {
					st.failed.Add(1)
					s.cfg.Logger.Warn("re-wrap", "bucket", o.Bucket, "key", o.Key, "version", o.VersionID, "err", err)
					continue
				}
				st.rewrapped.Add(1)
			}
			if !page.IsTruncated {
				break
			}
			opts.Marker, opts.VersionMarker = page.NextMarker, page.NextVersionMarker
		}
	}
	s.cfg.Logger.Info("re-wrap after key rotation done", "key", key, "versions", st.versions.Load(), "rewrapped", st.rewrapped.Load(), "failed", st.failed.Load())
}

// sealedBy reports whether the object's data key was sealed by key (any version).
func sealedBy(internal map[string]string, key string) bool {
	info := sse.Describe(internal)
	if info.Kind != sse.S3 && info.Kind != sse.KMS {
		return false
	}
	id := info.KeyID
	return id == key || strings.HasPrefix(id, key+"/") || strings.HasPrefix(id, key+":") || strings.HasPrefix(id, key+"#")
}
