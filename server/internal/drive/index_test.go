//go:build unix

package drive_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// A toy metadata naming for the index: "<bucket>/<key>.m" files.
func testIndexConfig(journalMax int) drive.IndexConfig {
	return drive.IndexConfig{
		Key: func(p string) (string, string, bool) {
			stem, ok := strings.CutSuffix(p, ".m")
			if !ok || strings.HasPrefix(p, ".") {
				return "", "", false
			}
			b, k, ok := strings.Cut(stem, "/")
			return b, k, ok
		},
		JournalMax: journalMax,
	}
}

func openIndexed(t *testing.T, root string, journalMax int) *drive.Local {
	t.Helper()
	d, err := drive.OpenLocal(root, drive.NewSyncGroup())
	if err != nil {
		t.Fatal(err)
	}
	d.EnableIndex(testIndexConfig(journalMax))
	return d
}

// scanAll reads the whole index of bucket from from, page by page.
func scanAll(t *testing.T, d drive.Drive, bucket, from string, page int) map[string]string {
	t.Helper()
	return scanQuery(t, d, bucket, drive.ScanQuery{From: from, Limit: page})
}

// scanQuery reads the whole index of bucket from q.From on, q.Limit keys a page.
func scanQuery(t *testing.T, d drive.Drive, bucket string, q drive.ScanQuery) map[string]string {
	t.Helper()
	out := map[string]string{}
	last, from := "", q.From
	for {
		q.From = from
		p, err := d.Scan(context.Background(), bucket, q)
		if err != nil {
			t.Fatalf("scan from %q: %v", from, err)
		}
		for _, e := range p.Entries {
			if e.Key <= last && last != "" {
				t.Fatalf("out of order: %q after %q", e.Key, last)
			}
			last = e.Key
			out[e.Key] = string(e.Value)
		}
		if p.End {
			return out
		}
		if p.Next <= from {
			t.Fatalf("scan does not advance: next %q from %q", p.Next, from)
		}
		from = p.Next
	}
}

