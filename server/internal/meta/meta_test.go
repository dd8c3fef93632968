package meta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *File {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 123456789, time.UTC)
	f := &File{}
	f.Add(Version{
		ID: VersionID{1, 2, 3}, Kind: KindObject, ModTime: t0, Size: 5 << 20, ETag: "0123456789abcdef0123456789abcdef-2",
		Meta:      map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Color": "blue"},
		Tags:      "a=b&c=d",
		Checksums: map[string]string{"CRC32": "AAAAAA==-2"}, ChecksumType: "COMPOSITE",
		Erasure: Erasure{Data: 4, Parity: 2, BlockSize: 1 << 20, Index: 3, BitrotAlgorithm: 1},
		DataDir: [16]byte{9, 9, 9},
		Parts: []Part{
			{Number: 1, Size: 5 << 20, ETag: "aa", Checksums: map[string]string{"CRC32": "AAAAAA=="}},
			{Number: 2, Size: 0, ETag: "bb"},
		},
	})
	f.Add(Version{ID: VersionID{}, Kind: KindDeleteMarker, ModTime: t0.Add(time.Second)})
	f.Add(Version{ID: VersionID{6}, Kind: KindObject, ModTime: t0.Add(-30 * time.Minute), Size: 300000, ETag: "f",
		Erasure: Erasure{Data: 4, Parity: 2, BlockSize: 1 << 20, Index: 5, BitrotAlgorithm: 2}, DataDir: [16]byte{5}, DataFile: true,
		Parts: []Part{{Number: 1, Size: 300000, ETag: "f"}}})
	f.Add(Version{ID: VersionID{7}, Kind: KindObject, ModTime: t0.Add(-time.Hour), Size: 3, ETag: "e",
		Erasure: Erasure{Data: 4, Parity: 2, BlockSize: 1 << 20, Index: 0, BitrotAlgorithm: 1}, Inline: []byte("xyz")})
	f.Add(Version{ID: VersionID{8}, Kind: KindObject, ModTime: t0.Add(-2 * time.Hour), Inline: []byte{}})
	return f
}

// sampleV2 is sample with a transitioned version (its data only in a tier) and
// a transitioned version with a restored local copy: a format-2 file.
func sampleV2() *File {
	f := sample()
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	f.Add(Version{ID: VersionID{10}, Kind: KindObject, ModTime: t0.Add(-3 * time.Hour), Size: 1 << 20, ETag: "c0ffee",
		Meta:    map[string]string{"X-Cairn-Internal-Sse-Kind": "SSE-S3"},
		Erasure: Erasure{Data: 4, Parity: 2, BlockSize: 1 << 20, Index: 1, BitrotAlgorithm: 1},
		Parts:   []Part{{Number: 1, Size: 1 << 20, ETag: "c0ffee"}},
		Transition: &Transition{Tier: "COLD", RemoteKey: "dep/bucket/key/0a000000-0000-4000-8000-000000000000",
			At: t0.Add(-time.Hour)}})
	f.Add(Version{ID: VersionID{11}, Kind: KindObject, ModTime: t0.Add(-4 * time.Hour), Size: 3, ETag: "abc",
		Erasure: Erasure{Data: 4, Parity: 2, BlockSize: 1 << 20, Index: 2, BitrotAlgorithm: 1}, Inline: []byte("q"),
		Parts: []Part{{Number: 1, Size: 3, ETag: "abc"}},
		Transition: &Transition{Tier: "GCS", RemoteKey: "k2", At: t0.Add(-2 * time.Hour),
			RestoreExpiry: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}})
	return f
}

func TestRoundTrip(t *testing.T) {
	cases := map[string]*File{
		"empty":     {},
		"sample":    sample(),
		"sample-v2": sampleV2(),
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Unmarshal(f.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Versions) == 0 && len(got.Versions) == 0 {
				return
			}
			if !reflect.DeepEqual(got, f) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, f)
			}
		})
	}
}

func TestInlineEmptyVsNone(t *testing.T) {
	f := sample()
	got, err := Unmarshal(f.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Find(VersionID{8}); v == nil || !v.IsInline() || len(v.Inline) != 0 {
		t.Fatalf("empty inline object lost its inline flag: %+v", v)
	}
	if v := got.Find(VersionID{1, 2, 3}); v == nil || v.IsInline() {
		t.Fatalf("non-inline object became inline")
	}
}

// TestGolden pins the on-disk encodings: changing one must be deliberate (bump
// formatVersion and add a golden file; old files must keep decoding). A file
// without transitioned versions is still written in format 1, byte for byte.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		file   string
		f      *File
		format byte
	}{
		{"sample.golden", sample(), 1},
		{"sample_v2.golden", sampleV2(), 2},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			b := c.f.Marshal()
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("encoding changed; run with -update only if the format version was bumped")
			}
			if want[len(magic)] != c.format {
				t.Fatalf("%s is format %d, want %d", c.file, want[len(magic)], c.format)
			}
			got, err := Unmarshal(want)
			if err != nil {
				t.Fatalf("golden file does not decode: %v", err)
			}
			if !reflect.DeepEqual(got, c.f) {
				t.Fatalf("golden file decodes to\n%+v\nwant\n%+v", got, c.f)
			}
		})
	}
}

// TestFormatV1Unchanged: a format-1 file read and written again stays format 1
// and identical; adding a transition makes it format 2; dropping it, format 1.
func TestFormatV1Unchanged(t *testing.T) {
	v1 := sample().Marshal()
	f, err := Unmarshal(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Marshal(), v1) {
		t.Fatal("re-encoding a format-1 file changed it")
	}
	f.Versions[0].Transition = &Transition{Tier: "T", RemoteKey: "k", At: time.Unix(1, 0).UTC()}
	b := f.Marshal()
	if b[len(magic)] != 2 {
		t.Fatalf("a file with a transition was written as format %d", b[len(magic)])
	}
	f.Versions[0].Transition = nil
	if !bytes.Equal(f.Marshal(), v1) {
		t.Fatal("without transitions the file should be format 1 again")
	}
}

