package s3api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// The XML parsers take untrusted request bodies: they must never panic, and must
// fail only with an *APIError (never an error that would become a 500).

func checkParseError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status >= 500 {
		t.Fatalf("parse error %v is not a client error", err)
	}
}

func FuzzDeleteObjectsXML(f *testing.F) {
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key><VersionId>v</VersionId></Object></Delete>`))
	f.Add([]byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key></Key></Object></Delete>`))
	f.Add([]byte(`<Delete>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseDeleteRequest(b)
		checkParseError(t, err)
		if err == nil && (len(req.Objects) == 0 || len(req.Objects) > maxDeleteObjects) {
			t.Fatalf("accepted %d objects", len(req.Objects))
		}
	})
}

func FuzzCompleteMultipartXML(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber></Part></CompleteMultipartUpload>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := parseCompleteXML(b)
		checkParseError(t, err)
		for i, p := range parts {
			if p.Number < 1 || p.Number > maxPartNumber || p.ETag == "" || (i > 0 && p.Number <= parts[i-1].Number) {
				t.Fatalf("accepted invalid part list %+v", parts)
			}
		}
	})
}

func FuzzTaggingXML(f *testing.F) {
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>`), 10)
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key></Tag></TagSet></Tagging>`), 50)
	f.Add([]byte(`<Tagging></Tagging>`), 10)
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		if limit != maxObjectTags {
			limit = maxBucketTags
		}
		tags, err := parseTaggingXML(b, limit)
		checkParseError(t, err)
		if err != nil {
			return
		}
		if len(tags) > limit {
			t.Fatalf("accepted %d tags", len(tags))
		}
		// What is accepted survives the stored encoding unchanged.
		back, err := decodeTags(encodeTags(tags))
		if err != nil || len(back) != len(tags) {
			t.Fatalf("tags %v do not round-trip: %v %v", tags, back, err)
		}
		for i := range tags {
			if back[i] != tags[i] {
				t.Fatalf("tag %d: %v became %v", i, tags[i], back[i])
			}
		}
	})
}

// The GetObjectAttributes headers and the entity-tag lists of conditional writes
// come straight from the client.
func FuzzObjectAttributesHeaders(f *testing.F) {
	f.Add("ETag,Checksum,ObjectParts,StorageClass,ObjectSize", "1000", "0")
	f.Add(" ETag , ObjectSize", "99999999999999999999", "10000")
	f.Add("Color", "-1", "x")
	f.Fuzz(func(t *testing.T, attrs, maxParts, marker string) {
		h := http.Header{"X-Amz-Object-Attributes": {attrs}, "X-Amz-Max-Parts": {maxParts}, "X-Amz-Part-Number-Marker": {marker}}
		o, err := parseObjectAttributesOpts(h)
		checkParseError(t, err)
		if err == nil && (len(o.attrs) == 0 || o.maxParts < 0 || o.maxParts > maxListKeys || o.marker < 0 || o.marker > maxPartNumber) {
			t.Fatalf("accepted %+v", o)
		}
	})
}

func FuzzETagList(f *testing.F) {
	f.Add(`"a", W/"b"`)
	f.Add(`*`)
	f.Add(`"a",,*`)
	f.Fuzz(func(t *testing.T, v string) {
		got := etagList(v)
		if got == "*" {
			return
		}
		// A list of non-empty tags, or nothing; "*" only alone.
		for _, tok := range strings.Split(got, ",") {
			if got != "" && (tok == "" || tok == "*") {
				t.Fatalf("etagList(%q) = %q: token %q", v, got, tok)
			}
		}
	})
}
