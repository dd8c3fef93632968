package drive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-io/cairn/server/internal/rpcauth"
)

// Node-to-node storage RPC: a Remote drive on one node calls the RPC handler of the
// node that holds the drive locally. Bodies stream in both directions (a shard is
// never buffered whole), connections are reused, every call has a deadline, and
// every request is authenticated with an HMAC-SHA256 over its method, path, query
// and time, keyed with a secret derived from the cluster secret (never the root
// password itself). With TLS configured on the nodes the same calls run over HTTPS.
//
//	POST /cairn/rpc/v1/drive/<drive>/<op>?path=…&…
//
// Errors travel as an HTTP status plus an X-Cairn-Error code that maps back to this
// package's sentinel errors, so errors.Is works across the network.

// RPCPrefix is the URL path prefix of the storage RPC.
const RPCPrefix = "/cairn/rpc/v1/drive/"

const hdrError = "X-Cairn-Error"

// RPCAuth authenticates storage RPC (see package rpcauth).
type RPCAuth = rpcauth.Auth

// NewRPCAuth derives the RPC key from the cluster secret.
func NewRPCAuth(clusterSecret string) RPCAuth { return rpcauth.New(clusterSecret) }

var errCodes = []struct {
	code string
	err  error
}{
	{"Forbidden", ErrForbidden}, // before Faulty: a refused call is both
	{"NotFound", ErrNotFound}, {"Exists", ErrExists}, {"NotEmpty", ErrNotEmpty},
	{"BadPath", ErrBadPath}, {"Offline", ErrOffline}, {"DiskFull", ErrDiskFull}, {"Faulty", ErrFaulty},
	{"NoIndex", ErrNoIndex},
}

func errorCode(err error) string {
	for _, c := range errCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "Error"
}

func codeError(code, msg string) error {
	if code == "Forbidden" {
		return fmt.Errorf("%w: %w: %s", ErrFaulty, ErrForbidden, msg)
	}
	for _, c := range errCodes {
		if c.code == code {
			return fmt.Errorf("%w: %s", c.err, msg)
		}
	}
	return errors.New(msg)
}

// RPCHandler serves the local drives to other nodes. Drives are addressed by name
// (their path as it appears in the cluster's drive list). Drives is read only
// under the handler's lock: after the handler serves, change it with Add and
// Remove (a pool added to a running cluster).
type RPCHandler struct {
	Drives map[string]Drive
	Auth   RPCAuth
	Now    func() time.Time
	mu     sync.RWMutex
}

// Add serves d under name.
func (h *RPCHandler) Add(name string, d Drive) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Drives == nil {
		h.Drives = map[string]Drive{}
	}
	h.Drives[name] = d
}

// Remove stops serving the drive called name.
func (h *RPCHandler) Remove(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.Drives, name)
}

func (h *RPCHandler) lookup(name string) (Drive, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	d, ok := h.Drives[name]
	if !ok {
		d, ok = h.Drives["/"+name] // absolute drive paths travel without their leading slash
	}
	return d, ok
}

