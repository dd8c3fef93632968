package s3api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/minio/crc64nvme"

	"github.com/cairn-io/cairn/server/internal/objects"
)

func b64u32(v uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, v))
}

func b64u64(v uint64) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, v))
}

// checkValues are the standard check values of each algorithm over "123456789"
// (CRCs) and FIPS 180 "abc" vectors (SHAs), base64 of the big-endian digest.
var checkValues = []struct {
	alg, input, want string
}{
	{algCRC32, "123456789", b64u32(0xCBF43926)},
	{algCRC32C, "123456789", b64u32(0xE3069283)},
	{algCRC64NVME, "123456789", b64u64(0xAE8B14860A799888)},
	{algSHA1, "abc", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="},
	{algSHA256, "abc", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
	// The algorithms S3 added later: RFC 1321 and FIPS 180 "abc" vectors, and the
	// xxHash reference values for "abc" (seed 0).
	{algMD5, "abc", "kAFQmDzST7DWlj99KOF/cg=="},
	{algSHA512, "abc", "3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="},
	{algXXHash64, "abc", b64u64(0x44BC2CF5AD770999)},
	{algXXHash3, "abc", b64u64(0x78AF5F94892F3950)},
	{algXXHash128, "abc", base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 0x06B05AB6733A6185), 0x78AF5F94892F3950))},
}

// Every algorithm has a check value, a digest size and a header.
func TestChecksumAlgorithmsComplete(t *testing.T) {
	t.Parallel()
	have := map[string]bool{}
	for _, cv := range checkValues {
		have[cv.alg] = true
	}
	for _, alg := range checksumAlgorithms() {
		if !have[alg] {
			t.Errorf("%s has no check value", alg)
		}
		h := newChecksumHash(alg)
		if h == nil || h.Size() != checksumSize(alg) {
			t.Errorf("%s: hash %v, size %d", alg, h, checksumSize(alg))
		}
		if got, err := parseAlgorithm(strings.ToLower(alg)); err != nil || got != alg {
			t.Errorf("parseAlgorithm(%q) = %q, %v", strings.ToLower(alg), got, err)
		}
	}
	if got := checksumHeader(algXXHash128); got != "X-Amz-Checksum-Xxhash128" {
		t.Errorf("checksumHeader(XXHASH128) = %q", got)
	}
}

