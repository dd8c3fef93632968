package certs

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func serve(t *testing.T, s *Store) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(tls.NewListener(ln, s.Server()))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func serialSeen(t *testing.T, addr, sni string, cfg *tls.Config) string {
	t.Helper()
	cfg = cfg.Clone()
	cfg.ServerName = sni
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func TestGenerateLoadServe(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, []string{"localhost", "127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	// The client trusting the generated CA (via Client()) completes a verified handshake.
	tr := &http.Transport{TLSClientConfig: s.Client()}
	resp, err := (&http.Client{Transport: tr}).Get("https://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// TLS 1.1 is refused.
	if _, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	// Plain HTTP to the TLS port fails cleanly (no hang, an error or a 400).
	c := &http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Get("http://" + addr); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
	}
}

func TestReloadAndSNI(t *testing.T) {
	dir := t.TempDir()
	Generate(dir, []string{"localhost"}, time.Hour)
	s, _ := Load(dir)
	addr := serve(t, s)
	cfg := &tls.Config{InsecureSkipVerify: true}
	first := serialSeen(t, addr, "localhost", cfg)
	// A certificate for a second domain in its folder is served to that SNI name.
	Generate(filepath.Join(dir, "s3.example.com"), []string{"s3.example.com"}, time.Hour)
	os.RemoveAll(filepath.Join(dir, "s3.example.com", CAsDir))
	if !s.Changed() {
		t.Fatal("change not noticed")
	}
	stop := make(chan struct{})
	defer close(stop)
	go s.Watch(stop, 20*time.Millisecond, nil)
	deadline := time.Now().Add(20 * time.Second)
	for serialSeen(t, addr, "s3.example.com", cfg) == first {
		if time.Now().After(deadline) {
			t.Fatal("SNI certificate not served after reload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if serialSeen(t, addr, "localhost", cfg) != first {
		t.Fatal("default certificate changed")
	}
	// Replacing the default certificate on disk: the new one is served, no restart.
	Generate(dir, []string{"localhost"}, time.Hour)
	deadline = time.Now().Add(20 * time.Second)
	for serialSeen(t, addr, "localhost", cfg) == first {
		if time.Now().After(deadline) {
			t.Fatal("renewed certificate not served")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBrokenReloadKeepsServing(t *testing.T) {
	dir := t.TempDir()
	Generate(dir, []string{"localhost"}, time.Hour)
	s, _ := Load(dir)
	addr := serve(t, s)
	cfg := &tls.Config{InsecureSkipVerify: true}
	before := serialSeen(t, addr, "localhost", cfg)
	os.WriteFile(filepath.Join(dir, PublicCert), []byte("half a file"), 0o644)
	if err := s.Reload(); err == nil {
		t.Fatal("reload of a broken certificate succeeded")
	}
	if serialSeen(t, addr, "localhost", cfg) != before {
		t.Fatal("a failed reload changed the served certificate")
	}
}

func TestMissingCertificate(t *testing.T) {
	if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("%v", err)
	}
}

// TestVerifyPeer: a node accepts the client certificate of a node whose CA is
// in its CAs/ (the certificate comes over a real handshake, from Client), and
// refuses one from another CA, even one the caller itself trusts, and a call
// without a certificate.
func TestVerifyPeer(t *testing.T) {
	cluster, other := t.TempDir(), t.TempDir()
	if _, err := Generate(cluster, []string{"127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(other, []string{"127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The rogue trusts the cluster's CA too: it can verify the server, not the reverse.
	b, err := os.ReadFile(filepath.Join(cluster, CAsDir, "cairn-dev-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, CAsDir, "cluster.crt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := Load(cluster)
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := Load(cluster) // another node of the cluster (same PKI)
	rogue, err := Load(other)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := srv.VerifyPeer(r.TLS); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, "ok")
	})}
	go hs.Serve(tls.NewListener(ln, srv.Server()))
	t.Cleanup(func() { hs.Close() })
	call := func(cfg *tls.Config) (int, string) {
		resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}).Get("https://" + ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := call(peer.Client()); code != 200 {
		t.Fatalf("cluster node refused: %d %s", code, body)
	}
	if code, body := call(rogue.Client()); code != 403 || !strings.Contains(body, "not trusted") {
		t.Fatalf("node of another CA: %d %s", code, body)
	}
	noCert := peer.Client()
	noCert.GetClientCertificate = nil
	if code, body := call(noCert); code != 403 || !strings.Contains(body, "no client certificate") {
		t.Fatalf("no client certificate: %d %s", code, body)
	}
	if err := srv.VerifyPeer(nil); !errors.Is(err, ErrUntrustedPeer) {
		t.Fatalf("VerifyPeer(nil) = %v", err)
	}
}
