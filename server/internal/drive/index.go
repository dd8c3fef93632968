package drive

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
	"github.com/minio/highwayhash"
)

// The metadata index: an ordered record of the object metadata files on one
// drive, per bucket, so that listing reads a few sequential pages instead of one
// metadata file per key. The object layer tells the drive which files are
// metadata (IndexConfig); the drive keeps the index up to date in the same call
// that writes, creates or deletes such a file, so it needs no extra round trip on
// the write path, local or remote.
//
// Per bucket, the index is an immutable snapshot file plus journals in memory:
//
//	.cairn/index/snap/<bucket>.snap
//	                             "CAIRNIX1", uvarint len · IndexConfig.Version,
//	                             then records sorted by key:
//	                             uvarint len(key) · key · uvarint len(value)+1 · value
//	                             (0 instead of len+1 marks a deleted key, only in journals),
//	                             then a trailer: 0xFF · CRC-32C of everything before (4 bytes)
//	.cairn/index/state           "clean" only while the drive is closed cleanly
//
// A change goes to the newest journal (a B-tree: key → value or deletion) after
// the metadata file itself changed, so a scan never shows a key the file system
// does not have yet. When a journal grows past a bound it is frozen and merged
// with the snapshot into a new snapshot in the background; scans read the
// snapshot and every journal, newest winning.
//
// Journals live in memory only. Close writes them into the snapshots and marks the
// index clean; a drive that was not closed cleanly (crash, kill -9) does not
// trust its snapshots: each bucket's index is rebuilt by walking the bucket's
// metadata files the first time it is scanned (or its journal grows), and until
// then Scan answers ErrNoIndex and the object layer lists by walking. A scan
// started before a change and a rebuild racing a change both see the change:
// a journal entry is never older than the file it describes.

// ErrNoIndex: the drive has no usable index for the bucket right now (none is
// kept, or it is being built): list by walking the drive.
var ErrNoIndex = errors.New("drive: no metadata index")

// IndexConfig tells a local drive which of its files are object metadata.
type IndexConfig struct {
	// Key maps a drive path to the bucket and object key whose metadata file it
	// is; ok is false for every other file.
	Key func(path string) (bucket, key string, ok bool)
	// Value is what the index keeps of a metadata file's content (e.g. without
	// inline object data). Nil keeps the content.
	Value func(content []byte) []byte
	// SkipDir reports directories a rebuild need not enter (object data).
	SkipDir func(name string) bool
	// DirKey maps a directory under a bucket to the prefix that the keys of the
	// metadata files beneath it share ("bkt/a" → "a/"), so that a rebuild can
	// walk the files in key order and stream them into the snapshot. Nil: the
	// path below the bucket directory, plus "/".
	DirKey func(dir string) (prefix string, ok bool)
	// Version names the form of the values (what Value keeps): snapshots
	// written under another version are rebuilt.
	Version string
	// JournalMax bounds a bucket's in-memory journal before it is merged into
	// the snapshot (0: max(32768, an eighth of the snapshot)).
	JournalMax int
}

// IndexEntry is one key of a bucket's index and the value kept for it.
type IndexEntry struct {
	Key   string
	Value []byte
}

// IndexPage is one Scan result: entries in key order, then where to go on.
type IndexPage struct {
	Entries []IndexEntry
	// Next is the from of the next Scan; End says there is nothing after.
	Next string
	End  bool
}

// ScanQuery says which part of an index a Scan returns, and how.
type ScanQuery struct {
	From  string // the first key that may be returned
	Limit int    // entries at most (≤ 0: 1,000)
	// Digest, when set, returns IndexDigest(Digest, value) instead of each
	// value: a caller that only compares drives' copies (a listing's quorum,
	// which takes the values from one drive) moves 16 bytes per key instead of
	// the metadata.
	Digest *DigestKey
}

// DigestSize is the length of an IndexDigest.
const DigestSize = 16

// DigestKey keys the digests of one comparison (a listing draws one at
// random), so that values cannot be made to share a digest: whoever can name
// objects and write metadata learns the key only once the values it compares
// are written.
type DigestKey [32]byte

// NewDigestKey returns a random DigestKey.
func NewDigestKey() *DigestKey {
	var k DigestKey
	rand.Read(k[:])
	return &k
}

