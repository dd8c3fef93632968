package clients

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/servertest"
)

// minioRunTimeout bounds one run of the minio-go functional suite (about 45 s here).
const minioRunTimeout = 8 * time.Minute

// expected is a minio-go functional test that may report FAIL or NA: it needs a
// feature of a later milestone, or it asserts MinIO's behaviour where S3 behaves
// otherwise. A FAIL or NA line is expected when its test is listed (a name ending
// in "*" is a prefix) and, if match is set, the line's message, error, alert or
// function contains match.
type expected struct {
	tests  []string
	match  string
	reason string
}

// minioExpected is written for minio-go v7.4.1. An entry that no longer matches
// anything fails the test too: when a feature arrives, its entry must go, so that
// from then on the feature's tests guard it.
var minioExpected = []expected{
	{
		// Signature Version 2 ("Authorization: AWS key:sig"). Cairn authenticates
		// with SigV4 only (DESIGN.md, security model); AWS retired SigV2 for new
		// buckets in 2020. These tests make their client with CredsV2 (some of them,
		// the *Wrapper and Compose ones, run a SigV4 half that passes).
		tests: []string{
			"testMakeBucketErrorV2", "testGetObjectClosedTwiceV2", "testFPutObjectV2",
			"testMakeBucketRegionsV2", "testGetObjectReadSeekFunctionalV2",
			"testGetObjectReadAtFunctionalV2", "testCopyObjectV2", "testFunctionalV2",
			"testComposeObjectErrorCasesWrapper", "testComposeMultipleSources",
			"testUserMetadataCopyingWrapper", "testPutObject0ByteV2",
			"testPutObjectMetadataNonUSASCIIV2", "testPutObjectNoLengthV2",
			"testPutObjectsUnknownV2", "testGetObjectContextV2", "testFPutObjectContextV2",
			"testFGetObjectContextV2", "testPutObjectContextV2",
			"testCopyObjectWithChecksums", "testReplaceObjectWithChecksums",
		},
		match:  `authorization scheme "AWS" is not supported`,
		reason: "Signature Version 2 is not supported (SigV4 only)",
	},
	{
		// MakeBucket in eu-central-1 / us-west-2 signs the request for that region.
		// A Cairn server serves the one region it is started with (--region) and
		// refuses other credential scopes with AuthorizationHeaderMalformed, as an
		// AWS regional endpoint does; MinIO without a configured region accepts any.
		tests:  []string{"testMakeBucketError", "testMakeBucketRegions"},
		match:  "is wrong; expecting",
		reason: "buckets in another region than the server's",
	},
	{
		// PutObjectRetention (?retention) during the test; RemoveObjects then expects
		// the locked versions to be refused.
		tests:  []string{"testRemoveMultipleObjectsWithResult", "testRemoveObjects", "testRemoveObjectsIter"},
		reason: "object lock retention and legal hold (later milestone)",
	},
	{
		// testCors reports its cases as testCors_<n>_<case> once it gets past its
		// SetBucketPolicy step.
		tests:  []string{"testCors", "testCors_*", "testCorsSetGetDelete"},
		reason: "bucket CORS configuration (later milestone)",
	},
	{
		tests:  []string{"testBucketNotification"},
		reason: "bucket notifications (later milestone)",
	},
	{
		// testFunctional stops at GetBucketPolicy, so its later steps do not run;
		// they are covered by the other tests and clients.
		tests:  []string{"testFunctional"},
		reason: "bucket policies (later milestone, with IAM)",
	},
	{
		tests:  []string{"testPresignedPostPolicy", "testPresignedPostPolicyWrongFile", "testPresignedPostPolicyEmptyFileName"},
		reason: "browser uploads with a presigned POST policy (later milestone)",
	},
	{
		tests:  []string{"testGetObjectS3Zip", "testObjectAnnotations"},
		reason: "MinIO extensions, not S3 (reading files inside a zip object; object annotations)",
	},
	{
		// ListUnsorted with WithMetadata sends ?metadata=true, MinIO's extension that
		// returns user metadata in listings; S3 ignores it and so does Cairn.
		tests:  []string{"testListUnsorted"},
		match:  "did not return the user metadata",
		reason: "MinIO extension: user metadata in ListObjectsV2",
	},
	{
		// The test compares uploads with MinIO's answer, which has no Initiator,
		// Owner and StorageClass; S3 sends all three and so does Cairn.
		tests:  []string{"testListMultipartUpload"},
		match:  "ListMultipartUploads-",
		reason: "asserts MinIO's ListMultipartUploads entries, not S3's",
	},
}

