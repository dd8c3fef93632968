package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/iam"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// Handler tests: the admin API over HTTP against a real IAM store on a real object
// layer (four temp-dir drives). The public client drives the happy paths; raw
// signed requests drive the malformed ones.

const (
	rootAK = "admin-test-root"
	rootSK = "admin-test-root-secret"
	region = "us-east-1"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *iam.Store
	root  *adminapi.Client
	logs  *lockedBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	g := drive.NewSyncGroup()
	var ds []drive.Drive
	for i := range 4 {
		root := filepath.Join(t.TempDir(), fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := drive.OpenLocal(root, g)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		ds = append(ds, d)
	}
	layer, err := objects.New(objects.Config{Sets: [][]drive.Drive{ds}, Parity: 2, DeploymentID: "admin-test"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := iam.Open(context.Background(), iam.Config{Backend: layer, RootAccessKey: rootAK, RootSecretKey: rootSK, KDFIterations: 1000, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	verifier := &sigv4.Verifier{Creds: store, Region: region}
	h := NewHandler(Config{
		Store: store, Authorizer: iam.NewAuthorizer(store, layer, nil), Auth: verifier, Logger: log,
		Info: func(context.Context) adminapi.ServerInfo {
			return adminapi.ServerInfo{Version: "test", Region: region, Layout: adminapi.Layout{Sets: 1, DrivesPerSet: 4, DataShards: 2, ParityShards: 2}}
		},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, store: store, logs: logs}
	e.root = e.client(rootAK, rootSK)
	return e
}

func (e *env) client(ak, sk string) *adminapi.Client {
	e.t.Helper()
	c, err := adminapi.New(e.srv.URL, adminapi.Options{AccessKey: ak, SecretKey: sk, Region: region})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// raw sends a request signed by ak/sk (unsigned when ak is "") and returns the
// status and decoded error (if any) and the body.
func (e *env) raw(method, path, body, ak, sk string) (int, adminapi.Error, []byte) {
	e.t.Helper()
	r, err := http.NewRequest(method, e.srv.URL+adminapi.PathPrefix+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ak != "" {
		sum := sha256.Sum256([]byte(body))
		if err := sigv4.SignRequest(r, ak, sk, region, time.Now(), hex.EncodeToString(sum[:])); err != nil {
			e.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ae adminapi.Error
	if resp.StatusCode >= 300 {
		if err := json.Unmarshal(b, &ae); err != nil {
			e.t.Fatalf("%s %s: %d with a body that is not an Error document: %q", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, ae, b
}

func apiErr(t *testing.T, err error) *adminapi.Error {
	t.Helper()
	var ae *adminapi.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *admin.Error", err, err)
	}
	return ae
}

const docPhotos = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::photos/*"]}]}`

func TestAdminCRUD(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.root

	info, err := c.Info(ctx)
	if err != nil || info.Version != "test" || info.Layout.DrivesPerSet != 4 {
		t.Fatalf("Info = %+v, %v", info, err)
	}

	u, err := c.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice", Policies: []string{"readonly"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice" || u.Status != adminapi.StatusEnabled || len(u.Policies) != 1 || u.Groups == nil {
		t.Errorf("created user %+v", u)
	}
	if _, err := c.CreateUser(ctx, adminapi.CreateUserRequest{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePolicy(ctx, "photos-read", []byte(docPhotos))
	if err != nil {
		t.Fatal(err)
	}
	if p.Builtin || p.Created == nil || !json.Valid(p.Document) {
		t.Errorf("created policy %+v", p)
	}
	g, err := c.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "staff", Members: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if g, err = c.AddGroupMember(ctx, "staff", "bob"); err != nil || len(g.Members) != 2 {
		t.Fatalf("AddGroupMember: %+v, %v", g, err)
	}
	if g, err = c.AttachGroupPolicy(ctx, "staff", "photos-read"); err != nil || len(g.Policies) != 1 {
		t.Fatalf("AttachGroupPolicy: %+v, %v", g, err)
	}
	if u, err = c.AttachUserPolicy(ctx, "bob", "writeonly"); err != nil || u.Policies[0] != "writeonly" {
		t.Fatalf("AttachUserPolicy: %+v, %v", u, err)
	}
	if u, err = c.GetUser(ctx, "alice"); err != nil || len(u.Groups) != 1 || u.Groups[0] != "staff" {
		t.Fatalf("GetUser: %+v, %v", u, err)
	}
	if u, err = c.SetUserStatus(ctx, "bob", adminapi.StatusDisabled); err != nil || u.Status != adminapi.StatusDisabled {
		t.Fatalf("SetUserStatus: %+v, %v", u, err)
	}
	users, err := c.ListUsers(ctx)
	if err != nil || len(users) != 2 {
		t.Fatalf("ListUsers: %d, %v", len(users), err)
	}
	pols, err := c.ListPolicies(ctx)
	if err != nil || len(pols) != 5 { // four built-in + one
		t.Fatalf("ListPolicies: %d, %v", len(pols), err)
	}
	if p, err = c.GetPolicy(ctx, "photos-read"); err != nil || len(p.Groups) != 1 {
		t.Fatalf("GetPolicy: %+v, %v", p, err)
	}
	if p, err = c.UpdatePolicy(ctx, "photos-read", []byte(strings.Replace(docPhotos, "photos", "pictures", 1))); err != nil || !strings.Contains(string(p.Document), "pictures") {
		t.Fatalf("UpdatePolicy: %+v, %v", p, err)
	}

	// Access keys: the secret comes back once, works for signing, and never again.
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	k, err := c.CreateAccessKey(ctx, adminapi.CreateAccessKeyRequest{User: "alice", Name: "ci", Policy: json.RawMessage(docPhotos), Expiration: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if k.SecretKey == "" || k.AccessKey.AccessKey == "" || k.User != "alice" || !k.Usable || k.Expiration == nil || !k.Expiration.Equal(exp) {
		t.Fatalf("CreateAccessKey: %+v", k)
	}
	if s := fmt.Sprintf("%v %+v %#v", k, k, k); strings.Contains(s, k.SecretKey) {
		t.Errorf("formatting the credentials prints the secret: %s", s)
	}
	if got, ok := e.store.SecretKey(k.AccessKey.AccessKey); !ok || got != k.SecretKey {
		t.Error("the returned secret is not the stored one")
	}
	for _, path := range []string{"/access-keys", "/access-keys?user=alice", "/access-keys/" + k.AccessKey.AccessKey, "/users/alice", "/users"} {
		_, _, body := e.raw(http.MethodGet, path, "", rootAK, rootSK)
		if bytes.Contains(body, []byte(k.SecretKey)) || bytes.Contains(body, []byte("secretKey")) || bytes.Contains(body, []byte("sealed")) {
			t.Errorf("GET %s echoes a secret: %s", path, body)
		}
	}
	if strings.Contains(e.logs.String(), k.SecretKey) {
		t.Error("the server log holds a secret key")
	}
	keys, err := c.ListAccessKeys(ctx, "alice")
	if err != nil || len(keys) != 1 || keys[0].Name != "ci" || !json.Valid(keys[0].Policy) {
		t.Fatalf("ListAccessKeys: %+v, %v", keys, err)
	}
	off := adminapi.StatusDisabled
	upd, err := c.UpdateAccessKey(ctx, k.AccessKey.AccessKey, adminapi.UpdateAccessKeyRequest{Status: &off, Policy: adminapi.RemovePolicy(), NoExpiration: true})
	if err != nil || upd.Status != adminapi.StatusDisabled || upd.Policy != nil || upd.Expiration != nil {
		t.Fatalf("UpdateAccessKey: %+v, %v", upd, err)
	}
	if _, ok := e.store.SecretKey(k.AccessKey.AccessKey); ok {
		t.Error("a disabled key still authenticates")
	}
	if err := c.DeleteAccessKey(ctx, k.AccessKey.AccessKey); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAccessKey(ctx, k.AccessKey.AccessKey); !adminapi.IsNotFound(err) {
		t.Errorf("GetAccessKey after delete: %v", err)
	}

	// Teardown in dependency order.
	if _, err := c.DetachGroupPolicy(ctx, "staff", "photos-read"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePolicy(ctx, "photos-read"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveGroupMember(ctx, "staff", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteGroup(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if groups, err := c.ListGroups(ctx); err != nil || len(groups) != 0 {
		t.Fatalf("ListGroups: %+v, %v", groups, err)
	}
	if _, err := c.DetachUserPolicy(ctx, "alice", "readonly"); err != nil {
		t.Fatal(err)
	}
}

func TestAdminErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "staff", Members: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.CreatePolicy(ctx, "p", []byte(docPhotos)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.AttachUserPolicy(ctx, "alice", "p"); err != nil {
		t.Fatal(err)
	}
	alice, err := e.root.CreateAccessKey(ctx, adminapi.CreateAccessKeyRequest{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, body string
		ak, sk                   string // "" = root; "-" = anonymous
		status                   int
		code                     string
		msg                      string // substring of the message
	}{
		{"anonymous", "GET", "/users", "", "-", "", 403, "AccessDenied", "signed"},
		{"unknown access key", "GET", "/users", "", "NOPE", "nope-secret", 403, "InvalidAccessKeyId", ""},
		{"wrong secret", "GET", "/users", "", rootAK, "wrong-secret-key", 403, "SignatureDoesNotMatch", ""},
		{"user without admin policy", "GET", "/users", "", alice.AccessKey.AccessKey, alice.SecretKey, 403, "AccessDenied", ""},
		{"unknown route", "GET", "/nothing", "", "", "", 404, "NotFound", ""},
		{"wrong method", "POST", "/users/alice", "", "", "", 405, "MethodNotAllowed", ""},
		{"malformed json", "POST", "/users", `{"name":`, "", "", 400, "MalformedJSON", "unexpected end"},
		{"unknown field", "POST", "/users", `{"name":"x","admin":true}`, "", "", 400, "MalformedJSON", `unknown field "admin"`},
		{"wrong type", "POST", "/users", `{"name":7}`, "", "", 400, "MalformedJSON", `"name"`},
		{"trailing data", "POST", "/users", `{"name":"x"} {}`, "", "", 400, "MalformedJSON", "unexpected data"},
		{"empty body", "POST", "/users", ``, "", "", 400, "MalformedJSON", "needs a JSON body"},
		{"body where none is taken", "GET", "/users", `{}`, "", "", 400, "MalformedJSON", "takes no body"},
		{"too large", "POST", "/users", `{"name":"` + strings.Repeat("x", adminapi.MaxBodySize) + `"}`, "", "", 413, "EntityTooLarge", ""},
		{"bad user name", "POST", "/users", `{"name":"a b"}`, "", "", 400, "InvalidArgument", "may hold only"},
		{"duplicate user", "POST", "/users", `{"name":"alice"}`, "", "", 409, "AlreadyExists", "alice"},
		{"unknown user", "GET", "/users/bob", "", "", "", 404, "NoSuchUser", `"bob"`},
		{"delete unknown user", "DELETE", "/users/bob", "", "", "", 404, "NoSuchUser", ""},
		{"bad status", "PUT", "/users/alice/status", `{"status":"off"}`, "", "", 400, "InvalidArgument", "must be"},
		{"attach unknown policy", "PUT", "/users/alice/policies/nope", "", "", "", 404, "NoSuchPolicy", ""},
		{"detach unattached", "DELETE", "/users/alice/policies/readonly", "", "", "", 404, "NotAttached", ""},
		{"group with unknown member", "POST", "/groups", `{"name":"g","members":["bob"]}`, "", "", 404, "NoSuchUser", ""},
		{"delete group with members", "DELETE", "/groups/staff", "", "", "", 409, "DeleteConflict", "member"},
		{"malformed policy", "POST", "/policies", `{"name":"q","document":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Nope","Resource":"*"}}}`, "", "", 400, "MalformedPolicy", `unknown action "s3:Nope"`},
		{"policy not json in a string", "POST", "/policies", `{"name":"q","document":"{not json"}`, "", "", 400, "MalformedPolicy", "not valid JSON"},
		{"policy without document", "POST", "/policies", `{"name":"q"}`, "", "", 400, "MalformedPolicy", "required"},
		{"duplicate policy", "POST", "/policies", `{"name":"p","document":` + docPhotos + `}`, "", "", 409, "AlreadyExists", ""},
		{"change built-in", "PUT", "/policies/readonly", `{"document":` + docPhotos + `}`, "", "", 400, "BuiltinPolicy", ""},
		{"delete attached policy", "DELETE", "/policies/p", "", "", "", 409, "DeleteConflict", "user alice"},
		{"key for unknown user", "POST", "/access-keys", `{"user":"bob"}`, "", "", 404, "NoSuchUser", ""},
		{"key expired at birth", "POST", "/access-keys", `{"user":"alice","expiration":"2001-01-01T00:00:00Z"}`, "", "", 400, "InvalidArgument", "not in the future"},
		{"key with bad inline policy", "POST", "/access-keys", `{"user":"alice","policy":{"Statement":[]}}`, "", "", 400, "MalformedPolicy", "empty"},
		{"duplicate access key", "POST", "/access-keys", `{"user":"alice","accessKey":"` + alice.AccessKey.AccessKey + `"}`, "", "", 409, "AlreadyExists", ""},
		{"unknown key", "GET", "/access-keys/NOPE", "", "", "", 404, "NoSuchAccessKey", ""},
		{"keys of unknown user", "GET", "/access-keys?user=bob", "", "", "", 404, "NoSuchUser", ""},
		{"unknown query parameter", "GET", "/access-keys?usr=alice", "", "", "", 400, "InvalidArgument", "usr"},
		{"both expiry fields", "PATCH", "/access-keys/" + alice.AccessKey.AccessKey, `{"noExpiration":true,"expiration":"2099-01-01T00:00:00Z"}`, "", "", 400, "InvalidArgument", "not both"},
	}
	before := snapshot(t, e)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ak, sk := tc.ak, tc.sk
			switch ak {
			case "":
				ak, sk = rootAK, rootSK
			case "-":
				ak, sk = "", ""
			}
			status, ae, _ := e.raw(tc.method, tc.path, tc.body, ak, sk)
			if status != tc.status || ae.Code != tc.code {
				t.Fatalf("got %d %s (%s), want %d %s", status, ae.Code, ae.Message, tc.status, tc.code)
			}
			if !strings.Contains(ae.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", ae.Message, tc.msg)
			}
			if ae.RequestID == "" {
				t.Error("no request id in the error")
			}
		})
	}
	// Nothing above changed anything.
	if after := snapshot(t, e); after != before {
		t.Errorf("failed requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	// The client reports errors as *admin.Error with the helpers working.
	_, err = e.root.GetUser(ctx, "nobody")
	if ae := apiErr(t, err); ae.StatusCode != 404 || ae.Code != adminapi.CodeNoSuchUser || !adminapi.IsNotFound(err) {
		t.Errorf("client error %+v", ae)
	}
	_, err = e.root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice"})
	if !adminapi.IsConflict(err) {
		t.Errorf("duplicate user via client: %v", err)
	}
	if _, err := e.root.CreatePolicy(ctx, "bad", []byte("not json at all")); apiErr(t, err).Code != adminapi.CodeMalformedPolicy {
		t.Errorf("non-JSON policy via client: %v", err)
	}
}

// snapshot renders the store's users, groups, policies and keys.
func snapshot(t *testing.T, e *env) string {
	keys, _ := e.store.AccessKeys("")
	b, err := json.Marshal([]any{e.store.Users(), e.store.Groups(), e.store.Policies(), keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAdminPolicyUsers(t *testing.T) {
	// A user with the built-in admin policy may use the admin API; one whose
	// admin rights are limited gets exactly those.
	e := newEnv(t)
	ctx := context.Background()
	for _, u := range []adminapi.CreateUserRequest{{Name: "ops", Policies: []string{"admin"}}, {Name: "auditor"}} {
		if _, err := e.root.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.root.CreatePolicy(ctx, "read-iam", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["admin:Get*","admin:List*"]}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.AttachUserPolicy(ctx, "auditor", "read-iam"); err != nil {
		t.Fatal(err)
	}
	opsKey, err := e.root.CreateAccessKey(ctx, adminapi.CreateAccessKeyRequest{User: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	audKey, err := e.root.CreateAccessKey(ctx, adminapi.CreateAccessKeyRequest{User: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	ops := e.client(opsKey.AccessKey.AccessKey, opsKey.SecretKey)
	if _, err := ops.CreateUser(ctx, adminapi.CreateUserRequest{Name: "carol"}); err != nil {
		t.Errorf("admin-policy user cannot create users: %v", err)
	}
	aud := e.client(audKey.AccessKey.AccessKey, audKey.SecretKey)
	if _, err := aud.ListUsers(ctx); err != nil {
		t.Errorf("auditor cannot list users: %v", err)
	}
	if _, err := aud.CreateUser(ctx, adminapi.CreateUserRequest{Name: "dave"}); apiErr(t, err).Code != adminapi.CodeAccessDenied {
		t.Errorf("auditor creating a user: %v", err)
	}
	if _, err := e.root.GetUser(ctx, "dave"); !adminapi.IsNotFound(err) {
		t.Errorf("a denied request created a user: %v", err)
	}
	// Disabling ops locks them out of the admin API at once.
	if _, err := e.root.SetUserStatus(ctx, "ops", adminapi.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.ListUsers(ctx); apiErr(t, err).StatusCode != 403 {
		t.Errorf("disabled user: %v", err)
	}
}
