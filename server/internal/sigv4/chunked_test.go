package sigv4

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var testSeed = [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}

// encodeChunked encodes payload for testChunkedReader (example key and time,
// testSeed): signed chunks unless mode is the unsigned-trailer mode.
func encodeChunked(payload []byte, chunkSize int, mode payloadMode, trailer []string) []byte {
	e := chunkEncoder{size: chunkSize, unsigned: mode == modeStreamingUnsignedTrailer}
	if !e.unsigned {
		e.signer = newChunkSigner(exampleSecret, "us-east-1", exampleTime, testSeed)
	}
	return e.encode(payload, trailer)
}

// testPayload is n bytes of a recognizable pattern.
func testPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// readAllCounting reads r to the end and returns what it returned and the
// final error (nil for io.EOF).
func readAllCounting(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestChunkedRoundTrip(t *testing.T) {
	crc := http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}
	tests := []struct {
		name      string
		size      int
		chunkSize int
		opts      ChunkedOptions
	}{
		{"empty signed", 0, 0, ChunkedOptions{}},
		{"one byte signed", 1, 0, ChunkedOptions{}},
		{"exact chunks signed", 3 * 1024, 1024, ChunkedOptions{ChunkSize: 1024}},
		{"partial last chunk signed", 3*1024 + 5, 1024, ChunkedOptions{ChunkSize: 1024}},
		{"64 KiB chunks signed", 300 << 10, 0, ChunkedOptions{}},
		{"empty signed trailer", 0, 0, ChunkedOptions{Trailer: crc}},
		{"signed trailer", 10000, 4096, ChunkedOptions{ChunkSize: 4096, Trailer: crc}},
		{"signed two trailers", 10000, 4096, ChunkedOptions{ChunkSize: 4096, Trailer: http.Header{
			"X-Amz-Checksum-Crc32": {"AAAAAA=="}, "X-Amz-Checksum-Sha256": {"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}}},
		{"empty unsigned", 0, 0, ChunkedOptions{Unsigned: true}},
		{"unsigned trailer", 10000, 4096, ChunkedOptions{ChunkSize: 4096, Unsigned: true, Trailer: crc}},
		{"unsigned no trailer", 10000, 999, ChunkedOptions{ChunkSize: 999, Unsigned: true}},
	}
	wrappers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"OneByteReader", iotest.OneByteReader},
		{"HalfReader", iotest.HalfReader},
		{"DataErrReader", iotest.DataErrReader},
	}
	for _, tc := range tests {
		for _, w := range wrappers {
			t.Run(tc.name+"/"+w.name, func(t *testing.T) {
				t.Parallel()
				payload := testPayload(tc.size)
				r := newRequest(t, "PUT", "http://bkt.s3.cairn.test/obj", nil)
				if err := SignChunkedRequest(r, testAccessKey, testSecret, testRegion, testTime, payload, tc.opts); err != nil {
					t.Fatal(err)
				}
				r.Body = io.NopCloser(w.wrap(r.Body))
				res, err := testVerifier(testTime).Verify(r)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.ContentLength != int64(tc.size) {
					t.Fatalf("ContentLength = %d, want %d", res.ContentLength, tc.size)
				}
				if res.Trailer() != nil {
					t.Fatalf("Trailer() before EOF = %v", res.Trailer())
				}
				if err := iotest.TestReader(res.Body, payload); err != nil {
					t.Fatal(err)
				}
				got := res.Trailer()
				for k, v := range tc.opts.Trailer {
					if got.Get(k) != v[0] {
						t.Fatalf("trailer %s = %q, want %q (all %v)", k, got.Get(k), v[0], got)
					}
				}
				if len(tc.opts.Trailer) == 0 && got != nil {
					t.Fatalf("Trailer() = %v, want nil", got)
				}
				if err := res.Body.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestChunkedTampering(t *testing.T) {
	payload := testPayload(2500)
	crcTrailer := []string{"x-amz-checksum-crc32:AAAAAA=="}
	signed := func() []byte { return encodeChunked(payload, 1000, modeStreaming, nil) }
	withTrailer := func() []byte { return encodeChunked(payload, 1000, modeStreamingTrailer, crcTrailer) }
	unsigned := func() []byte { return encodeChunked(payload, 1000, modeStreamingUnsignedTrailer, crcTrailer) }
	// at returns the offset of the n-th occurrence (0-based) of s in b.
	at := func(b []byte, s string, n int) int {
		off := 0
		for ; n > 0; n-- {
			off += bytes.Index(b[off:], []byte(s)) + 1
		}
		return off + bytes.Index(b[off:], []byte(s))
	}
	replace := func(b []byte, old, new string) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }

	tests := []struct {
		name     string
		body     func() []byte
		mode     payloadMode
		declared int64  // 0 = len(payload)
		trailer  string // x-amz-trailer
		want     error
		released int // bytes Read may return before the error
	}{
		{name: "flipped data byte in chunk 2", body: func() []byte {
			b := signed()
			b[at(b, "\r\n", 2)+2+10] ^= 1 // 10 bytes into the data of chunk 2
			return b
		}, want: ErrSignatureDoesNotMatch, released: 1000},
		{name: "flipped signature of chunk 1", body: func() []byte {
			b := signed()
			i := at(b, "chunk-signature=", 0) + len("chunk-signature=")
			if b[i] == '0' {
				b[i] = '1'
			} else {
				b[i] = '0'
			}
			return b
		}, want: ErrSignatureDoesNotMatch},
		{name: "final chunk signature", body: func() []byte {
			b := signed()
			i := at(b, "0;chunk-signature=", 0) + len("0;chunk-signature=")
			copy(b[i:], strings.Repeat("0", 64))
			return b
		}, want: ErrSignatureDoesNotMatch, released: 2500},
		{name: "chunks swapped", body: func() []byte {
			// Chunk 2 with its own valid signature in the place of chunk 1.
			b := signed()
			c1 := b[:at(b, "3e8;", 1)]
			c2 := b[len(c1):at(b, "1f4;", 0)]
			return append(append(append([]byte{}, c2...), c1...), b[len(c1)+len(c2):]...)
		}, want: ErrSignatureDoesNotMatch},
		{name: "declared length larger", body: signed, declared: 2501, want: ErrIncompleteBody, released: 2500},
		{name: "declared length smaller", body: signed, declared: 2499, want: ErrMalformedChunk, released: 2000},
		{name: "size larger than data", body: func() []byte { return replace(signed(), "3e8;", "3e9;") }, want: ErrMalformedChunk},
		{name: "size smaller than data", body: func() []byte { return replace(signed(), "3e8;", "3e7;") }, want: ErrMalformedChunk},
		{name: "chunk larger than MaxChunkSize", body: func() []byte { return replace(signed(), "3e8;", "1000001;") }, want: ErrMalformedChunk},
		{name: "size with 0x prefix", body: func() []byte { return replace(signed(), "3e8;", "0x3e8;") }, want: ErrMalformedChunk},
		{name: "negative size", body: func() []byte { return replace(signed(), "3e8;", "-3e8;") }, want: ErrMalformedChunk},
		{name: "missing chunk-signature", body: func() []byte {
			b := signed()
			i := at(b, ";chunk-signature=", 0)
			return append(b[:i:i], b[i+len(";chunk-signature=")+64:]...)
		}, want: ErrMalformedChunk},
		{name: "short chunk-signature", body: func() []byte { return replace(signed(), "chunk-signature=", "chunk-signature=0") }, want: ErrMalformedChunk},
		{name: "non-hex chunk-signature", body: func() []byte {
			b := signed()
			b[at(b, "chunk-signature=", 0)+len("chunk-signature=")] = 'z'
			return b
		}, want: ErrMalformedChunk},
		{name: "header line too long", body: func() []byte {
			return append([]byte("3e8;chunk-signature="+strings.Repeat("0", maxLineLen)), "\r\n"...)
		}, want: ErrMalformedChunk},
		{name: "data after final chunk", body: func() []byte { return append(signed()[:len(signed())-2], "junk\r\n"...) }, want: ErrMalformedChunk, released: 2500},
		{name: "trailer in a non-trailer body", body: func() []byte {
			return append(signed()[:len(signed())-2], "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"...)
		}, want: ErrMalformedChunk, released: 2500},
		{name: "empty body", body: func() []byte { return nil }, want: ErrIncompleteBody},

		{name: "trailer value changed", mode: modeStreamingTrailer, trailer: "x-amz-checksum-crc32",
			body: func() []byte { return replace(withTrailer(), "AAAAAA==", "AAAAAB==") }, want: ErrSignatureDoesNotMatch, released: 2500},
		{name: "trailer signature changed", mode: modeStreamingTrailer, trailer: "x-amz-checksum-crc32",
			body: func() []byte {
				b := withTrailer()
				i := at(b, trailerSignatureName+":", 0) + len(trailerSignatureName) + 1
				copy(b[i:], strings.Repeat("0", 64))
				return b
			}, want: ErrSignatureDoesNotMatch, released: 2500},
		{name: "trailer signature missing", mode: modeStreamingTrailer, trailer: "x-amz-checksum-crc32",
			body: func() []byte {
				b := withTrailer()
				return append(b[:at(b, trailerSignatureName, 0):at(b, trailerSignatureName, 0)], "\r\n"...)
			}, want: ErrIncompleteBody, released: 2500},
		{name: "malformed trailer signature", mode: modeStreamingTrailer, trailer: "x-amz-checksum-crc32",
			body: func() []byte {
				b := withTrailer()
				return replace(b, trailerSignatureName+":", trailerSignatureName+":xyz")
			}, want: ErrMalformedTrailer, released: 2500},
		{name: "trailer after the trailer signature", mode: modeStreamingTrailer,
			body: func() []byte {
				b := withTrailer()
				return append(b[:len(b)-2], "x-amz-checksum-sha1:AAAA\r\n\r\n"...)
			}, want: ErrMalformedTrailer, released: 2500},
		{name: "undeclared trailer", mode: modeStreamingTrailer, trailer: "x-amz-checksum-sha256",
			body: withTrailer, want: ErrMalformedTrailer, released: 2500},
		{name: "declared trailer missing", mode: modeStreamingUnsignedTrailer, trailer: "x-amz-checksum-crc32,x-amz-checksum-sha1",
			body: unsigned, want: ErrMalformedTrailer, released: 2500},
		{name: "trailer line without colon", mode: modeStreamingUnsignedTrailer,
			body: func() []byte { return replace(unsigned(), "x-amz-checksum-crc32:", "x-amz-checksum-crc32=") }, want: ErrMalformedTrailer, released: 2500},
		{name: "repeated trailer", mode: modeStreamingUnsignedTrailer,
			body: func() []byte {
				return replace(unsigned(), "x-amz-checksum-crc32:AAAAAA==\r\n", "x-amz-checksum-crc32:AAAAAA==\r\nX-Amz-Checksum-Crc32:BBBBBB==\r\n")
			}, want: ErrMalformedTrailer, released: 2500},
		{name: "too many trailer lines", mode: modeStreamingUnsignedTrailer,
			body: func() []byte {
				b := unsigned()
				return replace(b, "x-amz-checksum-crc32:", strings.Repeat("x-a:b\r\n", maxTrailerLines)+"x-amz-checksum-crc32:")
			}, want: ErrMalformedTrailer, released: 2500},
		{name: "unsigned declared length smaller", mode: modeStreamingUnsignedTrailer, declared: 1500,
			body: unsigned, want: ErrMalformedChunk, released: 1000},
		{name: "unsigned declared length larger", mode: modeStreamingUnsignedTrailer, declared: 2600,
			body: unsigned, want: ErrIncompleteBody, released: 2500},
		{name: "unsigned size larger than data", mode: modeStreamingUnsignedTrailer,
			body: func() []byte { return replace(unsigned(), "3e8\r\n", "3e9\r\n") }, want: ErrMalformedChunk, released: 1001},
		{name: "unsigned chunk larger than MaxChunkSize", mode: modeStreamingUnsignedTrailer,
			body: func() []byte { return replace(unsigned(), "3e8\r\n", "1000001\r\n") }, want: ErrMalformedChunk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mode := tc.mode
			if mode == modeUnsigned {
				mode = modeStreaming
			}
			declared := tc.declared
			if declared == 0 {
				declared = int64(len(payload))
			}
			cr := testChunkedReader(t, tc.body(), mode, testSeed, declared, tc.trailer)
			got, err := readAllCounting(cr)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(got) > tc.released {
				t.Fatalf("released %d bytes before the error, want at most %d", len(got), tc.released)
			}
			// Unsigned chunks are passed through unchecked (the checksum
			// trailer covers them), so only signed ones promise a prefix.
			if mode != modeStreamingUnsignedTrailer && !bytes.HasPrefix(payload, got) {
				t.Fatalf("released bytes are not a prefix of the payload")
			}
			if _, err2 := cr.Read(make([]byte, 10)); err2 != err {
				t.Fatalf("error is not sticky: %v then %v", err, err2)
			}
			if cr.Trailer() != nil {
				t.Fatalf("Trailer() after an error = %v", cr.Trailer())
			}
			cr.Close()
		})
	}
}

// TestChunkedTruncated cuts every encoding at every byte: the reader must
// return an error, never a clean EOF with short data, except where the cut
// removes only the optional final CRLF.
func TestChunkedTruncated(t *testing.T) {
	payload := testPayload(300)
	crc := []string{"x-amz-checksum-crc32:AAAAAA=="}
	tests := []struct {
		name    string
		mode    payloadMode
		trailer []string
	}{
		{"signed", modeStreaming, nil},
		{"signed trailer", modeStreamingTrailer, crc},
		{"unsigned trailer", modeStreamingUnsignedTrailer, crc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := encodeChunked(payload, 100, tc.mode, tc.trailer)
			declaredTrailer := ""
			if tc.trailer != nil {
				declaredTrailer = "x-amz-checksum-crc32"
			}
			for cut := 0; cut < len(body); cut++ {
				for _, oneByte := range []bool{false, true} {
					cr := testChunkedReader(t, body[:cut], tc.mode, testSeed, int64(len(payload)), declaredTrailer)
					var r io.Reader = cr
					if oneByte {
						r = iotest.OneByteReader(cr)
					}
					got, err := readAllCounting(r)
					if !bytes.HasPrefix(payload, got) {
						t.Fatalf("cut %d: released bytes are not a prefix of the payload", cut)
					}
					if err == nil {
						if cut != len(body)-2 {
							t.Fatalf("cut at %d of %d: clean EOF after %d bytes", cut, len(body), len(got))
						}
						if len(got) != len(payload) {
							t.Fatalf("cut %d: clean EOF with %d bytes", cut, len(got))
						}
						continue
					}
					if _, _, ok := S3Code(err); !ok {
						t.Fatalf("cut %d: error %v has no S3 code", cut, err)
					}
				}
			}
		})
	}
}

// TestChunkedClientGone sends a signed aws-chunked upload over a real
// connection and hangs up half way: the server must see an error.
func TestChunkedClientGone(t *testing.T) {
	ts := newTestServer(t, testVerifier(testTime), false)
	payload := testPayload(100 << 10)
	r := newRequest(t, "PUT", ts.URL+"/bkt/obj", nil)
	if err := SignChunkedRequest(r, testAccessKey, testSecret, testRegion, testTime, payload, ChunkedOptions{ChunkSize: 8 << 10}); err != nil {
		t.Fatal(err)
	}
	var wire bytes.Buffer
	if err := r.Write(&wire); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(wire.Bytes()[:wire.Len()/2])
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ts.mu.Lock()
		n := len(ts.records)
		ts.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never finished the request")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec := ts.last(t)
	if !errors.Is(rec.err, ErrIncompleteBody) {
		t.Fatalf("server error = %v, want ErrIncompleteBody", rec.err)
	}
	if len(rec.body) >= len(payload) || !bytes.HasPrefix(payload, rec.body) {
		t.Fatalf("server read %d bytes", len(rec.body))
	}
}

func TestChunkedSourceErrors(t *testing.T) {
	payload := testPayload(5000)
	boom := errors.New("boom")
	for _, mode := range []payloadMode{modeStreaming, modeStreamingUnsignedTrailer} {
		body := encodeChunked(payload, 1000, mode, nil)
		tests := []struct {
			name string
			src  io.Reader
			want error
		}{
			{"TimeoutReader", iotest.TimeoutReader(bytes.NewReader(body)), iotest.ErrTimeout},
			{"ErrReader mid-body", io.MultiReader(bytes.NewReader(body[:2500]), iotest.ErrReader(boom)), boom},
			{"ErrUnexpectedEOF", io.MultiReader(bytes.NewReader(body[:2500]), iotest.ErrReader(io.ErrUnexpectedEOF)), ErrIncompleteBody},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%d/%s", mode, tc.name), func(t *testing.T) {
				r := newRequest(t, "PUT", "https://s3.amazonaws.com/b/o", nil)
				r.Header.Set("X-Amz-Decoded-Content-Length", itoa(int64(len(payload))))
				key := signingKey(exampleSecret, "20130524", "us-east-1", "s3")
				cr, _, err := exampleVerifier().newChunkedReader(r, io.NopCloser(tc.src), mode, key,
					"20130524T000000Z", "20130524/us-east-1/s3/aws4_request", testSeed)
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAllCounting(cr)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if !bytes.HasPrefix(payload, got) || len(got) == len(payload) {
					t.Fatalf("released %d bytes", len(got))
				}
			})
		}
	}
}

func TestChunkedLenient(t *testing.T) {
	payload := []byte("hello world")
	tests := []struct {
		name    string
		body    string
		trailer string
		want    http.Header
	}{
		{"SDK layout", "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", "x-amz-checksum-crc32", http.Header{"X-Amz-Checksum-Crc32": {"DUoRhQ=="}}},
		{"no final CRLF", "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n", "x-amz-checksum-crc32", http.Header{"X-Amz-Checksum-Crc32": {"DUoRhQ=="}}},
		{"minio-go layout", "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\n\r\n\r\n", "x-amz-checksum-crc32", http.Header{"X-Amz-Checksum-Crc32": {"DUoRhQ=="}}},
		{"no trailer, no final CRLF", "b\r\nhello world\r\n0\r\n", "", nil},
		{"no trailer", "b\r\nhello world\r\n0\r\n\r\n", "", nil},
		{"chunk extension", "b;foo=bar\r\nhello world\r\n0\r\n\r\n", "", nil},
		{"spaces and case in trailer", "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Amz-Checksum-CRC32 :  DUoRhQ== \r\n\r\n", "X-Amz-Checksum-Crc32", http.Header{"X-Amz-Checksum-Crc32": {"DUoRhQ=="}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := testChunkedReader(t, []byte(tc.body), modeStreamingUnsignedTrailer, testSeed, int64(len(payload)), tc.trailer)
			got, err := io.ReadAll(cr)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("got %q, %v", got, err)
			}
			if fmt.Sprint(cr.Trailer()) != fmt.Sprint(tc.want) {
				t.Fatalf("Trailer() = %v, want %v", cr.Trailer(), tc.want)
			}
		})
	}
}

func TestChunkedUnknownLength(t *testing.T) {
	// STREAMING-UNSIGNED-PAYLOAD-TRAILER without x-amz-decoded-content-length.
	cr := testChunkedReader(t, []byte("5\r\nhello\r\n0\r\n\r\n"), modeStreamingUnsignedTrailer, testSeed, -1, "")
	if got, err := io.ReadAll(cr); err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
	// Signed streaming requires it.
	r := newRequest(t, "PUT", "http://bkt.s3.cairn.test/o", nil)
	SignChunkedRequest(r, testAccessKey, testSecret, testRegion, testTime, []byte("hello"), ChunkedOptions{})
	r.Header.Del("X-Amz-Decoded-Content-Length")
	// Re-sign so the header set is consistent and only the length is missing.
	SignRequest(r, testAccessKey, testSecret, testRegion, testTime, StreamingPayload)
	if _, err := testVerifier(testTime).Verify(r); !errors.Is(err, ErrMissingContentLength) {
		t.Fatalf("err = %v, want ErrMissingContentLength", err)
	}
}

func TestChunkedMaxChunkSize(t *testing.T) {
	payload := bytes.Repeat([]byte{'z'}, MaxChunkSize)
	body := encodeChunked(payload, MaxChunkSize, modeStreaming, nil)
	cr := testChunkedReader(t, body, modeStreaming, testSeed, MaxChunkSize, "")
	n, err := io.Copy(io.Discard, cr)
	if err != nil || n != MaxChunkSize {
		t.Fatalf("copied %d, %v", n, err)
	}
	// A header announcing a big chunk with little data behind it fails
	// without allocating the announced size up front.
	lie := []byte(fmt.Sprintf("%x;chunk-signature=%s\r\nshort", MaxChunkSize, strings.Repeat("0", 64)))
	cr = testChunkedReader(t, lie, modeStreaming, testSeed, MaxChunkSize, "")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = cr.Read(make([]byte, 10))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrIncompleteBody) {
		t.Fatalf("err = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4*minChunkAlloc {
		t.Fatalf("allocated %d bytes for 5 bytes of chunk data", n)
	}
}

func TestChunkedCloseAndReuse(t *testing.T) {
	v := testVerifier(testTime)
	payload := testPayload(50000)
	for i := range 3 {
		r := newRequest(t, "PUT", "http://bkt.s3.cairn.test/o", nil)
		if err := SignChunkedRequest(r, testAccessKey, testSecret, testRegion, testTime, payload, ChunkedOptions{ChunkSize: 4096}); err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(r)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			// Close half way: later reads fail, the buffers go back to the pool.
			buf := make([]byte, 10000)
			if _, err := io.ReadFull(res.Body, buf); err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if n, err := res.Body.Read(buf); n != 0 || err == nil || err == io.EOF {
				t.Fatalf("Read after Close = %d, %v", n, err)
			}
			continue
		}
		got, err := io.ReadAll(bufio.NewReader(res.Body))
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("round %d: %d bytes, %v", i, len(got), err)
		}
		res.Body.Close()
		res.Body.Close() // twice is fine
	}
}

