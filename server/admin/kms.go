package admin

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// KMS keys: the master keys of the server's KMS that seal SSE-S3 and SSE-KMS data
// keys. Listing, creating, reading, rotating and deleting need
// admin:ListKMSKeys, admin:CreateKMSKey, admin:GetKMSKey, admin:RotateKMSKey and
// admin:DeleteKMSKey. Key material is never returned.

// KMSKey describes a KMS master key.
type KMSKey struct {
	Name    string    `json:"name"`
	ID      string    `json:"id,omitempty"`      // the backend's id (ARN, resource name, key URL)
	Version int       `json:"version,omitempty"` // current version, where the backend numbers them
	Enabled bool      `json:"enabled"`
	Created time.Time `json:"created,omitzero"`
	Backend string    `json:"backend"` // builtin, vault, aws, gcp, azure
}

// KMSKeyList is the answer of GET /kms/keys.
type KMSKeyList struct {
	Keys []KMSKey `json:"keys"`
}

// CreateKMSKeyRequest is the body of POST /kms/keys.
type CreateKMSKeyRequest struct {
	Name string `json:"name"`
}

// ListKMSKeys lists the KMS's keys.
func (c *Client) ListKMSKeys(ctx context.Context) ([]KMSKey, error) {
	out, err := call[KMSKeyList](ctx, c, http.MethodGet, "/kms/keys", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// CreateKMSKey creates a key in the KMS.
func (c *Client) CreateKMSKey(ctx context.Context, name string) (*KMSKey, error) {
	return call[KMSKey](ctx, c, http.MethodPost, "/kms/keys", nil, CreateKMSKeyRequest{Name: name})
}

// KMSKeyStatus describes one key.
func (c *Client) KMSKeyStatus(ctx context.Context, name string) (*KMSKey, error) {
	return call[KMSKey](ctx, c, http.MethodGet, "/kms/keys/"+url.PathEscape(name), nil, nil)
}

// DeleteKMSKey deletes a key (built-in KMS only; other backends answer 501).
// Objects whose keys it sealed become unreadable. The server refuses, with a
// 409 DeleteConflict (IsConflict), the default key and a key that a bucket's
// default encryption names; a key that does not exist is a 404 (IsNotFound).
func (c *Client) DeleteKMSKey(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/kms/keys/"+url.PathEscape(name), nil, nil, nil)
}

// RotateKMSKey rotates a key: new data keys are sealed by a new version, data
// keys sealed before keep opening (no object is re-encrypted).
func (c *Client) RotateKMSKey(ctx context.Context, name string) (*KMSKey, error) {
	return call[KMSKey](ctx, c, http.MethodPost, "/kms/keys/"+url.PathEscape(name)+"/rotate", nil, nil)
}
