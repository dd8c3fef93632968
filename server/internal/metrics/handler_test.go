package metrics

import (
	"bytes"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	a := Token("admin", "a-long-secret")
	if a != Token("admin", "a-long-secret") {
		t.Fatal("token not deterministic")
	}
	if len(a) != 64 || strings.Contains(a, "a-long-secret") {
		t.Fatalf("token %q: want 64 hex characters, secret not visible", a)
	}
	for _, other := range []string{Token("admin", "another-secret"), Token("admin2", "a-long-secret")} {
		if other == a {
			t.Fatal("different credentials gave the same token")
		}
	}
}

func TestHandlerAuth(t *testing.T) {
	const token = "s3cr3t-token"
	var logs bytes.Buffer
	m := New(Options{Token: token, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h := m.Handler()
	for _, tc := range []struct {
		name string
		auth string
		want int
	}{
		{"none", "", http.StatusUnauthorized},
		{"wrong", "Bearer nope", http.StatusUnauthorized},
		{"prefix", "Bearer " + token[:5], http.StatusUnauthorized},
		{"longer", "Bearer " + token + "x", http.StatusUnauthorized},
		{"basic", "Basic " + token, http.StatusUnauthorized},
		{"bearer", "Bearer " + token, http.StatusOK},
		{"case-insensitive scheme", "bearer " + token, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := scrape(t, h, tc.auth)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %s", code, tc.want, body)
			}
			if code == http.StatusOK && !strings.Contains(body, "cairn_build_info") {
				t.Fatalf("no cairn_build_info in\n%s", body)
			}
			if code != http.StatusOK && strings.Contains(body, "cairn_") {
				t.Fatal("metrics served without authorization")
			}
		})
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("token logged")
	}

	t.Run("empty token admits no one", func(t *testing.T) {
		h := New(Options{}).Handler()
		for _, auth := range []string{"", "Bearer ", "Bearer"} {
			if code, _ := scrape(t, h, auth); code != http.StatusUnauthorized {
				t.Fatalf("%q: status %d", auth, code)
			}
		}
	})
	t.Run("public", func(t *testing.T) {
		h := New(Options{Public: true}).Handler()
		if code, _ := scrape(t, h, ""); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	})
}

func TestMount(t *testing.T) {
	m := New(Options{Public: true})
	s3 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := m.Mount(s3)
	for _, tc := range []struct {
		name, method, target, auth string
		metrics                    bool
	}{
		{"get", http.MethodGet, "/metrics", "", true},
		{"head", http.MethodHead, "/metrics", "", true},
		{"bearer", http.MethodGet, "/metrics", "Bearer x", true},
		{"sigv4 ListObjects of bucket metrics", http.MethodGet, "/metrics", "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", false},
		{"query", http.MethodGet, "/metrics?list-type=2", "", false},
		{"put bucket", http.MethodPut, "/metrics", "", false},
		{"object", http.MethodGet, "/metrics/key", "", false},
		{"other bucket", http.MethodGet, "/metricsx", "", false},
		{"root", http.MethodGet, "/", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Code != http.StatusTeapot; got != tc.metrics {
				t.Fatalf("served by metrics: %v, want %v (status %d)", got, tc.metrics, w.Code)
			}
		})
	}
}

func TestCertificateExpiry(t *testing.T) {
	var cert *x509.Certificate
	m := New(Options{Certificate: func() *x509.Certificate { return cert }})
	if _, ok := gather(t, m.Registry())["cairn_tls_certificate_expiration_timestamp_seconds"]; ok {
		t.Fatal("expiry exported without a certificate")
	}
	cert = &x509.Certificate{NotAfter: time.Unix(1_900_000_000, 0)}
	if got := value(t, gather(t, m.Registry()), "cairn_tls_certificate_expiration_timestamp_seconds"); got != 1_900_000_000 {
		t.Fatalf("expiry %v", got)
	}
	cert = &x509.Certificate{NotAfter: time.Unix(2_000_000_000, 0)} // reloaded
	if got := value(t, gather(t, m.Registry()), "cairn_tls_certificate_expiration_timestamp_seconds"); got != 2_000_000_000 {
		t.Fatalf("expiry after reload %v", got)
	}
}
