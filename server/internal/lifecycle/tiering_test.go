package lifecycle_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/tier"
	"github.com/cairn-io/cairn/server/internal/tier/tiertest"
	"github.com/cairn-io/cairn/server/servertest"
)

// Transition data path tests: a time-travel server whose lifecycle rules move
// versions to a tier on a real peer (a second Cairn, fake-gcs-server, Azurite),
// which the tests cut off and bring back.

func startTiering(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("time-travel integration test; skipped with -short")
	}
	c := &clock{t: t0}
	srv := servertest.New(t, servertest.Options{
		Drives: 4, Now: c.Now, ScanInterval: 10 * time.Millisecond, ScanRate: 1e6,
		KMS: server.KMSConfig{MasterKey: bytes.Repeat([]byte{7}, 32)},
	})
	return &env{t: t, srv: srv, s3: clockClient(srv, c), clock: c, ctx: context.Background()}
}

func (e *env) addTier(cfg tier.Config) tier.Tier {
	e.t.Helper()
	if err := e.srv.Server.Tiers().Add(e.ctx, cfg); err != nil {
		e.t.Fatal(err)
	}
	tr, err := tier.Open(e.ctx, cfg) // the test's own client, to look at the remote copies
	if err != nil {
		e.t.Fatal(err)
	}
	return tr
}

func (e *env) putData(bucket, key string, data []byte, sse bool) string {
	e.t.Helper()
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), Metadata: map[string]string{"color": "blue"}}
	if sse {
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	}
	out, err := e.s3.PutObject(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

func (e *env) get(bucket, key, version, rng string, optFns ...func(*s3.Options)) ([]byte, error) {
	e.t.Helper()
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	if rng != "" {
		in.Range = &rng
	}
	out, err := e.s3.GetObject(e.ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (e *env) mustGet(bucket, key, version, rng string, want []byte) {
	e.t.Helper()
	got, err := e.get(bucket, key, version, rng)
	if err != nil {
		e.t.Fatalf("GET %s/%s %s %s: %v", bucket, key, version, rng, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("GET %s/%s %s %s: %d bytes that differ from the %d expected", bucket, key, version, rng, len(got), len(want))
	}
}

func (e *env) head(bucket, key, version string) *s3.HeadObjectOutput {
	e.t.Helper()
	in := &s3.HeadObjectInput{Bucket: &bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out, err := e.s3.HeadObject(e.ctx, in)
	if err != nil {
		e.t.Fatalf("HEAD %s/%s: %v", bucket, key, err)
	}
	return out
}

// stat is the object layer's view of a version (its transition, if any).
func (e *env) stat(bucket, key, version string) objects.ObjectInfo {
	e.t.Helper()
	oi, err := e.srv.Server.Objects().StatObject(e.ctx, bucket, key, objects.GetOptions{VersionID: version})
	if err != nil {
		e.t.Fatal(err)
	}
	return oi
}

func (e *env) remote(tr tier.Tier, key string) ([]byte, error) {
	rc, err := tr.Get(e.ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// waitFor polls cond (with scanner cycles in between) for up to 30 s.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		e.cycles(1)
	}
}

// restore sends RestoreObject and returns the HTTP status.
func (e *env) restore(bucket, key string, days int32) (int, error) {
	var status int
	_, err := e.s3.RestoreObject(e.ctx, &s3.RestoreObjectInput{Bucket: &bucket, Key: &key,
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(days)}}, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("status", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if r, ok := out.RawResponse.(*smithyhttp.Response); ok {
					status = r.StatusCode
				}
				return out, md, err
			}), middleware.After)
		})
	})
	return status, err
}

// once makes a call without the SDK's retries (a 503 is the expected answer).
func once(o *s3.Options) { o.RetryMaxAttempts = 1 }

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func statusOf(err error) (int, string, string) {
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	status, code, msg := 0, "", ""
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	return status, code, msg
}

// TestTieringPeers runs the whole transition data path against each real peer.
func TestTieringPeers(t *testing.T) {
	for _, pc := range tiertest.Peers {
		t.Run(pc.Name, func(t *testing.T) {
			e := startTiering(t)
			p := pc.Start(t, "COLD")
			tr := e.addTier(p.Config)
			tieringFlow(t, e, p, tr)
		})
	}
}

