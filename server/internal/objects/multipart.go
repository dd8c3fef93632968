package objects

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// Multipart uploads live in .cairn/multipart/<bucket>/<hash of key>/<upload id>/ on
// every drive of the key's set: upload.json (the upload's metadata, identical on
// every drive), part.N (this drive's shard of part N) and part.N.json (the part's
// size, ETag and checksums). Every part of an upload uses the same shard rotation, so
// at completion the directory becomes the object's data directory by one rename per
// drive, with no data copied.

// MinPartSize is the smallest part allowed except the last (as S3).
const MinPartSize = 5 << 20

const maxPartNumber = 10000

type uploadMeta struct {
	Key               string            `json:"key"`
	UploadID          string            `json:"uploadId"`
	Initiated         time.Time         `json:"initiated"`
	Meta              map[string]string `json:"meta,omitempty"`
	Tags              string            `json:"tags,omitempty"`
	ChecksumAlgorithm string            `json:"checksumAlgorithm,omitempty"`
	ChecksumType      string            `json:"checksumType,omitempty"`
	Rotation          int               `json:"rotation"`
}

type partMeta struct {
	// ID is random per upload of the part: a part uploaded again with the
	// same bytes has the same ETag but other shards (encryption salts), and a
	// drive that missed the second upload must not pass off the first's
	// shards as the second's (see sameUpload). Empty in parts stored before.
	ID        string            `json:"id,omitempty"`
	Number    int               `json:"number"`
	Size      int64             `json:"size"`
	ETag      string            `json:"etag"`
	ModTime   time.Time         `json:"modTime"`
	Checksums map[string]string `json:"checksums,omitempty"`
}

func multipartBucketDir(bucket string) string { return ".cairn/multipart/" + bucket }

func uploadDir(bucket, key, uploadID string) string {
	h := sha256.Sum256([]byte(key))
	return multipartBucketDir(bucket) + "/" + hex.EncodeToString(h[:16]) + "/" + uploadID
}

// NewMultipartUpload starts an upload and returns its id. opts.Checksum.Algorithm,
// when set, is the checksum algorithm every part must carry.
func (l *Layer) NewMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error) {
	if err := checkObjectName(key); err != nil {
		return "", err
	}
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return "", err
	}
	s := l.writeSet(ctx, bucket, key)
	um := uploadMeta{
		Key: key, UploadID: formatUUID(newID()), Initiated: l.now().UTC(),
		Meta: withInternal(opts.Meta, opts.Internal, 0), Tags: opts.Tags, Rotation: int(newID()[0]) % len(s.drives),
	}
	if opts.Checksum != nil {
		um.ChecksumAlgorithm = opts.Checksum.Algorithm
		um.ChecksumType = opts.ChecksumType
	}
	data, _ := json.Marshal(um)
	dir := uploadDir(bucket, key, um.UploadID)
	ok := make([]bool, len(s.drives))
	parallel(len(s.drives), func(i int) {
		if s.drives[i].WriteFile(ctx, dir+"/upload.json", data) == nil {
			ok[i] = s.drives[i].Sync(ctx) == nil
		}
	})
	if count(ok) < s.writeQuorum() {
		parallel(len(s.drives), func(i int) { s.drives[i].Delete(context.WithoutCancel(ctx), dir, true) })
		return "", fmt.Errorf("%w: upload created on %d drives", ErrWriteQuorum, count(ok))
	}
	return um.UploadID, nil
}

// readUpload returns the upload's metadata as a read quorum of drives has it.
func (s *set) readUpload(ctx context.Context, dir string) (uploadMeta, error) {
	raws := make([][]byte, len(s.drives))
	responded := make([]bool, len(s.drives))
	parallel(len(s.drives), func(i int) {
		b, err := s.drives[i].ReadFile(ctx, dir+"/upload.json")
		raws[i] = b
		responded[i] = err == nil || errors.Is(err, drive.ErrNotFound)
	})
	if count(responded) < s.readQuorum() {
		return uploadMeta{}, ErrReadQuorum
	}
	votes := map[string]int{}
	for _, b := range raws {
		if b != nil {
			votes[string(b)]++
		}
	}
	for b, n := range votes {
		if n >= s.readQuorum() {
			var um uploadMeta
			if err := json.Unmarshal([]byte(b), &um); err != nil {
				return uploadMeta{}, fmt.Errorf("objects: upload metadata: %w", err)
			}
			return um, nil
		}
	}
	return uploadMeta{}, ErrUploadNotFound
}

