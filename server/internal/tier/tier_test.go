package tier_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cairn-io/cairn/server/internal/tier"
)

var peers = []struct {
	name  string
	start func(t *testing.T) *peer
}{
	{"s3-cairn", cairnPeer},
	{"gcs-fake-gcs-server", gcsPeer},
	{"azure-azurite", azurePeer},
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func open(t *testing.T, cfg tier.Config) tier.Tier {
	t.Helper()
	tr, err := tier.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return tr
}

func get(ctx context.Context, tr tier.Tier, key string, off, n int64) ([]byte, error) {
	rc, err := tr.Get(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestTiers runs every tier client against its real local peer: put, full and
// ranged reads byte-identical, multi-part uploads, missing keys, delete, the
// prefix, and a probe.
func TestTiers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts remote-store peers; skipped with -short")
	}
	for _, pc := range peers {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			p := pc.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			tr := open(t, p.cfg)
			tier.SetPartSize(tr, p.minPut)

			if err := tier.Probe(ctx, tr); err != nil {
				t.Fatalf("Probe: %v", err)
			}
			small := randomBytes(100 << 10)
			big := randomBytes(int(2*p.minPut + p.minPut/2 + 12345)) // three parts
			objects := map[string][]byte{"empty": {}, "one": {42}, "dir/small": small, "big": big}
			for k, data := range objects {
				// Short reads: the clients must not rely on full ones.
				var r io.Reader = iotest.HalfReader(bytes.NewReader(data))
				if len(data) <= 1<<20 {
					r = iotest.OneByteReader(bytes.NewReader(data))
				}
				if err := tr.Put(ctx, k, r, int64(len(data))); err != nil {
					t.Fatalf("Put %s (%d bytes): %v", k, len(data), err)
				}
			}
			for k, data := range objects {
				got, err := get(ctx, tr, k, 0, -1)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("Get %s: %d bytes, %v; want %d bytes", k, len(got), err, len(data))
				}
			}
			ranges := []struct{ off, n int64 }{
				{0, 1}, {1, 10}, {int64(len(big)) - 1, 1}, {p.minPut - 3, 7}, {p.minPut, -1}, {12345, p.minPut + 1}, {0, int64(len(big))}, {500, 0},
			}
			for _, r := range ranges {
				want := big[r.off:]
				if r.n >= 0 {
					want = big[r.off : r.off+r.n]
				}
				got, err := get(ctx, tr, "big", r.off, r.n)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Get big [%d,+%d): %d bytes, %v; want %d bytes", r.off, r.n, len(got), err, len(want))
				}
			}
			// The prefix: the same bucket without it sees the object under prefix/.
			raw := p.cfg
			raw.Prefix = ""
			rawTier := open(t, raw)
			if got, err := get(ctx, rawTier, "cold/dir/small", 0, -1); err != nil || !bytes.Equal(got, small) {
				t.Fatalf("object not stored under the prefix: %d bytes, %v", len(got), err)
			}
			// Overwrite, delete, missing keys.
			if err := tr.Put(ctx, "one", bytes.NewReader([]byte("two")), 3); err != nil {
				t.Fatal(err)
			}
			if got, _ := get(ctx, tr, "one", 0, -1); string(got) != "two" {
				t.Fatalf("after overwrite: %q", got)
			}
			for _, k := range []string{"big", "one"} {
				if err := tr.Delete(ctx, k); err != nil {
					t.Fatalf("Delete %s: %v", k, err)
				}
				if _, err := get(ctx, tr, k, 0, -1); !errors.Is(err, tier.ErrNotFound) {
					t.Fatalf("Get %s after Delete: %v, want ErrNotFound", k, err)
				}
			}
			if err := tr.Delete(ctx, "never-there"); err != nil {
				t.Fatalf("Delete of a missing key: %v", err)
			}
			if _, err := get(ctx, tr, "never-there", 0, 10); !errors.Is(err, tier.ErrNotFound) || errors.Is(err, tier.ErrUnavailable) {
				t.Fatalf("Get of a missing key: %v", err)
			}
			// A short body is an error, and leaves no object.
			if err := tr.Put(ctx, "short", bytes.NewReader([]byte("abc")), 10); err == nil {
				t.Fatal("Put of a body shorter than its size succeeded")
			}
			if _, err := get(ctx, tr, "short", 0, -1); err == nil {
				t.Fatal("a short Put left an object")
			}
			// A missing bucket is an error, but not a missing object.
			nob := p.cfg
			nob.Bucket = "no-such-bucket"
			if _, err := get(ctx, open(t, nob), "x", 0, -1); err == nil || errors.Is(err, tier.ErrUnavailable) {
				t.Fatalf("Get from a missing bucket: %v", err)
			}
		})
	}
}

