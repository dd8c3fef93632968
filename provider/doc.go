// Package provider is Cairn's Terraform provider, built on terraform-plugin-framework
// and served by the `cairn` binary itself (see cmd_provider.go at the repository root).
//
// It owns the provider schema and configuration (endpoint, credentials, TLS), one
// file per resource or data source, each with its acceptance test beside it, and the
// validators and custom types those share. Every call to the server goes through the
// [Client] built in Configure: an aws-sdk-go-v2 S3 client, path-style, retrying 503s
// with backoff. IAM, KMS and pool resources arrive with the server's admin API.
//
// Invariants every resource keeps:
//   - Read removes the resource from state when the server says it is gone, so drift
//     made outside Terraform shows up as a plan, never as an error.
//   - Create and Update read back what the server stored before saving state, so a
//     second plan is empty and "inconsistent result after apply" cannot happen.
//   - Every resource has an `id` and ImportState; the id is what `terraform import`
//     takes: the bucket name, or bucket/key for objects.
//
// Acceptance tests start their own server with servertest.New and talk to the real
// terraform binary (TestMain turns TF_ACC on), so they run in `make test`.
package provider
