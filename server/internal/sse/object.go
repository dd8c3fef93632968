package sse

import (
	"context"
	"fmt"
	"io"
)

// An encrypted object is one stream (single PUT, part 0) or one stream per part
// (multipart upload, each part under its own number). Segment places each stream
// in the object's stored bytes and in its plaintext.

// Segment is one stream of an encrypted object.
type Segment struct {
	Part         uint32 // 0 for a single PUT, else the part number
	StoredOffset int64  // where the stream starts in the stored object
	StoredSize   int64
	PlainOffset  int64 // where its plaintext starts in the object's plaintext
	PlainSize    int64
}

// PartSize is the number and stored size of one part of a multipart object.
type PartSize struct {
	Number     int
	StoredSize int64
}

// Segments lays out an object: parts nil means a single stream of storedSize bytes.
func Segments(storedSize int64, parts []PartSize) ([]Segment, error) {
	if len(parts) == 0 {
		plain, err := DecryptedSize(storedSize)
		if err != nil {
			return nil, err
		}
		return []Segment{{StoredSize: storedSize, PlainSize: plain}}, nil
	}
	segs := make([]Segment, len(parts))
	var so, po int64
	for i, p := range parts {
		if p.Number < 1 || p.Number > 10000 {
			return nil, fmt.Errorf("%w: part number %d", ErrCorrupt, p.Number)
		}
		plain, err := DecryptedSize(p.StoredSize)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", p.Number, err)
		}
		segs[i] = Segment{Part: uint32(p.Number), StoredOffset: so, StoredSize: p.StoredSize, PlainOffset: po, PlainSize: plain}
		so += p.StoredSize
		po += plain
	}
	if so != storedSize {
		return nil, fmt.Errorf("%w: parts hold %d bytes of %d", ErrCorrupt, so, storedSize)
	}
	return segs, nil
}

// PlainSize is the plaintext size of an object laid out as segs.
func PlainSize(segs []Segment) int64 {
	if len(segs) == 0 {
		return 0
	}
	last := segs[len(segs)-1]
	return last.PlainOffset + last.PlainSize
}

// RangeWriter writes stored bytes of an object; objects.Object is one.
type RangeWriter interface {
	WriteRange(ctx context.Context, w io.Writer, offset, length int64) error
}

// DecryptRange writes plaintext bytes [off, off+length) of the object laid out
// as segs to w. It reads through src only the header and the packages each
// stream needs: one WriteRange when they are adjacent (the range starts in the
// first package), else one for the header and one for the packages.
func DecryptRange(ctx context.Context, src RangeWriter, w io.Writer, key ObjectKey, segs []Segment, off, length int64) error {
	if off < 0 || length < 0 || off+length > PlainSize(segs) {
		return fmt.Errorf("sse: range %d+%d outside a plaintext of %d bytes", off, length, PlainSize(segs))
	}
	end := off + length
	for _, s := range segs {
		from, to := max(off, s.PlainOffset), min(end, s.PlainOffset+s.PlainSize)
		if from >= to {
			continue
		}
		r, err := StreamRange(s.StoredSize, from-s.PlainOffset, to-from)
		if err != nil {
			return err
		}
		dw := NewDecryptWriter(w, key, s.Part, r)
		if r.Offset == HeaderSize {
			err = src.WriteRange(ctx, dw, s.StoredOffset, HeaderSize+r.Length)
		} else if err = src.WriteRange(ctx, dw, s.StoredOffset, HeaderSize); err == nil {
			err = src.WriteRange(ctx, dw, s.StoredOffset+r.Offset, r.Length)
		}
		if cerr := dw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
