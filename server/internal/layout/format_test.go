package layout

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/format.golden.json")

// goldenFormat is a fixed format: drive 5 of 6 in the second pool.
func goldenFormat() Format {
	sets := [][]string{{
		"11111111-1111-4111-8111-111111111111",
		"22222222-2222-4222-8222-222222222222",
		"33333333-3333-4333-8333-333333333333",
		"44444444-4444-4444-8444-444444444444",
		"55555555-5555-4555-8555-555555555555",
		"66666666-6666-4666-8666-666666666666",
	}}
	return Format{
		Version:      FormatVersion,
		DeploymentID: "d3b07384-d113-4ec6-a6b5-3f3c5f0d5e7a",
		DriveID:      sets[0][4],
		Pool:         1,
		Set:          0,
		Slot:         4,
		Layout:       Layout{SetCount: 1, SetSize: 6, DataShards: 4, ParityShards: 2},
		Sets:         sets,
		Created:      time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
	}
}

// TestFormatGolden pins the on-disk encoding of format.json. If it fails,
// the encoding changed: that needs a new FormatVersion and a migration, not
// just -update.
func TestFormatGolden(t *testing.T) {
	golden := filepath.Join("testdata", "format.golden.json")
	got, err := encodeFormat(goldenFormat())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFormatGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("format.json encoding changed:\ngot:\n%s\nwant:\n%s", got, want)
	}
	// And the golden file decodes to the same value.
	f, err := decodeFormat(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*f, goldenFormat()) {
		t.Errorf("decoded golden file = %+v, want %+v", *f, goldenFormat())
	}
}

func TestSaveLoad(t *testing.T) {
	root := filepath.Join(t.TempDir(), "not", "yet", "created")
	f := goldenFormat()
	if err := Save(root, f); err != nil {
		t.Fatal(err)
	}
	got, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, f) {
		t.Fatalf("Load = %+v, want %+v", *got, f)
	}
	// No temp file is left behind.
	entries, err := os.ReadDir(filepath.Join(root, ".cairn"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "format.json" {
		t.Errorf(".cairn holds %v, want only format.json", entries)
	}
	// Overwrite in place.
	f.Created = f.Created.Add(time.Hour)
	if err := Save(root, f); err != nil {
		t.Fatal(err)
	}
	if got, err = Load(root); err != nil || !got.Created.Equal(f.Created) {
		t.Fatalf("after overwrite Load = %+v, %v", got, err)
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	root := t.TempDir()
	f := goldenFormat()
	f.DriveID = "not-a-uuid"
	if err := Save(root, f); err == nil {
		t.Fatal("Save wrote an invalid format")
	}
	if _, err := os.Stat(filepath.Join(root, FormatFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("invalid format left a file behind: %v", err)
	}
	if err := Save("", goldenFormat()); err == nil {
		t.Error("Save to an empty root succeeded")
	}
}

func TestLoadUnformatted(t *testing.T) {
	emptyCairn := t.TempDir()
	mkdirAll(t, filepath.Join(emptyCairn, ".cairn"))
	tests := []struct{ name, root string }{
		{"empty dir", t.TempDir()},
		{"missing root", filepath.Join(t.TempDir(), "nope")},
		{"empty .cairn", emptyCairn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Load(tt.root)
			if !errors.Is(err, ErrUnformatted) || f != nil {
				t.Fatalf("Load = %v, %v; want ErrUnformatted", f, err)
			}
		})
	}
}

func mkdirAll(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadCorrupt(t *testing.T) {
	valid, err := encodeFormat(goldenFormat())
	if err != nil {
		t.Fatal(err)
	}
	edit := func(from, to string) string {
		if !bytes.Contains(valid, []byte(from)) {
			t.Fatalf("golden encoding has no %q", from)
		}
		return strings.Replace(string(valid), from, to, 1)
	}
	tests := []struct {
		name, content, msg string
	}{
		{"empty file", "", "file is empty"},
		{"truncated", string(valid[:len(valid)/2]), "not valid JSON"},
		{"garbage", "\x00\x01binary", "not valid JSON"},
		{"trailing data", string(valid) + "{}", "unexpected data"},
		{"newer version", edit(`"version": 1`, `"version": 2`), "written by a newer Cairn"},
		{"no version", edit(`"version": 1`, `"version": 0`), "format version 0 is not supported"},
		{"bad deployment id", edit(`"deploymentId": "d3b07384`, `"deploymentId": "x3b07384`), "deployment id"},
		{"upper-case drive id", edit(`"driveId": "55555555-5555-4555-8555-555555555555"`, `"driveId": "55555555-5555-4555-8555-55555555555A"`), "drive id"},
		{"wrong type", edit(`"pool": 1`, `"pool": "one"`), "not valid JSON"},
		{"negative pool", edit(`"pool": 1`, `"pool": -1`), "pool -1"},
		{"slot out of range", edit(`"slot": 4`, `"slot": 6`), "outside"},
		{"slot not own id", edit(`"slot": 4`, `"slot": 3`), "not the id listed at its own position"},
		{"layout does not add up", edit(`"dataShards": 4`, `"dataShards": 5`), "do not make a set"},
		{"sets shorter than layout", edit(`"setCount": 1`, `"setCount": 2`), "sets lists 1 sets, layout says 2"},
		{"duplicate id in sets", edit(`"11111111-1111-4111-8111-111111111111"`, `"22222222-2222-4222-8222-222222222222"`), "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			p := filepath.Join(root, FormatFile)
			mkdirAll(t, filepath.Dir(p))
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Load(root)
			if !errors.Is(err, ErrCorruptFormat) || f != nil {
				t.Fatalf("Load = %v, %v; want ErrCorruptFormat", f, err)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file %s", err, p)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	// A root that is a file, not a directory: not blank, not corrupt.
	root := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(root, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(root)
	if err == nil || errors.Is(err, ErrUnformatted) || errors.Is(err, ErrCorruptFormat) {
		t.Fatalf("Load = %v; want an I/O error", err)
	}
	if !strings.Contains(err.Error(), root) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestNewFormats(t *testing.T) {
	l, err := Plan(18, 0)
	if err != nil {
		t.Fatal(err)
	}
	fs := NewFormats(l, 2)
	if len(fs) != 18 {
		t.Fatalf("got %d formats, want 18", len(fs))
	}
	ids := make(map[string]bool)
	for i, f := range fs {
		if err := f.check(); err != nil {
			t.Fatalf("format %d: %v", i, err)
		}
		set, slot := SetOf(i, l)
		if f.Set != set || f.Slot != slot || f.Pool != 2 || f.Layout != l {
			t.Errorf("format %d at pool %d set %d slot %d layout %v", i, f.Pool, f.Set, f.Slot, f.Layout)
		}
		if f.DeploymentID != fs[0].DeploymentID || f.DeploymentID == f.DriveID {
			t.Errorf("format %d: deployment id %s, first %s", i, f.DeploymentID, fs[0].DeploymentID)
		}
		if ids[f.DriveID] {
			t.Errorf("format %d: drive id %s reused", i, f.DriveID)
		}
		ids[f.DriveID] = true
		if !reflect.DeepEqual(f.Sets, fs[0].Sets) {
			t.Errorf("format %d records other sets", i)
		}
		if f.Created.IsZero() || f.Created.Location() != time.UTC {
			t.Errorf("format %d: created %v", i, f.Created)
		}
	}
	if NewFormats(l, 0)[0].DeploymentID == fs[0].DeploymentID {
		t.Error("two fresh pools share a deployment id")
	}
}
