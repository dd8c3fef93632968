package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
