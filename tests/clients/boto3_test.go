package clients

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// python3Path is Debian's python3, where python3-boto3 installs boto3 (the
// python3 first on PATH may be a pyenv one without it).
const python3Path = "/usr/bin/python3"

// boto3Flows are the flows testdata/boto3_flows.py runs, in order; each must
// print PASS (client-side-encryption may print SKIP without the cryptography
// package).
var boto3Flows = []string{
	"buckets", "objects", "transfer", "paginate", "presigned", "copy",
	"delete-objects", "client-side-encryption", "versioning", "cleanup",
}

// TestBoto3 runs a Python application's S3 flows with boto3.
func TestBoto3(t *testing.T) {
	t.Parallel()
	err := executable(python3Path)
	if err == nil {
		if _, errOut, perr := runErr(nil, "", python3Path, "-c", "import boto3"); perr != nil {
			err = errors.New("python3 cannot import boto3: " + strings.TrimSpace(tail(errOut, 300)))
		}
	}
	needTool(t, "boto3 (python3-boto3 for "+python3Path+")", err)
	p := start(t)
	home := t.TempDir()
	writeFile(t, home, "aws-config", nil)
	writeFile(t, home, "aws-credentials", nil)
	env := append(baseEnv(home),
		"BOTO_DISABLE_CRT=true",
		"AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID="+p.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+p.SecretKey,
		"CAIRN_ENDPOINT="+p.URL,
		"CAIRN_WORKDIR="+t.TempDir(),
	)
	script, err := filepath.Abs(filepath.Join("testdata", "boto3_flows.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runErr(env, home, python3Path, script)
	t.Logf("boto3_flows.py:\n%s", out)
	if err != nil {
		t.Fatalf("boto3_flows.py failed: %v\nstderr:\n%s", err, tail(errOut, 4000))
	}
	results := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if status, rest, ok := strings.Cut(line, " "); ok && (status == "PASS" || status == "SKIP" || status == "FAIL") {
			name, _, _ := strings.Cut(rest, ":")
			results[name] = status
		}
	}
	for _, f := range boto3Flows {
		switch st := results[f]; {
		case st == "PASS":
		case st == "SKIP" && f == "client-side-encryption":
			// Printed with its reason above; the rest of the flows ran.
		default:
			t.Errorf("flow %s: %q, want PASS", f, st)
		}
	}
}
