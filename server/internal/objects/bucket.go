package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// Buckets: a bucket is a directory named after it on every drive of every set, plus
// its configuration file (.cairn/buckets/<name>.json) on every drive. Configuration
// is read with a read quorum from the first set and cached; every change goes to all
// drives and needs a write quorum in every set.

const bucketConfigDir = ".cairn/buckets"

type bucketCache struct {
	mu  sync.Mutex
	m   map[string]BucketConfig
	at  map[string]time.Time // when each entry was read (with ttl)
	gen map[string]uint64    // bumped by every change: a read that raced one is not cached
	ttl time.Duration
}

// invalidate drops bucket's cached configuration and makes reads in flight
// (started before the change) not cache what they read.
func (c *bucketCache) invalidate(bucket string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[bucket]++
	delete(c.m, bucket)
}

func bucketConfigPath(name string) string { return bucketConfigDir + "/" + name + ".json" }

// MakeBucket creates a bucket with configuration cfg.
func (l *Layer) MakeBucket(ctx context.Context, bucket string, cfg BucketConfig) error {
	if err := CheckBucketName(bucket); err != nil {
		return err
	}
	unlock, err := l.lockWrite(ctx, "\x00bucket/"+bucket)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := l.readBucketConfig(ctx, bucket); err == nil {
		return ErrBucketExists
	} else if !errors.Is(err, ErrBucketNotFound) {
		return err
	}
	if cfg.Created.IsZero() {
		cfg.Created = l.now().UTC()
	}
	return l.writeBucketConfig(ctx, bucket, cfg, true)
}

func (l *Layer) writeBucketConfig(ctx context.Context, bucket string, cfg BucketConfig, create bool) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	l.bucket.invalidate(bucket)
	defer l.bucket.invalidate(bucket) // after the drives changed too: no reader caches the old one
	return l.onEveryDrive(ctx, "bucket "+bucket+" written", func(d drive.Drive) error {
		if create {
			if err := makeBucketDir(ctx, d, bucket); err != nil {
				return err
			}
		}
		return d.WriteFile(ctx, bucketConfigPath(bucket), data)
	})
}

// onEveryDrive runs fn on every drive of every set (concurrently within a set),
// makes each drive's changes durable, and requires a write quorum in every set;
// what names the change for the error.
func (l *Layer) onEveryDrive(ctx context.Context, what string, fn func(d drive.Drive) error) error {
	return l.eachSet(func(s *set) error {
		ok := make([]bool, len(s.drives))
		parallel(len(s.drives), func(i int) {
			if fn(s.drives[i]) == nil {
				ok[i] = s.drives[i].Sync(ctx) == nil
			}
		})
		if count(ok) < s.writeQuorum() {
			return fmt.Errorf("%w: %s on %d of %d drives", ErrWriteQuorum, what, count(ok), len(s.drives))
		}
		return nil
	})
}

// makeBucketDir creates a bucket's directory on d (a marker file's parent).
func makeBucketDir(ctx context.Context, d drive.Drive, bucket string) error {
	if err := d.WriteFile(ctx, bucket+"/.bucket", nil); err != nil {
		return err
	}
	return d.Delete(ctx, bucket+"/.bucket", false)
}

