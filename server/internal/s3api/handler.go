package s3api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/internal/sigv4"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// Config configures the S3 handler. Objects is required; everything else has a
// usable zero value.
type Config struct {
	// Objects is the object layer (in production an *objects.Layer).
	Objects ObjectLayer
	// Auth verifies request signatures. Nil treats every request as anonymous, so
	// only what AllowAnonymous grants is served (meant for tests).
	Auth *sigv4.Verifier
	// Region is returned by GetBucketLocation and HeadBucket and checked against a
	// CreateBucket LocationConstraint. Empty means "us-east-1".
	Region string
	// Domains enables virtual-host style requests: a Host of bucket.<domain> (with
	// or without a port) addresses bucket. A Host equal to a domain is path-style.
	Domains []string
	// AllowAnonymous reports whether unsigned requests may access bucket. Nil means
	// never. Ignored when Authorize is set.
	AllowAnonymous func(bucket string) bool
	// Authorize, if set, decides every routed request after its signature was
	// verified, anonymous ones included (IAM and bucket policies; see authz.go).
	// Nil allows every signed request.
	Authorize AuthorizeFunc
	// Ready, if set, backs /cairn/health/ready: a non-nil error answers 503.
	Ready func(ctx context.Context) error
	// Logger receives request failures (5xx at Error except 501 NotImplemented,
	// others at Debug). Nil discards.
	Logger *slog.Logger
	// Observer, if set, sees every request (metrics; see observe.go).
	Observer Observer
	// SSE, if set, serves server-side encryption (see sse.go); nil refuses
	// encryption headers with NotImplemented.
	SSE *sse.Service
	// TierExists, if set, reports whether a remote tier of this name is
	// configured: a lifecycle Transition must name one. Nil accepts any name.
	TierExists func(ctx context.Context, name string) bool
}

// NewHandler returns the S3 API as an http.Handler. It is safe for concurrent use;
// it holds no state besides cfg.
func NewHandler(cfg Config) http.Handler { return newServer(cfg) }

// server is the S3 handler. All its fields are set once by newServer.
type server struct {
	cfg     Config
	objects ObjectLayer
	log     *slog.Logger
	region  string
	domains []string // lowercased, without port or leading dot
	routes  []route
}

func newServer(cfg Config) *server {
	s := &server{cfg: cfg, objects: cfg.Objects, log: cfg.Logger, region: cfg.Region}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	for _, d := range cfg.Domains {
		d = strings.ToLower(strings.Trim(stripPort(strings.TrimSpace(d)), "."))
		if d != "" {
			s.domains = append(s.domains, d)
		}
	}
	s.routes = s.routeTable()
	return s
}

// request is one S3 request while it is handled.
type request struct {
	r      *http.Request
	id     string // x-amz-request-id
	op     string // operation name from the route table, "" until routed
	bucket string
	key    string
	query  url.Values
	auth   *sigv4.Result
	// body is the request payload as decoded by sigv4 (aws-chunked removed); read it,
	// never r.Body. size is its length, -1 when unknown.
	body io.Reader
	size int64
	// errCode is the S3 error code writeError sent, for the Observer.
	errCode string
}

// anonymous reports whether the request carried no signature.
func (rq *request) anonymous() bool { return rq.auth == nil || rq.auth.Anonymous }

// accessKey is the requester's access key, "" when anonymous.
func (rq *request) accessKey() string {
	if rq.anonymous() {
		return ""
	}
	return rq.auth.AccessKey
}

// responseWriter remembers whether the header was sent, so a late error aborts the
// connection instead of appending an error document to a success response.
type responseWriter struct {
	http.ResponseWriter
	wroteHeader bool
	status      int
	written     int64
}

