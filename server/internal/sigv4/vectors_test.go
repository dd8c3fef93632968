package sigv4

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The examples of the Amazon S3 API reference, "Signature Calculations for
// the Authorization Header", "Authenticating Requests: Using Query
// Parameters" and "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks".
const (
	exampleAccessKey = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

type staticCreds map[string]string

func (c staticCreds) SecretKey(ak string) (string, bool) {
	s, ok := c[ak]
	return s, ok
}

func exampleVerifier() *Verifier {
	return &Verifier{
		Creds:  staticCreds{exampleAccessKey: exampleSecret},
		Region: "us-east-1",
		Now:    func() time.Time { return exampleTime.Add(time.Minute) },
	}
}

func exampleAuth(signedHeaders, sig string) string {
	return "AWS4-HMAC-SHA256 Credential=" + exampleAccessKey + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
		signedHeaders + ",Signature=" + sig
}

func newRequest(t testing.TB, method, url string, body io.Reader, headers ...string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestAWSExampleVectors(t *testing.T) {
	const welcome = "Welcome to Amazon S3."
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
		body string // expected decoded body
	}{
		{
			name: "GET Object",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "https://examplebucket.s3.amazonaws.com/test.txt", nil,
					"Range", "bytes=0-9",
					"X-Amz-Content-Sha256", EmptySHA256,
					"X-Amz-Date", "20130524T000000Z",
					"Authorization", exampleAuth("host;range;x-amz-content-sha256;x-amz-date",
						"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))
			},
		},
		{
			name: "PUT Object",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text", strings.NewReader(welcome),
					"Date", "Fri, 24 May 2013 00:00:00 GMT",
					"X-Amz-Date", "20130524T000000Z",
					"X-Amz-Storage-Class", "REDUCED_REDUNDANCY",
					"X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
					"Authorization", exampleAuth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
						"98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
			},
			body: welcome,
		},
		{
			name: "GET Bucket Lifecycle",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "https://examplebucket.s3.amazonaws.com/?lifecycle", nil,
					"X-Amz-Date", "20130524T000000Z",
					"X-Amz-Content-Sha256", EmptySHA256,
					"Authorization", exampleAuth("host;x-amz-content-sha256;x-amz-date",
						"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
			},
		},
		{
			name: "Get Bucket (List Objects)",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", nil,
					"X-Amz-Date", "20130524T000000Z",
					"X-Amz-Content-Sha256", EmptySHA256,
					"Authorization", exampleAuth("host;x-amz-content-sha256;x-amz-date",
						"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
			},
		},
		{
			name: "presigned GET Object",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "https://examplebucket.s3.amazonaws.com/test.txt"+
					"?X-Amz-Algorithm=AWS4-HMAC-SHA256"+
					"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"+
					"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"+
					"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", nil)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := exampleVerifier().Verify(tc.req(t))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Anonymous || res.AccessKey != exampleAccessKey {
				t.Fatalf("Result = %+v, want access key %s", res, exampleAccessKey)
			}
			got, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if string(got) != tc.body {
				t.Fatalf("body = %q, want %q", got, tc.body)
			}
		})
	}
}

// TestAWSExampleSignRequest checks that the client-side signer reproduces
// the documented signature.
func TestAWSExampleSignRequest(t *testing.T) {
	r := newRequest(t, "GET", "https://examplebucket.s3.amazonaws.com/test.txt", nil, "Range", "bytes=0-9")
	if err := SignRequest(r, exampleAccessKey, exampleSecret, "us-east-1", exampleTime, EmptySHA256); err != nil {
		t.Fatal(err)
	}
	want := exampleAuth("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	want = strings.ReplaceAll(strings.ReplaceAll(want, ",SignedHeaders", ", SignedHeaders"), ",Signature", ", Signature")
	if got := r.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization =\n%s\nwant\n%s", got, want)
	}
	u, err := PresignURL("GET", "https://examplebucket.s3.amazonaws.com/test.txt", exampleAccessKey, exampleSecret, "us-east-1", exampleTime, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(u, "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") {
		t.Fatalf("PresignURL = %s", u)
	}
}

// chunkedExampleBody builds the documented example body: 64 KiB and 1 KiB
// of 'a' and the final chunk, with the given chunk signatures.
func chunkedExampleBody(sigs [3]string, tail string) []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=" + sigs[0] + "\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 65536))
	b.WriteString("\r\n400;chunk-signature=" + sigs[1] + "\r\n")
	b.Write(bytes.Repeat([]byte{'a'}, 1024))
	b.WriteString("\r\n0;chunk-signature=" + sigs[2] + "\r\n")
	b.WriteString(tail)
	return b.Bytes()
}