func checkUpload(bucket, key, uploadID string) error {
	if err := checkObjectName(key); err != nil {
		return err
	}
	if _, ok := parseUUID(uploadID); !ok {
		return ErrUploadNotFound
	}
	return nil
}

// PutObjectPart stores one part of an upload, replacing an earlier part with the
// same number. The part's ETag is the MD5 of the stored bytes, or what
// opts.ETagFunc gives.
func (l *Layer) PutObjectPart(ctx context.Context, bucket, key, uploadID string, part int, body io.Reader, opts PartOptions) (PartInfo, error) {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return PartInfo{}, err
	}
	if part < 1 || part > maxPartNumber {
		return PartInfo{}, fmt.Errorf("%w: part number %d outside 1..%d", ErrInvalidPart, part, maxPartNumber)
	}
	if opts.Size > MaxObjectSize {
		return PartInfo{}, ErrEntityTooLarge
	}
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return PartInfo{}, err
	}
	s := l.uploadSet(ctx, bucket, key, uploadID)
	dir := uploadDir(bucket, key, uploadID)
	um, err := s.readUpload(ctx, dir)
	if err != nil {
		return PartInfo{}, err
	}
	so := stageOptions{size: opts.Size, md5: opts.ContentMD5, rot: um.Rotation}
	if opts.ETagFunc != nil {
		so.md5, so.noMD5 = nil, true // the body is transformed: the caller checks the client's MD5
	}
	st, err := s.stage(ctx, body, so)
	if err != nil {
		return PartInfo{}, err
	}
	defer st.cleanup(context.WithoutCancel(ctx))
	etag := st.etag
	if opts.ETagFunc != nil {
		if etag = opts.ETagFunc(); !isMD5Hex(etag) {
			return PartInfo{}, fmt.Errorf("objects: part %d: ETagFunc gave %q, not a hex MD5", part, etag)
		}
	}
	id := newID()
	pm := partMeta{ID: hex.EncodeToString(id[:]), Number: part, Size: st.size, ETag: etag, ModTime: l.now().UTC()}
	if opts.Checksum != nil && opts.Checksum.Value != "" {
		pm.Checksums = map[string]string{opts.Checksum.Algorithm: opts.Checksum.Value}
	}
	data, _ := json.Marshal(pm)
	unlock, err := l.lockWrite(ctx, "\x00upload/"+uploadID)
	if err != nil {
		return PartInfo{}, err
	}
	defer unlock()
	if _, err := s.readUpload(ctx, dir); err != nil { // aborted or completed meanwhile
		return PartInfo{}, err
	}
	name := "part." + itoa(part)
	ok := make([]bool, len(s.drives))
	parallel(len(s.drives), func(i int) {
		if !st.ok[i] {
			return
		}
		d := s.drives[i]
		if d.Rename(ctx, st.tmpFile, dir+"/"+name) != nil {
			return
		}
		if d.WriteFile(ctx, dir+"/"+name+".json", data) != nil {
			return
		}
		ok[i] = d.Sync(ctx) == nil
	})
	if count(ok) < s.writeQuorum() {
		return PartInfo{}, fmt.Errorf("%w: part stored on %d drives", ErrWriteQuorum, count(ok))
	}
	return PartInfo{Number: part, Size: pm.Size, ETag: pm.ETag, ModTime: pm.ModTime, Checksums: pm.Checksums}, nil
}

