package metrics

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestClusterCollector(t *testing.T) {
	tc := newTestCluster(t, 6, Options{BucketUsage: true, UsageInterval: time.Nanosecond})
	tc.put(t, "photos", "a.jpg", 1000)
	tc.put(t, "photos", "dir/b.jpg", 200<<10) // not inline: shards on every drive
	tc.put(t, "logs", "x", 7)

	f := gather(t, tc.m.Registry())
	set := []string{"pool=0", "set=0"}
	for _, c := range []struct {
		name string
		want float64
	}{
		{"cairn_erasure_set_drives", 6},
		{"cairn_erasure_set_drives_online", 6},
		{"cairn_erasure_set_data_shards", 4},
		{"cairn_erasure_set_parity_shards", 2},
		{"cairn_erasure_set_read_quorum", 4},
		{"cairn_erasure_set_write_quorum", 4},
	} {
		if got := value(t, f, c.name, set...); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	for _, root := range tc.roots {
		if got := value(t, f, "cairn_drive_online", "drive="+root); got != 1 {
			t.Errorf("drive %s online = %v", root, got)
		}
		if value(t, f, "cairn_drive_capacity_bytes", "drive="+root) <= 0 {
			t.Errorf("drive %s: no capacity", root)
		}
	}
	capacity := value(t, f, "cairn_drive_capacity_bytes", "drive="+tc.roots[0])
	if got := value(t, f, "cairn_erasure_set_usable_capacity_bytes", set...); got != 4*capacity {
		t.Errorf("usable capacity %v, want 4 × %v", got, capacity)
	}

	// The usage scan runs in the background, started by a scrape.
	eventually(t, 10*time.Second, func() error {
		f = gather(t, tc.m.Registry())
		if _, ok := f["cairn_usage_objects"]; !ok {
			return fmt.Errorf("no usage yet")
		}
		if got := value(t, f, "cairn_usage_objects"); got != 3 {
			return fmt.Errorf("usage objects %v, want 3", got)
		}
		return nil
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cairn_usage_buckets", nil, 2},
		{"cairn_usage_logical_bytes", nil, 1000 + 200<<10 + 7},
		{"cairn_bucket_usage_objects", []string{"bucket=photos"}, 2},
		{"cairn_bucket_usage_logical_bytes", []string{"bucket=logs"}, 7},
	} {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if value(t, f, "cairn_usage_scans_total") < 1 {
		t.Error("usage scan not counted")
	}

	// A drive whose directory disappears goes offline; the set loses one drive of
	// write-quorum margin and reads reconstruct around it.
	if err := os.RemoveAll(tc.roots[5]); err != nil {
		t.Fatal(err)
	}
	f = gather(t, tc.m.Registry())
	if got := value(t, f, "cairn_drive_online", "drive="+tc.roots[5]); got != 0 {
		t.Errorf("removed drive online = %v", got)
	}
	if _, ok := f["cairn_drive_capacity_bytes"]; ok && len(f["cairn_drive_capacity_bytes"].GetMetric()) != 5 {
		t.Errorf("capacity exported for %d drives, want the 5 online", len(f["cairn_drive_capacity_bytes"].GetMetric()))
	}
	if got := value(t, f, "cairn_erasure_set_drives_online", set...); got != 5 {
		t.Errorf("drives online %v, want 5", got)
	}
}

func TestUsageWithoutBuckets(t *testing.T) {
	tc := newTestCluster(t, 1, Options{UsageInterval: time.Nanosecond})
	tc.put(t, "bkt", "k", 1)
	eventually(t, 10*time.Second, func() error {
		f := gather(t, tc.m.Registry())
		if _, ok := f["cairn_usage_objects"]; !ok {
			return fmt.Errorf("no usage yet")
		}
		if _, ok := f["cairn_bucket_usage_objects"]; ok {
			return fmt.Errorf("per-bucket usage exported without BucketUsage")
		}
		return nil
	})
}

func TestUsageInterval(t *testing.T) {
	now := time.Unix(1e9, 0)
	tc := newTestCluster(t, 1, Options{UsageInterval: time.Minute, Now: func() time.Time { return now }})
	eventually(t, 10*time.Second, func() error {
		if value(t, gather(t, tc.m.Registry()), "cairn_usage_scans_total") != 1 {
			return fmt.Errorf("first scan not done")
		}
		return nil
	})
	for range 5 {
		gather(t, tc.m.Registry())
	}
	tc.m.Close() // waits for any scan
	if got := value(t, gather(t, tc.m.Registry()), "cairn_usage_scans_total"); got != 1 {
		t.Fatalf("%v scans within the interval, want 1", got)
	}
}
