package dlock

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/rpcauth"
)

// fakeClock is a shared, settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func tables(n int, clock func() time.Time, grace time.Duration) []Locker {
	out := make([]Locker, n)
	for i := range out {
		out[i] = NewTable(clock, grace)
	}
	return out
}

// Many goroutines on "different nodes" (each its own Client over the same
// tables) increment a counter under the lock: no two are ever inside at once.
func TestMutualExclusion(t *testing.T) {
	nodes := tables(5, nil, 0)
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &Client{Nodes: nodes, TTL: time.Second, Retry: time.Millisecond}
			for i := 0; i < 10; i++ {
				_, unlock, err := c.Lock(context.Background(), "obj")
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				time.Sleep(100 * time.Microsecond)
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Fatalf("%d holders at once", maxInside.Load())
	}
}

// With two of five nodes down a majority still grants; with three it does not.
func TestQuorum(t *testing.T) {
	nodes := tables(5, nil, 0)
	down := &downLocker{}
	c := &Client{Nodes: []Locker{nodes[0], nodes[1], nodes[2], down, down}, TTL: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, unlock, err := c.Lock(ctx, "x")
	if err != nil {
		t.Fatalf("3 of 5 nodes: %v", err)
	}
	unlock()
	c.Nodes = []Locker{nodes[0], nodes[1], down, down, down}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, _, err := c.Lock(ctx2, "x"); err == nil {
		t.Fatal("2 of 5 nodes granted a lock")
	}
}

type downLocker struct{}

func (downLocker) Grant(context.Context, string, string, time.Duration) (bool, error) {
	return false, context.DeadlineExceeded
}
func (downLocker) Release(context.Context, string, string) error { return nil }

// A crashed holder's lease expires and the name becomes free.
func TestLeaseExpires(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	nodes := tables(3, clk.now, 0)
	for _, n := range nodes {
		n.Grant(context.Background(), "x", "dead-holder", 10*time.Second)
	}
	c := &Client{Nodes: nodes, TTL: 10 * time.Second, Retry: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.Lock(ctx, "x"); err == nil {
		t.Fatal("lock granted while another holder's lease is live")
	}
	clk.add(11 * time.Second)
	_, unlock, err := c.Lock(context.Background(), "x")
	if err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	unlock()
}

// The protocol breaks on purpose without the startup grace: a node that restarts
// (forgetting its grants) lets a second owner gather a majority while the first
// still holds one. With the grace period the second owner is refused.
func TestRestartWithoutGraceBreaksExclusion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		grace  time.Duration
		double bool
	}{{"no grace: double grant", 0, true}, {"grace: exclusive", 30 * time.Second, false}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			a, b, c := NewTable(clk.now, 0), NewTable(clk.now, 0), NewTable(clk.now, 0)
			ctx := context.Background()
			// Owner 1 holds a majority: a and b.
			a.Grant(ctx, "x", "one", 30*time.Second)
			b.Grant(ctx, "x", "one", 30*time.Second)
			// b restarts and forgets.
			b = NewTable(clk.now, tc.grace)
			gotB, _ := b.Grant(ctx, "x", "two", 30*time.Second)
			gotC, _ := c.Grant(ctx, "x", "two", 30*time.Second)
			double := gotB && gotC // owner two holds b and c: a majority, like owner one
			if double != tc.double {
				t.Fatalf("double grant %v, want %v", double, tc.double)
			}
			// After the grace period the restarted node grants again.
			clk.add(31 * time.Second)
			if ok, _ := b.Grant(ctx, "x", "three", time.Second); !ok {
				t.Fatal("restarted node never grants again")
			}
		})
	}
}

// A holder that loses its majority (nodes restarted past their grace and handed
// the name to another owner) sees its held context cancelled at renewal.
func TestLostLockCancelsContext(t *testing.T) {
	nodes := []*Table{NewTable(nil, 0), NewTable(nil, 0), NewTable(nil, 0)}
	c := &Client{Nodes: []Locker{nodes[0], nodes[1], nodes[2]}, TTL: 90 * time.Millisecond}
	held, unlock, err := c.Lock(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, n := range nodes[:2] {
		n.mu.Lock()
		n.m["x"] = lease{owner: "thief", expiry: time.Now().Add(time.Hour)}
		n.mu.Unlock()
	}
	select {
	case <-held.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("holder not told it lost the lock")
	}
}

func TestRPC(t *testing.T) {
	auth := rpcauth.New("secret")
	var remotes []Locker
	for i := 0; i < 3; i++ {
		srv := httptest.NewServer(&Handler{Table: NewTable(nil, 0), Auth: auth})
		defer srv.Close()
		remotes = append(remotes, &Remote{Base: srv.URL, Auth: auth, Client: srv.Client()})
	}
	c1 := &Client{Nodes: remotes, TTL: time.Second}
	_, unlock, err := c1.Lock(context.Background(), "obj")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := (&Client{Nodes: remotes, TTL: time.Second}).Lock(ctx, "obj"); err == nil {
		t.Fatal("second client got a held lock over RPC")
	}
	unlock()
	if _, u2, err := (&Client{Nodes: remotes, TTL: time.Second}).Lock(context.Background(), "obj"); err != nil {
		t.Fatal(err)
	} else {
		u2()
	}
	// A caller with the wrong key is refused.
	bad := &Remote{Base: remotes[0].(*Remote).Base, Auth: rpcauth.New("wrong")}
	if ok, err := bad.Grant(context.Background(), "z", "me", time.Second); ok || err == nil {
		t.Fatal("grant with the wrong cluster key")
	}
}
