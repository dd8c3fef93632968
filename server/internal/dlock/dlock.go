// Package dlock is the cluster's write lock: a name (one object) is locked when a
// majority of the nodes grant it. Two writers on different nodes can then never
// both commit the same object at once, which keeps conditional writes
// (If-None-Match: *, If-Match) atomic across nodes.
//
// Protocol, and why it is safe:
//
//   - Every node runs a Table: an in-memory map name → (owner, lease expiry).
//     Grant(name, owner, ttl) succeeds when the name is free, expired, or already
//     held by the same owner (which renews it).
//   - A Client asks every node; the lock is held when more than half granted. Two
//     majorities of one set of nodes always intersect, and a node grants a name to
//     one owner at a time, so two owners cannot hold majorities at once.
//   - Leases expire (a crashed holder does not block forever); the holder renews at
//     a third of the lease, and gives up the lock (its context is cancelled) when a
//     renewal loses the majority.
//   - A node that restarts forgets its grants. If it granted a lease just before,
//     a second owner could gather a majority with it while the first still counts
//     it. So a Table refuses every grant for one lease period after it starts
//     (StartupGrace): by then every lease it could have granted has expired.
//     TestRestartWithoutGraceBreaksExclusion shows the double grant without it.
//
// This is a small, tested quorum rule (DESIGN.md: no home-made consensus for
// ordered decisions; mutual exclusion with leases is all the object layer needs).
package dlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultTTL is the lease length.
const DefaultTTL = 30 * time.Second

// Locker is one node's lock table as a client sees it (local or over RPC).
type Locker interface {
	// Grant acquires or renews name for owner for ttl; false when held by another.
	Grant(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Release frees name if owner holds it.
	Release(ctx context.Context, name, owner string) error
}

// Table is a node's lock table. Safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	m       map[string]lease
	now     func() time.Time
	startAt time.Time
	grace   time.Duration
}

type lease struct {
	owner  string
	expiry time.Time
}

// NewTable returns a table that refuses grants for grace after now (use the
// lease TTL; 0 only in tests that show why it is needed).
func NewTable(now func() time.Time, grace time.Duration) *Table {
	if now == nil {
		now = time.Now
	}
	return &Table{m: map[string]lease{}, now: now, startAt: now(), grace: grace}
}

var _ Locker = (*Table)(nil)

// Grant implements Locker.
func (t *Table) Grant(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if now.Before(t.startAt.Add(t.grace)) {
		return false, nil
	}
	if l, ok := t.m[name]; ok && l.owner != owner && now.Before(l.expiry) {
		return false, nil
	}
	t.m[name] = lease{owner: owner, expiry: now.Add(ttl)}
	if len(t.m) > 1024 { // drop expired leases now and then
		for k, l := range t.m {
			if !now.Before(l.expiry) {
				delete(t.m, k)
			}
		}
	}
	return true, nil
}

// Release implements Locker.
func (t *Table) Release(_ context.Context, name, owner string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.m[name]; ok && l.owner == owner {
		delete(t.m, name)
	}
	return nil
}

// Client takes locks on a majority of nodes.
type Client struct {
	Nodes []Locker
	TTL   time.Duration // default DefaultTTL
	// Retry is the pause between attempts while the name is held (default 5–20 ms,
	// growing).
	Retry time.Duration
	// Owner prefixes lock owners (a node id), for debugging.
	Owner string
}

// ErrTimeout: the lock could not be taken before the context ended.
var ErrTimeout = errors.New("dlock: lock not acquired")

// owner names one acquisition: unique across nodes and restarts.
func (c *Client) owner() string {
	var b [12]byte
	rand.Read(b[:])
	return c.Owner + "#" + hex.EncodeToString(b[:])
}

// Lock takes name. The returned context is cancelled if the lock is lost (a
// renewal fails to keep a majority); unlock releases it. On error nothing is held.
func (c *Client) Lock(ctx context.Context, name string) (held context.Context, unlock func(), err error) {
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	owner := c.owner()
	pause := c.Retry
	if pause == 0 {
		pause = 5 * time.Millisecond
	}
	for {
		if c.grant(ctx, name, owner, ttl) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrTimeout, name, ctx.Err())
		case <-time.After(pause):
		}
		if pause < 20*time.Millisecond {
			pause += pause / 2
		}
	}
	held, lost := context.WithCancel(context.WithoutCancel(ctx))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // renew at a third of the lease
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if !c.grant(held, name, owner, ttl) {
					lost()
					return
				}
			}
		}
	}()
	var once sync.Once
	return held, func() {
		once.Do(func() {
			close(stop)
			<-done
			lost()
			c.release(name, owner)
		})
	}, nil
}

// grant asks every node; on a minority it releases what it got.
func (c *Client) grant(ctx context.Context, name, owner string, ttl time.Duration) bool {
	n := len(c.Nodes)
	ok := make([]bool, n)
	var wg sync.WaitGroup
	for i, l := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			g, err := l.Grant(cctx, name, owner, ttl)
			ok[i] = err == nil && g
		}()
	}
	wg.Wait()
	granted := 0
	for _, g := range ok {
		if g {
			granted++
		}
	}
	if granted > n/2 {
		return true
	}
	c.release(name, owner)
	return false
}

func (c *Client) release(name, owner string) {
	var wg sync.WaitGroup
	for _, l := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			l.Release(ctx, name, owner)
		}()
	}
	wg.Wait()
}