func waitIndex(t *testing.T, d drive.Drive, bucket string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := d.Scan(context.Background(), bucket, drive.ScanQuery{Limit: 1})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index of %s not ready: %v", bucket, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIndex(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := openIndexed(t, root, 50) // small journals: many merges
	want := map[string]string{}
	put := func(k, v string) {
		t.Helper()
		if err := d.WriteFile(ctx, "bkt/"+k+".m", []byte(v)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	for i := 0; i < 700; i++ {
		put(fmt.Sprintf("k%04d", (i*7919)%700), fmt.Sprintf("v%d", i))
	}
	// Create streams and Delete: the index follows.
	w, err := d.Create(ctx, "bkt/streamed.m")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "from a stream")
	w.Close()
	want["streamed"] = "from a stream"
	for i := 0; i < 700; i += 3 {
		k := fmt.Sprintf("k%04d", i)
		d.Delete(ctx, "bkt/"+k+".m", false)
		delete(want, k)
	}
	d.WriteFile(ctx, "bkt/not-metadata", []byte("x"))
	d.WriteFile(ctx, "other/k.m", []byte("other bucket"))
	time.Sleep(100 * time.Millisecond) // merges in the background
	for _, page := range []int{1, 7, 1000} {
		if got := scanAll(t, d, "bkt", "", page); !maps.Equal(got, want) {
			t.Fatalf("page %d: index has %d keys, want %d", page, len(got), len(want))
		}
	}
	if got := scanAll(t, d, "bkt", "k0500", 10); len(got) != countFrom(want, "k0500") {
		t.Fatalf("from k0500: %d keys, want %d", len(got), countFrom(want, "k0500"))
	}

	t.Run("clean restart keeps the index", func(t *testing.T) {
		d.Close()
		d = openIndexed(t, root, 50)
		if got := scanAll(t, d, "bkt", "", 100); !maps.Equal(got, want) {
			t.Fatalf("after a clean restart: %d keys, want %d", len(got), len(want))
		}
	})
	t.Run("unclean restart rebuilds it from the files", func(t *testing.T) {
		put("after-restart", "x")
		// Keys in directories, some sorting between a directory's keys and
		// others (the rebuild walks the files in key order).
		for _, k := range []string{"a/b", "a/c/d", "a-c", "a0", "a", "a/c-e", "a/c0", "z/y/x"} {
			os.MkdirAll(filepath.Join(root, "bkt", filepath.Dir(k)), 0o755)
			put(k, "nested "+k)
		}
		// No Close: as after kill -9. A change made behind the index's back is
		// found by the rebuild.
		os.WriteFile(filepath.Join(root, "bkt", "sneaky.m"), []byte("s"), 0o644)
		want["sneaky"] = "s"
		d2 := openIndexed(t, root, 50)
		if _, err := d2.Scan(ctx, "bkt", drive.ScanQuery{Limit: 10}); err == nil {
			t.Fatal("index trusted after an unclean stop")
		}
		waitIndex(t, d2, "bkt")
		if got := scanAll(t, d2, "bkt", "", 100); !maps.Equal(got, want) {
			t.Fatalf("rebuilt: %d keys, want %d", len(got), len(want))
		}
		d2.Close()
		d = openIndexed(t, root, 50)
	})
	t.Run("corrupt snapshot is rebuilt", func(t *testing.T) {
		d.Close()
		snap := filepath.Join(root, ".cairn", "index", "snap", "bkt.snap")
		raw, err := os.ReadFile(snap)
		if err != nil {
			ents, _ := os.ReadDir(filepath.Dir(snap))
			st, _ := os.ReadFile(filepath.Join(root, ".cairn", "index", "state"))
			t.Fatalf("%v (dir: %v, state %q)", err, ents, st)
		}
		raw[len(raw)/2] ^= 0x40
		os.WriteFile(snap, raw, 0o644)
		d = openIndexed(t, root, 50)
		waitIndex(t, d, "bkt")
		if got := scanAll(t, d, "bkt", "", 100); !maps.Equal(got, want) {
			t.Fatalf("after corruption: %d keys, want %d", len(got), len(want))
		}
	})
	t.Run("values of another version are rebuilt", func(t *testing.T) {
		d.Close()
		d, _ = drive.OpenLocal(root, drive.NewSyncGroup())
		cfg := testIndexConfig(50)
		cfg.Version = "v2"
		cfg.Value = func(b []byte) []byte { return append([]byte("v2:"), b...) }
		d.EnableIndex(cfg)
		waitIndex(t, d, "bkt")
		got := scanAll(t, d, "bkt", "", 100)
		if len(got) != len(want) || got["sneaky"] != "v2:s" {
			t.Fatalf("after a version change: %d keys, sneaky=%q", len(got), got["sneaky"])
		}
		for k, v := range got {
			want[k] = v
		}
	})
	t.Run("a deleted bucket's index goes", func(t *testing.T) {
		if err := d.Delete(ctx, "bkt", true); err != nil {
			t.Fatal(err)
		}
		if got := scanAll(t, d, "bkt", "", 100); len(got) != 0 {
			t.Fatalf("deleted bucket still indexed: %v", slices.Sorted(maps.Keys(got))[:3])
		}
	})
	d.Close()
}

func countFrom(m map[string]string, from string) int {
	n := 0
	for k := range m {
		if k >= from {
			n++
		}
	}
	return n
}

// Scan over the storage RPC returns what the local index holds.
func TestIndexRemote(t *testing.T) {
	ctx := context.Background()
	// A small journal: values come from the snapshot and from journals, some
	// of them newer than the snapshot's (digests must be of the newest).
	d := openIndexed(t, t.TempDir(), 300)
	defer d.Close()
	for i := 0; i < 2500; i++ {
		d.WriteFile(ctx, fmt.Sprintf("bkt/%05d.m", i), []byte(strings.Repeat("v", i%50)))
	}
	for i := 0; i < 2500; i += 7 {
		d.WriteFile(ctx, fmt.Sprintf("bkt/%05d.m", i), []byte(strings.Repeat("w", i%50)))
	}
	remote := remoteFor(t, d)
	local := scanAll(t, d, "bkt", "", 1000)
	got := scanAll(t, remote, "bkt", "", 1000)
	if len(local) != 2500 || !maps.Equal(got, local) {
		t.Fatalf("remote scan: %d keys, local %d", len(got), len(local))
	}
	if _, err := remote.Scan(ctx, "bkt", drive.ScanQuery{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	// With a digest key, local and remote send each value's digest under it
	// instead; another key gives other digests.
	key, other := drive.NewDigestKey(), drive.NewDigestKey()
	want := map[string]string{}
	for k, v := range local {
		if k >= "00100" {
			sum := drive.IndexDigest(key, []byte(v))
			want[k] = string(sum[:])
		}
	}
	if drive.IndexDigest(key, []byte("v")) == drive.IndexDigest(key, []byte("vv")) {
		t.Fatal("different values, one digest")
	}
	if drive.IndexDigest(key, []byte("v")) == drive.IndexDigest(other, []byte("v")) {
		t.Fatal("different keys, one digest")
	}
	for _, dr := range []drive.Drive{d, remote} {
		got := scanQuery(t, dr, "bkt", drive.ScanQuery{From: "00100", Limit: 700, Digest: key})
		if len(got) != 2400 || !maps.Equal(got, want) {
			t.Fatalf("%v: scan with digests: %d keys, want 2400 digests", dr, len(got))
		}
	}
	// A digest key that is not 32 bytes in hex is refused.
	for _, bad := range []string{"zz", "00", strings.Repeat("0", 66)} {
		base := strings.TrimSuffix(remote.String(), d.Root())
		req, _ := http.NewRequest(http.MethodPost, base+drive.RPCPrefix+strings.TrimPrefix(d.Root(), "/")+"/scan?bucket=bkt&limit=10&digest="+bad, nil)
		drive.NewRPCAuth("k").Sign(req, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("digest key %q: HTTP %d, want 400", bad, resp.StatusCode)
		}
	}
	plain, _ := drive.OpenLocal(t.TempDir(), drive.NewSyncGroup())
	defer plain.Close()
	if _, err := remoteFor(t, plain).Scan(ctx, "bkt", drive.ScanQuery{Limit: 10}); err == nil || !strings.Contains(err.Error(), "index") {
		t.Fatalf("remote drive without an index: %v", err)
	}
}

// remoteFor serves d over the storage RPC and returns a Remote for it.
func remoteFor(t *testing.T, d *drive.Local) *drive.Remote {
	t.Helper()
	auth := drive.NewRPCAuth("k")
	h := &drive.RPCHandler{Drives: map[string]drive.Drive{d.Root(): d}, Auth: auth}
	mux := http.NewServeMux()
	mux.Handle(drive.RPCPrefix, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return drive.NewRemote(srv.URL, d.Root(), auth, drive.RemoteOptions{Client: srv.Client(), Timeout: 5 * time.Second})
}

// Changes counts every change to a bucket's metadata files before the
// changing call returns, and never repeats a number for a bucket, even one
// deleted and created again.
func TestIndexChanges(t *testing.T) {
	ctx := context.Background()
	d := openIndexed(t, t.TempDir(), 0)
	defer d.Close()
	seen := map[uint64]bool{}
	last := uint64(0)
	step := func(what string, change func() error, grows bool) {
		t.Helper()
		if err := change(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		n, ok := d.Changes("bkt")
		if !ok {
			t.Fatal("an indexed local drive does not count changes")
		}
		if grows && (n <= last || seen[n]) {
			t.Fatalf("%s: count %d after %d: not a new, larger number", what, n, last)
		}
		if !grows && n != last {
			t.Fatalf("%s: count went from %d to %d", what, last, n)
		}
		seen[n], last = true, n
	}
	step("write", func() error { return d.WriteFile(ctx, "bkt/a.m", []byte("1")) }, true)
	step("overwrite", func() error { return d.WriteFile(ctx, "bkt/a.m", []byte("2")) }, true)
	step("create", func() error {
		w, err := d.Create(ctx, "bkt/b.m")
		if err != nil {
			return err
		}
		w.Write([]byte("3"))
		return w.Close()
	}, true)
	step("rename", func() error { return d.Rename(ctx, "bkt/b.m", "bkt/c.m") }, true)
	step("delete", func() error { return d.Delete(ctx, "bkt/a.m", false) }, true)
	step("another bucket", func() error { return d.WriteFile(ctx, "other/a.m", []byte("x")) }, false)
	step("not metadata", func() error { return d.WriteFile(ctx, "bkt/data", []byte("x")) }, false)
	step("bucket deleted", func() error { return d.Delete(ctx, "bkt", true) }, true)
	step("bucket created again", func() error { return d.WriteFile(ctx, "bkt/a.m", []byte("1")) }, true)
	if _, ok := drive.Offline("x").Changes("bkt"); ok {
		t.Fatal("an offline drive claims to count changes")
	}
}

// ChangeCounts asks each node once for all its drives' counts, which move with
// a write on the node; a node that does not answer makes the counts unknown.
func TestChangeCounts(t *testing.T) {
	ctx := context.Background()
	local := openIndexed(t, t.TempDir(), 0)
	defer local.Close()
	a, b := openIndexed(t, t.TempDir(), 0), openIndexed(t, t.TempDir(), 0)
	defer a.Close()
	defer b.Close()
	auth := drive.NewRPCAuth("k")
	var calls atomic.Int32
	h := &drive.RPCHandler{Drives: map[string]drive.Drive{a.Root(): a, b.Root(): b}, Auth: auth}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	opts := drive.RemoteOptions{Client: srv.Client(), Timeout: 5 * time.Second}
	ra, rb := drive.NewRemote(srv.URL, a.Root(), auth, opts), drive.NewRemote(srv.URL, b.Root(), auth, opts)
	ds := []drive.Drive{local, ra, rb}
	before, ok := drive.ChangeCounts(ctx, ds, "bkt")
	if !ok || calls.Load() != 1 {
		t.Fatalf("counts %v, %v, in %d round trips; want one", before, ok, calls.Load())
	}
	b.WriteFile(ctx, "bkt/x.m", []byte("1"))
	after, ok := drive.ChangeCounts(ctx, ds, "bkt")
	if !ok || after[0] != before[0] || after[1] != before[1] || after[2] <= before[2] {
		t.Fatalf("after a write on the third drive: %v → %v (%v)", before, after, ok)
	}
	if n, _ := b.Changes("bkt"); after[2] != n {
		t.Fatalf("remote count %d, the drive's own %d", after[2], n)
	}
	srv.Close()
	if _, ok := drive.ChangeCounts(ctx, ds, "bkt"); ok {
		t.Fatal("counts from a node that is gone")
	}
	plain, _ := drive.OpenLocal(t.TempDir(), drive.NewSyncGroup())
	defer plain.Close()
	if _, ok := drive.ChangeCounts(ctx, []drive.Drive{local, plain}, "bkt"); ok {
		t.Fatal("counts from a drive without an index")
	}
}
