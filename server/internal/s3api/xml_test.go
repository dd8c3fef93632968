package s3api

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

func TestParseDeleteRequest(t *testing.T) {
	t.Parallel()
	thousand := "<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1000) + "</Delete>"
	tooMany := "<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>"
	tests := []struct {
		name      string
		body      string
		wantCode  string
		wantQuiet bool
		wantN     int
		check     func(t *testing.T, r deleteRequest)
	}{
		{
			name:  "with namespace and versions",
			body:  `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a/b</Key></Object><Object><Key>c</Key><VersionId>v1</VersionId></Object></Delete>`,
			wantN: 2,
			check: func(t *testing.T, r deleteRequest) {
				if r.Objects[0].Key != "a/b" || r.Objects[1].VersionID != "v1" {
					t.Errorf("objects = %+v", r.Objects)
				}
			},
		},
		{name: "quiet", body: `<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>`, wantQuiet: true, wantN: 1},
		{name: "etag condition", body: `<Delete><Object><Key>a</Key><ETag>"e"</ETag></Object></Delete>`, wantN: 1, check: func(t *testing.T, r deleteRequest) {
			if r.Objects[0].ETag != `"e"` {
				t.Errorf("etag = %q", r.Objects[0].ETag)
			}
		}},
		{name: "escaped key", body: `<Delete><Object><Key>a&amp;b&#x9;</Key></Object></Delete>`, wantN: 1, check: func(t *testing.T, r deleteRequest) {
			if r.Objects[0].Key != "a&b\t" {
				t.Errorf("key = %q", r.Objects[0].Key)
			}
		}},
		{name: "1000 objects", body: thousand, wantN: 1000},
		{name: "1001 objects", body: tooMany, wantCode: "MalformedXML"},
		{name: "no objects", body: `<Delete></Delete>`, wantCode: "MalformedXML"},
		{name: "empty key", body: `<Delete><Object><Key></Key></Object></Delete>`, wantCode: "MalformedXML"},
		{name: "wrong root", body: `<Remove><Object><Key>a</Key></Object></Remove>`, wantCode: "MalformedXML"},
		{name: "truncated", body: `<Delete><Object><Key>a</Key>`, wantCode: "MalformedXML"},
		{name: "not xml", body: `{"Delete":[]}`, wantCode: "MalformedXML"},
		{name: "empty", body: ``, wantCode: "MalformedXML"},
		{name: "bad quiet", body: `<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>`, wantCode: "MalformedXML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := parseDeleteRequest([]byte(tc.body))
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Quiet != tc.wantQuiet || len(r.Objects) != tc.wantN {
				t.Fatalf("quiet=%v n=%d, want %v %d", r.Quiet, len(r.Objects), tc.wantQuiet, tc.wantN)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestParseCompleteXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantCode string
		want     []objects.CompletePart
	}{
		{
			name: "quoted and unquoted etags",
			body: `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"aaa"</ETag></Part><Part><ETag>bbb</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>`,
			want: []objects.CompletePart{{Number: 1, ETag: "aaa"}, {Number: 3, ETag: "bbb"}},
		},
		{
			name: "escaped quotes",
			body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;aaa&quot;</ETag></Part></CompleteMultipartUpload>`,
			want: []objects.CompletePart{{Number: 1, ETag: "aaa"}},
		},
		{
			name: "checksums",
			body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`,
			want: []objects.CompletePart{{Number: 1, ETag: "a", Checksums: map[string]string{"CRC32": "AAAAAA=="}}},
		},
		{name: "descending", body: `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>`, wantCode: "InvalidPartOrder"},
		{name: "duplicate", body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`, wantCode: "InvalidPartOrder"},
		{name: "part zero", body: `<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`, wantCode: "InvalidArgument"},
		{name: "part 10001", body: `<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`, wantCode: "InvalidArgument"},
		{name: "missing etag", body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`, wantCode: "InvalidPart"},
		{name: "no parts", body: `<CompleteMultipartUpload></CompleteMultipartUpload>`, wantCode: "MalformedXML"},
		{name: "non-numeric part", body: `<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`, wantCode: "MalformedXML"},
		{name: "wrong root", body: `<Complete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Complete>`, wantCode: "MalformedXML"},
		{name: "garbage", body: `<<<`, wantCode: "MalformedXML"},
		{name: "empty", body: ``, wantCode: "MalformedXML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parts, err := parseCompleteXML([]byte(tc.body))
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != len(tc.want) {
				t.Fatalf("parts = %+v, want %+v", parts, tc.want)
			}
			for i := range parts {
				p, w := parts[i], tc.want[i]
				if p.Number != w.Number || p.ETag != w.ETag || len(p.Checksums) != len(w.Checksums) {
					t.Errorf("part %d = %+v, want %+v", i, p, w)
				}
				for k, v := range w.Checksums {
					if p.Checksums[k] != v {
						t.Errorf("part %d checksum %s = %q, want %q", i, k, p.Checksums[k], v)
					}
				}
			}
		})
	}
}

func TestParseTaggingXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		limit    int
		wantCode string
		wantN    int
	}{
		{name: "two tags", body: `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></TagSet></Tagging>`, limit: 10, wantN: 2},
		{name: "empty tag set", body: `<Tagging><TagSet></TagSet></Tagging>`, limit: 10, wantN: 0},
		{name: "missing tag set", body: `<Tagging></Tagging>`, limit: 10, wantCode: "MalformedXML"},
		{name: "duplicate keys", body: `<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>`, limit: 10, wantCode: "InvalidTag"},
		{name: "too many for object", body: "<Tagging><TagSet>" + strings.Repeat("<Tag><Key>k</Key><Value>v</Value></Tag>", 11) + "</TagSet></Tagging>", limit: 10, wantCode: "InvalidTag"},
		{name: "wrong root", body: `<Tags><TagSet></TagSet></Tags>`, limit: 10, wantCode: "MalformedXML"},
		{name: "truncated", body: `<Tagging><TagSet><Tag><Key>a`, limit: 10, wantCode: "MalformedXML"},
		{name: "empty", body: ``, limit: 10, wantCode: "MalformedXML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tags, err := parseTaggingXML([]byte(tc.body), tc.limit)
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || len(tags) != tc.wantN {
				t.Fatalf("tags = %v, %v; want %d tags", tags, err, tc.wantN)
			}
		})
	}
}

func TestParseVersioningXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		want     objects.Versioning
		wantCode string
	}{
		{name: "enabled", body: `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`, want: objects.VersioningEnabled},
		{name: "suspended", body: `<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`, want: objects.VersioningSuspended},
		{name: "mfa disabled", body: `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`, want: objects.VersioningEnabled},
		{name: "mfa enabled", body: `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`, wantCode: "NotImplemented"},
		{name: "lower case", body: `<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>`, wantCode: "MalformedXML"},
		{name: "disabled", body: `<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>`, wantCode: "MalformedXML"},
		{name: "no status", body: `<VersioningConfiguration></VersioningConfiguration>`, wantCode: "MalformedXML"},
		{name: "wrong root", body: `<Versioning><Status>Enabled</Status></Versioning>`, wantCode: "MalformedXML"},
		{name: "empty", body: ``, wantCode: "MalformedXML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseVersioningXML([]byte(tc.body))
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseVersioningXML = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestResponseXMLShapes(t *testing.T) {
	t.Parallel()
	size := int64(3)
	tests := []struct {
		name string
		v    any
		want []string // substrings, in order
	}{
		{
			name: "versions and delete markers interleave",
			v: listVersionsResult{Name: "b", Entries: versionEntries{
				{Key: "a", VersionID: "2", IsLatest: true, deleteMarker: true},
				{Key: "a", VersionID: "1", ETag: `"e"`, Size: &size, StorageClass: "STANDARD"},
				{Key: "b", VersionID: "3", IsLatest: true, ETag: `"f"`, Size: new(int64)},
			}},
			want: []string{`<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
				`<DeleteMarker><Key>a</Key><VersionId>2</VersionId><IsLatest>true</IsLatest>`,
				`<Version><Key>a</Key><VersionId>1</VersionId><IsLatest>false</IsLatest>`, `<Size>3</Size>`,
				`<Version><Key>b</Key>`, `<Size>0</Size>`},
		},
		{
			name: "embedded checksums",
			v:    copyObjectResult{ETag: `"e"`, LastModified: s3Time(time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)), checksumXML: checksumXMLOf(map[string]string{"CRC32C": "x"})},
			want: []string{`<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`, `<LastModified>2024-01-02T03:04:05.006Z</LastModified>`, `<ChecksumCRC32C>x</ChecksumCRC32C>`},
		},
		{
			name: "empty tag set still has TagSet",
			v:    taggingResponse{},
			want: []string{`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>`},
		},
		{
			name: "never versioned bucket",
			v:    versioningResponse{},
			want: []string{`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></VersioningConfiguration>`},
		},
		{
			name: "location",
			v:    locationConstraint{Region: "eu-west-1"},
			want: []string{`<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := xml.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, w := range tc.want {
				i := strings.Index(s, w)
				if i < 0 {
					t.Fatalf("missing %q in\n%s", w, b)
				}
				s = s[i+len(w):]
			}
		})
	}
}
