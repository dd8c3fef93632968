package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/certs"
)

// metricsFlags adds the /metrics flags to the server's flag set; the returned
// function, called after parsing with the TLS certificate store (nil without TLS),
// gives the server's MetricsConfig.
func metricsFlags(fs *flag.FlagSet) func(*certs.Store) server.MetricsConfig {
	public := fs.Bool("metrics-public", envBool("CAIRN_METRICS_PUBLIC"), "serve /metrics without a bearer token (default: a bearer token is required; cairn admin metrics-token prints it)")
	buckets := fs.Bool("metrics-bucket-usage", envBool("CAIRN_METRICS_BUCKET_USAGE"), "export per-bucket usage metrics (one series pair per bucket)")
	interval := fs.Duration("metrics-usage-interval", envDuration("CAIRN_METRICS_USAGE_INTERVAL", 5*time.Minute), "minimum time between usage scans (object and bucket counts)")
	return func(store *certs.Store) server.MetricsConfig {
		c := server.MetricsConfig{Public: *public, BucketUsage: *buckets, UsageInterval: *interval, Version: version}
		if store != nil {
			c.Certificate = store.Leaf
		}
		return c
	}
}

// runAdmin runs `cairn admin SUBCOMMAND`.
func runAdmin(args []string) error {
	if len(args) == 0 || args[0] != "metrics-token" {
		fmt.Fprint(os.Stderr, `usage: cairn admin metrics-token [--dev] [--access-key KEY --secret-key SECRET]

metrics-token   print the bearer token GET /metrics requires, derived from the root
                credentials in CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD (or
                CAIRN_ROOT_PASSWORD_FILE), or from an access key whose policies allow
                admin:ServerInfo (revoking the key revokes the token); put it in
                Prometheus's scrape config (authorization: credentials_file). The admin
                API mints the same token for the caller: GET /cairn/admin/v1/metrics-token
`)
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("admin: unknown or missing subcommand")
	}
	fs := flag.NewFlagSet("cairn admin metrics-token", flag.ContinueOnError)
	dev := fs.Bool("dev", false, "use the built-in dev credentials when none are set (as cairn server --dev does)")
	accessKey := fs.String("access-key", "", "mint the token of this access key instead of root's")
	secretKey := fs.String("secret-key", os.Getenv("CAIRN_SECRET_KEY"), "the access key's secret (or CAIRN_SECRET_KEY)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *accessKey != "" {
		if *secretKey == "" {
			return errors.New("--access-key needs --secret-key (or CAIRN_SECRET_KEY)")
		}
		fmt.Println(server.MetricsKeyToken(*accessKey, *secretKey))
		return nil
	}
	user, password, err := rootCredentials(*dev)
	if err != nil {
		return err
	}
	fmt.Println(server.MetricsToken(user, password))
	return nil
}

func envBool(k string) bool {
	b, _ := strconv.ParseBool(os.Getenv(k))
	return b
}

func envDuration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return d
	}
	return def
}
