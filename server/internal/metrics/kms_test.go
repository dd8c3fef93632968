package metrics

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// cairn_kms_up follows the KMS health check.
func TestKMSUp(t *testing.T) {
	m := New(Options{})
	var fail atomic.Bool
	m.WatchKMS(func(context.Context) error {
		if fail.Load() {
			return errors.New("unreachable")
		}
		return nil
	}, 20*time.Millisecond)
	defer m.Close()
	up := func() float64 {
		mfs, _ := m.Registry().Gather()
		for _, mf := range mfs {
			if mf.GetName() == "cairn_kms_up" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	eventually(t, 5*time.Second, func() error {
		if up() != 1 {
			return errors.New("not up")
		}
		return nil
	})
	fail.Store(true)
	eventually(t, 5*time.Second, func() error {
		if up() != 0 {
			return errors.New("still up")
		}
		return nil
	})
}
