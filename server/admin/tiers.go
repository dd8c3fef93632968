package admin

import (
	"context"
	"net/http"
)

// Remote tiers: the object stores lifecycle Transition rules move data to, named
// by the rule's StorageClass. Listing and reading need admin:ListTiers, adding
// admin:AddTier, replacing credentials admin:UpdateTier, removing
// admin:RemoveTier. Credentials are stored sealed and never returned.

// Tier types.
const (
	TierS3    = "s3"
	TierGCS   = "gcs"
	TierAzure = "azure"
)

// Error codes of the tier routes.
const (
	CodeNoSuchTier    = "NoSuchTier"    // 404
	CodeTierInUse     = "TierInUse"     // 409: a lifecycle rule names it
	CodeTierUnusable  = "TierUnusable"  // 400: the probe (write, read, delete) failed; Message says why
	CodeInvalidConfig = "InvalidConfig" // 400: the tier configuration is incomplete or wrong
)

// Tier describes a remote tier (GET /tiers, GET /tiers/{name}).
type Tier struct {
	// Name is what lifecycle rules call it: upper-case letters, digits, '-', '_'.
	Name string `json:"name"`
	Type string `json:"type"` // s3, gcs or azure
	// Endpoint: an S3 endpoint other than AWS, a GCS emulator or private endpoint,
	// an Azure blob service URL (default https://<account>.blob.core.windows.net/).
	Endpoint string `json:"endpoint,omitempty"`
	Bucket   string `json:"bucket"` // the container, for Azure
	Prefix   string `json:"prefix,omitempty"`
	Region   string `json:"region,omitempty"` // S3 (default us-east-1)
	// KeepRemote: deleting a transitioned version leaves its data in the tier.
	KeepRemote bool `json:"keepRemote,omitempty"`
}

// TierCredentials authenticate the server to a tier; which fields apply
// depends on the type.
type TierCredentials struct {
	AccessKey          string `json:"accessKey,omitempty"`          // s3
	SecretKey          string `json:"secretKey,omitempty"`          // s3
	ServiceAccountJSON string `json:"serviceAccountJson,omitempty"` // gcs ("" = application default credentials)
	AccountName        string `json:"accountName,omitempty"`        // azure
	AccountKey         string `json:"accountKey,omitempty"`         // azure ("" = managed identity)
}

// AddTierRequest is the body of POST /tiers. The server probes the tier (writes,
// reads back and deletes a small object) before it stores the configuration.
type AddTierRequest struct {
	Tier
	Credentials TierCredentials `json:"credentials"`
}

// TierList is the answer of GET /tiers.
type TierList struct {
	Tiers []Tier `json:"tiers"`
}

// ListTiers lists the configured tiers.
func (c *Client) ListTiers(ctx context.Context) ([]Tier, error) {
	out, err := call[TierList](ctx, c, http.MethodGet, "/tiers", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Tiers, nil
}

// AddTier adds a tier after probing it.
func (c *Client) AddTier(ctx context.Context, req AddTierRequest) (*Tier, error) {
	return call[Tier](ctx, c, http.MethodPost, "/tiers", nil, req)
}

// GetTier describes one tier.
func (c *Client) GetTier(ctx context.Context, name string) (*Tier, error) {
	return call[Tier](ctx, c, http.MethodGet, "/tiers/"+seg(name), nil, nil)
}

// UpdateTierCredentials replaces a tier's credentials (after probing the tier with them).
func (c *Client) UpdateTierCredentials(ctx context.Context, name string, cr TierCredentials) (*Tier, error) {
	return call[Tier](ctx, c, http.MethodPut, "/tiers/"+seg(name)+"/credentials", nil, cr)
}

// RemoveTier removes a tier's configuration; its data stays in the remote
// bucket. A tier a lifecycle rule still names cannot be removed (TierInUse).
func (c *Client) RemoveTier(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/tiers/"+seg(name), nil, nil, nil)
}
