// Package meta is the on-disk format of per-object metadata: one file per object on
// every drive of the object's erasure set, holding all versions of the object.
//
// A file holds the object's versions (newest first) and delete markers, each with its
// user and system metadata, erasure layout, part list with sizes, ETags and checksums,
// and, for small objects, this drive's shard inline. Everything but the inline shard
// and the shard index is identical on every drive of the set; Signature summarises the
// identical part so readers can find the version history a quorum of drives agrees on.
//
// The encoding is a versioned binary format: magic, format version, body, then a
// CRC-32C of everything before it. Unmarshal rejects any file whose checksum or
// structure is wrong; it never panics on arbitrary input (see FuzzUnmarshal).
//
// Format versions: 1 is the original layout. 2 appends to every version a flags
// byte and the optional fields it announces; the only one so far is the
// Transition record (tier, remote key, transition time, restore expiry) of a
// version whose data was moved to a remote tier. Unmarshal reads both. Marshal
// writes format 1 whenever no version has a Transition, so a deployment that
// never transitions anything writes exactly what it wrote before (and an older
// server can still read it); a file holding a transitioned version is format 2,
// which an older server refuses with ErrVersionSkew rather than misreading it.
//
// Ordering invariant: versions are kept sorted by (ModTime, ID) descending, so two
// drives that apply the same updates in any order end with identical version lists.
package meta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"time"
)

// Kind is what a version is.
type Kind uint8

const (
	KindObject       Kind = 1
	KindDeleteMarker Kind = 2
)

// VersionID is a version's identifier; the zero value is the S3 "null" version.
type VersionID [16]byte

// IsNull reports whether id is the null version.
func (id VersionID) IsNull() bool { return id == VersionID{} }

// Erasure is the erasure layout of a version, as written.
type Erasure struct {
	Data, Parity int
	BlockSize    int
	// Index is the shard number (0-based) that this drive holds.
	Index int
	// BitrotAlgorithm is the bitrot hash id (see package bitrot).
	BitrotAlgorithm uint8
}

// Part is one part of an object: a single PUT has one part, numbered 1.
type Part struct {
	Number int
	Size   int64
	ETag   string
	// Checksums of the part, algorithm → base64 value.
	Checksums map[string]string
}

// Version is one version of an object, or a delete marker.
type Version struct {
	ID      VersionID
	Kind    Kind
	ModTime time.Time
	Size    int64
	ETag    string
	// Meta: stored HTTP metadata (canonical header names, user metadata as X-Amz-Meta-*).
	Meta map[string]string
	// Tags: url-encoded tag set.
	Tags string
	// Checksums of the whole object, algorithm → base64; ChecksumType FULL_OBJECT/COMPOSITE.
	Checksums    map[string]string
	ChecksumType string
	Erasure      Erasure
	// DataDir names the directory holding the part files; zero when the data is inline
	// or the version is a delete marker.
	DataDir [16]byte
	// DataFile: the version's single part is a file named by DataDir itself rather
	// than a directory of part files (saves a directory per single-part object).
	DataFile bool
	Parts    []Part
	// Inline is this drive's framed shard when the object is stored inline (Inline != nil).
	Inline []byte
	// Transition, when set, says the version's data was moved to a remote tier:
	// the version is a stub whose Size, ETag, checksums, metadata and parts
	// describe the data as before, without local data (DataDir zero, Inline nil)
	// unless a restored copy is present (Transition.RestoreExpiry set).
	Transition *Transition
}

// Transition records where a transitioned version's data lives.
type Transition struct {
	Tier      string    // the tier's name (the StorageClass lifecycle rules name)
	RemoteKey string    // the key of the data in the tier (unique per transition)
	At        time.Time // when the data was moved
	// RestoreExpiry, when not zero, is when the restored local copy (DataDir or
	// Inline, with Erasure) expires and is dropped again.
	RestoreExpiry time.Time
}

// HasLocalData reports whether the version's data is on the drives: a version
// never transitioned, or a transitioned one with a restored copy (invariant: a
// transitioned version has local data exactly when RestoreExpiry is set).
func (v *Version) HasLocalData() bool {
	return v.Transition == nil || !v.Transition.RestoreExpiry.IsZero()
}

// IsInline reports whether the version's data lives inside the metadata file.
func (v *Version) IsInline() bool { return v.Inline != nil }

// File is the content of one object's metadata file.
type File struct {
	Versions []Version
}

// Errors returned by Unmarshal.
var (
	ErrCorrupt     = errors.New("meta: corrupt metadata file")
	ErrVersionSkew = errors.New("meta: unsupported metadata format version")
)