// isMD5Hex reports whether s is an MD5 in lower-case hex, as part ETags are.
func isMD5Hex(s string) bool {
	if len(s) != 2*md5.Size {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// sameUpload reports whether a and b describe the same upload of a part, and
// so the same shards.
func (a partMeta) sameUpload(b partMeta) bool {
	return a.Number == b.Number && a.ID == b.ID && a.ETag == b.ETag && a.Size == b.Size && a.ModTime.Equal(b.ModTime)
}

// readParts returns the parts a read quorum of drives agrees on, by number
// (the newest upload of a number when two have a quorum), and each drive's
// parts (nil: the drive could not be read).
func (s *set) readParts(ctx context.Context, dir string) (map[int]partMeta, []map[int]partMeta, error) {
	lists := make([]map[int]partMeta, len(s.drives))
	parallel(len(s.drives), func(i int) {
		names, err := s.drives[i].List(ctx, dir)
		if err != nil {
			return
		}
		m := map[int]partMeta{}
		for _, n := range names {
			if !strings.HasPrefix(n, "part.") || !strings.HasSuffix(n, ".json") {
				continue
			}
			b, err := s.drives[i].ReadFile(ctx, dir+"/"+n)
			if err != nil {
				continue
			}
			var pm partMeta
			if json.Unmarshal(b, &pm) == nil {
				m[pm.Number] = pm
			}
		}
		lists[i] = m
	})
	out := map[int]partMeta{}
	for i, m := range lists {
		for n, pm := range m {
			votes := 1
			for _, o := range lists[i+1:] {
				if op, ok := o[n]; ok && op.sameUpload(pm) {
					votes++
				}
			}
			if votes >= s.readQuorum() {
				if cur, ok := out[n]; !ok || pm.ModTime.After(cur.ModTime) {
					out[n] = pm
				}
			}
		}
	}
	return out, lists, nil
}

// CompleteMultipartUpload assembles the listed parts into the object's newest version.
func (l *Layer) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error) {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return ObjectInfo{}, err
	}
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return ObjectInfo{}, fmt.Errorf("%w: no parts", ErrInvalidPart)
	}
	s := l.uploadSet(ctx, bucket, key, uploadID)
	dir := uploadDir(bucket, key, uploadID)
	unlockUp, err := l.lockWrite(ctx, "\x00upload/"+uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer unlockUp()
	um, err := s.readUpload(ctx, dir)
	if err != nil {
		return ObjectInfo{}, err
	}
	stored, onDrive, err := s.readParts(ctx, dir)
	if err != nil {
		return ObjectInfo{}, err
	}
	v := meta.Version{
		Kind: meta.KindObject, Meta: um.Meta, Tags: um.Tags, DataDir: newID(),
		Erasure: meta.Erasure{Data: s.data, Parity: s.parity, BlockSize: s.ec.BlockSize(), BitrotAlgorithm: uint8(defaultBitrot)},
	}
	md5s := md5.New()
	keep := map[string]bool{}
	for i, cp := range parts {
		if i > 0 && cp.Number <= parts[i-1].Number {
			return ObjectInfo{}, ErrInvalidPartOrder
		}
		pm, ok := stored[cp.Number]
		if !ok || strings.Trim(cp.ETag, `"`) != pm.ETag {
			return ObjectInfo{}, fmt.Errorf("%w: part %d", ErrInvalidPart, cp.Number)
		}
		if i < len(parts)-1 && pm.Size < MinPartSize {
			return ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes", ErrPartTooSmall, cp.Number, pm.Size)
		}
		raw, _ := hex.DecodeString(pm.ETag)
		md5s.Write(raw)
		v.Size += pm.Size
		v.Parts = append(v.Parts, meta.Part{Number: pm.Number, Size: pm.Size, ETag: pm.ETag, Checksums: pm.Checksums})
		keep["part."+itoa(pm.Number)] = true
	}
	v.ETag = fmt.Sprintf("%x-%d", md5s.Sum(nil), len(parts))
	if opts.ActualSize > 0 || (opts.ActualSize == 0 && hasInternal(um.Meta)) {
		v.Meta = withInternal(v.Meta, nil, opts.ActualSize)
		if opts.ActualSize == 0 {
			v.Meta[internalPrefix+"Actual-Size"] = "0"
		}
	}
	if opts.Checksum != nil && opts.Checksum.Value != "" {
		v.Checksums = map[string]string{opts.Checksum.Algorithm: opts.Checksum.Value}
		v.ChecksumType = opts.ChecksumType
	} else if um.ChecksumAlgorithm != "" && um.ChecksumType != "FULL_OBJECT" {
		if sum, ok := compositeChecksum(um.ChecksumAlgorithm, v.Parts); ok {
			v.Checksums = map[string]string{um.ChecksumAlgorithm: sum}
			v.ChecksumType = "COMPOSITE"
		}
	}
	stem, metas, cur, unlock, err := s.lockedView(ctx, bucket, key)
	if err != nil {
		return ObjectInfo{}, asWriteQuorum(err)
	}
	defer unlock()
	if err := checkConditions(cur, opts.Conditions); err != nil {
		return ObjectInfo{}, err
	}
	if cfg.Versioning == VersioningEnabled {
		v.ID = newID()
	}
	v.ModTime = l.now().UTC()
	if latest := cur.Latest(); latest != nil && !v.ModTime.After(latest.ModTime) {
		v.ModTime = latest.ModTime.Add(1)
	}
	n := len(s.drives)
	dataDir := dataDirPath(stem, v.DataDir)
	leftovers := make([][]string, n)
	var mu sync.Mutex
	err = s.run(ctx, commit{
		bucket: bucket, key: key,
		stem: stem, metas: metas,
		prepare: func(ctx context.Context, i int) error {
			// A drive that missed the last upload of a part still holds an
			// earlier upload's shards: it takes no part in the commit (the
			// heal gives it the object's shards later).
			for _, p := range v.Parts {
				if pm, ok := onDrive[i][p.Number]; !ok || !pm.sameUpload(stored[p.Number]) {
					return fmt.Errorf("%w: drive %d holds another upload of part %d", ErrInvalidPart, i, p.Number)
				}
			}
			names, err := s.drives[i].List(ctx, dir)
			if err != nil {
				return err
			}
			var extra []string
			for _, name := range names {
				if !keep[name] {
					extra = append(extra, dataDir+"/"+name)
				}
			}
			mu.Lock()
			leftovers[i] = extra
			mu.Unlock()
			return s.drives[i].Rename(ctx, dir, dataDir)
		},
		undo: func(ctx context.Context, i int) { s.drives[i].Rename(ctx, dataDir, dir) },
		apply: func(i int, f *meta.File) []string {
			dv := v
			dv.Erasure.Index = (i - um.Rotation + n) % n
			return append(replacedGarbage(stem, f.Add(dv)), leftovers[i]...)
		},
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	// Drives that missed the commit still hold the upload directory: remove it.
	parallel(n, func(i int) { s.drives[i].Delete(context.WithoutCancel(ctx), dir, true) })
	return versionInfo(bucket, key, &v, true, cfg.Versioning), nil
}

// AbortMultipartUpload discards an upload and its parts.
func (l *Layer) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return err
	}
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return err
	}
	s := l.uploadSet(ctx, bucket, key, uploadID)
	dir := uploadDir(bucket, key, uploadID)
	unlock, err := l.lockWrite(ctx, "\x00upload/"+uploadID)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.readUpload(ctx, dir); err != nil {
		return err
	}
	ok := make([]bool, len(s.drives))
	parallel(len(s.drives), func(i int) {
		if s.drives[i].Delete(ctx, dir, true) == nil {
			ok[i] = s.drives[i].Sync(ctx) == nil
		}
	})
	if count(ok) < s.writeQuorum() {
		return fmt.Errorf("%w: upload removed from %d drives", ErrWriteQuorum, count(ok))
	}
	return nil
}

