package drive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/drive/drivetest"
)

// remoteOver serves a fresh local drive over RPC and returns a Remote for it.
func remoteOver(t *testing.T, serverAuth, clientAuth drive.RPCAuth) (*drive.Remote, *drive.Local) {
	t.Helper()
	local, root := openLocal(t, drive.NewSyncGroup())
	h := &drive.RPCHandler{Drives: map[string]drive.Drive{root: local}, Auth: serverAuth}
	mux := http.NewServeMux()
	mux.Handle(drive.RPCPrefix, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return drive.NewRemote(srv.URL, root, clientAuth, drive.RemoteOptions{Client: srv.Client(), Timeout: 5 * time.Second}), local
}

func TestRemoteConformance(t *testing.T) {
	auth := drive.NewRPCAuth("cluster-secret")
	drivetest.Run(t, func(t *testing.T) drive.Drive { r, _ := remoteOver(t, auth, auth); return r })
}

func TestRemoteWrongKeyRefused(t *testing.T) {
	r, local := remoteOver(t, drive.NewRPCAuth("right"), drive.NewRPCAuth("wrong"))
	ctx := context.Background()
	err := r.WriteFile(ctx, "a/b", []byte("x"))
	if err == nil {
		t.Fatal("write with the wrong cluster key succeeded")
	}
	// Refused, and still faulty for code that only knows the older kinds.
	if !errors.Is(err, drive.ErrForbidden) || !errors.Is(err, drive.ErrFaulty) || strings.Count(err.Error(), "refused") != 1 {
		t.Fatalf("refused write: %v, want ErrForbidden and ErrFaulty", err)
	}
	if _, err := local.ReadFile(ctx, "a/b"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("the refused write changed the drive: %v", err)
	}
}

func TestRemoteErrorsKeepTheirKind(t *testing.T) {
	auth := drive.NewRPCAuth("k")
	r, _ := remoteOver(t, auth, auth)
	ctx := context.Background()
	if _, err := r.ReadFile(ctx, "nope"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("read missing: %v", err)
	}
	w, _ := r.Create(ctx, "f")
	w.Write([]byte("x"))
	w.Close()
	w, _ = r.Create(ctx, "f")
	w.Write([]byte("y"))
	if err := w.Close(); !errors.Is(err, drive.ErrExists) {
		t.Fatalf("create over existing file: %v", err)
	}
}

// A node that stops answering makes calls fail within the timeout instead of hanging.
func TestRemoteHungNodeTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	r := drive.NewRemote("http://"+ln.Addr().String(), "/d", drive.NewRPCAuth("k"), drive.RemoteOptions{Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err = r.ReadFile(context.Background(), "x")
	if err == nil || !errors.Is(err, drive.ErrOffline) {
		t.Fatalf("read from a hung node: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	// A stream read honours its context.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := r.Open(ctx, "x", 0, -1); err == nil {
		t.Fatal("open on a hung node succeeded")
	}
}

// A connection dropped in the middle of a stream is an error, never a short clean read.
func TestRemoteDroppedStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write(bytes.Repeat([]byte("a"), 1000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cut the connection
	}))
	defer srv.Close()
	r := drive.NewRemote(srv.URL, "/d", drive.NewRPCAuth("k"), drive.RemoteOptions{})
	rc, err := r.Open(context.Background(), "x", 0, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err == nil {
		t.Fatalf("dropped stream read cleanly (%d bytes)", len(b))
	}
}

// Concurrent Syncs of a remote drive share round trips, and a Sync that
// arrives while one runs waits for the next (it may follow writes the running
// one does not cover).
func TestRemoteSyncsShareRoundTrips(t *testing.T) {
	d := openIndexed(t, t.TempDir(), 0)
	defer d.Close()
	auth := drive.NewRPCAuth("k")
	h := &drive.RPCHandler{Drives: map[string]drive.Drive{d.Root(): d}, Auth: auth}
	var syncs atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sync") && syncs.Add(1) == 1 {
			<-release // the first round trip waits
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	remote := drive.NewRemote(srv.URL, d.Root(), auth, drive.RemoteOptions{Client: srv.Client(), Timeout: 5 * time.Second})
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- remote.Sync(ctx) }()
	for syncs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	later := make(chan error, 20)
	for range 20 {
		go func() { later <- remote.Sync(ctx) }()
	}
	time.Sleep(100 * time.Millisecond) // all 20 waiting behind the running round trip
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := <-later; err != nil {
			t.Fatal(err)
		}
	}
	if n := syncs.Load(); n != 2 {
		t.Fatalf("%d sync round trips for 21 Syncs, want 2: the running one and one after it", n)
	}
}
