// Package certs owns the server's TLS material: the certificates it serves (one
// default pair plus one per SNI domain), the CAs it trusts for node-to-node calls,
// and their reload without restart. It sits in front of the whole data path: the
// listener is wrapped with Config.Server() before net/http sees a byte.
//
// Layout of a certs directory (the same as the one MinIO users already have):
//
//	public.crt, private.key            the default certificate (PEM; chain allowed)
//	<domain>/public.crt, private.key   served when the client asks for <domain> (SNI)
//	CAs/*.crt                          extra trusted CAs (peers, private PKI)
//
// Node-to-node calls (storage and lock RPC) are mutual TLS: a node presents
// its default certificate as a client certificate (Client), and the node it
// calls accepts the call only if that certificate chains to a CA in CAs/ or to
// one of its own certificates (VerifyPeer) — never to the system roots, which
// would let anyone with a public certificate in. The listener asks every
// client for a certificate but requires none (S3 clients send none); only the
// RPC paths check it.
//
// Reload: Reload re-reads the directory; Watch calls it when a file changes (polled)
// and the server calls it on SIGHUP. A reload that fails keeps the certificates in
// use, so a half-copied file never takes the server down. Handshakes always see a
// complete, consistent set (swapped atomically).
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// File names inside a certs directory.
const (
	PublicCert = "public.crt"
	PrivateKey = "private.key"
	CAsDir     = "CAs"
)

// Errors.
var (
	// ErrNoCertificate: the directory has no public.crt/private.key pair.
	ErrNoCertificate = errors.New("certs: no public.crt and private.key")
	// ErrUntrustedPeer: a node-to-node call came without a certificate, or
	// with one that no CA of CAs/ (nor the node's own chain) signed.
	ErrUntrustedPeer = errors.New("certs: the calling node's certificate is not trusted")
)

// Store holds the current TLS material of one certs directory. Safe for concurrent
// use.
type Store struct {
	dir   string
	cur   atomic.Pointer[material]
	stamp atomic.Pointer[string] // modification summary of the last load
}

type material struct {
	def   *tls.Certificate
	bySNI map[string]*tls.Certificate
	roots *x509.CertPool // system + CAs/ + own certificates
	peers *x509.CertPool // CAs/ + own certificates: who may call the RPC
	leaf  *x509.Certificate
}

// Load reads dir. It fails with ErrNoCertificate when the default pair is missing.
func Load(dir string) (*Store, error) {
	s := &Store{dir: dir}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Exists reports whether dir holds a default certificate pair.
func Exists(dir string) bool {
	_, err1 := os.Stat(filepath.Join(dir, PublicCert))
	_, err2 := os.Stat(filepath.Join(dir, PrivateKey))
	return err1 == nil && err2 == nil
}

// Reload re-reads the directory; on error the previous material stays in use.
func (s *Store) Reload() error {
	m, err := load(s.dir)
	if err != nil {
		return err
	}
	s.cur.Store(m)
	st := s.summary()
	s.stamp.Store(&st)
	return nil
}

func load(dir string) (*material, error) {
	def, err := loadPair(dir)
	if err != nil {
		return nil, err
	}
	m := &material{def: def, bySNI: map[string]*tls.Certificate{}}
	m.leaf = def.Leaf
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() || e.Name() == CAsDir {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if !Exists(sub) {
			continue
		}
		c, err := loadPair(sub)
		if err != nil {
			return nil, fmt.Errorf("certs: %s: %w", e.Name(), err)
		}
		m.bySNI[strings.ToLower(e.Name())] = c
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	peers := x509.NewCertPool()
	cas, _ := filepath.Glob(filepath.Join(dir, CAsDir, "*"))
	sort.Strings(cas)
	for _, p := range cas {
		pemBytes, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
		if !roots.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("certs: %s holds no PEM certificate", p)
		}
		peers.AppendCertsFromPEM(pemBytes)
	}
	// Trust our own certificates too: a self-signed cluster then needs no CAs/.
	for _, c := range append([]*tls.Certificate{def}, values(m.bySNI)...) {
		for _, der := range c.Certificate {
			if x, err := x509.ParseCertificate(der); err == nil {
				roots.AddCert(x)
				peers.AddCert(x)
			}
		}
	}
	m.roots, m.peers = roots, peers
	return m, nil
}

func values(m map[string]*tls.Certificate) []*tls.Certificate {
	out := make([]*tls.Certificate, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

func loadPair(dir string) (*tls.Certificate, error) {
	if !Exists(dir) {
		return nil, fmt.Errorf("%w in %s", ErrNoCertificate, dir)
	}
	c, err := tls.LoadX509KeyPair(filepath.Join(dir, PublicCert), filepath.Join(dir, PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", dir, err)
	}
	if c.Leaf == nil && len(c.Certificate) > 0 {
		c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	return &c, nil
}

// Leaf is the default certificate (for expiry metrics and logs).
func (s *Store) Leaf() *x509.Certificate { return s.cur.Load().leaf }

// Server returns the TLS configuration for the listener: TLS 1.2 or newer, the
// certificate chosen by SNI, always the latest loaded material.
func (s *Store) Server() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			m := s.cur.Load()
			name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
			if c, ok := m.bySNI[name]; ok {
				return c, nil
			}
			return m.def, nil
		},
		NextProtos: []string{"http/1.1"},
		// Ask for a client certificate, require none: nodes send theirs and the
		// RPC paths check it (VerifyPeer); S3 clients send none.
		ClientAuth: tls.RequestClientCert,
	}
}

// Client returns the TLS configuration for node-to-node calls, trusting the
// system roots, CAs/ and the node's own certificates, and presenting the
// node's default certificate (the latest loaded) to the node it calls.
func (s *Store) Client() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    s.cur.Load().roots,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return s.cur.Load().def, nil
		},
	}
}

// VerifyPeer checks the client certificate of a node-to-node call: it must
// chain to a CA in CAs/ or to one of this node's own certificates (any key
// usage; the system roots do not count). Errors wrap ErrUntrustedPeer and say
// which certificate was refused and why.
func (s *Store) VerifyPeer(cs *tls.ConnectionState) error {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: it sent no client certificate (is its --certs-dir set?)", ErrUntrustedPeer)
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: s.cur.Load().peers, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("%w: certificate %q issued by %q: %v; the nodes of a cluster need certificates signed by a CA in every node's %s/",
			ErrUntrustedPeer, leaf.Subject.CommonName, leaf.Issuer.CommonName, err, CAsDir)
	}
	return nil
}

// summary fingerprints the directory's files by name, size and modification time.
func (s *Store) summary() string {
	var b strings.Builder
	filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}

// Changed reports whether the directory differs from what was last loaded.
func (s *Store) Changed() bool {
	st := s.stamp.Load()
	return st == nil || *st != s.summary()
}

// Watch reloads the store when its files change, checking every interval, until
// stop is closed. Failed reloads are reported through onErr (and retried at the
// next change).
func (s *Store) Watch(stop <-chan struct{}, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !s.Changed() {
				continue
			}
			if err := s.Reload(); err != nil {
				if onErr != nil {
					onErr(err)
				}
				st := s.summary() // do not retry the same broken files every tick
				s.stamp.Store(&st)
			}
		}
	}
}