// ListParts lists an upload's parts after marker.
func (l *Layer) ListParts(ctx context.Context, bucket, key, uploadID string, marker, maxParts int) (ListPartsResult, error) {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return ListPartsResult{}, err
	}
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return ListPartsResult{}, err
	}
	if maxParts <= 0 || maxParts > 1000 {
		maxParts = 1000
	}
	s := l.uploadSet(ctx, bucket, key, uploadID)
	dir := uploadDir(bucket, key, uploadID)
	um, err := s.readUpload(ctx, dir)
	if err != nil {
		return ListPartsResult{}, err
	}
	stored, _, err := s.readParts(ctx, dir)
	if err != nil {
		return ListPartsResult{}, err
	}
	nums := make([]int, 0, len(stored))
	for n := range stored {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	res := ListPartsResult{Upload: um.info(bucket)}
	for _, n := range nums {
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		pm := stored[n]
		res.Parts = append(res.Parts, PartInfo{Number: n, Size: pm.Size, ETag: pm.ETag, ModTime: pm.ModTime, Checksums: pm.Checksums})
		res.NextPartNumberMarker = n
	}
	return res, nil
}

func (um uploadMeta) info(bucket string) UploadInfo {
	return UploadInfo{Bucket: bucket, Key: um.Key, UploadID: um.UploadID, Initiated: um.Initiated, Meta: um.Meta,
		ChecksumAlgorithm: um.ChecksumAlgorithm, ChecksumType: um.ChecksumType}
}

