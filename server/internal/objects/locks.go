package objects

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ClusterLocker takes a name's write lock across the nodes of a cluster (see
// package dlock). The returned unlock releases it.
type ClusterLocker interface {
	Lock(ctx context.Context, name string) (held context.Context, unlock func(), err error)
}

// clusterLockWait bounds how long a write waits for its cluster-wide lock.
const clusterLockWait = 15 * time.Second

// lockWrite takes name's write lock on this node and, in a cluster, on a majority
// of the nodes, so writers on different nodes exclude each other too.
func (l *Layer) lockWrite(ctx context.Context, name string) (func(), error) {
	unlock, err := l.locks.Lock(ctx, name)
	if err != nil || l.cluster == nil {
		return unlock, err
	}
	// Bounded: with a majority of nodes unreachable the write fails (503) rather
	// than hanging for as long as the client waits.
	lctx, cancel := context.WithTimeout(ctx, clusterLockWait)
	_, cunlock, err := l.cluster.Lock(lctx, name)
	cancel()
	if err != nil {
		unlock()
		return nil, fmt.Errorf("%w: %w", ErrWriteQuorum, err)
	}
	return func() { cunlock(); unlock() }, nil
}

// ErrLockBusy is returned by LockAdmin when its lock could not be taken in time:
// another node (or request) holds it for longer, or, in a cluster, no majority of
// the nodes answers.
var ErrLockBusy = errors.New("objects: lock busy")

// LockAdmin takes the lock called name for an administrative change that spans
// several steps and configuration documents (the server's pool changes, the start
// of a rebalance): on this node and, in a cluster, on a majority of the nodes (the
// lock of writes, package dlock), so two such changes on different nodes exclude
// each other. These names live apart from the locks of objects and of
// configuration documents: a holder reads and writes configuration as usual
// (WriteConfig takes its document's own lock). Not reentrant.
//
// It waits at most wait; then it fails with ErrLockBusy and holds nothing. held is
// cancelled if the lock is lost (a renewal did not keep a majority: the holder
// should stop before its next write); unlock releases it and must be called once
// the change is done.
func (l *Layer) LockAdmin(ctx context.Context, name string, wait time.Duration) (held context.Context, unlock func(), err error) {
	full := "\x00admin/" + name
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	unlockLocal, err := l.locks.Lock(lctx, full)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("%w: %s: held on this node for more than %v", ErrLockBusy, name, wait)
	}
	if l.cluster == nil {
		return context.WithoutCancel(ctx), unlockLocal, nil
	}
	held, cunlock, err := l.cluster.Lock(lctx, full)
	if err != nil {
		unlockLocal()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("%w: %s: not granted by a majority of the nodes within %v (another node holds it, or nodes are unreachable)", ErrLockBusy, name, wait)
	}
	return held, func() { cunlock(); unlockLocal() }, nil
}

// nsLocks is the per-object namespace lock table of one node: commits take the write
// lock, reads hold the read lock while they stream. Entries are reference counted and
// removed when unused, so the table holds only keys in use.
type nsLocks struct {
	mu sync.Mutex
	m  map[string]*nsLock
}

type nsLock struct {
	rw   chanRWMutex
	refs int
}

func newNSLocks() *nsLocks { return &nsLocks{m: map[string]*nsLock{}} }

func (t *nsLocks) get(name string) *nsLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.m[name]
	if l == nil {
		l = &nsLock{rw: newChanRWMutex()}
		t.m[name] = l
	}
	l.refs++
	return l
}

func (t *nsLocks) put(name string, l *nsLock) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l.refs--; l.refs == 0 {
		delete(t.m, name)
	}
}

// Lock takes name's write lock; the returned func releases it.
func (t *nsLocks) Lock(ctx context.Context, name string) (func(), error) {
	l := t.get(name)
	if err := l.rw.Lock(ctx); err != nil {
		t.put(name, l)
		return nil, err
	}
	return func() { l.rw.Unlock(); t.put(name, l) }, nil
}

// RLock takes name's read lock; the returned func releases it.
func (t *nsLocks) RLock(ctx context.Context, name string) (func(), error) {
	l := t.get(name)
	if err := l.rw.RLock(ctx); err != nil {
		t.put(name, l)
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { l.rw.RUnlock(); t.put(name, l) }) }, nil
}

// chanRWMutex is a readers-writer lock whose acquisition honours context
// cancellation (a client that gives up stops waiting). Writers are preferred: once a
// writer waits, new readers queue behind it.
type chanRWMutex struct {
	mu      sync.Mutex
	readers int
	writer  bool
	waiting int // writers waiting
	changed chan struct{}
}

func newChanRWMutex() chanRWMutex { return chanRWMutex{changed: make(chan struct{})} }

func (m *chanRWMutex) wait(ctx context.Context, ch chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// broadcast wakes all waiters; m.mu must be held.
func (m *chanRWMutex) broadcast() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *chanRWMutex) Lock(ctx context.Context) error {
	m.mu.Lock()
	m.waiting++
	for m.writer || m.readers > 0 {
		ch := m.changed
		m.mu.Unlock()
		if err := m.wait(ctx, ch); err != nil {
			m.mu.Lock()
			m.waiting--
			m.broadcast()
			m.mu.Unlock()
			return err
		}
		m.mu.Lock()
	}
	m.waiting--
	m.writer = true
	m.mu.Unlock()
	return nil
}

func (m *chanRWMutex) Unlock() {
	m.mu.Lock()
	m.writer = false
	m.broadcast()
	m.mu.Unlock()
}

func (m *chanRWMutex) RLock(ctx context.Context) error {
	m.mu.Lock()
	for m.writer || m.waiting > 0 {
		ch := m.changed
		m.mu.Unlock()
		if err := m.wait(ctx, ch); err != nil {
			return err
		}
		m.mu.Lock()
	}
	m.readers++
	m.mu.Unlock()
	return nil
}

func (m *chanRWMutex) RUnlock() {
	m.mu.Lock()
	if m.readers--; m.readers == 0 {
		m.broadcast()
	}
	m.mu.Unlock()
}
