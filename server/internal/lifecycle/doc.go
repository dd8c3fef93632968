// Package lifecycle owns S3 bucket lifecycle configuration: the
// LifecycleConfiguration XML (parse, validate, encode), the evaluation of its rules
// against one object's versions, and the Worker that applies the resulting actions
// while the object layer's scanner walks the namespace.
//
// # Where it sits
//
//	PUT ?lifecycle → s3api → Parse (+ Validate against the configured tiers)
//	               → objects.BucketConfig.Lifecycle (the canonical XML, Encode)
//	GET/HEAD object → s3api → Configuration.ExpirationHeader → x-amz-expiration
//	objects scanner (rate-limited, resumable) → ScanHooks (Worker.Hooks)
//	               → Configuration.Evaluate(versions, now) → []Action
//	               → Worker applies them with the layer's public API
//
// # Time
//
// Every S3 lifecycle time is a midnight UTC. An action due Days after an instant
// (an object's creation, the moment a version became noncurrent, the initiation of
// an upload) is due at the first midnight UTC after instant + Days×24h (DueAfter);
// a Date is itself a midnight UTC and the action is due from then on. A version
// becomes noncurrent when the next newer version is written, so noncurrent days
// count from the ModTime of that successor. Nothing here reads a clock: Evaluate
// takes now, and the Worker takes its clock in WorkerConfig.
//
// # What a rule does (as S3 documents it)
//
//   - Expiration Days/Date expires the current version: DeleteObject without a
//     version id, which removes it in an unversioned bucket and adds a delete
//     marker in a versioned (or suspended: null marker) bucket. It also removes an
//     expired object delete marker (a marker that is the only version left) once
//     the marker is Days old.
//   - Expiration ExpiredObjectDeleteMarker removes an expired object delete
//     marker as soon as it is the only version.
//   - NoncurrentVersionExpiration deletes a noncurrent version NoncurrentDays
//     after it became noncurrent, except the NewerNoncurrentVersions newest
//     noncurrent versions the rule matches, which are kept.
//   - AbortIncompleteMultipartUpload aborts uploads DaysAfterInitiation after they
//     were initiated (the Worker's Cycle hook, once per scanner cycle).
//   - Transition and NoncurrentVersionTransition name a tier (StorageClass). The
//     evaluator returns transition actions; the Worker counts them but does not
//     move data yet: the transition data path (object layer stubs, GET from the
//     tier, RestoreObject) is not built.
//
// When several actions apply to one version, deletion wins over transition; among
// expirations the earliest due wins. Rules whose filter has tags or a size never
// match a delete marker (a marker has neither).
//
// # Deviations from S3
//
// The x-amz-transition-default-minimum-object-size setting (objects under 128 KiB
// are not transitioned by default) is not implemented: a transition rule applies
// to objects of every size unless its filter says otherwise.
package lifecycle