var chunkedExampleSigs = [3]string{
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
}

func chunkedExampleRequest(t testing.TB, body []byte) *http.Request {
	r := newRequest(t, "PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body),
		"X-Amz-Date", "20130524T000000Z",
		"X-Amz-Storage-Class", "REDUCED_REDUNDANCY",
		"X-Amz-Content-Sha256", StreamingPayload,
		"Content-Encoding", "aws-chunked",
		"X-Amz-Decoded-Content-Length", "66560",
		"Authorization", exampleAuth("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
			"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"))
	r.ContentLength = 66824
	return r
}

func TestAWSExampleChunkedUpload(t *testing.T) {
	body := chunkedExampleBody(chunkedExampleSigs, "\r\n")
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, want 66824", len(body))
	}
	res, err := exampleVerifier().Verify(chunkedExampleRequest(t, body))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.ContentLength != 66560 {
		t.Errorf("ContentLength = %d, want 66560", res.ContentLength)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte{'a'}, 66560)) {
		t.Fatalf("decoded %d bytes, not 66560 x 'a'", len(got))
	}
	if h := res.Trailer(); h != nil {
		t.Errorf("Trailer() = %v, want nil", h)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}

	// The client-side encoder produces the same chunk signatures.
	seed, _ := hex.DecodeString("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	enc := chunkEncoder{signer: newChunkSigner(exampleSecret, "us-east-1", exampleTime, [32]byte(seed))}
	if enc := enc.encode(bytes.Repeat([]byte{'a'}, 66560), nil); !bytes.Equal(enc, body) {
		t.Fatalf("chunkEncoder output differs from the documented body")
	}
}

// TestAWSExampleTrailer checks the chain of the "Signature Calculation:
// Including Trailing Headers" example from the documented seed signature:
// the same 65 KiB payload, a CRC32C trailer and its trailer signature.
func TestAWSExampleTrailer(t *testing.T) {
	const trailerSig = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
	sigs := [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
	seed, _ := hex.DecodeString("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")
	for _, tc := range []struct {
		name, tail string
	}{
		{"AWS layout", "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + trailerSig + "\r\n\r\n"},
		{"minio-go layout", "x-amz-checksum-crc32c:sOO8/Q==\n\r\nx-amz-trailer-signature:" + trailerSig + "\r\n\r\n"},
		{"no final CRLF", "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + trailerSig + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := chunkedExampleBody(sigs, tc.tail)
			cr := testChunkedReader(t, body, modeStreamingTrailer, [32]byte(seed), 66560, "x-amz-checksum-crc32c")
			got, err := io.ReadAll(cr)
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if len(got) != 66560 {
				t.Fatalf("decoded %d bytes, want 66560", len(got))
			}
			if v := cr.Trailer().Get("X-Amz-Checksum-Crc32c"); v != "sOO8/Q==" {
				t.Fatalf("trailer x-amz-checksum-crc32c = %q", v)
			}
		})
	}
}

// testChunkedReader builds a chunked reader for the example credentials and
// time directly from a seed signature.
func testChunkedReader(t testing.TB, body []byte, mode payloadMode, seed [32]byte, declared int64, trailer string) *chunkedReader {
	t.Helper()
	r := newRequest(t, "PUT", "https://s3.amazonaws.com/b/o", nil)
	if declared >= 0 {
		r.Header.Set("X-Amz-Decoded-Content-Length", itoa(declared))
	}
	if trailer != "" {
		r.Header.Set("X-Amz-Trailer", trailer)
	}
	v := exampleVerifier()
	key := signingKey(exampleSecret, "20130524", "us-east-1", "s3")
	cr, _, err := v.newChunkedReader(r, io.NopCloser(bytes.NewReader(body)), mode, key,
		"20130524T000000Z", "20130524/us-east-1/s3/aws4_request", seed)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}
