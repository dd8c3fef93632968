package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// MaxChunkSize is the largest aws-chunked chunk the reader accepts. A signed
// chunk is held in memory until its signature is checked, so this bounds the
// memory one upload can pin.
const MaxChunkSize = 16 << 20

const (
	// maxLineLen bounds a chunk header or trailer line (it is also the size
	// of the bufio.Reader the decoder reads through).
	maxLineLen = 4096
	// maxTrailerLines bounds the lines of the trailer section.
	maxTrailerLines = 64
	// maxPooledChunk is the largest chunk buffer returned to the pool; bigger
	// ones are left to the garbage collector.
	maxPooledChunk = 2 << 20
	// minChunkAlloc is the smallest chunk buffer allocated; a buffer grows as
	// data arrives, so a chunk header that lies about its size costs nothing.
	minChunkAlloc = 64 << 10

	trailerSignatureName = "x-amz-trailer-signature"
)

// chunkBufs are the per-body buffers the Verifier pools.
type chunkBufs struct {
	br   *bufio.Reader
	data []byte
}

// chunkedReader decodes an aws-chunked body:
//
//	signed:   hex-size;chunk-signature=<64 hex>\r\n <data> \r\n ... 0;chunk-signature=<sig>\r\n
//	unsigned: hex-size\r\n <data> \r\n ... 0\r\n
//
// followed by "\r\n" or, in the trailer modes, by trailer lines
// "name:value\r\n", an x-amz-trailer-signature line (signed trailer mode
// only) and "\r\n".
//
// Invariants: a signed chunk is read whole, its signature checked, and only
// then are its bytes returned; no more bytes are ever returned than
// x-amz-decoded-content-length declares; io.EOF is returned only after the
// final chunk, the trailer and its signature have been read and checked and
// the decoded length matched; every other end of the stream is an error.
// Errors are sticky.
type chunkedReader struct {
	src  io.ReadCloser
	br   *bufio.Reader
	pool *sync.Pool
	bufs *chunkBufs // nil after release

	signed        bool // chunk signatures present and checked
	trailer       bool // a trailer section follows the final chunk
	trailerSigned bool // ... ending in x-amz-trailer-signature

	mac    hash.Hash // HMAC-SHA256 with the signing key
	sha    hash.Hash // SHA-256 of a chunk's data
	prev   [32]byte  // previous signature (the seed at first)
	sig    [32]byte  // scratch: computed signature
	got    [32]byte  // scratch: signature from the chunk header
	sum    [32]byte  // scratch: SHA-256 of chunk data
	prefix []byte    // "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n"
	sts    []byte    // scratch: string to sign

	declared int64 // x-amz-decoded-content-length, -1 when unknown
	total    int64 // decoded bytes accepted so far
	chunks   int   // chunks read, for error messages

	pending  []byte // checked bytes of the current signed chunk not yet returned
	left     int64  // unsigned: data bytes of the current chunk not yet read
	needCRLF bool   // unsigned: the CRLF after the current chunk is unread

	expect   []string // trailer names declared by x-amz-trailer (lowercase); nil = any
	trailers http.Header
	done     bool // io.EOF reached: trailers are final
	err      error
}

var _ io.ReadCloser = (*chunkedReader)(nil)

var errClosed = errors.New("sigv4: read from closed body")