func TestChecksumReader(t *testing.T) {
	t.Parallel()
	wrappers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, cv := range checkValues {
		for _, w := range wrappers {
			t.Run(cv.alg+"/"+w.name+"/match", func(t *testing.T) {
				t.Parallel()
				out := &objects.Checksum{Algorithm: cv.alg}
				want := func() (string, error) { return cv.want, nil }
				r := newChecksumReader(w.wrap(strings.NewReader(cv.input)), cv.alg, want, out)
				got, err := io.ReadAll(r)
				if err != nil || string(got) != cv.input {
					t.Fatalf("ReadAll = %q, %v", got, err)
				}
				if out.Value != cv.want {
					t.Fatalf("checksum = %s, want %s", out.Value, cv.want)
				}
				if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Fatalf("read after EOF = %d, %v", n, err)
				}
			})
			t.Run(cv.alg+"/"+w.name+"/mismatch", func(t *testing.T) {
				t.Parallel()
				out := &objects.Checksum{Algorithm: cv.alg}
				want := func() (string, error) { return cv.want, nil }
				r := newChecksumReader(w.wrap(strings.NewReader(cv.input+"x")), cv.alg, want, out)
				_, err := io.ReadAll(r)
				ae := errorResponse(err)
				if err == nil || ae.Code != "BadDigest" || !strings.Contains(ae.Message, cv.alg) {
					t.Fatalf("error = %v, want BadDigest naming %s", err, cv.alg)
				}
				if out.Value != "" {
					t.Fatalf("checksum filled on mismatch: %q", out.Value)
				}
				if _, err2 := r.Read(make([]byte, 1)); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
			})
		}
		t.Run(cv.alg+"/iotest.TestReader", func(t *testing.T) {
			t.Parallel()
			out := &objects.Checksum{Algorithm: cv.alg}
			r := newChecksumReader(strings.NewReader(cv.input), cv.alg, func() (string, error) { return cv.want, nil }, out)
			if err := iotest.TestReader(r, []byte(cv.input)); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(cv.alg+"/compute only", func(t *testing.T) {
			t.Parallel()
			out := &objects.Checksum{Algorithm: cv.alg}
			if _, err := io.Copy(io.Discard, newChecksumReader(strings.NewReader(cv.input), cv.alg, nil, out)); err != nil {
				t.Fatal(err)
			}
			if out.Value != cv.want {
				t.Fatalf("checksum = %s, want %s", out.Value, cv.want)
			}
		})
	}
}

func TestChecksumReaderPassesErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	out := &objects.Checksum{Algorithm: algCRC32}
	r := newChecksumReader(iotest.ErrReader(boom), algCRC32, func() (string, error) { return "x", nil }, out)
	if _, err := io.ReadAll(r); !errors.Is(err, boom) {
		t.Fatalf("error = %v, want boom", err)
	}
	if out.Value != "" {
		t.Fatal("checksum filled after a read error")
	}
	// A failing "want" (missing trailer) is returned instead of EOF.
	missing := apiError(codeMalformedTrailer, "")
	r = newChecksumReader(strings.NewReader("abc"), algCRC32, func() (string, error) { return "", missing }, out)
	if _, err := io.ReadAll(r); !errors.Is(err, missing) {
		t.Fatalf("error = %v, want MalformedTrailerError", err)
	}
}

