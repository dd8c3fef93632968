package metrics

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where Mount serves the metrics.
const Path = "/metrics"

// tokenContext separates metrics tokens from every other use of the root secret.
const tokenContext = "cairn metrics token v1\x00"

// Token derives the default bearer token for /metrics from root credentials:
// hex(HMAC-SHA256(secret, context || user)). It is stable across restarts and
// nodes sharing the credentials, changes when the secret does, and does not reveal
// the secret. `cairn admin metrics-token` prints it.
func Token(user, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(tokenContext + user))
	return hex.EncodeToString(mac.Sum(nil))
}

// Handler serves the registry in the Prometheus text (or OpenMetrics) format,
// behind the bearer-token check unless Options.Public.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slogErrorLog{m},
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
	if m.opts.Public {
		return h
	}
	return requireToken(m.opts.Token, m.opts.KeyToken, h)
}

// Mount returns a handler that answers GET and HEAD of exactly /metrics (no query
// string) with Handler and passes every other request to s3.
//
// "metrics" is a valid bucket name: a request signed for S3 (any Authorization
// header other than Bearer, or a presigned URL, which has a query string) always
// goes to s3, so only an anonymous path-style ListObjects (v1) of a bucket named
// metrics is shadowed.
func (m *Metrics) Mount(s3 http.Handler) http.Handler {
	mh := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Path && r.URL.RawQuery == "" &&
			(r.Method == http.MethodGet || r.Method == http.MethodHead) && !signedForS3(r) {
			mh.ServeHTTP(w, r)
			return
		}
		s3.ServeHTTP(w, r)
	})
}

func signedForS3(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	return a != "" && !hasBearer(a)
}

func hasBearer(auth string) bool {
	scheme, _, ok := strings.Cut(auth, " ")
	return ok && strings.EqualFold(scheme, "Bearer")
}

// KeyToken is the metrics token of an access key: "<access key>:" followed by an
// HMAC of the key id under its secret (`cairn admin metrics-token --access-key`,
// or the admin API's GET /metrics-token for the caller's key). Revoking or
// disabling the key revokes the token.
func KeyToken(accessKey, secret string) string {
	return accessKey + ":" + Token(accessKey, secret)
}

// requireToken admits requests carrying "Authorization: Bearer <token>": the root
// token, or an access-key token that keyToken vouches for. Both sides are hashed
// before the constant-time comparison, so neither the token's content nor its
// length leaks through timing. An empty token admits no one.
func requireToken(token string, keyToken func(string) (string, bool), next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		ok := false
		if hasBearer(auth) {
			_, cred, _ := strings.Cut(auth, " ")
			cred = strings.TrimSpace(cred)
			got := sha256.Sum256([]byte(cred))
			ok = subtle.ConstantTimeCompare(got[:], want[:]) == 1 && token != ""
			if ak, _, isKey := strings.Cut(cred, ":"); !ok && isKey && keyToken != nil {
				if secret, allowed := keyToken(ak); allowed {
					w := sha256.Sum256([]byte(KeyToken(ak, secret)))
					ok = subtle.ConstantTimeCompare(got[:], w[:]) == 1
				}
			}
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn metrics"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			if r.Method != http.MethodHead {
				_, _ = w.Write([]byte("401 Unauthorized: /metrics needs Authorization: Bearer <token> (see `cairn admin metrics-token`), or start the server with --metrics-public\n"))
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// slogErrorLog adapts the logger to promhttp's Println-style error log.
type slogErrorLog struct{ m *Metrics }

func (l slogErrorLog) Println(v ...any) {
	l.m.log.Warn("metrics: scrape", "err", fmt.Sprint(v...))
}
