package kms

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeKeyVault is a small Azure Key Vault keys API written from its public
// REST reference (keys: create, get, list, rotate, wrapkey, unwrapkey with
// RSA-OAEP-256; base64url values; a 401 Bearer challenge naming the tenant and
// resource before any token is sent). No Key Vault emulator runs here, so the
// backend's client (azkeys + the Key Vault challenge policy) is tested
// against this, over TLS.
type fakeKeyVault struct {
	url   string
	token string
	mu    sync.Mutex
	keys  map[string][]*rsa.PrivateKey // name → versions
	auths int                          // requests that carried the token
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func (f *fakeKeyVault) kid(name string, v int) string {
	return fmt.Sprintf("%s/keys/%s/v%d", f.url, name, v)
}

func (f *fakeKeyVault) bundle(name string, v int) map[string]any {
	k := f.keys[name][v-1]
	return map[string]any{
		"key": map[string]any{"kid": f.kid(name, v), "kty": "RSA", "key_ops": []string{"wrapKey", "unwrapKey"},
			"n": b64url(k.N.Bytes()), "e": b64url([]byte{1, 0, 1})},
		"attributes": map[string]any{"enabled": true, "created": 1700000000, "updated": 1700000000},
	}
}

func (f *fakeKeyVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, code string) {
		reply(status, map[string]any{"error": map[string]string{"code": code, "message": code}})
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"`)
		fail(401, "Unauthorized")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		fail(400, "MissingApiVersionParameter")
		return
	}
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auths++
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // keys, name, [version|create|rotate], [op]
	if len(segs) == 0 || segs[0] != "keys" {
		fail(404, "NotFound")
		return
	}
	if len(segs) == 1 && r.Method == http.MethodGet {
		var names []string
		for n := range f.keys {
			names = append(names, n)
		}
		sort.Strings(names)
		var items []any
		for _, n := range names {
			items = append(items, map[string]any{"kid": f.url + "/keys/" + n, "attributes": map[string]any{"enabled": true}})
		}
		reply(200, map[string]any{"value": items})
		return
	}
	name := segs[1]
	if n := len(segs); n == 3 && (segs[2] == "wrapkey" || segs[2] == "unwrapkey") {
		segs = []string{segs[0], segs[1], "", segs[2]} // no version: the current one
	}
	versions := f.keys[name]
	version := func(s string) int {
		if s == "" {
			return len(versions)
		}
		var v int
		fmt.Sscanf(s, "v%d", &v)
		return v
	}
	switch {
	case len(segs) == 3 && segs[2] == "create" && r.Method == http.MethodPost:
		if body["kty"] != "RSA" {
			fail(400, "BadParameter")
			return
		}
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		f.keys[name] = append(f.keys[name], k)
		reply(200, f.bundle(name, len(f.keys[name])))
	case versions == nil:
		fail(404, "KeyNotFound")
	case len(segs) == 3 && segs[2] == "rotate" && r.Method == http.MethodPost:
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		f.keys[name] = append(versions, k)
		reply(200, f.bundle(name, len(f.keys[name])))
	case len(segs) <= 3 && r.Method == http.MethodGet:
		v := len(versions)
		if len(segs) == 3 {
			v = version(segs[2])
		}
		reply(200, f.bundle(name, v))
	case len(segs) == 4 && (segs[3] == "wrapkey" || segs[3] == "unwrapkey") && r.Method == http.MethodPost:
		v := version(segs[2])
		if v < 1 || v > len(versions) {
			fail(404, "KeyNotFound")
			return
		}
		if body["alg"] != "RSA-OAEP-256" {
			fail(400, "BadParameter")
			return
		}
		k := versions[v-1]
		in := unb64(fmt.Sprint(body["value"]))
		var out []byte
		var err error
		if segs[3] == "wrapkey" {
			out, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.PublicKey, in, nil)
		} else {
			out, err = rsa.DecryptOAEP(sha256.New(), rand.Reader, k, in, nil)
		}
		if err != nil {
			fail(400, "BadParameter")
			return
		}
		reply(200, map[string]any{"kid": f.kid(name, v), "value": b64url(out)})
	default:
		fail(405, "MethodNotAllowed")
	}
}

// staticToken is an azcore.TokenCredential with a fixed token.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestAzureAgainstAFake(t *testing.T) {
	fake := &fakeKeyVault{token: "fake-bearer-token", keys: map[string][]*rsa.PrivateKey{}}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	fake.url = srv.URL
	for _, n := range []string{"cairn-default", "team-a"} {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		fake.keys[n] = []*rsa.PrivateKey{k}
	}
	a, err := NewAzure(AzureConfig{VaultURL: srv.URL, DefaultKey: "cairn-default", Credential: staticToken(fake.token),
		Transport: srv.Client(), InsecureChallenge: true})
	if err != nil {
		t.Fatal(err)
	}
	testBackend(t, a, "team-a")
	testManager(t, a, "team-b")
	if fake.auths == 0 {
		t.Fatal("no request carried the bearer token")
	}
	// Data keys from before a rotation unwrap with their version.
	if list, err := a.ListKeys(t.Context()); err != nil || len(list) != 3 {
		t.Fatalf("ListKeys: %+v %v", list, err)
	}
	srv.Close()
	if _, err := a.GenerateKey(t.Context(), "", nil); !errorsIs(err, ErrUnavailable) {
		t.Fatalf("Key Vault down: %v", err)
	}
}
