package objects

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// Listing walks each drive's bucket directory in key order and merges the walks:
// the drives of a set into one stream whose entries carry every drive's metadata
// (resolved with the same quorum rule as reads), and the sets into one sorted stream.
//
// Key order falls out of the directory tree: inside a directory, the object whose
// last segment is s (file s%m) sorts at s and the subtree s/ at s+"/"; sorting those
// candidates per directory and descending in place yields keys in byte order,
// because a subtree's keys all share the prefix s+"/" and no sibling falls inside
// that range.

// ListObjects lists the latest versions (delete markers hidden).
func (l *Layer) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	return l.list(ctx, bucket, opts, false)
}

// ListObjectVersions lists every version and delete marker, newest first per key.
func (l *Layer) ListObjectVersions(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	return l.list(ctx, bucket, opts, true)
}

// list answers a listing request, from the read-ahead (list_ahead.go) when it
// holds the page.
func (l *Layer) list(ctx context.Context, bucket string, opts ListOptions, versions bool) (ListResult, error) {
	k := aheadKey{bucket: bucket, opts: opts, versions: versions}
	res, ok := l.takeAhead(ctx, k)
	if !ok {
		var err error
		if res, err = l.listPage(ctx, bucket, opts, versions); err != nil {
			return ListResult{}, err
		}
	}
	l.readAhead(k, res)
	return res, nil
}

// listPage lists one page.
func (l *Layer) listPage(ctx context.Context, bucket string, opts ListOptions, versions bool) (ListResult, error) {
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return ListResult{}, err
	}
	max := opts.MaxKeys
	if max <= 0 || max > 1000 {
		max = 1000
	}
	from, inclusive := opts.Marker, false
	var skipVersionsThrough string // versions listing: resume after this version of the marker key
	if versions && opts.Marker != "" && opts.VersionMarker != "" {
		inclusive, skipVersionsThrough = true, opts.VersionMarker
	}
	// Through the indexes, asking each drive for the page and two keys more —
	// the one that tells whether the page is the last, and the one the merge
	// reads ahead after it — so a page costs one Scan per drive read.
	it, err := l.merged(ctx, bucket, opts.Prefix, from, inclusive, walkHow{index: max + 2, quorum: true})
	if err != nil {
		return ListResult{}, err
	}
	var res ListResult
	n := 0
	full := func() bool { return n >= max }
	for {
		e, ok := it.next()
		if !ok {
			break
		}
		if err := ctx.Err(); err != nil {
			return ListResult{}, err
		}
		if e.file == nil || len(e.file.Versions) == 0 {
			continue
		}
		latest := e.file.Latest()
		if !versions && latest.Kind == meta.KindDeleteMarker {
			continue
		}
		if opts.Delimiter != "" {
			rest := e.key[len(opts.Prefix):]
			if i := strings.Index(rest, opts.Delimiter); i >= 0 {
				cp := opts.Prefix + rest[:i+len(opts.Delimiter)]
				if cp == opts.Marker || (opts.Marker != "" && strings.HasPrefix(opts.Marker, cp)) {
					it.seek(cp + "\xff")
					continue
				}
				if full() {
					res.IsTruncated = true
					break
				}
				res.Prefixes = append(res.Prefixes, cp)
				res.NextMarker = cp
				n++
				it.seek(cp + "\xff") // keys are UTF-8: no key under cp sorts after cp+0xFF
				continue
			}
		}
		if !versions {
			if full() {
				res.IsTruncated = true
				break
			}
			if len(res.Objects) == 64 && max > 64 {
				// A long page: room for all of it at once, rather than doubling
				// four times more (small listings allocate little).
				res.Objects = slices.Grow(res.Objects, max-64)
			}
			res.Objects = append(res.Objects, versionInfo(bucket, e.key, latest, true, cfg.Versioning))
			res.NextMarker = e.key
			n++
			continue
		}
		vs := e.file.Versions
		if skipVersionsThrough != "" && e.key == opts.Marker {
			for i := range vs {
				if versionInfo(bucket, e.key, &vs[i], false, cfg.Versioning).VersionID == skipVersionsThrough {
					vs = vs[i+1:]
					break
				}
			}
		}
		for i := range vs {
			if full() {
				res.IsTruncated = true
				break
			}
			oi := versionInfo(bucket, e.key, &vs[i], &vs[i] == latest, cfg.Versioning)
			res.Objects = append(res.Objects, oi)
			res.NextMarker, res.NextVersionMarker = e.key, oi.VersionID
			n++
		}
		if res.IsTruncated {
			break
		}
	}
	if err := it.err(); err != nil {
		return ListResult{}, err
	}
	if !res.IsTruncated {
		res.NextMarker, res.NextVersionMarker = "", ""
	}
	return res, nil
}

