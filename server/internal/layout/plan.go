package layout

import "fmt"

// Set sizes allowed for erasure sets.
const (
	MinSetSize = 2
	MaxSetSize = 16
)

// Layout is how one pool's drives are cut into erasure sets, with the
// default data/parity split of an object in a set.
// SetCount*SetSize is the pool's drive count; DataShards+ParityShards is
// SetSize.
type Layout struct {
	SetCount     int `json:"setCount"`
	SetSize      int `json:"setSize"`
	DataShards   int `json:"dataShards"`
	ParityShards int `json:"parityShards"`
}

// Drives is the number of drives the layout spans.
func (l Layout) Drives() int { return l.SetCount * l.SetSize }

// ReadQuorum is the number of drives of a set that must answer a read:
// DataShards.
func (l Layout) ReadQuorum() int { return l.DataShards }

// WriteQuorum is the number of drives of a set on which a write must commit:
// DataShards, or DataShards+1 when DataShards == ParityShards so that two
// halves of a set can never both accept conflicting writes.
func (l Layout) WriteQuorum() int {
	if l.DataShards == l.ParityShards {
		return l.DataShards + 1
	}
	return l.DataShards
}

// String describes the layout for operators, e.g.
// "2 sets of 16 drives (12 data + 4 parity)".
func (l Layout) String() string {
	sets := "sets"
	if l.SetCount == 1 {
		sets = "set"
	}
	drives := "drives"
	if l.SetSize == 1 {
		drives = "drive"
	}
	return fmt.Sprintf("%d %s of %d %s (%d data + %d parity)", l.SetCount, sets, l.SetSize, drives, l.DataShards, l.ParityShards)
}

// DefaultParity is the default number of parity shards for a set size:
// 2–3 → 1, 4–7 → 2, 8–11 → 3, 12–16 → 4, and 0 for a single drive.
func DefaultParity(setSize int) int {
	switch {
	case setSize < 2:
		return 0
	case setSize < 4:
		return 1
	case setSize < 8:
		return 2
	case setSize < 12:
		return 3
	default:
		return 4
	}
}

// Plan cuts a pool of drives into erasure sets. The set size is the largest
// divisor of drives between MinSetSize and MaxSetSize (6 → 1×6, 18 → 2×9,
// 32 → 2×16). A single drive is a set of one without erasure coding
// (1 data, 0 parity).
//
// parityOverride 0 picks DefaultParity; a positive value must lie in
// 1..SetSize/2. Errors wrap ErrBadLayout and say what is allowed.
func Plan(drives int, parityOverride int) (Layout, error) {
	if drives < 1 {
		return Layout{}, fmt.Errorf("%w: no drives given", ErrBadLayout)
	}
	if parityOverride < 0 {
		return Layout{}, fmt.Errorf("%w: parity %d is negative; use 0 for the default", ErrBadLayout, parityOverride)
	}
	if drives == 1 {
		if parityOverride > 0 {
			return Layout{}, fmt.Errorf("%w: parity %d asked for a single drive, which has no erasure coding; give at least 2 drives or leave parity at 0", ErrBadLayout, parityOverride)
		}
		return Layout{SetCount: 1, SetSize: 1, DataShards: 1, ParityShards: 0}, nil
	}
	size := setSize(drives)
	if size == 0 {
		return Layout{}, fmt.Errorf("%w: %d drives cannot be divided into sets of %d–%d drives; use a drive count with a divisor in that range, e.g. %d or %d",
			ErrBadLayout, drives, MinSetSize, MaxSetSize, nearestBelow(drives), nearestAbove(drives))
	}
	parity := DefaultParity(size)
	if parityOverride > 0 {
		if parityOverride > size/2 {
			return Layout{}, fmt.Errorf("%w: parity %d is not allowed for sets of %d drives; choose 1 to %d", ErrBadLayout, parityOverride, size, size/2)
		}
		parity = parityOverride
	}
	return Layout{SetCount: drives / size, SetSize: size, DataShards: size - parity, ParityShards: parity}, nil
}

// setSize returns the largest divisor of drives in MinSetSize..MaxSetSize,
// or 0 when there is none.
func setSize(drives int) int {
	for s := MaxSetSize; s >= MinSetSize; s-- {
		if drives%s == 0 {
			return s
		}
	}
	return 0
}

func nearestBelow(drives int) int {
	for d := drives - 1; d > MaxSetSize; d-- {
		if setSize(d) != 0 {
			return d
		}
	}
	return MaxSetSize
}

func nearestAbove(drives int) int {
	d := drives + 1
	for setSize(d) == 0 {
		d++ // terminates: every multiple of 16 has a divisor
	}
	return d
}

// SetOf returns the erasure set and the slot inside it of the drive at
// argument position drive (0-based) of a pool: drives are assigned to sets
// in argument order, drive i → set i/SetSize, slot i%SetSize.
//
// It panics if drive is outside 0..l.Drives()-1.
//
// Note: this is the single-node assignment. Multi-node pools will interleave
// drives across nodes so that one node's loss costs each set as few drives
// as possible; that changes only this function (and bumps FormatVersion).
func SetOf(drive int, l Layout) (set, slot int) {
	if drive < 0 || drive >= l.Drives() {
		panic(fmt.Sprintf("layout.SetOf: drive %d outside a layout of %d drives", drive, l.Drives()))
	}
	return drive / l.SetSize, drive % l.SetSize
}

// check reports whether l is a layout Plan could have produced, ignoring
// which set size Plan would pick.
func (l Layout) check() error {
	switch {
	case l.SetCount < 1:
		return fmt.Errorf("set count %d < 1", l.SetCount)
	case l.SetSize == 1 && (l.SetCount != 1 || l.DataShards != 1 || l.ParityShards != 0):
		return fmt.Errorf("single-drive layout must be 1 set of 1 drive (1 data + 0 parity), not %v", l)
	case l.SetSize != 1 && (l.SetSize < MinSetSize || l.SetSize > MaxSetSize):
		return fmt.Errorf("set size %d outside %d–%d", l.SetSize, MinSetSize, MaxSetSize)
	case l.DataShards+l.ParityShards != l.SetSize:
		return fmt.Errorf("%d data + %d parity shards do not make a set of %d", l.DataShards, l.ParityShards, l.SetSize)
	case l.SetSize > 1 && (l.ParityShards < 1 || l.ParityShards > l.SetSize/2):
		return fmt.Errorf("parity %d outside 1–%d for sets of %d drives", l.ParityShards, l.SetSize/2, l.SetSize)
	case l.SetCount > MaxDrives/l.SetSize:
		return fmt.Errorf("%d sets of %d drives exceed %d drives", l.SetCount, l.SetSize, MaxDrives)
	}
	return nil
}
