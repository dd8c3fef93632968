package lifecycle

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// t0 is when the test objects are first written: 10:00 UTC, so "n days" are due
// at midnight UTC n+1 days later.
var t0 = time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// at is t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// obj is a version: "v3" (id), written at mod.
type vopt func(*objects.ObjectInfo)

func size(n int64) vopt  { return func(o *objects.ObjectInfo) { o.Size = n } }
func tags(s string) vopt { return func(o *objects.ObjectInfo) { o.Tags = s } }
func class(s string) vopt {
	return func(o *objects.ObjectInfo) { o.Meta = map[string]string{"X-Amz-Storage-Class": s} }
}
func marker() vopt      { return func(o *objects.ObjectInfo) { o.DeleteMarker = true; o.ETag = "" } }
func unversioned() vopt { return func(o *objects.ObjectInfo) { o.VersionID = "" } }
func ver(id string, mod time.Time, opts ...vopt) objects.ObjectInfo {
	o := objects.ObjectInfo{VersionID: id, ModTime: mod, Size: 10, ETag: "etag-" + id}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// history builds an object's versions, newest first, for key.
func history(key string, vs ...objects.ObjectInfo) []objects.ObjectInfo {
	for i := range vs {
		vs[i].Key = key
		vs[i].IsLatest = i == 0
	}
	return vs
}

func mustParse(t *testing.T, rules string) *Configuration {
	t.Helper()
	c, err := Parse([]byte("<LifecycleConfiguration>"+rules+"</LifecycleConfiguration>"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// describe renders actions as "type:version[:class]@rule", sorted, for comparison.
func describe(as []Action) []string {
	var out []string
	for _, a := range as {
		s := a.Type.String() + ":" + a.VersionID
		if a.Class != "" {
			s += ":" + a.Class
		}
		out = append(out, s+"@"+a.RuleID)
	}
	slices.Sort(out)
	return out
}

func TestEvaluate(t *testing.T) {
	const (
		expire3      = `<Rule><ID>e3</ID><Filter/><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>`
		expireDate   = `<Rule><ID>date</ID><Filter/><Status>Enabled</Status><Expiration><Date>2025-04-01T00:00:00Z</Date></Expiration></Rule>`
		logsOnly     = `<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`
		legacyLogs   = `<Rule><ID>legacy</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`
		tagged       = `<Rule><ID>tag</ID><Filter><Tag><Key>class</Key><Value>temp</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`
		andFilter    = `<Rule><ID>and</ID><Filter><And><Prefix>tmp/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2 3</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`
		sized        = `<Rule><ID>size</ID><Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`
		disabled     = `<Rule><ID>off</ID><Filter/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>`
		noncurrent1  = `<Rule><ID>nc</ID><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`
		keepNewest2  = `<Rule><ID>keep2</ID><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>`
		markers      = `<Rule><ID>dm</ID><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`
		markersOff   = `<Rule><ID>dm-off</ID><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>`
		transition   = `<Rule><ID>cold</ID><Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>WARM</StorageClass></Transition><Transition><Days>60</Days><StorageClass>COLD</StorageClass></Transition><Expiration><Days>90</Days></Expiration></Rule>`
		ncTransition = `<Rule><ID>nct</ID><Filter/><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>5</NoncurrentDays><StorageClass>COLD</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>10</NoncurrentDays></NoncurrentVersionExpiration></Rule>`
		expire10     = `<Rule><ID>e10</ID><Filter/><Status>Enabled</Status><Expiration><Days>10</Days></Expiration></Rule>`
	)
	tests := []struct {
		name     string
		rules    string
		versions []objects.ObjectInfo
		now      time.Time
		want     []string
	}{
		// Current versions, unversioned bucket: Days round up to midnight UTC.
		{"unversioned: not yet", expire3, history("a", ver("", t0, unversioned())), time.Date(2025, 3, 13, 23, 59, 59, 0, time.UTC), nil},
		{"unversioned: at midnight", expire3, history("a", ver("", t0, unversioned())), time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC), []string{"expire_current:@e3"}},
		{"date: before", expireDate, history("a", ver("", t0)), time.Date(2025, 3, 31, 23, 0, 0, 0, time.UTC), nil},
		{"date: on the day", expireDate, history("a", ver("", t0)), time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), []string{"expire_current:@date"}},
		{"date: objects written after the date expire too", expireDate, history("a", ver("", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC))), time.Date(2025, 5, 1, 1, 0, 0, 0, time.UTC), []string{"expire_current:@date"}},
		{"disabled rule", disabled, history("a", ver("", t0)), at(day(100)), nil},

		// Filters.
		{"prefix: match", logsOnly, history("logs/x", ver("", t0)), at(day(2)), []string{"expire_current:@logs"}},
		{"prefix: other key", logsOnly, history("data/x", ver("", t0)), at(day(2)), nil},
		{"legacy prefix", legacyLogs, history("logs/x", ver("", t0)), at(day(2)), []string{"expire_current:@legacy"}},
		{"tag: match", tagged, history("a", ver("", t0, tags("x=1&class=temp"))), at(day(2)), []string{"expire_current:@tag"}},
		{"tag: other value", tagged, history("a", ver("", t0, tags("class=keep"))), at(day(2)), nil},
		{"tag: none", tagged, history("a", ver("", t0)), at(day(2)), nil},
		{"and: all match", andFilter, history("tmp/x", ver("", t0, tags("b=2+3&a=1"))), at(day(2)), []string{"expire_current:@and"}},
		{"and: one tag missing", andFilter, history("tmp/x", ver("", t0, tags("a=1"))), at(day(2)), nil},
		{"and: prefix differs", andFilter, history("x/tmp", ver("", t0, tags("a=1&b=2+3"))), at(day(2)), nil},
		{"size: at lower bound", sized, history("a", ver("", t0, size(100))), at(day(2)), nil},
		{"size: inside", sized, history("a", ver("", t0, size(101))), at(day(2)), []string{"expire_current:@size"}},
		{"size: at upper bound", sized, history("a", ver("", t0, size(1000))), at(day(2)), nil},

		// Versioned buckets: expiring the current version adds a marker (ExpireCurrent).
		{"versioned: current expires", expire3, history("a", ver("v2", at(day(1))), ver("v1", t0)), at(day(5)), []string{"expire_current:v2@e3"}},
		{"versioned: marker on top is not expired again", expire3, history("a", ver("dm", at(day(1)), marker()), ver("v1", t0)), at(day(3)), nil},

		// Noncurrent versions count from when they became noncurrent.
		{"noncurrent: by successor time", noncurrent1,
			history("a", ver("v3", at(day(2))), ver("v2", at(day(1))), ver("v1", t0)),
			time.Date(2025, 3, 13, 0, 0, 0, 0, time.UTC), // v1 noncurrent since t0+1d → due 3/13; v2 since t0+2d → 3/14
			[]string{"delete_noncurrent:v1@nc"}},
		{"noncurrent: both due", noncurrent1,
			history("a", ver("v3", at(day(2))), ver("v2", at(day(1))), ver("v1", t0)),
			time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC),
			[]string{"delete_noncurrent:v1@nc", "delete_noncurrent:v2@nc"}},
		{"noncurrent: old version, recent successor", noncurrent1,
			history("a", ver("v2", at(day(40))), ver("v1", t0)), at(day(40)), nil},
		{"noncurrent: markers are versions too", noncurrent1,
			history("a", ver("v2", at(day(2))), ver("dm", at(day(1)), marker()), ver("v1", t0)), at(day(4)),
			[]string{"delete_noncurrent:dm@nc", "delete_noncurrent:v1@nc"}},
		{"NewerNoncurrentVersions keeps the newest", keepNewest2,
			history("a", ver("v5", at(day(4))), ver("v4", at(day(3))), ver("v3", at(day(2))), ver("v2", at(day(1))), ver("v1", t0)), at(day(30)),
			[]string{"delete_noncurrent:v1@keep2", "delete_noncurrent:v2@keep2"}},
		{"NewerNoncurrentVersions: not old enough", keepNewest2,
			history("a", ver("v5", at(day(30))), ver("v4", at(day(30))), ver("v3", at(day(30))), ver("v2", at(day(30))), ver("v1", t0)), at(day(30)), nil},

		// Delete markers.
		{"expired marker removed", markers, history("a", ver("dm", t0, marker())), t0, []string{"delete_expired_marker:dm@dm"}},
		{"marker with noncurrent versions stays", markers, history("a", ver("dm", at(day(1)), marker()), ver("v1", t0)), at(day(9)), nil},
		{"ExpiredObjectDeleteMarker false", markersOff, history("a", ver("dm", t0, marker())), at(day(9)), nil},
		{"expiration days clean markers once old", expire3, history("a", ver("dm", t0, marker())), at(day(3)), nil},
		{"expiration days clean markers once old: due", expire3, history("a", ver("dm", t0, marker())), time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC), []string{"delete_expired_marker:dm@e3"}},
		{"expiration date does not clean markers", expireDate, history("a", ver("dm", t0, marker())), at(day(100)), nil},
		{"tag filter never matches a marker", tagged, history("a", ver("dm", t0, marker())), at(day(100)), nil},
		{"marker then noncurrent cleanup in one rule set", noncurrent1 + markers,
			history("a", ver("dm", at(day(1)), marker()), ver("v1", t0)), at(day(3)), []string{"delete_noncurrent:v1@nc"}},

		// Transitions (the Worker runs them with TransitionObject).
		{"transition: not yet", transition, history("a", ver("", t0)), at(day(30)), nil},
		{"transition: first tier", transition, history("a", ver("", t0)), at(day(31)), []string{"transition_current::WARM@cold"}},
		{"transition: furthest tier", transition, history("a", ver("", t0)), at(day(61)), []string{"transition_current::COLD@cold"}},
		{"transition: already there", transition, history("a", ver("", t0, class("COLD"))), at(day(61)), nil},
		{"transition: expiration wins", transition, history("a", ver("", t0)), at(day(91)), []string{"expire_current:@cold"}},
		{"noncurrent transition", ncTransition, history("a", ver("v2", at(day(1))), ver("v1", t0)), at(day(7)), []string{"transition_noncurrent:v1:COLD@nct"}},
		{"noncurrent transition then expiry", ncTransition, history("a", ver("v2", at(day(1))), ver("v1", t0)), at(day(12)), []string{"delete_noncurrent:v1@nct"}},

		// Several rules: the first expiry wins.
		{"earliest expiration reported", expire10 + expire3, history("a", ver("", t0)), at(day(20)), []string{"expire_current:@e3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.rules)
			got := describe(c.Evaluate(tc.versions, tc.now))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Evaluate at %s = %v, want %v", tc.now.Format(time.RFC3339), got, tc.want)
			}
		})
	}
}