// IndexDigest identifies an index value: HighwayHash-128 keyed by k, a keyed
// hash whose digests cannot be predicted, nor collisions found, without the key
// (SHA-256 did the same at three times the CPU: on a cluster every remote drive
// a listing reads hashes every value it sends).
func IndexDigest(k *DigestKey, value []byte) [DigestSize]byte {
	return highwayhash.Sum128(value, k[:])
}

const (
	indexDir       = ".cairn/index"
	indexState     = indexDir + "/state"
	indexMagic     = "CAIRNIX1"
	sparseEvery    = 64       // a sparse point every n records of a snapshot
	journalMin     = 1 << 15  // a journal is frozen past max(journalMin, snapshot/8) entries
	indexMaxRecord = 16 << 20 // bound on one record read from a snapshot
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type jentry struct {
	key string
	val []byte // nil: deleted
}

func jless(a, b jentry) bool { return a.key < b.key }

// snapshot is an immutable, verified snapshot file.
type snapshot struct {
	path   string
	start  int64 // offset of the first record
	gen    uint64
	count  int
	size   int64 // bytes of records (without header and trailer)
	sparse []sparsePoint
}

type sparsePoint struct {
	key string
	off int64 // file offset of the record
}

type bucketIndex struct {
	mu       sync.RWMutex
	ready    bool // snapshot (possibly none) + journals are complete
	building bool
	merging  bool
	snap     *snapshot
	journals []*btree.BTreeG[jentry] // newest first; journals[0] takes changes
	last     atomic.Uint64           // the drive's change count at the bucket's last change
}

// index is a local drive's metadata index.
type index struct {
	d       *Local
	cfg     IndexConfig
	trusted bool            // the drive was closed cleanly: snapshots are complete…
	stale   map[string]bool // …except these buckets' (never rebuilt since a crash)
	mu      sync.Mutex
	buckets map[string]*bucketIndex
	gen     uint64
	wg      sync.WaitGroup // background builds and merges
	closed  bool
	buildMu sync.Mutex // one rebuild at a time per drive (memory)
	lastErr error      // of the last failed background build or merge (guarded by mu)
	// count numbers the changes to metadata files, all buckets together;
	// dropCount is its value at the last bucket deletion (see changes).
	count, dropCount atomic.Uint64
}

func (x *index) setErr(err error) {
	x.mu.Lock()
	x.lastErr = err
	x.mu.Unlock()
}

func openIndex(d *Local, cfg IndexConfig) *index {
	x := &index{d: d, cfg: cfg, buckets: map[string]*bucketIndex{}, stale: map[string]bool{}}
	ctx := context.Background()
	raw, err := d.ReadFile(ctx, indexState)
	lines := strings.Split(string(raw), "\n")
	x.trusted = err == nil && lines[0] == "clean"
	if x.trusted {
		for _, b := range lines[1:] {
			if b != "" {
				x.stale[b] = true
			}
		}
	}
	if errors.Is(err, ErrNotFound) && len(x.unopenedBuckets(nil)) == 0 {
		x.trusted = true // a blank drive: nothing to index yet
	}
	// From now on a crash leaves the index untrusted.
	if err := d.WriteFile(ctx, indexState, []byte("dirty")); err == nil {
		d.Sync(ctx)
	}
	if !x.trusted {
		d.Delete(ctx, indexDir+"/snap", true) // stale snapshots go (kept out of the way)
	}
	return x
}

func (x *index) bucket(name string) *bucketIndex {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.buckets[name]
	if b == nil {
		b = &bucketIndex{journals: []*btree.BTreeG[jentry]{btree.NewG(32, jless)}}
		if x.trusted && !x.stale[name] {
			snap, err := x.loadSnapshot(name)
			switch {
			case err == nil:
				b.snap, b.ready = snap, true
			case errors.Is(err, ErrNotFound):
				b.ready = true // a bucket with no snapshot: empty so far
			default:
				// corrupt or unreadable: rebuild
			}
		}
		x.buckets[name] = b
	}
	return b
}

// changed records that the metadata file of bucket/key now holds content (nil:
// the file is gone). It is called after the file system change.
func (x *index) changed(bucket, key string, content []byte) {
	var val []byte
	if content != nil {
		val = content
		if x.cfg.Value != nil {
			val = x.cfg.Value(content)
		}
		if val == nil {
			val = []byte{}
		}
	}
	b := x.bucket(bucket)
	b.mu.Lock()
	b.journals[0].ReplaceOrInsert(jentry{key: key, val: val})
	b.last.Store(x.count.Add(1)) // after the journal: a reader that saw the old count rereads
	limit := x.cfg.JournalMax
	if limit <= 0 {
		limit = max(journalMin, b.snapCount()/8)
	}
	grow := b.journals[0].Len() > limit
	b.mu.Unlock()
	if grow {
		x.compact(bucket, b)
	}
}

func (b *bucketIndex) snapCount() int {
	if b.snap == nil {
		return 0
	}
	return b.snap.count
}

// changes is Drive.Changes: the count at the bucket's last change. A deleted
// bucket's count is forgotten with it, so the count at the last deletion is a
// floor: a bucket deleted and created again never repeats a number.
func (x *index) changes(bucket string) uint64 {
	x.mu.Lock()
	b := x.buckets[bucket]
	x.mu.Unlock()
	n := x.dropCount.Load()
	if b != nil {
		n = max(n, b.last.Load())
	}
	return n
}

// dropped forgets a deleted bucket.
func (x *index) dropped(bucket string) {
	x.mu.Lock()
	delete(x.buckets, bucket)
	x.dropCount.Store(x.count.Add(1))
	x.mu.Unlock()
	x.d.Delete(context.Background(), snapPath(bucket), false)
}

func snapPath(bucket string) string { return indexDir + "/snap/" + bucket + ".snap" }

// compact starts, in the background, a rebuild (index not ready) or a merge of
// the journals into a new snapshot (ready), unless one runs.
func (x *index) compact(name string, b *bucketIndex) {
	b.mu.Lock()
	if b.building || b.merging {
		b.mu.Unlock()
		return
	}
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		b.mu.Unlock()
		return
	}
	x.wg.Add(1)
	x.mu.Unlock()
	if !b.ready {
		b.building = true
		b.mu.Unlock()
		go func() {
			defer x.wg.Done()
			x.rebuild(name, b)
		}()
		return
	}
	b.merging = true
	// Freeze the journal: changes go to a new one while the merge runs.
	b.journals = append([]*btree.BTreeG[jentry]{btree.NewG(32, jless)}, b.journals...)
	b.mu.Unlock()
	go func() {
		defer x.wg.Done()
		if err := x.merge(name, b); err != nil {
			x.setErr(err)
		}
	}()
}