const (
	magic = "CRNM"
	// formatVersion is the newest format: 2 adds, after each version, a flags
	// byte and the fields it announces (flagTransition: Transition). Marshal
	// writes format 1 when no version needs format 2, so files of versions
	// never transitioned stay readable by servers that only know format 1.
	formatVersion = 2
	formatV1      = 1
	// flags of a format-2 version.
	flagTransition = 1 << 0
	knownFlags     = flagTransition
	// limits that bound what a corrupt or hostile file can make Unmarshal allocate.
	maxVersions = 1 << 20
	maxMapLen   = 1 << 12
	maxParts    = 10000
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Less orders versions newest first: by ModTime, then by ID, descending.
func Less(a, b *Version) bool {
	if !a.ModTime.Equal(b.ModTime) {
		return a.ModTime.After(b.ModTime)
	}
	return bytes.Compare(a.ID[:], b.ID[:]) > 0
}

// Sort sorts f's versions newest first.
func (f *File) Sort() {
	sort.SliceStable(f.Versions, func(i, j int) bool { return Less(&f.Versions[i], &f.Versions[j]) })
}

// Latest returns the newest version, or nil when the file has none.
func (f *File) Latest() *Version {
	if len(f.Versions) == 0 {
		return nil
	}
	return &f.Versions[0]
}

// Find returns the version with id, or nil.
func (f *File) Find(id VersionID) *Version {
	for i := range f.Versions {
		if f.Versions[i].ID == id {
			return &f.Versions[i]
		}
	}
	return nil
}

// Add inserts v, keeping the order, and returns the version that lost, if any.
// Versions with the same ID (the null version, rewritten) are merged
// deterministically: the one that sorts newer (Less) stays, whatever order the
// updates arrive in, so drives that apply two concurrent writes in different orders
// end identical. The loser is returned: the replaced version, or v itself when an
// existing version is newer (the caller then discards v's data).
func (f *File) Add(v Version) (replaced *Version) {
	for i := range f.Versions {
		if f.Versions[i].ID != v.ID {
			continue
		}
		if Less(&f.Versions[i], &v) {
			lost := v
			return &lost
		}
		old := f.Versions[i]
		f.Versions = append(f.Versions[:i], f.Versions[i+1:]...)
		replaced = &old
		break
	}
	i := sort.Search(len(f.Versions), func(i int) bool { return Less(&v, &f.Versions[i]) })
	f.Versions = append(f.Versions, Version{})
	copy(f.Versions[i+1:], f.Versions[i:])
	f.Versions[i] = v
	return replaced
}

// Remove deletes the version with id and returns it, or nil when absent.
func (f *File) Remove(id VersionID) *Version {
	for i := range f.Versions {
		if f.Versions[i].ID == id {
			old := f.Versions[i]
			f.Versions = append(f.Versions[:i], f.Versions[i+1:]...)
			return &old
		}
	}
	return nil
}

// Signature hashes the drive-independent part of the version history (ids, kinds,
// times, sizes, ETags, data dirs). Drives whose files have equal signatures agree.
func (f *File) Signature() uint32 {
	var buf []byte
	for i := range f.Versions {
		v := &f.Versions[i]
		buf = append(buf, v.ID[:]...)
		buf = append(buf, byte(v.Kind))
		buf = binary.BigEndian.AppendUint64(buf, uint64(v.ModTime.UnixNano()))
		buf = binary.BigEndian.AppendUint64(buf, uint64(v.Size))
		buf = append(buf, v.ETag...)
		buf = append(buf, v.DataDir[:]...)
		if v.DataFile {
			buf = append(buf, 1)
		}
		buf = append(buf, v.Tags...)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.Meta)))
		if t := v.Transition; t != nil {
			buf = append(buf, t.Tier...)
			buf = append(buf, t.RemoteKey...)
			buf = binary.BigEndian.AppendUint64(buf, uint64(t.RestoreExpiry.UnixNano()))
		}
	}
	return crc32.Checksum(buf, castagnoli)
}

