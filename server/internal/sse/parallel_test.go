package sse

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

// writeIn writes the stored bytes a range needs to a decrypting writer in
// chunks of chunk bytes (0: all at once), overwriting each chunk after its
// Write returned, as the erasure layer reuses its block buffer (the race
// detector sees any goroutine still reading it).
func writeIn(t *testing.T, w io.WriteCloser, ct []byte, r Range, chunk int) error {
	t.Helper()
	stored := append(append([]byte(nil), ct[:HeaderSize]...), ct[r.Offset:r.Offset+r.Length]...)
	if chunk == 0 {
		chunk = len(stored)
	}
	for len(stored) > 0 {
		n := min(chunk, len(stored))
		buf := append([]byte(nil), stored[:n]...)
		if _, err := w.Write(buf); err != nil {
			w.Close()
			return err
		}
		clear(buf)
		stored = stored[n:]
	}
	return w.Close()
}

// TestDecryptParallel covers the writes that hold several whole packages,
// which are opened on several goroutines: more than one round, ranges that
// start and end inside packages, and chunkings that split packages between
// writes.
func TestDecryptParallel(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, (2*parPackages+5)*PackageSize+777)
	rand.Read(plain)
	ct := encrypt(t, key, 7, plain)
	n := int64(len(plain))
	for _, c := range []struct{ off, len int64 }{
		{0, n}, {1, n - 1}, {PackageSize + 5, 20 * PackageSize}, {3*PackageSize - 1, n - 3*PackageSize},
		{0, n - PackageSize - 778}, {17 * PackageSize, 16 * PackageSize},
	} {
		r, err := StreamRange(int64(len(ct)), c.off, c.len)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{0, 1 << 20, 3*sealedPackageSize + 5, sealedPackageSize, 100000} {
			var out bytes.Buffer
			if err := writeIn(t, NewDecryptWriter(&out, key, 7, r), ct, r, chunk); err != nil {
				t.Fatalf("range %d+%d, chunks of %d: %v", c.off, c.len, chunk, err)
			}
			if !bytes.Equal(out.Bytes(), plain[c.off:c.off+c.len]) {
				t.Fatalf("range %d+%d, chunks of %d: wrong plaintext (%d bytes)", c.off, c.len, chunk, out.Len())
			}
		}
	}
}

// TestDecryptParallelTampered: a package that fails to open in the middle of
// a parallel round stops the stream there. w gets exactly the plaintext of
// the packages before it, never a byte of the bad one or of those after.
func TestDecryptParallelTampered(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, 40*PackageSize)
	rand.Read(plain)
	ct := encrypt(t, key, 0, plain)
	for _, bad := range []int{0, 5, 15, 16, 23, 38} {
		c := append([]byte(nil), ct...)
		c[HeaderSize+bad*sealedPackageSize+100] ^= 1
		r, _ := StreamRange(int64(len(c)), 0, int64(len(plain)))
		var out bytes.Buffer
		err := writeIn(t, NewDecryptWriter(&out, key, 0, r), c, r, 0)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("package %d tampered: %v, want ErrCorrupt", bad, err)
		}
		if !bytes.Equal(out.Bytes(), plain[:bad*PackageSize]) {
			t.Fatalf("package %d tampered: %d bytes written, want the %d before it", bad, out.Len(), bad*PackageSize)
		}
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct {
	n   int
	got int
}

var errSink = errors.New("sink failed")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.got+len(p) > f.n {
		return 0, errSink
	}
	f.got += len(p)
	return len(p), nil
}

// TestDecryptParallelWriterFails: w's error ends the Write (and every
// goroutine it started) and is what Write and Close return.
func TestDecryptParallelWriterFails(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, 20*PackageSize)
	rand.Read(plain)
	ct := encrypt(t, key, 0, plain)
	r, _ := StreamRange(int64(len(ct)), 0, int64(len(plain)))
	for _, after := range []int{0, PackageSize, 10 * PackageSize} {
		w := NewDecryptWriter(&failAfter{n: after}, key, 0, r)
		if err := writeIn(t, w, ct, r, 0); !errors.Is(err, errSink) {
			t.Fatalf("sink failing after %d bytes: %v", after, err)
		}
		if _, err := w.Write(ct[:1]); err == nil {
			t.Fatal("Write after a failure succeeded")
		}
	}
}
