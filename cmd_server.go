package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/certs"
)

// Dev credentials, accepted only with --dev (what `make run` uses).
const (
	devUser     = "cairnadmin"
	devPassword = "cairnadmin-dev-secret"
)

func runServer(args []string) error {
	fs := flag.NewFlagSet("cairn server", flag.ContinueOnError)
	addr := fs.String("address", envOr("CAIRN_ADDRESS", "127.0.0.1:9000"), "listen address (host:port)")
	parity := fs.Int("parity", envInt("CAIRN_PARITY", 0), "parity shards per object (default by set size)")
	domain := fs.String("domain", os.Getenv("CAIRN_DOMAIN"), "comma-separated domains for virtual-host style requests")
	region := fs.String("region", envOr("CAIRN_REGION", "us-east-1"), "S3 region")
	dev := fs.Bool("dev", false, "development mode: allow the built-in dev credentials when none are set")
	logLevel := fs.String("log-level", envOr("CAIRN_LOG_LEVEL", "info"), "debug, info, warn or error")
	scanRate := fs.Float64("scanner-rate", 200, "keys per second the background scanner examines (healing priority)")
	scanInterval := fs.Duration("scanner-interval", time.Minute, "pause between scanner cycles")
	deepEvery := fs.Int("scanner-deep-every", 16, "every n-th scanner cycle also verifies shard contents (0: never)")
	healWorkers := fs.Int("heal-workers", 1, "objects healed concurrently from the heal queue")
	certsDir := fs.String("certs-dir", os.Getenv("CAIRN_CERTS_DIR"), "TLS: directory with public.crt and private.key (SNI: <domain>/ subfolders; CAs/ trusted peers); reloaded on change and SIGHUP")
	configFile := fs.String("config", os.Getenv("CAIRN_CONFIG"), "YAML configuration file: flags without dashes as keys, and pools (see README)")
	metricsCfg := metricsFlags(fs)
	kmsCfg := kmsFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: cairn server [flags] POOL...\n\nA POOL is one argument of comma-separated drive patterns: ./data/d{1...6} (one node), or\nhttp://10.0.0.1:9000/data/d{1...4},http://10.0.0.2:9000/data/d{1...4} (a cluster: every node gets the same\narguments and serves the drives of its --address). Each further argument is another pool. Drives listed\nwithout {1...n} patterns (./d1 ./d2 ./d3 ./d4) are one pool.\nRoot credentials: CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD (or CAIRN_ROOT_PASSWORD_FILE).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var configPools []string
	if *configFile != "" {
		ps, err := applyConfigFile(fs, *configFile)
		if err != nil {
			return err
		}
		configPools = ps
	}
	if fs.NArg() == 0 && len(configPools) == 0 {
		fs.Usage()
		return errors.New("no drives given")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	user, password, err := rootCredentials(*dev)
	if err != nil {
		return err
	}
	kmsConfig, err := kmsCfg(*dev, log)
	if err != nil {
		return err
	}
	pools, err := serverPools(configPools, fs.Args())
	if err != nil {
		return err
	}
	var domains []string
	if *domain != "" {
		domains = strings.Split(*domain, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Listen first: a cluster node serves storage RPC to the other nodes while it boots.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	scheme := "http"
	var clientTLS *tls.Config
	var peerTLS func(*tls.ConnectionState) error
	var certStore *certs.Store // nil without TLS
	if *certsDir != "" {
		store, err := certs.Load(*certsDir)
		if err != nil {
			return fmt.Errorf("--certs-dir: %w", err)
		}
		certStore = store
		ln = tls.NewListener(ln, store.Server())
		clientTLS, peerTLS, scheme = store.Client(), store.VerifyPeer, "https"
		go store.Watch(ctx.Done(), 5*time.Second, func(err error) { log.Error("reloading certificates", "err", err) })
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		go func() {
			for range hup {
				if err := store.Reload(); err != nil {
					log.Error("reloading certificates (SIGHUP)", "err", err)
				} else {
					log.Info("certificates reloaded")
				}
			}
		}()
		if leaf := store.Leaf(); leaf != nil {
			log.Info("TLS enabled", "subject", leaf.Subject.CommonName, "expires", leaf.NotAfter)
		}
	}
	srv, err := server.New(ctx, server.Config{
		Version: version, Address: *addr, Listener: ln, ClusterSecret: os.Getenv("CAIRN_CLUSTER_SECRET"), ClientTLS: clientTLS, PeerTLS: peerTLS,
		Pools: pools, Parity: *parity, RootUser: user, RootPassword: password,
		Region: *region, Domains: domains, Logger: log,
		ScanRate: *scanRate, ScanInterval: *scanInterval, DeepScanEvery: *deepEvery, HealWorkers: *healWorkers,
		Metrics: metricsCfg(certStore),
		KMS:     kmsConfig,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	lay := srv.Layout()
	fmt.Printf("Cairn object server\n  endpoint:    %s://%s\n  access key:  %s\n", scheme, ln.Addr(), user)
	if *dev && os.Getenv("CAIRN_ROOT_PASSWORD") == "" && os.Getenv("CAIRN_ROOT_PASSWORD_FILE") == "" {
		fmt.Printf("  secret key:  %s   (dev credentials: never use them in production)\n", password)
	} else {
		fmt.Printf("  secret key:  (from CAIRN_ROOT_PASSWORD)\n")
	}
	if len(pools) == 1 {
		fmt.Printf("  drives:      %d, %s\n", len(pools[0]), lay)
	} else {
		for i, p := range pools {
			fmt.Printf("  pool %d:      %d drives\n", i, len(p))
		}
	}
	fmt.Printf("  try:         AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=<secret> aws --endpoint-url %s://%s s3 ls\n", user, scheme, ln.Addr())
	if a := os.Getenv("CAIRN_PPROF_ADDR"); a != "" {
		// Profiling for benchmarks, on its own listener (never on the S3 port).
		go func() { log.Warn("pprof", "err", http.ListenAndServe(a, pprofMux())) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// rootCredentials reads root credentials from the environment (or a password file);
// the dev defaults apply only in dev mode.
func rootCredentials(dev bool) (string, string, error) {
	user, password := os.Getenv("CAIRN_ROOT_USER"), os.Getenv("CAIRN_ROOT_PASSWORD")
	if f := os.Getenv("CAIRN_ROOT_PASSWORD_FILE"); f != "" && password == "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", "", fmt.Errorf("CAIRN_ROOT_PASSWORD_FILE: %w", err)
		}
		password = strings.TrimSpace(string(b))
	}
	if dev {
		if user == "" {
			user = devUser
		}
		if password == "" {
			password = devPassword
		}
	}
	if user == "" || password == "" {
		return "", "", errors.New("root credentials missing: set CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD (or run with --dev for local development)")
	}
	if !dev && (user == devUser || password == devPassword) {
		return "", "", errors.New("refusing the built-in dev credentials outside --dev mode")
	}
	return user, password, server.CheckCredentials(user, password)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return def
}

func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