// entry is one key of a merged listing with its resolved version history.
type entry struct {
	key  string
	file *meta.File
	raw  []byte // a drive's encoded metadata, not decoded yet (index walks; file is nil)
	src  int    // index of the iterator it came from, inside a merge
	// consistent: every online drive of the set holds the same version history
	// (set walks only; the scanner heals keys that are not).
	consistent bool
}

// iterator yields entries in key order.
type iterator interface {
	next() (entry, bool)
	// seek skips every key ≤ after.
	seek(after string)
	err() error
}

// walkHow says how a walk reads a set's drives.
type walkHow struct {
	// index > 0 reads the drives' metadata indexes (see index.go), index keys
	// per Scan; 0 walks their files (the full metadata, inline data included).
	index int
	// quorum reads the indexes of a read quorum of the drives only, when they
	// can be read (quorumWalk): enough for listings, not for finding the drives
	// that miss a change (the scanner).
	quorum bool
}

// merged returns an iterator over all sets of the bucket.
func (l *Layer) merged(ctx context.Context, bucket, prefix, from string, inclusive bool, how walkHow) (iterator, error) {
	sets := l.allSets()
	its := make([]iterator, 0, len(sets))
	for _, s := range sets {
		it, err := s.walk(ctx, bucket, prefix, from, inclusive, how)
		if err != nil {
			return nil, err
		}
		its = append(its, it)
	}
	if len(its) == 1 {
		return its[0], nil
	}
	return newMerge(its, newestEntry), nil
}

// walk merges the walks of the set's drives, resolving each key's metadata.
func (s *set) walk(ctx context.Context, bucket, prefix, from string, inclusive bool, how walkHow) (iterator, error) {
	if how.index > 0 && how.quorum {
		if it := s.quorumWalk(ctx, bucket, prefix, from, inclusive, how.index); it != nil {
			return it, nil
		}
	}
	its := make([]iterator, len(s.drives))
	parallel(len(s.drives), func(i int) {
		if how.index > 0 {
			its[i] = newIndexWalker(ctx, s.drives[i], bucket, prefix, from, inclusive, how.index, nil)
		} else {
			its[i] = newDriveWalker(ctx, s.drives[i], bucket, prefix, from, inclusive)
		}
	})
	m := newMerge(its, nil)
	m.combine = func(es []entry) entry {
		metas := make([]driveMeta, len(s.drives))
		for i := range metas {
			metas[i].err = drive.ErrNotFound // absent from this drive's walk
		}
		for i, w := range its {
			if w.err() != nil {
				metas[i].err = w.err()
			}
		}
		same := sameRaw(es) // the common case from indexes: decode once
		if same {
			if f, err := meta.Unmarshal(es[0].raw); err == nil {
				for _, e := range es {
					metas[e.src] = driveMeta{f: f}
				}
			}
		} else {
			for _, e := range es {
				if e.file == nil && e.raw != nil {
					f, err := meta.Unmarshal(e.raw)
					if err != nil {
						continue // corrupt copy: this drive does not vote for the key
					}
					e.file = f
				}
				metas[e.src] = driveMeta{f: e.file}
			}
		}
		f, err := s.resolve(metas)
		if err != nil {
			m.fail = err
			return entry{key: es[0].key}
		}
		// The key is consistent when every drive still walking holds the same history.
		live := 0
		for _, w := range its {
			if w.err() == nil {
				live++
			}
		}
		consistent := len(es) == live
		if !same {
			for _, e := range es {
				if m := metas[e.src]; consistent && (m.f == nil || m.f.Signature() != f.Signature()) {
					consistent = false
				}
			}
		}
		return entry{key: es[0].key, file: f, consistent: consistent}
	}
	return m, nil
}

