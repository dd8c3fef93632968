package layout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// pool is a set of drive roots in temp dirs, formatted through the same
// calls the server makes at startup.
type pool struct {
	t     *testing.T
	roots []string
}

func newPool(t *testing.T, n int) *pool {
	t.Helper()
	dir := t.TempDir()
	p := &pool{t: t}
	for i := range n {
		p.roots = append(p.roots, filepath.Join(dir, fmt.Sprintf("d%d", i+1)))
	}
	return p
}

// start runs the startup sequence: Plan, LoadAll, ReconcileStates, Save.
func (p *pool) start(index int) (Result, error) {
	p.t.Helper()
	return startPool(p.t, p.roots, 0, index)
}

func startPool(t *testing.T, roots []string, parity, index int) (Result, error) {
	t.Helper()
	l, err := Plan(len(roots), parity)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReconcileStates(LoadAll(roots), l, index)
	if err != nil {
		return res, err
	}
	for _, i := range res.ToWrite {
		if err := Save(roots[i], res.Formats[i]); err != nil {
			t.Fatal(err)
		}
	}
	return res, nil
}

// mustStart starts the pool and fails the test on error.
func (p *pool) mustStart() Result {
	p.t.Helper()
	res, err := p.start(0)
	if err != nil {
		p.t.Fatalf("start: %v", err)
	}
	return res
}

func (p *pool) load(i int) *Format {
	p.t.Helper()
	f, err := Load(p.roots[i])
	if err != nil {
		p.t.Fatal(err)
	}
	return f
}

func (p *pool) wipe(i int) {
	p.t.Helper()
	if err := os.RemoveAll(filepath.Join(p.roots[i], ".cairn")); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pool) writeRaw(i int, data string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.roots[i], FormatFile), []byte(data), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, sentinel error, parts ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want %v", err, sentinel)
	}
	t.Log(err)
	for _, s := range parts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\ndoes not contain %q", err, s)
		}
	}
}

func TestReconcileFresh(t *testing.T) {
	p := newPool(t, 6)
	res := p.mustStart()
	if !res.Fresh || !slices.Equal(res.ToWrite, []int{0, 1, 2, 3, 4, 5}) || res.Replaced != nil || res.Offline != nil {
		t.Fatalf("fresh start = %+v", res)
	}
	for i := range p.roots {
		f := p.load(i)
		if !reflect.DeepEqual(*f, res.Formats[i]) {
			t.Errorf("drive %d: loaded %+v, want %+v", i, *f, res.Formats[i])
		}
		if f.DeploymentID != res.Formats[0].DeploymentID || f.Slot != i || f.Set != 0 {
			t.Errorf("drive %d: %+v", i, *f)
		}
	}
	if l := res.Formats[0].Layout; l != (Layout{1, 6, 4, 2}) {
		t.Errorf("layout %+v", l)
	}
}

func TestReconcileRestart(t *testing.T) {
	p := newPool(t, 6)
	first := p.mustStart()
	res := p.mustStart()
	if res.Fresh || res.ToWrite != nil || res.Replaced != nil || res.Offline != nil {
		t.Fatalf("restart = %+v, want nothing to do", res)
	}
	if !reflect.DeepEqual(res.Formats, first.Formats) {
		t.Errorf("restart formats differ from the first start")
	}
}

func TestReconcileReplacement(t *testing.T) {
	p := newPool(t, 6)
	first := p.mustStart()
	p.wipe(3)
	res := p.mustStart()
	if res.Fresh || !slices.Equal(res.ToWrite, []int{3}) || !slices.Equal(res.Replaced, []int{3}) {
		t.Fatalf("replacement start = %+v", res)
	}
	got := p.load(3)
	want := first.Formats[3]
	if got.DriveID != want.DriveID || got.DeploymentID != want.DeploymentID || got.Slot != 3 || !reflect.DeepEqual(got.Sets, want.Sets) {
		t.Errorf("replacement format %+v, want the identity of %+v", *got, want)
	}
	if res := p.mustStart(); res.ToWrite != nil {
		t.Errorf("start after replacement = %+v, want nothing to do", res)
	}
}

func TestReconcileTwoReplacements(t *testing.T) {
	p := newPool(t, 6)
	p.mustStart()
	p.wipe(0)
	p.wipe(5)
	res := p.mustStart()
	if !slices.Equal(res.Replaced, []int{0, 5}) || !slices.Equal(res.ToWrite, []int{0, 5}) {
		t.Fatalf("start = %+v", res)
	}
}

func TestReconcileSwapped(t *testing.T) {
	p := newPool(t, 6)
	p.mustStart()
	// The operator swaps the arguments of drives 2 and 5.
	p.roots[1], p.roots[4] = p.roots[4], p.roots[1]
	_, err := p.start(0)
	wantErr(t, err, ErrWrongSlot,
		fmt.Sprintf("drive 2 of 6 (%q) carries the identity of drive 5 of 6 (%q", p.roots[1], p.roots[4]),
		fmt.Sprintf("drive 5 of 6 (%q) carries the identity of drive 2 of 6 (%q", p.roots[4], p.roots[1]),
		"swapped")
}

