package objects

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// testLayer is a layer over n temp-dir drives, each wrapped for fault injection.
type testLayer struct {
	*Layer
	faulty []*drive.Faulty
	roots  []string
}

func newTestLayer(t *testing.T, n, parity int) *testLayer {
	t.Helper()
	return newTestLayerRemote(t, n, parity, n)
}

// newTestLayerRemote is newTestLayer with drives local and up reached through
// the storage RPC (a node's view of its peers' drives); faults are injected
// where the drives are.
func newTestLayerRemote(t *testing.T, n, parity, local int) *testLayer {
	t.Helper()
	g := drive.NewSyncGroup()
	auth := drive.NewRPCAuth("test")
	rpc := &drive.RPCHandler{Drives: map[string]drive.Drive{}, Auth: auth}
	var srv *httptest.Server
	if local < n {
		srv = httptest.NewServer(rpc)
		t.Cleanup(srv.Close)
	}
	tl := &testLayer{}
	var ds []drive.Drive
	for i := 0; i < n; i++ {
		root := filepath.Join(t.TempDir(), fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		ld, err := drive.OpenLocal(root, g)
		if err != nil {
			t.Fatal(err)
		}
		ld.EnableIndex(MetaIndex()) // listings read the index (index.go)
		t.Cleanup(func() { ld.Close() })
		f := drive.NewFaulty(ld)
		tl.faulty = append(tl.faulty, f)
		tl.roots = append(tl.roots, root)
		if i < local {
			ds = append(ds, f)
			continue
		}
		rpc.Drives[root] = f
		ds = append(ds, drive.NewRemote(srv.URL, root, auth, drive.RemoteOptions{Client: srv.Client(), Timeout: 10 * time.Second}))
	}
	l, err := New(Config{Sets: [][]drive.Drive{ds}, Parity: parity, DeploymentID: "test", BlockSize: 64 << 10, InlineLimit: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	tl.Layer = l
	t.Cleanup(func() { l.Close() })
	return tl
}

func randData(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func (tl *testLayer) put(t *testing.T, bucket, key string, data []byte) ObjectInfo {
	t.Helper()
	oi, err := tl.PutObject(context.Background(), bucket, key, bytes.NewReader(data), PutOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return oi
}

func (tl *testLayer) get(t *testing.T, bucket, key, version string, off, n int64) ([]byte, error) {
	t.Helper()
	o, err := tl.OpenObject(context.Background(), bucket, key, GetOptions{VersionID: version})
	if err != nil {
		return nil, err
	}
	defer o.Close()
	if n < 0 {
		n = o.Info().Size - off
	}
	var buf bytes.Buffer
	err = o.WriteRange(context.Background(), &buf, off, n)
	return buf.Bytes(), err
}

func mkBucket(t *testing.T, l *testLayer, name string) {
	t.Helper()
	if err := l.MakeBucket(context.Background(), name, BucketConfig{}); err != nil {
		t.Fatal(err)
	}
}

func TestPutGetSizes(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	for _, size := range []int{0, 1, 100, 16 << 10, 16<<10 + 1, 64 << 10, 64<<10 + 7, 300 << 10, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := randData(int64(size), size)
			key := fmt.Sprintf("obj-%d", size)
			oi := l.put(t, "bkt", key, data)
			if want := fmt.Sprintf("%x", md5.Sum(data)); oi.ETag != want || oi.Size != int64(size) {
				t.Fatalf("info %+v, want etag %s", oi, want)
			}
			got, err := l.get(t, "bkt", key, "", 0, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("get: %v (len %d)", err, len(got))
			}
			if size > 10 {
				got, err = l.get(t, "bkt", key, "", 3, int64(size-10))
				if err != nil || !bytes.Equal(got, data[3:size-7]) {
					t.Fatalf("range get: %v", err)
				}
			}
		})
	}
}

func TestPutUnknownSizeAndSlowReaders(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	mkBucket(t, l, "bkt")
	for name, size := range map[string]int{"small": 1000, "large": 200 << 10} {
		t.Run(name, func(t *testing.T) {
			data := randData(7, size)
			_, err := l.PutObject(context.Background(), "bkt", name, iotest.OneByteReader(iotest.HalfReader(bytes.NewReader(data))), PutOptions{Size: -1})
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.get(t, "bkt", name, "", 0, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("get: %v", err)
			}
		})
	}
}

func TestBadBodies(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	ctx := context.Background()
	data := randData(1, 200<<10)
	cases := map[string]struct {
		body io.Reader
		opts PutOptions
		want error
	}{
		"short body":      {bytes.NewReader(data[:1000]), PutOptions{Size: int64(len(data))}, ErrIncompleteBody},
		"short large":     {bytes.NewReader(data[:100<<10]), PutOptions{Size: int64(len(data))}, ErrIncompleteBody},
		"bad md5":         {bytes.NewReader(data), PutOptions{Size: int64(len(data)), ContentMD5: make([]byte, 16)}, ErrBadDigest},
		"body error":      {iotest.DataErrReader(iotest.ErrReader(errors.New("client gone"))), PutOptions{Size: 10}, nil},
		"body error late": {io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("client gone"))), PutOptions{Size: int64(len(data)) + 10}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := l.PutObject(ctx, "bkt", name, c.body, c.opts)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if _, err := l.StatObject(ctx, "bkt", name, GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("failed PUT left something visible: %v", err)
			}
		})
	}
	assertNoTemp(t, l)
}

