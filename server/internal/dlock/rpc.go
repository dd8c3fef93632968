package dlock

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/internal/rpcauth"
)

// RPCPrefix is the URL path prefix of the lock RPC.
const RPCPrefix = "/cairn/rpc/v1/lock/"

// Handler serves a node's Table to the other nodes.
type Handler struct {
	Table *Table
	Auth  rpcauth.Auth
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.Auth.Verify(r, time.Now()); err != nil {
		http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	name, owner := q.Get("name"), q.Get("owner")
	switch strings.TrimPrefix(r.URL.Path, RPCPrefix) {
	case "grant":
		ttl, err := time.ParseDuration(q.Get("ttl"))
		if err != nil || ttl <= 0 || ttl > 10*time.Minute {
			http.Error(w, "bad ttl", http.StatusBadRequest)
			return
		}
		ok, _ := h.Table.Grant(r.Context(), name, owner, ttl)
		io.WriteString(w, strconv.FormatBool(ok))
	case "release":
		h.Table.Release(r.Context(), name, owner)
	default:
		http.Error(w, "unknown lock op", http.StatusBadRequest)
	}
}

// Remote is another node's Table, over the lock RPC.
type Remote struct {
	Base   string // http(s)://host:port
	Auth   rpcauth.Auth
	Client *http.Client
}

var _ Locker = (*Remote)(nil)

func (r *Remote) call(ctx context.Context, op string, q url.Values) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Base+RPCPrefix+op+"?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	r.Auth.Sign(req, time.Now())
	c := r.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("dlock: %s %s: HTTP %d: %s", r.Base, op, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// Grant implements Locker.
func (r *Remote) Grant(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	out, err := r.call(ctx, "grant", url.Values{"name": {name}, "owner": {owner}, "ttl": {ttl.String()}})
	return out == "true", err
}

// Release implements Locker.
func (r *Remote) Release(ctx context.Context, name, owner string) error {
	_, err := r.call(ctx, "release", url.Values{"name": {name}, "owner": {owner}})
	return err
}
