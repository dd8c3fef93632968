package sse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// The stream format (version 1). One stream encrypts one plaintext: a whole
// object of a single PUT or one part of a multipart upload.
//
//	stream  = header ‖ package₀ ‖ … ‖ packageₙ₋₁
//	header  = 0x01 (version) ‖ salt (31 random bytes)             32 bytes
//	package = AES-256-GCM(K, nonceᵢ, plaintextᵢ)                   len(plaintextᵢ) + 16 bytes
//	K ‖ P   = HKDF-SHA256(secret = object key, salt = salt,
//	                      info = "cairn-sse stream v1" ‖ uint32be(part))   32 + 7 bytes
//	nonceᵢ  = P (7 bytes) ‖ uint32be(i) ‖ final (1 byte: 1 for the last package, else 0)
//
// Every package holds PackageSize plaintext bytes except the last, which holds
// 1…PackageSize bytes (0 only when the whole plaintext is empty, so a stream always
// has at least one package). The package index and the final flag are in the
// nonce, so reordered, dropped, duplicated or appended packages fail to open, and
// a stream cut at a package boundary lacks its final package. The salt makes K
// fresh for every stream, so a re-uploaded part (same object key, same part
// number) never reuses a nonce; part in the derivation stops parts of one object
// from being swapped. Sizes are deterministic: the stored size follows from the
// plaintext size and back (EncryptedSize, DecryptedSize), which is what lets a
// range GET read only the packages it needs.

const (
	// PackageSize is the plaintext size of every package but the last.
	PackageSize = 64 << 10
	// TagSize is the GCM tag each package adds.
	TagSize = 16
	// HeaderSize is the size of the stream header.
	HeaderSize = 32

	sealedPackageSize = PackageSize + TagSize
	formatV1          = 1
	prefixSize        = 7
	streamInfo        = "cairn-sse stream v1"
	maxPackages       = 1 << 32
)

// Errors of the stream codec. Decryption failures all wrap ErrCorrupt.
var (
	ErrCorrupt  = errors.New("sse: encrypted data is corrupt or was tampered with")
	ErrTooLarge = errors.New("sse: plaintext too large for one stream")
)

// ObjectKey is the 256-bit key an object's data is encrypted with. Every stream
// derives its own cipher key from it (see the stream format).
type ObjectKey [32]byte

// EncryptedSize is the stored size of a stream of plain bytes of plaintext.
func EncryptedSize(plain int64) int64 {
	return HeaderSize + plain + TagSize*packages(plain)
}

// packages is the number of packages of a plaintext of plain bytes (at least 1).
func packages(plain int64) int64 {
	if plain <= 0 {
		return 1
	}
	return (plain + PackageSize - 1) / PackageSize
}

// DecryptedSize is the plaintext size of a stream of stored bytes. A size no
// encryption can produce is ErrCorrupt.
func DecryptedSize(stored int64) (int64, error) {
	body := stored - HeaderSize
	if body < TagSize {
		return 0, fmt.Errorf("%w: stream of %d bytes", ErrCorrupt, stored)
	}
	full, rest := body/sealedPackageSize, body%sealedPackageSize
	switch {
	case rest == 0:
		return full * PackageSize, nil
	case rest < TagSize || (rest == TagSize && full > 0):
		// A short final package, or an empty one after full packages: never written.
		return 0, fmt.Errorf("%w: stream of %d bytes", ErrCorrupt, stored)
	}
	return full*PackageSize + rest - TagSize, nil
}

// streamCipher derives the AEAD and nonce prefix of one stream.
func streamCipher(key *ObjectKey, part uint32, salt []byte) (cipher.AEAD, [prefixSize]byte, error) {
	var prefix [prefixSize]byte
	info := make([]byte, 0, len(streamInfo)+4)
	info = binary.BigEndian.AppendUint32(append(info, streamInfo...), part)
	km, err := hkdf.Key(sha256.New, key[:], salt, string(info), 32+prefixSize)
	if err != nil {
		return nil, prefix, err
	}
	block, err := aes.NewCipher(km[:32])
	if err != nil {
		return nil, prefix, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, prefix, err
	}
	copy(prefix[:], km[32:])
	return aead, prefix, nil
}