func (l *Layer) eachSet(fn func(s *set) error) error {
	var errs []error
	for _, s := range l.allSets() {
		if err := fn(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// BucketConfig returns a bucket's configuration (ErrBucketNotFound if none).
func (l *Layer) BucketConfig(ctx context.Context, bucket string) (BucketConfig, error) {
	l.bucket.mu.Lock()
	cfg, ok := l.bucket.m[bucket]
	if ok && l.bucket.ttl > 0 && time.Since(l.bucket.at[bucket]) > l.bucket.ttl {
		ok = false
	}
	gen := l.bucket.gen[bucket]
	l.bucket.mu.Unlock()
	if ok {
		return cfg, nil
	}
	if CheckBucketName(bucket) != nil {
		return BucketConfig{}, ErrBucketNotFound
	}
	cfg, err := l.readBucketConfig(ctx, bucket)
	if err != nil {
		return BucketConfig{}, err
	}
	l.bucket.mu.Lock()
	defer l.bucket.mu.Unlock()
	if l.bucket.gen[bucket] != gen {
		return cfg, nil // changed while we read: correct for this caller, not cached
	}
	l.bucket.m[bucket] = cfg
	if l.bucket.ttl > 0 {
		if l.bucket.at == nil {
			l.bucket.at = map[string]time.Time{}
		}
		l.bucket.at[bucket] = time.Now()
	}
	return cfg, nil
}

func (l *Layer) readBucketConfig(ctx context.Context, bucket string) (BucketConfig, error) {
	best, err := l.readBucketConfigRaw(ctx, bucket)
	if err != nil {
		return BucketConfig{}, err
	}
	var cfg BucketConfig
	if err := json.Unmarshal(best, &cfg); err != nil {
		return BucketConfig{}, fmt.Errorf("objects: bucket %s configuration: %w", bucket, err)
	}
	return cfg, nil
}

// readBucketConfigRaw returns the configuration file the read quorum agrees on.
func (l *Layer) readBucketConfigRaw(ctx context.Context, bucket string) ([]byte, error) {
	s := l.firstSet()
	raws := make([][]byte, len(s.drives))
	found := make([]bool, len(s.drives))
	responded := 0
	var mu sync.Mutex
	parallel(len(s.drives), func(i int) {
		b, err := s.drives[i].ReadFile(ctx, bucketConfigPath(bucket))
		mu.Lock()
		defer mu.Unlock()
		if err == nil || errors.Is(err, drive.ErrNotFound) {
			responded++
		}
		if err == nil {
			raws[i], found[i] = b, true
		}
	})
	if responded < s.readQuorum() {
		return nil, ErrReadQuorum
	}
	// Pick the most common content among the drives that have it.
	votes := map[string]int{}
	best, bestN := "", 0
	for i, ok := range found {
		if !ok {
			continue
		}
		votes[string(raws[i])]++
		if n := votes[string(raws[i])]; n > bestN {
			best, bestN = string(raws[i]), n
		}
	}
	if count(found) < s.readQuorum() {
		return nil, ErrBucketNotFound
	}
	return []byte(best), nil
}

// UpdateBucketConfig applies update to the bucket's configuration atomically.
func (l *Layer) UpdateBucketConfig(ctx context.Context, bucket string, update func(*BucketConfig) error) error {
	unlock, err := l.lockWrite(ctx, "\x00bucket/"+bucket)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := l.readBucketConfig(ctx, bucket)
	if err != nil {
		return err
	}
	if err := update(&cfg); err != nil {
		return err
	}
	return l.writeBucketConfig(ctx, bucket, cfg, false)
}

// HeadBucket reports whether the bucket exists.
func (l *Layer) HeadBucket(ctx context.Context, bucket string) (BucketInfo, error) {
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return BucketInfo{}, err
	}
	return BucketInfo{Name: bucket, Created: cfg.Created}, nil
}

// ListBuckets lists all buckets, sorted by name.
func (l *Layer) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	names, err := l.firstSet().listQuorum(ctx, bucketConfigDir, func(n string) (string, bool) { return strings.CutSuffix(n, ".json") })
	if err != nil {
		return nil, err
	}
	var out []BucketInfo
	for _, name := range names {
		if info, err := l.HeadBucket(ctx, name); err == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// DeleteBucket removes an empty bucket: no objects, versions or delete markers.
// Multipart uploads in progress are discarded with it.
func (l *Layer) DeleteBucket(ctx context.Context, bucket string) error {
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return err
	}
	unlock, err := l.lockWrite(ctx, "\x00bucket/"+bucket)
	if err != nil {
		return err
	}
	defer unlock()
	res, err := l.ListObjectVersions(ctx, bucket, ListOptions{MaxKeys: 1})
	if err != nil {
		return err
	}
	if len(res.Objects) > 0 || len(res.Prefixes) > 0 {
		return ErrBucketNotEmpty
	}
	l.bucket.invalidate(bucket)
	defer l.bucket.invalidate(bucket)
	return l.onEveryDrive(ctx, "bucket "+bucket+" removed", func(d drive.Drive) error {
		if err := d.Delete(ctx, bucketConfigPath(bucket), false); err != nil {
			return err
		}
		d.Delete(ctx, multipartBucketDir(bucket), true)
		return d.Delete(ctx, bucket, true)
	})
}
