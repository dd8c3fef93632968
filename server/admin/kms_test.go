package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientDeleteKMSKey(t *testing.T) {
	var method, path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, path = r.Method, r.URL.EscapedPath()
		switch r.URL.Path {
		case PathPrefix + "/kms/keys/cairn-default":
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"code":"DeleteConflict","message":"kms: key in use: \"cairn-default\" is the default key"}`))
		case PathPrefix + "/kms/keys/gone":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"NotFound","message":"kms: key not found"}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, Options{AccessKey: "AK", SecretKey: "SK"})
	ctx := context.Background()
	if err := c.DeleteKMSKey(ctx, "team/a:b"); err != nil {
		t.Fatalf("DeleteKMSKey: %v", err)
	}
	if method != http.MethodDelete || path != PathPrefix+"/kms/keys/team%2Fa:b" {
		t.Errorf("request %s %s, want DELETE with the name escaped as one segment", method, path)
	}
	if err := c.DeleteKMSKey(ctx, "cairn-default"); !IsConflict(err) {
		t.Errorf("DeleteKMSKey of a key in use = %v, want a conflict", err)
	}
	if err := c.DeleteKMSKey(ctx, "gone"); !IsNotFound(err) {
		t.Errorf("DeleteKMSKey of a missing key = %v, want not found", err)
	}
}