// quorumWalk reads the indexes of only a read quorum (k) of the set's drives.
// That is enough: a committed change is on at least the write quorum, and k plus
// the write quorum exceeds the set's size, so every committed version, and every
// committed removal, shows on at least one of the k drives read. A key whose k
// copies are identical is therefore on k drives and resolved as it stands; any
// other key (a copy missing or different: a write or a delete that missed
// drives, a drive that failed mid-walk) is resolved from every drive's metadata
// file, as a read would. Any k drives will do, so drives that cannot be read
// through their indexes (offline, no index yet) are passed over; it returns nil
// when fewer than k can: the caller walks all drives.
//
// One drive, local when one is, sends its index values; the others send
// digests of theirs (drive.ScanQuery.Digest, under a key drawn for this walk):
// the comparison needs no more. On a cluster most of a listing's bytes were
// the same metadata sent by every remote drive, and most of its allocations
// the same metadata copied out of every local drive's index.
func (s *set) quorumWalk(ctx context.Context, bucket, prefix, from string, inclusive bool, batch int) iterator {
	q := s.readQuorum()
	if q >= len(s.drives) || q+s.writeQuorum() <= len(s.drives) {
		return nil
	}
	drives := s.localFirst()
	key := drive.NewDigestKey()
	// walker reads drive d's index for walker i, or is nil when it cannot.
	walker := func(i int, d drive.Drive) *indexWalker {
		digest := key
		if i == 0 {
			digest = nil // walker 0 sends values (sameValue)
		}
		if w := openIndexWalker(ctx, d, bucket, prefix, from, inclusive, batch, digest); w != nil && w.err() == nil {
			return w
		}
		return nil
	}
	ws := make([]*indexWalker, q)
	parallel(q, func(i int) { ws[i] = walker(i, drives[i]) })
	// Any k drives will do: a drive that cannot be read through its index
	// (offline, its node down, an index being rebuilt) is replaced by the next.
	its := make([]iterator, q)
	spare := q
	for i := range ws {
		for ws[i] == nil {
			if spare == len(drives) {
				return nil
			}
			ws[i] = walker(i, drives[spare])
			spare++
		}
		its[i] = ws[i]
	}
	m := newMerge(its, nil)
	m.combine = func(es []entry) entry {
		if v := sameValue(es, q, key); v != nil {
			// Index values carry neither inline data nor shard numbers: decoded,
			// they are the resolved history of the key.
			if f, err := meta.Unmarshal(v); err == nil {
				return entry{key: es[0].key, file: f, consistent: true}
			}
		}
		f, err := s.resolve(s.readMetas(ctx, objectStem(bucket, es[0].key)))
		if err != nil {
			m.fail = err
			return entry{key: es[0].key}
		}
		return entry{key: es[0].key, file: f}
	}
	return m
}

// sameValue returns the value of a quorum walk's key when all q walkers hold
// it: walker 0 sends the value, the others its digest under key (a merge
// gives the entries in walker order).
func sameValue(es []entry, q int, key *drive.DigestKey) []byte {
	if len(es) != q || es[0].src != 0 || es[0].raw == nil {
		return nil
	}
	v := es[0].raw
	d := drive.IndexDigest(key, v)
	for _, e := range es[1:] {
		if !bytes.Equal(e.raw, d[:]) {
			return nil
		}
	}
	return v
}

// localFirst returns the set's drives, the local ones of this node first.
func (s *set) localFirst() []drive.Drive {
	out := make([]drive.Drive, 0, len(s.drives))
	for _, d := range s.drives {
		if !drive.IsRemote(d) {
			out = append(out, d)
		}
	}
	for _, d := range s.drives {
		if drive.IsRemote(d) {
			out = append(out, d)
		}
	}
	return out
}

// driveWalker walks one drive's bucket directory in key order.
type driveWalker struct {
	ctx       context.Context
	d         drive.Drive
	bucket    string
	prefix    string
	after     string
	inclusive bool
	stack     []*dirFrame
	e         error
}

type dirFrame struct {
	path  string
	cands []cand
	i     int
}

type cand struct {
	key  string // object key, or subtree prefix ending in "/"
	path string // drive path of the metadata file, or of the subtree's directory
	obj  bool
}