// merge writes snapshot + frozen journals into a new snapshot.
func (x *index) merge(name string, b *bucketIndex) error {
	b.mu.RLock()
	snap := b.snap
	frozen := append([]*btree.BTreeG[jentry](nil), b.journals[1:]...)
	b.mu.RUnlock()
	var err error
	var next *snapshot
	defer func() {
		b.mu.Lock()
		if err == nil {
			b.snap = next
			b.journals = b.journals[:len(b.journals)-len(frozen)]
		}
		b.merging = false
		b.mu.Unlock()
	}()
	src, cerr := x.openScan(snap, "")
	if cerr != nil {
		err = cerr
		return err
	}
	defer src.close()
	it := newMergeIter(src, frozen, "", 0)
	next, err = x.writeSnapshot(name, func(emit func(IndexEntry) error) error {
		for {
			e, ok, err := it.next()
			if err != nil || !ok {
				return err
			}
			if err := emit(e); err != nil {
				return err
			}
		}
	})
	return err
}

// rebuild walks the bucket's metadata files, in key order, into a fresh
// snapshot: streamed, so a rebuild's memory does not grow with the bucket (it
// held every entry once, ~250 MB per drive at 1,000,000 objects, all drives of
// a node at once). Changes that arrive meanwhile collect in the journal, which
// stays on top of it.
func (x *index) rebuild(name string, b *bucketIndex) {
	x.buildMu.Lock()
	defer x.buildMu.Unlock()
	ctx := context.Background()
	snap, err := x.writeSnapshot(name, func(emit func(IndexEntry) error) error {
		last, first := "", true
		return x.walk(ctx, name, "", func(e IndexEntry) error {
			if !first && e.Key <= last {
				return fmt.Errorf("index of %s: rebuild found key %q after %q (DirKey does not match Key)", name, e.Key, last)
			}
			first, last = false, e.Key
			return emit(e)
		})
	})
	b.mu.Lock()
	b.building = false
	if err == nil {
		b.snap, b.ready = snap, true
	}
	b.mu.Unlock()
	if err != nil {
		x.setErr(err)
	}
}

