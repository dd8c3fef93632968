package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/dlock"
	"github.com/cairn-io/cairn/server/internal/drive"
)

// rebalanceFixture is a layer with data in pool 0 ("bkt": objects inline and
// erasure-coded; "ver": versions and a delete marker) and a second, empty pool's
// drives (wrapped for fault injection) not added yet.
type rebalanceFixture struct {
	*testLayer
	want  map[string][]byte // bkt
	pool1 []*drive.Faulty
	bytes int64 // of every version written
}

func newRebalanceFixture(t *testing.T, objects int) *rebalanceFixture {
	t.Helper()
	f := &rebalanceFixture{testLayer: newTestLayer(t, 6, 2), want: map[string][]byte{}}
	ctx := context.Background()
	mkBucket(t, f.testLayer, "bkt")
	for i := 0; i < objects; i++ {
		k := fmt.Sprintf("o/%03d", i)
		f.want[k] = randData(int64(i), 2000+(i%13)*3000) // inline (≤16 KiB) and erasure-coded
		f.put(t, "bkt", k, f.want[k])
		f.bytes += int64(len(f.want[k]))
	}
	mkBucket(t, f.testLayer, "ver")
	f.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil })
	for _, v := range []string{"one", "two"} {
		f.put(t, "ver", "doc", []byte(v))
		f.bytes += int64(len(v))
	}
	f.DeleteObject(ctx, "ver", "doc", DeleteOptions{})
	ds, _ := newDrives(t, 6)
	for _, d := range ds {
		d.(*drive.Local).EnableIndex(MetaIndex())
		f.pool1 = append(f.pool1, drive.NewFaulty(d))
	}
	return f
}

func (f *rebalanceFixture) pool1Drives() []drive.Drive {
	out := make([]drive.Drive, len(f.pool1))
	for i, d := range f.pool1 {
		out[i] = d
	}
	return out
}

// reopen builds another layer over the same drives — the layer of a restarted
// process, or of another node — with pool 1 in it.
func (f *rebalanceFixture) reopen(t *testing.T, node string, locker ClusterLocker) *Layer {
	t.Helper()
	ds := make([]drive.Drive, len(f.faulty))
	for i, d := range f.faulty {
		ds[i] = d
	}
	l, err := New(Config{Sets: [][]drive.Drive{ds}, Parity: 2, DeploymentID: "test", BlockSize: 64 << 10, InlineLimit: 16 << 10,
		Node: node, ClusterLocker: locker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.AddPool(context.Background(), 1, [][]drive.Drive{f.pool1Drives()}, 2, AddPoolOptions{NoBuckets: true}); err != nil {
		t.Fatal(err)
	}
	return l
}

// check reads everything back through l, byte for byte, and counts where it is:
// every object in exactly one pool, the data of both pools adding up to what was
// written. It returns the number of "bkt" objects in pool 1.
func (f *rebalanceFixture) check(t *testing.T, l *Layer) int {
	t.Helper()
	ctx := context.Background()
	for k, data := range f.want {
		got, err := readAll(l, "bkt", k, "")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GET %s: %v (len %d, want %d)", k, err, len(got), len(data))
		}
	}
	if got := listKeys(t, l, "bkt", "", 7); len(got) != len(f.want) {
		t.Fatalf("listing: %d keys, want %d", len(got), len(f.want))
	}
	res, err := l.ListObjectVersions(ctx, "ver", ListOptions{})
	if err != nil || len(res.Objects) != 3 || !res.Objects[0].DeleteMarker {
		t.Fatalf("versions of ver/doc: %+v %v", res.Objects, err)
	}
	seen, inPool1, data := f.placement(t, l)
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s is in %d pools", k, n)
		}
	}
	if len(seen) != len(f.want)+1 {
		t.Errorf("%d objects in the pools, want %d", len(seen), len(f.want)+1)
	}
	if data != f.bytes {
		t.Errorf("pools hold %d bytes, %d written", data, f.bytes)
	}
	return inPool1
}

// placement counts, for every object, the pools holding it, the "bkt" objects in
// pool 1, and the data of every pool.
func (f *rebalanceFixture) placement(t *testing.T, l *Layer) (seen map[string]int, inPool1 int, data int64) {
	t.Helper()
	ctx := context.Background()
	buckets, _ := l.ListBuckets(ctx)
	seen = map[string]int{}
	for _, p := range l.poolList() {
		n, err := l.poolData(ctx, p, buckets)
		if err != nil {
			t.Fatal(err)
		}
		data += n
		for _, b := range buckets {
			for _, s := range p.sets {
				it, err := s.walk(ctx, b.Name, "", "", false, walkHow{index: indexPage, quorum: true})
				if err != nil {
					t.Fatal(err)
				}
				for e, ok := it.next(); ok; e, ok = it.next() {
					if e.file != nil && len(e.file.Versions) > 0 {
						seen[b.Name+"/"+e.key]++
						if p.idx == 1 && b.Name == "bkt" {
							inPool1++
						}
					}
				}
			}
		}
	}
	return seen, inPool1, data
}

