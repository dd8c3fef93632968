package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/certs"
)

// runCerts writes a development CA and server certificate (`make certs`).
func runCerts(args []string) error {
	fs := flag.NewFlagSet("cairn certs", flag.ContinueOnError)
	dir := fs.String("dir", "./certs", "certs directory to write (use it as cairn server --certs-dir)")
	hosts := fs.String("host", "localhost,127.0.0.1", "comma-separated DNS names and IP addresses the certificate is valid for")
	days := fs.Int("days", 365, "validity in days")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ca, err := certs.Generate(*dir, strings.Split(*hosts, ","), time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s/public.crt and private.key for %s\nclients trust it with the CA file %s\n  (aws --ca-bundle %s, AWS_CA_BUNDLE, boto3 verify=, urllib3 ca_certs=)\n", *dir, *hosts, ca, ca)
	return nil
}