func tieringFlow(t *testing.T, e *env, p *tiertest.Peer, tr tier.Tier) {
	e.bucket("warm", false)
	e.lifecycle("warm", rule("to-cold", func(r *types.LifecycleRule) {
		r.Transitions = []types.Transition{{Days: aws.Int32(1), StorageClass: "COLD"}}
	}))
	big := random(700<<10 + 123) // erasure coded data files
	small := random(1000)        // inline
	marker := []byte("PLAINTEXT-MARKER-")
	secret := bytes.Repeat(marker, 20000) // ~340 KiB of an easily found pattern
	e.putData("warm", "big", big, false)
	e.putData("warm", "small", small, false)
	e.putData("warm", "secret", secret, true)

	e.at(date(11, 23)) // not due yet
	if e.stat("warm", "big", "").Transition != nil {
		t.Fatal("transitioned before it was due")
	}
	e.at(date(12, 1))
	for _, k := range []string{"big", "small", "secret"} {
		oi := e.stat("warm", k, "")
		if oi.Transition == nil || oi.Transition.Tier != "COLD" {
			t.Fatalf("%s not transitioned: %+v (worker %+v)", k, oi.Transition, e.srv.Server.Lifecycle().Stats())
		}
		h := e.head("warm", k, "")
		if h.StorageClass != "COLD" || h.Metadata["color"] != "blue" || aws.ToInt64(h.ContentLength) != oi.Size {
			t.Fatalf("HEAD %s: class %q, metadata %v, length %d", k, h.StorageClass, h.Metadata, aws.ToInt64(h.ContentLength))
		}
	}
	st := e.srv.Server.Lifecycle().Stats()
	if st.Actions[lifecycle.TransitionCurrent] != 3 || st.Errors != 0 {
		t.Fatalf("worker stats %+v", st)
	}
	list, err := e.s3.ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: aws.String("warm")})
	if err != nil || len(list.Contents) != 3 || list.Contents[0].StorageClass != "COLD" {
		t.Fatalf("listing: %v %+v", err, list)
	}

	// GETs stream from the tier, byte-identical, ranges too.
	e.mustGet("warm", "big", "", "", big)
	e.mustGet("warm", "big", "", "bytes=100000-300000", big[100000:300001])
	e.mustGet("warm", "big", "", "bytes=-10", big[len(big)-10:])
	e.mustGet("warm", "small", "", "", small)
	e.mustGet("warm", "secret", "", "", secret)
	e.mustGet("warm", "secret", "", "bytes=70000-70100", secret[70000:70101])

	// The tier holds the stored bytes: the plaintext as is, the SSE object as ciphertext.
	if got, err := e.remote(tr, e.stat("warm", "big", "").Transition.RemoteKey); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("remote copy of big: %v", err)
	}
	sk := e.stat("warm", "secret", "").Transition.RemoteKey
	if got, err := e.remote(tr, sk); err != nil || len(got) < len(secret) || bytes.Contains(got, marker) {
		t.Fatalf("remote copy of the SSE object: %v, %d bytes, plaintext marker found: %v", err, len(got), bytes.Contains(got, marker))
	}

	// CopyObject from a transitioned (and an encrypted transitioned) source.
	for _, k := range []string{"big", "secret"} {
		if _, err := e.s3.CopyObject(e.ctx, &s3.CopyObjectInput{Bucket: aws.String("warm"), Key: aws.String("copy-" + k), CopySource: aws.String("warm/" + k)}); err != nil {
			t.Fatalf("copy of %s: %v", k, err)
		}
	}
	e.mustGet("warm", "copy-big", "", "", big)
	e.mustGet("warm", "copy-secret", "", "", secret)
	if h := e.head("warm", "copy-big", ""); h.StorageClass != "" && h.StorageClass != "STANDARD" {
		t.Fatalf("the copy's storage class is %q", h.StorageClass)
	}

	// RestoreObject: a local copy for two days, served while the tier is down.
	if _, err := e.s3.RestoreObject(e.ctx, &s3.RestoreObjectInput{Bucket: aws.String("copy-big"), Key: aws.String("x")}); err == nil {
		t.Fatal("restore in a missing bucket succeeded")
	}
	_, err = e.s3.RestoreObject(e.ctx, &s3.RestoreObjectInput{Bucket: aws.String("warm"), Key: aws.String("copy-big"),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(2)}})
	if _, code, _ := statusOf(err); code != "InvalidObjectState" {
		t.Fatalf("restore of an object never transitioned: %v", err)
	}
	// 202 for a new copy; 200 when one exists (S3 then only sets its expiry).
	for _, c := range []struct {
		key  string
		want int
	}{{"big", http.StatusAccepted}, {"secret", http.StatusAccepted}, {"big", http.StatusOK}} {
		if status, err := e.restore("warm", c.key, 2); err != nil || status != c.want {
			t.Fatalf("restore %s: %d %v, want %d", c.key, status, err, c.want)
		}
	}
	h := e.head("warm", "big", "")
	if want := `ongoing-request="false", expiry-date="Tue, 15 Jan 2030 00:00:00 GMT"`; aws.ToString(h.Restore) != want || h.StorageClass != "COLD" {
		t.Fatalf("HEAD of a restored object: x-amz-restore %q (want %q), class %q", aws.ToString(h.Restore), want, h.StorageClass)
	}
	p.Stop()
	e.mustGet("warm", "big", "", "bytes=5-500000", big[5:500001])
	e.mustGet("warm", "secret", "", "", secret)

	// The tier is down: a GET of a transitioned object is a clean 503 naming
	// the tier; HEAD still answers; nothing is lost.
	_, err = e.get("warm", "small", "", "", once)
	status, code, msg := statusOf(err)
	if status != http.StatusServiceUnavailable || code != "ServiceUnavailable" || !strings.Contains(msg, "COLD") {
		t.Fatalf("GET with the tier down: %d %s %q (%v)", status, code, msg, err)
	}
	e.head("warm", "small", "")
	_, err = e.s3.CopyObject(e.ctx, &s3.CopyObjectInput{Bucket: aws.String("warm"), Key: aws.String("copy-small"), CopySource: aws.String("warm/small")}, once)
	if status, _, _ := statusOf(err); status != http.StatusServiceUnavailable {
		t.Fatalf("copy of a transitioned object with the tier down: %v", err)
	}

	// A transition due while the tier is down fails, is counted, and is retried.
	e.clock.Set(date(12, 2))
	late := random(200 << 10)
	e.putData("warm", "late", late, false)
	e.at(date(14, 1))
	if oi := e.stat("warm", "late", ""); oi.Transition != nil {
		t.Fatal("transitioned to a tier that is down")
	}
	if st := e.srv.Server.Lifecycle().Stats(); st.Failed[lifecycle.TransitionCurrent] == 0 {
		t.Fatalf("failed transitions not counted: %+v", st)
	}
	e.mustGet("warm", "late", "", "", late)

	// Delete while the tier is down: succeeds, the remote delete is queued.
	smallKey := e.stat("warm", "small", "").Transition.RemoteKey
	if _, err := e.s3.DeleteObject(e.ctx, &s3.DeleteObjectInput{Bucket: aws.String("warm"), Key: aws.String("small")}); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.srv.Server.Objects().PendingRemoteDeletes(e.ctx); n != 1 {
		t.Fatalf("%d remote deletes queued, want 1", n)
	}

	p.Start()
	e.waitFor("the transition retried", func() bool { return e.stat("warm", "late", "").Transition != nil })
	e.mustGet("warm", "late", "", "bytes=1000-", late[1000:])
	e.waitFor("the queued remote delete", func() bool {
		n, _ := e.srv.Server.Objects().PendingRemoteDeletes(e.ctx)
		return n == 0
	})
	if _, err := e.remote(tr, smallKey); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("remote copy of the object deleted while the tier was down: %v", err)
	}

	// The restored copies expired on the 15th: reads stream from the tier again.
	e.at(date(15, 1))
	big0 := e.stat("warm", "big", "")
	if big0.Transition == nil || !big0.Transition.RestoreExpiry.IsZero() || e.head("warm", "big", "").Restore != nil {
		t.Fatalf("restored copy not dropped after its expiry: %+v", big0.Transition)
	}
	e.mustGet("warm", "big", "", "", big)
	// Encrypted and ranged reads of stubs fail cleanly too while the tier is down.
	p.Stop()
	for _, c := range []struct{ key, rng string }{{"secret", ""}, {"secret", "bytes=10-20"}, {"big", "bytes=10-20"}} {
		_, err := e.get("warm", c.key, "", c.rng, once)
		if status, code, msg := statusOf(err); status != http.StatusServiceUnavailable || !strings.Contains(msg, "COLD") {
			t.Fatalf("GET %s %s with the tier down: %d %s %q", c.key, c.rng, status, code, msg)
		}
	}
	p.Start()
	e.mustGet("warm", "secret", "", "bytes=10-20", secret[10:21])

	// Deleting a transitioned object deletes its remote copy.
	bk := big0.Transition.RemoteKey
	if _, err := e.s3.DeleteObject(e.ctx, &s3.DeleteObjectInput{Bucket: aws.String("warm"), Key: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.remote(tr, bk); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("remote copy after the delete: %v", err)
	}
	// Overwriting one (unversioned) does too.
	if _, err := e.s3.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String("warm"), Key: aws.String("secret"), Body: strings.NewReader("new")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.remote(tr, sk); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("remote copy after an overwrite: %v", err)
	}
}

