package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/servertest"
)

// durabilityObjects returns the 200 objects of TestDurabilityDrivesLost: mostly
// small (empty, 1 B, 100 B, 4 KiB, 100 KiB and either side of the inline limit),
// some of 1–8 MiB, and four of 20–50 MiB of which two are multipart uploads. Sizes
// are drawn with a fixed seed, so every run writes the same ~250 MiB.
func durabilityObjects() []object {
	rng := rand.New(rand.NewPCG(20240601, 7))
	small := []int64{0, 1, 100, 4 << 10, 100 << 10, inlineLimit, inlineLimit + 1}
	var sizes []int64
	for i := range 164 {
		if i < len(small) {
			sizes = append(sizes, small[i])
			continue
		}
		sizes = append(sizes, small[rng.IntN(len(small))])
	}
	for range 32 {
		sizes = append(sizes, 1<<20+rng.Int64N(7<<20))
	}
	large := []int64{20 << 20, 28 << 20, 36 << 20, 50 << 20}
	for i, s := range large {
		large[i] = s - rng.Int64N(1<<20)
	}
	sizes = append(sizes, large...)
	objs := make([]object, len(sizes))
	for i, size := range sizes {
		// Large objects 0 and 2 go up as multipart uploads.
		mp := i >= len(sizes)-len(large) && (len(sizes)-i)%2 == 0
		objs[i] = object{key: fmt.Sprintf("obj/%03d-%d", i, size), size: size, seed: uint64(i) + 1, multipart: mp}
	}
	return objs
}

// hashAll fills in each object's SHA-256.
func hashAll(objs []object) {
	forEach(len(objs), 2, func(i int) error {
		o, _ := newObject(objs[i].key, objs[i].seed, objs[i].size, objs[i].multipart)
		objs[i].sum = o.sum
		return nil
	})
}

