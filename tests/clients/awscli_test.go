package clients

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-io/cairn/server/servertest"
)

// awsPath is Debian's awscli. The aws first on PATH may be another installation
// (a pyenv shim, AWS's v2 bundle) with its own configuration and CA bundle.
const awsPath = "/usr/bin/aws"

// awsCLI runs /usr/bin/aws against one server with a scratch configuration.
type awsCLI struct {
	env      []string
	endpoint string
	dir      string // working directory
}

func newAWSCLI(t *testing.T, p *servertest.Process) *awsCLI {
	t.Helper()
	home := t.TempDir()
	config := filepath.Join(home, "config")
	writeFile(t, home, "config", []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"))
	writeFile(t, home, "credentials", nil)
	env := append(baseEnv(home),
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID="+p.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+p.SecretKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		// One attempt: an error the server answers must reach the test.
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=1",
	)
	return &awsCLI{env: env, endpoint: p.URL, dir: t.TempDir()}
}

// run runs `aws --endpoint-url URL args...` and returns its stdout; a failure
// fails t.
func (a *awsCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	// A long read timeout: on CI every test shares one disk, and a PUT's flush can
	// wait behind other tests' dirty data for longer than awscli's default 60 s.
	return run(t, a.env, a.dir, awsPath, append([]string{"--endpoint-url", a.endpoint, "--cli-read-timeout", "300"}, args...)...)
}

// json runs an s3api command with JSON output and decodes it into v.
func (a *awsCLI) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := a.run(t, append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s: decoding %q: %v", strings.Join(args, " "), out, err)
	}
}

