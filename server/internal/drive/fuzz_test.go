package drive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// An index page from a peer (the storage RPC) decodes or is refused, never
// panics; what decodes encodes back to a page that decodes the same.
func FuzzDecodePage(f *testing.F) {
	f.Add(encodePage(IndexPage{Entries: []IndexEntry{{Key: "a/b", Value: []byte("v1")}, {Key: "a/c", Value: []byte{}}}, Next: "a/c\x00"}))
	d := IndexDigest(NewDigestKey(), []byte("v"))
	f.Add(encodePage(IndexPage{Entries: []IndexEntry{{Key: "k", Value: d[:]}}, End: true}))
	f.Add([]byte{0, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePage(b)
		if err != nil {
			return
		}
		q, err := decodePage(encodePage(p))
		if err != nil {
			t.Fatalf("re-encoded page refused: %v", err)
		}
		if q.End != p.End || q.Next != p.Next || !slices.EqualFunc(q.Entries, p.Entries, func(x, y IndexEntry) bool {
			return x.Key == y.Key && bytes.Equal(x.Value, y.Value)
		}) {
			t.Fatalf("round trip: %+v, then %+v", p, q)
		}
	})
}

// Snapshot records read from disk (a torn or damaged file) are refused, never
// panic, and never claim more bytes than the file has; read for digests, a
// record gives the digest of the value it gives read plainly, whether the value
// fits the read buffer (hashed in place) or not (copied).
func FuzzReadRecord(f *testing.F) {
	var rec []byte
	for _, e := range []IndexEntry{{Key: "a", Value: []byte("x")}, {Key: "b", Value: nil}} {
		rec = appendRecordForTest(rec, e)
	}
	f.Add(append(rec, 0xFF, 1, 2, 3, 4))
	f.Add([]byte{0x80})
	f.Add([]byte{5, 'a'})
	f.Add(appendRecordForTest(nil, IndexEntry{Key: "big", Value: bytes.Repeat([]byte("v"), 100)}))
	key := NewDigestKey()
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		dr := bufio.NewReaderSize(bytes.NewReader(b), 16) // values over 16 bytes are copied
		var a, da arena
		total := int64(0)
		for range 1000 {
			e, n, err := readRecord(br, &a, nil)
			de, dn, derr := readRecord(dr, &da, key)
			if (err == nil) != (derr == nil) || n != dn || err == nil && (de.Key != e.Key || !bytes.Equal(de.Value, digestOf(key, e.Value))) {
				t.Fatalf("read for digests: %q %x %d %v; plainly: %q %q %d %v", de.Key, de.Value, dn, derr, e.Key, e.Value, n, err)
			}
			total += n
			if total > int64(len(b)) {
				t.Fatalf("records claim %d bytes of %d", total, len(b))
			}
			if err != nil {
				return
			}
		}
	})
}

// appendRecordForTest encodes a snapshot record as the index writes it: uvarint
// len(key) · key · uvarint len(value)+1 · value.
func appendRecordForTest(b []byte, e IndexEntry) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.Key)))
	b = append(b, e.Key...)
	b = binary.AppendUvarint(b, uint64(len(e.Value))+1)
	return append(b, e.Value...)
}

func digestOf(k *DigestKey, v []byte) []byte {
	sum := IndexDigest(k, v)
	return sum[:]
}