func (h *RPCHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := h.Auth.Verify(r, now()); err != nil {
		Refuse(w, err)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, RPCPrefix)
	i := strings.LastIndex(rest, "/")
	if i < 0 || r.Method != http.MethodPost {
		http.Error(w, "bad rpc path", http.StatusBadRequest)
		return
	}
	name, op := rest[:i], rest[i+1:]
	d, ok := h.lookup(name)
	if !ok {
		writeRPCError(w, fmt.Errorf("%w: no drive %q on this node", ErrOffline, name))
		return
	}
	q := r.URL.Query()
	p := q.Get("path")
	ctx := r.Context()
	fail := func(err error) { writeRPCError(w, err) }
	switch op {
	case "read":
		b, err := d.ReadFile(ctx, p)
		if err != nil {
			fail(err)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	case "write":
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err == nil {
			err = d.WriteFile(ctx, p, b)
		}
		if err != nil {
			fail(err)
		}
	case "create":
		f, err := d.Create(ctx, p)
		if err != nil {
			fail(err)
			return
		}
		_, err = io.Copy(f, r.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			d.Delete(context.WithoutCancel(ctx), p, false)
			fail(err)
		}
	case "open":
		off, _ := strconv.ParseInt(q.Get("offset"), 10, 64)
		n, err := strconv.ParseInt(q.Get("length"), 10, 64)
		if err != nil {
			n = -1
		}
		rc, err := d.Open(ctx, p, off, n)
		if err != nil {
			fail(err)
			return
		}
		defer rc.Close()
		w.WriteHeader(http.StatusOK)
		io.Copy(w, rc) // a failure mid-stream cuts the response: the client sees a short body
	case "rename":
		if err := d.Rename(ctx, p, q.Get("to")); err != nil {
			fail(err)
		}
	case "delete":
		if err := d.Delete(ctx, p, q.Get("recursive") == "1"); err != nil {
			fail(err)
		}
	case "list":
		names, err := d.List(ctx, p)
		if err != nil {
			fail(err)
			return
		}
		json.NewEncoder(w).Encode(names)
	case "sync":
		if err := d.Sync(ctx); err != nil {
			fail(err)
		}
	case "scan":
		limit, _ := strconv.Atoi(q.Get("limit"))
		sq := ScanQuery{From: q.Get("from"), Limit: min(max(limit, 1), 10000)}
		if k := q.Get("digest"); k != "" {
			b, err := hex.DecodeString(k)
			if err != nil || len(b) != len(DigestKey{}) {
				http.Error(w, "bad digest key", http.StatusBadRequest)
				return
			}
			sq.Digest = (*DigestKey)(b)
		}
		page, err := d.Scan(ctx, q.Get("bucket"), sq)
		if err != nil {
			fail(err)
			return
		}
		b := encodePage(page)
		w.Header().Set("Content-Length", strconv.Itoa(len(b))) // one write, and the reader sizes its buffer once
		w.Write(b)
	case "changes":
		// The Changes of this drive and of the others named in also (all on
		// this node): one round trip per node. -1: the drive cannot count.
		names := append([]string{name}, q["also"]...)
		counts := make([]int64, len(names))
		for i, n := range names {
			counts[i] = -1
			if d, ok := h.lookup(n); ok {
				if c, ok := d.Changes(q.Get("bucket")); ok {
					counts[i] = int64(c)
				}
			}
		}
		json.NewEncoder(w).Encode(counts)
	case "info":
		info, err := d.Info(ctx)
		if err != nil {
			fail(err)
			return
		}
		json.NewEncoder(w).Encode(info)
	default:
		http.Error(w, "unknown rpc op "+op, http.StatusBadRequest)
	}
}

func writeRPCError(w http.ResponseWriter, err error) {
	w.Header().Set(hdrError, errorCode(err))
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrForbidden):
		status = http.StatusForbidden
	}
	http.Error(w, err.Error(), status)
}

// Refuse answers an RPC call with 403 and why (err); the calling Remote's
// error wraps ErrForbidden.
func Refuse(w http.ResponseWriter, err error) {
	w.Header().Set(hdrError, "Forbidden")
	http.Error(w, err.Error(), http.StatusForbidden)
}

// Remote is a Drive on another node, reached through its RPC handler.
type Remote struct {
	base    string // http(s)://host:port
	name    string // the drive's name on that node
	auth    RPCAuth
	client  *http.Client
	timeout time.Duration // per call without a body stream
	syncs   *groupCommit  // concurrent Syncs share a round trip
}

var _ Drive = (*Remote)(nil)

// RemoteOptions configure a Remote drive.
type RemoteOptions struct {
	// Client carries the connections (shared by all remote drives of a node).
	Client *http.Client
	// Timeout bounds each metadata call (default 30 s); streams are bounded by
	// their context and by StreamIdle.
	Timeout time.Duration
}

// NewRemote returns the drive name served by the node at base (http://host:port).
func NewRemote(base, name string, auth RPCAuth, opts RemoteOptions) *Remote {
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	r := &Remote{base: strings.TrimSuffix(base, "/"), name: name, auth: auth, client: opts.Client, timeout: opts.Timeout}
	r.syncs = &groupCommit{flush: func() error { return r.simple(context.Background(), "sync", nil, nil, nil) }}
	return r
}

func (r *Remote) String() string { return r.base + r.name }

func (r *Remote) url(op string, q url.Values) string {
	return r.base + RPCPrefix + strings.TrimPrefix(r.name, "/") + "/" + op + "?" + q.Encode()
}

// call runs one request; the caller closes the response body on success.
func (r *Remote) call(ctx context.Context, op string, q url.Values, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url(op, q), body)
	if err != nil {
		return nil, err
	}
	r.auth.Sign(req, time.Now())
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("drive %s: %s: %w: %w", r, op, ErrOffline, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		code := resp.Header.Get(hdrError)
		if code == "" {
			return nil, fmt.Errorf("drive %s: %s: %w: HTTP %d: %s", r, op, ErrFaulty, resp.StatusCode, strings.TrimSpace(string(msg)))
		}
		return nil, fmt.Errorf("drive %s: %s: %w", r, op, codeError(code, strings.TrimSpace(string(msg))))
	}
	return resp, nil
}

// simple runs a call without a streamed response and with the metadata timeout.
func (r *Remote) simple(ctx context.Context, op string, q url.Values, body io.Reader, out any) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, err := r.call(ctx, op, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("drive %s: %s: %w: %w", r, op, ErrFaulty, err)
		}
	}
	return nil
}

