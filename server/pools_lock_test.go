package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	adminapi "github.com/cairn-io/cairn/server/admin"
)

// testNode is one node of an in-process cluster.
type testNode struct {
	s    *Server
	addr string
	dir  string // holds the node's drives
}

func (n *testNode) admin(t *testing.T) *adminapi.Client {
	t.Helper()
	// 20 s: without the lock the two additions wait for each other's reloads
	// (30 s each); the test fails rather than waiting for that.
	ac, err := adminapi.New("http://"+n.addr, adminapi.Options{AccessKey: "cairn-test-root", SecretKey: "cairn-test-root-secret",
		HTTPClient: &http.Client{Timeout: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

// startTestCluster starts n in-process nodes with d drives each, in one pool, on
// loopback listeners (no background scanner).
func startTestCluster(t *testing.T, n, d int) []*testNode {
	t.Helper()
	dir := t.TempDir()
	nodes := make([]*testNode, n)
	lns := make([]net.Listener, n)
	var patterns []string
	for i := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
		nodes[i] = &testNode{addr: ln.Addr().String(), dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1))}
		patterns = append(patterns, fmt.Sprintf("http://%s%s/d{1...%d}", nodes[i].addr, nodes[i].dir, d))
	}
	pools, err := ExpandPools([]string{strings.Join(patterns, ",")})
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			nd.s, errs[i] = New(ctx, Config{Pools: pools, Address: nd.addr, Listener: lns[i],
				RootUser: "cairn-test-root", RootPassword: "cairn-test-root-secret", NoBackground: true})
		}()
	}
	wg.Wait()
	for i, nd := range nodes {
		if nd.s != nil {
			t.Cleanup(func() { nd.s.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i+1, errs[i])
		}
	}
	return nodes
}

// Two pool additions sent at the same time through two nodes of a cluster both
// read pools.json before either writes it back (a hook holds each between its
// read and its write until the other has read too, or for a second). Without the
// cluster-wide lock of pool changes both would choose index 1 and one pool would
// overwrite the other; with it, the second reads after the first has finished:
// both pools are added, with distinct indexes, and every node agrees.
func TestAddPoolsConcurrentlyThroughTwoNodes(t *testing.T) {
	nodes := startTestCluster(t, 3, 2)
	var mu sync.Mutex
	arrived := 0
	both := make(chan struct{})
	hook := func(int) {
		mu.Lock()
		if arrived++; arrived == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(time.Second):
		}
	}
	for _, nd := range nodes[:2] {
		nd.s.pools.mu.Lock() // AddPool reads the hook under pm.mu
		nd.s.pools.afterLoad = hook
		nd.s.pools.mu.Unlock()
	}
	spec := func(name string) []string {
		var ps []string
		for _, nd := range nodes {
			ps = append(ps, fmt.Sprintf("http://%s%s/%s{1...2}", nd.addr, nd.dir, name))
		}
		return []string{strings.Join(ps, ",")}
	}
	reqs := []adminapi.AddPoolRequest{{Drives: spec("pa")}, {Drives: spec("pb")}}
	added := make([]*adminapi.Pool, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			added[i], errs[i] = nodes[i].admin(t).AddPool(context.Background(), reqs[i])
		}()
	}
	wg.Wait()
	t.Logf("both requests answered in %v: %v / %v", time.Since(start), errs[0], errs[1])
	// Each request either added its pool or was refused cleanly (409).
	want := map[int][]string{0: nil} // index → drives (sorted); nil: the command line's pool
	for i, err := range errs {
		var ae *adminapi.Error
		switch {
		case err == nil:
			if added[i].State != "active" || len(added[i].Endpoints) != 6 {
				t.Fatalf("pool added through node %d: %+v", i+1, added[i])
			}
			if _, dup := want[added[i].Index]; dup {
				t.Fatalf("both additions got index %d", added[i].Index)
			}
			want[added[i].Index] = sorted(added[i].Endpoints)
			exp, _ := ExpandPools(reqs[i].Drives)
			if !slices.Equal(want[added[i].Index], sorted(exp[0])) {
				t.Fatalf("pool %d added through node %d has drives %v, asked for %v", added[i].Index, i+1, added[i].Endpoints, exp[0])
			}
		case errors.As(err, &ae) && ae.StatusCode == 409:
			t.Logf("addition through node %d refused: %v", i+1, err)
		default:
			t.Fatalf("addition through node %d: %v", i+1, err)
		}
	}
	if len(want) < 2 {
		t.Fatal("neither pool was added")
	}
	// pools.json and every node's pools say the same.
	raw, err := nodes[2].s.layer.ReadConfig(context.Background(), poolsDoc)
	if err != nil {
		t.Fatal(err)
	}
	var st poolsState
	json.Unmarshal(raw, &st)
	for _, rec := range st.Pools {
		if rec.Index == 0 {
			continue
		}
		if drives, ok := want[rec.Index]; !ok || rec.State != poolActive || !slices.Equal(sorted(rec.Drives), drives) {
			t.Fatalf("pools.json: %s", raw)
		}
	}
	if len(st.Pools) != len(want)-1 && len(st.Pools) != len(want) {
		t.Fatalf("pools.json: %s", raw)
	}
	for i, nd := range nodes {
		ps, err := nd.admin(t).Pools(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[int][]string{}
		for _, p := range ps {
			if p.State != "active" {
				t.Fatalf("node %d: pool %d is %s", i+1, p.Index, p.State)
			}
			got[p.Index] = nil
			if p.Index != 0 {
				got[p.Index] = sorted(p.Endpoints)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("node %d has pools %v, want %v", i+1, got, want)
		}
		for idx, drives := range want {
			if d, ok := got[idx]; !ok || !slices.Equal(d, drives) {
				t.Fatalf("node %d: pool %d has drives %v, want %v", i+1, idx, d, drives)
			}
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
