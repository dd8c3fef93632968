package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// A Prometheus scrape token minted from an access key (admin API or CLI) works
// while the key may see server information, and stops when the key is disabled.
func TestMetricsTokenFromAccessKey(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	ctx := context.Background()
	root, _ := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if _, err := root.CreatePolicy(ctx, "scrape", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["admin:ServerInfo"],"Resource":["*"]}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateUser(ctx, admin.CreateUserRequest{Name: "prometheus", Policies: []string{"scrape"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateUser(ctx, admin.CreateUserRequest{Name: "reader", Policies: []string{"readonly"}}); err != nil {
		t.Fatal(err)
	}
	prom, err := root.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{User: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := root.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{User: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	scrape := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	pc, _ := admin.New(srv.URL, admin.Options{AccessKey: prom.AccessKey.AccessKey, SecretKey: prom.SecretKey})
	minted, err := pc.MetricsToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cli := server.MetricsKeyToken(prom.AccessKey.AccessKey, prom.SecretKey); cli != minted {
		t.Fatal("the CLI and the admin API mint different tokens")
	}
	if code := scrape(minted); code != 200 {
		t.Fatalf("scrape with the minted token: %d", code)
	}
	if code := scrape(server.MetricsKeyToken(reader.AccessKey.AccessKey, reader.SecretKey)); code != 401 {
		t.Fatalf("scrape with a key not allowed admin:ServerInfo: %d", code)
	}
	if code := scrape(server.MetricsKeyToken(prom.AccessKey.AccessKey, "wrong-secret")); code != 401 {
		t.Fatalf("scrape with a forged token: %d", code)
	}
	disabled := admin.StatusDisabled
	if _, err := root.UpdateAccessKey(ctx, prom.AccessKey.AccessKey, admin.UpdateAccessKeyRequest{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if code := scrape(minted); code != 401 {
		t.Fatalf("scrape after the key was disabled: %d", code)
	}
	rootTok, err := root.MetricsToken(ctx)
	if err != nil || rootTok != server.MetricsToken(srv.AccessKey, srv.SecretKey) || scrape(rootTok) != 200 {
		t.Fatalf("root token: %v", err)
	}
}