func assertNoTemp(t *testing.T, l *testLayer) {
	t.Helper()
	for _, r := range l.roots {
		ents, _ := os.ReadDir(filepath.Join(r, ".cairn/tmp"))
		if len(ents) > 0 {
			t.Fatalf("temp leftovers on %s: %d entries", r, len(ents))
		}
	}
}

func TestDriveLoss(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	objs := map[string][]byte{}
	for i, size := range []int{0, 10, 5000, 70 << 10, 500 << 10} {
		k := fmt.Sprintf("k%d", i)
		objs[k] = randData(int64(i), size)
		l.put(t, "bkt", k, objs[k])
	}
	check := func(t *testing.T) {
		for k, want := range objs {
			got, err := l.get(t, "bkt", k, "", 0, -1)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: %v", k, err)
			}
		}
	}
	l.faulty[1].FailAll(drive.ErrOffline)
	l.faulty[4].FailAll(drive.ErrOffline)
	t.Run("two offline: reads", check)
	t.Run("two offline: writes", func(t *testing.T) {
		objs["new"] = randData(99, 300<<10)
		l.put(t, "bkt", "new", objs["new"])
		check(t)
	})
	l.faulty[5].FailAll(drive.ErrOffline)
	t.Run("three offline", func(t *testing.T) {
		if _, err := l.get(t, "bkt", "k4", "", 0, -1); !errors.Is(err, ErrReadQuorum) {
			t.Fatalf("read with 3 of 6 drives: %v", err)
		}
		_, err := l.PutObject(context.Background(), "bkt", "nope", bytes.NewReader([]byte("x")), PutOptions{Size: 1})
		if !errors.Is(err, ErrWriteQuorum) {
			t.Fatalf("write with 3 of 6 drives: %v", err)
		}
	})
	for _, f := range l.faulty {
		f.FailAll(nil)
	}
	t.Run("back online", func(t *testing.T) {
		check(t)
		if _, err := l.StatObject(context.Background(), "bkt", "nope", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
			t.Fatalf("failed write visible: %v", err)
		}
	})
}