func packageNonce(dst *[12]byte, prefix *[prefixSize]byte, seq uint32, final bool) []byte {
	copy(dst[:prefixSize], prefix[:])
	binary.BigEndian.PutUint32(dst[prefixSize:], seq)
	dst[11] = 0
	if final {
		dst[11] = 1
	}
	return dst[:]
}

// bufPool recycles package buffers (one sealed package each).
var bufPool = sync.Pool{New: func() any { b := make([]byte, sealedPackageSize+1); return &b }}

// encReader is the encrypting reader.
type encReader struct {
	src    io.Reader
	aead   cipher.AEAD
	prefix [prefixSize]byte
	nonce  [12]byte
	bufp   *[]byte // plaintext in: up to PackageSize+1 bytes (one byte of look-ahead)
	in     []byte
	outp   *[]byte
	out    []byte // ciphertext ready to be read
	seq    uint64
	srcEOF bool
	done   bool // the final package is in out
	err    error
}

// NewEncryptReader returns a reader of the encrypted stream of plaintext src
// under key, for part (0 for a single PUT, the part number for a multipart
// upload). It reads src to EOF; an error from src is returned as is, and a
// plaintext past 2³² packages (256 TiB) is ErrTooLarge. The reader holds two
// package buffers; read it to EOF or call Close to return them early. It is not
// safe for concurrent use.
func NewEncryptReader(src io.Reader, key ObjectKey, part uint32) (io.ReadCloser, error) {
	var header [HeaderSize]byte
	header[0] = formatV1
	if _, err := rand.Read(header[1:]); err != nil {
		return nil, err
	}
	aead, prefix, err := streamCipher(&key, part, header[1:])
	if err != nil {
		return nil, err
	}
	e := &encReader{src: src, aead: aead, prefix: prefix, bufp: bufPool.Get().(*[]byte), outp: bufPool.Get().(*[]byte)}
	e.in = (*e.bufp)[:0]
	e.out = append((*e.outp)[:0], header[:]...)
	return e, nil
}

func (e *encReader) Read(p []byte) (int, error) {
	for len(e.out) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			e.release()
			e.err = io.EOF
			return 0, io.EOF
		}
		if err := e.seal(); err != nil {
			e.release()
			e.err = err
			return 0, err
		}
	}
	n := copy(p, e.out)
	e.out = e.out[n:]
	return n, nil
}

// seal reads the next package of plaintext (plus one byte to learn whether it
// is the last) and encrypts it into out.
func (e *encReader) seal() error {
	for len(e.in) < PackageSize+1 && !e.srcEOF {
		n, err := e.src.Read(e.in[len(e.in) : PackageSize+1])
		e.in = e.in[:len(e.in)+n]
		if errors.Is(err, io.EOF) {
			e.srcEOF = true
		} else if err != nil {
			return err
		}
	}
	final := len(e.in) <= PackageSize
	n := min(len(e.in), PackageSize)
	if e.seq >= maxPackages {
		return ErrTooLarge
	}
	nonce := packageNonce(&e.nonce, &e.prefix, uint32(e.seq), final)
	e.out = e.aead.Seal((*e.outp)[:0], nonce, e.in[:n], nil)
	e.in = e.in[:copy(e.in, e.in[n:])]
	e.seq++
	e.done = final
	return nil
}

func (e *encReader) release() {
	if e.bufp != nil {
		bufPool.Put(e.bufp)
		bufPool.Put(e.outp)
		e.bufp, e.outp, e.in, e.out = nil, nil, nil, nil
	}
}

// Close returns the reader's buffers; reading after Close fails.
func (e *encReader) Close() error {
	e.release()
	if e.err == nil {
		e.err = errors.New("sse: read after Close")
	}
	return nil
}