func (r *Remote) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, err := r.call(ctx, "read", url.Values{"path": {p}}, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, fmt.Errorf("drive %s: read %s: %w: %w", r, p, ErrOffline, err)
	}
	return b, nil
}

func (r *Remote) WriteFile(ctx context.Context, p string, data []byte) error {
	if err := check(p); err != nil {
		return err
	}
	return r.simple(ctx, "write", url.Values{"path": {p}}, bytes.NewReader(data), nil)
}

func (r *Remote) Create(ctx context.Context, p string) (io.WriteCloser, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	w := &remoteWriter{pw: pw, done: make(chan error, 1)}
	go func() {
		resp, err := r.call(ctx, "create", url.Values{"path": {p}}, pr)
		if err == nil {
			resp.Body.Close()
		}
		pr.CloseWithError(err) // unblock writers if the call ended early
		w.done <- err
	}()
	return w, nil
}

type remoteWriter struct {
	pw   *io.PipeWriter
	done chan error
	err  error
}

func (w *remoteWriter) Write(b []byte) (int, error) {
	n, err := w.pw.Write(b)
	if err != nil {
		w.Close()
		if w.err != nil {
			return n, w.err
		}
	}
	return n, err
}

func (w *remoteWriter) Close() error {
	if w.done == nil {
		return w.err
	}
	w.pw.Close()
	w.err = <-w.done
	w.done = nil
	return w.err
}

func (r *Remote) Open(ctx context.Context, p string, offset, length int64) (io.ReadCloser, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	q := url.Values{"path": {p}, "offset": {strconv.FormatInt(offset, 10)}}
	if length >= 0 {
		q.Set("length", strconv.FormatInt(length, 10))
	}
	resp, err := r.call(ctx, "open", q, nil)
	if err != nil {
		return nil, err
	}
	return &remoteReader{rc: resp.Body, want: length, drive: r}, nil
}

// remoteReader turns a response cut short (the remote failed mid-stream) into an
// error instead of a clean EOF.
type remoteReader struct {
	rc    io.ReadCloser
	want  int64 // -1: unknown
	got   int64
	drive *Remote
}

func (rr *remoteReader) Read(b []byte) (int, error) {
	n, err := rr.rc.Read(b)
	rr.got += int64(n)
	if err == io.EOF && rr.want >= 0 && rr.got < rr.want {
		err = fmt.Errorf("drive %s: stream ended after %d of %d bytes: %w", rr.drive, rr.got, rr.want, io.ErrUnexpectedEOF)
	} else if err != nil && err != io.EOF {
		err = fmt.Errorf("drive %s: %w: %w", rr.drive, ErrOffline, err)
	}
	return n, err
}

func (rr *remoteReader) Close() error { return rr.rc.Close() }

func (r *Remote) Rename(ctx context.Context, src, dst string) error {
	if err := check(src); err != nil {
		return err
	}
	if err := check(dst); err != nil {
		return err
	}
	return r.simple(ctx, "rename", url.Values{"path": {src}, "to": {dst}}, nil, nil)
}

func (r *Remote) Delete(ctx context.Context, p string, recursive bool) error {
	if err := check(p); err != nil {
		return err
	}
	q := url.Values{"path": {p}}
	if recursive {
		q.Set("recursive", "1")
	}
	return r.simple(ctx, "delete", q, nil, nil)
}

func (r *Remote) List(ctx context.Context, p string) ([]string, error) {
	if p != "" && p != "." {
		if err := check(p); err != nil {
			return nil, err
		}
	}
	var names []string
	err := r.simple(ctx, "list", url.Values{"path": {p}}, nil, &names)
	return names, err
}

// Sync implements Drive: callers that arrive while a sync round trip runs
// share the next one, which starts after their writes completed.
func (r *Remote) Sync(ctx context.Context) error { return r.syncs.sync(ctx) }

// Changes implements Drive: a remote drive's count costs a round trip, so it
// does not count here; ChangeCounts asks a node for all its drives at once.
func (r *Remote) Changes(string) (uint64, bool) { return 0, false }