func newDriveWalker(ctx context.Context, d drive.Drive, bucket, prefix, from string, inclusive bool) *driveWalker {
	w := &driveWalker{ctx: ctx, d: d, bucket: bucket, prefix: prefix, after: from, inclusive: inclusive}
	dirKey := prefix[:strings.LastIndex(prefix, "/")+1]
	dirPath := bucket
	if dirKey != "" {
		dirPath = objectStem(bucket, strings.TrimSuffix(dirKey, "/"))
	}
	w.push(dirPath, dirKey, prefix[len(dirKey):])
	return w
}

func (w *driveWalker) err() error { return w.e }

func (w *driveWalker) seek(after string) {
	if after > w.after {
		w.after, w.inclusive = after, false
	}
}

// push lists dir (whose children have keys keyPrefix+segment) and stacks its
// candidates whose segment starts with segPrefix.
func (w *driveWalker) push(dir, keyPrefix, segPrefix string) {
	names, err := w.d.List(w.ctx, dir)
	if err != nil {
		if !errors.Is(err, drive.ErrNotFound) || errors.Is(err, drive.ErrOffline) {
			w.e = err
		}
		return
	}
	f := &dirFrame{path: dir}
	for _, n := range names {
		if name, isDir := strings.CutSuffix(n, "/"); isDir {
			if strings.Contains(name, dataDirInfix) {
				continue // a version's data directory
			}
			if seg, ok := unescapeSegment(name); ok && strings.HasPrefix(seg, segPrefix) {
				f.cands = append(f.cands, cand{key: keyPrefix + seg + "/", path: dir + "/" + name})
			}
			continue
		}
		if base, ok := strings.CutSuffix(n, metaSuffix); ok {
			if seg, ok := unescapeSegment(base); ok && strings.HasPrefix(seg, segPrefix) {
				f.cands = append(f.cands, cand{key: keyPrefix + seg, path: dir + "/" + n, obj: true})
			}
		}
	}
	sort.Slice(f.cands, func(i, j int) bool { return f.cands[i].key < f.cands[j].key })
	w.stack = append(w.stack, f)
}

func (w *driveWalker) next() (entry, bool) {
	for len(w.stack) > 0 && w.e == nil {
		f := w.stack[len(w.stack)-1]
		if f.i >= len(f.cands) {
			w.stack = w.stack[:len(w.stack)-1]
			continue
		}
		c := f.cands[f.i]
		f.i++
		if c.obj {
			if c.key < w.after || (c.key == w.after && !w.inclusive) {
				continue
			}
			raw, err := w.d.ReadFile(w.ctx, c.path)
			if err != nil {
				if errors.Is(err, drive.ErrOffline) {
					w.e = err
				}
				continue // removed since the directory was listed
			}
			mf, err := meta.Unmarshal(raw)
			if err != nil {
				continue // corrupt copy: this drive does not vote for the key
			}
			return entry{key: c.key, file: mf}, true
		}
		// A subtree is skipped when all its keys sort before the resume point.
		if c.key <= w.after && !strings.HasPrefix(w.after, c.key) {
			continue
		}
		w.push(c.path, c.key, "")
	}
	return entry{}, false
}

// merge combines sorted iterators; entries with equal keys are combined into one.
//
// The iterators' next entries wait in heads, and a min-heap of iterator numbers
// orders them by key (numbers, not entries: a sift moves ints, no pointers).
// While every waiting entry has the same key — a listing's quorum walk reads
// drives that hold the same keys — the heap stays empty and the iterators move
// in lockstep: each key costs one comparison per iterator, not a sift per entry.
type merge struct {
	its     []iterator
	heads   []entry // heads[i]: iterator i's next entry, while i is in h or lock
	h       []int   // min-heap of iterators by heads[i].key, then i
	lock    []int   // iterators whose heads all have one key; h is then empty
	taken   []int   // the iterators of the key being combined
	got     []int   // scratch of advance
	started bool
	combine func([]entry) entry
	fail    error
	es      []entry // reused per key
}

func newMerge(its []iterator, combine func([]entry) entry) *merge {
	return &merge{its: its, combine: combine, heads: make([]entry, len(its))}
}

func (m *merge) less(a, b int) bool {
	ka, kb := m.heads[a].key, m.heads[b].key
	return ka < kb || ka == kb && a < b
}

func (m *merge) push(i int) {
	m.h = append(m.h, i)
	for c := len(m.h) - 1; c > 0; {
		p := (c - 1) / 2
		if !m.less(m.h[c], m.h[p]) {
			break
		}
		m.h[c], m.h[p] = m.h[p], m.h[c]
		c = p
	}
}

