package objects

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// healConfig brings bucket directories, bucket configuration and cluster
// configuration documents back onto drives that lack them or hold a stale copy
// (a replaced drive, a drive that was offline during a change). The scanner runs
// it at the start of every cycle, before the objects, so a rebuilt drive serves
// bucket lookups again.
func (l *Layer) healConfig(ctx context.Context) error {
	buckets, err := l.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range buckets {
		l.healConfigDoc(ctx, "\x00bucket/"+b.Name, bucketConfigPath(b.Name), b.Name, func() ([]byte, error) {
			return l.readBucketConfigRaw(ctx, b.Name)
		})
	}
	// Cluster configuration documents: the union of names on the first set's drives.
	names := map[string]bool{}
	for _, d := range l.firstSet().drives {
		walkConfig(ctx, d, "", names)
	}
	for name := range names {
		p, _ := configPath(name)
		l.healConfigDoc(ctx, configLock(name), p, "", func() ([]byte, error) { return l.ReadConfig(ctx, name) })
	}
	return nil
}

// healConfigDoc copies the quorum's content of one document (read) to the drives
// of every set that lack it or hold another. It writes only under the lock the
// document's writers take, after reading the content again: a heal racing a
// write must not put the old content back on drives the write already reached
// (with a majority of them, the write would be lost).
func (l *Layer) healConfigDoc(ctx context.Context, lock, p, bucket string, read func() ([]byte, error)) {
	raw, err := read()
	if err != nil || !l.configDiffers(ctx, p, raw) {
		return // not held by a quorum (a leftover, left alone), or nothing to heal
	}
	unlock, err := l.lockWrite(ctx, lock)
	if err != nil {
		return
	}
	defer unlock()
	if raw, err = read(); err != nil {
		return
	}
	for _, s := range l.allSets() {
		parallel(len(s.drives), func(i int) {
			d := s.drives[i]
			cur, err := d.ReadFile(ctx, p)
			if (err == nil && bytes.Equal(cur, raw)) || (err != nil && !errors.Is(err, drive.ErrNotFound)) {
				return // the same, or offline or failing: nothing to do now
			}
			if bucket != "" {
				makeBucketDir(ctx, d, bucket)
			}
			if d.WriteFile(ctx, p, raw) == nil {
				d.Sync(ctx)
				l.log.Info("healed configuration", "path", p, "drive", d.String())
			}
		})
	}
}

// configDiffers reports whether a reachable drive lacks the document or holds
// other content.
func (l *Layer) configDiffers(ctx context.Context, p string, raw []byte) bool {
	for _, s := range l.allSets() {
		differs := make([]bool, len(s.drives))
		parallel(len(s.drives), func(i int) {
			cur, err := s.drives[i].ReadFile(ctx, p)
			differs[i] = (err == nil && !bytes.Equal(cur, raw)) || errors.Is(err, drive.ErrNotFound) && !errors.Is(err, drive.ErrOffline)
		})
		if slices.Contains(differs, true) {
			return true
		}
	}
	return false
}

func walkConfig(ctx context.Context, d drive.Drive, dir string, out map[string]bool) {
	p := configDir
	if dir != "" {
		p += "/" + dir
	}
	names, err := d.List(ctx, p)
	if err != nil {
		return
	}
	for _, n := range names {
		rel := n
		if dir != "" {
			rel = dir + "/" + n
		}
		if sub, ok := strings.CutSuffix(rel, "/"); ok {
			walkConfig(ctx, d, sub, out)
		} else {
			out[rel] = true
		}
	}
}
