package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Client-side signing. These helpers exist so that tests (of this package and
// of s3api, servertest, ...) and the load generator can build signed requests
// without the AWS SDK. They sign the way aws-sdk-go-v2 does for S3; the
// server never calls them.

// neverSigned reports the headers SignRequest leaves unsigned, as the AWS
// SDKs do.
func neverSigned(lowerName string) bool {
	switch lowerName {
	case "authorization", "user-agent", "expect", "transfer-encoding", "x-amzn-trace-id":
		return true
	}
	return false
}

// SignRequest signs r in place with an AWS4-HMAC-SHA256 Authorization
// header, as a client would. It sets X-Amz-Date to t and
// X-Amz-Content-Sha256 to payloadHash ("" means UNSIGNED-PAYLOAD; pass the
// hex SHA-256 of the body, or EmptySHA256, to sign the payload) and signs
// host, every header already in r.Header except Authorization, User-Agent,
// Expect and Transfer-Encoding, and content-length when r.ContentLength > 0.
// The canonical URI is r.URL.EscapedPath(), which is what net/http sends.
// It does not read the body. Set the headers you want signed before calling.
func SignRequest(r *http.Request, accessKey, secret, region string, t time.Time, payloadHash string) error {
	_, err := signRequest(r, accessKey, secret, region, t, payloadHash)
	return err
}

func signRequest(r *http.Request, accessKey, secret, region string, t time.Time, payloadHash string) ([32]byte, error) {
	if payloadHash == "" {
		payloadHash = UnsignedPayload
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	t = t.UTC()
	r.Header.Del("Authorization")
	r.Header.Set("X-Amz-Date", t.Format(iso8601))
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	params, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return [32]byte{}, err
	}
	names := []string{"host"}
	if r.ContentLength > 0 {
		names = append(names, "content-length")
	}
	for k := range r.Header {
		l := strings.ToLower(k)
		if !neverSigned(l) && !slices.Contains(names, l) {
			names = append(names, l)
		}
	}
	slices.Sort(names)
	signed := strings.Join(names, ";")
	cred := credential{AccessKey: accessKey, Date: t.Format(yyyymmdd), Region: region, Service: service}
	canon := canonicalRequest(r, canonicalQuery(params, ""), names, signed, payloadHash)
	sig := sign(signingKey(secret, cred.Date, region, service), stringToSign(t.Format(iso8601), cred.scope(), canon))
	r.Header.Set("Authorization", authorization{Credential: cred, SignedHeaders: signed, Signature: sig[:]}.String())
	return sig, nil
}

// PresignURL returns rawURL presigned for method with query-string
// authentication, valid from t for expires (whole seconds, 1s to 7 days),
// as a client would make it. Only host is signed and the payload is
// UNSIGNED-PAYLOAD. Existing query parameters are kept (re-encoded in
// canonical form).
func PresignURL(method, rawURL, accessKey, secret, region string, t time.Time, expires time.Duration) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", errors.New("sigv4: PresignURL needs an absolute URL")
	}
	params, err := parseQuery(u.RawQuery)
	if err != nil {
		return "", err
	}
	t = t.UTC()
	cred := credential{AccessKey: accessKey, Date: t.Format(yyyymmdd), Region: region, Service: service}
	params = append(params,
		queryParam{"X-Amz-Algorithm", algorithm},
		queryParam{"X-Amz-Credential", accessKey + "/" + cred.scope()},
		queryParam{"X-Amz-Date", t.Format(iso8601)},
		queryParam{"X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10)},
		queryParam{"X-Amz-SignedHeaders", "host"},
	)
	query := canonicalQuery(params, "")
	r := &http.Request{Method: method, URL: u, Host: u.Host, Header: http.Header{}}
	canon := canonicalRequest(r, query, []string{"host"}, "host", UnsignedPayload)
	sig := sign(signingKey(secret, cred.Date, region, service), stringToSign(t.Format(iso8601), cred.scope(), canon))
	u.RawQuery = query + "&X-Amz-Signature=" + hex.EncodeToString(sig[:])
	return u.String(), nil
}

// ChunkedOptions configures SignChunkedRequest.
type ChunkedOptions struct {
	// ChunkSize is the number of payload bytes per chunk; 0 means 64 KiB.
	ChunkSize int
	// Unsigned sends STREAMING-UNSIGNED-PAYLOAD-TRAILER (no chunk
	// signatures, as current AWS SDKs do) instead of signed chunks.
	Unsigned bool
	// Trailer holds trailing headers such as X-Amz-Checksum-Crc32, sent
	// after the final chunk (names lowercased, sorted) and declared in
	// X-Amz-Trailer. With signed chunks a non-empty Trailer selects
	// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.
	Trailer http.Header
}