func TestReconcileSwappedAcrossSets(t *testing.T) {
	p := newPool(t, 18)
	p.mustStart()
	p.roots[0], p.roots[17] = p.roots[17], p.roots[0]
	_, err := p.start(0)
	wantErr(t, err, ErrWrongSlot, "set 1 slot 8", "set 0 slot 0", "drive 1 of 18", "drive 18 of 18")
}

func TestReconcileCopiedDrive(t *testing.T) {
	// Drive 1's format copied onto drive 3 (e.g. a cloned disk).
	p := newPool(t, 6)
	p.mustStart()
	data, err := os.ReadFile(filepath.Join(p.roots[0], FormatFile))
	if err != nil {
		t.Fatal(err)
	}
	p.writeRaw(2, string(data))
	_, err = p.start(0)
	wantErr(t, err, ErrWrongSlot, fmt.Sprintf("drive 3 of 6 (%q) carries the identity of drive 1 of 6", p.roots[2]))
}

func TestReconcileForeignDrive(t *testing.T) {
	p := newPool(t, 6)
	other := newPool(t, 6)
	mine := p.mustStart().Formats[0].DeploymentID
	theirs := other.mustStart().Formats[0].DeploymentID
	// Drive 3 is replaced by a disk from the other deployment.
	if err := os.RemoveAll(p.roots[2]); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other.roots[2], p.roots[2]); err != nil {
		t.Fatal(err)
	}
	_, err := p.start(0)
	wantErr(t, err, ErrForeignDrive,
		fmt.Sprintf("drive 3 of 6 (%q) belongs to deployment %s, this deployment is %s", p.roots[2], theirs, mine))
	// The foreign drive is left untouched.
	if f := p.load(2); f.DeploymentID != theirs {
		t.Errorf("foreign drive rewritten: %+v", f)
	}
}

func TestReconcileLayoutChanged(t *testing.T) {
	p := newPool(t, 6)
	p.mustStart()
	dir := filepath.Dir(p.roots[0])
	p.roots = append(p.roots, filepath.Join(dir, "d7"), filepath.Join(dir, "d8"))
	_, err := p.start(0)
	wantErr(t, err, ErrLayoutChanged,
		"formatted as 1 set of 6 drives (4 data + 2 parity) = 6 drives",
		"now give 8 drives (1 set of 8 drives (5 data + 3 parity))",
		"add capacity as a new pool")
	if _, err := Load(p.roots[6]); !errors.Is(err, ErrUnformatted) {
		t.Errorf("new drive written despite the error: %v", err)
	}

	// Fewer drives than recorded is the same error.
	_, err = startPool(t, p.roots[:4], 0, 0)
	wantErr(t, err, ErrLayoutChanged, "= 6 drives", "now give 4 drives")
}

func TestReconcileParityChange(t *testing.T) {
	p := newPool(t, 6)
	first := p.mustStart()
	res, err := startPool(t, p.roots, 1, 0) // was 4+2, now asks for 5+1
	if err != nil {
		t.Fatal(err)
	}
	if res.ToWrite != nil || !reflect.DeepEqual(res.Formats, first.Formats) {
		t.Errorf("parity change rewrote formats: %+v", res)
	}
}

func TestReconcileCorruptFormat(t *testing.T) {
	p := newPool(t, 6)
	p.mustStart()
	p.writeRaw(4, `{"version": 1, "deploymentId": `)
	path := filepath.Join(p.roots[4], FormatFile)

	_, err := Load(p.roots[4])
	wantErr(t, err, ErrCorruptFormat, path, "not valid JSON")

	// The pool still has quorum: it starts without the drive and never
	// overwrites it.
	res := p.mustStart()
	if !slices.Equal(res.Offline, []int{4}) || res.ToWrite != nil || res.Replaced != nil {
		t.Fatalf("start with a corrupt drive = %+v", res)
	}
	if res.Formats[4].DriveID != p.load(0).Sets[0][4] || !res.Formats[4].Created.IsZero() {
		t.Errorf("offline drive's expected format = %+v", res.Formats[4])
	}
	if data, _ := os.ReadFile(path); string(data) != `{"version": 1, "deploymentId": ` {
		t.Errorf("corrupt format was overwritten: %q", data)
	}

	// With two more drives blank, quorum is lost and the error names them.
	p.wipe(0)
	p.wipe(1)
	_, err = p.start(0)
	wantErr(t, err, ErrNoQuorum,
		"only 3 of 6 drives", "at least 4 are needed",
		fmt.Sprintf("drive 1 of 6 (%q) is blank", p.roots[0]),
		fmt.Sprintf("drive 5 of 6 (%q) is unreadable", p.roots[4]),
		path, "not valid JSON")
}

