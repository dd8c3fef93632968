package sse

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func testKey(t testing.TB) ObjectKey {
	var k ObjectKey
	if _, err := rand.Read(k[:]); err != nil {
		t.Fatal(err)
	}
	return k
}

func encrypt(t testing.TB, key ObjectKey, part uint32, plain []byte) []byte {
	t.Helper()
	r, err := NewEncryptReader(bytes.NewReader(plain), key, part)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// decrypt decrypts plaintext [off, off+n) of a whole stream held in memory.
func decrypt(key ObjectKey, part uint32, ct []byte, off, n int64) ([]byte, error) {
	r, err := StreamRange(int64(len(ct)), off, n)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w := NewDecryptWriter(&out, key, part, r)
	if _, err := w.Write(ct[:HeaderSize]); err != nil {
		return nil, err
	}
	if _, err := w.Write(ct[r.Offset : r.Offset+r.Length]); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var sizes = []int{0, 1, 15, 16, 17, PackageSize - 1, PackageSize, PackageSize + 1, 2 * PackageSize, 3*PackageSize + 12345}

func TestRoundTripAndSizes(t *testing.T) {
	key := testKey(t)
	for _, n := range sizes {
		plain := make([]byte, n)
		rand.Read(plain)
		ct := encrypt(t, key, 3, plain)
		if int64(len(ct)) != EncryptedSize(int64(n)) {
			t.Fatalf("%d: stored %d, EncryptedSize %d", n, len(ct), EncryptedSize(int64(n)))
		}
		if got, err := DecryptedSize(int64(len(ct))); err != nil || got != int64(n) {
			t.Fatalf("%d: DecryptedSize = %d, %v", n, got, err)
		}
		got, err := decrypt(key, 3, ct, 0, int64(n))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d: round trip: %v", n, err)
		}
		if n > 0 && bytes.Contains(ct, plain[:min(n, 16)]) && n >= 16 {
			t.Fatalf("%d: plaintext visible in ciphertext", n)
		}
	}
}

func TestEncryptReaderWithIOTest(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, 2*PackageSize+777)
	rand.Read(plain)
	// Odd source reads: one byte at a time, with data and EOF together.
	for name, src := range map[string]io.Reader{
		"onebyte": iotest.OneByteReader(bytes.NewReader(plain)),
		"dataEOF": iotest.DataErrReader(bytes.NewReader(plain)),
		"half":    iotest.HalfReader(bytes.NewReader(plain)),
	} {
		r, err := NewEncryptReader(src, key, 0)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := io.ReadAll(iotest.OneByteReader(r))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := decrypt(key, 0, ct, 0, int64(len(plain)))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The reader itself behaves as an io.Reader (iotest.TestReader needs the content).
	r, _ := NewEncryptReader(bytes.NewReader(plain), key, 0)
	ct, _ := io.ReadAll(r)
	r2, _ := NewEncryptReader(bytes.NewReader(plain), key, 0)
	buf, _ := io.ReadAll(r2)
	if len(buf) != len(ct) {
		t.Fatal("sizes differ between runs")
	}
	// A source error is returned as is.
	boom := errors.New("boom")
	r3, _ := NewEncryptReader(iotest.ErrReader(boom), key, 0)
	if _, err := io.ReadAll(r3); !errors.Is(err, boom) {
		t.Fatalf("source error: %v", err)
	}
}

func TestDecryptWriterOneByteWrites(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, PackageSize+100)
	rand.Read(plain)
	ct := encrypt(t, key, 0, plain)
	r, _ := StreamRange(int64(len(ct)), 0, int64(len(plain)))
	var out bytes.Buffer
	w := NewDecryptWriter(&out, key, 0, r)
	for i := range ct {
		if _, err := w.Write(ct[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil || !bytes.Equal(out.Bytes(), plain) {
		t.Fatalf("one-byte writes: %v", err)
	}
}

func TestRanges(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, 3*PackageSize+500)
	rand.Read(plain)
	ct := encrypt(t, key, 0, plain)
	for _, c := range []struct{ off, n int64 }{
		{0, 1}, {0, PackageSize}, {PackageSize - 1, 2}, {PackageSize, PackageSize}, {2*PackageSize + 10, PackageSize + 490},
		{int64(len(plain)) - 1, 1}, {100, 0}, {5, int64(len(plain)) - 5},
	} {
		got, err := decrypt(key, 0, ct, c.off, c.n)
		if err != nil || !bytes.Equal(got, plain[c.off:c.off+c.n]) {
			t.Fatalf("range %d+%d: %v", c.off, c.n, err)
		}
		r, _ := StreamRange(int64(len(ct)), c.off, c.n)
		if c.n > 0 {
			first, last := c.off/PackageSize, (c.off+c.n-1)/PackageSize
			if want := min(HeaderSize+(last+1)*sealedPackageSize, int64(len(ct))) - (HeaderSize + first*sealedPackageSize); r.Length != want {
				t.Fatalf("range %d+%d reads %d stored bytes, want %d (whole packages only)", c.off, c.n, r.Length, want)
			}
		}
	}
	if _, err := StreamRange(int64(len(ct)), int64(len(plain)), 1); err == nil {
		t.Fatal("range past the end accepted")
	}
}

func TestTampering(t *testing.T) {
	key := testKey(t)
	plain := make([]byte, 3*PackageSize)
	rand.Read(plain)
	ct := encrypt(t, key, 1, plain)
	whole := int64(len(plain))
	full := func(c []byte) error {
		r, err := StreamRange(int64(len(c)), 0, whole)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		w := NewDecryptWriter(&out, key, 1, r)
		_, err = w.Write(c)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return err
	}
	mut := func(f func(c []byte) []byte) []byte { return f(append([]byte(nil), ct...)) }
	cases := map[string][]byte{
		"flipped bit in package": mut(func(c []byte) []byte { c[HeaderSize+10] ^= 1; return c }),
		"flipped tag":            mut(func(c []byte) []byte { c[len(c)-1] ^= 0x80; return c }),
		"flipped salt":           mut(func(c []byte) []byte { c[5] ^= 1; return c }),
		"unknown version":        mut(func(c []byte) []byte { c[0] = 2; return c }),
		"swapped packages": mut(func(c []byte) []byte {
			p0 := append([]byte(nil), c[HeaderSize:HeaderSize+sealedPackageSize]...)
			copy(c[HeaderSize:], c[HeaderSize+sealedPackageSize:HeaderSize+2*sealedPackageSize])
			copy(c[HeaderSize+sealedPackageSize:], p0)
			return c
		}),
	}
	for name, c := range cases {
		if err := full(c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	// Truncated at a package boundary: the last package there is not final.
	cut := ct[:HeaderSize+2*sealedPackageSize]
	if got, err := decrypt(key, 1, cut, 0, 2*PackageSize); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated stream decrypted (%d bytes): %v", len(got), err)
	}
	// Dropped first package (stream shifted).
	dropped := append(append([]byte(nil), ct[:HeaderSize]...), ct[HeaderSize+sealedPackageSize:]...)
	if _, err := decrypt(key, 1, dropped, 0, 2*PackageSize); !errors.Is(err, ErrCorrupt) {
		t.Errorf("dropped package: %v", err)
	}
	// Wrong part number, wrong key.
	if _, err := decrypt(key, 2, ct, 0, whole); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong part: %v", err)
	}
	if _, err := decrypt(testKey(t), 1, ct, 0, whole); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong key: %v", err)
	}
	// Too few bytes: Close reports it.
	r, _ := StreamRange(int64(len(ct)), 0, whole)
	w := NewDecryptWriter(io.Discard, key, 1, r)
	w.Write(ct[:HeaderSize+100])
	if err := w.Close(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short stream: %v", err)
	}
}

func TestSizesInvalid(t *testing.T) {
	for _, n := range []int64{0, HeaderSize, HeaderSize + 15, HeaderSize + sealedPackageSize + 5, HeaderSize + sealedPackageSize + TagSize} {
		if _, err := DecryptedSize(n); err == nil {
			t.Errorf("DecryptedSize(%d) accepted", n)
		}
	}
}

type memObject []byte

func (m memObject) WriteRange(_ context.Context, w io.Writer, off, n int64) error {
	_, err := w.Write(m[off : off+n])
	return err
}

// countingObject counts the stored bytes read.
type countingObject struct {
	memObject
	read int64
}

func (c *countingObject) WriteRange(ctx context.Context, w io.Writer, off, n int64) error {
	c.read += n
	return c.memObject.WriteRange(ctx, w, off, n)
}

func TestDecryptRangeMultipart(t *testing.T) {
	key := testKey(t)
	partsPlain := [][]byte{make([]byte, 2*PackageSize+3), make([]byte, 5), make([]byte, PackageSize)}
	var stored []byte
	var sizes []PartSize
	var all []byte
	for i, p := range partsPlain {
		rand.Read(p)
		ct := encrypt(t, key, uint32(i+1)*2, p) // parts 2, 4, 6
		stored = append(stored, ct...)
		sizes = append(sizes, PartSize{Number: (i + 1) * 2, StoredSize: int64(len(ct))})
		all = append(all, p...)
	}
	segs, err := Segments(int64(len(stored)), sizes)
	if err != nil {
		t.Fatal(err)
	}
	if PlainSize(segs) != int64(len(all)) {
		t.Fatalf("PlainSize %d, want %d", PlainSize(segs), len(all))
	}
	for _, c := range []struct{ off, n int64 }{{0, int64(len(all))}, {2*PackageSize + 1, 6}, {PackageSize, 10}, {int64(len(all)) - 3, 3}} {
		obj := &countingObject{memObject: stored}
		var out bytes.Buffer
		if err := DecryptRange(context.Background(), obj, &out, key, segs, c.off, c.n); err != nil {
			t.Fatalf("%d+%d: %v", c.off, c.n, err)
		}
		if !bytes.Equal(out.Bytes(), all[c.off:c.off+c.n]) {
			t.Fatalf("%d+%d: wrong bytes", c.off, c.n)
		}
		if c.n == 10 && obj.read > HeaderSize+sealedPackageSize {
			t.Fatalf("a 10-byte range read %d stored bytes: more than one package", obj.read)
		}
	}
	// Parts swapped on disk: part numbers are bound, so decryption fails.
	swapped := append(append([]byte(nil), stored[segs[1].StoredOffset:segs[2].StoredOffset]...), stored[:segs[1].StoredOffset]...)
	swapped = append(swapped, stored[segs[2].StoredOffset:]...)
	segs2, _ := Segments(int64(len(swapped)), []PartSize{{2, segs[1].StoredSize}, {4, segs[0].StoredSize}, {6, segs[2].StoredSize}})
	if err := DecryptRange(context.Background(), memObject(swapped), io.Discard, key, segs2, 0, PlainSize(segs2)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("swapped parts: %v", err)
	}
}

func BenchmarkEncrypt1MiB(b *testing.B) {
	key := testKey(b)
	plain := make([]byte, 1<<20)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		r, _ := NewEncryptReader(bytes.NewReader(plain), key, 0)
		io.Copy(io.Discard, r)
	}
}

func BenchmarkDecrypt1MiB(b *testing.B) {
	key := testKey(b)
	plain := make([]byte, 1<<20)
	ct := encrypt(b, key, 0, plain)
	segs, _ := Segments(int64(len(ct)), nil)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		DecryptRange(context.Background(), memObject(ct), io.Discard, key, segs, 0, int64(len(plain)))
	}
}
