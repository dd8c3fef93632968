// Package rpcauth authenticates node-to-node requests (storage RPC, cluster locks):
// an HMAC-SHA256 over the method, path, query and time, keyed with a secret derived
// from the cluster secret, never the root password itself. Requests older or newer
// than MaxSkew are refused, so a captured request cannot be replayed later.
package rpcauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

const (
	hdrTime = "X-Cairn-Time"
	hdrSig  = "X-Cairn-Signature"
	// MaxSkew is the clock difference tolerated between nodes.
	MaxSkew = 5 * time.Minute
)

// Auth signs and verifies node-to-node requests.
type Auth struct{ key []byte }

// New derives the signing key from the cluster secret.
func New(clusterSecret string) Auth {
	m := hmac.New(sha256.New, []byte("cairn node rpc v1"))
	m.Write([]byte(clusterSecret))
	return Auth{key: m.Sum(nil)}
}

func (a Auth) mac(method, path, query, ts string) string {
	m := hmac.New(sha256.New, a.key)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s", method, path, query, ts)
	return hex.EncodeToString(m.Sum(nil))
}

// Sign adds the time and signature headers to r.
func (a Auth) Sign(r *http.Request, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set(hdrTime, ts)
	r.Header.Set(hdrSig, a.mac(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, ts))
}

// Verify checks r's signature and time (constant-time comparison).
func (a Auth) Verify(r *http.Request, now time.Time) error {
	ts := r.Header.Get(hdrTime)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return errors.New("request time too skewed")
	}
	want := a.mac(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, ts)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(hdrSig))) {
		return errors.New("bad signature")
	}
	return nil
}
