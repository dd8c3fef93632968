//go:build unix

package drive

import (
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
	c := newCommitter(dup)
	g.byDev[uint64(st.Dev)] = c
	return c, nil
}

// committer batches durability requests for one filesystem (groupCommit).
type committer struct {
	fd int
	groupCommit
}

func newCommitter(fd int) *committer {
	c := &committer{fd: fd}
	c.flush = func() error {
		if err := flushFS(c.fd); err != nil {
			return fmt.Errorf("drive: sync: %w", mapErr(err))
		}
		return nil
	}
	return c
}

// Flushes returns how many filesystem flushes the group has issued (all devices).
func (g *SyncGroup) Flushes() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var n uint64
	for _, c := range g.byDev {
		n += c.count()
	}
	return n
}