// Marshal encodes f.
func (f *File) Marshal() []byte {
	size := 64
	for i := range f.Versions {
		size += 128 + len(f.Versions[i].Inline)
	}
	format := byte(formatV1)
	for i := range f.Versions {
		if f.Versions[i].Transition != nil {
			format = formatVersion
		}
	}
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = append(b, format)
	b = binary.AppendUvarint(b, uint64(len(f.Versions)))
	for i := range f.Versions {
		b = appendVersion(b, &f.Versions[i], format)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func appendVersion(b []byte, v *Version, format byte) []byte {
	b = append(b, v.ID[:]...)
	b = append(b, byte(v.Kind))
	b = binary.AppendVarint(b, v.ModTime.UnixNano())
	b = binary.AppendVarint(b, v.Size)
	b = appendString(b, v.ETag)
	b = appendMap(b, v.Meta)
	b = appendString(b, v.Tags)
	b = appendMap(b, v.Checksums)
	b = appendString(b, v.ChecksumType)
	for _, n := range []int{v.Erasure.Data, v.Erasure.Parity, v.Erasure.BlockSize, v.Erasure.Index} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	b = append(b, v.Erasure.BitrotAlgorithm)
	b = append(b, v.DataDir[:]...)
	if v.DataFile {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(v.Parts)))
	for _, p := range v.Parts {
		b = binary.AppendUvarint(b, uint64(p.Number))
		b = binary.AppendVarint(b, p.Size)
		b = appendString(b, p.ETag)
		b = appendMap(b, p.Checksums)
	}
	if v.Inline == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(v.Inline)))
		b = append(b, v.Inline...)
	}
	if format < 2 {
		return b
	}
	t := v.Transition
	if t == nil {
		return append(b, 0)
	}
	b = append(b, flagTransition)
	b = appendString(b, t.Tier)
	b = appendString(b, t.RemoteKey)
	b = binary.AppendVarint(b, t.At.UnixNano())
	if t.RestoreExpiry.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.RestoreExpiry.UnixNano())
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic bytes for equal content
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

// Unmarshal decodes a metadata file. Inline data aliases buf.
func Unmarshal(buf []byte) (*File, error) {
	if len(buf) < len(magic)+1+4 || string(buf[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	body, sum := buf[:len(buf)-4], binary.BigEndian.Uint32(buf[len(buf)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	format := body[len(magic)]
	if format != formatV1 && format != formatVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersionSkew, format)
	}
	d := decoder{buf: body[len(magic)+1:], format: format}
	n := d.count(maxVersions)
	f := &File{Versions: make([]Version, 0, min(n, 64))}
	for i := 0; i < n && d.err == nil; i++ {
		f.Versions = append(f.Versions, d.version())
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return f, nil
}

type decoder struct {
	buf    []byte
	err    error
	format byte
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
	d.buf = nil
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.buf) {
		d.fail("truncated")
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// count reads a length that must be at most limit.
func (d *decoder) count(limit int) int {
	v := d.uvarint()
	if v > uint64(limit) {
		d.fail("count out of range")
		return 0
	}
	return int(v)
}

func (d *decoder) string() string { return string(d.bytes(d.count(len(d.buf)))) }

func (d *decoder) byte() byte {
	b := d.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) stringMap() map[string]string {
	n := d.count(maxMapLen)
	if n == 0 || d.err != nil {
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

func (d *decoder) version() Version {
	var v Version
	copy(v.ID[:], d.bytes(16))
	v.Kind = Kind(d.byte())
	if v.Kind != KindObject && v.Kind != KindDeleteMarker {
		d.fail("bad version kind")
	}
	v.ModTime = time.Unix(0, d.varint()).UTC()
	v.Size = d.varint()
	if v.Size < 0 {
		d.fail("negative size")
	}
	v.ETag = d.string()
	v.Meta = d.stringMap()
	v.Tags = d.string()
	v.Checksums = d.stringMap()
	v.ChecksumType = d.string()
	v.Erasure.Data = d.count(256)
	v.Erasure.Parity = d.count(256)
	v.Erasure.BlockSize = d.count(1 << 30)
	v.Erasure.Index = d.count(256)
	v.Erasure.BitrotAlgorithm = d.byte()
	copy(v.DataDir[:], d.bytes(16))
	switch d.byte() {
	case 0:
	case 1:
		v.DataFile = true
	default:
		d.fail("bad data file flag")
	}
	if n := d.count(maxParts); n > 0 {
		v.Parts = make([]Part, 0, min(n, 64))
		for i := 0; i < n && d.err == nil; i++ {
			var p Part
			p.Number = d.count(maxParts)
			p.Size = d.varint()
			p.ETag = d.string()
			p.Checksums = d.stringMap()
			v.Parts = append(v.Parts, p)
		}
	}
	switch d.byte() {
	case 0:
	case 1:
		v.Inline = d.bytes(d.count(len(d.buf)))
		if v.Inline == nil && d.err == nil {
			v.Inline = []byte{}
		}
	default:
		d.fail("bad inline flag")
	}
	if d.format < 2 {
		return v
	}
	flags := d.byte()
	if flags&^knownFlags != 0 {
		d.fail("unknown version flags")
	}
	if flags&flagTransition != 0 {
		t := &Transition{Tier: d.string(), RemoteKey: d.string(), At: time.Unix(0, d.varint()).UTC()}
		if n := d.varint(); n != 0 {
			t.RestoreExpiry = time.Unix(0, n).UTC()
		}
		if t.Tier == "" || t.RemoteKey == "" {
			d.fail("transition without tier or remote key")
		}
		v.Transition = t
	}
	return v
}