func (m *merge) pop() int {
	top := m.h[0]
	n := len(m.h) - 1
	m.h[0] = m.h[n]
	m.h = m.h[:n]
	m.down(0)
	return top
}

func (m *merge) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(m.h) {
			return
		}
		c := l
		if r := l + 1; r < len(m.h) && m.less(m.h[r], m.h[l]) {
			c = r
		}
		if !m.less(m.h[c], m.h[i]) {
			return
		}
		m.h[i], m.h[c] = m.h[c], m.h[i]
		i = c
	}
}

// advance moves the iterators srcs on to their next entries and queues those.
func (m *merge) advance(srcs []int) {
	got := m.got[:0]
	for _, i := range srcs {
		e, ok := m.its[i].next()
		m.heads[i] = e
		if ok {
			got = append(got, i)
		}
	}
	if len(m.h) == 0 && len(m.lock) == 0 && m.oneKey(got) {
		m.got, m.lock = m.lock, got
		return
	}
	m.got = got
	for _, i := range got {
		m.push(i)
	}
}

// oneKey reports whether the heads of srcs all have one key.
func (m *merge) oneKey(srcs []int) bool {
	if len(srcs) == 0 {
		return false
	}
	k := m.heads[srcs[0]].key
	for _, i := range srcs[1:] {
		if m.heads[i].key != k {
			return false
		}
	}
	return true
}

// take removes the iterators whose heads have the smallest key from the queue.
func (m *merge) take() []int {
	if len(m.lock) > 0 {
		m.taken, m.lock = m.lock, m.taken[:0]
		return m.taken
	}
	m.taken = m.taken[:0]
	if len(m.h) == 0 {
		return m.taken
	}
	first := m.pop()
	m.taken = append(m.taken, first)
	for len(m.h) > 0 && m.heads[m.h[0]].key == m.heads[first].key {
		m.taken = append(m.taken, m.pop())
	}
	return m.taken
}

func (m *merge) next() (entry, bool) {
	if !m.started {
		m.started = true
		all := make([]int, len(m.its))
		for i := range all {
			all[i] = i
		}
		m.advance(all)
	}
	if m.fail != nil {
		return entry{}, false
	}
	srcs := m.take()
	if len(srcs) == 0 {
		return entry{}, false
	}
	es := m.es[:0]
	for _, i := range srcs {
		e := m.heads[i]
		e.src = i
		es = append(es, e)
	}
	m.es = es
	m.advance(srcs)
	return m.combine(es), m.fail == nil
}

func (m *merge) seek(after string) {
	for _, it := range m.its {
		it.seek(after)
	}
	// Drop queued entries that the seek skips; move their iterators on.
	queued := append(m.h, m.lock...)
	m.h, m.lock = nil, nil
	var keep, refill []int
	for _, i := range queued {
		if m.heads[i].key <= after {
			refill = append(refill, i)
		} else {
			keep = append(keep, i)
		}
	}
	for _, i := range keep {
		m.push(i)
	}
	slices.Sort(refill) // a lockstep keeps its iterators in order
	m.advance(refill)
}

func (m *merge) err() error {
	if m.fail != nil {
		return m.fail
	}
	live := 0
	for _, it := range m.its {
		if it.err() == nil {
			live++
		}
	}
	if live == 0 && len(m.its) > 0 {
		return m.its[0].err()
	}
	return nil
}

// sameRaw reports whether every entry carries the same encoded metadata.
func sameRaw(es []entry) bool {
	if es[0].raw == nil {
		return false
	}
	for _, e := range es[1:] {
		if e.raw == nil || !bytes.Equal(e.raw, es[0].raw) {
			return false
		}
	}
	return true
}

// newestEntry picks, among the sets (pools) holding one key, the entry whose latest
// version is newest: while a pool drains, an object can briefly live in two.
func newestEntry(es []entry) entry {
	best := es[0]
	for _, e := range es[1:] {
		if e.file == nil || len(e.file.Versions) == 0 {
			continue
		}
		if best.file == nil || len(best.file.Versions) == 0 || e.file.Latest().ModTime.After(best.file.Latest().ModTime) {
			best = e
		}
	}
	return best
}