func (v *Verifier) newChunkedReader(r *http.Request, body io.ReadCloser, mode payloadMode, key [32]byte, amzDate, scope string, seed [32]byte) (*chunkedReader, int64, error) {
	signed := mode != modeStreamingUnsignedTrailer
	declared := int64(-1)
	switch dl := r.Header.Values("X-Amz-Decoded-Content-Length"); {
	case len(dl) == 1 && isDigits(dl[0]) && len(dl[0]) <= 18:
		declared, _ = strconv.ParseInt(dl[0], 10, 64)
	case len(dl) == 0 && !signed:
	default:
		return nil, 0, fmt.Errorf("%w: %s requires one valid x-amz-decoded-content-length header", ErrMissingContentLength, r.Header.Get("X-Amz-Content-Sha256"))
	}
	c := &chunkedReader{
		src:           body,
		pool:          &v.bufs,
		signed:        signed,
		trailer:       mode != modeStreaming,
		trailerSigned: mode == modeStreamingTrailer,
		declared:      declared,
	}
	if c.trailer {
		for _, h := range r.Header.Values("X-Amz-Trailer") {
			for n := range strings.SplitSeq(h, ",") {
				if n = strings.ToLower(strings.TrimSpace(n)); n != "" && !slices.Contains(c.expect, n) {
					c.expect = append(c.expect, n)
				}
			}
		}
	}
	if signed {
		c.mac = hmac.New(sha256.New, key[:])
		c.sha = sha256.New()
		c.prev = seed
		c.prefix = []byte("AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n")
		c.sts = make([]byte, 0, len(c.prefix)+3*65)
	}
	c.bufs, _ = v.bufs.Get().(*chunkBufs)
	if c.bufs == nil {
		c.bufs = &chunkBufs{br: bufio.NewReaderSize(body, maxLineLen)}
	} else {
		c.bufs.br.Reset(body)
	}
	c.br = c.bufs.br
	return c, declared, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Read returns decoded payload bytes; see the type comment for when.
func (c *chunkedReader) Read(p []byte) (int, error) {
	for {
		if len(c.pending) > 0 {
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			return n, nil
		}
		if c.err != nil {
			return 0, c.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		if c.left > 0 {
			return c.readUnsigned(p)
		}
		if err := c.next(); err != nil {
			c.err = err
			c.done = err == io.EOF
			c.release()
		}
	}
}

// readUnsigned passes bytes of an unsigned chunk straight through.
func (c *chunkedReader) readUnsigned(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.total += int64(n)
	if err != nil {
		// Even at the end of a chunk, EOF is early: its CRLF and the final
		// chunk are still to come.
		c.err = c.readErr(err, "data")
		c.release()
	}
	return n, c.err
}

// readErr turns an error of the underlying body into the reader's error: an
// early end of the stream is ErrIncompleteBody, anything else (a network
// error, a timeout) is passed on wrapped.
func (c *chunkedReader) readErr(err error, what string) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the body ended in the %s of chunk %d", ErrIncompleteBody, what, c.chunks+1)
	}
	return fmt.Errorf("sigv4: reading aws-chunked body: %w", err)
}

// readLine reads one line and returns it without its "\n" or "\r\n". The
// slice is valid until the next read. atEOF is true (with a nil error) when
// the stream ended cleanly before the first byte of the line.
func (c *chunkedReader) readLine(what string) (line []byte, atEOF bool, err error) {
	line, err = c.br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, false, fmt.Errorf("%w: %s of chunk %d is longer than %d bytes", ErrMalformedChunk, what, c.chunks+1, maxLineLen)
	case err == io.EOF && len(line) == 0:
		return nil, true, nil
	default:
		return nil, false, c.readErr(err, what)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, false, nil
}

// next reads the next chunk header and, for a signed chunk, the chunk
// itself. It returns io.EOF after the final chunk and trailer were read and
// checked.
func (c *chunkedReader) next() error {
	if c.needCRLF {
		if err := c.readCRLF(); err != nil {
			return err
		}
		c.needCRLF = false
		c.chunks++
	}
	line, atEOF, err := c.readLine("header")
	if err != nil {
		return err
	}
	if atEOF {
		return fmt.Errorf("%w: the body ended before chunk %d", ErrIncompleteBody, c.chunks+1)
	}
	size, sig, err := c.parseHeader(line)
	if err != nil {
		return err
	}
	if c.signed {
		if _, err := hex.Decode(c.got[:], sig); err != nil {
			return fmt.Errorf("%w: chunk %d has a malformed chunk-signature", ErrMalformedChunk, c.chunks+1)
		}
	}
	if size == 0 {
		return c.final()
	}
	if c.declared >= 0 && c.total+size > c.declared {
		return fmt.Errorf("%w: chunk %d carries more data than x-amz-decoded-content-length %d", ErrMalformedChunk, c.chunks+1, c.declared)
	}
	if !c.signed {
		c.left, c.needCRLF = size, true
		return nil
	}
	data, err := c.readChunk(int(size))
	if err != nil {
		return err
	}
	if err := c.readCRLF(); err != nil {
		return err
	}
	c.sha.Reset()
	c.sha.Write(data)
	c.sha.Sum(c.sum[:0])
	if err := c.checkSignature(c.sum[:]); err != nil {
		return err
	}
	c.chunks++
	c.total += size
	c.pending = data
	return nil
}

