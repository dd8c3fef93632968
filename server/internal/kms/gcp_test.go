package kms

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeGCPKMS is an in-process gRPC KeyManagementService written from Cloud
// KMS's public API reference (google.cloud.kms.v1: Encrypt and Decrypt with
// additional_authenticated_data, CreateCryptoKey, GetCryptoKey,
// ListCryptoKeys, CreateCryptoKeyVersion, UpdateCryptoKeyPrimaryVersion). No
// Cloud KMS emulator runs here, so the backend's client is tested against this.
type fakeGCPKMS struct {
	kmspb.UnimplementedKeyManagementServiceServer
	mu      sync.Mutex
	keys    map[string]*fakeCryptoKey // full resource name
	primary map[string]int
}

type fakeCryptoKey struct {
	versions [][]byte
	primary  int // 1-based
}

func (f *fakeGCPKMS) Encrypt(_ context.Context, r *kmspb.EncryptRequest) (*kmspb.EncryptResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[r.Name]
	if k == nil {
		return nil, status.Errorf(codes.NotFound, "CryptoKey %s not found", r.Name)
	}
	a := gcmFor(k.versions[k.primary-1])
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	ct := append([]byte{byte(k.primary)}, a.Seal(nonce, nonce, r.Plaintext, r.AdditionalAuthenticatedData)...)
	return &kmspb.EncryptResponse{Name: fmt.Sprintf("%s/cryptoKeyVersions/%d", r.Name, k.primary), Ciphertext: ct}, nil
}

func (f *fakeGCPKMS) Decrypt(_ context.Context, r *kmspb.DecryptRequest) (*kmspb.DecryptResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[r.Name]
	if k == nil {
		return nil, status.Errorf(codes.NotFound, "CryptoKey %s not found", r.Name)
	}
	if len(r.Ciphertext) < 1+12 || int(r.Ciphertext[0]) < 1 || int(r.Ciphertext[0]) > len(k.versions) {
		return nil, status.Error(codes.InvalidArgument, "Decryption failed: the ciphertext is invalid.")
	}
	a := gcmFor(k.versions[r.Ciphertext[0]-1])
	pt, err := a.Open(nil, r.Ciphertext[1:13], r.Ciphertext[13:], r.AdditionalAuthenticatedData)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "Decryption failed: verify that 'name' refers to the correct CryptoKey.")
	}
	return &kmspb.DecryptResponse{Plaintext: pt}, nil
}

func (f *fakeGCPKMS) info(name string) *kmspb.CryptoKey {
	k := f.keys[name]
	return &kmspb.CryptoKey{
		Name: name, Purpose: kmspb.CryptoKey_ENCRYPT_DECRYPT, CreateTime: timestamppb.Now(),
		Primary: &kmspb.CryptoKeyVersion{Name: fmt.Sprintf("%s/cryptoKeyVersions/%d", name, k.primary), State: kmspb.CryptoKeyVersion_ENABLED},
	}
}

func (f *fakeGCPKMS) CreateCryptoKey(_ context.Context, r *kmspb.CreateCryptoKeyRequest) (*kmspb.CryptoKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.Parent + "/cryptoKeys/" + r.CryptoKeyId
	if f.keys[name] != nil {
		return nil, status.Errorf(codes.AlreadyExists, "CryptoKey %s already exists", name)
	}
	if r.CryptoKey.GetPurpose() != kmspb.CryptoKey_ENCRYPT_DECRYPT {
		return nil, status.Error(codes.InvalidArgument, "purpose")
	}
	f.keys[name] = &fakeCryptoKey{versions: [][]byte{random32()}, primary: 1}
	return f.info(name), nil
}

func (f *fakeGCPKMS) GetCryptoKey(_ context.Context, r *kmspb.GetCryptoKeyRequest) (*kmspb.CryptoKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[r.Name] == nil {
		return nil, status.Errorf(codes.NotFound, "CryptoKey %s not found", r.Name)
	}
	return f.info(r.Name), nil
}

func (f *fakeGCPKMS) ListCryptoKeys(_ context.Context, r *kmspb.ListCryptoKeysRequest) (*kmspb.ListCryptoKeysResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.keys {
		if strings.HasPrefix(n, r.Parent+"/cryptoKeys/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := &kmspb.ListCryptoKeysResponse{TotalSize: int32(len(names))}
	for _, n := range names {
		out.CryptoKeys = append(out.CryptoKeys, f.info(n))
	}
	return out, nil
}

func (f *fakeGCPKMS) CreateCryptoKeyVersion(_ context.Context, r *kmspb.CreateCryptoKeyVersionRequest) (*kmspb.CryptoKeyVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[r.Parent]
	if k == nil {
		return nil, status.Errorf(codes.NotFound, "CryptoKey %s not found", r.Parent)
	}
	k.versions = append(k.versions, random32())
	return &kmspb.CryptoKeyVersion{Name: fmt.Sprintf("%s/cryptoKeyVersions/%d", r.Parent, len(k.versions)), State: kmspb.CryptoKeyVersion_ENABLED}, nil
}

func (f *fakeGCPKMS) UpdateCryptoKeyPrimaryVersion(_ context.Context, r *kmspb.UpdateCryptoKeyPrimaryVersionRequest) (*kmspb.CryptoKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[r.Name]
	v, err := strconv.Atoi(r.CryptoKeyVersionId)
	if k == nil || err != nil || v < 1 || v > len(k.versions) {
		return nil, status.Error(codes.NotFound, "version not found")
	}
	k.primary = v
	return f.info(r.Name), nil
}

func TestGCPAgainstAFake(t *testing.T) {
	ring := "projects/p/locations/global/keyRings/cairn"
	fake := &fakeGCPKMS{keys: map[string]*fakeCryptoKey{
		ring + "/cryptoKeys/cairn-default": {versions: [][]byte{random32()}, primary: 1},
		ring + "/cryptoKeys/team-a":        {versions: [][]byte{random32()}, primary: 1},
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	kmspb.RegisterKeyManagementServiceServer(gs, fake)
	go gs.Serve(ln)
	defer gs.Stop()
	g, err := NewGCP(t.Context(), GCPConfig{KeyRing: ring, DefaultKey: "cairn-default", Endpoint: ln.Addr().String(), Timeout: 2 * time.Second, Options: []option.ClientOption{
		option.WithoutAuthentication(), option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	testBackend(t, g, "team-a")
	testManager(t, g, "team-b")
	if info, err := g.KeyStatus(t.Context(), "team-b"); err != nil || info.Version != 2 || !info.Enabled {
		t.Fatalf("KeyStatus after rotation: %+v %v", info, err)
	}
	gs.Stop()
	if _, err := g.GenerateKey(t.Context(), "", nil); !errorsIs(err, ErrUnavailable) {
		t.Fatalf("KMS down: %v", err)
	}
}
