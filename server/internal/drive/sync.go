//go:build unix

package drive

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// SyncGroup shares one group committer among all drives on the same filesystem.
// Create one per server (server.New) and pass it to OpenLocal.
type SyncGroup struct {
	mu    sync.Mutex
	byDev map[uint64]*committer
}

// NewSyncGroup returns an empty group.
func NewSyncGroup() *SyncGroup { return &SyncGroup{byDev: map[uint64]*committer{}} }

func (g *SyncGroup) committer(fd int) (*committer, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.byDev[uint64(st.Dev)]; ok {
		return c, nil
	}
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(dup)
	c := &committer{fd: dup}
	g.byDev[uint64(st.Dev)] = c
	return c, nil
}

// committer batches durability requests for one filesystem: every caller waiting
// when a flush starts is answered by that flush; callers arriving during a flush
// wait for the next one (their writes may have raced with the running flush).
type committer struct {
	fd      int
	mu      sync.Mutex
	waiting []chan error
	running bool
	flushes uint64 // for tests and metrics: number of flushes issued
}

func (c *committer) sync(ctx context.Context) error {
	ch := make(chan error, 1)
	c.mu.Lock()
	c.waiting = append(c.waiting, ch)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) loop() {
	for {
		c.mu.Lock()
		batch := c.waiting
		c.waiting = nil
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.flushes++
		c.mu.Unlock()
		err := flushFS(c.fd)
		if err != nil {
			err = fmt.Errorf("drive: sync: %w", mapErr(err))
		}
		for _, ch := range batch {
			ch <- err
		}
	}
}

// Flushes returns how many filesystem flushes the group has issued (all devices).
func (g *SyncGroup) Flushes() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var n uint64
	for _, c := range g.byDev {
		c.mu.Lock()
		n += c.flushes
		c.mu.Unlock()
	}
	return n
}