// Range is what a plaintext range of one stream needs from the stored stream:
// the header, then the whole packages [FirstPackage, …) that hold the range.
type Range struct {
	// Offset and Length are the stored bytes of the packages, relative to the
	// start of the stream (Offset ≥ HeaderSize).
	Offset, Length int64
	// FirstPackage is the index of the package at Offset.
	FirstPackage int64
	// Skip is the number of plaintext bytes of the first package before the range.
	Skip int64
	// PlainLength is the length of the plaintext range.
	PlainLength int64
	// StreamSize is the stored size of the whole stream.
	StreamSize int64
}

// StreamRange maps plaintext bytes [off, off+length) of a stream of streamSize
// stored bytes to the stored packages that hold them.
func StreamRange(streamSize, off, length int64) (Range, error) {
	plain, err := DecryptedSize(streamSize)
	if err != nil {
		return Range{}, err
	}
	if off < 0 || length < 0 || off+length > plain {
		return Range{}, fmt.Errorf("sse: range %d+%d outside a plaintext of %d bytes", off, length, plain)
	}
	r := Range{FirstPackage: off / PackageSize, PlainLength: length, StreamSize: streamSize}
	r.Skip = off - r.FirstPackage*PackageSize
	r.Offset = HeaderSize + r.FirstPackage*sealedPackageSize
	if length == 0 {
		return r, nil
	}
	last := (off + length - 1) / PackageSize
	end := min(HeaderSize+(last+1)*sealedPackageSize, streamSize)
	r.Length = end - r.Offset
	return r, nil
}

// decWriter is the decrypting writer.
type decWriter struct {
	w       io.Writer
	key     ObjectKey
	part    uint32
	r       Range
	header  [HeaderSize]byte
	nh      int
	aead    cipher.AEAD
	prefix  [prefixSize]byte
	nonce   [12]byte
	bufp    *[]byte
	buf     []byte // a package being collected across writes
	outp    *[]byte
	out     []byte // plaintext not yet written to w
	seq     int64  // index of the package being collected
	last    int64  // index of the stream's final package
	lastLen int    // sealed size of the final package
	skip    int64
	remain  int64
	err     error
	closed  bool
	cerr    error     // Close's result
	par     *parallel // openParallel's buffers, from parPool
}

// outPool recycles plaintext output buffers: several packages, so w sees
// writes of up to outSize bytes rather than one per package (fewer syscalls
// when w is a network connection).
const outSize = 4 * PackageSize

var outPool = sync.Pool{New: func() any { b := make([]byte, 0, outSize); return &b }}

// NewDecryptWriter returns a writer that takes the stored bytes a Range needs —
// the HeaderSize bytes of the stream header, then r.Length bytes from r.Offset —
// and writes the plaintext range to w. Nothing of a package reaches w before its
// tag is verified; plaintext is passed on by the end of each Write. Close
// reports a stream that ended early and must be called; it returns the
// buffers. Errors are ErrCorrupt (wrapped) for data that fails to
// authenticate, or w's. Not safe for concurrent use.
//
// A Write that holds several whole packages (an erasure block of a GET) opens
// them on up to min(GOMAXPROCS, 4) goroutines and passes each 1 MiB round on
// in one write to w; those goroutines have ended when Write returns.
func NewDecryptWriter(w io.Writer, key ObjectKey, part uint32, r Range) io.WriteCloser {
	plain, err := DecryptedSize(r.StreamSize)
	d := &decWriter{w: w, key: key, part: part, r: r, seq: r.FirstPackage, skip: r.Skip, remain: r.PlainLength, err: err}
	if err == nil {
		n := packages(plain)
		d.last = n - 1
		d.lastLen = int(r.StreamSize - HeaderSize - d.last*sealedPackageSize)
		d.bufp, d.outp = bufPool.Get().(*[]byte), outPool.Get().(*[]byte)
		d.buf, d.out = (*d.bufp)[:0], (*d.outp)[:0]
	}
	return d
}

func (d *decWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.write(p)
	if ferr := d.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		d.err = err
	}
	return n, err
}

