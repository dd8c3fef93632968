package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

// awsPath is Debian's awscli, which .ci/run installs.
const awsPath = "/usr/bin/aws"

// TestAWSCLIRoundTrip: put-bucket-lifecycle-configuration and
// get-bucket-lifecycle-configuration with the Debian awscli against the real
// cairn binary, then a malformed configuration refused with S3's error code.
func TestAWSCLIRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the cairn binary and awscli; skipped with -short")
	}
	if _, err := os.Stat(awsPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required when CI is set (.ci/run installs awscli): %v", awsPath, err)
		}
		t.Skipf("%s is not installed", awsPath)
	}
	p := servertest.StartProcess(t, servertest.ProcOptions{Drives: 4})
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID=" + p.AccessKey, "AWS_SECRET_ACCESS_KEY=" + p.SecretKey, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	}
	aws := func(args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsPath, append([]string{"--endpoint-url", p.URL, "--output", "json"}, args...)...)
		cmd.Env, cmd.Dir = env, home
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := aws(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	must("s3api", "create-bucket", "--bucket", "cli-lifecycle")

	const config = `{
  "Rules": [
    {
      "ID": "logs",
      "Filter": {"Prefix": "logs/"},
      "Status": "Enabled",
      "Expiration": {"Days": 30},
      "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}
    },
    {
      "ID": "tagged-and-sized",
      "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "class", "Value": "temp"}], "ObjectSizeGreaterThan": 1024, "ObjectSizeLessThan": 1048576}},
      "Status": "Disabled",
      "Expiration": {"Date": "2031-01-01T00:00:00Z"}
    },
    {
      "ID": "markers",
      "Filter": {},
      "Status": "Enabled",
      "Expiration": {"ExpiredObjectDeleteMarker": true}
    }
  ]
}`
	file := filepath.Join(home, "lifecycle.json")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	must("s3api", "put-bucket-lifecycle-configuration", "--bucket", "cli-lifecycle", "--lifecycle-configuration", "file://"+file)
	out := must("s3api", "get-bucket-lifecycle-configuration", "--bucket", "cli-lifecycle")

	var got, want struct{ Rules []map[string]any }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("get-bucket-lifecycle-configuration printed %s: %v", out, err)
	}
	json.Unmarshal([]byte(config), &want)
	// awscli prints the Date as it parsed it; compare the rest as sent.
	date := got.Rules[1]["Expiration"].(map[string]any)["Date"]
	if s, _ := date.(string); !strings.HasPrefix(s, "2031-01-01T00:00:00") {
		t.Fatalf("Date came back as %v", date)
	}
	got.Rules[1]["Expiration"].(map[string]any)["Date"] = "2031-01-01T00:00:00Z"
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("round trip changed the configuration:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// S3's error codes reach the CLI.
	bad := filepath.Join(home, "bad.json")
	os.WriteFile(bad, []byte(`{"Rules":[{"ID":"x","Filter":{},"Status":"Enabled","Expiration":{"Days":0}}]}`), 0o644)
	if _, errOut, err := aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", "cli-lifecycle", "--lifecycle-configuration", "file://"+bad); err == nil || !strings.Contains(errOut, "InvalidArgument") {
		t.Fatalf("a zero-day expiration: %v\n%s", err, errOut)
	}
	must("s3api", "delete-bucket-lifecycle", "--bucket", "cli-lifecycle")
	if _, errOut, err := aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", "cli-lifecycle"); err == nil || !strings.Contains(errOut, "NoSuchLifecycleConfiguration") {
		t.Fatalf("get after delete: %v\n%s", err, errOut)
	}
}
