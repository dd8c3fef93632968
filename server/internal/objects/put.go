package objects

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/erasure"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// MaxObjectSize is the largest single PUT (as S3: 5 GiB).
const MaxObjectSize = 5 << 30

// PutObject stores body as a new version of bucket/key.
//
// The data is erasure coded into a temp area on every drive first (no lock held),
// then made durable, then committed under the object's lock: conditions are checked,
// the data directory renamed into place and each drive's metadata updated. Fewer
// than write-quorum drives at any step fails the PUT and leaves nothing visible.
func (l *Layer) PutObject(ctx context.Context, bucket, key string, body io.Reader, opts PutOptions) (ObjectInfo, error) {
	if err := checkObjectName(key); err != nil {
		return ObjectInfo{}, err
	}
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.Size > MaxObjectSize {
		return ObjectInfo{}, ErrEntityTooLarge
	}
	s := l.writeSet(ctx, bucket, key)
	wantMD5 := opts.ContentMD5
	if opts.ETag != "" || opts.ETagFunc != nil {
		wantMD5 = nil // the body is transformed: the caller checks the client's MD5
	}
	// A caller that sets the ETag has no use for the MD5 of the stored bytes
	// (with ETagFunc alone that MD5 is the fallback).
	noMD5 := opts.ETag != ""
	staged, err := s.stage(ctx, body, stageOptions{size: opts.Size, md5: wantMD5, rot: -1, inline: true, noMD5: noMD5})
	if err != nil {
		return ObjectInfo{}, err
	}
	defer staged.cleanup(context.WithoutCancel(ctx))
	etag := staged.etag
	if opts.ETag != "" {
		etag = opts.ETag
	}
	if opts.ETagFunc != nil {
		if e := opts.ETagFunc(); e != "" {
			etag = e
		}
	}
	v := meta.Version{
		Kind:    meta.KindObject,
		Size:    staged.size,
		ETag:    etag,
		Meta:    withInternal(opts.Meta, opts.Internal, opts.ActualSize),
		Tags:    opts.Tags,
		Erasure: staged.erasure,
		Parts:   []meta.Part{{Number: 1, Size: staged.size, ETag: etag}},
	}
	if opts.Checksum != nil && opts.Checksum.Value != "" {
		v.Checksums = map[string]string{opts.Checksum.Algorithm: opts.Checksum.Value}
		v.ChecksumType = "FULL_OBJECT"
	}
	return s.commitVersion(ctx, bucket, key, v, staged, cfg.Versioning, opts.Conditions, opts.ModTime)
}

// staged is object data erasure coded and durable on the drives, not yet visible.
type staged struct {
	s       *set
	size    int64
	etag    string // hex MD5
	md5     []byte
	erasure meta.Erasure
	// inline[shard] is the framed shard when the data is small enough to live in the
	// metadata; nil for data written to tmpFile on the drives.
	inline  [][]byte
	tmpFile string
	// ok[i]: drive i holds its shard.
	ok []bool
	// shardOf[i] is the shard index drive i holds.
	shardOf []int
}

type stageOptions struct {
	size   int64  // -1: unknown
	md5    []byte // expected MD5, or nil
	rot    int    // shard rotation: drive i holds shard (i-rot) mod n; -1 picks one
	inline bool   // small data may stay in memory, to be stored inline
	noMD5  bool   // skip the MD5 of the data (etag stays empty) unless md5 is set
}

