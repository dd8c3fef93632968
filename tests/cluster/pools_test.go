package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/admin"
)

func adminFor(t *testing.T, n *node) *admin.Client {
	t.Helper()
	ac, err := admin.New(n.p.URL, admin.Options{AccessKey: n.p.AccessKey, SecretKey: n.p.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

// poolIndexes is what a node reports: index → state.
func poolIndexes(t *testing.T, n *node) map[int]string {
	t.Helper()
	ps, err := adminFor(t, n).Pools(context.Background())
	if err != nil {
		t.Fatalf("pools via %s: %v", n.addr, err)
	}
	out := map[int]string{}
	for _, p := range ps {
		out[p.Index] = p.State
	}
	return out
}

// A 4-node cluster grows by a pool (new drives on every node) and drains its
// first pool, both under load and through different nodes; every node agrees on
// the pools at each step, every acknowledged object stays readable byte for byte
// through every node, and a node restarted with the old command line comes back
// with the new pool only.
func TestClusterPoolsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	nodes := startCluster(t, 4, 2)
	ctx := context.Background()
	if _, err := nodes[0].p.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	want := map[string][]byte{}
	for i := 0; i < 24; i++ {
		k := fmt.Sprintf("before/%03d", i)
		data := bytes.Repeat([]byte(k), 1+i*4000/len(k)) // inline and erasure-coded sizes
		put(t, nodes[i%4].p.Client(), k, data)
		want[k] = data
	}

	// Load: writers on every node for the whole test; failed writes need not survive.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := nodes[w].p.Client()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("load/w%d/%04d", w, i)
				data := bytes.Repeat([]byte(k), 1+(i%7)*3000/len(k))
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: bytes.NewReader(data)}); err == nil {
					mu.Lock()
					want[k] = data
					mu.Unlock()
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	defer stopLoad()

	var newPool []string
	for _, n := range nodes {
		newPool = append(newPool, fmt.Sprintf("http://%s%s/p1d{1...2}", n.addr, filepath.Dir(n.drive[0])))
	}
	spec := strings.Join(newPool, ",")

	t.Run("bad pool requests change nothing", func(t *testing.T) {
		ac := adminFor(t, nodes[1])
		var ae *admin.Error
		overlap := fmt.Sprintf("http://%s%s,%s", nodes[0].addr, nodes[0].drive[0], spec)
		if _, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{overlap}}); !errors.As(err, &ae) || ae.StatusCode != 409 {
			t.Errorf("pool overlapping a drive in use: %v", err)
		}
		if _, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{"/tmp/x{1...4}"}}); !errors.As(err, &ae) || ae.StatusCode != 400 {
			t.Errorf("local paths in a cluster: %v", err)
		}
		dead := "http://127.0.0.1:1/nowhere/d{1...4}"
		if _, err := ac.AddPool(ctx, admin.AddPoolRequest{Drives: []string{dead}}); !errors.As(err, &ae) || ae.StatusCode != 400 {
			t.Errorf("pool on a node that is not running: %v", err)
		}
		if _, err := ac.DecommissionPool(ctx, 0); !errors.As(err, &ae) || ae.StatusCode != 409 {
			t.Errorf("decommissioning the last pool: %v", err)
		}
		for i, n := range nodes {
			if got := poolIndexes(t, n); len(got) != 1 || got[0] != "active" {
				t.Errorf("node %d after refused requests: %v", i+1, got)
			}
		}
	})

	t.Run("pool added through node 2 under load", func(t *testing.T) {
		start := time.Now()
		p, err := adminFor(t, nodes[1]).AddPool(ctx, admin.AddPoolRequest{Drives: []string{spec}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pool %d added in %v: %d drives, %d sets, state %s", p.Index, time.Since(start), p.Drives, p.Sets, p.State)
		if p.Index != 1 || p.Drives != 8 || p.State != "active" || len(p.Endpoints) != 8 {
			t.Fatalf("added pool: %+v", p)
		}
		for i, n := range nodes {
			if got := poolIndexes(t, n); got[0] != "active" || got[1] != "active" {
				t.Fatalf("node %d pools: %v", i+1, got)
			}
		}
	})

	t.Run("rebalanced through node 4 under load", func(t *testing.T) {
		ac := adminFor(t, nodes[3])
		if _, err := ac.Rebalance(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, err := ac.RebalanceStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Running {
				if !st.Complete || st.ObjectsMoved == 0 {
					t.Fatalf("rebalance: %+v", st)
				}
				t.Logf("rebalance moved %d objects (%d bytes); pools at start %+v", st.ObjectsMoved, st.BytesMoved, st.Pools)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rebalance still running after 60 s: %+v", st)
			}
			time.Sleep(100 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		for k, data := range want {
			if got, err := get(nodes[k[len(k)-1]%4].p.Client(), k); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET %s after the rebalance: %v", k, err)
			}
		}
	})

	t.Run("first pool drained through node 3 under load", func(t *testing.T) {
		time.Sleep(500 * time.Millisecond) // some load lands on both pools
		start := time.Now()
		if _, err := adminFor(t, nodes[2]).DecommissionPool(ctx, 0); err != nil {
			t.Fatal(err)
		}
		for i, n := range nodes {
			if got := poolIndexes(t, n); got[0] != "draining" {
				t.Fatalf("node %d pools after the decommission started: %v", i+1, got)
			}
		}
		deadline := time.Now().Add(90 * time.Second)
		for {
			done := true
			for _, n := range nodes {
				if got := poolIndexes(t, n); len(got) != 1 || got[1] != "active" {
					done = false
				}
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pool 0 not gone after 90 s: %v", poolIndexes(t, nodes[2]))
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Logf("pool 0 drained in %v", time.Since(start))
	})
	stopLoad()

	t.Run("every acknowledged object reads back through every node", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		t.Logf("%d objects", len(want))
		for i := range nodes {
			for k, data := range want {
				got, err := get(nodes[i].p.Client(), k)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("GET %s via node %d: %v", k, i+1, err)
				}
			}
		}
		// The drained pool holds no object any more.
		for _, n := range nodes {
			for _, d := range n.drive {
				var left []string
				filepath.WalkDir(filepath.Join(d, "data"), func(p string, e os.DirEntry, err error) error {
					if err == nil && strings.HasSuffix(p, "%m") {
						left = append(left, p)
					}
					return nil
				})
				if len(left) > 0 {
					t.Fatalf("drained drive %s still holds %d objects, e.g. %s", d, len(left), left[0])
				}
			}
		}
	})

	t.Run("node restarted with the old command line", func(t *testing.T) {
		nodes[0].p.Stop()
		nodes[0].p.Restart(t)
		waitReady(t, nodes[0].p.URL)
		if got := poolIndexes(t, nodes[0]); len(got) != 1 || got[1] != "active" {
			t.Fatalf("pools after restart: %v", got)
		}
		mu.Lock()
		defer mu.Unlock()
		for k, data := range want {
			got, err := get(nodes[0].p.Client(), k)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET %s via the restarted node: %v", k, err)
			}
		}
	})
}

// With parity 8, a 4-node × 4-drive cluster (one 8+8 set) loses two whole nodes
// and still serves every object; writes, which need 9 drives, fail with a clean
// S3 error until a node returns.
func TestTwoNodesDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	nodes := startCluster(t, 4, 4, "--parity", "8")
	ctx := context.Background()
	c := nodes[0].p.Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := 0; i < 12; i++ {
		k := fmt.Sprintf("obj/%02d", i)
		want[k] = bytes.Repeat([]byte{byte(i)}, 1+i*90_000) // inline and erasure-coded
		put(t, nodes[i%4].p.Client(), k, want[k])
	}
	nodes[2].p.Kill()
	nodes[3].p.Kill()
	for k, data := range want {
		for _, n := range nodes[:2] {
			gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			out, err := n.p.Client().GetObject(gctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(k)})
			var got []byte
			if err == nil {
				got, err = io.ReadAll(out.Body)
				out.Body.Close()
			}
			cancel()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET %s via %s with two nodes down: %v (len %d, want %d)", k, n.addr, err, len(got), len(data))
			}
		}
	}
	once := func(o *s3.Options) { o.RetryMaxAttempts = 1 }
	start := time.Now()
	_, err := nodes[1].p.Client(once).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("refused"), Body: bytes.NewReader([]byte("x"))})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || (ae.ErrorCode() != "ServiceUnavailable" && ae.ErrorCode() != "SlowDown" && ae.ErrorCode() != "InternalError") {
		t.Fatalf("write with 8 of 16 drives: %v", err)
	}
	t.Logf("write with two nodes down: %v after %v", ae.ErrorCode(), time.Since(start).Round(time.Millisecond))
	nodes[2].p.Restart(t)
	waitReady(t, nodes[2].p.URL)
	put(t, nodes[2].p.Client(), "after", []byte("back"))
	want["after"] = []byte("back")
	checkAll(t, nodes, want, map[int]bool{3: true})
}

