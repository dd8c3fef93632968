package layout

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// DriveState is what was found on one drive root at startup. Exactly one of
// three cases holds: formatted (Format != nil), blank (Format == nil and
// Err == nil), or unreadable (Err != nil: offline, permission denied,
// corrupt format.json, …).
type DriveState struct {
	Root   string
	Format *Format
	Err    error
}

// LoadAll loads the format of every root, in order. A missing format.json is
// reported as a blank drive, not as an error.
func LoadAll(roots []string) []DriveState {
	out := make([]DriveState, len(roots))
	for i, r := range roots {
		f, err := Load(r)
		if errors.Is(err, ErrUnformatted) {
			err = nil
		}
		out[i] = DriveState{Root: r, Format: f, Err: err}
	}
	return out
}

// Result is Reconcile's decision. All slices index the drive roots in
// argument order.
type Result struct {
	// Formats holds one format per root: the one found on the drive, a new
	// one for a fresh deployment or a replacement drive, and for an Offline
	// drive the format it is expected to carry (Created is zero).
	Formats []Format
	// ToWrite lists the roots whose Formats entry must be written with Save
	// before the server starts using them.
	ToWrite []int
	// Fresh is true when this start formats a new pool. Its formats carry a
	// new deployment id; when the pool is added to an existing deployment,
	// the caller sets DeploymentID on every entry of Formats before saving.
	Fresh bool
	// Replaced lists blank drives accepted as replacements of a known slot;
	// they keep the slot's drive id and must be healed.
	Replaced []int
	// Offline lists drives whose format could not be read (DriveState.Err).
	// The pool starts without them; they are never written.
	Offline []int
}

// Reconcile decides what to do with one pool's drives, given the format
// found on each root (nil = blank drive), the layout planned from the
// arguments, and the pool index. Use ReconcileStates when some drives could
// not be read at all. See ReconcileStates for the rules.
func Reconcile(roots []string, found []*Format, l Layout, pool int) (Result, error) {
	if len(found) != len(roots) {
		return Result{}, fmt.Errorf("layout: reconcile: %d formats for %d drive roots", len(found), len(roots))
	}
	states := make([]DriveState, len(roots))
	for i := range roots {
		states[i] = DriveState{Root: roots[i], Format: found[i]}
	}
	return ReconcileStates(states, l, pool)
}

