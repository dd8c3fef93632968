package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
)

// FormatFile is where a drive's identity lives, relative to the drive root.
const FormatFile = ".cairn/format.json"

// FormatVersion is the version of the format.json encoding written by this
// build; Load refuses any other version. Change it only together with the
// golden file testdata/format.golden.json and a migration.
const FormatVersion = 1

// Format is a drive's identity, stored as JSON in FormatFile on each drive.
// Every drive of a pool records the whole pool layout, so any quorum of
// drives can tell where every other drive belongs.
type Format struct {
	Version      int    `json:"version"`      // FormatVersion
	DeploymentID string `json:"deploymentId"` // uuid shared by every drive of every pool
	DriveID      string `json:"driveId"`      // uuid of this drive's slot
	Pool         int    `json:"pool"`         // pool index, 0-based
	Set          int    `json:"set"`          // set index in the pool, 0-based
	Slot         int    `json:"slot"`         // slot index in the set, 0-based
	Layout       Layout `json:"layout"`       // sets and default data/parity at format time
	// Sets holds the drive ids of the pool: Sets[set][slot]. It is shared
	// between the Formats returned by NewFormats and Reconcile; treat it as
	// read-only.
	Sets    [][]string `json:"sets"`
	Created time.Time  `json:"created"` // when this drive was formatted (UTC)
}

// NewFormats formats a fresh pool: one Format per drive in argument order,
// with a new deployment id shared by all, a new drive id per drive, and the
// set and slot given by SetOf. To add a pool to an existing deployment, set
// DeploymentID on the returned formats to the deployment's id.
//
// The caller must pass a valid layout (one from Plan).
func NewFormats(l Layout, pool int) []Format {
	deployment := uuid.NewString()
	now := time.Now().UTC()
	sets := make([][]string, l.SetCount)
	for s := range sets {
		sets[s] = make([]string, l.SetSize)
		for k := range sets[s] {
			sets[s][k] = uuid.NewString()
		}
	}
	out := make([]Format, l.Drives())
	for i := range out {
		set, slot := SetOf(i, l)
		out[i] = Format{
			Version:      FormatVersion,
			DeploymentID: deployment,
			DriveID:      sets[set][slot],
			Pool:         pool,
			Set:          set,
			Slot:         slot,
			Layout:       l,
			Sets:         sets,
			Created:      now,
		}
	}
	return out
}

// Load reads the format of the drive at root. It returns an error wrapping
// ErrUnformatted when FormatFile does not exist (a blank drive, or a root
// that does not exist yet), one wrapping ErrCorruptFormat when the file
// cannot be decoded or contradicts itself, and the I/O error (with the path)
// when the file cannot be read.
func Load(root string) (*Format, error) {
	p := filepath.Join(root, FormatFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrUnformatted, p)
	}
	if err != nil {
		return nil, fmt.Errorf("layout: cannot read drive format: %w", err)
	}
	f, err := decodeFormat(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorruptFormat, p, err)
	}
	return f, nil
}

// Save writes f to root atomically: FormatFile is written to a temp file
// beside it, fsynced, renamed over FormatFile, and the directory is fsynced,
// so a crash leaves either the old or the new format, never a torn one.
// Save creates root and its .cairn directory if needed. It refuses to write
// an invalid Format. Concurrent Saves to the same root are not supported.
func Save(root string, f Format) error {
	if root == "" {
		return errors.New("layout: save format: empty drive root")
	}
	data, err := encodeFormat(f)
	if err != nil {
		return fmt.Errorf("layout: save format to %s: %w", root, err)
	}
	p := filepath.Join(root, FormatFile)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("layout: save format: %w", err)
	}
	tmp := p + ".tmp"
	if err := writeSync(tmp, data); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("layout: save format: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("layout: save format: %w", err)
	}
	// The rename must be durable, and so must .cairn itself when it is new.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("layout: save format: %w", err)
		}
	}
	return nil
}

func writeSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", name, err)
	}
	return d.Close()
}

// encodeFormat is the on-disk encoding: indented JSON with a final newline.
// testdata/format.golden.json pins it.
func encodeFormat(f Format) ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("invalid format: %w", err)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// decodeFormat decodes and checks one format.json.
func decodeFormat(data []byte) (*Format, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var f Format
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// check reports whether f is internally consistent.
func (f *Format) check() error {
	if f.Version != FormatVersion {
		if f.Version > FormatVersion {
			return fmt.Errorf("format version %d was written by a newer Cairn; this build reads version %d", f.Version, FormatVersion)
		}
		return fmt.Errorf("format version %d is not supported; this build reads version %d", f.Version, FormatVersion)
	}
	if err := checkID("deployment id", f.DeploymentID); err != nil {
		return err
	}
	if err := checkID("drive id", f.DriveID); err != nil {
		return err
	}
	if f.Pool < 0 {
		return fmt.Errorf("pool %d is negative", f.Pool)
	}
	if err := f.Layout.check(); err != nil {
		return fmt.Errorf("layout: %v", err)
	}
	if len(f.Sets) != f.Layout.SetCount {
		return fmt.Errorf("sets lists %d sets, layout says %d", len(f.Sets), f.Layout.SetCount)
	}
	seen := make(map[string]bool, f.Layout.Drives())
	for s, set := range f.Sets {
		if len(set) != f.Layout.SetSize {
			return fmt.Errorf("set %d lists %d drives, layout says %d", s, len(set), f.Layout.SetSize)
		}
		for k, id := range set {
			if err := checkID(fmt.Sprintf("drive id of set %d slot %d", s, k), id); err != nil {
				return err
			}
			if seen[id] {
				return fmt.Errorf("drive id %s is listed twice", id)
			}
			seen[id] = true
		}
	}
	if f.Set < 0 || f.Set >= f.Layout.SetCount || f.Slot < 0 || f.Slot >= f.Layout.SetSize {
		return fmt.Errorf("position set %d slot %d is outside %v", f.Set, f.Slot, f.Layout)
	}
	if f.Sets[f.Set][f.Slot] != f.DriveID {
		return fmt.Errorf("drive id %s is not the id listed at its own position (set %d slot %d)", f.DriveID, f.Set, f.Slot)
	}
	return nil
}

func checkID(what, id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("%s %q is not a lowercase uuid", what, id)
	}
	return nil
}

// Encode is the on-disk encoding of f (checked), for drives written through the
// drive interface (remote drives).
func Encode(f Format) ([]byte, error) { return encodeFormat(f) }

// Decode decodes and checks a format.json read through the drive interface.
func Decode(data []byte) (*Format, error) {
	f, err := decodeFormat(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptFormat, err)
	}
	return f, nil
}
