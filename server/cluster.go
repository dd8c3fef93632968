package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/internal/dlock"
	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/layout"
	"github.com/cairn-io/cairn/server/internal/rpcauth"
)

// Clusters. Every node runs `cairn server --address HOST:PORT ENDPOINT...` with the
// same endpoint list; an endpoint is a local path (single node) or
// http://host:port/path. A node serves, as local drives, the endpoints whose
// host:port is its own --address, and reaches the others through the storage RPC
// of the node that owns them.
//
// Drives are interleaved across nodes before they are cut into sets (the first
// drive of every node, then the second of every node, …), so each set spans as
// many nodes as possible and losing a node costs every set the fewest shards.
//
// Boot: every node reads every drive's identity (.cairn/format.json) through the
// drive interface. A fresh cluster is formatted by one node only — the owner of
// the first endpoint — while the others wait for the formats to appear; blank
// drives in known slots (replacements) are formatted by the node that owns them.
// A node answers storage RPC and liveness while it waits, so nodes may start in
// any order; S3 requests get 503 until the node is ready.

// endpoint is one drive argument.
type endpoint struct {
	raw  string // as given (expanded)
	node string // host:port, "" for a local path in single-node mode
	path string // absolute path on its node
}

func parseEndpoints(args []string) ([]endpoint, error) {
	var eps []endpoint
	urls := 0
	for _, a := range args {
		if strings.Contains(a, "://") {
			u, err := url.Parse(a)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasPrefix(u.Path, "/") {
				return nil, fmt.Errorf("endpoint %q: want http(s)://host:port/absolute/path", a)
			}
			if _, _, err := net.SplitHostPort(u.Host); err != nil {
				return nil, fmt.Errorf("endpoint %q: the host needs a port", a)
			}
			eps = append(eps, endpoint{raw: a, node: u.Host, path: filepath.Clean(u.Path)})
			urls++
			continue
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, err
		}
		eps = append(eps, endpoint{raw: a, path: abs})
	}
	if urls != 0 && urls != len(eps) {
		return nil, errors.New("mix of local paths and http:// endpoints: in a cluster every drive is an http://host:port/path endpoint")
	}
	return eps, nil
}

// interleave orders endpoints so consecutive drives belong to different nodes.
func interleave(eps []endpoint) []endpoint {
	var nodes []string
	byNode := map[string][]endpoint{}
	for _, e := range eps {
		if _, ok := byNode[e.node]; !ok {
			nodes = append(nodes, e.node)
		}
		byNode[e.node] = append(byNode[e.node], e)
	}
	out := make([]endpoint, 0, len(eps))
	for i := 0; len(out) < len(eps); i++ {
		for _, n := range nodes {
			if i < len(byNode[n]) {
				out = append(out, byNode[n][i])
			}
		}
	}
	return out
}

// clusterKey is the storage RPC secret: CAIRN_CLUSTER_SECRET, or derived from the
// root credentials (every node has them) so it is never the root password itself.
func clusterKey(cfg Config) string {
	if cfg.ClusterSecret != "" {
		return cfg.ClusterSecret
	}
	m := hmac.New(sha256.New, []byte("cairn cluster secret v1"))
	m.Write([]byte(cfg.RootUser + "\x00" + cfg.RootPassword))
	return hex.EncodeToString(m.Sum(nil))
}

// openEndpoints opens every endpoint in order: local ones as local drives (their
// directories created), the others as remote drives.
func (s *Server) openEndpoints(eps []endpoint, auth drive.RPCAuth) ([]drive.Drive, error) {
	group := drive.NewSyncGroup()
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		TLSClientConfig:     s.cfg.ClientTLS,
	}
	client := &http.Client{Transport: transport}
	scheme := "http://"
	if s.cfg.ClientTLS != nil {
		scheme = "https://"
	}
	drives := make([]drive.Drive, len(eps))
	s.local = map[string]drive.Drive{}
	for i, e := range eps {
		if e.node != "" && e.node != s.cfg.Address {
			drives[i] = drive.NewRemote(scheme+e.node, e.path, auth, drive.RemoteOptions{Client: client})
			continue
		}
		if err := os.MkdirAll(e.path, 0o755); err != nil {
			return nil, fmt.Errorf("drive %s: %w", e.raw, err)
		}
		ld, err := drive.OpenLocal(e.path, group)
		if err != nil {
			s.cfg.Logger.Error("drive offline", "drive", e.raw, "err", err)
			drives[i] = drive.Offline(e.raw)
			continue
		}
		s.drives = append(s.drives, ld)
		s.local[e.path] = ld
		drives[i] = ld
	}
	if len(s.local) == 0 {
		return nil, fmt.Errorf("none of the endpoints belongs to this node (--address %s)", s.cfg.Address)
	}
	return drives, nil
}

// readFormats reads every drive's identity through the drive interface.
func readFormats(ctx context.Context, drives []drive.Drive, names []string) []layout.DriveState {
	states := make([]layout.DriveState, len(drives))
	done := make(chan struct{}, len(drives))
	for i, d := range drives {
		go func() {
			defer func() { done <- struct{}{} }()
			states[i].Root = names[i]
			raw, err := d.ReadFile(ctx, layout.FormatFile)
			switch {
			case errors.Is(err, drive.ErrNotFound) && !errors.Is(err, drive.ErrOffline):
				// blank drive
			case err != nil:
				states[i].Err = err
			default:
				states[i].Format, states[i].Err = layout.Decode(raw)
			}
		}()
	}
	for range drives {
		<-done
	}
	return states
}

