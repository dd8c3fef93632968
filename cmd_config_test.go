package main

import (
	"flag"
	"reflect"
	"strings"
	"testing"
)

func TestConfigFile(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string, *int) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		addr := fs.String("address", "127.0.0.1:9000", "")
		parity := fs.Int("parity", 0, "")
		return fs, addr, parity
	}
	t.Run("keys set flags, the command line wins", func(t *testing.T) {
		fs, addr, parity := newFS()
		if err := fs.Parse([]string{"--parity", "3"}); err != nil {
			t.Fatal(err)
		}
		pools, err := applyConfig(fs, []byte("address: 10.0.0.1:9100\nparity: 4\npools:\n  - http://10.0.0.{1...4}:9100/d{1...4}\n  - - http://10.0.1.1:9100/d{1...8}\n    - http://10.0.1.2:9100/d{1...8}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if *addr != "10.0.0.1:9100" || *parity != 3 {
			t.Fatalf("address %q parity %d", *addr, *parity)
		}
		want := []string{"http://10.0.0.{1...4}:9100/d{1...4}", "http://10.0.1.1:9100/d{1...8},http://10.0.1.2:9100/d{1...8}"}
		if !reflect.DeepEqual(pools, want) {
			t.Fatalf("pools %q", pools)
		}
		expanded, err := serverPools(pools, nil)
		if err != nil || len(expanded) != 2 || len(expanded[0]) != 16 || len(expanded[1]) != 16 {
			t.Fatalf("expanded: %v %v", expanded, err)
		}
	})
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown key", "adress: x\n", `unknown key "adress"`},
		{"bad value", "parity: many\n", "parity"},
		{"list for a flag", "address: [a, b]\n", "want a single value"},
		{"pools not a list", "pools: /d{1...4}\n", "want a list of pools"},
		{"pool of maps", "pools:\n  - {a: b}\n", "pool 0"},
		{"not yaml", "pools: [\n", "config:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _, _ := newFS()
			fs.Parse(nil)
			if _, err := applyConfig(fs, []byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := serverPools([]string{"/d{1...4}"}, []string{"/e{1...4}"}); err == nil {
		t.Fatal("pools from both the file and the arguments accepted")
	}
}
