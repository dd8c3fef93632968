// Package admin is the client of Cairn's admin API and the types that API speaks.
// The server (server/internal/admin) encodes and decodes these same types, so the
// two cannot drift apart; the Terraform provider and tests use the Client.
//
// The admin API is JSON over HTTP under PathPrefix (/cairn/admin/v1), on the same
// listener as the S3 API. Every request is signed with AWS Signature Version 4
// (service "s3", the server's region), like an S3 request; only root and users
// whose policies allow the admin:* actions may call it.
//
// Routes (request → response; errors are an Error document with its status):
//
//	GET    /info                                 → ServerInfo
//	GET    /users                                → UserList
//	POST   /users               CreateUserRequest → 201 User
//	GET    /users/{user}                         → User
//	DELETE /users/{user}                         → 204 (also deletes its access keys and memberships)
//	PUT    /users/{user}/status SetStatusRequest → User
//	PUT    /users/{user}/policies/{policy}       → User (attach; idempotent)
//	DELETE /users/{user}/policies/{policy}       → User (detach)
//	GET    /groups                               → GroupList
//	POST   /groups              CreateGroupRequest → 201 Group
//	GET    /groups/{group}                       → Group
//	DELETE /groups/{group}                       → 204 (409 while it has members)
//	PUT    /groups/{group}/members/{user}        → Group (idempotent)
//	DELETE /groups/{group}/members/{user}        → Group
//	PUT    /groups/{group}/policies/{policy}     → Group (attach; idempotent)
//	DELETE /groups/{group}/policies/{policy}     → Group (detach)
//	GET    /policies                             → PolicyList (built-in and managed)
//	POST   /policies            CreatePolicyRequest → 201 Policy
//	GET    /policies/{policy}                    → Policy
//	PUT    /policies/{policy}   UpdatePolicyRequest → Policy
//	DELETE /policies/{policy}                    → 204 (409 while attached)
//	GET    /access-keys[?user=]                  → AccessKeyList (never secrets)
//	POST   /access-keys         CreateAccessKeyRequest → 201 AccessKeyCredentials (the only response with a secret)
//	GET    /access-keys/{key}                    → AccessKey
//	PATCH  /access-keys/{key}   UpdateAccessKeyRequest → AccessKey
//	DELETE /access-keys/{key}                    → 204
//	GET    /tiers                                → TierList (never credentials)
//	POST   /tiers               AddTierRequest   → 201 Tier (400 TierUnusable when its probe fails)
//	GET    /tiers/{tier}                         → Tier
//	PUT    /tiers/{tier}/credentials TierCredentials → Tier
//	DELETE /tiers/{tier}                         → 204 (409 TierInUse while a lifecycle rule names it)
//	GET    /pools                                → PoolList
//	POST   /pools               AddPoolRequest   → 201 Pool (409 PoolConflict: drives in use; another pool change held the cluster lock for 30 s)
//	GET    /pools/{pool}                         → Pool (404 NoSuchPool once drained and removed)
//	POST   /pools/{pool}/decommission            → 202 Pool (409 PoolConflict: last pool, already draining)
//	POST   /pools/rebalance                      → 202 RebalanceStatus (409 PoolConflict: one is running, fewer than two active pools)
//	GET    /pools/rebalance                      → RebalanceStatus (the cluster's last rebalance, through any node)
//	DELETE /pools/rebalance                      → RebalanceStatus (stops it wherever it runs; nothing running: unchanged)
//	GET    /heal                                 → HealStatus
//	GET    /kms/keys                             → KMSKeyList (never key material)
//	POST   /kms/keys            CreateKMSKeyRequest → 201 KMSKey
//	GET    /kms/keys/{key}                       → KMSKey
//	POST   /kms/keys/{key}/rotate                → KMSKey
//	DELETE /kms/keys/{key}                       → 204 (built-in KMS; 409 DeleteConflict for the default key or one a bucket's default encryption names)
//
// Request bodies are strict: unknown fields, trailing data and bodies over
// MaxBodySize are refused with 400 and change nothing.
package admin
