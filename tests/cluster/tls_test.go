package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/certs"
	"github.com/cairn-io/cairn/server/servertest"
)

// tlsNode is a node of a TLS cluster with its own certs directory.
type tlsNode struct {
	p     *servertest.Process
	addr  string
	certs string
}

// writePKI makes a certs directory: a fresh CA and a node certificate for the
// loopback address, signed by it, with the CA in CAs/.
func writePKI(t *testing.T, dir string) (caFile string) {
	t.Helper()
	ca, err := certs.Generate(dir, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// copyDir copies the regular files of a certs directory tree.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// verifyingClient is an HTTPS client that trusts only caFile.
func verifyingClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no CA certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 20 * time.Second}
}

// waitTLSReady waits until url's readiness probe answers 200 over hc.
func waitTLSReady(t *testing.T, hc *http.Client, url string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := hc.Get(url + "/cairn/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// TestTLSCluster runs four real nodes that serve S3 and talk to each other
// over HTTPS only: every node's certificate is signed by one cluster CA, which
// each node trusts through CAs/ in its --certs-dir. A node whose certificate
// the cluster CA did not sign cannot join, even when it trusts the cluster CA
// itself.
func TestTLSCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four server processes")
	}
	start := time.Now()
	dir := t.TempDir()
	clusterPKI := filepath.Join(dir, "pki")
	caFile := writePKI(t, clusterPKI)
	hc := verifyingClient(t, caFile)

	const n, d = 4, 2
	nodes := make([]*tlsNode, n)
	var patterns []string
	for i := range nodes {
		nd := &tlsNode{addr: servertest.FreeAddr(t), certs: filepath.Join(dir, fmt.Sprintf("certs%d", i+1))}
		copyDir(t, clusterPKI, nd.certs)
		nodes[i] = nd
		patterns = append(patterns, fmt.Sprintf("https://%s%s/d{1...%d}", nd.addr, filepath.Join(dir, fmt.Sprintf("n%d", i+1)), d))
	}
	pool := strings.Join(patterns, ",")
	for i := n - 1; i >= 0; i-- {
		nodes[i].p = servertest.StartProcess(t, servertest.ProcOptions{
			DriveArgs: []string{pool}, Address: nodes[i].addr, TLS: true,
			Args: []string{"--certs-dir", nodes[i].certs},
		})
	}
	for i, nd := range nodes {
		if !waitTLSReady(t, hc, nd.p.URL, 30*time.Second) {
			t.Fatalf("node %d not ready over HTTPS after 30 s", i+1)
		}
	}
	t.Logf("TLS cluster of %d nodes ready in %v", n, time.Since(start).Round(time.Millisecond))

	ctx := context.Background()
	client := func(i int) *s3.Client {
		return nodes[i].p.Client(func(o *s3.Options) { o.HTTPClient = hc }) // verifies the CA
	}
	if _, err := client(0).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	want := map[string][]byte{}
	for i := range 8 {
		data := make([]byte, []int{0, 7000, 1 << 20, 2<<20 + 5}[i%4])
		rng.Read(data)
		k := fmt.Sprintf("obj/%d", i)
		want[k] = data
		if _, err := client(i%n).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("PUT %s through node %d: %v", k, i%n+1, err)
		}
	}
	checkTLS := func(t *testing.T, skip int) {
		t.Helper()
		for i := range n {
			if i == skip {
				continue
			}
			for k, data := range want {
				out, err := client(i).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(k)})
				if err != nil {
					t.Fatalf("GET %s through node %d: %v", k, i+1, err)
				}
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("GET %s through node %d: %v, %d bytes of %d", k, i+1, err, len(got), len(data))
				}
			}
		}
	}
	t.Run("every node reads what every node wrote", func(t *testing.T) { checkTLS(t, -1) })

	t.Run("the storage RPC speaks only TLS", func(t *testing.T) {
		// The drives of the other nodes are reached through this listener: a
		// plain-HTTP request to the RPC path never gets to the RPC handler.
		resp, err := http.Post("http://"+nodes[1].addr+"/cairn/rpc/v1/"+strings.TrimPrefix(filepath.Join(dir, "n2", "d1"), "/")+"/read?path=.cairn/format.json", "", nil)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
				t.Fatalf("plain HTTP to the RPC path: %s %q", resp.Status, body)
			}
		}
		// A client that does not trust the cluster CA does not get a connection.
		if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(nodes[1].p.URL + "/cairn/health/live"); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("untrusted server certificate: %v", err)
		}
	})

	t.Run("a node with a certificate from another CA cannot join", func(t *testing.T) {
		rogue := nodes[n-1]
		rogue.p.Stop()
		good := filepath.Join(dir, "good4")
		if err := os.Rename(rogue.certs, good); err != nil {
			t.Fatal(err)
		}
		writePKI(t, rogue.certs)
		// It even trusts the cluster's CA: it can verify its peers, they cannot verify it.
		copyDir(t, filepath.Join(clusterPKI, certs.CAsDir), filepath.Join(rogue.certs, certs.CAsDir))
		rogue.p.Restart(t) // live (it answers probes while it boots) but never ready
		// Until it says why it cannot join, it must never be ready.
		const refused = `level=ERROR msg="another node refuses this node's calls`
		insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 2 * time.Second}
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(rogue.p.Log.String(), refused) {
			if time.Now().After(deadline) {
				t.Fatalf("no clear error in the rogue node's output after 20 s:\n%s", rogue.p.Log.String())
			}
			if waitTLSReady(t, insecure, rogue.p.URL, 200*time.Millisecond) {
				t.Fatal("the node with a foreign certificate became ready")
			}
		}
		if waitTLSReady(t, insecure, rogue.p.URL, 2*time.Second) {
			t.Fatal("the node with a foreign certificate became ready")
		}
		log := rogue.p.Log.String()
		i := strings.LastIndex(log, refused)
		line := log[strings.LastIndex(log[:i], "\n")+1:]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		t.Logf("the rogue node says: %.600s", line)
		if !strings.Contains(line, "certificate is not trusted") {
			t.Errorf("the error does not say the certificate is not trusted: %s", line)
		}
		if log := nodes[0].p.Log.String(); !strings.Contains(log, `msg="refused a node-to-node call"`) {
			t.Errorf("node 1 did not log the refused call")
		}
		// The others still serve everything without its drives.
		checkTLS(t, n-1)
		// With the cluster's certificate back it joins again.
		rogue.p.Stop()
		if err := os.RemoveAll(rogue.certs); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(good, rogue.certs); err != nil {
			t.Fatal(err)
		}
		rogue.p.Restart(t)
		if !waitTLSReady(t, hc, rogue.p.URL, 30*time.Second) {
			t.Fatal("node 4 did not rejoin with the cluster's certificate")
		}
		checkTLS(t, -1)
	})
	t.Logf("whole test: %v", time.Since(start).Round(time.Millisecond))
}
