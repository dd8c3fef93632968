package objects

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

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// memTier is an in-memory RemoteTier that can be switched off.
type memTier struct {
	mu      sync.Mutex
	objs    map[string][]byte
	down    bool
	keep    bool
	gets    []string // "key offset length" of every Get
	putHook func()   // runs inside Put, after the body was read
}

func newMemTier() *memTier { return &memTier{objs: map[string][]byte{}} }

var errDown = errors.New("memtier: connection refused")

func (m *memTier) Tier(ctx context.Context, name string) (RemoteTier, bool, error) {
	if name != "COLD" {
		return nil, false, fmt.Errorf("no such tier %q", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m, m.keep, nil
}

func (m *memTier) setDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

func (m *memTier) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	b, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if m.putHook != nil {
		m.putHook()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	if int64(len(b)) != size {
		return fmt.Errorf("short body %d of %d", len(b), size)
	}
	m.objs[key] = b
	return nil
}

func (m *memTier) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, errDown
	}
	m.gets = append(m.gets, fmt.Sprintf("%s %d %d", key, off, n))
	b, ok := m.objs[key]
	if !ok {
		return nil, errors.New("memtier: not found")
	}
	if n < 0 {
		n = int64(len(b)) - off
	}
	return io.NopCloser(bytes.NewReader(b[off : off+n])), nil
}

func (m *memTier) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	delete(m.objs, key)
	return nil
}

func (m *memTier) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objs)
}

// dataFiles counts the version data files and directories on drive 0.
func dataFiles(t *testing.T, l *testLayer, bucket string) int {
	t.Helper()
	n := 0
	filepath.Walk(filepath.Join(l.roots[0], bucket), func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), dataDirInfix) {
			n++
		}
		return nil
	})
	return n
}