// minioLine is one JSON line of the functional suite's output.
type minioLine struct {
	Name     string `json:"name"` // "minio-go: testX"
	Function string `json:"function"`
	Status   string `json:"status"` // PASS, FAIL, NA
	Message  string `json:"message"`
	Alert    string `json:"alert"`
	Error    any    `json:"error"`
	Duration int64  `json:"duration"` // milliseconds since the test began
}

func (l minioLine) test() string { return strings.TrimPrefix(l.Name, "minio-go: ") }

func (l minioLine) text() string {
	return fmt.Sprintf("%s %s: %s %s %v", l.Status, l.Function, l.Message, l.Alert, l.Error)
}

// TestMinioGoFunctional runs minio-go's functional test suite against a server.
func TestMinioGoFunctional(t *testing.T) {
	t.Parallel()
	goTool, err := goCommand()
	needTool(t, "the go command (to build minio-go's functional tests)", err)
	p := start(t)
	runMinioFunctional(t, buildMinioFunctional(t, goTool), p)
}

// The same suite against a 4-node cluster (4 drives each, one 12+4 set), through
// one node: every request crosses the storage RPC and the cluster locks.
func TestMinioGoFunctionalCluster(t *testing.T) {
	t.Parallel()
	goTool, err := goCommand()
	needTool(t, "the go command (to build minio-go's functional tests)", err)
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	nodes := startCluster(t, 4, 4)
	runMinioFunctional(t, buildMinioFunctional(t, goTool), nodes[1])
}

// startCluster starts n nodes of d drives each in one pool and waits until all
// are ready.
func startCluster(t *testing.T, n, d int) []*servertest.Process {
	t.Helper()
	dir := t.TempDir()
	addrs := make([]string, n)
	var patterns []string
	for i := range addrs {
		addrs[i] = servertest.FreeAddr(t)
		patterns = append(patterns, fmt.Sprintf("http://%s%s/d{1...%d}", addrs[i], filepath.Join(dir, fmt.Sprint("n", i+1)), d))
	}
	pool := strings.Join(patterns, ",")
	nodes := make([]*servertest.Process, n)
	for i := n - 1; i >= 0; i-- {
		nodes[i] = servertest.StartProcess(t, servertest.ProcOptions{DriveArgs: []string{pool}, Address: addrs[i],
			Env: []string{"CAIRN_KMS_MASTER_KEY=" + testKMSMasterKey}})
	}
	for _, p := range nodes {
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(p.URL + "/cairn/health/ready")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready", p.URL)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nodes
}

// runMinioFunctional runs the built suite against p and checks the results.
func runMinioFunctional(t *testing.T, bin string, p *servertest.Process) {
	t.Helper()
	home := t.TempDir()
	env := append(baseEnv(home),
		"SERVER_ENDPOINT="+p.Addr,
		"ACCESS_KEY="+p.AccessKey,
		"SECRET_KEY="+p.SecretKey,
		"ENABLE_HTTPS=0",
		"ENABLE_KMS=1",
		"MINT_MODE=full",
		// Log a failure and go on (the suite panics at the first one otherwise).
		"RUN_ON_FAIL=1",
	)
	began := time.Now()
	out, errOut, err := runErrTimeout(env, home, minioRunTimeout, bin)
	elapsed := time.Since(began)
	lines, junk := parseMinio(out)
	if err != nil {
		t.Errorf("functional tests exited with %v after %v\nstderr:\n%s", err, elapsed.Round(time.Second), tail(errOut, 4000))
	}
	if len(junk) > 0 {
		t.Errorf("output lines that are not test results:\n%s", strings.Join(junk, "\n"))
	}
	checkMinio(t, lines, elapsed)
}

// checkMinio applies minioExpected to the results and reports them.
func checkMinio(t *testing.T, lines []minioLine, elapsed time.Duration) {
	t.Helper()
	counts := map[string]int{}
	status := map[string]map[string]bool{} // test → statuses seen
	slowest := map[string]int64{}
	used := make([]bool, len(minioExpected))
	for _, l := range lines {
		counts[l.Status]++
		name := l.test()
		if status[name] == nil {
			status[name] = map[string]bool{}
		}
		status[name][l.Status] = true
		slowest[name] = max(slowest[name], l.Duration)
		if l.Status == "PASS" {
			continue
		}
		i := expectedFor(name, l)
		if i < 0 {
			t.Errorf("%s: unexpected %s", name, l.text())
			continue
		}
		used[i] = true
	}
	for i, e := range minioExpected {
		if !used[i] {
			t.Errorf("expected-failure entry %q (%s) matched nothing: if the feature works now, remove the entry", e.reason, strings.Join(e.tests, ", "))
		}
	}
	passed := 0
	for _, st := range status {
		if len(st) == 1 && st["PASS"] {
			passed++
		}
	}
	t.Logf("minio-go functional tests: %d tests, %d passed entirely; result lines PASS=%d FAIL=%d NA=%d; %v",
		len(status), passed, counts["PASS"], counts["FAIL"], counts["NA"], elapsed.Round(time.Second))
	names := make([]string, 0, len(slowest))
	for n := range slowest {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return slowest[names[i]] > slowest[names[j]] })
	var slow []string
	for _, n := range names[:min(5, len(names))] {
		slow = append(slow, fmt.Sprintf("%s %.1fs", n, float64(slowest[n])/1000))
	}
	t.Logf("slowest: %s", strings.Join(slow, ", "))
	// The suite has ~100 tests; far fewer means it stopped early.
	if len(status) < 80 {
		t.Errorf("only %d tests reported: the suite did not run through", len(status))
	}
}

