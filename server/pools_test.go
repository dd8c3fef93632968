package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// A pool is added to a running server, the original pool is drained out of it
// while clients keep writing, and after a restart the server comes back with
// only the new pool and every object.
func TestPoolsLive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := servertest.New(t, servertest.Options{Dir: dir})
	c := srv.Client()
	ac, err := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustBucket(t, c, "data")
	want := map[string][]byte{}
	putN := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("%s/%03d", prefix, i)
			want[k] = payload(int64(len(want)), 1000+i*7000)
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: bytes.NewReader(want[k])}); err != nil {
				t.Fatal(err)
			}
		}
	}
	putN("before", 30)

	// Bad requests change nothing.
	var ae *admin.Error
	if _, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{filepath.Join(dir, "d1")}}); !errors.As(err, &ae) || ae.StatusCode != 409 {
		t.Fatalf("pool overlapping an existing drive: %v", err)
	}
	if _, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{filepath.Join(dir, "x{1...17}")}}); !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Fatalf("17 drives: %v", err)
	}
	if _, err := ac.DecommissionPool(ctx, 0); !errors.As(err, &ae) || ae.StatusCode != 409 {
		t.Fatalf("decommissioning the last pool: %v", err)
	}
	if ps, _ := ac.Pools(ctx); len(ps) != 1 {
		t.Fatalf("pools after refused requests: %+v", ps)
	}

	p, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{filepath.Join(dir, "pool1", "d{1...6}")}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Index != 1 || p.Drives != 6 || p.Parity != 2 { // 6 drives: 4+2 by default
		t.Fatalf("added pool: %+v", p)
	}
	putN("after-add", 20)
	if _, err := ac.DecommissionPool(ctx, 0); err != nil {
		t.Fatal(err)
	}
	putN("during", 20)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ps, err := ac.Pools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 1 && ps[0].Index == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool 0 still there: %+v", ps)
		}
		time.Sleep(100 * time.Millisecond)
	}
	check := func(c *s3.Client) {
		t.Helper()
		for k, data := range want {
			if got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(k)}); !bytes.Equal(got, data) {
				t.Fatalf("%s differs", k)
			}
		}
	}
	check(c)
	// Restart on the same command line: pool 0 stays removed, pool 1 comes back.
	srv.Close()
	srv2 := servertest.New(t, servertest.Options{Dir: dir})
	ac2, _ := admin.New(srv2.URL, admin.Options{AccessKey: srv2.AccessKey, SecretKey: srv2.SecretKey})
	if ps, err := ac2.Pools(ctx); err != nil || len(ps) != 1 || ps[0].Index != 1 {
		t.Fatalf("pools after restart: %+v %v", ps, err)
	}
	check(srv2.Client())
}

func TestExpandPools(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		sizes []int
		err   string
	}{
		{"plain drives are one pool", []string{"/a", "/b", "/c", "/d"}, []int{4}, ""},
		{"one pool per patterned argument", []string{"/p0/d{1...4}", "/p1/d{1...6}"}, []int{4, 6}, ""},
		{"comma-separated patterns are one pool", []string{"http://a:9000/d{1...4},http://b:9000/d{1...4}"}, []int{8}, ""},
		{"mixed forms", []string{"/p0/d{1...4}", "/x"}, nil, "mix of drive arguments"},
		{"nothing", nil, nil, "no drives"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pools, err := server.ExpandPools(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(pools) != len(tc.sizes) {
				t.Fatalf("%v %v", pools, err)
			}
			for i, p := range pools {
				if len(p) != tc.sizes[i] {
					t.Fatalf("pool %d: %d drives", i, len(p))
				}
			}
		})
	}
}

// The rebalance through the admin API: a start, a stop (DELETE), a start again,
// and a server restart in the middle of that run: the restarted server resumes
// it from rebalance.json (the status says so before and after) and completes it;
// every object reads back.
func TestRebalanceAdmin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := servertest.New(t, servertest.Options{Dir: dir})
	c := srv.Client()
	ac, err := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ae *admin.Error
	if st, err := ac.RebalanceStatus(ctx); err != nil || st.State != "" || st.Running {
		t.Fatalf("status before any rebalance: %+v %v", st, err)
	}
	if _, err := ac.Rebalance(ctx); !errors.As(err, &ae) || ae.StatusCode != 409 {
		t.Fatalf("rebalance of one pool: %v", err)
	}
	mustBucket(t, c, "data")
	want := map[string][]byte{}
	for i := 0; i < 150; i++ {
		k := fmt.Sprintf("o/%03d", i)
		want[k] = payload(int64(i), 1000+i*300)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: bytes.NewReader(want[k])}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{filepath.Join(dir, "pool1", "d{1...6}")}}); err != nil {
		t.Fatal(err)
	}
	first, err := ac.Rebalance(ctx)
	if err != nil || first.State != "running" {
		t.Fatalf("start: %+v %v", first, err)
	}
	stopped, err := ac.StopRebalance(ctx)
	if err != nil || (stopped.State != "stopped" && stopped.State != "complete") || stopped.Running {
		t.Fatalf("stop: %+v %v", stopped, err)
	}
	t.Logf("first run %s after %d objects", stopped.State, stopped.ObjectsMoved)
	second, err := ac.Rebalance(ctx)
	if err != nil || !second.Running || second.Started.Equal(stopped.Started) {
		t.Fatalf("start after the stop: %+v %v", second, err)
	}
	srv.Close() // the run stops where it is; rebalance.json still says running
	srv2 := servertest.New(t, servertest.Options{Dir: dir})
	ac2, _ := admin.New(srv2.URL, admin.Options{AccessKey: srv2.AccessKey, SecretKey: srv2.SecretKey})
	deadline := time.Now().Add(60 * time.Second)
	var st *admin.RebalanceStatus
	for polls := 0; ; polls++ {
		if st, err = ac2.RebalanceStatus(ctx); err != nil {
			t.Fatal(err)
		}
		if polls == 0 {
			t.Logf("after the restart: %s, %d objects moved, at %s/%s", st.State, st.ObjectsMoved, st.Bucket, st.Key)
		}
		if !st.Started.Equal(second.Started) {
			t.Fatalf("status after the restart is not the second run's: %+v", st)
		}
		if !st.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !st.Complete || st.Failed != 0 || len(st.Pools) != 2 || st.ObjectsMoved+stopped.ObjectsMoved == 0 {
		t.Fatalf("after the restart: %+v", st)
	}
	t.Logf("second run: %d objects moved; plan %+v", st.ObjectsMoved, st.Pools)
	for k, data := range want {
		if got := getBody(t, srv2.Client(), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(k)}); !bytes.Equal(got, data) {
			t.Fatalf("%s differs", k)
		}
	}
}
