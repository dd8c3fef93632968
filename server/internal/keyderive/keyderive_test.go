package keyderive

import (
	"bytes"
	"testing"
)

func TestDerivation(t *testing.T) {
	salt := bytes.Repeat([]byte{1}, 16)
	m1, err := Master("root secret", salt, 10)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := Master("root secret", salt, 10)
	m3, _ := Master("other secret", salt, 10)
	if !bytes.Equal(m1, m2) || bytes.Equal(m1, m3) {
		t.Fatal("master key is not a function of the root secret")
	}
	a, _ := Key(m1, "purpose a", 32)
	b, _ := Key(m1, "purpose b", 32)
	if bytes.Equal(a, b) {
		t.Fatal("two purposes share a key")
	}
	aead, err := AEAD(m1, "purpose a")
	if err != nil || aead.NonceSize() != 12 {
		t.Fatalf("aead: %v", err)
	}
	if _, err := Master("x", []byte("short"), 10); err == nil {
		t.Fatal("short salt accepted")
	}
}