// stage erasure codes body onto the set's drives (temp area), or into memory for
// small objects, and verifies size and MD5.
func (s *set) stage(ctx context.Context, body io.Reader, o stageOptions) (*staged, error) {
	size, wantMD5 := o.size, o.md5
	n := len(s.drives)
	st := &staged{
		s:  s,
		ok: make([]bool, n),
		erasure: meta.Erasure{
			Data: s.data, Parity: s.parity, BlockSize: s.ec.BlockSize(),
			BitrotAlgorithm: uint8(bitrot.DefaultAlgorithm),
		},
	}
	hr := &hashReader{r: body}
	if !o.noMD5 || wantMD5 != nil {
		hr.h = md5.New()
	}
	src := io.Reader(hr)
	inline := o.inline && size >= 0 && size <= s.inlineLimit
	if o.inline && size < 0 {
		// Unknown size: read up to the inline limit to decide.
		buf := make([]byte, s.inlineLimit+1)
		m, err := io.ReadFull(hr, buf)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			inline = true
			src = bytes.NewReader(buf[:m])
		case err != nil:
			return nil, err
		default:
			src = io.MultiReader(bytes.NewReader(buf[:m]), hr)
		}
	}
	// Rotate shards over drives at random, so parity load spreads evenly; the index
	// each drive holds is recorded in its metadata.
	rot := o.rot
	if rot < 0 {
		rot = int(newID()[0]) % n
	}
	st.shardOf = make([]int, n)
	for i := range st.shardOf {
		st.shardOf[i] = (i - rot + n) % n
	}
	shardBlock := s.ec.ShardBlockSize()
	alg := bitrot.DefaultAlgorithm
	writers := make([]io.Writer, n)    // by shard
	closers := make([]io.Closer, n)    // bitrot writers, by shard
	files := make([]io.WriteCloser, n) // drive files, by drive
	var bufs []*bytes.Buffer
	if inline {
		bufs = make([]*bytes.Buffer, n)
		for sh := range bufs {
			bufs[sh] = &bytes.Buffer{}
			bw := bitrot.NewWriter(bufs[sh], alg, shardBlock)
			writers[sh], closers[sh] = bw, bw
		}
	} else {
		st.tmpFile = tmpPath()
		parallel(n, func(i int) {
			f, err := s.drives[i].Create(ctx, st.tmpFile)
			if err != nil {
				return
			}
			files[i] = f
			bw := bitrot.NewWriter(f, alg, shardBlock)
			writers[st.shardOf[i]], closers[st.shardOf[i]] = bw, bw
		})
	}
	fail := func(err error) (*staged, error) {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
		st.cleanup(context.WithoutCancel(ctx))
		return nil, ctxErr(ctx, err)
	}
	written, err := s.ec.Encode(ctx, src, writers, s.writeQuorum())
	if err != nil {
		if hr.err != nil {
			// The body failed (client gone, bad signature, bad checksum): that is the
			// error to report, whatever the request context says by now.
			fail(hr.err)
			if errors.Is(hr.err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: %w", ErrIncompleteBody, hr.err)
			}
			return nil, hr.err
		}
		return fail(mapQuorum(err))
	}
	if size >= 0 && written != size {
		return fail(fmt.Errorf("%w: got %d of %d bytes", ErrIncompleteBody, written, size))
	}
	st.size = written
	if hr.h != nil {
		st.md5 = hr.h.Sum(nil)
		st.etag = hex.EncodeToString(st.md5)
	}
	if wantMD5 != nil && !bytes.Equal(wantMD5, st.md5) {
		return fail(ErrBadDigest)
	}
	// Flush the final frames and close the files; a drive failing here is dropped.
	for i := 0; i < n; i++ {
		sh := st.shardOf[i]
		if closers[sh] == nil {
			continue
		}
		err := closers[sh].Close()
		if files[i] != nil {
			if cerr := files[i].Close(); err == nil {
				err = cerr
			}
			files[i] = nil
		}
		st.ok[i] = err == nil
	}
	if inline {
		st.inline = make([][]byte, n)
		for sh, b := range bufs {
			st.inline[sh] = append(make([]byte, 0, b.Len()), b.Bytes()...) // never nil: nil means "not inline"
		}
		return st, nil
	}
	// Make the shards durable before any metadata can point at them.
	parallel(n, func(i int) {
		if st.ok[i] && s.drives[i].Sync(ctx) != nil {
			st.ok[i] = false
		}
	})
	if count(st.ok) < s.writeQuorum() {
		return fail(fmt.Errorf("%w: %d drives hold the data, %d needed", ErrWriteQuorum, count(st.ok), s.writeQuorum()))
	}
	return st, nil
}

// mapQuorum reports the erasure coder's lost write quorum as the layer's.
func mapQuorum(err error) error {
	if errors.Is(err, erasure.ErrWriteQuorum) {
		return fmt.Errorf("%w: %w", ErrWriteQuorum, err)
	}
	return err
}

// cleanup removes the temp area (after a commit it is already empty).
func (st *staged) cleanup(ctx context.Context) {
	if st.tmpFile == "" {
		return
	}
	parallel(len(st.s.drives), func(i int) {
		st.s.drives[i].Delete(ctx, st.tmpFile, false)
	})
}

