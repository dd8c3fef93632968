package objects

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// TestFillDrives puts empty objects dirNNN/fileNNNNN straight into the drives of
// a stopped server's set, in-process, for listing benchmarks on layouts whose
// S3 fill would take hours (a four-node loopback cluster PUTs ~140 small
// objects/s). The drives are ordered by the slot in their format.json, as the
// server orders them; the bucket must exist. Skipped unless CAIRN_FILL_DRIVES is set:
//
//	CAIRN_FILL_DRIVES="/tmp/cl4/n*/d*" CAIRN_FILL_BUCKET=listbench CAIRN_FILL_FROM=100000 \
//	CAIRN_FILL_TO=1000000 go test -run TestFillDrives -v -timeout 2h ./server/internal/objects/
func TestFillDrives(t *testing.T) {
	pattern := os.Getenv("CAIRN_FILL_DRIVES")
	if pattern == "" {
		t.Skip("set CAIRN_FILL_DRIVES to run")
	}
	roots, err := filepath.Glob(pattern)
	if err != nil || len(roots) == 0 {
		t.Fatalf("no drives match %q (%v)", pattern, err)
	}
	type format struct {
		DeploymentID string `json:"deploymentId"`
		Slot         int    `json:"slot"`
		Layout       struct {
			SetCount     int `json:"setCount"`
			ParityShards int `json:"parityShards"`
		} `json:"layout"`
	}
	fs := map[string]format{}
	for _, r := range roots {
		raw, err := os.ReadFile(filepath.Join(r, ".cairn", "format.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f format
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		if f.Layout.SetCount != 1 {
			t.Fatalf("%s: %d sets; this fills one", r, f.Layout.SetCount)
		}
		fs[r] = f
	}
	sort.Slice(roots, func(i, j int) bool { return fs[roots[i]].Slot < fs[roots[j]].Slot })
	g := drive.NewSyncGroup()
	var ds []drive.Drive
	for _, r := range roots {
		d, err := drive.OpenLocal(r, g)
		if err != nil {
			t.Fatal(err)
		}
		d.EnableIndex(MetaIndex())
		defer d.Close() // merges the index journals: the index stays trusted
		ds = append(ds, d)
	}
	first := fs[roots[0]]
	l, err := New(Config{Sets: [][]drive.Drive{ds}, Parity: first.Layout.ParityShards, DeploymentID: first.DeploymentID})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bucket := os.Getenv("CAIRN_FILL_BUCKET")
	from, _ := strconv.Atoi(os.Getenv("CAIRN_FILL_FROM"))
	to, _ := strconv.Atoi(os.Getenv("CAIRN_FILL_TO"))
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	var mu sync.Mutex
	var failed []string
	workers, _ := strconv.Atoi(os.Getenv("CAIRN_FILL_WORKERS"))
	if workers <= 0 {
		workers = 64
	}
	for range workers {
		wg.Go(func() {
			for i := range next {
				key := fmt.Sprintf("dir%03d/file%05d", i/1000, i%1000)
				if _, err := l.PutObject(ctx, bucket, key, bytes.NewReader(nil), PutOptions{Size: 0}); err != nil {
					mu.Lock()
					failed = append(failed, key+": "+err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for i := from; i < to; i++ {
		next <- i
		if i%100000 == 0 && i > from {
			t.Logf("%d objects, %.0f/s", i-from, float64(i-from)/time.Since(start).Seconds())
		}
	}
	close(next)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d PUTs failed, first: %s", len(failed), strings.Join(failed[:1], ""))
	}
	t.Logf("put %d objects in %v (%.0f/s)", to-from, time.Since(start).Round(time.Second), float64(to-from)/time.Since(start).Seconds())
}