func TestUnknownFormatAndFlags(t *testing.T) {
	b := sampleV2().Marshal()
	b[len(magic)] = 3
	b = fixCRC(b)
	if _, err := Unmarshal(b); !errors.Is(err, ErrVersionSkew) {
		t.Fatalf("format 3: %v", err)
	}
	// A version with an unknown flag bit is refused, not half read.
	f := &File{Versions: []Version{{Kind: KindObject, ModTime: time.Unix(5, 0).UTC(), Transition: &Transition{Tier: "T", RemoteKey: "k"}}}}
	b = f.Marshal()
	i := bytes.Index(b, []byte{flagTransition, 1, 'T', 1, 'k'})
	if i < 0 {
		t.Fatal("transition record not found in the encoding")
	}
	b[i] |= 0x80
	if _, err := Unmarshal(fixCRC(b)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown flag: %v", err)
	}
}

func fixCRC(b []byte) []byte {
	body := b[:len(b)-4]
	return binary.BigEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, castagnoli))
}

func TestCorruptionDetected(t *testing.T) {
	for _, f := range []*File{sample(), sampleV2()} {
		corruptionDetected(t, f.Marshal())
	}
}

func corruptionDetected(t *testing.T, b []byte) {
	t.Helper()
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x40
		if _, err := Unmarshal(c); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersionSkew) {
			t.Fatalf("flip at byte %d not detected: %v", i, err)
		}
	}
	for n := 0; n < len(b); n++ {
		if _, err := Unmarshal(b[:n]); err == nil {
			t.Fatalf("truncation to %d bytes not detected", n)
		}
	}
}

// TestOrderIndependent: applying the same versions in any order yields identical files,
// which is what lets drives converge.
func TestOrderIndependent(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	var vs []Version
	for i := 0; i < 20; i++ {
		vs = append(vs, Version{ID: VersionID{byte(i % 7), byte(i)}, Kind: KindObject, ModTime: t0.Add(time.Duration(i%5) * time.Second)})
	}
	var first []byte
	for trial := 0; trial < 10; trial++ {
		rand.New(rand.NewSource(int64(trial))).Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		f := &File{}
		for _, v := range vs {
			f.Add(v)
		}
		b := f.Marshal()
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("trial %d: order of application changed the file", trial)
		}
	}
}

func TestAddReplaceRemove(t *testing.T) {
	f := sample()
	n := len(f.Versions)
	if old := f.Add(Version{ID: VersionID{}, Kind: KindObject, ModTime: f.Latest().ModTime.Add(time.Minute)}); old == nil || old.Kind != KindDeleteMarker {
		t.Fatalf("Add did not replace the null delete marker: %+v", old)
	}
	if len(f.Versions) != n {
		t.Fatalf("replace changed version count %d → %d", n, len(f.Versions))
	}
	if f.Latest().ID != (VersionID{}) {
		t.Fatalf("newest version should be the new null version")
	}
	if f.Remove(VersionID{7}) == nil || f.Find(VersionID{7}) != nil || len(f.Versions) != n-1 {
		t.Fatalf("Remove failed")
	}
	if f.Remove(VersionID{42}) != nil {
		t.Fatalf("Remove of absent id returned a version")
	}
}

func TestSignatureIgnoresDriveSpecificFields(t *testing.T) {
	a, b := sample(), sample()
	b.Versions[1].Erasure.Index = 5
	b.Versions[1].Inline = []byte("other shard")
	if a.Signature() != b.Signature() {
		t.Fatal("signature depends on shard index or inline data")
	}
	b.Versions[0].ModTime = b.Versions[0].ModTime.Add(time.Nanosecond)
	if a.Signature() == b.Signature() {
		t.Fatal("signature ignores mod time")
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(sample().Marshal())
	f.Add(sampleV2().Marshal())
	f.Add((&File{}).Marshal())
	f.Add([]byte("CRNM"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Unmarshal(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to something that decodes to the same thing.
		again, err := Unmarshal(file.Marshal())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(again.Versions) != len(file.Versions) {
			t.Fatalf("version count changed")
		}
		for i := range again.Versions {
			if !reflect.DeepEqual(again.Versions[i].Transition, file.Versions[i].Transition) {
				t.Fatalf("version %d: transition changed in a round trip", i)
			}
		}
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	buf := sample().Marshal()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// Two writes of the null version applied in either order leave the newer one.
func TestAddSameIDConverges(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	older := Version{Kind: KindObject, ModTime: t0, ETag: "older", DataDir: [16]byte{1}}
	newer := Version{Kind: KindObject, ModTime: t0.Add(time.Millisecond), ETag: "newer", DataDir: [16]byte{2}}
	a, b := &File{}, &File{}
	if lost := a.Add(older); lost != nil {
		t.Fatal("first add lost something")
	}
	if lost := a.Add(newer); lost == nil || lost.ETag != "older" {
		t.Fatalf("a: loser %+v", lost)
	}
	b.Add(newer)
	if lost := b.Add(older); lost == nil || lost.ETag != "older" {
		t.Fatalf("b: the older write should lose, got %+v", lost)
	}
	if !bytes.Equal(a.Marshal(), b.Marshal()) || a.Latest().ETag != "newer" {
		t.Fatal("drives applying the same writes in different orders differ")
	}
}