// walk emits the metadata files under dir, whose keys all start with prefix, in
// key order: a directory's files and subdirectories are taken in the order of
// their keys and prefixes (the keys under a subdirectory share its prefix, so
// they come together), the subdirectories walked in turn.
func (x *index) walk(ctx context.Context, dir, prefix string, emit func(IndexEntry) error) error {
	names, err := x.d.List(ctx, dir)
	if errors.Is(err, ErrNotFound) && !errors.Is(err, ErrOffline) {
		return nil
	}
	if err != nil {
		return err
	}
	type cand struct {
		key, path string
		dir       bool
	}
	cands := make([]cand, 0, len(names))
	for _, n := range names {
		p := dir + "/" + n
		if sub, isDir := strings.CutSuffix(n, "/"); isDir {
			if x.cfg.SkipDir != nil && x.cfg.SkipDir(sub) {
				continue
			}
			p = dir + "/" + sub
			k, ok := prefix+sub+"/", true
			if x.cfg.DirKey != nil {
				k, ok = x.cfg.DirKey(p)
			}
			if ok {
				cands = append(cands, cand{key: k, path: p, dir: true})
			}
			continue
		}
		if _, key, ok := x.cfg.Key(p); ok {
			cands = append(cands, cand{key: key, path: p})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return strings.Compare(a.key, b.key) })
	for _, c := range cands {
		if c.dir {
			if err := x.walk(ctx, c.path, c.key, emit); err != nil {
				return err
			}
			continue
		}
		raw, err := x.d.ReadFile(ctx, c.path)
		if errors.Is(err, ErrNotFound) && !errors.Is(err, ErrOffline) {
			continue // deleted since listed: the journal has it
		}
		if err != nil {
			return err
		}
		val := raw
		if x.cfg.Value != nil {
			val = x.cfg.Value(raw)
		}
		if err := emit(IndexEntry{Key: c.key, Value: val}); err != nil {
			return err
		}
	}
	return nil
}

// writeSnapshot writes the entries fill emits (sorted, deletions skipped) to a new
// snapshot file and verifies it by loading it back.
func (x *index) writeSnapshot(name string, fill func(emit func(IndexEntry) error) error) (*snapshot, error) {
	ctx := context.Background()
	x.mu.Lock()
	x.gen++
	gen := x.gen
	x.mu.Unlock()
	tmp := fmt.Sprintf("%s/snap/%s.%d.tmp", indexDir, name, gen)
	w, err := x.d.Create(ctx, tmp)
	if err != nil {
		return nil, err
	}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	bw.WriteString(indexMagic)
	var hdr [2 * binary.MaxVarintLen64]byte
	bw.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(x.cfg.Version)))])
	bw.WriteString(x.cfg.Version)
	err = fill(func(e IndexEntry) error {
		if e.Value == nil {
			return nil
		}
		n := binary.PutUvarint(hdr[:], uint64(len(e.Key)))
		bw.Write(hdr[:n])
		bw.WriteString(e.Key)
		n = binary.PutUvarint(hdr[:], uint64(len(e.Value))+1)
		bw.Write(hdr[:n])
		_, err := bw.Write(e.Value)
		return err
	})
	if err == nil {
		bw.WriteByte(0xFF)
		err = bw.Flush()
	}
	if err == nil {
		var sum [4]byte
		binary.BigEndian.PutUint32(sum[:], crc.Sum32())
		_, err = w.Write(sum[:])
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = x.d.Rename(ctx, tmp, snapPath(name))
	}
	if err != nil {
		x.d.Delete(ctx, tmp, false)
		return nil, err
	}
	return x.loadSnapshot(name)
}

