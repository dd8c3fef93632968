package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeVault is a small Vault transit engine written from Vault's public API
// documentation (secrets/transit: keys, rotate, encrypt, decrypt, rewrap with
// associated_data; X-Vault-Token auth; {"data": …} and {"errors": […]}
// bodies). No Vault or OpenBao server can run here, so the backend's client is
// tested against this.
type fakeVault struct {
	token string
	mu    sync.Mutex
	keys  map[string][][]byte // name → versions (1-based: index+1)
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, msg string) { reply(status, map[string]any{"errors": []string{msg}}) }
	if r.Header.Get("X-Vault-Token") != f.token {
		fail(403, "permission denied")
		return
	}
	var body map[string]string
	if r.Body != nil {
		json.NewDecoder(r.Body).Decode(&body)
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/transit/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodPut { // Vault takes PUT and POST alike (the Go client writes with PUT)
		r.Method = http.MethodPost
	}
	list := r.Method == "LIST" || (r.Method == http.MethodGet && r.URL.Query().Get("list") == "true")
	op, name, _ := strings.Cut(path, "/")
	switch {
	case path == "keys" && list:
		var names []string
		for n := range f.keys {
			names = append(names, n)
		}
		sort.Strings(names)
		reply(200, map[string]any{"data": map[string]any{"keys": names}})
	case op == "keys" && strings.HasSuffix(name, "/rotate") && r.Method == http.MethodPost:
		n := strings.TrimSuffix(name, "/rotate")
		if f.keys[n] == nil {
			fail(404, "no existing key named "+n)
			return
		}
		f.keys[n] = append(f.keys[n], random32())
		w.WriteHeader(204)
	case op == "keys" && r.Method == http.MethodPost:
		if f.keys[name] == nil {
			f.keys[name] = [][]byte{random32()}
		}
		w.WriteHeader(204)
	case op == "keys" && r.Method == http.MethodGet:
		if f.keys[name] == nil {
			fail(404, "")
			return
		}
		reply(200, map[string]any{"data": map[string]any{"name": name, "type": "aes256-gcm96", "latest_version": len(f.keys[name])}})
	case op == "encrypt" || op == "decrypt" || op == "rewrap":
		vs := f.keys[name]
		if vs == nil {
			fail(400, "encryption key not found")
			return
		}
		ad, _ := base64.StdEncoding.DecodeString(body["associated_data"])
		var pt []byte
		if op == "encrypt" {
			pt, _ = base64.StdEncoding.DecodeString(body["plaintext"])
		} else {
			var err error
			if pt, err = f.open(vs, body["ciphertext"], ad); err != nil {
				fail(400, err.Error())
				return
			}
		}
		if op == "decrypt" {
			reply(200, map[string]any{"data": map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}})
			return
		}
		reply(200, map[string]any{"data": map[string]any{"ciphertext": f.seal(vs, pt, ad)}})
	default:
		fail(404, "unsupported path "+r.Method+" "+path)
	}
}

func random32() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func gcmFor(k []byte) cipher.AEAD {
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return a
}

func (f *fakeVault) seal(vs [][]byte, pt, ad []byte) string {
	a := gcmFor(vs[len(vs)-1])
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return fmt.Sprintf("vault:v%d:%s", len(vs), base64.StdEncoding.EncodeToString(a.Seal(nonce, nonce, pt, ad)))
}

func (f *fakeVault) open(vs [][]byte, ct string, ad []byte) ([]byte, error) {
	parts := strings.SplitN(ct, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" {
		return nil, fmt.Errorf("invalid ciphertext")
	}
	v, err := strconv.Atoi(strings.TrimPrefix(parts[1], "v"))
	raw, err2 := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || err2 != nil || v < 1 || v > len(vs) {
		return nil, fmt.Errorf("invalid ciphertext")
	}
	a := gcmFor(vs[v-1])
	if len(raw) < a.NonceSize() {
		return nil, fmt.Errorf("invalid ciphertext")
	}
	pt, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("cipher: message authentication failed")
	}
	return pt, nil
}

func TestVaultAgainstAFake(t *testing.T) {
	fv := &fakeVault{token: "s.test-token", keys: map[string][][]byte{"cairn-default": {random32()}, "team-a": {random32()}}}
	srv := httptest.NewTLSServer(fv)
	defer srv.Close()
	v, err := NewVault(VaultConfig{Address: srv.URL, Token: fv.token, DefaultKey: "cairn-default", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	testBackend(t, v, "team-a")
	testManager(t, v, "team-b")
	if info, err := v.KeyStatus(t.Context(), "team-b"); err != nil || info.Version != 2 {
		t.Fatalf("KeyStatus after rotation: %+v %v", info, err)
	}
	// A wrong token is not "unavailable" and says nothing of the token.
	bad, _ := NewVault(VaultConfig{Address: srv.URL, Token: "wrong", DefaultKey: "cairn-default", HTTPClient: srv.Client()})
	if _, err := bad.GenerateKey(t.Context(), "", nil); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong token: %v", err)
	}
	// An unreachable Vault is ErrUnavailable.
	srv.Close()
	if _, err := v.GenerateKey(t.Context(), "", nil); !errorsIs(err, ErrUnavailable) {
		t.Fatalf("Vault down: %v", err)
	}
}
