package objects

import (
	"bytes"
	"context"
	"errors"
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
		raw, err := l.readBucketConfigRaw(ctx, b.Name)
		if err != nil {
			continue
		}
		for _, s := range l.allSets() {
			parallel(len(s.drives), func(i int) {
				d := s.drives[i]
				cur, err := d.ReadFile(ctx, bucketConfigPath(b.Name))
				if err == nil && bytes.Equal(cur, raw) {
					return
				}
				if err != nil && !errors.Is(err, drive.ErrNotFound) {
					return // offline or failing: nothing to do now
				}
				makeBucketDir(ctx, d, b.Name)
				if d.WriteFile(ctx, bucketConfigPath(b.Name), raw) == nil {
					d.Sync(ctx)
					l.log.Info("healed bucket configuration", "bucket", b.Name, "drive", d.String())
				}
			})
		}
	}
	// Cluster configuration documents: the union of names on the first set's drives.
	names := map[string]bool{}
	for _, d := range l.firstSet().drives {
		walkConfig(ctx, d, "", names)
	}
	for name := range names {
		raw, err := l.ReadConfig(ctx, name)
		if err != nil {
			continue // not held by a quorum: a leftover, left alone
		}
		p, _ := configPath(name)
		for _, s := range l.allSets() {
			parallel(len(s.drives), func(i int) {
				cur, err := s.drives[i].ReadFile(ctx, p)
				if (err == nil && bytes.Equal(cur, raw)) || (err != nil && !errors.Is(err, drive.ErrNotFound)) {
					return
				}
				if s.drives[i].WriteFile(ctx, p, raw) == nil {
					s.drives[i].Sync(ctx)
				}
			})
		}
	}
	return nil
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