// expectedFor returns the index of the minioExpected entry that covers a FAIL or
// NA line of test name, or -1.
func expectedFor(name string, l minioLine) int {
	for i, e := range minioExpected {
		for _, n := range e.tests {
			prefix, wild := strings.CutSuffix(n, "*")
			named := n == name || (wild && strings.HasPrefix(name, prefix))
			if named && (e.match == "" || strings.Contains(l.text(), e.match)) {
				return i
			}
		}
	}
	return -1
}

// parseMinio splits the suite's stdout into result lines and anything else.
func parseMinio(out string) (lines []minioLine, junk []string) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var l minioLine
		if err := json.Unmarshal([]byte(text), &l); err != nil || l.Name == "" || l.Status == "" {
			junk = append(junk, tail(text, 500))
			continue
		}
		lines = append(lines, l)
	}
	return lines, junk
}

// minioModuleRE finds minio-go's version in go.mod.
var minioModuleRE = regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/minio/minio-go/v7\s+(v\S+)`)

// buildMinioFunctional builds minio-go's functional_tests.go (package main,
// behind the "mint" build tag) for the minio-go version Cairn's go.mod requires.
//
// It builds in a scratch module whose go.mod is Cairn's with another module path
// and whose go.sum is Cairn's: Cairn already depends on that minio-go, so its
// go.sum covers the whole build and nothing needs checking against the checksum
// database. The file is named on the command line, which makes the go command
// ignore its build constraint; "-tags mint" would not do, because the tag would
// also apply to the minio-go package, whose directory holds the same file.
func buildMinioFunctional(t *testing.T, goTool string) string {
	t.Helper()
	gomod := strings.TrimSpace(run(t, os.Environ(), "", goTool, "env", "GOMOD"))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the cairn module: go env GOMOD is empty")
	}
	modText, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(filepath.Dir(gomod), "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	m := minioModuleRE.FindSubmatch(modText)
	if m == nil {
		t.Fatal("go.mod does not require github.com/minio/minio-go/v7")
	}
	version := string(m[1])

	dir := t.TempDir()
	mod := regexp.MustCompile(`(?m)^module\s+\S+`).ReplaceAll(modText, []byte("module mintft"))
	writeFile(t, dir, "go.mod", mod)
	writeFile(t, dir, "go.sum", sum)
	env := goEnv()
	info := run(t, env, dir, goTool, "mod", "download", "-json", "github.com/minio/minio-go/v7@"+version)
	var dl struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(info), &dl); err != nil || dl.Dir == "" {
		t.Fatalf("go mod download minio-go %s: %v %s\n%s", version, err, dl.Error, info)
	}
	src, err := os.ReadFile(filepath.Join(dl.Dir, "functional_tests.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "functional_tests.go", src)
	began := time.Now()
	bin := filepath.Join(dir, "functional_tests")
	run(t, env, dir, goTool, "build", "-o", bin, "functional_tests.go")
	t.Logf("built minio-go %s functional tests in %v", version, time.Since(began).Round(100*time.Millisecond))
	return bin
}

// goEnv is the environment of the go commands that build the suite: the test's
// (GOPROXY, GOCACHE, GOMODCACHE and friends apply) with -mod=mod and no workspace.
func goEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GOFLAGS=") || strings.HasPrefix(kv, "GOWORK=") {
			continue
		}
		env = append(env, kv)
	}
	var flags []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") {
			flags = append(flags, f)
		}
	}
	flags = append(flags, "-mod=mod")
	return append(env, "GOFLAGS="+strings.Join(flags, " "), "GOWORK=off")
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