func TestBitrotReconstructed(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	data := randData(3, 400<<10)
	l.put(t, "bkt", "x", data)
	small := randData(4, 1000)
	l.put(t, "bkt", "small", small)
	// Flip bytes in the data files of the two drives holding data shards 0 and 1
	// (a GET reads data shards first, so the corruption must be met and detected).
	flipped := 0
	for _, r := range l.roots {
		raw, err := os.ReadFile(filepath.Join(r, "bkt", "x"+metaSuffix))
		if err != nil {
			t.Fatal(err)
		}
		mf, err := meta.Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		if mf.Versions[0].Erasure.Index > 1 {
			continue
		}
		filepath.Walk(filepath.Join(r, "bkt"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && isShardFile(p) {
				b, _ := os.ReadFile(p)
				for i := 20; i < len(b); i += 4096 {
					b[i] ^= 0xff
				}
				os.WriteFile(p, b, 0o644)
				flipped++
			}
			return nil
		})
	}
	if flipped != 2 {
		t.Fatalf("flipped %d files", flipped)
	}
	got, err := l.get(t, "bkt", "x", "", 0, -1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get after bitrot: %v", err)
	}
	if st := l.Stats(); st.ShardsCorrupt == 0 {
		t.Fatalf("corruption not counted: %+v", st)
	}
	// Corrupting a third shard (data shard 2) must fail the read, never return wrong data.
	for _, r := range l.roots {
		raw, _ := os.ReadFile(filepath.Join(r, "bkt", "x"+metaSuffix))
		if mf, err := meta.Unmarshal(raw); err != nil || mf.Versions[0].Erasure.Index != 2 {
			continue
		}
		filepath.Walk(filepath.Join(r, "bkt"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && isShardFile(p) {
				b, _ := os.ReadFile(p)
				b[30] ^= 1
				os.WriteFile(p, b, 0o644)
			}
			return nil
		})
	}
	var buf bytes.Buffer
	o, err := l.OpenObject(context.Background(), "bkt", "x", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = o.WriteRange(context.Background(), &buf, 0, int64(len(data)))
	o.Close()
	if err == nil {
		t.Fatal("read with 3 corrupt shards succeeded")
	}
	if !bytes.Equal(buf.Bytes(), data[:buf.Len()]) {
		t.Fatal("wrong bytes written before the failure")
	}
}

func TestVersioning(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	ctx := context.Background()
	mkBucket(t, l, "ver")
	l.put(t, "ver", "k", []byte("null-version"))
	if err := l.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil }); err != nil {
		t.Fatal(err)
	}
	v1 := l.put(t, "ver", "k", []byte("one"))
	v2 := l.put(t, "ver", "k", []byte("two"))
	if v1.VersionID == v2.VersionID || v1.VersionID == NullVersion {
		t.Fatalf("version ids %q %q", v1.VersionID, v2.VersionID)
	}
	del, err := l.DeleteObject(ctx, "ver", "k", DeleteOptions{})
	if err != nil || !del.DeleteMarker {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := l.StatObject(ctx, "ver", "k", GetOptions{}); !errors.Is(err, ErrDeleteMarker) {
		t.Fatalf("latest should be a delete marker: %v", err)
	}
	for id, want := range map[string]string{v1.VersionID: "one", v2.VersionID: "two", NullVersion: "null-version"} {
		got, err := l.get(t, "ver", "k", id, 0, -1)
		if err != nil || string(got) != want {
			t.Fatalf("version %s: %q %v", id, got, err)
		}
	}
	res, err := l.ListObjectVersions(ctx, "ver", ListOptions{})
	if err != nil || len(res.Objects) != 4 || !res.Objects[0].DeleteMarker || !res.Objects[0].IsLatest {
		t.Fatalf("versions: %+v %v", res, err)
	}
	// Paging through versions one at a time sees each exactly once.
	var seen []string
	opts := ListOptions{MaxKeys: 1}
	for {
		page, err := l.ListObjectVersions(ctx, "ver", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			seen = append(seen, o.VersionID)
		}
		if !page.IsTruncated {
			break
		}
		opts.Marker, opts.VersionMarker = page.NextMarker, page.NextVersionMarker
	}
	if len(seen) != 4 {
		t.Fatalf("paged versions: %v", seen)
	}
	if lo, _ := l.ListObjects(ctx, "ver", ListOptions{}); len(lo.Objects) != 0 {
		t.Fatalf("delete-marked key listed: %+v", lo.Objects)
	}
	// Removing the delete marker brings v2 back.
	if _, err := l.DeleteObject(ctx, "ver", "k", DeleteOptions{VersionID: del.VersionID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.get(t, "ver", "k", "", 0, -1); string(got) != "two" {
		t.Fatalf("after removing marker: %q", got)
	}
	// Suspended: writes replace the null version.
	l.UpdateBucketConfig(ctx, "ver", func(c *BucketConfig) error { c.Versioning = VersioningSuspended; return nil })
	s1 := l.put(t, "ver", "k", []byte("s1"))
	l.put(t, "ver", "k", []byte("s2"))
	if s1.VersionID != NullVersion {
		t.Fatalf("suspended version id %q", s1.VersionID)
	}
	res, _ = l.ListObjectVersions(ctx, "ver", ListOptions{})
	if len(res.Objects) != 3 { // null(s2), v2, v1
		t.Fatalf("suspended versions: %d", len(res.Objects))
	}
	if err := l.DeleteBucket(ctx, "ver"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("delete non-empty versioned bucket: %v", err)
	}
}

func TestConditionalPutOneWinner(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, fails := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.PutObject(context.Background(), "bkt", "lock", strings.NewReader(fmt.Sprint(i)), PutOptions{Size: int64(len(fmt.Sprint(i))), Conditions: Conditions{IfNoneMatch: "*"}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrPreconditionFailed):
				fails++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || fails != 49 {
		t.Fatalf("wins %d fails %d", wins, fails)
	}
	oi, _ := l.StatObject(context.Background(), "bkt", "lock", GetOptions{})
	if _, err := l.PutObject(context.Background(), "bkt", "lock", strings.NewReader("x"), PutOptions{Size: 1, Conditions: Conditions{IfMatch: "nope"}}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-Match wrong etag: %v", err)
	}
	if _, err := l.PutObject(context.Background(), "bkt", "lock", strings.NewReader("x"), PutOptions{Size: 1, Conditions: Conditions{IfMatch: `"` + oi.ETag + `"`}}); err != nil {
		t.Fatalf("If-Match right etag: %v", err)
	}
}

func TestKeysStayInsideBucket(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	mkBucket(t, l, "bkt")
	mkBucket(t, l, "other")
	keys := []string{"../x", "../../etc/passwd", "a/../../b", "./.", "/abs", "a//b", "a/", "%", "%2E%2E", ".cairn/format.json", "%meta", "%v00"}
	for i, k := range keys {
		l.put(t, "bkt", k, []byte(fmt.Sprint(i)))
	}
	for i, k := range keys {
		got, err := l.get(t, "bkt", k, "", 0, -1)
		if err != nil || string(got) != fmt.Sprint(i) {
			t.Fatalf("%q: %q %v", k, got, err)
		}
	}
	// Nothing outside the bucket directory changed: the other bucket is still empty,
	// and the drive root holds only the buckets and .cairn.
	if res, _ := l.ListObjects(context.Background(), "other", ListOptions{}); len(res.Objects) != 0 {
		t.Fatalf("other bucket got %d objects", len(res.Objects))
	}
	for _, r := range l.roots {
		ents, _ := os.ReadDir(r)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != ".cairn,bkt,other" {
			t.Fatalf("drive root %s holds %v", r, names)
		}
	}
	res, err := l.ListObjects(context.Background(), "bkt", ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, o := range res.Objects {
		listed = append(listed, o.Key)
	}
	want := append([]string(nil), keys...)
	sort.Strings(want)
	if strings.Join(listed, "|") != strings.Join(want, "|") {
		t.Fatalf("listing\n got %q\nwant %q", listed, want)
	}
}

func TestListing(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	keys := []string{"a", "a-b", "a/b", "a/c/d", "a/c/e", "b", "b/", "c/x/y", "photos/2024/jan.jpg", "photos/2024/feb.jpg", "photos/2025/mar.jpg", "z"}
	for _, k := range keys {
		l.put(t, "bkt", k, []byte(k))
	}
	sort.Strings(keys)
	cases := []struct {
		name     string
		opts     ListOptions
		objects  string
		prefixes string
		trunc    bool
	}{
		{"all", ListOptions{}, strings.Join(keys, ","), "", false},
		{"delimiter", ListOptions{Delimiter: "/"}, "a,a-b,b,z", "a/,b/,c/,photos/", false},
		{"prefix", ListOptions{Prefix: "photos/"}, "photos/2024/feb.jpg,photos/2024/jan.jpg,photos/2025/mar.jpg", "", false},
		{"prefix+delim", ListOptions{Prefix: "photos/", Delimiter: "/"}, "", "photos/2024/,photos/2025/", false},
		{"partial segment prefix", ListOptions{Prefix: "a"}, "a,a-b,a/b,a/c/d,a/c/e", "", false},
		{"marker", ListOptions{Marker: "a/c/d"}, "a/c/e,b,b/,c/x/y,photos/2024/feb.jpg,photos/2024/jan.jpg,photos/2025/mar.jpg,z", "", false},
		{"marker in prefix", ListOptions{Marker: "a/b", Delimiter: "/"}, "b,z", "b/,c/,photos/", false},
		{"max keys", ListOptions{MaxKeys: 2}, "a,a-b", "", true},
		{"max keys delim", ListOptions{MaxKeys: 3, Delimiter: "/"}, "a,a-b", "a/", true},
		{"no match", ListOptions{Prefix: "nope"}, "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := l.ListObjects(ctx, "bkt", c.opts)
			if err != nil {
				t.Fatal(err)
			}
			var obj []string
			for _, o := range res.Objects {
				obj = append(obj, o.Key)
			}
			if got := strings.Join(obj, ","); got != c.objects {
				t.Errorf("objects %q, want %q", got, c.objects)
			}
			if got := strings.Join(res.Prefixes, ","); got != c.prefixes {
				t.Errorf("prefixes %q, want %q", got, c.prefixes)
			}
			if res.IsTruncated != c.trunc {
				t.Errorf("truncated %v", res.IsTruncated)
			}
		})
	}
	// Paging with max-keys 1 visits every key once, in order.
	var all []string
	opts := ListOptions{MaxKeys: 1}
	for {
		res, err := l.ListObjects(ctx, "bkt", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			all = append(all, o.Key)
		}
		if !res.IsTruncated {
			break
		}
		opts.Marker = res.NextMarker
	}
	if strings.Join(all, ",") != strings.Join(keys, ",") {
		t.Fatalf("paged: %v", all)
	}
}

func TestMultipart(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	id, err := l.NewMultipartUpload(ctx, "bkt", "big", PutOptions{Meta: map[string]string{"Content-Type": "x/y"}})
	if err != nil {
		t.Fatal(err)
	}
	p1 := randData(1, MinPartSize)
	p2 := randData(2, MinPartSize+3)
	p3 := randData(3, 1234)
	var parts []CompletePart
	for i, p := range [][]byte{p1, p2, p3} {
		pi, err := l.PutObjectPart(ctx, "bkt", "big", id, i+1, bytes.NewReader(p), PartOptions{Size: int64(len(p))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	// Re-uploading part 2 replaces it.
	p2 = randData(22, MinPartSize+5)
	pi, err := l.PutObjectPart(ctx, "bkt", "big", id, 2, bytes.NewReader(p2), PartOptions{Size: int64(len(p2))})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := l.ListParts(ctx, "bkt", "big", id, 0, 0)
	if err != nil || len(lp.Parts) != 3 || lp.Parts[1].ETag != pi.ETag {
		t.Fatalf("list parts: %+v %v", lp, err)
	}
	ups, _ := l.ListMultipartUploads(ctx, "bkt", ListUploadsOptions{})
	if len(ups.Uploads) != 1 || ups.Uploads[0].UploadID != id {
		t.Fatalf("uploads: %+v", ups)
	}
	if _, err := l.CompleteMultipartUpload(ctx, "bkt", "big", id, parts, CompleteOptions{}); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("complete with stale etag: %v", err)
	}
	parts[1].ETag = pi.ETag
	if _, err := l.CompleteMultipartUpload(ctx, "bkt", "big", id, []CompletePart{parts[1], parts[0]}, CompleteOptions{}); !errors.Is(err, ErrInvalidPartOrder) {
		t.Fatalf("complete out of order: %v", err)
	}
	oi, err := l.CompleteMultipartUpload(ctx, "bkt", "big", id, parts, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(oi.ETag, "-3") || oi.Size != int64(len(p1)+len(p2)+len(p3)) {
		t.Fatalf("info %+v", oi)
	}
	want := append(append(append([]byte{}, p1...), p2...), p3...)
	got, err := l.get(t, "bkt", "big", "", 0, -1)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("get: %v", err)
	}
	got, err = l.get(t, "bkt", "big", "", int64(len(p1))-10, 30)
	if err != nil || !bytes.Equal(got, want[len(p1)-10:len(p1)+20]) {
		t.Fatalf("range across parts: %v", err)
	}
	if _, err := l.ListParts(ctx, "bkt", "big", id, 0, 0); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("upload still listed after complete: %v", err)
	}
	// Only the kept parts and the metadata remain in the data directory.
	for _, r := range l.roots {
		var files []string
		filepath.Walk(filepath.Join(r, "bkt"), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				files = append(files, filepath.Base(p))
			}
			return nil
		})
		sort.Strings(files)
		if strings.Join(files, ",") != "big%m,part.1,part.2,part.3" {
			t.Fatalf("%s holds %v", r, files)
		}
	}
	// Abort.
	id2, _ := l.NewMultipartUpload(ctx, "bkt", "gone", PutOptions{})
	l.PutObjectPart(ctx, "bkt", "gone", id2, 1, bytes.NewReader(p3), PartOptions{Size: int64(len(p3))})
	if err := l.AbortMultipartUpload(ctx, "bkt", "gone", id2); err != nil {
		t.Fatal(err)
	}
	if err := l.AbortMultipartUpload(ctx, "bkt", "gone", id2); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("second abort: %v", err)
	}
	assertNoTemp(t, l)
}

// eofReader records whether its reader returned io.EOF.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// A part's ETag can come from the caller (an encrypted part's plaintext MD5):
// ETagFunc is asked once the body is read, its value is stored, listed and
// hashed into the object's ETag, and a value that is not an MD5 fails the part.
func TestPartETagFunc(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	id, err := l.NewMultipartUpload(ctx, "bkt", "k", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, etag := range map[string]string{"empty": "", "not hex": strings.Repeat("z", 32), "short": "abcd", "upper case": strings.Repeat("A", 32)} {
		p := randData(9, 1000)
		_, err := l.PutObjectPart(ctx, "bkt", "k", id, 1, bytes.NewReader(p), PartOptions{Size: int64(len(p)), ETagFunc: func() string { return etag }})
		if err == nil {
			t.Errorf("%s ETag: the part was stored", name)
		}
	}
	if lp, err := l.ListParts(ctx, "bkt", "k", id, 0, 0); err != nil || len(lp.Parts) != 0 {
		t.Fatalf("parts after refused ETags: %+v %v", lp.Parts, err)
	}
	bodies := [][]byte{randData(1, MinPartSize), randData(2, 777)}
	given := []string{fmt.Sprintf("%x", md5.Sum([]byte("one"))), fmt.Sprintf("%x", md5.Sum([]byte("two")))}
	var parts []CompletePart
	for i, b := range bodies {
		er := &eofReader{r: bytes.NewReader(b)}
		opts := PartOptions{
			Size:       int64(len(b)),
			ContentMD5: []byte("not the body's MD5, and not checked"),
			ETagFunc: func() string {
				if !er.eof {
					t.Errorf("part %d: ETagFunc called before the body returned EOF", i+1)
				}
				return given[i]
			},
		}
		pi, err := l.PutObjectPart(ctx, "bkt", "k", id, i+1, er, opts)
		if err != nil {
			t.Fatal(err)
		}
		if pi.ETag != given[i] {
			t.Errorf("part %d: ETag %s, want %s", i+1, pi.ETag, given[i])
		}
		parts = append(parts, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	lp, err := l.ListParts(ctx, "bkt", "k", id, 0, 0)
	if err != nil || len(lp.Parts) != 2 || lp.Parts[0].ETag != given[0] || lp.Parts[1].ETag != given[1] {
		t.Fatalf("list parts: %+v %v", lp.Parts, err)
	}
	oi, err := l.CompleteMultipartUpload(ctx, "bkt", "k", id, parts, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	for _, b := range [][]byte{[]byte("one"), []byte("two")} {
		sum := md5.Sum(b)
		h.Write(sum[:])
	}
	if want := fmt.Sprintf("%x-2", h.Sum(nil)); oi.ETag != want {
		t.Errorf("object ETag %s, want %s", oi.ETag, want)
	}
	st, err := l.StatObject(ctx, "bkt", "k", GetOptions{})
	if err != nil || len(st.Parts) != 2 || st.Parts[0].ETag != given[0] || st.Parts[1].ETag != given[1] {
		t.Fatalf("stat parts: %+v %v", st.Parts, err)
	}
	if got, err := l.get(t, "bkt", "k", "", 0, -1); err != nil || !bytes.Equal(got, bytes.Join(bodies, nil)) {
		t.Fatalf("get: %v", err)
	}
	assertNoTemp(t, l)
}

func TestBuckets(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	for _, n := range []string{"zeta", "alpha", "mid.dle"} {
		mkBucket(t, l, n)
	}
	if err := l.MakeBucket(ctx, "alpha", BucketConfig{}); !errors.Is(err, ErrBucketExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []string{"AB", "a", "-abc", "abc-", "a..b", "192.168.1.1", strings.Repeat("a", 64), "a_b"} {
		if err := l.MakeBucket(ctx, bad, BucketConfig{}); !errors.Is(err, ErrInvalidBucketName) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	bs, err := l.ListBuckets(ctx)
	if err != nil || len(bs) != 3 || bs[0].Name != "alpha" || bs[2].Name != "zeta" {
		t.Fatalf("%+v %v", bs, err)
	}
	l.put(t, "alpha", "x", []byte("x"))
	if err := l.DeleteBucket(ctx, "alpha"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("non-empty: %v", err)
	}
	l.DeleteObject(ctx, "alpha", "x", DeleteOptions{})
	if err := l.DeleteBucket(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.HeadBucket(ctx, "alpha"); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("deleted bucket: %v", err)
	}
	if _, err := l.PutObject(ctx, "nope", "k", strings.NewReader(""), PutOptions{}); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("put to missing bucket: %v", err)
	}
}

// isShardFile reports whether a drive file holds shard data: a single-part
// version's data file or a part file in a multipart version's data directory.
func isShardFile(p string) bool {
	base := filepath.Base(p)
	return strings.HasPrefix(base, "part.") || strings.Contains(base, dataDirInfix)
}

func TestFullDisks(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	ctx := context.Background()
	data := randData(8, 300<<10)
	// Two full drives: both small (inline) and large PUTs still reach the write quorum.
	for _, i := range []int{0, 3} {
		l.faulty[i].Fail(drive.OpCreate, drive.ErrDiskFull)
		l.faulty[i].Fail(drive.OpWriteFile, drive.ErrDiskFull)
		l.faulty[i].Fail(drive.OpWrite, drive.ErrDiskFull)
	}
	for _, size := range []int{100, len(data)} {
		if _, err := l.PutObject(ctx, "bkt", fmt.Sprint("two-full-", size), bytes.NewReader(data[:size]), PutOptions{Size: int64(size)}); err != nil {
			t.Fatalf("PUT %d bytes with two full drives: %v", size, err)
		}
		got, err := l.get(t, "bkt", fmt.Sprint("two-full-", size), "", 0, -1)
		if err != nil || !bytes.Equal(got, data[:size]) {
			t.Fatalf("read back: %v", err)
		}
	}
	// A third full drive: the PUT fails and nothing becomes visible.
	l.faulty[5].Fail(drive.OpCreate, drive.ErrDiskFull)
	l.faulty[5].Fail(drive.OpWriteFile, drive.ErrDiskFull)
	l.faulty[5].Fail(drive.OpWrite, drive.ErrDiskFull)
	for _, size := range []int{100, len(data)} {
		_, err := l.PutObject(ctx, "bkt", fmt.Sprint("three-full-", size), bytes.NewReader(data[:size]), PutOptions{Size: int64(size)})
		if !errors.Is(err, ErrWriteQuorum) {
			t.Fatalf("PUT %d bytes with three full drives: %v", size, err)
		}
		if _, err := l.StatObject(ctx, "bkt", fmt.Sprint("three-full-", size), GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
			t.Fatalf("failed PUT visible: %v", err)
		}
	}
	for _, f := range l.faulty {
		f.FailAll(nil)
	}
	assertNoTemp(t, l)
}

func TestSlowDrive(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	mkBucket(t, l, "bkt")
	data := randData(9, 200<<10)
	l.put(t, "bkt", "x", data)
	// A slow drive delays but does not break reads or writes.
	l.faulty[2].Delay(drive.OpRead, 20*time.Millisecond)
	l.faulty[2].Delay(drive.OpWriteFile, 20*time.Millisecond)
	l.put(t, "bkt", "y", data)
	for _, k := range []string{"x", "y"} {
		got, err := l.get(t, "bkt", k, "", 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %v", k, err)
		}
	}
	// A request whose context ends while waiting on the slow drive stops with the
	// context's error instead of hanging.
	l.faulty[2].Delay(drive.OpReadFile, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := l.StatObject(ctx, "bkt", "x", GetOptions{}); err == nil && time.Since(start) > 5*time.Second {
		t.Fatal("stat waited on a hung drive")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("stat took %v with a hung drive", time.Since(start))
	}
}

func TestConfigDocuments(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	if _, err := l.ReadConfig(ctx, "iam/users/alice.json"); !errors.Is(err, ErrConfigNotFound) {
		t.Fatalf("missing: %v", err)
	}
	for _, n := range []string{"iam/users/bob.json", "iam/users/alice.json"} {
		if err := l.WriteConfig(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := l.ReadConfig(ctx, "iam/users/alice.json"); err != nil || string(got) != "iam/users/alice.json" {
		t.Fatalf("%q %v", got, err)
	}
	names, err := l.ListConfig(ctx, "iam/users")
	if err != nil || strings.Join(names, ",") != "alice.json,bob.json" {
		t.Fatalf("%v %v", names, err)
	}
	// Two drives down: still readable and writable.
	l.faulty[0].FailAll(drive.ErrOffline)
	l.faulty[1].FailAll(drive.ErrOffline)
	if err := l.WriteConfig(ctx, "iam/users/alice.json", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.ReadConfig(ctx, "iam/users/alice.json"); string(got) != "v2" {
		t.Fatalf("after rewrite: %q", got)
	}
	if err := l.DeleteConfig(ctx, "iam/users/bob.json"); err != nil {
		t.Fatal(err)
	}
	for _, f := range l.faulty {
		f.FailAll(nil)
	}
	// The two stale drives are outvoted.
	if got, _ := l.ReadConfig(ctx, "iam/users/alice.json"); string(got) != "v2" {
		t.Fatalf("stale drives won: %q", got)
	}
	if _, err := l.ReadConfig(ctx, "iam/users/bob.json"); !errors.Is(err, ErrConfigNotFound) {
		t.Fatalf("deleted document: %v", err)
	}
	for _, bad := range []string{"", "../x", "a//b", "/abs", "a/"} {
		if err := l.WriteConfig(ctx, bad, nil); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

func TestInternalMetadataAndActualSize(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	stored := randData(3, 1000)
	oi, err := l.PutObject(ctx, "bkt", "enc", bytes.NewReader(stored), PutOptions{
		Size: int64(len(stored)), Meta: map[string]string{"X-Amz-Meta-A": "b"},
		Internal: map[string]string{"Sealed-Key": "secret-sealed"}, ActualSize: 900, ETag: "client-etag",
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.StatObject(ctx, "bkt", "enc", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != 900 || st.StoredSize != 1000 || st.ETag != "client-etag" || oi.ETag != "client-etag" {
		t.Fatalf("sizes/etag: %+v", st)
	}
	if st.Internal["Sealed-Key"] != "secret-sealed" || len(st.Meta) != 1 || st.Meta["X-Amz-Meta-A"] != "b" {
		t.Fatalf("internal metadata leaked or lost: meta %v internal %v", st.Meta, st.Internal)
	}
	res, _ := l.ListObjects(ctx, "bkt", ListOptions{})
	if len(res.Objects) != 1 || res.Objects[0].Size != 900 || res.Objects[0].Meta["X-Cairn-Internal-Sealed-Key"] != "" {
		t.Fatalf("listing: %+v", res.Objects)
	}
}

// Concurrent configuration writes and reads never leave a stale configuration
// cached (regression: a read racing a write cached the old value forever).
func TestBucketConfigCacheRace(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		mkBucket(t, l, fmt.Sprintf("race%02d", i))
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		b := fmt.Sprintf("race%02d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			l.UpdateBucketConfig(ctx, b, func(c *BucketConfig) error { c.Versioning = VersioningEnabled; return nil })
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				l.BucketConfig(ctx, b)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 20; i++ {
		cfg, err := l.BucketConfig(ctx, fmt.Sprintf("race%02d", i))
		if err != nil || cfg.Versioning != VersioningEnabled {
			t.Fatalf("bucket %d: stale configuration %+v %v", i, cfg, err)
		}
	}
}

// With a trash delay, replaced data stays readable for in-flight readers and is
// removed by the scanner once older than the delay.
func TestTrashDelay(t *testing.T) {
	l := newTestLayer(t, 4, 2)
	var now atomic.Int64
	now.Store(time.Unix(1_800_000_000, 0).UnixNano())
	l.now = func() time.Time { return time.Unix(0, now.Load()) }
	l.trashDelay = time.Minute
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	old := randData(1, 200<<10)
	l.put(t, "bkt", "k", old)
	o, err := l.OpenObject(ctx, "bkt", "k", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.Close() // a reader elsewhere that resolved the old version, then let go of its lock
	l.put(t, "bkt", "k", randData(2, 200<<10))
	var buf bytes.Buffer
	if err := o.WriteRange(ctx, &buf, 0, int64(len(old))); err != nil || !bytes.Equal(buf.Bytes(), old) {
		t.Fatalf("a reader of the replaced version: %v", err)
	}
	countTrash := func() int {
		n := 0
		for _, r := range l.roots {
			ents, _ := os.ReadDir(filepath.Join(r, ".cairn", "trash"))
			n += len(ents)
		}
		return n
	}
	if countTrash() == 0 {
		t.Fatal("replaced data not in the trash")
	}
	l.emptyTrash(ctx)
	if countTrash() == 0 {
		t.Fatal("trash emptied before the delay")
	}
	now.Add(int64(2 * time.Minute))
	l.emptyTrash(ctx)
	if n := countTrash(); n != 0 {
		t.Fatalf("%d trash entries left after the delay", n)
	}
	for _, r := range l.roots {
		ents, _ := os.ReadDir(filepath.Join(r, "bkt"))
		if len(ents) != 2 { // k%m and the new version's data file
			t.Fatalf("%s holds %d entries after the trash was emptied", r, len(ents))
		}
	}
}

// A drive that missed the second upload of a part holds the first upload's
// shards under the same name; completing the upload must not take them as the
// second's, or a GET returns the first upload's bytes for that shard.
func TestPartUploadedAgainWhileADriveMissedIt(t *testing.T) {
	l := newTestLayer(t, 6, 2)
	ctx := context.Background()
	mkBucket(t, l, "bkt")
	id, err := l.NewMultipartUpload(ctx, "bkt", "k", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := l.uploadSet(ctx, "bkt", "k", id)
	um, err := s.readUpload(ctx, uploadDir("bkt", "k", id))
	if err != nil {
		t.Fatal(err)
	}
	// The drive holding shard 0: a data shard, read by every GET.
	d0 := um.Rotation % 6
	putPart := func(data []byte) PartInfo {
		t.Helper()
		pi, err := l.PutObjectPart(ctx, "bkt", "k", id, 1, bytes.NewReader(data), PartOptions{Size: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		return pi
	}
	putPart(randData(1, 300<<10))
	l.faulty[d0].Fail(drive.OpRename, drive.ErrOffline) // misses the second upload
	second := randData(2, 300<<10)
	pi := putPart(second)
	l.faulty[d0].Fail(drive.OpRename, nil)
	if _, err := l.CompleteMultipartUpload(ctx, "bkt", "k", id, []CompletePart{{Number: 1, ETag: pi.ETag}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := l.get(t, "bkt", "k", "", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, second) {
		t.Fatal("the object is not the second upload's bytes: a stale shard was committed")
	}
	// The drive that missed it gets the object's shard from the heal.
	if _, err := l.HealObject(ctx, "bkt", "k", HealOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range l.faulty {
		if i != d0 {
			l.faulty[i].FailAll(drive.ErrOffline)
		}
	}
	defer func() {
		for i := range l.faulty {
			l.faulty[i].FailAll(nil)
		}
	}()
	for i := range l.faulty {
		if i != d0 && i != (d0+1)%6 && i != (d0+2)%6 && i != (d0+3)%6 {
			continue
		}
		l.faulty[i].FailAll(nil)
	}
	if got, err := l.get(t, "bkt", "k", "", 0, -1); err != nil || !bytes.Equal(got, second) {
		t.Fatalf("read with the healed drive among four: err %v, equal %v", err, bytes.Equal(got, second))
	}
}
