package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The client against stand-in servers; the real admin API is exercised with this
// client in server/internal/admin and tests/iam.

func TestClientSignsAndDecodes(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"name":"a+b@c","status":"enabled","policies":[],"groups":[]}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/", Options{AccessKey: "AK", SecretKey: "SK"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(context.Background(), CreateUserRequest{Name: "a+b@c"})
	if err != nil || u.Name != "a+b@c" || u.Status != StatusEnabled {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	if got.Method != http.MethodPost || got.URL.Path != PathPrefix+"/users" {
		t.Errorf("request %s %s", got.Method, got.URL.Path)
	}
	auth := got.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AK/") || !strings.Contains(auth, "/us-east-1/s3/aws4_request") {
		t.Errorf("Authorization = %q", auth)
	}
	if len(got.Header.Get("X-Amz-Content-Sha256")) != 64 {
		t.Errorf("no payload hash: %q", got.Header.Get("X-Amz-Content-Sha256"))
	}
}

func TestClientErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/users/json"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"NoSuchUser","message":"iam: no such user: \"json\"","requestId":"R1"}`))
		default: // a proxy's HTML page
			w.Header().Set("X-Amz-Request-Id", "R2")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, Options{AccessKey: "AK", SecretKey: "SK"})
	_, err := c.GetUser(context.Background(), "json")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != CodeNoSuchUser || e.RequestID != "R1" || !IsNotFound(err) || IsConflict(err) {
		t.Errorf("JSON error: %#v", err)
	}
	u, err := c.GetUser(context.Background(), "html")
	if u != nil || !errors.As(err, &e) || e.StatusCode != 502 || e.Code != "Bad Gateway" || !strings.Contains(e.Message, "bad gateway") || e.RequestID != "R2" {
		t.Errorf("HTML error: %+v, %#v", u, err)
	}
	for _, bad := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := New(bad, Options{AccessKey: "AK", SecretKey: "SK"}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if _, err := New("http://x", Options{AccessKey: "AK"}); err == nil {
		t.Error("New without a secret key accepted")
	}
}
