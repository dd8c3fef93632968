package tls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/certs"
	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

func httpsClient(t *testing.T, caFile string) *http.Client {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
}

func serial(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func TestTLSServer(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "certs")
	ca, err := certs.Generate(certDir, []string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := servertest.StartProcess(t, servertest.ProcOptions{Dir: filepath.Join(dir, "drives"), Args: []string{"--certs-dir", certDir}, TLS: true})
	url := "https://" + p.Addr
	ctx := context.Background()

	t.Run("aws-sdk-go-v2 with the CA", func(t *testing.T) {
		c := s3.New(s3.Options{BaseEndpoint: aws.String(url), Region: "us-east-1", UsePathStyle: true,
			Credentials: p.Client().Options().Credentials, HTTPClient: httpsClient(t, ca)})
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("secure")}); err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("tls"), 100000)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("secure"), Key: aws.String("k"), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("secure"), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) {
			t.Fatal("body differs over TLS")
		}
	})
	t.Run("a client without the CA is refused", func(t *testing.T) {
		if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(url + "/cairn/health/live"); err == nil {
			t.Fatal("untrusted certificate accepted")
		}
	})
	t.Run("plain HTTP to the TLS port fails cleanly", func(t *testing.T) {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + p.Addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	t.Run("aws cli with --ca-bundle", func(t *testing.T) {
		aws := "/usr/bin/aws"
		if _, err := os.Stat(aws); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("Debian awscli missing on CI")
			}
			t.Skip("Debian awscli not installed")
		}
		home := t.TempDir()
		cmd := exec.Command(aws, "--endpoint-url", url, "--ca-bundle", ca, "s3", "ls", "s3://secure")
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=" + p.AccessKey, "AWS_SECRET_ACCESS_KEY=" + p.SecretKey,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none")}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), " k") {
			t.Fatalf("aws s3 ls over TLS: %v\n%s", err, out)
		}
	})
	t.Run("boto3 with the CA bundle (the seed's TLS flow)", func(t *testing.T) {
		py := "/usr/bin/python3"
		if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("python3-boto3 missing on CI")
			}
			t.Skip("python3-boto3 not installed")
		}
		script := `
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name="us-east-1", verify=sys.argv[4], config=Config(s3={"addressing_style": "path"}))
for b in s3.list_buckets()["Buckets"]:
    print(b["Name"], b["CreationDate"].isoformat())
`
		cmd := exec.Command(py, "-c", script, url, p.AccessKey, p.SecretKey, ca)
		cmd.Env = append(os.Environ(), "BOTO_DISABLE_CRT=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "secure ") {
			t.Fatalf("boto3 over TLS: %v\n%s", err, out)
		}
	})
	t.Run("renewed certificate served without restart", func(t *testing.T) {
		before := serial(t, p.Addr)
		if _, err := certs.Generate(certDir, []string{"localhost", "127.0.0.1"}, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for serial(t, p.Addr) == before {
			if time.Now().After(deadline) {
				t.Fatal("the new certificate was not picked up within 20 s")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if running, _ := p.Running(); !running {
			t.Fatal("server restarted or died")
		}
	})
}