// parseHeader parses "hex-size;chunk-signature=<64 hex>" (signed) or
// "hex-size[;extensions]" (unsigned).
func (c *chunkedReader) parseHeader(line []byte) (size int64, sig []byte, err error) {
	sizeHex, ext, hasExt := bytes.Cut(line, []byte{';'})
	if len(sizeHex) == 0 || len(sizeHex) > 16 {
		return 0, nil, fmt.Errorf("%w: chunk %d has a malformed size", ErrMalformedChunk, c.chunks+1)
	}
	for _, b := range sizeHex {
		d, ok := unhex(b)
		if !ok {
			return 0, nil, fmt.Errorf("%w: chunk %d has a malformed size", ErrMalformedChunk, c.chunks+1)
		}
		size = size<<4 | int64(d)
		if size > MaxChunkSize {
			return 0, nil, fmt.Errorf("%w: chunk %d is larger than %d bytes", ErrMalformedChunk, c.chunks+1, MaxChunkSize)
		}
	}
	if !c.signed {
		return size, nil, nil
	}
	const prefix = "chunk-signature="
	if !hasExt || !bytes.HasPrefix(ext, []byte(prefix)) || len(ext) != len(prefix)+64 {
		return 0, nil, fmt.Errorf("%w: chunk %d has no valid chunk-signature", ErrMalformedChunk, c.chunks+1)
	}
	return size, ext[len(prefix):], nil
}

func unhex(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// readChunk reads n bytes of chunk data into the pooled buffer, growing it
// only as data actually arrives.
func (c *chunkedReader) readChunk(n int) ([]byte, error) {
	buf := c.bufs.data[:0]
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), max(cap(buf), minChunkAlloc)))
		}
		m, err := io.ReadFull(c.br, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err != nil {
			c.bufs.data = buf
			return nil, c.readErr(err, "data")
		}
	}
	c.bufs.data = buf
	return buf, nil
}

// readCRLF reads the "\r\n" that ends chunk data.
func (c *chunkedReader) readCRLF() error {
	for _, want := range [2]byte{'\r', '\n'} {
		b, err := c.br.ReadByte()
		if err != nil {
			return c.readErr(err, "CRLF after the data")
		}
		if b != want {
			return fmt.Errorf("%w: chunk %d is not followed by CRLF (its size does not match its data)", ErrMalformedChunk, c.chunks+1)
		}
	}
	return nil
}

// checkSignature checks c.got against the chunk string to sign
//
//	AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n prev-sig \n hex(sha256("")) \n hex(sha256(data))
//
// and makes it the previous signature.
func (c *chunkedReader) checkSignature(dataSum []byte) error {
	c.sts = append(c.sts[:0], c.prefix...)
	c.sts = hex.AppendEncode(c.sts, c.prev[:])
	c.sts = append(c.sts, '\n')
	c.sts = append(c.sts, EmptySHA256...)
	c.sts = append(c.sts, '\n')
	c.sts = hex.AppendEncode(c.sts, dataSum)
	c.mac.Reset()
	c.mac.Write(c.sts)
	c.mac.Sum(c.sig[:0])
	if !hmac.Equal(c.sig[:], c.got[:]) {
		return fmt.Errorf("%w: the signature of chunk %d does not match", ErrSignatureDoesNotMatch, c.chunks+1)
	}
	c.prev = c.sig
	return nil
}

// final handles everything after the header of the zero-size final chunk.
func (c *chunkedReader) final() error {
	if c.signed {
		if err := c.checkSignature(emptySum[:]); err != nil {
			return err
		}
	}
	c.chunks++
	if c.trailer {
		if err := c.readTrailer(); err != nil {
			return err
		}
	} else {
		// "\r\n" ends the body; tolerate a client that leaves it out.
		line, atEOF, err := c.readLine("end")
		if err != nil {
			return err
		}
		if !atEOF && len(line) > 0 {
			return fmt.Errorf("%w: data after the final chunk", ErrMalformedChunk)
		}
	}
	if c.declared >= 0 && c.total != c.declared {
		return fmt.Errorf("%w: the decoded body has %d bytes; x-amz-decoded-content-length is %d", ErrIncompleteBody, c.total, c.declared)
	}
	return io.EOF
}

var emptySum = sha256.Sum256(nil)

