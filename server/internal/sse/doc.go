// Package sse is Cairn's server-side encryption: the encrypted stream format,
// the object-key hierarchy and the S3 encryption headers. The S3 layer (s3api)
// uses it to wrap PUT and UploadPart bodies in an encrypting reader and GET
// responses in a decrypting writer; the object layer stores only ciphertext.
//
// # Key hierarchy
//
//	KMS master key (package kms: built-in, Vault/OpenBao, AWS, GCP, Azure)
//	  └─ data key, 256 bits, fresh per object: kms.GenerateKey, stored only as the
//	     KMS's ciphertext, bound to the encryption context {"aws:s3:arn": object ARN}
//	     (+ the client's context for SSE-KMS)
//	       └─ object key, 256 bits, random per object: sealed with AES-256-GCM under
//	          KEK = HKDF-SHA256(data key), associated data = kind ‖ bucket ‖ object
//	            └─ stream key per stream (object or part): HKDF(object key, salt, part)
//	                 └─ 64 KiB packages, AES-256-GCM
//
// SSE-S3 uses the KMS's default key; SSE-KMS the key the request (or the bucket
// default) names. SSE-C replaces the top two levels with the customer's key: the
// KEK is derived from it, so a wrong key fails to open the sealed object key
// (403 AccessDenied, as S3), and the key itself is never stored.
//
// The sealed object key and the KMS ciphertext live in the version's internal
// metadata (objects.PutOptions.Internal; names Meta*), never shown to clients.
// Because the seal's associated data names the bucket and object, a sealed key
// copied into another object's metadata does not open there (ErrSealedKey);
// KMSes that take an encryption context refuse the moved data key even before.
//
// Rotation: a KMS key rotation makes new data keys use the new key version;
// Service.Rewrap re-seals a stored data key ciphertext under the current version
// (kms.Rewrapper) and leaves the object key — and so the data — untouched.
//
// # The stream format
//
// See stream.go: a 32-byte header (version, random salt) and 64 KiB packages
// sealed with AES-256-GCM, whose nonce carries the package index and a
// final-package flag. The format is Cairn's own, modelled on Tink's AES-GCM-HKDF
// streaming AEAD and MinIO's DARE, built from the standard library's AES-GCM and
// HKDF. Tink's Go streaming AEAD was the first choice but it only decrypts
// sequentially: a range GET must start at any package and a multipart object is
// one stream per part, and both need random access to packages, which Tink
// offers in Java and C++ only. Tampering, truncation, reordering and extension
// are tested and the decoder is fuzzed (FuzzDecrypt).
//
// Sizes are deterministic (EncryptedSize, DecryptedSize), so the object layer
// stores ciphertext with the plaintext size beside it (PutOptions.ActualSize) and
// StreamRange / DecryptRange map a plaintext range to the packages that hold it.
//
// # ETags
//
// As in S3, an SSE-S3 object's ETag is the MD5 of its plaintext, with or
// without Content-MD5: the S3 layer hashes the plaintext as it streams into the
// encrypting reader and hands the digest to the object layer once the body is
// read (objects.PutOptions.ETagFunc), so it is bound at commit. This holds for
// PutObject and for CopyObject into SSE-S3. SSE-KMS and SSE-C ETags are not
// digests of the data on S3; here they are ETag(object key), an HMAC under the
// object key that says nothing about the data (Content-MD5, when sent, is still
// checked against the plaintext).
//
// Multipart: an SSE-S3 part's ETag is the MD5 of its plaintext, as in S3, for
// UploadPart and UploadPartCopy alike, hashed while the part streams and bound
// when the part is stored (objects.PartOptions.ETagFunc). UploadPart,
// ListParts and CompleteMultipartUpload all use that ETag, so the completed
// object's ETag is S3's: the MD5 of the parts' binary plaintext MD5s, "-N",
// what clients that hash their parts locally expect. HEAD and GET (with or
// without partNumber) and GetObjectAttributes show that object ETag.
//
// SSE-KMS and SSE-C part ETags are the MD5 of the stored (encrypted) part.
// Like ETag(object key) for a single PUT, that reveals nothing of the
// plaintext (the ciphertext is under a fresh random salt); ETag itself would
// not do, as every part of an upload shares the object key and so would get
// the same ETag, and CompleteMultipartUpload tells parts apart by ETag. The
// object's ETag is the MD5 of those part ETags, "-N". Content-MD5 on any
// encrypted part is checked against the plaintext.
//
// An SSE-S3 part stored by an older Cairn, before part ETags were of the
// plaintext, keeps its ETag (the MD5 of its ciphertext); an upload completed
// from such parts gets the "-N" ETag of the part ETags it has.
//
// Checksums (x-amz-checksum-*) are of the plaintext, as in S3.
package sse