func TestSHA256Reader(t *testing.T) {
	payload := testPayload(10000)
	var want [32]byte
	copy(want[:], mustHex(sha256Hex(string(payload))))
	for _, w := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"OneByteReader", iotest.OneByteReader},
		{"HalfReader", iotest.HalfReader},
		{"DataErrReader", iotest.DataErrReader},
	} {
		t.Run(w.name, func(t *testing.T) {
			r := newSHA256Reader(io.NopCloser(w.wrap(bytes.NewReader(payload))), want)
			if err := iotest.TestReader(r, payload); err != nil {
				t.Fatal(err)
			}
			bad := newSHA256Reader(io.NopCloser(w.wrap(bytes.NewReader(payload[1:]))), want)
			if _, err := io.ReadAll(bad); !errors.Is(err, ErrContentSHA256Mismatch) {
				t.Fatalf("short body: err = %v", err)
			}
		})
	}
	t.Run("TimeoutReader", func(t *testing.T) {
		r := newSHA256Reader(io.NopCloser(iotest.TimeoutReader(bytes.NewReader(payload))), want)
		if _, err := io.ReadAll(r); !errors.Is(err, iotest.ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
		if _, err := r.Read(make([]byte, 1)); !errors.Is(err, iotest.ErrTimeout) {
			t.Fatalf("error not sticky: %v", err)
		}
	})
	t.Run("no allocations per Read", func(t *testing.T) {
		src := &repeatReader{}
		r := newSHA256Reader(io.NopCloser(src), want)
		buf := make([]byte, 4096)
		if a := testing.AllocsPerRun(100, func() { r.Read(buf) }); a != 0 {
			t.Fatalf("%v allocations per Read", a)
		}
	})
}

func TestChunkedReadAllocations(t *testing.T) {
	// Steady-state decoding of signed chunks allocates nothing per chunk.
	payload := testPayload(64 << 10)
	body := encodeChunked(payload, 4096, modeStreaming, nil)
	cr := testChunkedReader(t, body, modeStreaming, testSeed, int64(len(payload)), "")
	buf := make([]byte, 4096)
	io.ReadFull(cr, buf) // first chunk sizes the buffer
	if a := testing.AllocsPerRun(10, func() { cr.Read(buf) }); a != 0 {
		t.Fatalf("%v allocations per chunk", a)
	}
}

type repeatReader struct{}

func (repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'r'
	}
	return len(p), nil
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