// ChangeCounts returns the Changes of every drive of ds for bucket: local
// drives answer in place, remote drives in one round trip per node (the
// nodes in parallel), each counted by its node when the request arrives. ok
// is false when a drive cannot count or its node does not answer.
func ChangeCounts(ctx context.Context, ds []Drive, bucket string) ([]uint64, bool) {
	counts := make([]uint64, len(ds))
	type node struct {
		first *Remote
		also  []string
		at    []int // indexes into ds, the first's first
	}
	var nodes []*node
	byBase := map[string]*node{}
	for i, d := range ds {
		r := remoteOf(d)
		if r == nil {
			n, ok := d.Changes(bucket)
			if !ok {
				return nil, false
			}
			counts[i] = n
			continue
		}
		nd := byBase[r.base]
		if nd == nil {
			nd = &node{first: r}
			byBase[r.base] = nd
			nodes = append(nodes, nd)
		} else {
			nd.also = append(nd.also, r.name)
		}
		nd.at = append(nd.at, i)
	}
	ok := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for j, nd := range nodes {
		wg.Go(func() {
			var got []int64
			if nd.first.simple(ctx, "changes", url.Values{"bucket": {bucket}, "also": nd.also}, nil, &got) != nil || len(got) != len(nd.at) {
				return
			}
			for k, i := range nd.at {
				if got[k] < 0 {
					return
				}
				counts[i] = uint64(got[k])
			}
			ok[j] = true
		})
	}
	wg.Wait()
	if slices.Contains(ok, false) {
		return nil, false
	}
	return counts, true
}

// remoteOf returns d, unwrapped (Unwrap() Drive), when it is a Remote drive.
func remoteOf(d Drive) *Remote {
	for {
		switch v := d.(type) {
		case *Remote:
			return v
		case interface{ Unwrap() Drive }:
			d = v.Unwrap()
		default:
			return nil
		}
	}
}

// IsRemote reports whether d, unwrapped (Unwrap() Drive), is a Remote drive.
func IsRemote(d Drive) bool { return remoteOf(d) != nil }

func (r *Remote) Scan(ctx context.Context, bucket string, q ScanQuery) (IndexPage, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v := url.Values{"bucket": {bucket}, "from": {q.From}, "limit": {strconv.Itoa(q.Limit)}}
	if q.Digest != nil {
		v.Set("digest", hex.EncodeToString(q.Digest[:]))
	}
	resp, err := r.call(ctx, "scan", v, nil)
	if err != nil {
		return IndexPage{}, err
	}
	defer resp.Body.Close()
	const maxPage = 256 << 20
	var b []byte
	if n := resp.ContentLength; n >= 0 && n <= maxPage {
		b = make([]byte, n)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(io.LimitReader(resp.Body, maxPage))
	}
	if err != nil {
		return IndexPage{}, fmt.Errorf("drive %s: scan: %w: %w", r, ErrOffline, err)
	}
	page, err := decodePage(b)
	if err != nil {
		return IndexPage{}, fmt.Errorf("drive %s: scan: %w: %w", r, ErrFaulty, err)
	}
	return page, nil
}

// encodePage is an IndexPage on the wire: flags (1: End) · uvarint len(Next) ·
// Next · then per entry uvarint len(key) · key · uvarint len(value) · value.
func encodePage(p IndexPage) []byte {
	n := 16 + len(p.Next)
	for _, e := range p.Entries {
		n += 2*binary.MaxVarintLen64 + len(e.Key) + len(e.Value)
	}
	b := make([]byte, 0, n)
	if p.End {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Next)))
	b = append(b, p.Next...)
	for _, e := range p.Entries {
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.AppendUvarint(b, uint64(len(e.Value)))
		b = append(b, e.Value...)
	}
	return b
}

func decodePage(b []byte) (IndexPage, error) {
	var p IndexPage
	if len(b) == 0 || b[0] > 1 {
		return p, errors.New("bad index page")
	}
	p.End = b[0] == 1
	// Keys are cut from one string of the whole page: one allocation, not one
	// per key (values stay slices of b).
	str := string(b)
	off := 1
	field := func() (int, int, bool) {
		n, k := binary.Uvarint(b[off:])
		if k <= 0 || n > uint64(len(b)-off-k) {
			return 0, 0, false
		}
		start := off + k
		off = start + int(n)
		return start, off, true
	}
	i, j, ok := field()
	if !ok {
		return p, errors.New("bad index page")
	}
	p.Next = str[i:j]
	// Count the entries first, so that the slice is allocated once at its size.
	n, body := 0, off
	for off < len(b) {
		_, _, ok1 := field()
		_, _, ok2 := field()
		if !ok1 || !ok2 {
			return p, errors.New("bad index page entry")
		}
		n++
	}
	off = body
	p.Entries = make([]IndexEntry, 0, n)
	for off < len(b) {
		ki, kj, ok1 := field()
		vi, vj, ok2 := field()
		if !ok1 || !ok2 {
			return p, errors.New("bad index page entry")
		}
		p.Entries = append(p.Entries, IndexEntry{Key: str[ki:kj], Value: b[vi:vj:vj]})
	}
	return p, nil
}

func (r *Remote) Info(ctx context.Context) (Info, error) {
	var info Info
	err := r.simple(ctx, "info", nil, nil, &info)
	return info, err
}
