package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cairn-io/cairn/server"
)

// The server's YAML configuration file (--config): every key is a server flag
// without its dashes, plus "pools", a list whose items are one pool each — a
// string (comma-separated patterns, as on the command line) or a list of
// patterns:
//
//	address: 10.0.0.1:9000
//	parity: 4
//	certs-dir: /etc/cairn/certs
//	pools:
//	  - http://10.0.0.{1...4}:9000/data/d{1...4}
//	  - - http://10.0.1.1:9000/data/d{1...8}
//	    - http://10.0.1.2:9000/data/d{1...8}
//
// Flags given on the command line win over the file; pools come from the file
// or from the arguments, not both. Unknown keys are refused, so a typo does not
// silently fall back to a default.

// applyConfigFile sets the flags the command line left unset from the file and
// returns the file's pools as command-line arguments.
func applyConfigFile(fs *flag.FlagSet, path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return applyConfig(fs, raw)
}

func applyConfig(fs *flag.FlagSet, raw []byte) ([]string, error) {
	var doc map[string]yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var pools []string
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := doc[k]
		if k == "pools" {
			ps, err := configPools(&n)
			if err != nil {
				return nil, err
			}
			pools = ps
			continue
		}
		f := fs.Lookup(k)
		if f == nil || k == "config" {
			return nil, fmt.Errorf("config: line %d: unknown key %q (keys are the server's flags and \"pools\")", n.Line, k)
		}
		if n.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("config: line %d: %s: want a single value", n.Line, k)
		}
		if set[k] {
			continue // the command line wins
		}
		if err := fs.Set(k, n.Value); err != nil {
			return nil, fmt.Errorf("config: line %d: %s: %v", n.Line, k, err)
		}
	}
	return pools, nil
}

func configPools(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, fmt.Errorf("config: line %d: pools: want a list of pools", n.Line)
	}
	var out []string
	for i, p := range n.Content {
		switch p.Kind {
		case yaml.ScalarNode:
			out = append(out, p.Value)
		case yaml.SequenceNode:
			var parts []string
			for _, s := range p.Content {
				if s.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("config: line %d: pool %d: want drive patterns", s.Line, i)
				}
				parts = append(parts, s.Value)
			}
			if len(parts) == 0 {
				return nil, fmt.Errorf("config: line %d: pool %d is empty", p.Line, i)
			}
			out = append(out, strings.Join(parts, ","))
		default:
			return nil, fmt.Errorf("config: line %d: pool %d: want a pattern string or a list of patterns", p.Line, i)
		}
	}
	return out, nil
}

// serverPools expands the pools: from the config file, one pool per item; from
// the arguments, as server.ExpandPools says.
func serverPools(fromConfig, args []string) ([][]string, error) {
	if len(fromConfig) > 0 && len(args) > 0 {
		return nil, errors.New("pools are given both in --config and as arguments; use one")
	}
	if len(fromConfig) == 0 {
		return server.ExpandPools(args)
	}
	var pools [][]string
	for _, p := range fromConfig {
		ds, err := server.ExpandDrives([]string{p})
		if err != nil {
			return nil, err
		}
		pools = append(pools, ds)
	}
	return pools, nil
}
