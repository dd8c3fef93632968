// Package iam is Cairn's identity and access management: AWS IAM policy documents
// (parsing and evaluation), the IAM store (users, groups, managed policies, access
// keys) and the Authorizer that decides every S3 and admin request.
//
// # Where it sits on the data path
//
//	net/http → s3api (route) → sigv4 (verify; secrets from Store.SecretKey)
//	         → iam.Authorizer.Authorize (identity + action + resource + conditions)
//	         → s3api handler → objects → …
//
// The admin API (package admin) uses the same Store and Authorizer.
//
// # Model
//
//   - Root (the server's root credentials) is not a user and is never evaluated:
//     it may do everything.
//   - A user has access keys, directly attached policies and group memberships; a
//     group has attached policies. A disabled user's keys do not authenticate.
//   - An access key belongs to one user. It may carry an inline policy that
//     restricts it further (it may do only what both the user's policies and the
//     inline policy allow) and an expiry after which it does not authenticate.
//   - Policies are AWS IAM JSON: managed policies (built-in: readwrite, readonly,
//     writeonly, admin; or created through the admin API), inline key policies and
//     bucket policies (with a Principal). Evaluation follows AWS within one
//     account (eval.go): an explicit Deny anywhere wins, otherwise an Allow from an
//     identity policy or from the bucket policy is needed; anonymous requests are
//     allowed only by bucket-policy statements for Principal "*".
//
// # Invariants
//
//   - Parsing is strict (policy.go): a document that parses means what it says;
//     unknown actions, elements, operators or keys are errors, not no-ops.
//   - Fail closed: a policy attached to a user that cannot be loaded denies the
//     user everything; a stored bucket policy that cannot be parsed grants nothing.
//   - Secrets: secret keys are stored sealed with a key derived from the root
//     secret (seal.go); they are never logged and never returned after creation.
//   - The Store is safe for concurrent use; reads take no locks (immutable
//     snapshots), changes are serialized and persisted before they take effect.
package iam