func readAll(l *Layer, bucket, key, version string) ([]byte, error) {
	o, err := l.OpenObject(context.Background(), bucket, key, GetOptions{VersionID: version})
	if err != nil {
		return nil, err
	}
	defer o.Close()
	var buf bytes.Buffer
	err = o.WriteRange(context.Background(), &buf, 0, o.Info().Size)
	return buf.Bytes(), err
}

// hasRun reports whether a rebalance runs on l's node.
func hasRun(l *Layer) bool {
	l.rebalance.mu.Lock()
	defer l.rebalance.mu.Unlock()
	return l.rebalance.run != nil
}

// waitNoRun waits until no rebalance runs on l's node.
func waitNoRun(t *testing.T, l *Layer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for hasRun(l) {
		if time.Now().After(deadline) {
			t.Fatal("the rebalance run did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitRebalance(t *testing.T, l *Layer, limit time.Duration) RebalanceStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, err := l.RebalanceState(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running() {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebalance still running after %v: %+v", limit, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A rebalance whose process stops half-way (the layer closes: moves in flight are
// cancelled, the document still says running) is resumed by the next process
// from its saved plan and position, and completes: every object reads back byte
// for byte, each is in exactly one pool, and the moves counted match the objects
// that went to the new pool (up to the batch in flight at the stop, whose counts
// were not saved).
func TestRebalanceResumesAfterRestart(t *testing.T) {
	f := newRebalanceFixture(t, 160)
	ctx := context.Background()
	if err := f.AddPool(ctx, 1, [][]drive.Drive{f.pool1Drives()}, 2, AddPoolOptions{}); err != nil {
		t.Fatal(err)
	}
	// Save the position after every batch, and slow the moves down, so the
	// stop comes half-way.
	f.rebalanceSave = 0
	for _, d := range f.pool1 {
		for _, op := range []drive.Op{drive.OpCreate, drive.OpWriteFile, drive.OpRename} {
			d.Delay(op, 10*time.Millisecond)
		}
	}
	if err := f.Rebalance(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Rebalance(ctx); !errors.Is(err, ErrRebalanceRunning) {
		t.Fatalf("second start: %v", err)
	}
	// Wait for a saved position a few batches in.
	var saved rebalanceRecord
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, err := f.readRebalance(ctx)
		if err == nil && rec.Bucket != "" && rec.Objects >= 3*rebalanceBatch {
			saved = rec
			break
		}
		if err == nil && rec.State != RebalanceRunning {
			t.Fatalf("rebalance ended before the restart: %+v", rec.status())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no position saved: %+v %v", rec, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	f.Close() // the process stops
	rec, err := f.readRebalanceSettled(ctx)
	if err != nil || rec.State != RebalanceRunning || rec.ID != saved.ID || rec.Key == "" {
		t.Fatalf("after the stop: %+v %v", rec, err)
	}
	_, atStop, _ := f.placement(t, f.Layer) // an object the stop cut half-way is in both pools
	if atStop < int(rec.Objects) {
		t.Fatalf("at the stop, %d objects in pool 1, %d counted", atStop, rec.Objects)
	}
	t.Logf("stopped at %s/%s after %d objects (%d in pool 1); plan %+v", rec.Bucket, rec.Key, rec.Objects, atStop, rec.Pools)

	for _, d := range f.pool1 {
		for _, op := range []drive.Op{drive.OpCreate, drive.OpWriteFile, drive.OpRename} {
			d.Delay(op, 0)
		}
	}
	l2 := f.reopen(t, "", nil)
	if st, err := l2.RebalanceState(ctx); err != nil || !st.Running() || st.Objects != rec.Objects {
		t.Fatalf("status after the restart, before resuming: %+v %v", st, err)
	}
	if err := l2.ResumeRebalance(ctx); err != nil {
		t.Fatal(err)
	}
	st := waitRebalance(t, l2, 30*time.Second)
	if !st.Complete() || st.State != RebalanceComplete || !st.Started.Equal(rec.Started) || st.Objects <= rec.Objects || st.Failed != 0 || len(st.Pools) != 2 {
		t.Fatalf("resumed rebalance: %+v (saved at the stop: %+v)", st, rec.status())
	}
	if got, err := l2.readRebalanceSettled(ctx); err != nil || got.State != RebalanceComplete || got.Objects != st.Objects {
		t.Fatalf("document after the resumed rebalance: %+v %v", got, err)
	}
	inPool1 := f.check(t, l2)
	if inPool1 <= atStop {
		t.Fatalf("nothing moved after the restart: %d objects in pool 1, %d at the stop", inPool1, atStop)
	}
	t.Logf("moved %d objects (%d versions, %d bytes) in two runs; %d objects of bkt in pool 1; plan %+v", st.Objects, st.Versions, st.Bytes, inPool1, st.Pools)
	// Every object in pool 1 was moved there (nothing was written since it was
	// added); the moves of the batch cancelled by the stop were not counted.
	if moved := int(st.Objects); moved > inPool1+1 || moved < inPool1-rebalanceBatch {
		t.Fatalf("%d moves counted, %d objects in pool 1", moved, inPool1)
	}
	// Balanced: both pools are on one file system, so equal targets.
	buckets, _ := l2.ListBuckets(ctx)
	var data [2]int64
	for i, p := range l2.poolList() {
		data[i], _ = l2.poolData(ctx, p, buckets)
	}
	if d := data[0] - data[1]; d > f.bytes/5 || -d > f.bytes/5 {
		t.Fatalf("pools hold %d and %d bytes after the rebalance", data[0], data[1])
	}
	waitNoRun(t, l2)
	if err := l2.ResumeRebalance(ctx); err != nil || hasRun(l2) {
		t.Fatalf("resuming a complete rebalance: %v", err)
	}
}

// Two nodes (layers over the same drives, one cluster lock): the status is the
// same through both, a second start through the other node is refused, a stop
// through the other node ends the run on its owner, and a new start through the
// other node then runs there to the end.
func TestRebalanceStopThroughAnotherNode(t *testing.T) {
	f := newRebalanceFixture(t, 80)
	ctx := context.Background()
	f.Close() // the fixture's own layer takes no part
	locker := &dlock.Client{Nodes: []dlock.Locker{dlock.NewTable(nil, 0)}, Owner: "test"}
	a := f.reopen(t, "a", locker)
	b := f.reopen(t, "b", locker)
	a.rebalanceSave, b.rebalanceSave = 0, 0
	for _, d := range f.pool1 {
		d.Delay(drive.OpCreate, 20*time.Millisecond)
		d.Delay(drive.OpWriteFile, 20*time.Millisecond)
	}
	if st, err := b.RebalanceState(ctx); err != nil || st.State != "" || st.Running() {
		t.Fatalf("status before any rebalance: %+v %v", st, err)
	}
	if err := a.Rebalance(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Rebalance(ctx); !errors.Is(err, ErrRebalanceRunning) {
		t.Fatalf("start through b while a runs one: %v", err)
	}
	st, err := b.RebalanceState(ctx)
	if err != nil || !st.Running() || st.Owner != "a" {
		t.Fatalf("status through b: %+v %v", st, err)
	}
	// Resuming on b does nothing: a owns it.
	if err := b.ResumeRebalance(ctx); err != nil || hasRun(b) {
		t.Fatalf("resume on b: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	stopped, err := b.StopRebalance(ctx)
	if err != nil || stopped.State != RebalanceStopped || stopped.Running() {
		t.Fatalf("stop through b: %+v %v", stopped, err)
	}
	waitNoRun(t, a) // the run on a ends
	st, err = a.RebalanceState(ctx)
	if err != nil || st.State != RebalanceStopped || st.Objects < stopped.Objects {
		t.Fatalf("status through a after the stop: %+v %v", st, err)
	}
	t.Logf("stopped after %d objects", st.Objects)
	if again, err := a.StopRebalance(ctx); err != nil || again.State != RebalanceStopped {
		t.Fatalf("second stop: %+v %v", again, err)
	}

	for _, d := range f.pool1 {
		d.Delay(drive.OpCreate, 0)
		d.Delay(drive.OpWriteFile, 0)
	}
	if err := b.Rebalance(ctx); err != nil {
		t.Fatal(err)
	}
	st = waitRebalance(t, a, 30*time.Second)
	if !st.Complete() || st.Owner != "b" || st.Failed != 0 {
		t.Fatalf("rebalance through b, seen through a: %+v", st)
	}
	f.check(t, a)
}

// LockAdmin excludes holders on different nodes, and a waiter that cannot get
// the lock in time fails with ErrLockBusy holding nothing.
func TestLockAdminAcrossNodes(t *testing.T) {
	f := newRebalanceFixture(t, 0)
	locker := &dlock.Client{Nodes: []dlock.Locker{dlock.NewTable(nil, 0)}, Owner: "test"}
	a := f.reopen(t, "a", locker)
	b := f.reopen(t, "b", locker)
	ctx := context.Background()
	held, unlock, err := a.LockAdmin(ctx, "pools", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.LockAdmin(ctx, "pools", 100*time.Millisecond); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("second holder on another node: %v", err)
	}
	if _, _, err := a.LockAdmin(ctx, "pools", 100*time.Millisecond); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("second holder on the same node: %v", err)
	}
	// Another name is free; configuration writes go on under the lock.
	if _, u, err := b.LockAdmin(ctx, "other", time.Second); err != nil {
		t.Fatal(err)
	} else {
		u()
	}
	if err := a.WriteConfig(held, "x.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, u, err := b.LockAdmin(ctx, "pools", 5*time.Second)
		if err == nil {
			u()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("waiter after the release: %v", err)
	}
}
