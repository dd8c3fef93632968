package drive

import (
	"context"
	"sync"
)

// groupCommit batches durability requests: every caller waiting when a flush
// starts is answered by that flush; callers arriving during a flush wait for
// the next one (their writes may have raced with the running flush). Local
// drives flush their filesystem (syncfs); remote drives ask their node for a
// Sync — so many concurrent writes to one drive cost one round trip, not one
// each.
type groupCommit struct {
	flush   func() error
	mu      sync.Mutex
	waiting []chan error
	running bool
	flushes uint64 // for tests and metrics: number of flushes issued
}

func (g *groupCommit) sync(ctx context.Context) error {
	ch := make(chan error, 1)
	g.mu.Lock()
	g.waiting = append(g.waiting, ch)
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *groupCommit) loop() {
	for {
		g.mu.Lock()
		batch := g.waiting
		g.waiting = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.flushes++
		g.mu.Unlock()
		err := g.flush()
		for _, ch := range batch {
			ch <- err
		}
	}
}

// count returns the flushes issued so far.
func (g *groupCommit) count() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flushes
}
