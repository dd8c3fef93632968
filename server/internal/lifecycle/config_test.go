package lifecycle

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The examples of the S3 User Guide ("Examples of S3 Lifecycle configurations"),
// with GLACIER, STANDARD_IA … standing for tier names.
var validConfigs = []struct {
	name string
	xml  string
}{
	{"transition and expiration by prefix", `<LifecycleConfiguration>
  <Rule>
    <ID>Transition and Expiration Rule</ID>
    <Filter><Prefix>tax/</Prefix></Filter>
    <Status>Enabled</Status>
    <Transition><Days>365</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Expiration><Days>3650</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`},
	{"archive all objects the day they are created", `<LifecycleConfiguration>
  <Rule>
    <ID>Archive all object same-day upon creation</ID>
    <Filter><Prefix></Prefix></Filter>
    <Status>Enabled</Status>
    <Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition>
  </Rule>
</LifecycleConfiguration>`},
	{"disabled rule", `<LifecycleConfiguration>
  <Rule>
    <ID>example-id</ID>
    <Filter><Prefix>logs/</Prefix></Filter>
    <Status>Disabled</Status>
    <Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition>
  </Rule>
</LifecycleConfiguration>`},
	{"tiering down storage classes", `<LifecycleConfiguration>
  <Rule>
    <ID>example-id</ID>
    <Filter><Prefix>logs/</Prefix></Filter>
    <Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Expiration><Days>365</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`},
	{"several rules: prefix, tag, and", `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule>
    <ID>1</ID>
    <Filter><Prefix>classA/</Prefix></Filter>
    <Status>Enabled</Status>
    <Transition><Days>365</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Expiration><Days>3650</Days></Expiration>
  </Rule>
  <Rule>
    <ID>2</ID>
    <Filter><Tag><Key>key1</Key><Value>value1</Value></Tag></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>3650</Days></Expiration>
  </Rule>
  <Rule>
    <ID>3</ID>
    <Filter>
      <And>
        <Prefix>key/</Prefix>
        <Tag><Key>key1</Key><Value>value1</Value></Tag>
        <Tag><Key>key2</Key><Value>value2</Value></Tag>
      </And>
    </Filter>
    <Status>Enabled</Status>
    <Expiration><Days>100</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`},
	{"versioned bucket: noncurrent transition and expiration", `<LifecycleConfiguration>
  <Rule>
    <ID>sample-rule</ID>
    <Filter><Prefix></Prefix></Filter>
    <Status>Enabled</Status>
    <NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionTransition><NoncurrentDays>90</NoncurrentDays><StorageClass>GLACIER_IR</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NewerNoncurrentVersions>5</NewerNoncurrentVersions><NoncurrentDays>365</NoncurrentDays></NoncurrentVersionExpiration>
  </Rule>
</LifecycleConfiguration>`},
	{"expired object delete markers", `<LifecycleConfiguration>
  <Rule>
    <ID>Rule 1</ID>
    <Filter><Prefix>logs/</Prefix></Filter>
    <Status>Enabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
    <NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration>
  </Rule>
</LifecycleConfiguration>`},
	{"abort incomplete multipart uploads", `<LifecycleConfiguration>
  <Rule>
    <ID>sample-rule</ID>
    <Filter><Prefix>SomeKeyPrefix/</Prefix></Filter>
    <Status>Enabled</Status>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
  </Rule>
</LifecycleConfiguration>`},
	{"size filters", `<LifecycleConfiguration>
  <Rule>
    <ID>Transition with a prefix and based on size</ID>
    <Filter>
      <And>
        <Prefix>tax/</Prefix>
        <ObjectSizeGreaterThan>500</ObjectSizeGreaterThan>
        <ObjectSizeLessThan>64000</ObjectSizeLessThan>
      </And>
    </Filter>
    <Status>Enabled</Status>
    <Transition><Days>365</Days><StorageClass>GLACIER</StorageClass></Transition>
  </Rule>
  <Rule>
    <ID>big</ID>
    <Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter>
    <Status>Enabled</Status>
    <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>
  </Rule>
</LifecycleConfiguration>`},
	{"legacy top-level prefix", `<LifecycleConfiguration><Rule><ID>old</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`},
	{"empty filter selects everything", `<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`},
	{"date without time", `<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Date>2031-06-01</Date></Expiration></Rule></LifecycleConfiguration>`},
	{"date-based transition before date-based expiration", `<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Transition><Date>2030-01-01T00:00:00Z</Date><StorageClass>COLD</StorageClass></Transition><Expiration><Date>2031-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>`},
}

