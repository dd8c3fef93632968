package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/servertest"
)

// TestS3BackendLockfile stores Terraform state in Cairn with Terraform's own S3
// backend and `use_lockfile = true`, which locks by creating <key>.tflock with a
// conditional PUT (If-None-Match: *). It runs the real terraform binary (no
// providers are needed: the configuration uses the built-in terraform_data):
//
//  1. two applies start at once: exactly one gets the lock, the other fails with
//     "Error acquiring the state lock";
//  2. an apply holds the lock while another is started with -lock-timeout: the
//     second waits for the lock and then succeeds;
//  3. the state is intact: it parses, its serial grew, it holds the last apply's
//     value, the lock object is gone and a fresh plan is empty.
func TestS3BackendLockfile(t *testing.T) {
	tf := needTerraform(t)
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	ctx := context.Background()
	s3c := srv.Client()
	const bucket, key = "tfstate", "team/terraform.tfstate"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(t.TempDir(), "terraformrc")
	must(t, os.WriteFile(cliConfig, nil, 0o644))

	mainTF := fmt.Sprintf(`
terraform {
  backend "s3" {
    bucket     = %q
    key        = %q
    region     = "us-east-1"
    endpoints  = { s3 = %q }
    access_key = %q
    secret_key = %q

    use_path_style              = true
    use_lockfile                = true
    skip_credentials_validation = true
    skip_region_validation      = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_s3_checksum            = false
  }
}

variable "n" {
  type = number
}

variable "pause" {
  type    = number
  default = 0
}

# Replaced on every change of n, so every apply runs the provisioner and holds
# the state lock for at least var.pause seconds.
resource "terraform_data" "r" {
  input            = var.n
  triggers_replace = [var.n]
  provisioner "local-exec" {
    command = "sleep ${var.pause}"
  }
}
`, bucket, key, srv.URL, servertest.AccessKey, servertest.SecretKey)

	workdir := func() string {
		d := t.TempDir()
		must(t, os.WriteFile(filepath.Join(d, "main.tf"), []byte(mainTF), 0o644))
		return d
	}
	command := func(dir string, args ...string) *exec.Cmd {
		cmd := exec.Command(tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
			"TF_INPUT=0", "AWS_EC2_METADATA_DISABLED=true")
		return cmd
	}
	run := func(dir string, args ...string) string {
		t.Helper()
		out, err := command(dir, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	type result struct {
		out string
		err error
	}
	start := func(dir string, args ...string) <-chan result {
		ch := make(chan result, 1)
		cmd := command(dir, args...)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := cmd.Wait()
			ch <- result{buf.String(), err}
		}()
		return ch
	}
	lockHeld := func() bool {
		_, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + ".tflock")})
		return err == nil
	}
	isLockError := func(out string) bool { return strings.Contains(out, "Error acquiring the state lock") }

	a, b := workdir(), workdir()
	run(a, "init", "-input=false")
	run(b, "init", "-input=false")

	// 1. Two applies at once: one wins the lock, the other is refused.
	r1 := start(a, "apply", "-auto-approve", "-lock-timeout=0s", "-var=n=1", "-var=pause=3")
	r2 := start(b, "apply", "-auto-approve", "-lock-timeout=0s", "-var=n=1", "-var=pause=3")
	res := []result{<-r1, <-r2}
	wins, refused := 0, 0
	for _, r := range res {
		switch {
		case r.err == nil:
			wins++
		case isLockError(r.out):
			refused++
		default:
			t.Fatalf("racing apply failed for another reason: %v\n%s", r.err, r.out)
		}
	}
	if wins != 1 || refused != 1 {
		t.Fatalf("racing applies: %d succeeded and %d were refused the lock, want 1 and 1\n--- first:\n%s\n--- second:\n%s", wins, refused, res[0].out, res[1].out)
	}
	if lockHeld() {
		t.Fatal("the lock object is still there after both applies ended")
	}

	// 2. One apply holds the lock; another waits for it with -lock-timeout.
	holder := start(a, "apply", "-auto-approve", "-var=n=2", "-var=pause=4")
	deadline := time.Now().Add(60 * time.Second)
	for !lockHeld() {
		if time.Now().After(deadline) {
			t.Fatal("the first apply never took the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := command(b, "apply", "-auto-approve", "-lock-timeout=0s", "-var=n=9").CombinedOutput(); err == nil || !isLockError(string(out)) {
		t.Fatalf("apply while the lock is held: err = %v, want a lock error\n%s", err, out)
	}
	waiter := start(b, "apply", "-auto-approve", "-lock-timeout=2m", "-var=n=3")
	if r := <-holder; r.err != nil {
		t.Fatalf("lock-holding apply: %v\n%s", r.err, r.out)
	}
	if r := <-waiter; r.err != nil {
		t.Fatalf("waiting apply: %v\n%s", r.err, r.out)
	}

	// 3. The state is intact and holds the last apply.
	if lockHeld() {
		t.Fatal("the lock object is still there after all applies ended")
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	must(t, err)
	var state struct {
		Serial    int    `json:"serial"`
		Lineage   string `json:"lineage"`
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes struct {
					Input struct {
						Value json.Number `json:"value"`
					} `json:"input"` // terraform_data wraps values with their type
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatalf("state in Cairn does not parse: %v\n%s", err, raw)
	}
	if state.Serial < 3 || state.Lineage == "" || len(state.Resources) != 1 || len(state.Resources[0].Instances) != 1 ||
		state.Resources[0].Instances[0].Attributes.Input.Value != "3" {
		t.Fatalf("state after three applies: serial %d, lineage %q, resources %+v; want serial >= 3 and input 3\n%s",
			state.Serial, state.Lineage, state.Resources, raw)
	}
	if out, err := command(a, "plan", "-detailed-exitcode", "-var=n=3").CombinedOutput(); err != nil {
		t.Fatalf("plan after the applies is not empty (or failed): %v\n%s", err, out)
	}
}