// TestAWSCLI runs the awscli commands people use day to day.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	needTool(t, "awscli ("+awsPath+")", executable(awsPath))
	p := start(t)
	aws := newAWSCLI(t, p)
	bucket := randomName(t, "awscli-")
	s3url := "s3://" + bucket
	local := t.TempDir()

	t.Run("mb", func(t *testing.T) {
		aws.run(t, "s3", "mb", s3url)
		if out := aws.run(t, "s3", "ls"); !strings.Contains(out, bucket) {
			t.Fatalf("s3 ls does not list %s:\n%s", bucket, out)
		}
	})

	t.Run("cp", func(t *testing.T) {
		small := randomBytes(t, 100<<10)
		big := randomBytes(t, 20<<20) // above awscli's 8 MiB multipart threshold: 3 parts
		writeFile(t, local, "small.bin", small)
		writeFile(t, local, "big.bin", big)
		for _, c := range []struct {
			file, key string
			data      []byte
			parts     int
		}{
			{"small.bin", "cp/small file+1 ü.bin", small, 0},
			{"big.bin", "cp/big file+1 ü.bin", big, 3},
		} {
			aws.run(t, "s3", "cp", "--no-progress", filepath.Join(local, c.file), s3url+"/"+c.key)
			etag := serverETag(t, p, bucket, c.key)
			if c.parts > 0 && !strings.HasSuffix(etag, "-"+strconv.Itoa(c.parts)) {
				t.Errorf("%s: ETag %s, want a %d-part multipart ETag", c.key, etag, c.parts)
			}
			back := filepath.Join(local, "back-"+c.file)
			aws.run(t, "s3", "cp", "--no-progress", s3url+"/"+c.key, back)
			sameFile(t, back, c.data)
		}
	})

	t.Run("sync", func(t *testing.T) {
		src, dst := filepath.Join(local, "tree"), filepath.Join(local, "tree-back")
		makeTree(t, src, 200<<10)
		if out := aws.run(t, "s3", "sync", "--no-progress", src, s3url+"/tree"); strings.Count(out, "upload:") != len(treeFiles(t, src)) {
			t.Errorf("first sync up uploaded other than every file:\n%s", out)
		}
		if out := aws.run(t, "s3", "sync", "--no-progress", src, s3url+"/tree"); strings.TrimSpace(out) != "" {
			t.Errorf("second sync up of an unchanged tree did something:\n%s", out)
		}
		aws.run(t, "s3", "sync", "--no-progress", s3url+"/tree", dst)
		sameTree(t, src, dst)
		if out := aws.run(t, "s3", "sync", "--no-progress", s3url+"/tree", dst); strings.TrimSpace(out) != "" {
			t.Errorf("second sync down of an unchanged tree did something:\n%s", out)
		}

		out := aws.run(t, "s3", "ls", "--recursive", s3url+"/tree/")
		var listed []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			// "2026-01-02 15:04:05       1234 tree/a/b.txt"; keys may hold spaces.
			key := keyOfLsLine(line)
			if key == "" {
				t.Fatalf("s3 ls line %q", line)
			}
			listed = append(listed, key)
		}
		var want []string
		for name := range treeFiles(t, src) {
			want = append(want, "tree/"+name)
		}
		slices.Sort(listed)
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			t.Errorf("s3 ls --recursive = %q, want %q", listed, want)
		}

		aws.run(t, "s3", "rm", "--recursive", "--only-show-errors", s3url+"/tree")
		if keys := serverKeys(t, p, bucket, "tree/"); len(keys) != 0 {
			t.Errorf("after s3 rm --recursive the server still has %q", keys)
		}
	})

	t.Run("versioning", func(t *testing.T) {
		aws.run(t, "s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
		var v struct{ Status string }
		aws.json(t, &v, "s3api", "get-bucket-versioning", "--bucket", bucket)
		if v.Status != "Enabled" {
			t.Fatalf("get-bucket-versioning Status = %q", v.Status)
		}
		for i := range 3 {
			writeFile(t, local, "v.txt", []byte("version "+strconv.Itoa(i)))
			aws.run(t, "s3", "cp", "--no-progress", filepath.Join(local, "v.txt"), s3url+"/versioned.txt")
		}
		var lv struct {
			Versions []struct {
				Key, VersionId string
				IsLatest       bool
				Size           int64
			}
		}
		aws.json(t, &lv, "s3api", "list-object-versions", "--bucket", bucket, "--prefix", "versioned.txt")
		ids := map[string]bool{}
		latest := 0
		for _, ver := range lv.Versions {
			ids[ver.VersionId] = true
			if ver.IsLatest {
				latest++
			}
		}
		if len(lv.Versions) != 3 || len(ids) != 3 || latest != 1 {
			t.Fatalf("list-object-versions = %+v, want 3 distinct versions, one latest", lv.Versions)
		}
		oldest := lv.Versions[2].VersionId
		aws.run(t, "s3api", "get-object", "--bucket", bucket, "--key", "versioned.txt", "--version-id", oldest, filepath.Join(local, "v0.txt"))
		sameFile(t, filepath.Join(local, "v0.txt"), []byte("version 0"))
	})

	t.Run("multipart", func(t *testing.T) {
		part1, part2 := randomBytes(t, 5<<20), randomBytes(t, 1234)
		writeFile(t, local, "part1", part1)
		writeFile(t, local, "part2", part2)
		const key = "mp/object.bin"
		var up struct{ UploadId string }
		aws.json(t, &up, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", key)
		var parts []map[string]any
		for i, f := range []string{"part1", "part2"} {
			var r struct{ ETag string }
			aws.json(t, &r, "s3api", "upload-part", "--bucket", bucket, "--key", key, "--upload-id", up.UploadId,
				"--part-number", strconv.Itoa(i+1), "--body", filepath.Join(local, f))
			if !strings.HasPrefix(r.ETag, `"`) {
				t.Errorf("upload-part ETag %q is not quoted", r.ETag)
			}
			parts = append(parts, map[string]any{"PartNumber": i + 1, "ETag": r.ETag})
		}
		doc, _ := json.Marshal(map[string]any{"Parts": parts})
		writeFile(t, local, "complete.json", doc)
		var done struct{ ETag, Key string }
		aws.json(t, &done, "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", key, "--upload-id", up.UploadId,
			"--multipart-upload", "file://"+filepath.Join(local, "complete.json"))
		if done.Key != key || !strings.HasSuffix(done.ETag, `-2"`) {
			t.Errorf("complete-multipart-upload = %+v", done)
		}
		aws.run(t, "s3", "cp", "--no-progress", s3url+"/"+key, filepath.Join(local, "mp.out"))
		sameFile(t, filepath.Join(local, "mp.out"), append(append([]byte{}, part1...), part2...))

		var head struct {
			ContentLength int64
			ETag          string
			PartsCount    int
		}
		aws.json(t, &head, "s3api", "head-object", "--bucket", bucket, "--key", key, "--part-number", "2")
		if head.ContentLength != int64(len(part2)) || head.PartsCount != 2 || head.ETag != done.ETag {
			t.Errorf("head-object --part-number 2 = %+v, want %d bytes of 2 parts, ETag %s", head, len(part2), done.ETag)
		}
		aws.run(t, "s3api", "get-object", "--bucket", bucket, "--key", key, "--part-number", "1", filepath.Join(local, "part1.out"))
		sameFile(t, filepath.Join(local, "part1.out"), part1)
	})

	t.Run("tagging and head-object", func(t *testing.T) {
		const key = "meta/tagged.txt"
		writeFile(t, local, "tagged.txt", []byte("tagged"))
		aws.run(t, "s3", "cp", "--no-progress", "--content-type", "text/plain", "--metadata", "color=blue,shape=round",
			filepath.Join(local, "tagged.txt"), s3url+"/"+key)
		aws.run(t, "s3api", "put-object-tagging", "--bucket", bucket, "--key", key,
			"--tagging", `{"TagSet":[{"Key":"project","Value":"cairn"},{"Key":"tier","Value":"gold plated"}]}`)
		var tags struct{ TagSet []struct{ Key, Value string } }
		aws.json(t, &tags, "s3api", "get-object-tagging", "--bucket", bucket, "--key", key)
		if len(tags.TagSet) != 2 || tags.TagSet[0].Key != "project" || tags.TagSet[0].Value != "cairn" ||
			tags.TagSet[1].Key != "tier" || tags.TagSet[1].Value != "gold plated" {
			t.Errorf("get-object-tagging = %+v", tags.TagSet)
		}
		var head struct {
			ContentLength int64
			ContentType   string
			ETag          string
			Metadata      map[string]string
		}
		aws.json(t, &head, "s3api", "head-object", "--bucket", bucket, "--key", key)
		if head.ContentLength != 6 || head.ContentType != "text/plain" || head.ETag != `"`+serverETag(t, p, bucket, key)+`"` ||
			len(head.Metadata) != 2 || head.Metadata["color"] != "blue" || head.Metadata["shape"] != "round" {
			t.Errorf("head-object = %+v", head)
		}
		if _, errOut, err := runErr(aws.env, aws.dir, awsPath, "--endpoint-url", aws.endpoint,
			"s3api", "head-object", "--bucket", bucket, "--key", "meta/absent"); err == nil || !strings.Contains(errOut, "404") {
			t.Errorf("head-object of a missing key: err %v, stderr %q; want a 404", err, errOut)
		}
	})
}

// keyOfLsLine returns the key of an `aws s3 ls --recursive` line: everything after
// the date, the time and the size (a key may contain spaces).
func keyOfLsLine(line string) string {
	rest := strings.TrimSpace(line)
	for range 3 {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return ""
		}
		rest = strings.TrimLeft(rest[i:], " ")
	}
	return rest
}

// makeTree writes a directory tree of files: nested directories, an empty file,
// names with spaces, a plus sign and non-ASCII letters, and one file of bigSize
// bytes. Empty directories are left out (S3 has no directories to sync them to).
func makeTree(t *testing.T, dir string, bigSize int) {
	t.Helper()
	files := map[string][]byte{
		"top.txt":                []byte("top\n"),
		"a/empty":                nil,
		"a/b/c/deep.txt":         []byte("deep\n"),
		"a/b/sibling.json":       []byte(`{"k": 1}`),
		"with space/a+b=c&d.txt": []byte("odd characters\n"),
		"ünïcödé/日本.txt":         []byte("utf-8 names\n"),
		"data/big.bin":           randomBytes(t, bigSize),
	}
	for name, data := range files {
		writeFile(t, dir, name, data)
	}
}
