package sse

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"testing"
)

// FuzzDecrypt feeds arbitrary stored bytes (and ranges) to the decoder: it must
// never panic, never return plaintext for data it did not encrypt, and only fail
// with ErrCorrupt.
func FuzzDecrypt(f *testing.F) {
	var key ObjectKey
	for i := range key {
		key[i] = byte(i)
	}
	for _, n := range []int{0, 1, 100, PackageSize + 1} {
		r, _ := NewEncryptReader(bytes.NewReader(make([]byte, n)), key, 0)
		ct, _ := io.ReadAll(r)
		f.Add(ct, int64(0), int64(n), false)
		f.Add(ct, int64(n/2), int64(n/3), true)
	}
	f.Fuzz(func(t *testing.T, ct []byte, off, n int64, flip bool) {
		if flip && len(ct) > HeaderSize {
			ct = append([]byte(nil), ct...)
			ct[len(ct)/2] ^= 0x01
		}
		r, err := StreamRange(int64(len(ct)), off, n)
		if err != nil {
			return
		}
		var out bytes.Buffer
		w := NewDecryptWriter(&out, key, 0, r)
		_, err = w.Write(ct[:HeaderSize])
		if err == nil {
			_, err = w.Write(ct[r.Offset : r.Offset+r.Length])
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
		if err == nil && int64(out.Len()) != n {
			t.Fatalf("decrypted %d bytes of a %d-byte range", out.Len(), n)
		}
		if flip && len(ct) > HeaderSize && err == nil && n > 0 && ct[len(ct)/2] != 0 {
			// A flipped byte inside the packages read must be detected.
			mid := int64(len(ct) / 2)
			if mid >= r.Offset && mid < r.Offset+r.Length {
				t.Fatal("tampered package decrypted")
			}
		}
	})
}

// FuzzParseHeaders: the SSE header parser never panics and accepts only what
// it can describe.
func FuzzParseHeaders(f *testing.F) {
	f.Add("AES256", "", "", "", "", "")
	f.Add("aws:kms", "key-1", base64.StdEncoding.EncodeToString([]byte(`{"a":"b"}`)), "", "", "")
	f.Add("", "", "", "AES256", base64.StdEncoding.EncodeToString(make([]byte, 32)), "cLYDIGE0btnSzA1ztq9FWQ==")
	f.Fuzz(func(t *testing.T, alg, keyID, ctx, calg, ckey, cmd5 string) {
		h := http.Header{}
		for k, v := range map[string]string{HeaderSSE: alg, HeaderKMSKeyID: keyID, HeaderContext: ctx, HeaderCustomerAlg: calg, HeaderCustomerKey: ckey, HeaderCustomerMD5: cmd5} {
			if v != "" {
				h.Set(k, v)
			}
		}
		p, err := ParseHeaders(h)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Message == "" {
				t.Fatalf("error without a client message: %v", err)
			}
			return
		}
		if p.Kind == C && (p.CustomerKey == nil || p.CustomerKeyMD5 == "") {
			t.Fatal("SSE-C without a key")
		}
		if p.Kind == None && (alg != "" || calg != "") {
			t.Fatalf("encryption requested (%q, %q) but none parsed", alg, calg)
		}
		_, _ = ParseCopySourceHeaders(h)
	})
}

// FuzzParseBucketConfig: the default-encryption XML parser.
func FuzzParseBucketConfig(f *testing.F) {
	f.Add([]byte(BucketConfig{Kind: S3}.Marshal()))
	f.Add([]byte(BucketConfig{Kind: KMS, KeyID: "k<&>"}.Marshal()))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseBucketConfig(b)
		if err != nil {
			return
		}
		again, err := ParseBucketConfig(c.Marshal())
		if err != nil || again != c {
			t.Fatalf("Marshal does not round-trip: %+v → %+v (%v)", c, again, err)
		}
	})
}