func TestTransitionReadRestoreDelete(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		size int
	}{{"inline", 1000}, {"file", 200 << 10}, {"empty", 0}} {
		t.Run(c.name, func(t *testing.T) {
			l := newTestLayer(t, 4, 2)
			mt := newMemTier()
			l.SetTiers(mt)
			mkBucket(t, l, "bkt")
			data := randData(7, c.size)
			oi := l.put(t, "bkt", "k", data)
			if n := dataFiles(t, l, "bkt"); (n > 0) != (c.name == "file") {
				t.Fatalf("%d data files before the transition", n)
			}
			if err := l.TransitionObject(ctx, "bkt", "k", TransitionOptions{Tier: "COLD", ModTime: oi.ModTime}); err != nil {
				t.Fatal(err)
			}
			if mt.count() != 1 {
				t.Fatalf("tier holds %d objects", mt.count())
			}
			if n := dataFiles(t, l, "bkt"); n != 0 {
				t.Fatalf("%d local data files left after the transition", n)
			}
			info, err := l.StatObject(ctx, "bkt", "k", GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Transition == nil || info.Transition.Tier != "COLD" || info.Meta["X-Amz-Storage-Class"] != "COLD" ||
				info.ETag != oi.ETag || info.Size != oi.Size || !info.ModTime.Equal(oi.ModTime) {
				t.Fatalf("stub info %+v (was %+v)", info, oi)
			}
			rkey := info.Transition.RemoteKey
			if !strings.HasPrefix(rkey, "test/bkt/k/null-") {
				t.Fatalf("remote key %q", rkey)
			}
			got, err := l.get(t, "bkt", "k", "", 0, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET of the stub: %v", err)
			}
			if c.size > 100 {
				mt.gets = nil
				got, err := l.get(t, "bkt", "k", "", 10, 50)
				if err != nil || !bytes.Equal(got, data[10:60]) {
					t.Fatalf("range GET: %v", err)
				}
				if want := rkey + " 10 50"; len(mt.gets) != 1 || mt.gets[0] != want {
					t.Fatalf("tier reads %v, want only %q", mt.gets, want)
				}
			}
			// Again: a no-op.
			if err := l.TransitionObject(ctx, "bkt", "k", TransitionOptions{Tier: "COLD"}); err != nil || mt.count() != 1 {
				t.Fatalf("second transition: %v, %d remote objects", err, mt.count())
			}

			// Restore: served locally, even with the tier down.
			res, err := l.RestoreObject(ctx, "bkt", "k", RestoreOptions{Days: 2})
			if err != nil || res.AlreadyRestored {
				t.Fatalf("restore: %+v %v", res, err)
			}
			mt.setDown(true)
			got, err = l.get(t, "bkt", "k", "", 0, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET of the restored copy with the tier down: %v", err)
			}
			info, _ = l.StatObject(ctx, "bkt", "k", GetOptions{})
			if info.Transition == nil || !info.Transition.RestoreExpiry.Equal(res.Expiry) {
				t.Fatalf("restored info %+v", info.Transition)
			}
			mt.setDown(false)
			if res, err := l.RestoreObject(ctx, "bkt", "k", RestoreOptions{Days: 5}); err != nil || !res.AlreadyRestored {
				t.Fatalf("second restore: %+v %v", res, err)
			}
			// The restored copy expires.
			l.now = func() time.Time { return time.Now().Add(10 * 24 * time.Hour) }
			cur, _ := l.readSet(ctx, "bkt", "k").resolve(l.readSet(ctx, "bkt", "k").readMetas(ctx, objectStem("bkt", "k")))
			l.expireRestores(ctx, "bkt", "k", cur.Versions)
			info, _ = l.StatObject(ctx, "bkt", "k", GetOptions{})
			if info.Transition == nil || !info.Transition.RestoreExpiry.IsZero() || dataFiles(t, l, "bkt") != 0 {
				t.Fatalf("after expiry: %+v, %d data files", info.Transition, dataFiles(t, l, "bkt"))
			}
			mt.setDown(true)
			_, err = l.get(t, "bkt", "k", "", 0, -1)
			var te *TierError
			if c.size > 0 && (!errors.Is(err, ErrTierUnavailable) || !errors.As(err, &te) || te.Tier != "COLD") {
				t.Fatalf("GET with the tier down: %v", err)
			}
			// Delete with the tier down: succeeds, the remote delete is queued.
			if _, err := l.DeleteObject(ctx, "bkt", "k", DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if n, _ := l.PendingRemoteDeletes(ctx); n != 1 || mt.count() != 1 {
				t.Fatalf("queue %d, remote %d", n, mt.count())
			}
			l.drainRemoteDeletes(ctx)
			if n, _ := l.PendingRemoteDeletes(ctx); n != 1 {
				t.Fatal("queue entry lost while the tier is down")
			}
			mt.setDown(false)
			l.drainRemoteDeletes(ctx)
			if n, _ := l.PendingRemoteDeletes(ctx); n != 0 || mt.count() != 0 {
				t.Fatalf("after the tier came back: queue %d, remote %d", n, mt.count())
			}
		})
	}
}

func TestTransitionMultipartAndVersions(t *testing.T) {
	ctx := context.Background()
	l := newTestLayer(t, 4, 2)
	mt := newMemTier()
	l.SetTiers(mt)
	mkBucket(t, l, "ver")
	if err := l.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil }); err != nil {
		t.Fatal(err)
	}
	id, err := l.NewMultipartUpload(ctx, "ver", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randData(1, 5<<20), randData(2, 100<<10)
	var parts []CompletePart
	for i, p := range [][]byte{p1, p2} {
		pi, err := l.PutObjectPart(ctx, "ver", "mp", id, i+1, bytes.NewReader(p), PartOptions{Size: int64(len(p))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	v1, err := l.CompleteMultipartUpload(ctx, "ver", "mp", id, parts, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v2 := l.put(t, "ver", "mp", []byte("newer"))
	whole := append(append([]byte{}, p1...), p2...)
	if err := l.TransitionObject(ctx, "ver", "mp", TransitionOptions{VersionID: v1.VersionID, Tier: "COLD"}); err != nil {
		t.Fatal(err)
	}
	got, err := l.get(t, "ver", "mp", v1.VersionID, 0, -1)
	if err != nil || !bytes.Equal(got, whole) {
		t.Fatalf("GET of the transitioned noncurrent version: %v", err)
	}
	if got, _ := l.get(t, "ver", "mp", "", 0, -1); string(got) != "newer" {
		t.Fatalf("current version reads %q", got)
	}
	if _, err := l.RestoreObject(ctx, "ver", "mp", RestoreOptions{VersionID: v2.VersionID, Days: 1}); !errors.Is(err, ErrInvalidObjectState) {
		t.Fatalf("restore of a version never transitioned: %v", err)
	}
	if _, err := l.RestoreObject(ctx, "ver", "mp", RestoreOptions{VersionID: v1.VersionID, Days: 1}); err != nil {
		t.Fatal(err)
	}
	mt.setDown(true)
	got, err = l.get(t, "ver", "mp", v1.VersionID, 5<<20-3, 10)
	if err != nil || !bytes.Equal(got, whole[5<<20-3:5<<20+7]) {
		t.Fatalf("range across parts of the restored copy: %v", err)
	}
	if res, err := l.HealObject(ctx, "ver", "mp", HealOptions{Verify: true}); err != nil || res.ShardsRebuilt != 0 {
		t.Fatalf("heal of a healthy restored object: %+v %v", res, err)
	}
	mt.setDown(false)
	if _, err := l.DeleteObject(ctx, "ver", "mp", DeleteOptions{VersionID: v1.VersionID}); err != nil {
		t.Fatal(err)
	}
	if mt.count() != 0 {
		t.Fatal("deleting the version left its remote copy")
	}
	// KeepRemote: the copy stays.
	mt.keep = true
	v3 := l.put(t, "ver", "k", []byte("kept"))
	if err := l.TransitionObject(ctx, "ver", "k", TransitionOptions{VersionID: v3.VersionID, Tier: "COLD"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DeleteObject(ctx, "ver", "k", DeleteOptions{VersionID: v3.VersionID}); err != nil || mt.count() != 1 {
		t.Fatalf("delete with KeepRemote: %v, %d remote", err, mt.count())
	}
}

// TestTransitionRaces: an overwrite during the upload, or a tier that fails,
// leaves the object as it was and no remote copy behind.
func TestTransitionRaces(t *testing.T) {
	ctx := context.Background()
	l := newTestLayer(t, 4, 2)
	mt := newMemTier()
	l.SetTiers(mt)
	mkBucket(t, l, "bkt")
	data := randData(3, 50<<10)
	oi := l.put(t, "bkt", "k", data)

	mt.setDown(true)
	err := l.TransitionObject(ctx, "bkt", "k", TransitionOptions{Tier: "COLD", ModTime: oi.ModTime})
	if !errors.Is(err, ErrTierUnavailable) {
		t.Fatalf("transition to a tier that is down: %v", err)
	}
	mt.setDown(false)
	if got, err := l.get(t, "bkt", "k", "", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("object after a failed transition: %v", err)
	}

	// An overwrite while the data is on its way to the tier: it does not wait
	// for the upload, and the transition then finds the version changed.
	mt.putHook = func() {
		mt.putHook = nil
		l.put(t, "bkt", "k", []byte("overwritten"))
	}
	err = l.TransitionObject(ctx, "bkt", "k", TransitionOptions{Tier: "COLD"})
	if !errors.Is(err, ErrVersionChanged) {
		t.Fatalf("transition racing an overwrite: %v", err)
	}
	info, _ := l.StatObject(ctx, "bkt", "k", GetOptions{})
	if got, _ := l.get(t, "bkt", "k", "", 0, -1); string(got) != "overwritten" || info.Transition != nil {
		t.Fatalf("after the race: %q, transition %+v", got, info.Transition)
	}
	if mt.count() != 0 {
		t.Fatalf("%d remote copies left behind", mt.count())
	}
	// A delete during the upload: the same.
	mt.putHook = func() {
		mt.putHook = nil
		if _, err := l.DeleteObject(ctx, "bkt", "k", DeleteOptions{}); err != nil {
			t.Error(err)
		}
	}
	if err := l.TransitionObject(ctx, "bkt", "k", TransitionOptions{Tier: "COLD"}); !errors.Is(err, ErrVersionChanged) {
		t.Fatalf("transition racing a delete: %v", err)
	}
	if _, err := l.StatObject(ctx, "bkt", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) || mt.count() != 0 {
		t.Fatalf("after the delete race: %v, %d remote copies", err, mt.count())
	}
	// An overwrite while a big object's shards are being read (they vanish
	// under the reader): no copy is kept, the new data is intact.
	big := randData(4, 3<<20)
	l.put(t, "bkt", "big", big)
	slow := &slowTier{memTier: mt, afterFirst: func() { l.put(t, "bkt", "big", []byte("new")) }}
	l.SetTiers(slow)
	err = l.TransitionObject(ctx, "bkt", "big", TransitionOptions{Tier: "COLD"})
	if !errors.Is(err, ErrVersionChanged) {
		t.Fatalf("transition whose data was freed mid-read: %v", err)
	}
	if got, _ := l.get(t, "bkt", "big", "", 0, -1); string(got) != "new" || mt.count() != 0 {
		t.Fatalf("after the mid-read overwrite: %q, %d remote copies", got, mt.count())
	}
	l.SetTiers(mt)
	if err := l.TransitionObject(ctx, "bkt", "nope", TransitionOptions{Tier: "COLD"}); !errors.Is(err, ErrVersionNotFound) && !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("transition of a missing object: %v", err)
	}
}

// dataFilesOn counts version data files and directories on drive i.
func dataFilesOn(l *testLayer, i int, bucket string) int {
	n := 0
	filepath.Walk(filepath.Join(l.roots[i], bucket), func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), dataDirInfix) {
			n++
		}
		return nil
	})
	return n
}

// TestTransitionHeal: a drive that missed the transition (offline) is brought
// to the stub by healing and its shard freed; one that missed the restore gets
// its shard of the restored copy rebuilt.
func TestTransitionHeal(t *testing.T) {
	ctx := context.Background()
	l := newTestLayer(t, 6, 2)
	mt := newMemTier()
	l.SetTiers(mt)
	mkBucket(t, l, "bkt")
	data := randData(11, 300<<10)
	l.put(t, "bkt", "k", data)

	l.faulty[2].FailAll(drive.ErrOffline)
	if err := l.TransitionObject(ctx, "bkt", "k", TransitionOptions{Tier: "COLD"}); err != nil {
		t.Fatal(err)
	}
	l.faulty[2].FailAll(nil)
	if dataFilesOn(l, 2, "bkt") != 1 || dataFilesOn(l, 0, "bkt") != 0 {
		t.Fatal("setup: drive 2 should still hold its shard, the others none")
	}
	if got, err := l.get(t, "bkt", "k", "", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GET with one drive behind: %v", err)
	}
	if _, err := l.HealObject(ctx, "bkt", "k", HealOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := dataFilesOn(l, 2, "bkt"); n != 0 {
		t.Fatalf("heal left drive 2's shard of the transitioned version (%d files)", n)
	}
	raw, err := os.ReadFile(filepath.Join(l.roots[2], "bkt", "k"+metaSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := meta.Unmarshal(raw); err != nil || f.Versions[0].Transition == nil {
		t.Fatalf("drive 2's metadata after heal: %v %+v", err, f)
	}

	l.faulty[4].FailAll(drive.ErrOffline)
	if _, err := l.RestoreObject(ctx, "bkt", "k", RestoreOptions{Days: 1}); err != nil {
		t.Fatal(err)
	}
	l.faulty[4].FailAll(nil)
	if res, err := l.HealObject(ctx, "bkt", "k", HealOptions{}); err != nil || res.ShardsRebuilt != 1 || dataFilesOn(l, 4, "bkt") != 1 {
		t.Fatalf("heal after a missed restore: %+v %v, %d files on drive 4", res, err, dataFilesOn(l, 4, "bkt"))
	}
	mt.setDown(true)
	l.faulty[0].FailAll(drive.ErrOffline)
	l.faulty[1].FailAll(drive.ErrOffline)
	if got, err := l.get(t, "bkt", "k", "", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("restored copy with two drives and the tier down: %v", err)
	}
}

// slowTier reads the first 64 KiB of a Put, runs afterFirst, then the rest.
type slowTier struct {
	*memTier
	afterFirst func()
}

func (s *slowTier) Tier(ctx context.Context, name string) (RemoteTier, bool, error) {
	return s, false, nil
}

func (s *slowTier) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(r, head); err != nil {
		return err
	}
	s.afterFirst()
	return s.memTier.Put(ctx, key, io.MultiReader(bytes.NewReader(head), r), size)
}

// TestTransitionPoolDrain: draining a pool moves stubs as metadata (their data
// stays in the tier, its remote copy is not deleted) and restored copies with
// their data.
func TestTransitionPoolDrain(t *testing.T) {
	ctx := context.Background()
	l := newTestLayer(t, 6, 2)
	mt := newMemTier()
	l.SetTiers(mt)
	mkBucket(t, l, "bkt")
	stub, restored := randData(21, 200<<10), randData(22, 100<<10)
	l.put(t, "bkt", "stub", stub)
	l.put(t, "bkt", "restored", restored)
	for _, k := range []string{"stub", "restored"} {
		if err := l.TransitionObject(ctx, "bkt", k, TransitionOptions{Tier: "COLD"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.RestoreObject(ctx, "bkt", "restored", RestoreOptions{Days: 3}); err != nil {
		t.Fatal(err)
	}
	reads := func() int64 { return l.TierStats().RemoteReads }
	before := reads()
	newPool, _ := newDrives(t, 6)
	if err := l.AddPool(ctx, 1, [][]drive.Drive{newPool}, 2, AddPoolOptions{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	if err := l.Decommission(ctx, 0, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("drain did not finish")
	}
	if reads() != before {
		t.Fatal("the drain read a stub's data from the tier")
	}
	if mt.count() != 2 {
		t.Fatalf("the tier holds %d copies after the drain, want 2", mt.count())
	}
	for k, want := range map[string][]byte{"stub": stub, "restored": restored} {
		info, err := l.StatObject(ctx, "bkt", k, GetOptions{})
		if err != nil || info.Transition == nil {
			t.Fatalf("%s after the drain: %v %+v", k, err, info.Transition)
		}
		if got, err := l.get(t, "bkt", k, "", 0, -1); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("GET %s after the drain: %v", k, err)
		}
	}
	mt.setDown(true)
	if got, err := l.get(t, "bkt", "restored", "", 0, -1); err != nil || !bytes.Equal(got, restored) {
		t.Fatalf("the restored copy did not move with the drain: %v", err)
	}
}