// ReconcileStates decides what to do with one pool's drives at startup:
//
//   - All drives blank: a fresh pool. Every drive gets a new Format
//     (NewFormats) and is in ToWrite. Every drive must be readable: one
//     unreadable drive refuses the start (ErrNoQuorum).
//   - Some drives formatted: they must all belong to one deployment
//     (ErrForeignDrive names the drive, its deployment and this one), to this
//     pool and to the argument position they were formatted at
//     (ErrWrongSlot names both positions), and record the same layout
//     (ErrFormatMismatch). The recorded set count and set size must match l
//     (ErrLayoutChanged says what was recorded and what was asked); a
//     different parity in l is accepted, because parity is per object, and
//     the recorded formats are kept as they are.
//   - More than half of the drives (n/2+1; 1 for a single drive) must carry a
//     readable format of the deployment, or the start is refused
//     (ErrNoQuorum lists the blank and unreadable drives).
//   - A blank drive in a known slot is a replacement: it gets a Format with
//     the slot's drive id, and is listed in ToWrite and Replaced.
//   - An unreadable drive is listed in Offline and left alone.
//
// All problems found are reported together (errors.Join), each naming the
// drive's path and argument position. l must describe len(states) drives.
func ReconcileStates(states []DriveState, l Layout, pool int) (Result, error) {
	n := len(states)
	if err := l.check(); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadLayout, err)
	}
	if l.Drives() != n {
		return Result{}, fmt.Errorf("%w: layout %v spans %d drives, but %d drive roots were given", ErrBadLayout, l, l.Drives(), n)
	}
	if pool < 0 {
		return Result{}, fmt.Errorf("%w: pool index %d is negative", ErrBadLayout, pool)
	}
	name := func(i int) string { return fmt.Sprintf("drive %d of %d (%q)", i+1, n, states[i].Root) }

	var formatted, blank, offline []int
	for i, s := range states {
		switch {
		case s.Err != nil:
			offline = append(offline, i)
		case s.Format != nil:
			formatted = append(formatted, i)
		default:
			blank = append(blank, i)
		}
	}

	if len(formatted) == 0 {
		if len(offline) > 0 {
			var errs []error
			for _, i := range offline {
				errs = append(errs, fmt.Errorf("%w: cannot format a new pool: %s is unreadable: %v; every drive must be reachable the first time a pool is formatted", ErrNoQuorum, name(i), states[i].Err))
			}
			return Result{}, errors.Join(errs...)
		}
		res := Result{Formats: NewFormats(l, pool), Fresh: true}
		for i := range n {
			res.ToWrite = append(res.ToWrite, i)
		}
		return res, nil
	}

	// This deployment is the one recorded on most formatted drives (the
	// earliest drive wins a tie).
	votes := make(map[string]int)
	for _, i := range formatted {
		votes[states[i].Format.DeploymentID]++
	}
	ref := formatted[0]
	for _, i := range formatted {
		if votes[states[i].Format.DeploymentID] > votes[states[ref].Format.DeploymentID] {
			ref = i
		}
	}
	deployment := states[ref].Format.DeploymentID

	var errs []error
	var base *Format // first drive of this deployment and pool
	baseIdx := -1
	var members []int // drives of this deployment and pool that agree with base
	for _, i := range formatted {
		f := states[i].Format
		switch {
		case f.DeploymentID != deployment:
			errs = append(errs, fmt.Errorf("%w: %s belongs to deployment %s, this deployment is %s (recorded on %d of %d formatted drives); only blank drives are adopted",
				ErrForeignDrive, name(i), f.DeploymentID, deployment, votes[deployment], len(formatted)))
		case f.Pool != pool:
			errs = append(errs, fmt.Errorf("%w: %s belongs to pool %d of this deployment, but was given in pool %d; pools must be given in the order they were created",
				ErrWrongSlot, name(i), f.Pool, pool))
		case base == nil:
			base, baseIdx = f, i
			members = append(members, i)
		case f.Layout != base.Layout:
			errs = append(errs, fmt.Errorf("%w: %s and %s belong to the same deployment and pool but record different layouts (%v and %v); one of their format.json files is damaged",
				ErrFormatMismatch, name(baseIdx), name(i), base.Layout, f.Layout))
		case !reflect.DeepEqual(f.Sets, base.Sets):
			errs = append(errs, fmt.Errorf("%w: %s and %s belong to the same deployment and pool but record different drive ids for the pool's sets; one of their format.json files is damaged",
				ErrFormatMismatch, name(baseIdx), name(i)))
		default:
			members = append(members, i)
		}
	}
	if base == nil {
		return Result{}, errors.Join(errs...)
	}
	if base.Layout.SetCount != l.SetCount || base.Layout.SetSize != l.SetSize {
		errs = append(errs, fmt.Errorf("%w: the drives of pool %d were formatted as %v = %d drives, but the arguments now give %d drives (%v); drives cannot be added to or removed from a pool: restore the original drive arguments, or add capacity as a new pool",
			ErrLayoutChanged, pool, base.Layout, base.Layout.Drives(), n, l))
		return Result{}, errors.Join(errs...)
	}
	for _, i := range members {
		f := states[i].Format
		set, slot := SetOf(i, l)
		if f.Set == set && f.Slot == slot {
			continue
		}
		j := f.Set*l.SetSize + f.Slot
		errs = append(errs, fmt.Errorf("%w: %s carries the identity of drive %d of %d (%q, set %d slot %d) but was given as drive %d (set %d slot %d); drives were swapped or the arguments reordered: put each drive back at its position",
			ErrWrongSlot, name(i), j+1, n, states[j].Root, f.Set, f.Slot, i+1, set, slot))
	}
	if len(errs) > 0 {
		return Result{}, errors.Join(errs...)
	}

	need := n/2 + 1
	if len(members) < need {
		var b strings.Builder
		fmt.Fprintf(&b, "only %d of %d drives of pool %d carry a readable format of deployment %s; at least %d are needed to start.", len(members), n, pool, deployment, need)
		for _, i := range blank {
			fmt.Fprintf(&b, " %s is blank;", name(i))
		}
		for _, i := range offline {
			fmt.Fprintf(&b, " %s is unreadable: %v;", name(i), states[i].Err)
		}
		b.WriteString(" if drives are unmounted or offline, bring them back; no more than half of a pool can be replaced at once")
		return Result{}, fmt.Errorf("%w: %s", ErrNoQuorum, b.String())
	}

	res := Result{Formats: make([]Format, n), Offline: offline}
	now := time.Now().UTC()
	expected := func(i int) Format {
		set, slot := SetOf(i, l)
		return Format{
			Version:      FormatVersion,
			DeploymentID: deployment,
			DriveID:      base.Sets[set][slot],
			Pool:         pool,
			Set:          set,
			Slot:         slot,
			Layout:       base.Layout,
			Sets:         base.Sets,
		}
	}
	for _, i := range members {
		res.Formats[i] = *states[i].Format
	}
	for _, i := range blank {
		res.Formats[i] = expected(i)
		res.Formats[i].Created = now
		res.ToWrite = append(res.ToWrite, i)
		res.Replaced = append(res.Replaced, i)
	}
	for _, i := range offline {
		res.Formats[i] = expected(i)
	}
	return res, nil
}
