package bitrot

import (
	"bytes"
	"fmt"
	"io"
)

// Frame returns data framed as NewWriter would frame it: FramedSize bytes
// of hash || block pairs. It is for small shards stored inline in the object
// metadata. It panics if alg is not Valid or blockSize is not positive, both
// of which are programming errors.
func Frame(alg Algorithm, blockSize int, data []byte) []byte {
	if err := checkParams(alg, blockSize); err != nil {
		panic(err)
	}
	out := make([]byte, 0, FramedSize(alg, int64(len(data)), blockSize))
	for len(data) > 0 {
		n := min(blockSize, len(data))
		out = alg.sum(out, data[:n])
		out = append(out, data[:n]...)
		data = data[n:]
	}
	return out
}

// Unframe verifies framed, which must be exactly the framing of dataSize data
// bytes, and returns a new slice holding the data. A hash mismatch, or bytes
// after the last frame, returns an error wrapping ErrCorrupt; framed shorter
// than FramedSize returns an error wrapping io.ErrUnexpectedEOF. No data is
// returned with an error.
func Unframe(alg Algorithm, blockSize int, framed []byte, dataSize int64) ([]byte, error) {
	if err := checkParams(alg, blockSize); err != nil {
		return nil, err
	}
	if dataSize < 0 {
		return nil, fmt.Errorf("bitrot: invalid data size %d", dataSize)
	}
	want := FramedSize(alg, dataSize, blockSize)
	if int64(len(framed)) < want {
		return nil, fmt.Errorf("bitrot: framed data is %d bytes, want %d: %w", len(framed), want, io.ErrUnexpectedEOF)
	}
	hs := alg.Size()
	var sum [MaxHashSize]byte
	out := make([]byte, 0, dataSize)
	rest := framed
	for block := int64(0); int64(len(out)) < dataSize; block++ {
		n := int(min(int64(blockSize), dataSize-int64(len(out))))
		if !bytes.Equal(alg.sum(sum[:0], rest[hs:hs+n]), rest[:hs]) {
			return nil, &CorruptError{Block: block}
		}
		out = append(out, rest[hs:hs+n]...)
		rest = rest[hs+n:]
	}
	if len(rest) != 0 {
		frames := (dataSize + int64(blockSize) - 1) / int64(blockSize)
		return nil, &CorruptError{Block: frames, Reason: fmt.Sprintf("%d trailing bytes after the last frame", len(rest))}
	}
	return out, nil
}