func (d *decWriter) write(p []byte) (int, error) {
	written := 0
	if d.nh < HeaderSize {
		n := copy(d.header[d.nh:], p)
		d.nh += n
		written += n
		p = p[n:]
		if d.nh < HeaderSize {
			return written, nil
		}
		if err := d.start(); err != nil {
			return written, err
		}
	}
	for len(p) > 0 {
		if d.remain == 0 {
			return written, fmt.Errorf("%w: more stored data than the range needs", ErrCorrupt)
		}
		want := sealedPackageSize
		if d.seq == d.last {
			want = d.lastLen
		}
		if len(d.buf) == 0 {
			if n := d.parallelPackages(p); n > 1 {
				// Several whole packages in p: open them concurrently.
				done, err := d.openParallel(p[:n*sealedPackageSize], n)
				written += done
				p = p[done:]
				if err != nil {
					return written, err
				}
				continue
			}
		}
		if len(d.buf) == 0 && len(p) >= want {
			// A whole package in p: open it from there, without a copy.
			if err := d.open(p[:want]); err != nil {
				return written, err
			}
			written += want
			p = p[want:]
			continue
		}
		n := copy(d.buf[len(d.buf):want], p)
		d.buf = d.buf[:len(d.buf)+n]
		written += n
		p = p[n:]
		if len(d.buf) == want {
			if err := d.open(d.buf); err != nil {
				return written, err
			}
			d.buf = d.buf[:0]
		}
	}
	return written, nil
}

func (d *decWriter) start() error {
	if d.header[0] != formatV1 {
		return fmt.Errorf("%w: unknown stream format %d", ErrCorrupt, d.header[0])
	}
	aead, prefix, err := streamCipher(&d.key, d.part, d.header[1:])
	if err != nil {
		return err
	}
	d.aead, d.prefix = aead, prefix
	return nil
}

// parallelPackages is the number of whole packages at the start of p that
// openParallel may take: full-size packages before the stream's final one,
// no more than the range needs.
func (d *decWriter) parallelPackages(p []byte) int64 {
	n := min(int64(len(p)/sealedPackageSize), d.last-d.seq)
	need := (d.skip + d.remain + PackageSize - 1) / PackageSize
	return max(min(n, need), 0)
}

// openParallel authenticates and decrypts the n full-size packages that are
// sealed (n*sealedPackageSize bytes, d.buf empty) on several goroutines, in
// rounds of up to parPackages, and writes each round's part of the range to
// w in one Write once all its packages are open. A package that fails to open
// ends the stream after the plaintext of the packages before it. It returns
// how many bytes of sealed it consumed; its goroutines have all ended when it
// returns, so sealed is not touched after the Write that passed it in.
//
// One Write per round (1 MiB, an erasure block) rather than one per package:
// w is usually a network connection, and large writes cost it less CPU.
func (d *decWriter) openParallel(sealed []byte, n int64) (int, error) {
	if err := d.flush(); err != nil {
		return 0, err
	}
	if d.par == nil {
		d.par = parPool.Get().(*parallel)
	}
	consumed := 0
	for n > 0 {
		m := int(min(n, parPackages))
		opened, err := d.par.run(d, sealed[:m*sealedPackageSize], m)
		consumed += opened * sealedPackageSize
		if err != nil {
			return consumed, err
		}
		sealed, n = sealed[m*sealedPackageSize:], n-int64(m)
	}
	return consumed, nil
}

// parPackages is how many packages openParallel opens in one round: its
// plaintext buffer holds that many (1 MiB, the default erasure block size, so
// a block is one round).
const parPackages = 16

// parallel is the plaintext buffer and error slots of openParallel, pooled.
type parallel struct {
	out  []byte // parPackages plaintext packages
	errs [parPackages]error
}

var parPool = sync.Pool{New: func() any { return &parallel{out: make([]byte, parPackages*PackageSize)} }}

// workers is how many goroutines open the packages of one round.
func workers() int { return min(max(runtime.GOMAXPROCS(0), 1), 4) }

