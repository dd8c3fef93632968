// Package tier owns Cairn's remote tiers: object stores that keep the data of
// object versions transitioned out of the erasure-coded pool by lifecycle rules.
// A tier is named (the StorageClass a lifecycle Transition names) and is one of
//
//   - s3:    any S3 endpoint — AWS S3 or another Cairn (aws-sdk-go-v2);
//   - gcs:   Google Cloud Storage (cloud.google.com/go/storage);
//   - azure: Azure Blob Storage (azblob; shared key or managed identity).
//
// # What it owns
//
//   - The Tier interface (Put, Get a range, Delete) and its three clients
//     (s3.go, gcs.go, azure.go). Each stores key K at Config.Prefix + K in
//     Config.Bucket (the container, for Azure). Data streams through: Put reads
//     the body once, Get returns the remote body.
//   - Tier configuration and its persistence (store.go): one document per tier,
//     "tiers/<NAME>.json", through the object layer's cluster configuration
//     (ReadConfig/WriteConfig). Credentials are sealed with AES-256-GCM under a
//     key derived from the root secret (PBKDF2 then HKDF, parameters in
//     "tiers/kdf"), bound to the tier's name, so a copy of the drives alone
//     does not reveal them.
//
// # Errors
//
// Every error names the tier and the operation. A missing remote object is
// ErrNotFound. A tier that cannot be reached or answers with a server error
// (connection refused, timeout, 5xx, throttling) is ErrUnavailable: the caller
// retries later and loses nothing; clients retry briefly inside a call, then
// give up rather than hang.
//
// # Where it sits
//
//	lifecycle worker → objects.Layer.TransitionObject → Store.Tier(name) → Tier.Put
//	GET/HEAD/copy of a stub, RestoreObject → objects → Tier.Get (only the range needed)
//	delete/overwrite of a stub → objects → Tier.Delete (or the retry queue)
//	admin API (/cairn/admin/v1/tiers) → Store.Add/Remove/List
//
// The transition data path itself — moving a version's data to a tier, leaving a
// stub, streaming reads back, RestoreObject, deleting remote copies — belongs to
// the object layer (objects/transition.go), which sees a tier through its own
// small objects.RemoteTier interface; the server adapts a Store to it (with each
// tier's KeepRemote setting). Remote keys are chosen by the object layer:
// "<deployment id>/<bucket>/<key>/<version id>-<random uuid>", under Prefix.
// What a tier stores is the object layer's stored byte stream: for an
// SSE-encrypted version, ciphertext only.
//
// Tests: peers_test.go runs the clients against real local peers; package
// tiertest starts the same peers (a second Cairn, fake-gcs-server, Azurite)
// behind cuttable proxies for the end-to-end transition tests in package
// lifecycle.
package tier