// loadSnapshot reads a snapshot once: verifies its checksum and builds its
// sparse index.
func (x *index) loadSnapshot(name string) (*snapshot, error) {
	p := snapPath(name)
	r, err := x.d.Open(context.Background(), p, 0, -1)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	crc := &tailCRC{h: crc32.New(castagnoli)}
	br := bufio.NewReaderSize(io.TeeReader(r, crc), 256<<10)
	magic := make([]byte, len(indexMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != indexMagic {
		return nil, fmt.Errorf("%s: not an index snapshot", p)
	}
	vl, err := binary.ReadUvarint(br)
	if err != nil || vl > 1024 {
		return nil, fmt.Errorf("%s: bad header", p)
	}
	ver := make([]byte, vl)
	if _, err := io.ReadFull(br, ver); err != nil || string(ver) != x.cfg.Version {
		return nil, fmt.Errorf("%s: values of version %q, want %q: %w", p, ver, x.cfg.Version, errIndexVersion)
	}
	s := &snapshot{path: p, start: int64(len(indexMagic) + uvarintLen(vl) + int(vl))}
	off := s.start
	for {
		rec, n, err := readRecord(br, nil, nil)
		if errors.Is(err, errTrailer) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", p, s.count, err)
		}
		if s.count%sparseEvery == 0 {
			s.sparse = append(s.sparse, sparsePoint{key: rec.Key, off: off})
		}
		s.count++
		off += n
	}
	s.size = off - s.start
	// What follows the trailer marker is the checksum of everything before it.
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 4 || binary.BigEndian.Uint32(crc.tail) != crc.h.Sum32() {
		return nil, fmt.Errorf("%s: checksum mismatch", p)
	}
	return s, nil
}

// tailCRC hashes everything written to it except the last 4 bytes, which it
// keeps in tail.
type tailCRC struct {
	h    hash.Hash32
	tail []byte
}

func (t *tailCRC) Write(p []byte) (int, error) {
	t.tail = append(t.tail, p...)
	if n := len(t.tail) - 4; n > 0 {
		t.h.Write(t.tail[:n])
		t.tail = append(t.tail[:0], t.tail[n:]...)
	}
	return len(p), nil
}

var (
	errTrailer      = errors.New("trailer")
	errIndexVersion = errors.New("index values of another version")
)

// arena hands out byte slices carved from larger chunks: one allocation per
// chunk instead of one per value. Slices it returned are never written again.
type arena struct{ chunk []byte }

// alloc returns n bytes, never nil (a nil value is a deletion).
func (a *arena) alloc(n int) []byte {
	if a == nil || n > 4<<10 || n == 0 {
		return make([]byte, n)
	}
	if len(a.chunk) < n {
		a.chunk = make([]byte, 64<<10)
	}
	b := a.chunk[:n:n]
	a.chunk = a.chunk[n:]
	return b
}

// readRecord reads one snapshot record and reports its encoded length; values
// come from a (nil: plain allocations). With a digest key, the value is
// replaced by its IndexDigest, hashed in the read buffer without a copy.
func readRecord(br *bufio.Reader, a *arena, digest *DigestKey) (IndexEntry, int64, error) {
	first, err := br.ReadByte()
	if err != nil {
		return IndexEntry{}, 0, io.ErrUnexpectedEOF
	}
	if first == 0xFF {
		return IndexEntry{}, 1, errTrailer
	}
	br.UnreadByte()
	kl, err := binary.ReadUvarint(br)
	if err != nil || kl > indexMaxRecord {
		return IndexEntry{}, 0, errors.New("bad key length")
	}
	var key string
	if kb, err := br.Peek(int(kl)); err == nil { // the common case: no copy but the string's
		key = string(kb)
		br.Discard(int(kl))
	} else {
		kb := make([]byte, kl)
		if _, err := io.ReadFull(br, kb); err != nil {
			return IndexEntry{}, 0, io.ErrUnexpectedEOF
		}
		key = string(kb)
	}
	vl, err := binary.ReadUvarint(br)
	if err != nil || vl == 0 || vl > indexMaxRecord {
		return IndexEntry{}, 0, errors.New("bad value length")
	}
	var val []byte
	var vb []byte
	if digest != nil {
		vb, _ = br.Peek(int(vl - 1)) // short when the value is longer than the buffer
	}
	if digest != nil && len(vb) == int(vl-1) {
		sum := IndexDigest(digest, vb)
		br.Discard(len(vb))
		val = a.alloc(DigestSize)
		copy(val, sum[:])
	} else {
		val = a.alloc(int(vl - 1))
		if _, err := io.ReadFull(br, val); err != nil {
			return IndexEntry{}, 0, io.ErrUnexpectedEOF
		}
		if digest != nil {
			sum := IndexDigest(digest, val)
			val = sum[:]
		}
	}
	n := int64(uvarintLen(kl) + int(kl) + uvarintLen(vl) + int(vl-1))
	return IndexEntry{Key: key, Value: val}, n, nil
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

// snapScan reads a snapshot from the first key ≥ from.
type snapScan struct {
	r      io.ReadCloser
	br     *bufio.Reader
	left   int64 // record bytes left
	from   string
	err    error
	mem    arena
	digest *DigestKey // values are read as their digests (ScanQuery.Digest)
}

func (x *index) openScan(s *snapshot, from string) (*snapScan, error) {
	if s == nil {
		return &snapScan{}, nil
	}
	i := sort.Search(len(s.sparse), func(i int) bool { return s.sparse[i].key > from }) - 1
	off := s.start
	if i >= 0 {
		off = s.sparse[i].off
	}
	r, err := x.d.Open(context.Background(), s.path, off, -1)
	if err != nil {
		return nil, err
	}
	br := scanBufs.Get().(*bufio.Reader)
	br.Reset(r)
	return &snapScan{r: r, br: br, left: s.start + s.size - off, from: from}, nil
}

// scanBufs are the read buffers of snapshot scans: a page of 1,000 keys is
// about 200 KB of snapshot, read in one or two system calls.
var scanBufs = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

func (s *snapScan) next() (IndexEntry, bool, error) {
	for s.br != nil && s.err == nil && s.left > 0 {
		e, n, err := readRecord(s.br, &s.mem, s.digest)
		if err != nil {
			s.err = err
			break
		}
		s.left -= n
		if e.Key >= s.from {
			return e, true, nil
		}
	}
	return IndexEntry{}, false, s.err
}

func (s *snapScan) close() {
	if s.r != nil {
		s.r.Close()
		s.br.Reset(nil)
		scanBufs.Put(s.br)
		s.r, s.br = nil, nil
	}
}

// mergeIter merges a snapshot scan with journals (newest first); a journal's
// entry hides older ones of the same key, a deletion hides the key.
type mergeIter struct {
	snap    *snapScan
	sHead   IndexEntry // the snapshot's next entry, while sHas
	sHas    bool
	sDone   bool
	js      [][]jentry // copies, each sorted, newest journal first
	pos     []int
	limitAt string // stop before keys > limitAt ("" = no limit)
	limited bool
	digest  *DigestKey // return values' digests (the snapshot scan reads them so)
}

// newMergeIter copies the journals' entries from from on (at most limit per
// journal; 0: all). Past the last entry copied from a journal the merge cannot
// know what that journal holds, so it stops there (limitAt).
func newMergeIter(s *snapScan, journals []*btree.BTreeG[jentry], from string, limit int) *mergeIter {
	m := &mergeIter{snap: s}
	for _, j := range journals {
		var cp []jentry
		j.AscendGreaterOrEqual(jentry{key: from}, func(e jentry) bool {
			cp = append(cp, e)
			return limit == 0 || len(cp) < limit
		})
		if limit > 0 && len(cp) == limit && (!m.limited || cp[len(cp)-1].key < m.limitAt) {
			m.limited, m.limitAt = true, cp[len(cp)-1].key
		}
		m.js = append(m.js, cp)
	}
	m.pos = make([]int, len(m.js))
	return m
}

func (m *mergeIter) next() (IndexEntry, bool, error) {
	for {
		if !m.sHas && !m.sDone {
			e, ok, err := m.snap.next()
			if err != nil {
				return IndexEntry{}, false, err
			}
			if ok {
				m.sHead, m.sHas = e, true
			} else {
				m.sDone = true
			}
		}
		// The smallest key among the heads.
		key, have := "", false
		if m.sHas {
			key, have = m.sHead.Key, true
		}
		for i, j := range m.js {
			if m.pos[i] < len(j) && (!have || j[m.pos[i]].key < key) {
				key, have = j[m.pos[i]].key, true
			}
		}
		if !have {
			return IndexEntry{}, false, nil
		}
		if m.limited && key > m.limitAt {
			return IndexEntry{}, false, nil
		}
		var val []byte
		found, snapped := false, false
		for i, j := range m.js { // newest first: the first match wins
			if m.pos[i] < len(j) && j[m.pos[i]].key == key {
				if !found {
					val, found = j[m.pos[i]].val, true
				}
				m.pos[i]++
			}
		}
		if m.sHas && m.sHead.Key == key {
			if !found {
				val, found, snapped = m.sHead.Value, true, true
			}
			m.sHead, m.sHas = IndexEntry{}, false
		}
		if val == nil {
			continue // deleted
		}
		if m.digest != nil && !snapped {
			sum := IndexDigest(m.digest, val)
			val = sum[:]
		}
		return IndexEntry{Key: key, Value: val}, true, nil
	}
}

// scan returns up to limit entries with keys ≥ from, with their values or, with
// a digest key, the values' digests.
func (x *index) scan(name, from string, limit int, digest *DigestKey) (IndexPage, error) {
	b := x.bucket(name)
	b.mu.RLock()
	if !b.ready {
		b.mu.RUnlock()
		x.compact(name, b)
		return IndexPage{}, ErrNoIndex
	}
	m := newMergeIter(nil, b.journals, from, limit)
	src, err := x.openScan(b.snap, from) // the file stays readable after a merge replaces it
	b.mu.RUnlock()
	if err != nil {
		return IndexPage{}, err
	}
	defer src.close()
	src.digest, m.digest = digest, digest
	m.snap = src
	page := IndexPage{Entries: make([]IndexEntry, 0, limit)}
	for len(page.Entries) < limit {
		e, ok, err := m.next()
		if err != nil {
			return IndexPage{}, err
		}
		if !ok {
			if m.limited {
				page.Next = m.limitAt + "\x00"
			} else {
				page.End = true
			}
			return page, nil
		}
		page.Entries = append(page.Entries, e)
	}
	page.Next = page.Entries[len(page.Entries)-1].Key + "\x00"
	return page, nil
}

// close merges every journal into its snapshot and marks the index clean.
func (x *index) close() {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return
	}
	x.closed = true
	x.mu.Unlock()
	x.wg.Wait()
	x.mu.Lock()
	names := make([]string, 0, len(x.buckets))
	for n := range x.buckets {
		names = append(names, n)
	}
	x.mu.Unlock()
	stale := map[string]bool{}
	for b := range x.stale {
		stale[b] = true
	}
	for _, n := range names {
		b := x.buckets[n]
		if !b.ready {
			stale[n] = true // never built: rebuilt after the next start
			continue
		}
		delete(stale, n)
		dirty := false
		for _, j := range b.journals {
			dirty = dirty || j.Len() > 0
		}
		if !dirty {
			continue
		}
		b.merging = true
		b.journals = append([]*btree.BTreeG[jentry]{btree.NewG(32, jless)}, b.journals...)
		if err := x.merge(n, b); err != nil {
			stale[n] = true
		}
	}
	// An untrusted start deleted every snapshot: buckets not rebuilt since are stale.
	if !x.trusted {
		for _, n := range x.unopenedBuckets(names) {
			stale[n] = true
		}
	}
	state := "clean"
	for _, b := range slices.Sorted(maps.Keys(stale)) {
		state += "\n" + b
	}
	ctx := context.Background()
	if x.d.Sync(ctx) == nil {
		if x.d.WriteFile(ctx, indexState, []byte(state)) == nil {
			x.d.Sync(ctx)
		}
	}
}

// unopenedBuckets lists bucket directories of the drive the index never opened.
func (x *index) unopenedBuckets(opened []string) []string {
	names, err := x.d.List(context.Background(), ".")
	if err != nil {
		return []string{"?"}
	}
	seen := map[string]bool{}
	for _, n := range opened {
		seen[n] = true
	}
	var out []string
	for _, n := range names {
		if b, ok := strings.CutSuffix(n, "/"); ok && !strings.HasPrefix(b, ".") && !seen[b] {
			out = append(out, b)
		}
	}
	return out
}
