package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/iam"
	"github.com/cairn-io/cairn/server/internal/kms"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// Config configures the admin handler. Store, Authorizer and Auth are required.
type Config struct {
	Store      *iam.Store
	Authorizer *iam.Authorizer
	// Auth verifies request signatures (share the S3 API's verifier).
	Auth *sigv4.Verifier
	// Info returns the server description for GET /info (nil: an empty one).
	Info func(ctx context.Context) adminapi.ServerInfo
	// Logger receives failures (5xx at Error, others at Debug). Nil discards.
	Logger *slog.Logger
	// Pools manages server pools (nil: the pool routes answer 501).
	Pools PoolManager
	// Heal reports background healing (nil: an empty status).
	Heal func() adminapi.HealStatus
	// MetricsToken mints the /metrics token of an access key (nil: 501).
	MetricsToken func(accessKey string) (string, error)
	// KMS manages the KMS's keys (nil: the /kms routes answer 501; kms.go).
	KMS kms.Manager
	// Tiers manages remote tiers (nil: the /tiers routes answer 501; tiers.go).
	Tiers TierManager
}

// NewHandler returns the admin API handler. It is safe for concurrent use.
func NewHandler(cfg Config) http.Handler {
	h := &handler{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.routes = h.routeTable()
	return h
}

type handler struct {
	cfg    Config
	log    *slog.Logger
	routes []route
}

// request is one admin request while it is handled.
type request struct {
	r         *http.Request
	id        string
	accessKey string
	params    map[string]string
	body      []byte
}

// apiError is an error with its admin API code and status.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return "admin: " + e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{r: r, id: newRequestID()}
	w.Header().Set("X-Amz-Request-Id", rq.id)
	w.Header().Set("Server", "Cairn")
	status, v, err := h.serve(rq)
	if err != nil {
		h.writeError(w, rq, err)
		return
	}
	writeJSON(w, status, v)
}

