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
	"github.com/cairn-io/cairn/server/internal/objects"
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

// poolSpec is one command-line pool.
type poolSpec struct {
	eps    []endpoint // interleaved: slot order
	lay    layout.Layout
	drives []drive.Drive
}

// planPools parses the command line's pools and checks they fit together: all
// local paths or all endpoints, and no drive in two pools.
func planPools(pools [][]string, parity int) ([]poolSpec, error) {
	if len(pools) == 0 || len(pools[0]) == 0 {
		return nil, errors.New("no drives given")
	}
	var specs []poolSpec
	seen := map[string]int{}
	for i, p := range pools {
		lay, err := layout.Plan(len(p), parity)
		if err != nil {
			return nil, fmt.Errorf("pool %d: %w", i, err)
		}
		eps, err := parseEndpoints(p)
		if err != nil {
			return nil, fmt.Errorf("pool %d: %w", i, err)
		}
		if len(specs) > 0 && (eps[0].node != "") != (specs[0].eps[0].node != "") {
			return nil, fmt.Errorf("pool %d: mix of local paths and http:// endpoints across pools", i)
		}
		for _, e := range eps {
			k := e.node + e.path
			if j, dup := seen[k]; dup {
				return nil, fmt.Errorf("drive %s is in pool %d and pool %d", e.raw, j, i)
			}
			seen[k] = i
		}
		specs = append(specs, poolSpec{eps: interleave(eps), lay: lay})
	}
	return specs, nil
}

// bootFormat formats or checks the drives of command-line pool idx, waiting
// (in a cluster) until enough nodes are up.
func (s *Server) bootFormat(ctx context.Context, sp poolSpec, idx int, cluster bool) (layout.Result, error) {
	for {
		res, err := s.formatDrives(ctx, sp.drives, sp.eps, sp.lay, idx, cluster)
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, errNotYet) {
			return res, err
		}
		s.cfg.Logger.Info("waiting for the other nodes", "pool", idx, "reason", err)
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("booting: %w (last: %v)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
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

// initRemote prepares what reaching other nodes takes: the HTTP client shared by
// remote drives and the pools RPC, and the scheme (https when TLS is on).
func (s *Server) initRemote(auth rpcauth.Auth) {
	s.auth = auth
	s.syncGroup = drive.NewSyncGroup()
	s.rpcClient = &http.Client{Transport: &http.Transport{
		Proxy:       nil,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// Every request in flight holds a connection per peer drive it reaches;
		// under load, connections beyond the idle bound are closed and dialed
		// again (at 256 concurrent PUTs on a 4-node cluster, 24,000 sockets in
		// TIME-WAIT and a tenth of the CPU in dialing with a bound of 256).
		MaxIdleConnsPerHost: 2048,
		IdleConnTimeout:     90 * time.Second,
		TLSClientConfig:     s.cfg.ClientTLS,
	}}
	s.scheme = "http://"
	if s.cfg.ClientTLS != nil {
		s.scheme = "https://"
	}
	s.local = map[string]drive.Drive{}
	s.rpcDrives = &drive.RPCHandler{Drives: map[string]drive.Drive{}, Auth: auth, Now: s.cfg.Now}
}

func (s *Server) remoteDrive(e endpoint) drive.Drive {
	return drive.NewRemote(s.scheme+e.node, e.path, s.auth, drive.RemoteOptions{Client: s.rpcClient})
}

// addLocal records one of this node's drives and serves it over the storage RPC.
func (s *Server) addLocal(path string, d *drive.Local) {
	s.drivesMu.Lock()
	s.drives = append(s.drives, d)
	s.local[path] = d
	s.drivesMu.Unlock()
	s.rpcDrives.Add(path, d)
}

// closeDrives closes the local drives of a pool and stops serving them.
func (s *Server) closeDrives(op *openedPool) {
	for _, d := range op.drives {
		ld, ok := d.(*drive.Local)
		if !ok {
			continue
		}
		s.rpcDrives.Remove(ld.Root())
		s.drivesMu.Lock()
		delete(s.local, ld.Root())
		for i, x := range s.drives {
			if x == ld {
				s.drives = append(s.drives[:i:i], s.drives[i+1:]...)
				break
			}
		}
		s.drivesMu.Unlock()
		ld.Close()
	}
}

// openEndpoints opens every endpoint of one command-line pool in order: local
// ones as local drives (their directories created), the others as remote drives.
func (s *Server) openEndpoints(eps []endpoint) []drive.Drive {
	drives := make([]drive.Drive, len(eps))
	for i, e := range eps {
		if e.node != "" && e.node != s.cfg.Address {
			drives[i] = s.remoteDrive(e)
			continue
		}
		var ld *drive.Local
		err := os.MkdirAll(e.path, 0o755)
		if err == nil {
			ld, err = drive.OpenLocal(e.path, s.syncGroup)
		}
		if err != nil {
			s.cfg.Logger.Error("drive offline", "drive", e.raw, "err", err)
			drives[i] = drive.Offline(e.raw)
			continue
		}
		ld.EnableIndex(objects.MetaIndex())
		s.addLocal(e.path, ld)
		drives[i] = ld
	}
	return drives
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
func (s *Server) formatDrives(ctx context.Context, drives []drive.Drive, eps []endpoint, lay layout.Layout, idx int, cluster bool) (layout.Result, error) {
	states := readFormats(ctx, drives, raws(eps))
	if cluster {
		s.logTrustErrors(states)
	}
	res, err := layout.ReconcileStates(states, lay, idx)
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
		f := res.Formats[i]
		if res.Fresh && s.deploy != "" {
			f.DeploymentID = s.deploy // a new command-line pool joins the deployment
		}
		if err := writeFormat(ctx, drives[i], f); err != nil {
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
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: s.cfg.ClientTLS, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second}, Timeout: 10 * time.Second}
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
