package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLocalModuleTests runs modules/local's own `terraform test` suite
// (modules/local/tests/*.tftest.hcl: the pool argument for several shapes, and
// plan-time validation errors for bad node/drive counts, ports and credentials).
// The module uses no provider, so it runs offline.
func TestLocalModuleTests(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("terraform is not on PATH: CI must install it")
		}
		t.Skip("terraform is not on PATH")
	}
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "local")
	must(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "modules", "local"))))
	for _, args := range [][]string{{"init", "-no-color"}, {"test", "-no-color"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "test" {
			t.Logf("%s", out)
		}
	}
}