// Two pool additions sent at the same time through two different nodes are
// serialized by the cluster-wide lock of pool changes: both pools end up in the
// topology with distinct indexes (or one is refused with a 409 and nothing of it
// remains), and every node agrees. Then a rebalance runs on node 3, which is
// killed half-way: the status, read through another node, still says running;
// node 3 resumes it when it restarts and completes it; every node reports the
// same end, and every object reads back byte for byte through every node.
func TestClusterPoolsConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	nodes := startCluster(t, 4, 2)
	ctx := context.Background()
	if _, err := nodes[0].p.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := 0; i < 400; i++ {
		k := fmt.Sprintf("obj/%03d", i)
		want[k] = bytes.Repeat([]byte(k), 1+(i%9)*7000/len(k)) // inline and erasure-coded sizes
	}
	var wg sync.WaitGroup
	putErrs := make(chan error, len(want))
	keys := make(chan string)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := nodes[w%4].p.Client()
			for k := range keys {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: bytes.NewReader(want[k])}); err != nil {
					putErrs <- fmt.Errorf("put %s: %w", k, err)
				}
			}
		}()
	}
	for k := range want {
		keys <- k
	}
	close(keys)
	wg.Wait()
	close(putErrs)
	for err := range putErrs {
		t.Fatal(err)
	}

	spec := func(name string) []string {
		var ps []string
		for _, n := range nodes {
			ps = append(ps, fmt.Sprintf("http://%s%s/%s{1...2}", n.addr, filepath.Dir(n.drive[0]), name))
		}
		return []string{strings.Join(ps, ",")}
	}
	t.Run("two additions at once through two nodes", func(t *testing.T) {
		reqs := []admin.AddPoolRequest{{Drives: spec("pa")}, {Drives: spec("pb")}}
		clients := []*admin.Client{adminFor(t, nodes[0]), adminFor(t, nodes[1])}
		added := make([]*admin.Pool, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				added[i], errs[i] = clients[i].AddPool(ctx, reqs[i])
			}()
		}
		began := time.Now()
		close(start)
		wg.Wait()
		t.Logf("both answered in %v: %v / %v", time.Since(began), errs[0], errs[1])
		want := map[int]string{} // index → the pool's drives, sorted and joined
		for i, err := range errs {
			var ae *admin.Error
			switch {
			case err == nil:
				t.Logf("through node %d: pool %d, %d drives, %s", i+1, added[i].Index, added[i].Drives, added[i].State)
				if added[i].State != "active" || len(added[i].Endpoints) != 8 || added[i].Index == 0 {
					t.Fatalf("pool added through node %d: %+v", i+1, added[i])
				}
				if _, dup := want[added[i].Index]; dup {
					t.Fatalf("both additions got index %d", added[i].Index)
				}
				want[added[i].Index] = sortedJoin(added[i].Endpoints)
				if !strings.Contains(want[added[i].Index], []string{"/pa", "/pb"}[i]) {
					t.Fatalf("pool %d added through node %d has the other request's drives: %v", added[i].Index, i+1, added[i].Endpoints)
				}
			case errors.As(err, &ae) && ae.StatusCode == 409:
				t.Logf("addition through node %d refused: %v", i+1, err)
			default:
				t.Fatalf("addition through node %d: %v", i+1, err)
			}
		}
		if len(want) == 0 {
			t.Fatal("neither pool was added")
		}
		for i, n := range nodes {
			ps, err := adminFor(t, n).Pools(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]string{}
			for _, p := range ps {
				if p.State != "active" {
					t.Fatalf("node %d: pool %d is %s", i+1, p.Index, p.State)
				}
				if p.Index != 0 {
					got[p.Index] = sortedJoin(p.Endpoints)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("node %d has pools %v, want %v", i+1, got, want)
			}
			for idx, drives := range want {
				if got[idx] != drives {
					t.Fatalf("node %d: pool %d has drives %s, want %s", i+1, idx, got[idx], drives)
				}
			}
		}
	})

	t.Run("rebalance resumed after its node is killed", func(t *testing.T) {
		owner := nodes[2]
		oc := adminFor(t, owner)
		if _, err := oc.Rebalance(ctx); err != nil {
			t.Fatal(err)
		}
		var ae *admin.Error
		if _, err := adminFor(t, nodes[0]).Rebalance(ctx); !errors.As(err, &ae) || ae.StatusCode != 409 {
			t.Fatalf("second start through node 1: %v", err)
		}
		// Wait for a saved position (read through another node: the
		// document), then crash the owner.
		began := time.Now()
		deadline := began.Add(60 * time.Second)
		other := adminFor(t, nodes[0])
		for {
			st, err := other.RebalanceStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Running {
				t.Fatalf("rebalance ended before the node was killed: %+v", st)
			}
			if st.ObjectsMoved > 0 && st.Key != "" {
				live, _ := oc.RebalanceStatus(ctx)
				t.Logf("killing node 3 %v after the start: %d objects moved, %d saved", time.Since(began), live.ObjectsMoved, st.ObjectsMoved)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no position saved in 60 s: %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		owner.p.Kill()
		saved, err := adminFor(t, nodes[0]).RebalanceStatus(ctx)
		if err != nil || !saved.Running || saved.Owner != owner.addr || saved.ObjectsMoved == 0 {
			t.Fatalf("status through node 1 with node 3 down: %+v %v", saved, err)
		}
		t.Logf("saved: %d objects moved, position pool %d %s/%s, plan %+v", saved.ObjectsMoved, saved.Pool, saved.Bucket, saved.Key, saved.Pools)
		start := time.Now()
		owner.p.Restart(t)
		waitReady(t, owner.p.URL)
		deadline = time.Now().Add(3 * time.Minute)
		var st *admin.RebalanceStatus
		for {
			if st, err = adminFor(t, nodes[3]).RebalanceStatus(ctx); err != nil {
				t.Fatal(err)
			}
			if !st.Running {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rebalance still running 3 minutes after the restart: %+v", st)
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Logf("resumed and ended %v after the restart: %+v", time.Since(start), st)
		if !st.Complete || st.State != "complete" || st.Owner != owner.addr || !st.Started.Equal(saved.Started) ||
			st.ObjectsMoved < saved.ObjectsMoved || st.Failed != 0 {
			t.Fatalf("rebalance after the restart: %+v (saved before: %+v)", st, saved)
		}
		for i, n := range nodes {
			got, err := adminFor(t, n).RebalanceStatus(ctx)
			if err != nil || got.State != st.State || got.ObjectsMoved != st.ObjectsMoved || !got.Started.Equal(st.Started) {
				t.Fatalf("status through node %d: %+v %v", i+1, got, err)
			}
		}
		// Nothing to stop: the last rebalance stays as it ended.
		if got, err := adminFor(t, nodes[1]).StopRebalance(ctx); err != nil || got.State != "complete" {
			t.Fatalf("stop with nothing running: %+v %v", got, err)
		}
		for i := range nodes {
			for k, data := range want {
				got, err := get(nodes[i].p.Client(), k)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("GET %s via node %d: %v", k, i+1, err)
				}
			}
		}
	})
}

func sortedJoin(s []string) string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return strings.Join(out, ",")
}