func TestParseValid(t *testing.T) {
	for _, tc := range validConfigs {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.xml), Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// The stored form parses to the same thing.
			again, err := Parse(c.Encode(), Options{})
			if err != nil {
				t.Fatalf("re-parse of %s: %v", c.Encode(), err)
			}
			if string(again.Encode()) != string(c.Encode()) {
				t.Fatalf("encode is not stable:\n%s\n%s", c.Encode(), again.Encode())
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	rule := func(body string) string {
		return `<LifecycleConfiguration><Rule><ID>r</ID>` + body + `</Rule></LifecycleConfiguration>`
	}
	exp1 := `<Expiration><Days>1</Days></Expiration>`
	tests := []struct {
		name string
		xml  string
		code string
		msg  string // part of the message
	}{
		{"empty body", ``, CodeMalformedXML, "empty"},
		{"not xml", `lifecycle please`, CodeMalformedXML, ""},
		{"wrong root", `<Lifecycle><Rule/></Lifecycle>`, CodeMalformedXML, ""},
		{"no rules", `<LifecycleConfiguration></LifecycleConfiguration>`, CodeMalformedXML, "at least one Rule"},
		{"unknown element", rule(`<Filter/><Status>Enabled</Status>` + exp1 + `<Colour>red</Colour>`), CodeMalformedXML, "<Colour>"},
		{"unknown element in filter", rule(`<Filter><Suffix>x</Suffix></Filter><Status>Enabled</Status>` + exp1), CodeMalformedXML, "<Suffix>"},
		{"no status", rule(`<Filter/>` + exp1), CodeMalformedXML, "Status"},
		{"bad status", rule(`<Filter/><Status>enabled</Status>` + exp1), CodeMalformedXML, "Enabled or Disabled"},
		{"neither filter nor prefix", rule(`<Status>Enabled</Status>` + exp1), CodeMalformedXML, "Filter"},
		{"filter and prefix", rule(`<Prefix>a</Prefix><Filter/><Status>Enabled</Status>` + exp1), CodeMalformedXML, "both Filter and Prefix"},
		{"two filter predicates", rule(`<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>` + exp1), CodeMalformedXML, "exactly one"},
		{"empty and", rule(`<Filter><And></And></Filter><Status>Enabled</Status>` + exp1), CodeMalformedXML, "And"},
		{"long id", `<LifecycleConfiguration><Rule><ID>` + strings.Repeat("x", 256) + `</ID><Filter/><Status>Enabled</Status>` + exp1 + `</Rule></LifecycleConfiguration>`, CodeInvalidArgument, "255"},
		{"duplicate id", `<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status>` + exp1 + `</Rule><Rule><ID>a</ID><Filter/><Status>Enabled</Status>` + exp1 + `</Rule></LifecycleConfiguration>`, CodeInvalidArgument, "unique"},
		{"no action", rule(`<Filter/><Status>Enabled</Status>`), CodeInvalidRequest, "At least one action"},
		{"empty expiration", rule(`<Filter/><Status>Enabled</Status><Expiration></Expiration>`), CodeMalformedXML, "Days, Date or ExpiredObjectDeleteMarker"},
		{"zero days", rule(`<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>`), CodeInvalidArgument, "'Days' for Expiration action must be a positive integer"},
		{"negative days", rule(`<Filter/><Status>Enabled</Status><Expiration><Days>-3</Days></Expiration>`), CodeInvalidArgument, "positive"},
		{"days not a number", rule(`<Filter/><Status>Enabled</Status><Expiration><Days>ten</Days></Expiration>`), CodeMalformedXML, ""},
		{"days and date", rule(`<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`), CodeMalformedXML, "not both"},
		{"date not midnight", rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>`), CodeInvalidArgument, "midnight GMT"},
		{"date not a date", rule(`<Filter/><Status>Enabled</Status><Expiration><Date>soon</Date></Expiration>`), CodeMalformedXML, ""},
		{"delete marker with days", rule(`<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), CodeInvalidArgument, "cannot be specified with Days or Date"},
		{"delete marker with tag filter", rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`), CodeInvalidArgument, "tag or object size"},
		{"noncurrent days missing", rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), CodeInvalidArgument, "'NoncurrentDays'"},
		{"newer noncurrent too many", rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), CodeInvalidArgument, "'NewerNoncurrentVersions'"},
		{"abort days zero", rule(`<Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), CodeInvalidArgument, "'DaysAfterInitiation'"},
		{"abort with tags", rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), CodeInvalidArgument, "AbortIncompleteMultipartUpload cannot be specified"},
		{"empty tag key", rule(`<Filter><Tag><Key></Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>` + exp1), CodeInvalidArgument, "TagKey"},
		{"duplicate tag keys", rule(`<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status>` + exp1), CodeInvalidArgument, "Duplicate Tag Keys"},
		{"size bounds crossed", rule(`<Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>` + exp1), CodeInvalidArgument, "must be greater than"},
		{"negative size", rule(`<Filter><ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>` + exp1), CodeInvalidArgument, "non-negative"},
		{"long prefix", rule(`<Filter><Prefix>` + strings.Repeat("p", 1025) + `</Prefix></Filter><Status>Enabled</Status>` + exp1), CodeInvalidArgument, "1024"},
		{"transition without class", rule(`<Filter/><Status>Enabled</Status><Transition><Days>1</Days></Transition>`), CodeMalformedXML, "StorageClass"},
		{"transition without time", rule(`<Filter/><Status>Enabled</Status><Transition><StorageClass>COLD</StorageClass></Transition>`), CodeMalformedXML, "Days or Date"},
		{"transition negative days", rule(`<Filter/><Status>Enabled</Status><Transition><Days>-1</Days><StorageClass>COLD</StorageClass></Transition>`), CodeInvalidArgument, "nonnegative"},
		{"transition to STANDARD", rule(`<Filter/><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition>`), CodeInvalidStorageClass, "STANDARD"},
		{"transition to unknown tier", rule(`<Filter/><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>NOPE</StorageClass></Transition>`), CodeInvalidStorageClass, "no tier named 'NOPE'"},
		{"same class twice", rule(`<Filter/><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>COLD</StorageClass></Transition><Transition><Days>2</Days><StorageClass>COLD</StorageClass></Transition>`), CodeInvalidArgument, "must be different"},
		{"expiration not after transition", rule(`<Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>COLD</StorageClass></Transition><Expiration><Days>30</Days></Expiration>`), CodeInvalidArgument, "must be greater than 'Days' in the Transition"},
		{"mixed date and days", rule(`<Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>COLD</StorageClass></Transition><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>`), CodeInvalidRequest, "mixed 'Date' and 'Days'"},
		{"noncurrent expiration not after transition", rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>COLD</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>10</NoncurrentDays></NoncurrentVersionExpiration>`), CodeInvalidArgument, "'NoncurrentDays' in the NoncurrentVersionExpiration"},
	}
	tiers := Options{Tier: func(name string) bool { return name == "COLD" }}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.xml), tiers)
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("Parse = %v, want a *Error %s", err, tc.code)
			}
			if le.Code != tc.code || !strings.Contains(le.Message, tc.msg) {
				t.Fatalf("Parse = %s: %q, want %s containing %q", le.Code, le.Message, tc.code, tc.msg)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	c, err := Parse([]byte(`<LifecycleConfiguration><Rule><ID>a b</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01</Date></Expiration></Rule></LifecycleConfiguration>`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>a b</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>`
	if got := string(c.Encode()); got != want {
		t.Fatalf("Encode:\n got %s\nwant %s", got, want)
	}
}

