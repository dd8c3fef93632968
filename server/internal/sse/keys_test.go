package sse

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"testing"

	"github.com/cairn-io/cairn/server/internal/kms"
)

func newService(t testing.TB) *Service {
	t.Helper()
	mk := make([]byte, 32)
	rand.Read(mk)
	k, err := kms.NewBuiltin(context.Background(), kms.BuiltinConfig{MasterKey: mk, Keys: []string{"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{KMS: k})
}

func customer(t *testing.T) (Params, http.Header) {
	key := make([]byte, 32)
	rand.Read(key)
	sum := md5.Sum(key)
	h := http.Header{}
	h.Set(HeaderCustomerAlg, "AES256")
	h.Set(HeaderCustomerKey, base64.StdEncoding.EncodeToString(key))
	h.Set(HeaderCustomerMD5, base64.StdEncoding.EncodeToString(sum[:]))
	p, err := ParseHeaders(h)
	if err != nil || p.Kind != C {
		t.Fatalf("ParseHeaders: %v %v", p.Kind, err)
	}
	return p, h
}

func TestObjectKeysAreBoundToTheObject(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	cp, _ := customer(t)
	for _, p := range []Params{{Kind: S3}, {Kind: KMS, KeyID: "team-a", Context: kms.Context{"dept": "x"}}, cp} {
		t.Run(p.Kind.String(), func(t *testing.T) {
			key, md, err := s.NewObjectKey(ctx, p, "bucket", "a/b")
			if err != nil {
				t.Fatal(err)
			}
			if md[MetaKind] != p.Kind.String() || md[MetaSealedKey] == "" {
				t.Fatalf("metadata %v", md)
			}
			got, err := s.ObjectKey(ctx, md, p, "bucket", "a/b")
			if err != nil || got != key {
				t.Fatalf("reopen: %v", err)
			}
			// The same metadata on another object (or bucket) does not open.
			for _, where := range [][2]string{{"bucket", "a/c"}, {"other", "a/b"}} {
				_, err := s.ObjectKey(ctx, md, p, where[0], where[1])
				if p.Kind == C {
					if !errors.Is(err, ErrWrongCustomerKey) {
						t.Fatalf("moved SSE-C key: %v", err)
					}
				} else if !errors.Is(err, ErrSealedKey) {
					t.Fatalf("moved key to %v: %v", where, err)
				}
			}
			// A sealed key from another object of the same bucket, pasted in.
			_, md2, _ := s.NewObjectKey(ctx, p, "bucket", "other-object")
			mixed := maps.Clone(md)
			mixed[MetaSealedKey] = md2[MetaSealedKey]
			if _, err := s.ObjectKey(ctx, mixed, p, "bucket", "a/b"); err == nil {
				t.Fatal("a sealed key from another object opened")
			}
		})
	}
}

func TestCustomerKeyChecks(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	p, _ := customer(t)
	_, md, err := s.NewObjectKey(ctx, p, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := customer(t)
	if _, err := s.ObjectKey(ctx, md, other, "b", "k"); !errors.Is(err, ErrWrongCustomerKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := s.ObjectKey(ctx, md, Params{}, "b", "k"); !errors.Is(err, ErrMissingCustomerKey) {
		t.Fatalf("missing key: %v", err)
	}
	_, plainMD, _ := s.NewObjectKey(ctx, Params{Kind: S3}, "b", "k")
	if _, err := s.ObjectKey(ctx, plainMD, p, "b", "k"); !errors.Is(err, ErrNotApplicable) {
		t.Fatalf("SSE-C key for an SSE-S3 object: %v", err)
	}
	for _, v := range md {
		if v == p.CustomerKeyMD5 || v == base64.StdEncoding.EncodeToString(p.CustomerKey[:]) {
			t.Fatal("the customer key (or its MD5) is stored")
		}
	}
	if err := s.CheckTransport(p, false); !errors.Is(err, ErrInsecureTransport) {
		t.Fatalf("SSE-C over HTTP: %v", err)
	}
	if err := New(Config{AllowHTTPCustomerKeys: true}).CheckTransport(p, false); err != nil {
		t.Fatal(err)
	}
}

func TestNoKMS(t *testing.T) {
	s := New(Config{})
	if _, _, err := s.NewObjectKey(context.Background(), Params{Kind: S3}, "b", "k"); !errors.Is(err, ErrNoKMS) {
		t.Fatalf("SSE-S3 without KMS: %v", err)
	}
	p, _ := customer(t)
	if _, _, err := s.NewObjectKey(context.Background(), p, "b", "k"); err != nil {
		t.Fatalf("SSE-C without KMS: %v", err)
	}
}

func TestRewrapAfterRotation(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	key, md, err := s.NewObjectKey(ctx, Params{Kind: KMS, KeyID: "team-a"}, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.KMS().(kms.Rotator).RotateKey(ctx, "team-a"); err != nil {
		t.Fatal(err)
	}
	md2, changed, err := s.Rewrap(ctx, md, "b", "k")
	if err != nil || !changed || md2[MetaKMSDataKey] == md[MetaKMSDataKey] || md2[MetaSealedKey] != md[MetaSealedKey] {
		t.Fatalf("rewrap: changed=%v err=%v", changed, err)
	}
	for _, m := range []map[string]string{md, md2} {
		if got, err := s.ObjectKey(ctx, m, Params{}, "b", "k"); err != nil || got != key {
			t.Fatalf("open after rotation: %v", err)
		}
	}
}

// BenchmarkObjectKeyS3 is the per-GET cost of opening an SSE-S3 object key
// with the built-in KMS (KMS decrypt of the data key, then the unseal).
func BenchmarkObjectKeyS3(b *testing.B) {
	s := newService(b)
	ctx := context.Background()
	_, md, err := s.NewObjectKey(ctx, Params{Kind: S3}, "bucket", "object")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.ObjectKey(ctx, md, Params{}, "bucket", "object"); err != nil {
			b.Fatal(err)
		}
	}
}