// commitVersion makes v (data in st) the newest version of bucket/key.
func (s *set) commitVersion(ctx context.Context, bucket, key string, v meta.Version, st *staged, vs Versioning, cond Conditions, modTime time.Time) (ObjectInfo, error) {
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return ObjectInfo{}, asWriteQuorum(err)
	}
	defer unlock()
	if err := checkConditions(cur, cond); err != nil {
		return ObjectInfo{}, err
	}
	if vs == VersioningEnabled {
		v.ID = newID()
	}
	v.ModTime = s.l.now().UTC()
	if !modTime.IsZero() {
		v.ModTime = modTime.UTC()
	}
	if latest := cur.Latest(); latest != nil && !v.ModTime.After(latest.ModTime) {
		v.ModTime = latest.ModTime.Add(1) // keep the new version the newest on every drive
	}
	if st.inline == nil {
		v.DataDir, v.DataFile = newID(), true
	}
	err = s.commitStaged(ctx, bucket, key, stem, metas, v, st)
	if err != nil {
		return ObjectInfo{}, err
	}
	return versionInfo(bucket, key, &v, true, vs), nil
}

// commitStaged makes v, whose data st staged on the set's drives (v.DataDir set
// unless inline), a version of bucket/key: the data moves into place and every
// drive's metadata gets v with its own shard. The caller holds the write lock and
// read metas under it.
func (s *set) commitStaged(ctx context.Context, bucket, key, stem string, metas []driveMeta, v meta.Version, st *staged) error {
	skip := make([]bool, len(s.drives))
	for i := range skip {
		skip[i] = !st.ok[i]
	}
	return s.run(ctx, commit{
		bucket: bucket, key: key, stem: stem, metas: metas, skip: skip,
		prepare: func(ctx context.Context, i int) error {
			if st.inline != nil {
				return nil
			}
			return s.drives[i].Rename(ctx, st.tmpFile, dataDirPath(stem, v.DataDir))
		},
		undo: func(ctx context.Context, i int) {
			if st.inline == nil {
				s.drives[i].Delete(ctx, dataDirPath(stem, v.DataDir), true)
			}
		},
		apply: func(i int, f *meta.File) []string {
			dv := v
			dv.Erasure.Index = st.shardOf[i]
			if st.inline != nil {
				dv.Inline = st.inline[st.shardOf[i]]
			}
			return replacedGarbage(stem, f.Add(dv))
		},
	})
}

// garbageOf lists the data directory of a replaced version.
func garbageOf(stem string, old *meta.Version) []string {
	if old == nil || old.DataDir == ([16]byte{}) {
		return nil
	}
	return []string{dataDirPath(stem, old.DataDir)}
}

func checkConditions(cur *meta.File, cond Conditions) error {
	latest := cur.Latest()
	live := latest != nil && latest.Kind == meta.KindObject
	if cond.IfNoneMatch != "" {
		if cond.IfNoneMatch == "*" && live {
			return ErrPreconditionFailed
		}
		if cond.IfNoneMatch != "*" && live && etagMatch(cond.IfNoneMatch, latest.ETag) {
			return ErrPreconditionFailed
		}
	}
	if cond.IfMatch != "" {
		if !live {
			return ErrObjectNotFound
		}
		if !etagMatch(cond.IfMatch, latest.ETag) {
			return ErrPreconditionFailed
		}
	}
	return nil
}

// etagMatch compares an If-Match style list ("a", "\"a\", \"b\"", "*") with an ETag.
func etagMatch(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, `"`) == etag {
			return true
		}
	}
	return false
}

// hashReader computes MD5 (when h is set) while reading and remembers the
// body's error.
type hashReader struct {
	r   io.Reader
	h   hash.Hash
	err error
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if h.h != nil {
		h.h.Write(p[:n])
	}
	if err != nil && err != io.EOF {
		h.err = err
	}
	return n, err
}

func count(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

func tmpPath() string { return ".cairn/tmp/" + formatUUID(newID()) }

func itoa(n int) string { return strconv.Itoa(n) }

// withInternal stores internal metadata (and a transformed body's client size)
// beside the client's metadata, under internalPrefix.
func withInternal(m, internal map[string]string, actualSize int64) map[string]string {
	if len(internal) == 0 && actualSize <= 0 {
		return m
	}
	out := make(map[string]string, len(m)+len(internal)+1)
	for k, v := range m {
		out[k] = v
	}
	for k, v := range internal {
		out[internalPrefix+k] = v
	}
	if actualSize > 0 || (actualSize == 0 && len(internal) > 0) {
		out[internalPrefix+"Actual-Size"] = strconv.FormatInt(actualSize, 10)
	}
	return out
}

func hasInternal(m map[string]string) bool {
	for k := range m {
		if strings.HasPrefix(k, internalPrefix) {
			return true
		}
	}
	return false
}