// blockingReader hands out data, but once half of it is read it waits for
// release: the test stops the tier meanwhile.
type blockingReader struct {
	data     []byte
	off      int
	half     chan struct{} // closed when half the data was read
	release  chan struct{}
	signaled bool
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.off >= len(b.data)/2 && !b.signaled {
		b.signaled = true
		close(b.half)
		<-b.release
	}
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 64<<10)], b.data[b.off:])
	b.off += n
	return n, nil
}

// TestTierOutage stops each peer in the middle of an upload: the upload and
// every later call fail with ErrUnavailable within bounded time, nothing hangs;
// once the peer is back the same calls succeed and earlier data is intact.
func TestTierOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts remote-store peers; skipped with -short")
	}
	for _, pc := range peers {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Now()
			p := pc.start(t)
			t.Logf("peer up after %v", time.Since(t0))
			ctx := context.Background()
			tr := open(t, p.cfg)
			tier.SetPartSize(tr, p.minPut)
			before := randomBytes(70 << 10)
			if err := tr.Put(ctx, "before", bytes.NewReader(before), int64(len(before))); err != nil {
				t.Fatal(err)
			}

			data := randomBytes(int(3 * p.minPut))
			half := make(chan struct{})
			br := &blockingReader{data: data, half: half, release: make(chan struct{})}
			putErr := make(chan error, 1)
			opCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			go func() { putErr <- tr.Put(opCtx, "during", br, int64(len(data))) }()
			select {
			case <-half:
			case err := <-putErr:
				t.Fatalf("Put ended before the outage: %v", err)
			}
			p.stop()
			close(br.release)
			start := time.Now()
			if err := <-putErr; !errors.Is(err, tier.ErrUnavailable) {
				t.Fatalf("Put while the tier stopped: %v, want ErrUnavailable", err)
			}
			t.Logf("Put failed %v after the tier stopped", time.Since(start).Round(time.Millisecond))
			// While down: clean, classified errors, quickly.
			start = time.Now()
			_, err := get(opCtx, tr, "before", 0, -1)
			if !errors.Is(err, tier.ErrUnavailable) {
				t.Fatalf("Get while the tier is down: %v, want ErrUnavailable", err)
			}
			if err := tr.Put(opCtx, "x", bytes.NewReader([]byte("x")), 1); !errors.Is(err, tier.ErrUnavailable) {
				t.Fatalf("Put while the tier is down: %v, want ErrUnavailable", err)
			}
			if err := tr.Delete(opCtx, "before"); !errors.Is(err, tier.ErrUnavailable) {
				t.Fatalf("Delete while the tier is down: %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 45*time.Second {
				t.Fatalf("failing calls took %v: the client retries too long", d)
			} else {
				t.Logf("three calls failed in %v while the tier was down", d.Round(time.Millisecond))
			}

			t0 = time.Now()
			p.start()
			t.Logf("peer back after %v", time.Since(t0))
			if err := tr.Put(opCtx, "during", bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatalf("retried Put after the tier returned: %v", err)
			}
			for k, want := range map[string][]byte{"before": before, "during": data} {
				if got, err := get(opCtx, tr, k, 0, -1); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Get %s after the tier returned: %d bytes, %v", k, len(got), err)
				}
			}
		})
	}
}