// UploadInfo describes an upload in progress (ErrUploadNotFound when there is none).
func (l *Layer) UploadInfo(ctx context.Context, bucket, key, uploadID string) (UploadInfo, error) {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return UploadInfo{}, err
	}
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return UploadInfo{}, err
	}
	um, err := l.uploadSet(ctx, bucket, key, uploadID).readUpload(ctx, uploadDir(bucket, key, uploadID))
	if err != nil {
		return UploadInfo{}, err
	}
	return um.info(bucket), nil
}

// ListMultipartUploads lists uploads in progress, by key then initiation time.
func (l *Layer) ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	if _, err := l.BucketConfig(ctx, bucket); err != nil {
		return ListUploadsResult{}, err
	}
	max := opts.MaxUploads
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var all []uploadMeta
	for _, s := range l.allSets() {
		ups, err := s.uploads(ctx, bucket)
		if err != nil {
			return ListUploadsResult{}, err
		}
		all = append(all, ups...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Key != all[j].Key {
			return all[i].Key < all[j].Key
		}
		if !all[i].Initiated.Equal(all[j].Initiated) {
			return all[i].Initiated.Before(all[j].Initiated)
		}
		return all[i].UploadID < all[j].UploadID
	})
	var res ListUploadsResult
	pastMarker := func(um uploadMeta) bool {
		if opts.KeyMarker == "" {
			return true
		}
		if opts.UploadIDMarker == "" {
			return um.Key > opts.KeyMarker
		}
		if um.Key != opts.KeyMarker {
			return um.Key > opts.KeyMarker
		}
		return um.UploadID > opts.UploadIDMarker
	}
	n := 0
	for _, um := range all {
		if !strings.HasPrefix(um.Key, opts.Prefix) || !pastMarker(um) {
			continue
		}
		if opts.Delimiter != "" {
			rest := um.Key[len(opts.Prefix):]
			if i := strings.Index(rest, opts.Delimiter); i >= 0 {
				cp := opts.Prefix + rest[:i+len(opts.Delimiter)]
				if len(res.Prefixes) > 0 && res.Prefixes[len(res.Prefixes)-1] == cp {
					continue
				}
				if n == max {
					res.IsTruncated = true
					break
				}
				res.Prefixes = append(res.Prefixes, cp)
				res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
				n++
				continue
			}
		}
		if n == max {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, um.info(bucket))
		res.NextKeyMarker, res.NextUploadIDMarker = um.Key, um.UploadID
		n++
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return res, nil
}

// uploads reads every upload of bucket held by a read quorum of the set's drives.
func (s *set) uploads(ctx context.Context, bucket string) ([]uploadMeta, error) {
	root := multipartBucketDir(bucket)
	found := make([]map[string][]byte, len(s.drives))
	parallel(len(s.drives), func(i int) {
		d := s.drives[i]
		m := map[string][]byte{}
		hashes, err := d.List(ctx, root)
		if err != nil {
			return
		}
		for _, h := range hashes {
			ids, err := d.List(ctx, root+"/"+strings.TrimSuffix(h, "/"))
			if err != nil {
				continue
			}
			for _, id := range ids {
				p := root + "/" + strings.TrimSuffix(h, "/") + "/" + strings.TrimSuffix(id, "/") + "/upload.json"
				if b, err := d.ReadFile(ctx, p); err == nil {
					m[string(b)] = b
				}
			}
		}
		found[i] = m
	})
	votes := map[string]int{}
	for _, m := range found {
		for k := range m {
			votes[k]++
		}
	}
	var out []uploadMeta
	for b, n := range votes {
		if n < s.readQuorum() {
			continue
		}
		var um uploadMeta
		if json.Unmarshal([]byte(b), &um) == nil {
			out = append(out, um)
		}
	}
	return out, nil
}

// uploadSet is the set holding an upload: the one whose drives have it (with
// several pools), else the set a new upload of the key would use.
func (l *Layer) uploadSet(ctx context.Context, bucket, key, uploadID string) *set {
	ps := l.poolList()
	if len(ps) > 1 {
		dir := uploadDir(bucket, key, uploadID)
		for _, p := range ps {
			s := l.setIn(p, bucket, key)
			if _, err := s.readUpload(ctx, dir); err == nil {
				return s
			}
		}
	}
	return l.writeSet(ctx, bucket, key)
}