func TestEvaluateExpireCurrentCarriesETag(t *testing.T) {
	c := mustParse(t, `<Rule><ID>r</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)
	as := c.Evaluate(history("k", ver("v1", t0)), at(day(5)))
	if len(as) != 1 || as[0].ETag != "etag-v1" || !as[0].Due.Equal(time.Date(2025, 3, 12, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("actions = %+v", as)
	}
}

func TestEvaluateUpload(t *testing.T) {
	c := mustParse(t, `<Rule><ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`)
	if !c.HasUploadRules() {
		t.Fatal("HasUploadRules = false")
	}
	tests := []struct {
		key  string
		now  time.Time
		want bool
	}{
		{"up/a", time.Date(2025, 3, 12, 23, 59, 0, 0, time.UTC), false},
		{"up/a", time.Date(2025, 3, 13, 0, 0, 0, 0, time.UTC), true},
		{"other/a", at(day(30)), false},
	}
	for _, tc := range tests {
		a, ok := c.EvaluateUpload(tc.key, t0, tc.now)
		if ok != tc.want || (ok && (a.Type != AbortUpload || a.RuleID != "mpu")) {
			t.Errorf("EvaluateUpload(%s, %s) = %+v, %v; want %v", tc.key, tc.now, a, ok, tc.want)
		}
	}
}

func TestExpirationHeader(t *testing.T) {
	c := mustParse(t, `<Rule><ID>picture deletion/rule</ID><Filter><Prefix>pics/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>`+
		`<Rule><ID>later</ID><Filter/><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>`)
	tests := []struct {
		name string
		obj  objects.ObjectInfo
		want string
	}{
		{"earliest rule", history("pics/a.jpg", ver("", t0))[0], `expiry-date="Fri, 14 Mar 2025 00:00:00 GMT", rule-id="picture+deletion%2Frule"`},
		{"other rule", history("doc.txt", ver("", t0))[0], `expiry-date="Thu, 10 Apr 2025 00:00:00 GMT", rule-id="later"`},
		{"delete marker", history("doc.txt", ver("dm", t0, marker()))[0], ""},
	}
	for _, tc := range tests {
		if got := c.ExpirationHeader(tc.obj); got != tc.want {
			t.Errorf("%s: ExpirationHeader = %s, want %s", tc.name, got, tc.want)
		}
	}
	none := mustParse(t, `<Rule><ID>x</ID><Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`)
	if got := none.ExpirationHeader(history("a", ver("", t0))[0]); got != "" {
		t.Errorf("no expiration rule: header %q", got)
	}
}

func ExampleConfiguration_ExpirationHeader() {
	cfg, err := Parse([]byte(`<LifecycleConfiguration>
  <Rule>
    <ID>logs</ID>
    <Filter><Prefix>logs/</Prefix></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>30</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`), Options{})
	if err != nil {
		panic(err)
	}
	obj := objects.ObjectInfo{Key: "logs/app.log", IsLatest: true, ModTime: time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)}
	fmt.Println(cfg.ExpirationHeader(obj))
	for _, a := range cfg.Evaluate([]objects.ObjectInfo{obj}, time.Date(2025, 2, 15, 0, 0, 0, 0, time.UTC)) {
		fmt.Println(a.Type, a.RuleID, a.Due.Format(time.DateOnly))
	}
	// Output:
	// expiry-date="Sat, 15 Feb 2025 00:00:00 GMT", rule-id="logs"
	// expire_current logs 2025-02-15
}