// TestTransitionTimeTravel: current and noncurrent versions move when (and only
// when) their rules say so, in versioned and unversioned buckets.
func TestTransitionTimeTravel(t *testing.T) {
	e := startTiering(t)
	p := tiertest.Cairn(t, "COLD")
	e.addTier(p.Config)

	e.bucket("ver", true)
	e.lifecycle("ver",
		rule("noncurrent", func(r *types.LifecycleRule) {
			r.NoncurrentVersionTransitions = []types.NoncurrentVersionTransition{{NoncurrentDays: aws.Int32(1), StorageClass: "COLD"}}
		}),
		rule("current", func(r *types.LifecycleRule) {
			r.Transitions = []types.Transition{{Days: aws.Int32(3), StorageClass: "COLD"}}
		}),
	)
	e.bucket("plain", false)
	e.lifecycle("plain", rule("current", func(r *types.LifecycleRule) {
		r.Filter = &types.LifecycleRuleFilter{Prefix: aws.String("logs/")}
		r.Transitions = []types.Transition{{Days: aws.Int32(1), StorageClass: "COLD"}}
	}))

	d1, d2 := random(150<<10), random(10)
	v1 := e.putData("ver", "doc", d1, false)
	e.clock.Set(t0.Add(time.Hour)) // v1 is noncurrent from 11:00 on the 10th
	v2 := e.putData("ver", "doc", d2, false)
	logs := random(300 << 10)
	e.putData("plain", "logs/a", logs, false)
	e.putData("plain", "other", []byte("stays"), false)

	moved := func(bucket, key, version string) bool { return e.stat(bucket, key, version).Transition != nil }
	e.at(date(11, 23))
	if moved("ver", "doc", v1) || moved("plain", "logs/a", "") {
		t.Fatal("transitioned before midnight")
	}
	e.at(date(12, 1))
	if !moved("ver", "doc", v1) || moved("ver", "doc", v2) || !moved("plain", "logs/a", "") || moved("plain", "other", "") {
		t.Fatalf("on the 12th: v1 %v, v2 %v, logs/a %v, other %v", moved("ver", "doc", v1), moved("ver", "doc", v2),
			moved("plain", "logs/a", ""), moved("plain", "other", ""))
	}
	if h := e.head("ver", "doc", v1); h.StorageClass != "COLD" || aws.ToString(h.VersionId) != v1 {
		t.Fatalf("HEAD of the noncurrent version: %q %q", h.StorageClass, aws.ToString(h.VersionId))
	}
	vers, err := e.s3.ListObjectVersions(e.ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	if err != nil || len(vers.Versions) != 2 {
		t.Fatalf("versions: %v %+v", err, vers)
	}
	for _, v := range vers.Versions {
		want := types.ObjectVersionStorageClassStandard
		if aws.ToString(v.VersionId) == v1 {
			want = "COLD"
		}
		if v.StorageClass != want {
			t.Fatalf("version %s listed as %q, want %q", aws.ToString(v.VersionId), v.StorageClass, want)
		}
	}
	e.mustGet("ver", "doc", v1, "", d1)
	e.mustGet("ver", "doc", "", "", d2)
	e.mustGet("plain", "logs/a", "", "bytes=7-70000", logs[7:70001])

	e.at(date(13, 23)) // the current version is due at 00:00 on the 14th
	if moved("ver", "doc", v2) {
		t.Fatal("current version moved early")
	}
	e.at(date(14, 1))
	if !moved("ver", "doc", v2) {
		t.Fatal("current version not moved when due")
	}
	e.mustGet("ver", "doc", "", "", d2)
	st := e.srv.Server.Lifecycle().Stats()
	if st.Actions[lifecycle.TransitionCurrent] != 2 || st.Actions[lifecycle.TransitionNoncurrent] != 1 || st.Errors != 0 {
		t.Fatalf("worker stats %+v", st)
	}

	// Deleting the transitioned noncurrent version by id removes its remote copy.
	rk := e.stat("ver", "doc", v1).Transition.RemoteKey
	tr, _ := tier.Open(e.ctx, p.Config)
	if _, err := e.remote(tr, rk); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.DeleteObject(e.ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.remote(tr, rk); !errors.Is(err, tier.ErrNotFound) {
		t.Fatalf("remote copy of the deleted version: %v", err)
	}
}