// SignChunkedRequest makes r an aws-chunked upload of payload, as a client
// would: it sets Content-Encoding, X-Amz-Decoded-Content-Length,
// X-Amz-Trailer, r.ContentLength and r.Body to the encoded stream, and signs
// the request with SignRequest's rules; the seed signature chains the chunk
// signatures.
func SignChunkedRequest(r *http.Request, accessKey, secret, region string, t time.Time, payload []byte, opts ChunkedOptions) error {
	mode := StreamingPayload
	switch {
	case opts.Unsigned:
		mode = StreamingUnsignedPayloadTrailer
	case len(opts.Trailer) > 0:
		mode = StreamingPayloadTrailer
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
	trailer := trailerLines(opts.Trailer)
	if len(trailer) > 0 {
		names := make([]string, len(trailer))
		for i, l := range trailer {
			names[i], _, _ = strings.Cut(l, ":")
		}
		r.Header.Set("X-Amz-Trailer", strings.Join(names, ","))
	}
	t = t.UTC()
	// The encoded length is signed (content-length) before the chunk
	// signatures exist; every signature has the same length, so encode once
	// with a zero seed to measure.
	enc := chunkEncoder{size: opts.ChunkSize, unsigned: opts.Unsigned}
	r.ContentLength = int64(len(enc.encode(payload, trailer)))
	seed, err := signRequest(r, accessKey, secret, region, t, mode)
	if err != nil {
		return err
	}
	if !opts.Unsigned {
		enc.signer = newChunkSigner(secret, region, t, seed)
	}
	body := enc.encode(payload, trailer)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// trailerLines formats h as sorted "name:value" lines with lowercase names.
func trailerLines(h http.Header) []string {
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			lines = append(lines, strings.ToLower(k)+":"+v)
		}
	}
	slices.Sort(lines)
	return lines
}

// chunkSigner computes the chained chunk and trailer signatures of a client.
type chunkSigner struct {
	key     [32]byte
	amzDate string
	scope   string
	prev    [32]byte
}

func newChunkSigner(secret, region string, t time.Time, seed [32]byte) *chunkSigner {
	t = t.UTC()
	cred := credential{Date: t.Format(yyyymmdd), Region: region, Service: service}
	return &chunkSigner{
		key:     signingKey(secret, cred.Date, region, service),
		amzDate: t.Format(iso8601),
		scope:   cred.scope(),
		prev:    seed,
	}
}

// chunk returns the hex signature of the next chunk.
func (s *chunkSigner) chunk(data []byte) string {
	sum := sha256.Sum256(data)
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" +
		hex.EncodeToString(s.prev[:]) + "\n" + EmptySHA256 + "\n" + hex.EncodeToString(sum[:])
	s.prev = sign(s.key, []byte(sts))
	return hex.EncodeToString(s.prev[:])
}

// trailer returns the hex signature of the trailer lines ("name:value").
func (s *chunkSigner) trailer(lines []string) string {
	var canon strings.Builder
	for _, l := range lines {
		canon.WriteString(l)
		canon.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(canon.String()))
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" +
		hex.EncodeToString(s.prev[:]) + "\n" + hex.EncodeToString(sum[:])
	s.prev = sign(s.key, []byte(sts))
	return hex.EncodeToString(s.prev[:])
}

// chunkEncoder writes the aws-chunked encoding. With a nil signer and
// !unsigned it writes all-zero signatures (used to measure the length).
type chunkEncoder struct {
	size     int
	unsigned bool
	signer   *chunkSigner
}

func (e chunkEncoder) sig(data []byte) string {
	if e.signer == nil {
		return strings.Repeat("0", 64)
	}
	return e.signer.chunk(data)
}

func (e chunkEncoder) encode(payload []byte, trailer []string) []byte {
	size := e.size
	if size <= 0 {
		size = 64 << 10
	}
	var b bytes.Buffer
	header := func(data []byte) {
		b.WriteString(strconv.FormatInt(int64(len(data)), 16))
		if !e.unsigned {
			b.WriteString(";chunk-signature=")
			b.WriteString(e.sig(data))
		}
		b.WriteString("\r\n")
	}
	for len(payload) > 0 {
		n := min(size, len(payload))
		header(payload[:n])
		b.Write(payload[:n])
		b.WriteString("\r\n")
		payload = payload[n:]
	}
	header(nil)
	for _, l := range trailer {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	if !e.unsigned && len(trailer) > 0 {
		sig := strings.Repeat("0", 64)
		if e.signer != nil {
			sig = e.signer.trailer(trailer)
		}
		fmt.Fprintf(&b, "%s:%s\r\n", trailerSignatureName, sig)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