// TestDurabilityDrivesLost writes 200 objects to a 4+2 set and takes two drives
// away in every way a drive can go — corrupt, deleted under the running server,
// replaced by a blank drive across a restart — checking every object byte-for-byte
// after each; then takes a third drive and checks that reads and writes fail with
// 5xx errors, never with wrong data or a half-written object.
//
// The order (corrupt, then delete the same two drives) matters while the server does
// not heal: a blank replacement holds no shard of the old objects, so corrupting two
// other drives afterwards would leave only two good shards of each.
func TestDurabilityDrivesLost(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ctx := context.Background()
	p := servertest.StartProcess(t, servertest.ProcOptions{Drives: 6})
	c := newClient(p)
	const bucket = "durable"
	createBucket(t, ctx, c, bucket)
	testStart := time.Now()

	objs := durabilityObjects()
	hashAll(objs)
	start := time.Now()
	if err := putAll(ctx, c, bucket, objs, 4); err != nil {
		t.Fatalf("writing the objects: %v", err)
	}
	d := time.Since(start)
	mp := 0
	for _, o := range objs {
		if o.multipart {
			mp++
		}
	}
	t.Logf("wrote %d objects (%s, %d multipart) in %v (%.0f MiB/s)", len(objs), mib(totalSize(objs)), mp, d.Round(time.Millisecond), float64(totalSize(objs))/(1<<20)/d.Seconds())

	// Drives d2 and d5 are the two that go bad.
	lost := []int{1, 4}

	// (c) Bitrot on two drives: flip bytes in every shard file and in the metadata of
	// every inline object. Non-inline metadata stays intact, so that the shard files'
	// own corruption detection is what is exercised.
	inlineKeys := map[string]bool{}
	nonInline := 0
	for _, o := range objs {
		if o.inline() {
			inlineKeys[o.key] = true
		} else {
			nonInline++
		}
	}
	for _, i := range lost {
		parts, metas := corruptDrive(t, filepath.Join(p.Drives[i], bucket), inlineKeys)
		t.Logf("corrupted %s: %d shard files, %d inline metadata files", p.Drives[i], parts, metas)
		if parts < nonInline {
			t.Errorf("%s: corrupted %d shard files (part.*), want at least one per non-inline object (%d): has the on-disk layout changed?", p.Drives[i], parts, nonInline)
		}
		if metas != len(inlineKeys) {
			t.Errorf("%s: corrupted %d inline metadata files (<key>%%m), want %d: has the on-disk layout changed?", p.Drives[i], metas, len(inlineKeys))
		}
	}
	verifyAll(t, ctx, c, bucket, objs, "(c) 2 drives corrupt")

	// (a) The same two drives deleted outright under the running server. Writes
	// still have their quorum (4 of 6) and must succeed.
	for _, i := range lost {
		if err := removeDrive(p.Drives[i]); err != nil {
			t.Fatal(err)
		}
	}
	verifyAll(t, ctx, c, bucket, objs, "(a) 2 drives deleted")
	degraded := make([]object, 10)
	for i := range degraded {
		size := []int64{0, 1000, inlineLimit + 1, 3 << 20, 9 << 20}[i%5]
		degraded[i] = object{key: fmt.Sprintf("degraded/%02d", i), size: size, seed: 1000 + uint64(i), multipart: size > partSize}
	}
	hashAll(degraded)
	if err := putAll(ctx, c, bucket, degraded, 4); err != nil {
		t.Errorf("(a) writing with 2 of 6 drives gone (quorum 4 is met): %v", err)
	}
	objs = append(objs, degraded...)
	verifyAll(t, ctx, c, bucket, degraded, "(a) objects written with 2 drives deleted")

	// (b) Restart: the two missing drives come back blank and are accepted as
	// replacements (they get an identity file).
	start = time.Now()
	p.Restart(t)
	t.Logf("(b) restarted in %v", time.Since(start).Round(time.Millisecond))
	for _, i := range lost {
		if _, err := os.Stat(filepath.Join(p.Drives[i], ".cairn", "format.json")); err != nil {
			t.Errorf("(b) blank drive %s not formatted as a replacement: %v", p.Drives[i], err)
		}
	}
	verifyAll(t, ctx, c, bucket, objs, "(b) restarted with 2 blank drives")

	// A fresh batch, which has a shard on every one of the six drives.
	fresh := make([]object, 20)
	for i := range fresh {
		size := []int64{0, 10, 4 << 10, inlineLimit, inlineLimit + 1, 1 << 20, 2<<20 + 3, 6 << 20, 1, 500 << 10}[i%10]
		fresh[i] = object{key: fmt.Sprintf("fresh/%02d", i), size: size, seed: 2000 + uint64(i)}
	}
	hashAll(fresh)
	if err := putAll(ctx, c, bucket, fresh, 4); err != nil {
		t.Errorf("(b) writing after the restart: %v", err)
	}
	verifyAll(t, ctx, c, bucket, fresh, "(b) objects written after the restart")
	objs = append(objs, fresh...)

	// (d) Three drives gone (one blank replacement, two original): below the read
	// and write quorum of 4. Reads must fail with a 5xx, never return wrong data.
	gone := []int{0, 1, 2}
	for _, i := range gone {
		if err := removeDrive(p.Drives[i]); err != nil {
			t.Fatal(err)
		}
	}
	start = time.Now()
	codes := map[string]int{}
	var mu sync.Mutex
	forEach(len(objs), 4, func(i int) error {
		o := objs[i]
		n, sum, err := get(ctx, c, bucket, o.key)
		mu.Lock()
		defer mu.Unlock()
		codes[fmt.Sprintf("%d %s", httpStatus(err), errorCode(err))]++
		switch {
		case err == nil && (n != o.size || sum != o.sum):
			t.Errorf("(d) GET %s with 3 drives gone: %d bytes, SHA-256 %s, want %d bytes, %s (WRONG DATA)", o.key, n, short(sum), o.size, short(o.sum))
		case err == nil && !o.inline():
			t.Errorf("(d) GET %s (%d bytes, not inline) with 3 of 6 drives gone succeeded; want a 5xx error", o.key, o.size)
		case err != nil && httpStatus(err) < 500:
			t.Errorf("(d) GET %s with 3 drives gone: %s; want a 5xx S3 error (or, for an inline object, the right data)", o.key, describe(err))
		case err != nil && errorCode(err) == "":
			t.Errorf("(d) GET %s with 3 drives gone: %v; want an S3 error document", o.key, err)
		}
		return nil
	})
	t.Logf("(d) GET of %d objects with 3 drives gone took %v; status and code: %v", len(objs), time.Since(start).Round(time.Millisecond), codes)

	// A PUT below write quorum fails with a 5xx and leaves nothing visible. The server
	// answers before reading the body; with more than 256 KiB unread, net/http then
	// closes the connection and the Go client may report its failed body write
	// (EPIPE, ECONNRESET) instead of the answer (curl shows the 503), so the large PUT
	// only has to fail.
	for _, o := range []object{
		{key: "lost/inline", size: 1000, seed: 3000},
		{key: "lost/small", size: 200 << 10, seed: 3001},
		{key: "lost/large", size: 3 << 20, seed: 3002},
	} {
		_, data := newObject(o.key, o.seed, o.size, false)
		err := put(ctx, c, bucket, o, data)
		switch {
		case err == nil:
			t.Errorf("(d) PUT %s (%d bytes) with 3 of 6 drives gone succeeded; want a 5xx error", o.key, o.size)
		case o.size > 256<<10 && httpStatus(err) == 0:
			t.Logf("(d) PUT %s: connection closed before the answer was read: %v", o.key, err)
		case httpStatus(err) < 500 || errorCode(err) == "":
			t.Errorf("(d) PUT %s with 3 drives gone: %s; want a 5xx S3 error", o.key, describe(err))
		default:
			t.Logf("(d) PUT %s: %d %s", o.key, httpStatus(err), errorCode(err))
		}
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key)}); err == nil {
			t.Errorf("(d) HEAD %s after its failed PUT: 200; want an error", o.key)
		}
		if n, _, err := get(ctx, c, bucket, o.key); err == nil {
			t.Errorf("(d) GET %s after its failed PUT: %d bytes; want an error", o.key, n)
		}
		keys, err := listKeys(ctx, c, bucket, "lost/")
		if slices.Contains(keys, o.key) {
			t.Errorf("(d) LIST after the failed PUT of %s shows it (list error: %v)", o.key, err)
		}
	}
	if running, err := p.Running(); !running {
		t.Errorf("server process exited: %v", err)
	}
	t.Logf("total %v", time.Since(testStart).Round(time.Millisecond))
}

