package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/cairn-io/cairn/provider"
)

// isProviderInvocation reports whether Terraform started this binary as a provider
// plugin: installed under the name terraform-provider-cairn…, or with the plugin
// handshake cookie in the environment.
func isProviderInvocation() bool {
	return strings.HasPrefix(filepath.Base(os.Args[0]), "terraform-provider-cairn") ||
		os.Getenv("TF_PLUGIN_MAGIC_COOKIE") != ""
}

// runProvider serves the Terraform provider (plugin protocol 6) until Terraform
// stops it. With -debug it prints TF_REATTACH_PROVIDERS for a terraform run in
// another shell, to attach a debugger to the provider.
func runProvider(args []string) error {
	fs := flag.NewFlagSet("cairn provider", flag.ContinueOnError)
	debug := fs.Bool("debug", false, "run in debug mode: print TF_REATTACH_PROVIDERS and serve until interrupted")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return providerserver.Serve(ctx, provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   *debug,
	})
}
