package tier

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
)

// Tier is a remote object store holding transitioned data. Implementations are
// safe for concurrent use.
type Tier interface {
	// Put stores size bytes read from r under key, replacing any object there.
	// It reads r to EOF (or size bytes); r is not closed.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get returns bytes [offset, offset+length) of key; length < 0 means to the
	// end. The caller must Close the reader. A missing key is ErrNotFound.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Delete removes key. A missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Errors of tier operations (test with errors.Is).
var (
	// ErrNotFound: the remote object does not exist.
	ErrNotFound = errors.New("tier: remote object not found")
	// ErrUnavailable: the tier could not be reached or failed on its side; retry later.
	ErrUnavailable = errors.New("tier: tier unavailable")
	// ErrNoSuchTier: no tier of that name is configured.
	ErrNoSuchTier = errors.New("tier: no such tier")
	// ErrTierExists: a tier of that name is already configured.
	ErrTierExists = errors.New("tier: tier already exists")
	// ErrInvalidConfig: the configuration is incomplete or wrong (a *ConfigError says why).
	ErrInvalidConfig = errors.New("tier: invalid tier configuration")
	// ErrUnusable: the tier failed its probe (unreachable, no bucket, bad credentials).
	ErrUnusable = errors.New("tier: the tier is not usable")
	// ErrInUse: a bucket's lifecycle configuration still names the tier.
	ErrInUse = errors.New("tier: the tier is in use")
)

// ConfigError says what is wrong with a tier configuration.
type ConfigError struct{ Reason string }

func (e *ConfigError) Error() string { return "tier: invalid tier configuration: " + e.Reason }
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func configErr(format string, args ...any) error {
	return &ConfigError{Reason: fmt.Sprintf(format, args...)}
}

// Type is a tier's kind of remote store.
type Type string

// Tier types.
const (
	TypeS3    Type = "s3"
	TypeGCS   Type = "gcs"
	TypeAzure Type = "azure"
)

// Config describes a tier. Credentials are kept apart because they are stored
// sealed and never shown.
type Config struct {
	// Name is what lifecycle rules call the tier (their StorageClass): 1–64
	// upper-case letters, digits, '-' and '_', starting with a letter; not
	// STANDARD or REDUCED_REDUNDANCY.
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Endpoint is the service URL: required for S3 endpoints other than AWS;
	// for GCS an emulator or private endpoint ("http://host:port"); for Azure
	// the blob service URL (default https://<account>.blob.core.windows.net/).
	Endpoint string `json:"endpoint,omitempty"`
	// Bucket is the remote bucket (the container, for Azure). It must exist.
	Bucket string `json:"bucket"`
	// Prefix is prepended to every key stored in the bucket.
	Prefix string `json:"prefix,omitempty"`
	// Region is the S3 region (default us-east-1).
	Region string `json:"region,omitempty"`
	// KeepRemote: deleting a transitioned version leaves its data in the tier.
	KeepRemote bool `json:"keepRemote,omitempty"`
	// Credentials authenticate to the tier (sealed at rest).
	Credentials Credentials `json:"-"`
}

// Credentials authenticate Cairn to a tier; which fields apply depends on the type.
type Credentials struct {
	// S3: access key and secret key.
	AccessKey string `json:"accessKey,omitempty"`
	SecretKey string `json:"secretKey,omitempty"`
	// GCS: a service account key file's JSON; empty means application default
	// credentials (or none, with an Endpoint: an emulator).
	ServiceAccountJSON string `json:"serviceAccountJson,omitempty"`
	// Azure: the storage account; with AccountKey a shared key, without it a
	// managed identity (azidentity).
	AccountName string `json:"accountName,omitempty"`
	AccountKey  string `json:"accountKey,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Z][A-Z0-9_-]{0,63}$`)

// Validate checks the configuration without contacting the tier.
func (c *Config) Validate() error {
	if !nameRE.MatchString(c.Name) {
		return configErr("name %q: use 1-64 upper-case letters, digits, '-' and '_', starting with a letter", c.Name)
	}
	if c.Name == "STANDARD" || c.Name == "REDUCED_REDUNDANCY" {
		return configErr("name %q is a storage class of the pool itself", c.Name)
	}
	if c.Bucket == "" {
		return configErr("tier %s: bucket is required", c.Name)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return configErr("tier %s: endpoint %q is not an http(s) URL", c.Name, c.Endpoint)
		}
	}
	cr := c.Credentials
	switch c.Type {
	case TypeS3:
		if (cr.AccessKey == "") != (cr.SecretKey == "") {
			return configErr("tier %s: S3 needs both accessKey and secretKey (or neither, for the environment's credentials)", c.Name)
		}
	case TypeGCS:
	case TypeAzure:
		if cr.AccountName == "" {
			return configErr("tier %s: Azure needs accountName", c.Name)
		}
	default:
		return configErr("tier %s: type %q is not s3, gcs or azure", c.Name, c.Type)
	}
	return nil
}

// objectKey is where key lives in the remote bucket.
func (c *Config) objectKey(key string) string {
	if c.Prefix == "" {
		return key
	}
	return strings.TrimSuffix(c.Prefix, "/") + "/" + key
}

// Open returns a client for the tier. It does not contact the tier (see Probe).
func Open(ctx context.Context, cfg Config) (Tier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Type {
	case TypeS3:
		return newS3(cfg)
	case TypeGCS:
		return newGCS(ctx, cfg)
	default:
		return newAzure(cfg)
	}
}

// Probe writes, reads back and deletes a small object, to check that a tier
// is reachable, the bucket exists and the credentials allow all three.
func Probe(ctx context.Context, t Tier) error {
	var b [8]byte
	rand.Read(b[:])
	key := ".cairn-probe-" + hex.EncodeToString(b[:])
	data := []byte("cairn tier probe")
	if err := t.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return err
	}
	defer t.Delete(context.WithoutCancel(ctx), key)
	rc, err := t.Get(ctx, key, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("tier: probe object read back %d bytes that differ from the %d written", len(got), len(data))
	}
	return t.Delete(ctx, key)
}

// unavailable marks err as ErrUnavailable while keeping it inspectable.
type unavailable struct{ err error }

func (e *unavailable) Error() string   { return e.err.Error() + " (tier unavailable)" }
func (e *unavailable) Unwrap() []error { return []error{e.err, ErrUnavailable} }

func markUnavailable(err error) error { return &unavailable{err: err} }

// statusUnavailable: HTTP statuses that mean "retry later".
func statusUnavailable(status int) bool { return status >= 500 || status == 429 || status == 408 }

// wrapOp names the tier, the operation and the key in err.
func wrapOp(cfg *Config, op, key string, err error) error {
	return fmt.Errorf("tier %s (%s): %s %q: %w", cfg.Name, cfg.Type, op, key, err)
}

// networkFailure reports whether err is a failure to reach the tier.
func networkFailure(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}