// run opens the m packages of sealed (d.seq onwards) with workers()
// goroutines, then passes the plaintext of those before the first that failed
// (all of them if none did) to d.emit. It returns how many packages it passed
// on, and the first failure or w's error.
func (pp *parallel) run(d *decWriter, sealed []byte, m int) (int, error) {
	clear(pp.errs[:m])
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(workers(), m) {
		wg.Go(func() {
			var nonce [12]byte
			// Indices are claimed in order and every claimed package is
			// opened, so all packages before a failed one are opened.
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= m {
					return
				}
				seq := d.seq + int64(i)
				nb := packageNonce(&nonce, &d.prefix, uint32(seq), false)
				if _, err := d.aead.Open(pp.out[i*PackageSize:i*PackageSize], nb, sealed[i*sealedPackageSize:(i+1)*sealedPackageSize], nil); err != nil {
					pp.errs[i] = fmt.Errorf("%w: package %d does not authenticate", ErrCorrupt, seq)
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	good := 0
	for good < m && pp.errs[good] == nil {
		good++
	}
	err := d.emit(pp.out[:good*PackageSize])
	d.seq += int64(good)
	if err == nil && good < m {
		err = pp.errs[good]
	}
	return good, err
}

// emit writes the part of plain — the plaintext of whole packages from d.seq
// on — that is in the range to w.
func (d *decWriter) emit(plain []byte) error {
	if d.skip > 0 {
		s := min(d.skip, int64(len(plain)))
		plain, d.skip = plain[s:], d.skip-s
	}
	if int64(len(plain)) > d.remain {
		plain = plain[:d.remain]
	}
	if len(plain) == 0 {
		return nil
	}
	d.remain -= int64(len(plain))
	_, err := d.w.Write(plain)
	return err
}

// open authenticates and decrypts one sealed package (d.buf or the caller's
// bytes, which it does not modify) and appends its part of the range to out.
func (d *decWriter) open(sealed []byte) error {
	if d.seq > d.last || d.seq >= maxPackages {
		return fmt.Errorf("%w: package %d past the end of the stream", ErrCorrupt, d.seq)
	}
	if cap(d.out)-len(d.out) < PackageSize {
		if err := d.flush(); err != nil {
			return err
		}
	}
	nonce := packageNonce(&d.nonce, &d.prefix, uint32(d.seq), d.seq == d.last)
	at := len(d.out)
	out, err := d.aead.Open(d.out, nonce, sealed, nil)
	if err != nil {
		return fmt.Errorf("%w: package %d does not authenticate", ErrCorrupt, d.seq)
	}
	d.seq++
	plain := out[at:]
	if d.skip >= int64(len(plain)) {
		d.skip -= int64(len(plain))
		d.out = out[:at]
		return nil
	}
	if d.skip > 0 {
		plain = out[at : at+copy(out[at:], plain[d.skip:])]
		d.skip = 0
	}
	if int64(len(plain)) > d.remain {
		plain = plain[:d.remain]
	}
	d.remain -= int64(len(plain))
	d.out = out[:at+len(plain)]
	return nil
}

// flush writes the plaintext collected in out to w.
func (d *decWriter) flush() error {
	if len(d.out) == 0 {
		return nil
	}
	_, err := d.w.Write(d.out)
	d.out = d.out[:0]
	return err
}

// Close reports ErrCorrupt when the range was not complete, and releases the
// buffers. Calls after the first return the first's result.
func (d *decWriter) Close() error {
	if d.closed {
		return d.cerr
	}
	d.closed = true
	if d.bufp != nil {
		bufPool.Put(d.bufp)
		outPool.Put(d.outp)
		d.bufp, d.buf, d.outp, d.out = nil, nil, nil, nil
	}
	if d.par != nil {
		parPool.Put(d.par)
		d.par = nil
	}
	switch {
	case d.err != nil:
		d.cerr = d.err
	case d.remain > 0 || (d.r.PlainLength > 0 && d.nh < HeaderSize):
		d.cerr = fmt.Errorf("%w: stream ended %d bytes early", ErrCorrupt, d.remain)
	}
	d.err = errors.New("sse: write after Close")
	return d.cerr
}
