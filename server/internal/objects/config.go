package objects

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// Cluster configuration (IAM users and policies, KMS state, tiers, …) is stored as
// small documents under .cairn/config/ on every drive of every set, like bucket
// configuration: written to all drives with a write quorum per set, read with a read
// quorum from the first set, the most common content winning. Names are
// slash-separated ("iam/users/alice.json"); each segment must be a plain file name.

const configDir = ".cairn/config"

// ErrConfigNotFound is returned by ReadConfig for a document that does not exist.
var ErrConfigNotFound = errors.New("objects: configuration not found")

func configPath(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return "", fmt.Errorf("objects: invalid configuration name %q", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." || len(seg) > 200 {
			return "", fmt.Errorf("objects: invalid configuration name %q", name)
		}
	}
	return configDir + "/" + name, nil
}

// ReadConfig returns a configuration document.
func (l *Layer) ReadConfig(ctx context.Context, name string) ([]byte, error) {
	p, err := configPath(name)
	if err != nil {
		return nil, err
	}
	s := l.firstSet()
	raws := make([][]byte, len(s.drives))
	found := make([]bool, len(s.drives))
	responded := make([]bool, len(s.drives))
	parallel(len(s.drives), func(i int) {
		b, err := s.drives[i].ReadFile(ctx, p)
		responded[i] = err == nil || errors.Is(err, drive.ErrNotFound)
		raws[i], found[i] = b, err == nil
	})
	if count(responded) < s.readQuorum() {
		return nil, ErrReadQuorum
	}
	votes := map[string]int{}
	best, bestN := "", 0
	for i := range raws {
		if !found[i] {
			continue
		}
		votes[string(raws[i])]++
		if n := votes[string(raws[i])]; n > bestN {
			best, bestN = string(raws[i]), n
		}
	}
	if bestN < s.readQuorum() {
		return nil, ErrConfigNotFound
	}
	return []byte(best), nil
}

// configLock is the lock name writers and the configuration heal take for a
// cluster configuration document.
func configLock(name string) string { return "\x00config/" + name }

// WriteConfig stores a configuration document on every drive.
func (l *Layer) WriteConfig(ctx context.Context, name string, data []byte) error {
	p, err := configPath(name)
	if err != nil {
		return err
	}
	unlock, err := l.lockWrite(ctx, configLock(name))
	if err != nil {
		return err
	}
	defer unlock()
	return l.onEveryDrive(ctx, "configuration "+name+" written", func(d drive.Drive) error {
		return d.WriteFile(ctx, p, data)
	})
}

// WriteConfigTo stores a configuration document on drives outside the layer: a
// pool that just left it keeps, for a node that starts with it on its command
// line, the last word on what happened to it.
func (l *Layer) WriteConfigTo(ctx context.Context, drives []drive.Drive, name string, data []byte) error {
	p, err := configPath(name)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range drives {
		if err := d.WriteFile(ctx, p, data); err != nil {
			errs = append(errs, err)
		} else if err := d.Sync(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteConfig removes a configuration document (absent is not an error).
func (l *Layer) DeleteConfig(ctx context.Context, name string) error {
	p, err := configPath(name)
	if err != nil {
		return err
	}
	unlock, err := l.lockWrite(ctx, configLock(name))
	if err != nil {
		return err
	}
	defer unlock()
	return l.onEveryDrive(ctx, "configuration "+name+" removed", func(d drive.Drive) error {
		return d.Delete(ctx, p, false)
	})
}

// ListConfig lists the document names directly inside dir ("iam/users"), sorted.
func (l *Layer) ListConfig(ctx context.Context, dir string) ([]string, error) {
	p, err := configPath(dir)
	if err != nil {
		return nil, err
	}
	out, err := l.firstSet().listQuorum(ctx, p, func(n string) (string, bool) { return n, !strings.HasSuffix(n, "/") })
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// listQuorum lists dir on every drive of the set and returns the names (mapped and
// filtered by keep) that a read quorum of drives holds, sorted.
func (s *set) listQuorum(ctx context.Context, dir string, keep func(name string) (string, bool)) ([]string, error) {
	lists := make([][]string, len(s.drives))
	ok := make([]bool, len(s.drives))
	parallel(len(s.drives), func(i int) {
		names, err := s.drives[i].List(ctx, dir)
		if err == nil || errors.Is(err, drive.ErrNotFound) {
			lists[i], ok[i] = names, true
		}
	})
	if count(ok) < s.readQuorum() {
		return nil, ErrReadQuorum
	}
	seen := map[string]int{}
	for _, names := range lists {
		for _, n := range names {
			if name, ok := keep(n); ok {
				seen[name]++
			}
		}
	}
	var out []string
	for n, c := range seen {
		if c >= s.readQuorum() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
