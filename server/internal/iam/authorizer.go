package iam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// Request is one authorization question: may the holder of AccessKey perform
// Action on the resource? The S3 layer asks it after the signature was verified.
type Request struct {
	// Action is the IAM action, e.g. "s3:GetObject" or "admin:CreateUser".
	Action string
	// Bucket and Key address the resource ("" for none). Resource, when set,
	// is used instead (admin actions use "*").
	Bucket, Key string
	Resource    string
	// AccessKey is the verified access key; "" for an anonymous request.
	AccessKey string
	// SourceIP is the client's address (aws:SourceIp); invalid = unknown.
	SourceIP netip.Addr
	// SecureTransport is true when the request came over TLS.
	SecureTransport bool
	// Conditions are request-specific condition keys (s3:prefix, s3:delimiter,
	// s3:max-keys, …), with case-insensitive names.
	Conditions map[string]string
}

// BucketConfigs returns a bucket's configuration; *objects.Layer implements it.
// It returns objects.ErrBucketNotFound for a bucket that does not exist.
type BucketConfigs interface {
	BucketConfig(ctx context.Context, bucket string) (objects.BucketConfig, error)
}

// Authorizer decides requests with the store's identities and policies and the
// buckets' policies and public access blocks. It is safe for concurrent use.
type Authorizer struct {
	store   *Store
	buckets BucketConfigs
	now     func() time.Time

	mu     sync.Mutex
	parsed map[string]parsedBucketPolicy // bucket + "\x00" + document → parsed
}

type parsedBucketPolicy struct {
	p   *Policy
	err error
}

// maxParsedPolicies bounds the cache of parsed bucket policies.
const maxParsedPolicies = 1024

// NewAuthorizer returns an Authorizer. buckets may be nil (no bucket policies).
// now is the clock for aws:CurrentTime (nil = time.Now).
func NewAuthorizer(store *Store, buckets BucketConfigs, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	return &Authorizer{store: store, buckets: buckets, now: now, parsed: map[string]parsedBucketPolicy{}}
}

// Authorize returns nil when the request is allowed and an error wrapping
// ErrAccessDenied when it is not. Other errors (reading the bucket's
// configuration failed) are returned as they are. Root may do everything.
func (a *Authorizer) Authorize(ctx context.Context, req Request) error {
	var id identity
	anonymous := req.AccessKey == ""
	if !anonymous {
		var ok bool
		if id, ok = a.store.resolve(req.AccessKey); !ok {
			return fmt.Errorf("%w: the access key cannot be used", ErrAccessDenied)
		}
		if id.root {
			return nil
		}
	}
	resource := req.Resource
	if resource == "" {
		resource = ResourceARN(req.Bucket, req.Key)
	}
	in := Input{
		Action:    req.Action,
		Resource:  resource,
		Requester: Requester{Anonymous: anonymous, User: id.user},
		Identity:  id.policies,
		Session:   id.session,
		Context:   a.context(req, id, anonymous),
	}
	restrictPublic := false
	if req.Bucket != "" && a.buckets != nil && strings.HasPrefix(req.Action, "s3:") {
		cfg, err := a.buckets.BucketConfig(ctx, req.Bucket)
		switch {
		case errors.Is(err, objects.ErrBucketNotFound):
		case err != nil:
			return err
		default:
			if cfg.Policy != "" {
				in.Bucket = a.bucketPolicy(req.Bucket, cfg.Policy)
			}
			restrictPublic = cfg.PublicAccessBlock != nil && cfg.PublicAccessBlock.RestrictPublicBuckets
		}
	}
	if id.broken {
		return fmt.Errorf("%w: a policy attached to the user cannot be loaded", ErrAccessDenied)
	}
	if anonymous && restrictPublic {
		return fmt.Errorf("%w: the bucket restricts public access", ErrAccessDenied)
	}
	if d := Evaluate(in); d != Allowed {
		return fmt.Errorf("%w: %s (%s on %s)", ErrAccessDenied, d, req.Action, resource)
	}
	return nil
}

// bucketPolicy returns the parsed policy, or a deny-nothing nil if it no longer
// parses (it was validated when stored; a failure here is logged).
func (a *Authorizer) bucketPolicy(bucket, doc string) *Policy {
	k := bucket + "\x00" + doc
	a.mu.Lock()
	e, ok := a.parsed[k]
	a.mu.Unlock()
	if !ok {
		p, err := ParseBucketPolicy([]byte(doc), bucket)
		e = parsedBucketPolicy{p: p, err: err}
		if err != nil {
			a.store.log.Error("iam: stored bucket policy does not parse; it grants nothing", "bucket", bucket, "err", err.Error())
		}
		a.mu.Lock()
		if len(a.parsed) >= maxParsedPolicies {
			clear(a.parsed)
		}
		a.parsed[k] = e
		a.mu.Unlock()
	}
	return e.p
}

// context builds the condition keys of a request.
func (a *Authorizer) context(req Request, id identity, anonymous bool) Context {
	now := a.now().UTC()
	ctx := Context{
		KeyCurrentTime:     {now.Format(time.RFC3339)},
		KeyEpochTime:       {strconv.FormatInt(now.Unix(), 10)},
		KeySecureTransport: {strconv.FormatBool(req.SecureTransport)},
		KeySignatureVer:    {"AWS4-HMAC-SHA256"},
	}
	if req.SourceIP.IsValid() {
		ctx[KeySourceIP] = []string{req.SourceIP.Unmap().String()}
	}
	switch {
	case anonymous:
		ctx[KeyPrincipalType] = []string{"Anonymous"}
		delete(ctx, KeySignatureVer)
	default:
		ctx[KeyPrincipalType] = []string{"User"}
		ctx[KeyUsername] = []string{id.user}
		ctx[KeyUserID] = []string{id.user}
	}
	for k, v := range req.Conditions {
		ctx[strings.ToLower(k)] = []string{v}
	}
	return ctx
}
