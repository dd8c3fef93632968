package bitrot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt is wrapped by every error that reports a frame whose hash does
// not match its data. Test for it with errors.Is; a *CorruptError carries the
// block number.
var ErrCorrupt = errors.New("bitrot: shard data corrupt")

// CorruptError reports a frame that failed verification.
type CorruptError struct {
	// Block is the number of the bad frame counted from the frame the
	// reader started at (0 is the first frame the reader read). A caller
	// that positioned the reader at block b adds b.
	Block int64
	// Reason is empty for a hash mismatch and otherwise says what else was
	// wrong (for example trailing bytes after the last frame).
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%v: block %d: %s", ErrCorrupt, e.Block, e.Reason)
	}
	return fmt.Sprintf("%v: block %d: hash mismatch", ErrCorrupt, e.Block)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// NewReader returns a reader of the verified data bytes of a framed shard.
//
// r must be positioned at a frame boundary (see FrameOffset) and dataSize is
// the number of data bytes from that frame to the end of the shard; the
// reader reads exactly the frames holding them and never reads past them.
// Each frame is read whole and verified before any of its bytes is returned,
// so a caller never sees an unverified byte: a mismatch returns an error
// wrapping ErrCorrupt (a *CorruptError naming the block), and a stream that
// ends early returns an error wrapping io.ErrUnexpectedEOF, never short data.
// Errors are sticky. Other errors from r are returned wrapped.
//
// A Read whose p has room for the whole data of the next frame reads the
// frame straight into p and verifies it there, without a copy; it returns the
// frame's bytes only once verified (on an error n is 0, and p may hold
// unverified bytes, as io.Reader allows for scratch space). Smaller Reads go
// through a frame buffer of blockSize + alg.Size() bytes, allocated on first
// need. The reader does not close r. If alg is not Valid, blockSize is not positive or
// dataSize is negative, every Read returns an error. The returned reader is
// not safe for concurrent use.
func NewReader(r io.Reader, alg Algorithm, blockSize int, dataSize int64) io.Reader {
	br := &reader{r: r, alg: alg, remaining: dataSize}
	if err := checkParams(alg, blockSize); err != nil {
		br.err = err
		return br
	}
	if dataSize < 0 {
		br.err = fmt.Errorf("bitrot: invalid data size %d", dataSize)
		return br
	}
	br.hs = alg.Size()
	br.blockSize = blockSize
	return br
}

type reader struct {
	r         io.Reader
	alg       Algorithm
	hs        int
	blockSize int
	remaining int64  // data bytes not yet read from r
	block     int64  // number of the next frame to read from r
	frame     []byte // allocated on first use: hash || block
	data      []byte // verified bytes of the current frame not yet returned
	sum       [MaxHashSize]byte
	want      [MaxHashSize]byte // the stored hash of a frame read straight into p
	err       error
}

var _ io.Reader = (*reader)(nil)

func (br *reader) Read(p []byte) (int, error) {
	if len(br.data) == 0 {
		if br.err != nil {
			return 0, br.err
		}
		if br.remaining == 0 {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		if n := int(min(int64(br.blockSize), br.remaining)); len(p) >= n {
			if err := br.readInto(p[:n]); err != nil {
				br.err = err
				return 0, err
			}
			return n, nil
		}
		if err := br.next(); err != nil {
			br.err = err
			return 0, err
		}
	}
	n := copy(p, br.data)
	br.data = br.data[n:]
	return n, nil
}

// next reads and verifies one frame into br.data.
func (br *reader) next() error {
	n := int(min(int64(br.blockSize), br.remaining))
	if br.frame == nil {
		br.frame = make([]byte, br.hs+br.blockSize)
	}
	f := br.frame[:br.hs+n]
	if m, err := io.ReadFull(br.r, f); err != nil {
		return br.readError(m, len(f), err)
	}
	if !bytes.Equal(br.alg.sum(br.sum[:0], f[br.hs:]), f[:br.hs]) {
		return &CorruptError{Block: br.block}
	}
	br.data = f[br.hs:]
	br.remaining -= int64(n)
	br.block++
	return nil
}

// readInto reads the next frame, whose data is len(p) bytes, with its data
// straight into p, and verifies it.
func (br *reader) readInto(p []byte) error {
	h := br.want[:br.hs]
	if m, err := io.ReadFull(br.r, h); err != nil {
		return br.readError(m, len(h)+len(p), err)
	}
	if m, err := io.ReadFull(br.r, p); err != nil {
		return br.readError(len(h)+m, len(h)+len(p), err)
	}
	if !bytes.Equal(br.alg.sum(br.sum[:0], p), h) {
		return &CorruptError{Block: br.block}
	}
	br.remaining -= int64(len(p))
	br.block++
	return nil
}

func (br *reader) readError(got, want int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("bitrot: block %d: got %d of %d frame bytes: %w", br.block, got, want, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("bitrot: block %d: %w", br.block, err)
}

// Verify reads the framed shard from r like NewReader and discards the data,
// returning nil only if every frame is present and intact. It is the deep
// scan of a shard.
func Verify(r io.Reader, alg Algorithm, blockSize int, dataSize int64) error {
	_, err := io.Copy(io.Discard, NewReader(r, alg, blockSize, dataSize))
	return err
}
