package bitrot

import (
	"errors"
	"fmt"
	"io"
)

// ErrClosed is returned by a Writer's Write after Close.
var ErrClosed = errors.New("bitrot: write after close")

// NewWriter returns a WriteCloser that frames everything written to it into w
// as hash(block) || block, with alg as the hash and blocks of blockSize bytes.
//
// The writer buffers at most one block, sized by the first Write. Each full block is emitted as soon as
// it is complete, with exactly one Write call on w carrying the whole frame
// (hash and block together), so a caller that writes blockSize bytes per call
// gets one frame per call. Close emits the last, partial frame if one is
// buffered; a stream of zero bytes produces zero frames. Close does not close
// w.
//
// Errors are sticky: once a Write on w fails (a short write counts as
// io.ErrShortWrite), every later Write and Close returns that error and the
// bytes on w end with an incomplete or missing frame, which NewReader reports
// as corrupt or truncated. Write after Close returns ErrClosed; Close is
// idempotent. If alg is not Valid or blockSize is not positive, every call
// returns an error.
//
// The returned writer is not safe for concurrent use.
func NewWriter(w io.Writer, alg Algorithm, blockSize int) io.WriteCloser {
	bw := &writer{w: w, alg: alg}
	if err := checkParams(alg, blockSize); err != nil {
		bw.err = err
		return bw
	}
	bw.hs = alg.Size()
	bw.limit = bw.hs + blockSize
	return bw
}

type writer struct {
	w      io.Writer
	alg    Algorithm
	hs     int
	limit  int    // hs + blockSize: the size of a full frame
	frame  []byte // hash placeholder followed by the buffered block bytes; allocated on first Write
	err    error  // sticky error from w or from the parameters
	closed bool
}

var _ io.WriteCloser = (*writer)(nil)

func (bw *writer) Write(p []byte) (int, error) {
	if bw.err != nil {
		return 0, bw.err
	}
	if bw.closed {
		return 0, ErrClosed
	}
	if bw.frame == nil && len(p) > 0 {
		// Size the buffer by the first write: small objects never pay for a full block.
		bw.frame = make([]byte, bw.hs, min(bw.limit, bw.hs+len(p)))
	}
	n := 0
	for len(p) > 0 {
		c := min(len(p), bw.limit-len(bw.frame))
		bw.frame = append(bw.frame, p[:c]...)
		p = p[c:]
		if len(bw.frame) < bw.limit {
			n += c
			break
		}
		if err := bw.flush(); err != nil {
			return n, err
		}
		n += c
	}
	return n, nil
}

// flush emits the buffered block as one frame.
func (bw *writer) flush() error {
	bw.alg.sum(bw.frame[:0], bw.frame[bw.hs:])
	m, err := bw.w.Write(bw.frame)
	if err == nil && m != len(bw.frame) {
		err = io.ErrShortWrite
	}
	bw.frame = bw.frame[:bw.hs]
	if err != nil {
		bw.err = fmt.Errorf("bitrot: writing frame: %w", err)
		return bw.err
	}
	return nil
}

func (bw *writer) Close() error {
	if bw.err != nil {
		return bw.err
	}
	if bw.closed {
		return nil
	}
	bw.closed = true
	if len(bw.frame) > bw.hs {
		return bw.flush()
	}
	return nil
}

func checkParams(alg Algorithm, blockSize int) error {
	if !alg.Valid() {
		return fmt.Errorf("bitrot: invalid algorithm %d", uint8(alg))
	}
	if blockSize <= 0 {
		return fmt.Errorf("bitrot: invalid block size %d", blockSize)
	}
	return nil
}

// FramedSize returns the on-disk size of a shard holding dataSize data bytes
// framed in blocks of blockSize: the data plus one hash per started block.
// alg must be Valid, blockSize positive and dataSize non-negative.
func FramedSize(alg Algorithm, dataSize int64, blockSize int) int64 {
	frames := (dataSize + int64(blockSize) - 1) / int64(blockSize)
	return dataSize + frames*int64(alg.Size())
}

// FrameOffset returns the on-disk offset of the frame holding data block
// number block (counting from 0). Every frame before it is full, so this is
// also the offset of data byte block*blockSize. alg must be Valid.
func FrameOffset(alg Algorithm, block int64, blockSize int) int64 {
	return block * int64(alg.Size()+blockSize)
}