func (w *responseWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP handles one S3 request: ids, panic recovery, auth, routing, handler,
// and the one error writer.
func (s *server) ServeHTTP(hw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &responseWriter{ResponseWriter: hw}
	rq := &request{r: r, id: newRequestID(), size: -1}
	h := w.Header()
	h.Set("X-Amz-Request-Id", rq.id)
	h.Set("X-Amz-Id-2", requestID2(rq.id))
	h.Set("Server", "Cairn")

	if s.cfg.Observer != nil {
		defer s.observe(w, rq)() // registered first, so it runs after recoverPanic
	}
	defer s.recoverPanic(w, rq)
	err := s.serve(w, rq)
	if err != nil && !w.wroteHeader {
		s.writeError(w, rq, err)
		return
	}
	if err != nil {
		// The status line is gone; the only honest thing left is to cut the
		// connection so the client sees a truncated response.
		s.log.Error("s3api: request failed after response started",
			"op", rq.op, "request_id", rq.id, "bucket", rq.bucket, "key", rq.key,
			"written", w.written, "err", err.Error())
		panic(http.ErrAbortHandler)
	}
	s.log.Debug("s3api: request", "op", rq.op, "request_id", rq.id, "status", w.status,
		"bytes", w.written, "duration", time.Since(start))
}

// recoverPanic turns a handler panic into an InternalError (or an aborted
// connection when the response had started). http.ErrAbortHandler passes through.
func (s *server) recoverPanic(w *responseWriter, rq *request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as net/http does
		panic(p)
	}
	s.log.Error("s3api: handler panic", "op", rq.op, "request_id", rq.id, "panic", fmt.Sprint(p))
	if w.wroteHeader {
		panic(http.ErrAbortHandler)
	}
	s.writeError(w, rq, fmt.Errorf("s3api: panic in %s", rq.op))
}

// serve authenticates and routes the request, then runs its handler.
func (s *server) serve(w *responseWriter, rq *request) error {
	r := rq.r
	if s.isHealthCheck(r) {
		return s.health(w, rq)
	}
	m, routeErr := s.match(r)
	rq.op, rq.bucket, rq.key, rq.query = m.op, m.bucket, m.key, m.query

	res, err := s.authenticate(r)
	if err != nil {
		return err
	}
	rq.auth = res
	rq.body, rq.size = res.Body, res.ContentLength
	if res.Body != nil {
		defer res.Body.Close()
	} else {
		rq.body = http.NoBody
	}
	if m.op == "PostObject" {
		// A browser form upload authenticates with the policy inside its body,
		// which Cairn does not implement: say that, not AccessDenied.
		return apiError(codeNotImplemented, "POST Object (browser-based uploads with a POST policy) is not implemented.")
	}
	if res.Anonymous && !s.anonymousAllowed(rq.bucket) {
		return apiError(codeAccessDenied, "")
	}
	if routeErr != nil {
		return routeErr
	}
	if err := s.authorize(rq); err != nil {
		return err
	}
	return m.handler(w, rq)
}

// authenticate runs the signature check; with no verifier every request is anonymous.
func (s *server) authenticate(r *http.Request) (*sigv4.Result, error) {
	if s.cfg.Auth == nil {
		return &sigv4.Result{Anonymous: true, Body: r.Body, ContentLength: r.ContentLength}, nil
	}
	return s.cfg.Auth.Verify(r)
}

func (s *server) anonymousAllowed(bucket string) bool {
	if s.cfg.Authorize != nil {
		return true // Authorize decides (bucket policies)
	}
	return bucket != "" && s.cfg.AllowAnonymous != nil && s.cfg.AllowAnonymous(bucket)
}

// Reserved health-check paths (see the package doc).
const (
	healthLivePath  = "/cairn/health/live"
	healthReadyPath = "/cairn/health/ready"
)

func (s *server) isHealthCheck(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.URL.RawQuery != "" || (r.URL.Path != healthLivePath && r.URL.Path != healthReadyPath) {
		return false
	}
	_, virtual := s.virtualHostBucket(r.Host)
	return !virtual
}

func (s *server) health(w http.ResponseWriter, rq *request) error {
	rq.op = "HealthCheck"
	if rq.r.URL.Path == healthReadyPath && s.cfg.Ready != nil {
		if err := s.cfg.Ready(rq.r.Context()); err != nil {
			s.log.Warn("s3api: not ready", "err", err.Error())
			return apiError(codeServiceUnavailable, "The server is not ready.")
		}
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// newRequestID returns 16 uppercase hex characters from crypto/rand.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// requestID2 derives x-amz-id-2 from the request id (S3 sends an opaque base64 token).
func requestID2(id string) string {
	sum := sha256.Sum256([]byte("cairn-id-2/" + id))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// stripPort removes a :port suffix from a host, IPv6 brackets included.
func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
