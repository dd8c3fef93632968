// Package provider is Cairn's Terraform provider, built on terraform-plugin-framework
// and served by the `cairn` binary itself (see cmd_provider.go at the repository root).
//
// It owns the provider schema and configuration (endpoint, credentials, TLS), one
// file per resource or data source, each with its acceptance test beside it, and the
// validators and custom types those share. Every call to the server goes through the
// [Client] built in Configure: an aws-sdk-go-v2 S3 client, path-style, retrying 503s
// with backoff, for buckets, objects, bucket policies, default encryption and
// lifecycle rules; and the admin API client (server/admin), signed with the same
// credentials and retried the same way, for users, groups, memberships, IAM
// policies, attachments, access keys, KMS keys, pools and the cluster data source.
//
// Destructive server operations are guarded: destroying a cairn_kms_key needs
// deletion_allowed (objects it sealed become unreadable), and destroying a
// cairn_pool drains it into the other pools and waits, bounded by
// timeouts.delete (terraform-plugin-framework-timeouts), logging the progress.
//
// Secrets: an access key's secret exists in Terraform only if the user asks for it.
// It is given write-only (secret_wo, never in plan or state) or kept, Sensitive, in
// state with store_secret_in_state. Drift that kills a secret (the key re-created
// outside Terraform under the same id, or unsealable after a root credential
// change) is noticed by comparing creation times kept in private state, and planned
// as a replacement without the secret appearing anywhere.
//
// Invariants every resource keeps:
//   - Read removes the resource from state when the server says it is gone, so drift
//     made outside Terraform shows up as a plan, never as an error.
//   - Create and Update read back what the server stored before saving state, so a
//     second plan is empty and "inconsistent result after apply" cannot happen.
//   - Every resource has an `id` and ImportState; the id is what `terraform import`
//     takes: the bucket, user, group or policy name, bucket/key for objects,
//     user/policy or group/policy for attachments, the access key id for keys,
//     the key name for KMS keys, the index for pools.
//
// Acceptance tests start their own server with servertest.New and talk to the real
// terraform binary (TestMain turns TF_ACC on), so they run in `make test`; so do
// TestTenantExample (examples/tenant applied by the installed binary against a
// `cairn server` process, see scripts/tf-e2e) and TestDocsCurrent (docs/ is what
// `make docs` generates).
package provider
