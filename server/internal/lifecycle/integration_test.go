package lifecycle_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/servertest"
)

// Time-travel tests: a real in-process server whose clock the test moves; the
// scanner runs every few milliseconds, and the lifecycle worker on it applies
// the rules when (and only when) the clock says they are due.

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// t0 is when the test objects are written: 10:00 UTC, so "1 day" is due at
// midnight UTC two days later.
var t0 = time.Date(2030, 1, 10, 10, 0, 0, 0, time.UTC)

func date(day, hour int) time.Time { return time.Date(2030, 1, day, hour, 0, 0, 0, time.UTC) }

type env struct {
	t     *testing.T
	srv   *servertest.Server
	s3    *s3.Client
	clock *clock
	ctx   context.Context
}

func start(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("time-travel integration test; skipped with -short")
	}
	c := &clock{t: t0}
	srv := servertest.New(t, servertest.Options{Drives: 4, Now: c.Now, ScanInterval: 10 * time.Millisecond, ScanRate: 1e6})
	return &env{t: t, srv: srv, s3: clockClient(srv, c), clock: c, ctx: context.Background()}
}

// clockClient is an S3 client of srv whose requests are signed at the test
// clock's time: the server checks request times against its own clock.
func clockClient(srv *servertest.Server, c *clock) *s3.Client {
	creds := aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	return srv.Client(func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r.Header.Del("Authorization")
			r.Header.Del("X-Amz-Date")
			err := v4.NewSigner().SignHTTP(r.Context(), creds, r, r.Header.Get("X-Amz-Content-Sha256"), "s3", srv.Region, c.Now())
			if err != nil {
				return nil, err
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (e *env) bucket(name string, versioned bool) {
	e.t.Helper()
	if _, err := e.s3.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		e.t.Fatal(err)
	}
	if versioned {
		if _, err := e.s3.PutBucketVersioning(e.ctx, &s3.PutBucketVersioningInput{
			Bucket: &name, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) put(bucket, key string, size int, tagging string) string {
	e.t.Helper()
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(make([]byte, size))}
	if tagging != "" {
		in.Tagging = &tagging
	}
	out, err := e.s3.PutObject(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

func (e *env) lifecycle(bucket string, rules ...types.LifecycleRule) {
	e.t.Helper()
	if _, err := e.s3.PutBucketLifecycleConfiguration(e.ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &bucket, LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules},
	}); err != nil {
		e.t.Fatal(err)
	}
}

// versions lists a bucket as "key:versionid" for versions and "key:versionid:DM"
// for delete markers, sorted.
func (e *env) versions(bucket string) []string {
	e.t.Helper()
	out, err := e.s3.ListObjectVersions(e.ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
	if err != nil {
		e.t.Fatal(err)
	}
	var vs []string
	for _, v := range out.Versions {
		vs = append(vs, aws.ToString(v.Key)+":"+aws.ToString(v.VersionId))
	}
	for _, m := range out.DeleteMarkers {
		vs = append(vs, aws.ToString(m.Key)+":"+aws.ToString(m.VersionId)+":DM")
	}
	slices.Sort(vs)
	return vs
}

// cycles waits for n complete scanner cycles: what is due has been done.
func (e *env) cycles(n int64) {
	e.t.Helper()
	l := e.srv.Server.Objects()
	start := l.HealStats().ScanCycles
	deadline := time.Now().Add(30 * time.Second)
	for l.HealStats().ScanCycles < start+n {
		if time.Now().After(deadline) {
			e.t.Fatalf("the scanner did not complete %d cycles in 30 s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// at moves the clock and lets the scanner run two full cycles (the first may
// have started before the clock moved).
func (e *env) at(t time.Time) {
	e.t.Helper()
	e.clock.Set(t)
	e.cycles(2)
}

func (e *env) expect(bucket string, want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.versions(bucket); !slices.Equal(got, want) {
		e.t.Fatalf("at %s, %s holds\n  %v\nwant\n  %v", e.clock.Now().Format(time.RFC3339), bucket, got, want)
	}
}

func rule(id string, f func(*types.LifecycleRule)) types.LifecycleRule {
	r := types.LifecycleRule{ID: aws.String(id), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")}}
	f(&r)
	return r
}

func TestTimeTravelVersioned(t *testing.T) {
	e := start(t)
	e.bucket("ver", true)
	e.lifecycle("ver",
		rule("logs", func(r *types.LifecycleRule) {
			r.Filter = &types.LifecycleRuleFilter{Prefix: aws.String("logs/")}
			r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(1)}
		}),
		rule("doc-keep-1", func(r *types.LifecycleRule) {
			r.Filter = &types.LifecycleRuleFilter{Prefix: aws.String("doc")}
			r.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1), NewerNoncurrentVersions: aws.Int32(1)}
		}),
		rule("logs-noncurrent", func(r *types.LifecycleRule) {
			r.Filter = &types.LifecycleRuleFilter{Prefix: aws.String("logs/")}
			r.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}
		}),
		rule("markers", func(r *types.LifecycleRule) {
			r.Expiration = &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}
		}),
	)
	logV1 := e.put("ver", "logs/a", 10, "")
	docV1 := e.put("ver", "doc", 10, "")
	e.clock.Set(t0.Add(time.Hour))
	docV2 := e.put("ver", "doc", 20, "")
	e.clock.Set(t0.Add(2 * time.Hour))
	docV3 := e.put("ver", "doc", 30, "")

	// GET/HEAD say when logs/a expires; doc has no expiring rule.
	head, err := e.s3.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String("ver"), Key: aws.String("logs/a")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(head.Expiration), `expiry-date="Sat, 12 Jan 2030 00:00:00 GMT", rule-id="logs"`; got != want {
		t.Fatalf("x-amz-expiration = %q, want %q", got, want)
	}
	if head, _ := e.s3.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc")}); head == nil || head.Expiration != nil {
		t.Fatalf("doc: x-amz-expiration %v", head)
	}

	all := []string{"logs/a:" + logV1, "doc:" + docV1, "doc:" + docV2, "doc:" + docV3}
	e.at(date(11, 23)) // nothing is due before midnight
	e.expect("ver", all...)

	// Midnight: logs/a gets a delete marker; doc v1 (noncurrent since 11:00 on
	// the 10th, beyond the newest noncurrent version) is deleted, v2 is kept.
	e.at(date(12, 0).Add(time.Minute))
	got := e.versions("ver")
	var marker string
	for _, v := range got {
		if k, ok := strings.CutSuffix(v, ":DM"); ok && strings.HasPrefix(k, "logs/a:") {
			marker = strings.TrimPrefix(k, "logs/a:")
		}
	}
	if marker == "" {
		t.Fatalf("logs/a has no delete marker: %v", got)
	}
	e.expect("ver", "logs/a:"+logV1, "logs/a:"+marker+":DM", "doc:"+docV2, "doc:"+docV3)

	// A day after the marker was written, logs/a v1 (noncurrent since then) is
	// deleted; the marker, now alone, is removed the same or the next cycle.
	e.at(date(13, 0).Add(-time.Minute))
	e.expect("ver", "logs/a:"+logV1, "logs/a:"+marker+":DM", "doc:"+docV2, "doc:"+docV3)
	e.at(date(14, 0).Add(time.Minute))
	e.cycles(2)
	e.expect("ver", "doc:"+docV2, "doc:"+docV3)

	st := e.srv.Server.Lifecycle().Stats()
	if st.Actions[lifecycle.ExpireCurrent] != 1 || st.Actions[lifecycle.DeleteNoncurrent] != 2 || st.Actions[lifecycle.DeleteExpiredMarker] != 1 || st.Errors != 0 {
		t.Fatalf("worker stats = %+v", st)
	}
}

func TestTimeTravelUnversioned(t *testing.T) {
	e := start(t)
	e.bucket("plain", false)
	e.lifecycle("plain",
		rule("temp-tag", func(r *types.LifecycleRule) {
			r.Filter = &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("class"), Value: aws.String("temp")}}
			r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(1)}
		}),
		rule("big", func(r *types.LifecycleRule) {
			r.Filter = &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
				Prefix: aws.String("data/"), ObjectSizeGreaterThan: aws.Int64(1000),
			}}
			r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(3)}
		}),
		rule("uploads", func(r *types.LifecycleRule) {
			r.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}
		}),
	)
	e.put("plain", "tmp", 10, "class=temp")
	e.put("plain", "keep", 10, "class=keep")
	e.put("plain", "data/big", 2000, "")
	e.put("plain", "data/small", 1000, "")
	up, err := e.s3.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("plain"), Key: aws.String("up/x")})
	if err != nil {
		t.Fatal(err)
	}
	uploads := func() int {
		out, err := e.s3.ListMultipartUploads(e.ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("plain")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}

	e.at(date(11, 23))
	e.expect("plain", "tmp:null", "keep:null", "data/big:null", "data/small:null")
	if uploads() != 1 {
		t.Fatal("upload aborted early")
	}

	// Unversioned: expiring removes the object itself (no marker).
	e.at(date(12, 1))
	e.expect("plain", "keep:null", "data/big:null", "data/small:null")
	if n := uploads(); n != 0 {
		t.Fatalf("%d uploads left after DaysAfterInitiation", n)
	}
	if _, err := e.s3.UploadPart(e.ctx, &s3.UploadPartInput{Bucket: aws.String("plain"), Key: aws.String("up/x"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")}); !isCode(err, "NoSuchUpload") {
		t.Fatalf("UploadPart to an aborted upload: %v", err)
	}

	e.at(date(14, 1)) // data/big (3 days) is due at 00:00 on the 14th; data/small is too small
	e.expect("plain", "keep:null", "data/small:null")
	st := e.srv.Server.Lifecycle().Stats()
	if st.Actions[lifecycle.ExpireCurrent] != 2 || st.Actions[lifecycle.AbortUpload] != 1 || st.Errors != 0 {
		t.Fatalf("worker stats = %+v", st)
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// TestLifecycleAPI: PUT validation errors as S3 sends them, GET of what was
// stored, DELETE, and 404 NoSuchLifecycleConfiguration.
func TestLifecycleAPI(t *testing.T) {
	e := start(t)
	e.bucket("api", false)
	_, err := e.s3.GetBucketLifecycleConfiguration(e.ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("api")})
	if !isCode(err, "NoSuchLifecycleConfiguration") {
		t.Fatalf("GET without a configuration: %v", err)
	}
	bad := []struct {
		rule types.LifecycleRule
		code string
	}{
		{rule("zero", func(r *types.LifecycleRule) { r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(0)} }), "InvalidArgument"},
		{rule("no-tier", func(r *types.LifecycleRule) {
			r.Transitions = []types.Transition{{Days: aws.Int32(30), StorageClass: "GLACIER"}}
		}), "InvalidStorageClass"},
		{rule("mixed", func(r *types.LifecycleRule) {
			r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(1), ExpiredObjectDeleteMarker: aws.Bool(true)}
		}), "InvalidArgument"},
	}
	for _, b := range bad {
		_, err := e.s3.PutBucketLifecycleConfiguration(e.ctx, &s3.PutBucketLifecycleConfigurationInput{
			Bucket: aws.String("api"), LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{b.rule}},
		})
		if !isCode(err, b.code) {
			t.Errorf("rule %s: %v, want %s", aws.ToString(b.rule.ID), err, b.code)
		}
	}
	e.lifecycle("api",
		rule("r1", func(r *types.LifecycleRule) {
			r.Filter = &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
				Prefix: aws.String("p/"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}},
			}}
			r.Expiration = &types.LifecycleExpiration{Date: aws.Time(date(20, 0))}
		}),
		types.LifecycleRule{Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("x/")},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(5)}},
	)
	out, err := e.s3.GetBucketLifecycleConfiguration(e.ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rules) != 2 {
		t.Fatalf("GET returned %d rules", len(out.Rules))
	}
	r1, r2 := out.Rules[0], out.Rules[1]
	if aws.ToString(r1.ID) != "r1" || r1.Expiration == nil || !aws.ToTime(r1.Expiration.Date).Equal(date(20, 0)) ||
		r1.Filter == nil || r1.Filter.And == nil || aws.ToString(r1.Filter.And.Prefix) != "p/" || len(r1.Filter.And.Tags) != 1 {
		t.Fatalf("rule 1 came back as %+v", r1)
	}
	if aws.ToString(r2.ID) == "" || r2.Status != types.ExpirationStatusDisabled || aws.ToInt32(r2.NoncurrentVersionExpiration.NoncurrentDays) != 5 {
		t.Fatalf("rule 2 came back as %+v (an ID is assigned when none is given)", r2)
	}
	if _, err := e.s3.DeleteBucketLifecycle(e.ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String("api")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.GetBucketLifecycleConfiguration(e.ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("api")}); !isCode(err, "NoSuchLifecycleConfiguration") {
		t.Fatalf("GET after DELETE: %v", err)
	}
	if _, err := e.s3.GetBucketLifecycleConfiguration(e.ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("nope")}); !isCode(err, "NoSuchBucket") {
		t.Fatalf("GET on a missing bucket: %v", err)
	}
}

// TestRestart: the configuration is stored with the bucket, the worker has no
// state of its own, and the scanner resumes after a restart: a rule set before
// the restart is applied after it.
func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("time-travel integration test; skipped with -short")
	}
	dir := t.TempDir()
	c := &clock{t: t0}
	opts := servertest.Options{Drives: 4, Dir: dir, Now: c.Now, ScanInterval: 10 * time.Millisecond, ScanRate: 1e6}
	first := servertest.New(t, opts)
	e := &env{t: t, srv: first, s3: clockClient(first, c), clock: c, ctx: context.Background()}
	e.bucket("restart", false)
	e.lifecycle("restart", rule("all", func(r *types.LifecycleRule) { r.Expiration = &types.LifecycleExpiration{Days: aws.Int32(1)} }))
	e.put("restart", "a", 10, "")
	first.Close()

	c.Set(date(12, 1))
	second := servertest.New(t, opts)
	e = &env{t: t, srv: second, s3: clockClient(second, c), clock: c, ctx: context.Background()}
	e.cycles(2)
	e.expect("restart")
}