func writeFormat(ctx context.Context, d drive.Drive, f layout.Format) error {
	raw, err := layout.Encode(f)
	if err != nil {
		return err
	}
	if err := d.WriteFile(ctx, layout.FormatFile, raw); err != nil {
		return err
	}
	return d.Sync(ctx)
}

// errNotYet: the cluster cannot be formatted or joined yet; try again.
var errNotYet = errors.New("cluster not ready")

// formatDrives reconciles the drives' identities and writes the ones this node is
// responsible for.
func (s *Server) formatDrives(ctx context.Context, drives []drive.Drive, eps []endpoint, lay layout.Layout, cluster bool) (layout.Result, error) {
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e.raw
	}
	states := readFormats(ctx, drives, names)
	if cluster {
		s.logTrustErrors(states)
	}
	res, err := layout.ReconcileStates(states, lay, 0)
	if err != nil {
		if cluster && (errors.Is(err, layout.ErrNoQuorum) || unreachable(states)) {
			return res, fmt.Errorf("%w: %w", errNotYet, err)
		}
		return res, err
	}
	// Who writes: the node of the first endpoint (interleaving keeps it first)
	// formats a fresh cluster; otherwise every node writes its own drives.
	if res.Fresh && cluster && eps[0].node != s.cfg.Address {
		return res, fmt.Errorf("%w: waiting for %s to format the cluster", errNotYet, eps[0].node)
	}
	for _, i := range res.ToWrite {
		if !res.Fresh && eps[i].node != "" && eps[i].node != s.cfg.Address {
			continue // the owner writes it
		}
		if err := writeFormat(ctx, drives[i], res.Formats[i]); err != nil {
			if cluster {
				return res, fmt.Errorf("%w: drive %s: writing identity: %w", errNotYet, eps[i].raw, err)
			}
			return res, fmt.Errorf("drive %s: writing identity: %w", eps[i].raw, err)
		}
	}
	return res, nil
}

// logTrustErrors says, as an error, when this node and another do not trust
// each other: the other node refused this node's calls (its certificate or the
// cluster secret), or this node could not verify the other's certificate. The
// node keeps waiting — certificates may be fixed and reloaded — but the reason
// must not hide among the "waiting for the other nodes" lines.
func (s *Server) logTrustErrors(states []layout.DriveState) {
	for _, st := range states {
		var cv *tls.CertificateVerificationError
		switch {
		case errors.Is(st.Err, drive.ErrForbidden):
			s.cfg.Logger.Error("another node refuses this node's calls: its TLS client certificate must be signed by a CA in the other nodes' CAs/, and every node needs the same cluster secret", "drive", st.Root, "err", st.Err)
		case errors.As(st.Err, &cv):
			s.cfg.Logger.Error("another node's TLS certificate is not trusted by this node: put the CA that signed it in CAs/ of --certs-dir", "drive", st.Root, "err", st.Err)
		default:
			continue
		}
		return // one line per attempt
	}
}

func unreachable(states []layout.DriveState) bool {
	for _, st := range states {
		if st.Err != nil && errors.Is(st.Err, drive.ErrOffline) {
			return true
		}
	}
	return false
}

// lockStateFile records, on a node's first local drive, whether the node stopped
// cleanly; see clusterLocks.
const lockStateFile = ".cairn/lock-state.json"

// clusterLocks builds the node's lock table (served to the others) and the client
// that takes locks on a majority of nodes. A node that crashed may have granted
// leases it no longer remembers, so its table refuses grants for one lease period
// after start (package dlock explains why); after a clean stop, or on first boot,
// there is nothing to forget and it grants at once.
func (s *Server) clusterLocks(ctx context.Context, eps []endpoint, auth rpcauth.Auth) (*dlock.Table, *dlock.Client) {
	var state drive.Drive
	for _, e := range eps {
		if d, ok := s.local[e.path]; ok && e.node == s.cfg.Address {
			state = d
			break
		}
	}
	grace := dlock.DefaultTTL
	if raw, err := state.ReadFile(ctx, lockStateFile); errors.Is(err, drive.ErrNotFound) || (err == nil && strings.Contains(string(raw), `"clean":true`)) {
		grace = 0
	}
	if grace > 0 {
		s.cfg.Logger.Warn("node did not stop cleanly: refusing cluster locks for one lease period", "period", grace)
	}
	state.WriteFile(ctx, lockStateFile, []byte(`{"clean":false}`))
	state.Sync(ctx)
	s.lockState = state
	table := dlock.NewTable(s.cfg.Now, grace)
	client := &dlock.Client{Owner: s.cfg.Address}
	seen := map[string]bool{}
	scheme := "http://"
	if s.cfg.ClientTLS != nil {
		scheme = "https://"
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: s.cfg.ClientTLS, MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	for _, e := range eps {
		if seen[e.node] {
			continue
		}
		seen[e.node] = true
		if e.node == s.cfg.Address {
			client.Nodes = append(client.Nodes, table)
		} else {
			client.Nodes = append(client.Nodes, &dlock.Remote{Base: scheme + e.node, Auth: auth, Client: hc})
		}
	}
	return table, client
}

// markCleanStop records a clean stop for the next start (see clusterLocks).
func (s *Server) markCleanStop() {
	if s.lockState == nil {
		return
	}
	ctx := context.Background()
	if s.lockState.WriteFile(ctx, lockStateFile, []byte(`{"clean":true}`)) == nil {
		s.lockState.Sync(ctx)
	}
}
