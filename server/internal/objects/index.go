package objects

import (
	"context"
	"errors"
	"strings"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

var _ iterator = (*indexWalker)(nil)

// Listing from the drives' metadata indexes. A local drive opened with
// MetaIndex keeps, per bucket, an ordered index of its object metadata files
// (drive/index.go): the key and the metadata without inline data. ListObjects and
// ListObjectVersions read it a page at a time (Drive.Scan: one sequential read,
// one round trip for a remote drive) instead of opening one metadata file per key
// per drive; the set merge and the quorum rule are the same as for the walk. A
// drive without a usable index (none kept, or being rebuilt after a crash) is
// walked as before. A listing reads a read quorum's indexes, one drive sending
// its values and the others digests of theirs (quorumWalk); the scanner reads every
// drive's index, to find the drives that miss a change; decommission walks the
// files: it moves the objects and needs the full metadata.

// indexVersion names what indexValue keeps; change it with indexValue.
const indexVersion = "meta-noinline-noshard-1"

// indexPage is how many keys one Scan asks a drive for, unless the walk says
// (a listing asks for its page and the two keys after it: what it reads).
const indexPage = 1000

// MetaIndex is the IndexConfig that makes a local drive index this layer's
// object metadata files.
func MetaIndex() drive.IndexConfig {
	return drive.IndexConfig{Key: metaKey, DirKey: metaDirKey, Value: indexValue, Version: indexVersion, SkipDir: func(name string) bool {
		return strings.Contains(name, dataDirInfix)
	}}
}

// metaKey maps "bucket/a/b%m" to ("bucket", "a/b"); it inverts objectStem.
func metaKey(p string) (string, string, bool) {
	stem, ok := strings.CutSuffix(p, metaSuffix)
	if !ok || strings.HasPrefix(p, ".") {
		return "", "", false
	}
	bucket, rest, ok := strings.Cut(stem, "/")
	if !ok || bucket == "" {
		return "", "", false
	}
	key, ok := unescapePath(rest)
	return bucket, key, ok
}

// metaDirKey maps the directory "bucket/a/b" to "a/b/", the prefix of the keys
// whose metadata files are beneath it.
func metaDirKey(p string) (string, bool) {
	bucket, rest, ok := strings.Cut(p, "/")
	if !ok || bucket == "" || strings.HasPrefix(p, ".") {
		return "", false
	}
	prefix, ok := unescapePath(rest)
	return prefix + "/", ok
}

// unescapePath unescapes every segment of an escaped path below a bucket.
func unescapePath(rest string) (string, bool) {
	if !strings.Contains(rest, "%") {
		return rest, true
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		var ok bool
		if segs[i], ok = unescapeSegment(s); !ok {
			return "", false
		}
	}
	return strings.Join(segs, "/"), true
}

// indexValue is a metadata file without inline data (versions stay marked
// inline) and without the drive's shard number: what listings need, a fraction
// of the size, and the same bytes on every drive of the set.
func indexValue(raw []byte) []byte {
	f, err := meta.Unmarshal(raw)
	if err != nil {
		return raw // kept as is: a listing rejects it like the file itself
	}
	for i := range f.Versions {
		if len(f.Versions[i].Inline) > 0 {
			f.Versions[i].Inline = []byte{}
		}
		// Which shard this drive holds is all that tells the drives' copies
		// apart: without it, identical copies decode once per key.
		f.Versions[i].Erasure.Index = 0
	}
	return f.Marshal()
}

// indexWalker reads one drive's index of a bucket in key order, from prefix and
// the resume point on; it falls back to walking the drive when the drive has no
// usable index.
type indexWalker struct {
	ctx       context.Context
	d         drive.Drive
	bucket    string
	prefix    string
	after     string
	inclusive bool
	page      []drive.IndexEntry
	next_     string // from of the next Scan
	end       bool
	e         error
	walk      *driveWalker     // fallback
	batch     int              // keys per Scan
	digest    *drive.DigestKey // entries carry the values' digests under it (drive.ScanQuery)
}

// newIndexWalker returns a walker that asks d for batch keys per Scan, with
// their values or, with a digest key, the values' digests. A drive without a
// usable index is walked instead (values only).
func newIndexWalker(ctx context.Context, d drive.Drive, bucket, prefix, from string, inclusive bool, batch int, digest *drive.DigestKey) iterator {
	if w := openIndexWalker(ctx, d, bucket, prefix, from, inclusive, batch, digest); w != nil {
		return w
	}
	return newDriveWalker(ctx, d, bucket, prefix, from, inclusive)
}

// openIndexWalker is newIndexWalker without the fallback: nil when d keeps no
// usable index.
func openIndexWalker(ctx context.Context, d drive.Drive, bucket, prefix, from string, inclusive bool, batch int, digest *drive.DigestKey) *indexWalker {
	w := &indexWalker{ctx: ctx, d: d, bucket: bucket, prefix: prefix, after: from, inclusive: inclusive, batch: batch, digest: digest}
	w.next_ = w.start()
	if err := w.fill(); errors.Is(err, drive.ErrNoIndex) {
		return nil
	}
	return w
}

// start is the first key the walker may return.
func (w *indexWalker) start() string {
	from := w.prefix
	if w.after != "" {
		a := w.after
		if !w.inclusive {
			a += "\x00"
		}
		if a > from {
			from = a
		}
	}
	return from
}

func (w *indexWalker) fill() error {
	for len(w.page) == 0 && !w.end && w.e == nil {
		p, err := w.d.Scan(w.ctx, w.bucket, drive.ScanQuery{From: w.next_, Limit: w.batch, Digest: w.digest})
		if err != nil {
			if errors.Is(err, drive.ErrNoIndex) {
				return err
			}
			if !errors.Is(err, drive.ErrNotFound) || errors.Is(err, drive.ErrOffline) {
				w.e = err
			}
			w.end = true
			return nil
		}
		w.page, w.next_, w.end = p.Entries, p.Next, p.End
		if len(w.page) > 0 && !strings.HasPrefix(w.page[len(w.page)-1].Key, w.prefix) {
			w.end = true // the rest of the bucket sorts after the prefix
		}
	}
	return nil
}

func (w *indexWalker) err() error { return w.e }

func (w *indexWalker) seek(after string) {
	if after <= w.after {
		return
	}
	w.after, w.inclusive = after, false
	for len(w.page) > 0 && w.page[0].Key <= after {
		w.page = w.page[1:]
	}
	if len(w.page) == 0 && !w.end {
		if s := after + "\x00"; s > w.next_ {
			w.next_ = s
		}
	}
}

func (w *indexWalker) next() (entry, bool) {
	for {
		if len(w.page) == 0 {
			if w.fill() != nil || len(w.page) == 0 {
				return entry{}, false
			}
		}
		e := w.page[0]
		w.page = w.page[1:]
		if !strings.HasPrefix(e.Key, w.prefix) {
			if e.Key > w.prefix {
				w.page, w.end = nil, true
				return entry{}, false
			}
			continue
		}
		if e.Key < w.after || (e.Key == w.after && !w.inclusive) {
			continue
		}
		return entry{key: e.Key, raw: e.Value}, true // decoded by the set's merge
	}
}
