package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// sha256Reader hashes the payload as it passes and, at the end, compares the
// hash with x-amz-content-sha256. Read does not allocate.
type sha256Reader struct {
	src  io.ReadCloser
	h    hash.Hash
	want [32]byte
	got  [32]byte
	err  error // sticky: the underlying error, io.EOF or the mismatch
}

var _ io.ReadCloser = (*sha256Reader)(nil)

func newSHA256Reader(src io.ReadCloser, want [32]byte) *sha256Reader {
	return &sha256Reader{src: src, h: sha256.New(), want: want}
}

// Read returns the payload bytes as they arrive. At the end of the payload
// it returns io.EOF if the hash matched and an error wrapping
// ErrContentSHA256Mismatch otherwise. Errors are sticky.
func (s *sha256Reader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := s.src.Read(p)
	s.h.Write(p[:n])
	switch {
	case err == io.EOF:
		s.h.Sum(s.got[:0])
		if s.got != s.want {
			s.err = fmt.Errorf("%w: the provided x-amz-content-sha256 %s does not match the computed %s",
				ErrContentSHA256Mismatch, hex.EncodeToString(s.want[:]), hex.EncodeToString(s.got[:]))
			return n, s.err
		}
		s.err = io.EOF
	case err != nil:
		s.err = err
	}
	return n, err
}

// Close closes the underlying body.
func (s *sha256Reader) Close() error {
	return s.src.Close()
}