func TestReconcileCorruptOnFirstStart(t *testing.T) {
	p := newPool(t, 4)
	mkdirAll(t, filepath.Join(p.roots[2], ".cairn"))
	p.writeRaw(2, "garbage")
	_, err := p.start(0)
	wantErr(t, err, ErrNoQuorum, "cannot format a new pool",
		fmt.Sprintf("drive 3 of 4 (%q) is unreadable", p.roots[2]), "every drive must be reachable")
	for _, i := range []int{0, 1, 3} {
		if _, err := Load(p.roots[i]); !errors.Is(err, ErrUnformatted) {
			t.Errorf("drive %d written despite the error: %v", i, err)
		}
	}
}

func TestReconcileNoQuorum(t *testing.T) {
	p := newPool(t, 6)
	p.mustStart()
	for i := range 3 {
		p.wipe(i)
	}
	_, err := p.start(0)
	wantErr(t, err, ErrNoQuorum, "only 3 of 6 drives", "at least 4",
		fmt.Sprintf("drive 3 of 6 (%q) is blank", p.roots[2]))
	if _, err := Load(p.roots[0]); !errors.Is(err, ErrUnformatted) {
		t.Errorf("blank drive written despite the error: %v", err)
	}
}

func TestReconcileSingleDrive(t *testing.T) {
	p := newPool(t, 1)
	res := p.mustStart()
	if !res.Fresh || !slices.Equal(res.ToWrite, []int{0}) || res.Formats[0].Layout != (Layout{1, 1, 1, 0}) {
		t.Fatalf("fresh single drive = %+v", res)
	}
	if res := p.mustStart(); res.ToWrite != nil {
		t.Fatalf("restart = %+v", res)
	}
}

func TestReconcileWrongPool(t *testing.T) {
	p := newPool(t, 4)
	if _, err := p.start(1); err != nil {
		t.Fatal(err)
	}
	_, err := p.start(0)
	wantErr(t, err, ErrWrongSlot, fmt.Sprintf("drive 1 of 4 (%q) belongs to pool 1 of this deployment, but was given in pool 0", p.roots[0]))
}

func TestReconcileFormatMismatch(t *testing.T) {
	p := newPool(t, 4)
	res := p.mustStart()
	// Drive 2's format records different ids for the other drives.
	f := res.Formats[1]
	f.Sets = [][]string{slices.Clone(f.Sets[0])}
	f.Sets[0][0] = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	if err := Save(p.roots[1], f); err != nil {
		t.Fatal(err)
	}
	_, err := p.start(0)
	wantErr(t, err, ErrFormatMismatch, fmt.Sprintf("drive 1 of 4 (%q) and drive 2 of 4 (%q)", p.roots[0], p.roots[1]), "damaged")
}

// TestReconcileFoundFormats drives the Reconcile entry point the way the
// brief describes it: formats loaded by the caller, nil for blank drives.
func TestReconcileFoundFormats(t *testing.T) {
	p := newPool(t, 6)
	l, _ := Plan(6, 0)
	res, err := Reconcile(p.roots, make([]*Format, 6), l, 0)
	if err != nil || !res.Fresh || len(res.ToWrite) != 6 {
		t.Fatalf("fresh Reconcile = %+v, %v", res, err)
	}
	found := make([]*Format, 6)
	for i := range found {
		f := res.Formats[i]
		found[i] = &f
	}
	found[2] = nil
	res2, err := Reconcile(p.roots, found, l, 0)
	if err != nil || !slices.Equal(res2.Replaced, []int{2}) || res2.Formats[2].DriveID != res.Formats[2].DriveID {
		t.Fatalf("Reconcile with a blank drive = %+v, %v", res2, err)
	}
}

func TestReconcileBadArguments(t *testing.T) {
	l6, _ := Plan(6, 0)
	roots := newPool(t, 6).roots
	tests := []struct {
		name  string
		roots []string
		found []*Format
		l     Layout
		pool  int
		msg   string
	}{
		{"found shorter than roots", roots, make([]*Format, 5), l6, 0, "5 formats for 6 drive roots"},
		{"layout of another size", roots[:4], make([]*Format, 4), l6, 0, "spans 6 drives, but 4 drive roots"},
		{"invalid layout", roots, make([]*Format, 6), Layout{1, 6, 6, 0}, 0, "parity 0 outside"},
		{"negative pool", roots, make([]*Format, 6), l6, -1, "pool index -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Reconcile(tt.roots, tt.found, tt.l, tt.pool)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Reconcile error = %v, want %q", err, tt.msg)
			}
		})
	}
}

func TestReconcileLayoutMismatch(t *testing.T) {
	// Same deployment and ids, but drive 3 records another parity.
	p := newPool(t, 4)
	res := p.mustStart()
	f := res.Formats[2]
	f.Layout.DataShards, f.Layout.ParityShards = 3, 1
	if err := Save(p.roots[2], f); err != nil {
		t.Fatal(err)
	}
	_, err := p.start(0)
	wantErr(t, err, ErrFormatMismatch, "(1 set of 4 drives (2 data + 2 parity) and 1 set of 4 drives (3 data + 1 parity))")
}