func (h *handler) serve(rq *request) (int, any, error) {
	res, err := h.cfg.Auth.Verify(rq.r)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	if res.Anonymous {
		return 0, nil, errorf(http.StatusForbidden, adminapi.CodeAccessDenied, "the admin API needs requests signed with AWS Signature Version 4")
	}
	rq.accessKey = res.AccessKey
	body, err := io.ReadAll(io.LimitReader(res.Body, adminapi.MaxBodySize+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > adminapi.MaxBodySize {
		return 0, nil, errorf(http.StatusRequestEntityTooLarge, adminapi.CodeEntityTooLarge, "the request body exceeds %d bytes", adminapi.MaxBodySize)
	}
	rq.body = body

	rt, params, err := h.match(rq.r)
	if err != nil {
		return 0, nil, err
	}
	rq.params = params
	if err := h.cfg.Authorizer.Authorize(rq.r.Context(), iam.Request{
		Action: rt.action, Resource: "*", AccessKey: rq.accessKey,
		SourceIP: sourceIP(rq.r), SecureTransport: rq.r.TLS != nil,
	}); err != nil {
		return 0, nil, err
	}
	v, err := rt.fn(rq)
	if err != nil {
		return 0, nil, err
	}
	return rt.status, v, nil
}

// sourceIP is the client's address (the connection's, never a forwarded header).
func sourceIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a
}

// errorResponse is the one function that maps an error to the admin API's
// status, code and client-safe message.
func errorResponse(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if code, status, ok := sigv4.S3Code(err); ok {
		if status == 0 {
			status = http.StatusForbidden
		}
		return &apiError{status: status, code: code, message: strings.TrimPrefix(err.Error(), "sigv4: ")}
	}
	msg := strings.TrimPrefix(err.Error(), "iam: ")
	switch {
	case errors.Is(err, iam.ErrAccessDenied):
		return errorf(http.StatusForbidden, adminapi.CodeAccessDenied, "access denied")
	case errors.Is(err, iam.ErrMalformedPolicy):
		return errorf(http.StatusBadRequest, adminapi.CodeMalformedPolicy, "%s", msg)
	case errors.Is(err, iam.ErrInvalidArgument):
		return errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "%s", msg)
	case errors.Is(err, iam.ErrBuiltinPolicy):
		return errorf(http.StatusBadRequest, adminapi.CodeBuiltinPolicy, "%s", msg)
	case errors.Is(err, iam.ErrNoSuchUser):
		return errorf(http.StatusNotFound, adminapi.CodeNoSuchUser, "%s", msg)
	case errors.Is(err, iam.ErrNoSuchGroup):
		return errorf(http.StatusNotFound, adminapi.CodeNoSuchGroup, "%s", msg)
	case errors.Is(err, iam.ErrNoSuchPolicy):
		return errorf(http.StatusNotFound, adminapi.CodeNoSuchPolicy, "%s", msg)
	case errors.Is(err, iam.ErrNoSuchAccessKey):
		return errorf(http.StatusNotFound, adminapi.CodeNoSuchAccessKey, "%s", msg)
	case errors.Is(err, iam.ErrNotAttached):
		return errorf(http.StatusNotFound, adminapi.CodeNotAttached, "%s", msg)
	case errors.Is(err, iam.ErrExists):
		return errorf(http.StatusConflict, adminapi.CodeAlreadyExists, "%s", msg)
	case errors.Is(err, iam.ErrDeleteConflict):
		return errorf(http.StatusConflict, adminapi.CodeDeleteConflict, "%s", msg)
	case errors.Is(err, objects.ErrPoolNotFound):
		return errorf(http.StatusNotFound, adminapi.CodeNoSuchPool, "%s", strings.TrimPrefix(err.Error(), "objects: "))
	case errors.Is(err, objects.ErrLastPool), errors.Is(err, objects.ErrPoolDraining), errors.Is(err, ErrPoolInUse),
		errors.Is(err, objects.ErrPoolJoining), errors.Is(err, objects.ErrRebalanceRunning), errors.Is(err, objects.ErrNothingToBalance):
		return errorf(http.StatusConflict, adminapi.CodePoolConflict, "%s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "objects: "), "admin: "))
	case errors.Is(err, objects.ErrLockBusy):
		return errorf(http.StatusConflict, adminapi.CodePoolConflict, "another pool change or rebalance start is in progress (%s); retry", strings.TrimPrefix(err.Error(), "objects: "))
	case errors.Is(err, ErrInvalidPool):
		return errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "%s", strings.TrimPrefix(err.Error(), "admin: "))
	case errors.Is(err, objects.ErrWriteQuorum), errors.Is(err, objects.ErrReadQuorum):
		return errorf(http.StatusServiceUnavailable, adminapi.CodeServiceUnavail, "the cluster's storage is not available; retry")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, adminapi.CodeServiceUnavail, "the request was canceled or timed out")
	}
	return errorf(http.StatusInternalServerError, adminapi.CodeInternalError, "internal error")
}

// writeError is the one place that writes an error response.
func (h *handler) writeError(w http.ResponseWriter, rq *request, err error) {
	ae := errorResponse(err)
	msg := ae.message
	if ae.code == adminapi.CodeInternalError {
		msg = "internal error; see the server log for request " + rq.id
	}
	level := slog.LevelDebug
	if ae.status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(rq.r.Context(), level, "admin: request failed", "method", rq.r.Method, "path", rq.r.URL.Path,
		"request_id", rq.id, "access_key", rq.accessKey, "code", ae.code, "status", ae.status, "err", err.Error())
	if ae.status == http.StatusMethodNotAllowed {
		if allow, ok := h.allowed(rq.r.URL.Path); ok {
			w.Header().Set("Allow", allow)
		}
	}
	writeJSON(w, ae.status, adminapi.Error{Code: ae.code, Message: msg, RequestID: rq.id})
}

// writeJSON writes v (nil: no body) with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil || status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil { // the API types always encode; never leave the client without a status
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode reads the request body into v strictly: one JSON object, no unknown
// fields, nothing after it.
func decode(rq *request, v any) error {
	if len(bytes.TrimSpace(rq.body)) == 0 {
		return errorf(http.StatusBadRequest, adminapi.CodeMalformedJSON, "the request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(rq.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, adminapi.CodeMalformedJSON, "the request body is not valid: %s", jsonMessage(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, adminapi.CodeMalformedJSON, "unexpected data after the JSON object")
	}
	return nil
}

func jsonMessage(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("the field %q must be a %s, not %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// noBody refuses a body on requests that take none.
func noBody(rq *request) error {
	if len(bytes.TrimSpace(rq.body)) != 0 {
		return errorf(http.StatusBadRequest, adminapi.CodeMalformedJSON, "this request takes no body")
	}
	return nil
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