// readTrailer reads the trailer lines after the final chunk, up to and
// including the empty line that ends the body. It tolerates a missing final
// CRLF and, in signed trailer mode, empty lines before the signature line
// (minio-go writes one).
func (c *chunkedReader) readTrailer() error {
	var canon []byte // "name:value\n" per trailer, hashed for the trailer signature
	sigSeen := false
	for lines := 0; ; lines++ {
		if lines == maxTrailerLines {
			return fmt.Errorf("%w: more than %d trailer lines", ErrMalformedTrailer, maxTrailerLines)
		}
		line, atEOF, err := c.readLine("trailer")
		if err != nil {
			if errors.Is(err, ErrMalformedChunk) {
				return fmt.Errorf("%w: a trailer line is longer than %d bytes", ErrMalformedTrailer, maxLineLen)
			}
			return err
		}
		if atEOF || len(line) == 0 {
			if c.trailerSigned && !sigSeen {
				if atEOF {
					return fmt.Errorf("%w: the body ended before the trailer signature", ErrIncompleteBody)
				}
				continue
			}
			break
		}
		if sigSeen {
			return fmt.Errorf("%w: trailer lines after %s", ErrMalformedTrailer, trailerSignatureName)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return fmt.Errorf("%w: trailer line without ':'", ErrMalformedTrailer)
		}
		n := strings.ToLower(string(bytes.TrimSpace(name)))
		val := string(bytes.TrimSpace(value))
		if n == "" || strings.IndexFunc(n, func(r rune) bool { return r > 0x7f || !isLowerTokenChar(byte(r)) }) >= 0 {
			return fmt.Errorf("%w: invalid trailer name %q", ErrMalformedTrailer, truncate(n, 64))
		}
		if c.trailerSigned && n == trailerSignatureName {
			if err := c.checkTrailerSignature(canon, val); err != nil {
				return err
			}
			sigSeen = true
			continue
		}
		if c.trailers == nil {
			c.trailers = make(http.Header)
		}
		if _, dup := c.trailers[http.CanonicalHeaderKey(n)]; dup {
			return fmt.Errorf("%w: trailer %q is repeated", ErrMalformedTrailer, n)
		}
		if c.expect != nil && !slices.Contains(c.expect, n) {
			return fmt.Errorf("%w: trailer %q was not declared in x-amz-trailer", ErrMalformedTrailer, truncate(n, 64))
		}
		c.trailers.Set(n, val)
		canon = append(canon, n...)
		canon = append(canon, ':')
		canon = append(canon, val...)
		canon = append(canon, '\n')
	}
	for _, n := range c.expect {
		if _, ok := c.trailers[http.CanonicalHeaderKey(n)]; !ok {
			return fmt.Errorf("%w: the trailer %q declared in x-amz-trailer is missing", ErrMalformedTrailer, truncate(n, 64))
		}
	}
	return nil
}

// checkTrailerSignature checks sigHex against
//
//	AWS4-HMAC-SHA256-TRAILER \n date \n scope \n prev-sig \n hex(sha256(trailer lines))
//
// where prev-sig is the signature of the final chunk.
func (c *chunkedReader) checkTrailerSignature(canon []byte, sigHex string) error {
	if len(sigHex) != 64 {
		return fmt.Errorf("%w: malformed %s", ErrMalformedTrailer, trailerSignatureName)
	}
	if _, err := hex.Decode(c.got[:], []byte(sigHex)); err != nil {
		return fmt.Errorf("%w: malformed %s", ErrMalformedTrailer, trailerSignatureName)
	}
	sum := sha256.Sum256(canon)
	c.sts = append(c.sts[:0], "AWS4-HMAC-SHA256-TRAILER"...)
	c.sts = append(c.sts, c.prefix[len("AWS4-HMAC-SHA256-PAYLOAD"):]...)
	c.sts = hex.AppendEncode(c.sts, c.prev[:])
	c.sts = append(c.sts, '\n')
	c.sts = hex.AppendEncode(c.sts, sum[:])
	c.mac.Reset()
	c.mac.Write(c.sts)
	c.mac.Sum(c.sig[:0])
	if !hmac.Equal(c.sig[:], c.got[:]) {
		return fmt.Errorf("%w: the trailer signature does not match", ErrSignatureDoesNotMatch)
	}
	c.prev = c.sig
	return nil
}

// Trailer returns the trailing headers once Read has returned io.EOF, nil
// before that or when there were none. It must not be called concurrently
// with Read.
func (c *chunkedReader) Trailer() http.Header {
	if !c.done || len(c.trailers) == 0 {
		return nil
	}
	return c.trailers
}

// release returns the pooled buffers. The reader must not touch c.br or
// c.bufs afterwards, so it is only called once c.err is set and pending is
// empty.
func (c *chunkedReader) release() {
	if c.bufs == nil || len(c.pending) > 0 {
		return
	}
	c.bufs.br.Reset(nil)
	if cap(c.bufs.data) > maxPooledChunk {
		c.bufs.data = nil
	}
	c.pool.Put(c.bufs)
	c.bufs, c.br = nil, nil
}

// Close closes the underlying body and releases the reader's buffers. Reads
// after Close return an error.
func (c *chunkedReader) Close() error {
	if c.err == nil {
		c.err = errClosed
	}
	c.pending = nil
	c.release()
	return c.src.Close()
}
