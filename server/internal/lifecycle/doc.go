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
//     evaluator returns transition actions (with the version's ModTime); the
//     Worker runs them with the object layer's TransitionObject, which streams
//     the version's stored bytes to the tier and leaves a stub (see package
//     objects, transition.go, for the data path: reads from the tier,
//     RestoreObject, remote deletes). A version whose storage class is already
//     the rule's tier is left alone. A transition that fails (tier down) changes
//     nothing, counts in Stats.Failed, and the next scanner cycle retries it; a
//     version changed meanwhile is re-evaluated by the next cycle.
//
// Restored copies (RestoreObject) expire by the object layer's scanner, not by
// rules: it drops the local copy once its expiry date has passed, for every
// bucket, with or without a lifecycle configuration.
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
//
// A GET of a transitioned object streams its data from the tier, where S3 answers
// InvalidObjectState for its archive classes until the object is restored:
// Cairn's tiers are online stores and applications should never notice a
// transition. RestoreObject completes before it answers (202, or 200 when a
// restored copy existed), so x-amz-restore never shows an ongoing request.
package lifecycle
