package metrics

import (
	"testing"

	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/objects"
)

func TestLifecycleCollector(t *testing.T) {
	m := New(Options{})
	m.WatchLifecycle(Lifecycle{
		Worker: func() lifecycle.Stats {
			return lifecycle.Stats{Objects: 9,
				Actions: map[lifecycle.ActionType]int64{lifecycle.TransitionCurrent: 3, lifecycle.ExpireCurrent: 1},
				Failed:  map[lifecycle.ActionType]int64{lifecycle.TransitionNoncurrent: 2}}
		},
		Tiers: func() objects.TierStats {
			return objects.TierStats{RemoteReads: 5, Restored: 1, RestoresExpired: 1, RemoteDeletes: 4, RemoteDeletesQueued: 2}
		},
	})
	fams := gather(t, m.Registry())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cairn_lifecycle_objects_evaluated_total", nil, 9},
		{"cairn_lifecycle_actions_total", []string{"action=transition_current"}, 3},
		{"cairn_lifecycle_actions_total", []string{"action=expire_current"}, 1},
		{"cairn_lifecycle_actions_total", []string{"action=abort_upload"}, 0},
		{"cairn_lifecycle_action_failures_total", []string{"action=transition_noncurrent"}, 2},
		{"cairn_tier_remote_reads_total", nil, 5},
		{"cairn_tier_restores_total", nil, 1},
		{"cairn_tier_restores_expired_total", nil, 1},
		{"cairn_tier_remote_deletes_total", nil, 4},
		{"cairn_tier_remote_deletes_queued_total", nil, 2},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