func TestSetMissingIDs(t *testing.T) {
	c, err := Parse([]byte(`<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>mine</ID><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.SetMissingIDs()
	if c.Rules[0].ID == "" || c.Rules[1].ID != "mine" {
		t.Fatalf("IDs = %q, %q", c.Rules[0].ID, c.Rules[1].ID)
	}
	if _, err := Parse(c.Encode(), Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestDueAfter(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		at   string
		days int
		want string
	}{
		// The S3 User Guide's example: created 1/15/2014 10:30 UTC, 3 days → 1/19/2014 00:00 UTC.
		{"2014-01-15T10:30:00Z", 3, "2014-01-19T00:00:00Z"},
		{"2014-01-15T00:00:00Z", 1, "2014-01-17T00:00:00Z"},
		{"2014-01-15T23:59:59Z", 0, "2014-01-16T00:00:00Z"},
		{"2014-12-31T12:00:00Z", 1, "2015-01-02T00:00:00Z"},
		{"2014-01-15T10:30:00+05:00", 1, "2014-01-17T00:00:00Z"}, // 05:30 UTC
	}
	for _, tc := range tests {
		if got := DueAfter(utc(tc.at), tc.days); !got.Equal(utc(tc.want)) {
			t.Errorf("DueAfter(%s, %d) = %s, want %s", tc.at, tc.days, got, tc.want)
		}
	}
}
