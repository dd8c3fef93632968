package layout

import (
	"errors"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name   string
		drives int
		parity int
		want   Layout
	}{
		{"1 drive: no erasure", 1, 0, Layout{1, 1, 1, 0}},
		{"2 drives", 2, 0, Layout{1, 2, 1, 1}},
		{"3 drives", 3, 0, Layout{1, 3, 2, 1}},
		{"4 drives", 4, 0, Layout{1, 4, 2, 2}},
		{"5 drives", 5, 0, Layout{1, 5, 3, 2}},
		{"6 drives", 6, 0, Layout{1, 6, 4, 2}},
		{"7 drives", 7, 0, Layout{1, 7, 5, 2}},
		{"8 drives", 8, 0, Layout{1, 8, 5, 3}},
		{"12 drives", 12, 0, Layout{1, 12, 8, 4}},
		{"16 drives", 16, 0, Layout{1, 16, 12, 4}},
		{"18 drives: 2 sets of 9", 18, 0, Layout{2, 9, 6, 3}},
		{"32 drives: 2 sets of 16", 32, 0, Layout{2, 16, 12, 4}},
		{"64 drives: 4 sets of 16", 64, 0, Layout{4, 16, 12, 4}},
		{"parity override 1 of 6", 6, 1, Layout{1, 6, 5, 1}},
		{"parity override 3 of 6 (half)", 6, 3, Layout{1, 6, 3, 3}},
		{"parity override 8 of 16", 16, 8, Layout{1, 16, 8, 8}},
		{"parity override 1 of 2", 2, 1, Layout{1, 2, 1, 1}},
		{"parity override 1 of 3", 3, 1, Layout{1, 3, 2, 1}},
		{"parity override applies to every set", 18, 4, Layout{2, 9, 5, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(tt.drives, tt.parity)
			if err != nil {
				t.Fatalf("Plan(%d, %d): %v", tt.drives, tt.parity, err)
			}
			if got != tt.want {
				t.Fatalf("Plan(%d, %d) = %+v, want %+v", tt.drives, tt.parity, got, tt.want)
			}
			if err := got.check(); err != nil {
				t.Fatalf("Plan(%d, %d) = %+v fails its own check: %v", tt.drives, tt.parity, got, err)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name   string
		drives int
		parity int
		msg    string
	}{
		{"no drives", 0, 0, "no drives"},
		{"negative drives", -3, 0, "no drives"},
		{"17 drives", 17, 0, "17 drives cannot be divided into sets of 2–16 drives; use a drive count with a divisor in that range, e.g. 16 or 18"},
		{"19 drives", 19, 0, "e.g. 18 or 20"},
		{"prime 97", 97, 0, "97 drives cannot be divided"},
		{"parity over half", 6, 4, "parity 4 is not allowed for sets of 6 drives; choose 1 to 3"},
		{"parity over half of 16", 16, 9, "choose 1 to 8"},
		{"parity on 3 drives", 3, 2, "choose 1 to 1"},
		{"parity equals set", 4, 4, "choose 1 to 2"},
		{"negative parity", 6, -1, "negative"},
		{"parity on a single drive", 1, 1, "single drive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(tt.drives, tt.parity)
			if !errors.Is(err, ErrBadLayout) {
				t.Fatalf("Plan(%d, %d) = %+v, %v; want ErrBadLayout", tt.drives, tt.parity, got, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Plan(%d, %d) error %q does not contain %q", tt.drives, tt.parity, err, tt.msg)
			}
		})
	}
}

// TestPlanEveryCount checks the sizing rule for every drive count up to the
// limit: the set size is the largest divisor in 2..16, and every layout Plan
// returns is valid.
func TestPlanEveryCount(t *testing.T) {
	for n := 2; n <= MaxDrives; n++ {
		l, err := Plan(n, 0)
		largest := 0
		for s := MinSetSize; s <= MaxSetSize; s++ {
			if n%s == 0 {
				largest = s
			}
		}
		if largest == 0 {
			if err == nil {
				t.Fatalf("Plan(%d) = %+v, want an error", n, l)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Plan(%d): %v", n, err)
		}
		if l.SetSize != largest || l.SetCount*l.SetSize != n || l.check() != nil {
			t.Fatalf("Plan(%d) = %+v, want sets of %d", n, l, largest)
		}
	}
}

func TestQuorum(t *testing.T) {
	tests := []struct {
		name        string
		l           Layout
		write, read int
	}{
		{"4+2", Layout{1, 6, 4, 2}, 4, 4},
		{"2+2", Layout{1, 4, 2, 2}, 3, 2},
		{"1+1", Layout{1, 2, 1, 1}, 2, 1},
		{"12+4", Layout{2, 16, 12, 4}, 12, 12},
		{"8+8", Layout{1, 16, 8, 8}, 9, 8},
		{"single drive", Layout{1, 1, 1, 0}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.WriteQuorum(); got != tt.write {
				t.Errorf("WriteQuorum() = %d, want %d", got, tt.write)
			}
			if got := tt.l.ReadQuorum(); got != tt.read {
				t.Errorf("ReadQuorum() = %d, want %d", got, tt.read)
			}
		})
	}
}

func TestSetOf(t *testing.T) {
	l := Layout{SetCount: 2, SetSize: 9, DataShards: 6, ParityShards: 3}
	tests := []struct{ drive, set, slot int }{
		{0, 0, 0}, {8, 0, 8}, {9, 1, 0}, {17, 1, 8},
	}
	for _, tt := range tests {
		set, slot := SetOf(tt.drive, l)
		if set != tt.set || slot != tt.slot {
			t.Errorf("SetOf(%d) = %d, %d; want %d, %d", tt.drive, set, slot, tt.set, tt.slot)
		}
	}
	for _, bad := range []int{-1, 18} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetOf(%d) did not panic", bad)
				}
			}()
			SetOf(bad, l)
		}()
	}
}

func TestLayoutString(t *testing.T) {
	if got, want := (Layout{2, 16, 12, 4}).String(), "2 sets of 16 drives (12 data + 4 parity)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Layout{1, 6, 4, 2}).String(), "1 set of 6 drives (4 data + 2 parity)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
