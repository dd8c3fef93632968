package objects

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// healFixture writes inline, single-file, multipart and versioned objects.
func healFixture(t *testing.T, l *testLayer) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	want := map[string][]byte{}
	for i, size := range []int{0, 100, 20 << 10, 200 << 10, 1 << 20} {
		k := fmt.Sprintf("obj/%d", i)
		want[k] = randData(int64(i), size)
		l.put(t, "bkt", k, want[k])
	}
	id, _ := l.NewMultipartUpload(ctx, "bkt", "multi", PutOptions{})
	p1, p2 := randData(50, MinPartSize), randData(51, 1000)
	var parts []CompletePart
	for i, p := range [][]byte{p1, p2} {
		pi, err := l.PutObjectPart(ctx, "bkt", "multi", id, i+1, bytes.NewReader(p), PartOptions{Size: int64(len(p))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	if _, err := l.CompleteMultipartUpload(ctx, "bkt", "multi", id, parts, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want["multi"] = append(append([]byte{}, p1...), p2...)
	return want
}

func (l *testLayer) checkAll(t *testing.T, want map[string][]byte) {
	t.Helper()
	for k, data := range want {
		got, err := l.get(t, "bkt", k, "", 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %v (len %d, want %d)", k, err, len(got), len(data))
		}
	}
}

func TestHealReplacedDrives(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	want := healFixture(t, l)
	ctx := context.Background()
	// Two drives are replaced by blank ones (their contents gone).
	for _, i := range []int{1, 4} {
		os.RemoveAll(filepath.Join(l.roots[i], "bkt"))
		os.MkdirAll(filepath.Join(l.roots[i], "bkt"), 0o755)
	}
	total := HealResult{}
	for k := range want {
		res, err := l.HealObject(ctx, "bkt", k, HealOptions{})
		if err != nil {
			t.Fatalf("heal %s: %v", k, err)
		}
		total.ShardsRebuilt += res.ShardsRebuilt
	}
	if total.ShardsRebuilt != 2*len(want) {
		t.Fatalf("rebuilt %d shards, want %d", total.ShardsRebuilt, 2*len(want))
	}
	// Healing again finds nothing to do.
	for k := range want {
		if res, err := l.HealObject(ctx, "bkt", k, HealOptions{Verify: true}); err != nil || res.ShardsRebuilt != 0 {
			t.Fatalf("second heal of %s: %+v %v", k, res, err)
		}
	}
	// The healed drives now carry the data: lose two other drives and read all.
	l.faulty[0].FailAll(drive.ErrOffline)
	l.faulty[5].FailAll(drive.ErrOffline)
	l.checkAll(t, want)
}

func TestHealCorruptShards(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	want := healFixture(t, l)
	ctx := context.Background()
	// Flip bytes in every shard file and inline metadata of drive 2.
	n := 0
	filepath.Walk(filepath.Join(l.roots[2], "bkt"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && isShardFile(p) {
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no shard files found")
	}
	// Without verification nothing looks wrong; with it, the corrupt shards are rebuilt.
	rebuilt := 0
	for k := range want {
		res, err := l.HealObject(ctx, "bkt", k, HealOptions{Verify: true})
		if err != nil {
			t.Fatalf("heal %s: %v", k, err)
		}
		rebuilt += res.ShardsRebuilt
	}
	// Five shard files on drive 2 belong to four objects (the multipart object has
	// two part files but one shard): four shards rebuilt.
	if n != 5 || rebuilt != 4 {
		t.Fatalf("rebuilt %d shards after corrupting %d shard files", rebuilt, n)
	}
	// Drive 2's shards are good again: lose two other drives and read everything.
	l.faulty[0].FailAll(drive.ErrOffline)
	l.faulty[1].FailAll(drive.ErrOffline)
	l.checkAll(t, want)
}

func TestHealRemovesStaleVersions(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	l.put(t, "bkt", "k", []byte("old"))
	// Drives 0 and 1 miss the delete (offline), so they keep a version the quorum removed.
	l.faulty[0].FailAll(drive.ErrOffline)
	l.faulty[1].FailAll(drive.ErrOffline)
	if _, err := l.DeleteObject(ctx, "bkt", "k", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	l.faulty[0].FailAll(nil)
	l.faulty[1].FailAll(nil)
	if _, err := l.StatObject(ctx, "bkt", "k", GetOptions{}); err == nil {
		t.Fatal("deleted object visible through two stale drives")
	}
	res, err := l.HealObject(ctx, "bkt", "k", HealOptions{})
	if err != nil || res.VersionsRemoved != 2 {
		t.Fatalf("heal: %+v %v", res, err)
	}
	for _, r := range l.roots[:2] {
		if _, err := os.Stat(filepath.Join(r, "bkt", "k"+metaSuffix)); !os.IsNotExist(err) {
			t.Fatalf("stale metadata left on %s", r)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScannerRebuildsReplacedDrive(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	want := healFixture(t, l)
	// Drive 3 replaced: an empty drive where it was (its index, built from
	// the empty drive, holds nothing; the scanner reads the indexes).
	old := l.faulty[3].Drive.(*drive.Local)
	old.Close()
	if err := os.RemoveAll(l.roots[3]); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(l.roots[3], 0o755)
	nd, err := drive.OpenLocal(l.roots[3], drive.NewSyncGroup())
	if err != nil {
		t.Fatal(err)
	}
	nd.EnableIndex(MetaIndex())
	t.Cleanup(func() { nd.Close() })
	l.faulty[3].Drive = nd
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.StartBackground(ctx, BackgroundOptions{ScanRate: 10000, ScanInterval: 10 * time.Millisecond})
	waitFor(t, "a full scanner cycle", func() bool { return l.HealStats().ScanCycles >= 1 })
	if st := l.HealStats(); st.ShardsHealed != int64(len(want)) || st.Scanned < int64(len(want)) {
		t.Fatalf("stats after a cycle: %+v", st)
	}
	cancel()
	l.faulty[0].FailAll(drive.ErrOffline)
	l.faulty[1].FailAll(drive.ErrOffline)
	l.checkAll(t, want)
}

func TestHealQueueSurvivesRestart(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	want := healFixture(t, l)
	// A GET that reconstructs queues the object; the queue entry is persisted.
	os.RemoveAll(filepath.Join(l.roots[0], "bkt"))
	os.RemoveAll(filepath.Join(l.roots[1], "bkt"))
	for k := range want {
		l.get(t, "bkt", k, "", 0, -1)
	}
	waitFor(t, "persisted queue entries", func() bool {
		names, _ := l.ListConfig(context.Background(), healQueueDir)
		// Only GETs that met a missing data shard queue the object (the rotation of
		// shards over drives is random).
		q := l.HealStats().Queued
		return q > 0 && int64(len(names)) == q
	})
	// A new layer over the same drives (a restart) picks the queue up and heals.
	l2, err := New(Config{Sets: l.Drives(), Parity: 2, DeploymentID: "test", BlockSize: 64 << 10, InlineLimit: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l2.StartBackground(ctx, BackgroundOptions{ScanInterval: time.Hour, ScanRate: 1}) // the scanner barely runs
	waitFor(t, "the queue to drain", func() bool {
		names, _ := l2.ListConfig(context.Background(), healQueueDir)
		return len(names) == 0 && l2.HealStats().Healed > 0
	})
	if st := l2.HealStats(); st.ShardsHealed == 0 {
		t.Fatalf("nothing healed from the reloaded queue: %+v", st)
	}
}

func TestScanHooksSeeEveryKey(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	want := healFixture(t, l)
	var mu sync.Mutex
	seen := map[string]int{}
	cycles := 0
	l.SetScanHooks(ScanHooks{
		Cycle: func(context.Context, int64) { mu.Lock(); cycles++; mu.Unlock() },
		Object: func(_ context.Context, bucket string, _ BucketConfig, key string, vs []ObjectInfo) {
			mu.Lock()
			defer mu.Unlock()
			if bucket == "bkt" && len(vs) > 0 && vs[0].IsLatest {
				seen[key]++
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.StartBackground(ctx, BackgroundOptions{ScanRate: 10000, ScanInterval: time.Hour})
	waitFor(t, "a cycle", func() bool { return l.HealStats().ScanCycles >= 1 })
	mu.Lock()
	defer mu.Unlock()
	if cycles != 1 || len(seen) != len(want) {
		t.Fatalf("cycles %d, keys seen %d of %d", cycles, len(seen), len(want))
	}
}

// Healing a delete marker onto a blank drive writes a valid metadata file
// (regression: the resolved view's placeholder shard index was written as is).
func TestHealDeleteMarker(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	mkBucket(t, l, "ver")
	l.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil })
	l.put(t, "ver", "doc", []byte("v1"))
	if _, err := l.DeleteObject(ctx, "ver", "doc", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(l.roots[0], "ver"))
	os.RemoveAll(filepath.Join(l.roots[1], "ver"))
	if _, err := l.HealObject(ctx, "ver", "doc", HealOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range l.roots[:2] {
		raw, err := os.ReadFile(filepath.Join(r, "ver", "doc"+metaSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := meta.Unmarshal(raw); err != nil {
			t.Fatalf("healed metadata on %s does not decode: %v", r, err)
		}
	}
	l.faulty[2].FailAll(drive.ErrOffline)
	l.faulty[3].FailAll(drive.ErrOffline)
	res, err := l.ListObjectVersions(ctx, "ver", ListOptions{})
	if err != nil || len(res.Objects) != 2 || !res.Objects[0].DeleteMarker {
		t.Fatalf("versions through the healed drives: %+v %v", res.Objects, err)
	}
}

// The scanner's configuration heal racing configuration writes never puts old
// content back: every write that returned is what a fresh read finds.
func TestConfigHealRacingWrites(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	mkBucket(t, l, "bkt")
	ctx := context.Background()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			l.healConfig(ctx)
		}
	}()
	for i := 0; i < 150; i++ {
		v := fmt.Sprint(i)
		if err := l.UpdateBucketConfig(ctx, "bkt", func(c *BucketConfig) error { c.Lifecycle = v; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := l.WriteConfig(ctx, "test/doc", []byte(v)); err != nil {
			t.Fatal(err)
		}
		cfg, err := l.readBucketConfig(ctx, "bkt")
		if err != nil || cfg.Lifecycle != v {
			close(stop)
			t.Fatalf("write %d: the bucket configuration reads back %q (%v)", i, cfg.Lifecycle, err)
		}
		if raw, err := l.ReadConfig(ctx, "test/doc"); err != nil || string(raw) != v {
			close(stop)
			t.Fatalf("write %d: the document reads back %q (%v)", i, raw, err)
		}
	}
	close(stop)
	<-done
}

// The scanner compares the drives' indexes; a metadata file removed behind the
// drive's back (its index still lists the key) is found by a deep cycle, which
// reads every drive's files like a bitrot check.
func TestDeepScanFindsMetadataRemovedOnDisk(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	want := healFixture(t, l)
	meta := filepath.Join(l.roots[2], filepath.FromSlash(objectStem("bkt", "obj/1")+metaSuffix))
	if err := os.Remove(meta); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.StartBackground(ctx, BackgroundOptions{ScanRate: 10000, ScanInterval: 10 * time.Millisecond, DeepEvery: 1})
	waitFor(t, "the metadata file healed", func() bool {
		_, err := os.Stat(meta)
		return err == nil
	})
	cancel()
	for _, i := range []int{0, 1} { // drive 2 is read
		l.faulty[i].FailAll(drive.ErrOffline)
	}
	l.checkAll(t, want)
}