func TestParseChecksumSpec(t *testing.T) {
	t.Parallel()
	crc := b64u32(0xCBF43926)
	tests := []struct {
		name     string
		header   map[string]string
		want     checksumSpec
		wantCode string
	}{
		{name: "none"},
		{name: "header value", header: map[string]string{"X-Amz-Checksum-Crc32": crc}, want: checksumSpec{alg: algCRC32, value: crc}},
		{name: "header with matching sdk algorithm", header: map[string]string{"X-Amz-Checksum-Crc32": crc, "X-Amz-Sdk-Checksum-Algorithm": "crc32"}, want: checksumSpec{alg: algCRC32, value: crc}},
		{name: "trailer", header: map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc64nvme"}, want: checksumSpec{alg: algCRC64NVME, trailer: true}},
		{name: "trailer with sdk algorithm", header: map[string]string{"X-Amz-Trailer": "x-amz-checksum-sha256", "X-Amz-Sdk-Checksum-Algorithm": "SHA256"}, want: checksumSpec{alg: algSHA256, trailer: true}},
		{name: "algorithm only: compute", header: map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "CRC32C"}, want: checksumSpec{alg: algCRC32C}},
		// minio-go asks for a server-computed checksum with x-amz-checksum-algorithm.
		{name: "checksum-algorithm only: compute", header: map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C"}, want: checksumSpec{alg: algCRC32C}},
		{name: "checksum-algorithm with its value", header: map[string]string{"X-Amz-Checksum-Algorithm": "MD5", "X-Amz-Checksum-Md5": "kAFQmDzST7DWlj99KOF/cg=="}, want: checksumSpec{alg: algMD5, value: "kAFQmDzST7DWlj99KOF/cg=="}},
		{name: "conflicting checksum-algorithm", header: map[string]string{"X-Amz-Checksum-Algorithm": "SHA1", "X-Amz-Checksum-Crc32": crc}, wantCode: "InvalidRequest"},
		{name: "xxhash trailer", header: map[string]string{"X-Amz-Trailer": "x-amz-checksum-xxhash3"}, want: checksumSpec{alg: algXXHash3, trailer: true}},
		{name: "two headers", header: map[string]string{"X-Amz-Checksum-Crc32": crc, "X-Amz-Checksum-Crc32c": crc}, wantCode: "InvalidRequest"},
		{name: "header and trailer", header: map[string]string{"X-Amz-Checksum-Crc32": crc, "X-Amz-Trailer": "x-amz-checksum-crc32"}, wantCode: "InvalidRequest"},
		{name: "conflicting sdk algorithm", header: map[string]string{"X-Amz-Checksum-Crc32": crc, "X-Amz-Sdk-Checksum-Algorithm": "SHA1"}, wantCode: "InvalidRequest"},
		{name: "unknown sdk algorithm", header: map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "CRC16"}, wantCode: "InvalidRequest"},
		{name: "unknown trailer algorithm", header: map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc16"}, wantCode: "InvalidRequest"},
		{name: "bad base64", header: map[string]string{"X-Amz-Checksum-Sha1": "***"}, wantCode: "InvalidRequest"},
		{name: "wrong length", header: map[string]string{"X-Amz-Checksum-Sha256": crc}, wantCode: "InvalidRequest"},
		{name: "unrelated trailer", header: map[string]string{"X-Amz-Trailer": "x-amz-meta-foo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			got, err := parseChecksumSpec(h)
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseChecksumSpec = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestCompositeChecksum(t *testing.T) {
	t.Parallel()
	parts := [][]byte{[]byte("part one"), []byte("part two"), []byte("3")}
	var values []string
	var concat []byte
	for _, p := range parts {
		sum := sha256.Sum256(p)
		values = append(values, base64.StdEncoding.EncodeToString(sum[:]))
		concat = append(concat, sum[:]...)
	}
	outer := sha256.Sum256(concat)
	want := base64.StdEncoding.EncodeToString(outer[:]) + "-3"
	got, err := compositeChecksum(algSHA256, values)
	if err != nil || got != want {
		t.Fatalf("compositeChecksum = %q, %v; want %q", got, err, want)
	}
	if _, err := compositeChecksum(algSHA256, []string{"bad"}); err == nil {
		t.Fatal("compositeChecksum accepted a malformed part checksum")
	}
}

func TestFullObjectCRC(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	sums := map[string]func([]byte) string{
		algCRC32:     func(b []byte) string { return b64u32(crc32.ChecksumIEEE(b)) },
		algCRC32C:    func(b []byte) string { return b64u32(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))) },
		algCRC64NVME: func(b []byte) string { return b64u64(crc64nvme.Checksum(b)) },
	}
	for alg, sum := range sums {
		for _, sizes := range [][]int{{1}, {5, 7}, {0, 13, 0}, {1000, 1, 4096, 33}} {
			var whole []byte
			var values []string
			var lens []int64
			for _, n := range sizes {
				p := make([]byte, n)
				for i := range p {
					p[i] = byte(rng.UintN(256))
				}
				whole = append(whole, p...)
				values = append(values, sum(p))
				lens = append(lens, int64(n))
			}
			got, err := fullObjectCRC(alg, values, lens)
			if err != nil || got != sum(whole) {
				t.Errorf("%s sizes %v: fullObjectCRC = %q, %v; want %q", alg, sizes, got, err, sum(whole))
			}
		}
	}
	if _, err := fullObjectCRC(algSHA256, []string{"x"}, []int64{1}); err == nil {
		t.Error("fullObjectCRC accepted SHA256")
	}
}

func TestChecksumXMLRoundTrip(t *testing.T) {
	t.Parallel()
	m := map[string]string{}
	for i, alg := range checksumAlgorithms() {
		m[alg] = strings.Repeat("v", i+1)
	}
	got := checksumXMLOf(m).values()
	if len(got) != len(m) {
		t.Fatalf("values = %v", got)
	}
	for k, v := range m {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if checksumXMLOf(nil).values() != nil {
		t.Error("empty checksums should convert to nil")
	}
}