// corruptDrive flips bytes in every shard file under dir (part.N in a multipart
// object's data directory, or a single-part object's data file <key>%v<id>) and in the
// metadata file (<key>%m) of every key in inlineKeys, and returns how many of each
// it changed. A shard file gets four bytes flipped (start, thirds, end) so both
// its first and later blocks are bad.
func corruptDrive(t *testing.T, dir string, inlineKeys map[string]bool) (parts, metas int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(e.Name(), "part.") || strings.Contains(e.Name(), "%v"):
			parts++
		case strings.HasSuffix(rel, "%m") && inlineKeys[strings.TrimSuffix(rel, "%m")]:
			metas++
		default:
			return nil
		}
		return flipBytes(path)
	})
	if err != nil {
		t.Fatalf("corrupting %s: %v", dir, err)
	}
	return parts, metas
}

// flipBytes inverts the bytes at the start, a third, two thirds and the end of a file.
func flipBytes(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	n := fi.Size()
	if n == 0 {
		return fmt.Errorf("%s is empty", path)
	}
	offs := []int64{0, n / 3, 2 * n / 3, n - 1}
	slices.Sort(offs)
	offs = slices.Compact(offs)
	b := make([]byte, 1)
	for _, off := range offs {
		if _, err := f.ReadAt(b, off); err != nil {
			return err
		}
		b[0] ^= 0xff
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
	}
	return f.Close()
}

// removeDrive deletes a drive directory while the server runs. The server's
// background healing may be writing into it at that moment (it does not know yet
// that the drive is going away), so a removal that races with a new file is retried.
func removeDrive(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
