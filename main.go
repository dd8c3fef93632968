// Command cairn is the one binary of the Cairn suite: the object server
// (`cairn server`), the S3 load generator (`cairn bench`) and, later, the client
// commands and the Terraform provider.
package main

import (
	"fmt"
	"os"
)

func main() {
	if isProviderInvocation() { // started by Terraform as terraform-provider-cairn
		os.Args = append([]string{os.Args[0], "provider"}, os.Args[1:]...)
	}
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = runServer(os.Args[2:])
	case "bench":
		err = runBench(os.Args[2:])
	case "certs":
		err = runCerts(os.Args[2:])
	case "admin":
		err = runAdmin(os.Args[2:])
	case "provider":
		err = runProvider(os.Args[2:])
	case "version":
		fmt.Println("cairn", version)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "cairn: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(1)
	}
}

var version = "dev"

func usage() {
	fmt.Fprint(os.Stderr, `usage: cairn COMMAND [ARGS]

commands:
  server [flags] DRIVE...   run the object server over DRIVE paths (ellipsis patterns allowed: ./data/d{1...6})
  bench  [flags]            run a PUT/GET/mixed load against any S3 endpoint
  certs  [flags]            write a development CA and TLS certificate (make certs)
  admin  metrics-token      print the bearer token for GET /metrics (from the root credentials)
  provider [-debug]         serve the Terraform provider (what terraform-provider-cairn runs)
  version                   print the version
`)
}
