package s3api

import (
	"encoding/xml"
	"fmt"
	"math/rand"
	"testing"
)

// The hand-written listing XML is exactly what xml.Marshal writes.
func TestListXMLMatchesMarshal(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	words := []string{"", "a", "dir/file", "x&y", "<tag>", `"quoted"`, "it's", "tab\there", "nl\nx", "cr\rx", "ünï", "\x01ctl", "\xffbad", "]]>", "%2F"}
	word := func() string { return words[rng.Intn(len(words))] + words[rng.Intn(len(words))] }
	for i := 0; i < 300; i++ {
		var contents []objectEntry
		for j := rng.Intn(4); j > 0; j-- {
			e := objectEntry{Key: word(), LastModified: word(), ETag: word(), Size: rng.Int63n(1 << 40), StorageClass: word(), ChecksumType: word()}
			for k := rng.Intn(3); k > 0; k-- {
				e.ChecksumAlgorithm = append(e.ChecksumAlgorithm, word())
			}
			if rng.Intn(2) == 0 {
				e.Owner = &owner{ID: word(), DisplayName: word()}
			}
			contents = append(contents, e)
		}
		var prefixes []commonPrefix
		for j := rng.Intn(3); j > 0; j-- {
			prefixes = append(prefixes, commonPrefix{Prefix: word()})
		}
		v1 := listV1Result{Name: word(), Prefix: word(), Marker: word(), NextMarker: word(), MaxKeys: rng.Intn(1001), Delimiter: word(),
			IsTruncated: rng.Intn(2) == 0, EncodingType: word(), Contents: contents, CommonPrefixes: prefixes}
		v2 := listV2Result{Name: word(), Prefix: word(), Delimiter: word(), MaxKeys: rng.Intn(1001), KeyCount: rng.Intn(1001),
			IsTruncated: rng.Intn(2) == 0, ContinuationToken: word(), NextContinuationToken: word(), StartAfter: word(),
			EncodingType: word(), Contents: contents, CommonPrefixes: prefixes}
		for _, v := range []xmlAppender{v1, v2} {
			want, err := xml.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.appendXML(nil); string(got) != string(want) {
				t.Fatalf("case %d %T:\n got %s\nwant %s", i, v, got, want)
			}
		}
	}
}

func BenchmarkListXML(b *testing.B) {
	r := listV2Result{Name: "bkt", MaxKeys: 1000, KeyCount: 1000}
	for i := 0; i < 1000; i++ {
		r.Contents = append(r.Contents, objectEntry{Key: fmt.Sprintf("dir%03d/file%05d", i/100, i), LastModified: "2026-11-28T12:00:00.000Z",
			ETag: `"d41d8cd98f00b204e9800998ecf8427e"`, StorageClass: "STANDARD"})
	}
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			xml.Marshal(r)
		}
	})
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			r.appendXML(nil)
		}
	})
}
