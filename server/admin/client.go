package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Options configure a Client.
type Options struct {
	// AccessKey and SecretKey sign the requests (root, or a user allowed admin:*).
	AccessKey, SecretKey string
	// Region is the server's region (default us-east-1).
	Region string
	// HTTPClient sends the requests (default: a client with a 1-minute timeout).
	HTTPClient *http.Client
}

// Client calls a Cairn server's admin API. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	creds  aws.Credentials
	region string
	http   *http.Client
	signer *v4.Signer
}

// New returns a client for the server at endpoint ("http://127.0.0.1:9000").
func New(endpoint string, opts Options) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("cairn admin: endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("cairn admin: endpoint %q must be an http:// or https:// URL", endpoint)
	}
	if opts.AccessKey == "" || opts.SecretKey == "" {
		return nil, errors.New("cairn admin: access key and secret key are required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{
		base:   u,
		creds:  aws.Credentials{AccessKeyID: opts.AccessKey, SecretAccessKey: opts.SecretKey},
		region: opts.Region,
		http:   opts.HTTPClient,
		signer: v4.NewSigner(),
	}, nil
}

// IsNotFound reports whether err is an admin API 404 (no such user, group,
// policy, access key or attachment).
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports whether err is an admin API 409 (already exists, in use).
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// do sends one signed request. in, if not nil, is the JSON body; out, if not nil,
// receives the JSON answer. path segments must already be escaped.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("cairn admin: encoding the request: %w", err)
		}
	}
	u := *c.base
	u.RawPath = u.Path + PathPrefix + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cairn admin: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hash, "s3", c.region, time.Now().UTC(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		return fmt.Errorf("cairn admin: signing: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cairn admin: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("cairn admin: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			msg := strings.TrimSpace(string(data))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			e = &Error{Code: http.StatusText(resp.StatusCode), Message: msg}
		}
		e.StatusCode = resp.StatusCode
		if e.RequestID == "" {
			e.RequestID = resp.Header.Get("X-Amz-Request-Id")
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("cairn admin: %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// call sends a request and decodes the answer into a new T; nil on error.
func call[T any](ctx context.Context, c *Client, method, path string, query url.Values, in any) (*T, error) {
	var out T
	if err := c.do(ctx, method, path, query, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func seg(s string) string { return url.PathEscape(s) }

// Info returns the server's version, layout and drives.
func (c *Client) Info(ctx context.Context) (*ServerInfo, error) {
	return call[ServerInfo](ctx, c, http.MethodGet, "/info", nil, nil)
}

// ListUsers lists the users.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	out, err := call[UserList](ctx, c, http.MethodGet, "/users", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Users, nil
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*User, error) {
	return call[User](ctx, c, http.MethodPost, "/users", nil, req)
}

// GetUser returns a user.
func (c *Client) GetUser(ctx context.Context, name string) (*User, error) {
	return call[User](ctx, c, http.MethodGet, "/users/"+seg(name), nil, nil)
}

// DeleteUser deletes a user, its access keys and its group memberships.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/users/"+seg(name), nil, nil, nil)
}

// SetUserStatus enables or disables a user.
func (c *Client) SetUserStatus(ctx context.Context, name string, status Status) (*User, error) {
	return call[User](ctx, c, http.MethodPut, "/users/"+seg(name)+"/status", nil, SetStatusRequest{Status: status})
}

// AttachUserPolicy attaches a policy to a user.
func (c *Client) AttachUserPolicy(ctx context.Context, user, policy string) (*User, error) {
	return call[User](ctx, c, http.MethodPut, "/users/"+seg(user)+"/policies/"+seg(policy), nil, nil)
}

// DetachUserPolicy detaches a policy from a user.
func (c *Client) DetachUserPolicy(ctx context.Context, user, policy string) (*User, error) {
	return call[User](ctx, c, http.MethodDelete, "/users/"+seg(user)+"/policies/"+seg(policy), nil, nil)
}

// ListGroups lists the groups.
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	out, err := call[GroupList](ctx, c, http.MethodGet, "/groups", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Groups, nil
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, req CreateGroupRequest) (*Group, error) {
	return call[Group](ctx, c, http.MethodPost, "/groups", nil, req)
}

// GetGroup returns a group.
func (c *Client) GetGroup(ctx context.Context, name string) (*Group, error) {
	return call[Group](ctx, c, http.MethodGet, "/groups/"+seg(name), nil, nil)
}

// DeleteGroup deletes a group that has no members.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/groups/"+seg(name), nil, nil, nil)
}

// AddGroupMember adds a user to a group.
func (c *Client) AddGroupMember(ctx context.Context, group, user string) (*Group, error) {
	return call[Group](ctx, c, http.MethodPut, "/groups/"+seg(group)+"/members/"+seg(user), nil, nil)
}

// RemoveGroupMember removes a user from a group.
func (c *Client) RemoveGroupMember(ctx context.Context, group, user string) (*Group, error) {
	return call[Group](ctx, c, http.MethodDelete, "/groups/"+seg(group)+"/members/"+seg(user), nil, nil)
}

// AttachGroupPolicy attaches a policy to a group.
func (c *Client) AttachGroupPolicy(ctx context.Context, group, policy string) (*Group, error) {
	return call[Group](ctx, c, http.MethodPut, "/groups/"+seg(group)+"/policies/"+seg(policy), nil, nil)
}

// DetachGroupPolicy detaches a policy from a group.
func (c *Client) DetachGroupPolicy(ctx context.Context, group, policy string) (*Group, error) {
	return call[Group](ctx, c, http.MethodDelete, "/groups/"+seg(group)+"/policies/"+seg(policy), nil, nil)
}

// ListPolicies lists built-in and managed policies.
func (c *Client) ListPolicies(ctx context.Context) ([]Policy, error) {
	out, err := call[PolicyList](ctx, c, http.MethodGet, "/policies", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Policies, nil
}

// CreatePolicy creates a managed policy from a policy document.
func (c *Client) CreatePolicy(ctx context.Context, name string, document []byte) (*Policy, error) {
	return call[Policy](ctx, c, http.MethodPost, "/policies", nil, CreatePolicyRequest{Name: name, Document: asDocument(document)})
}

// GetPolicy returns a policy.
func (c *Client) GetPolicy(ctx context.Context, name string) (*Policy, error) {
	return call[Policy](ctx, c, http.MethodGet, "/policies/"+seg(name), nil, nil)
}

// UpdatePolicy replaces a managed policy's document.
func (c *Client) UpdatePolicy(ctx context.Context, name string, document []byte) (*Policy, error) {
	return call[Policy](ctx, c, http.MethodPut, "/policies/"+seg(name), nil, UpdatePolicyRequest{Document: asDocument(document)})
}

// DeletePolicy deletes a managed policy that is not attached.
func (c *Client) DeletePolicy(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/policies/"+seg(name), nil, nil, nil)
}

// asDocument sends a policy document: as it is if it is valid JSON (the server
// reports what is wrong with it), else as a JSON string, so that even bytes that
// are not JSON reach the server and get its clear error instead of a local
// encoding failure.
func asDocument(doc []byte) json.RawMessage {
	if json.Valid(doc) {
		return json.RawMessage(doc)
	}
	b, _ := json.Marshal(string(doc))
	return b
}

// ListAccessKeys lists the access keys of user, or all keys when user is "".
func (c *Client) ListAccessKeys(ctx context.Context, user string) ([]AccessKey, error) {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	out, err := call[AccessKeyList](ctx, c, http.MethodGet, "/access-keys", q, nil)
	if err != nil {
		return nil, err
	}
	return out.AccessKeys, nil
}

// CreateAccessKey creates an access key. The answer holds its secret; the server
// never returns it again.
func (c *Client) CreateAccessKey(ctx context.Context, req CreateAccessKeyRequest) (*AccessKeyCredentials, error) {
	return call[AccessKeyCredentials](ctx, c, http.MethodPost, "/access-keys", nil, req)
}

// GetAccessKey returns an access key (without its secret).
func (c *Client) GetAccessKey(ctx context.Context, accessKey string) (*AccessKey, error) {
	return call[AccessKey](ctx, c, http.MethodGet, "/access-keys/"+seg(accessKey), nil, nil)
}

// UpdateAccessKey changes an access key.
func (c *Client) UpdateAccessKey(ctx context.Context, accessKey string, req UpdateAccessKeyRequest) (*AccessKey, error) {
	return call[AccessKey](ctx, c, http.MethodPatch, "/access-keys/"+seg(accessKey), nil, req)
}

// DeleteAccessKey deletes an access key.
func (c *Client) DeleteAccessKey(ctx context.Context, accessKey string) error {
	return c.do(ctx, http.MethodDelete, "/access-keys/"+seg(accessKey), nil, nil, nil)
}

// Pools lists the server pools with capacity and decommission progress.
func (c *Client) Pools(ctx context.Context) ([]Pool, error) {
	out, err := call[PoolList](ctx, c, http.MethodGet, "/pools", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Pools, nil
}

// AddPool adds a pool to the running server and returns it.
func (c *Client) AddPool(ctx context.Context, req AddPoolRequest) (*Pool, error) {
	return call[Pool](ctx, c, http.MethodPost, "/pools", nil, req)
}

// Pool describes one pool.
func (c *Client) Pool(ctx context.Context, index int) (*Pool, error) {
	return call[Pool](ctx, c, http.MethodGet, "/pools/"+strconv.Itoa(index), nil, nil)
}

// DecommissionPool starts draining a pool; poll Pool for progress. When done the
// pool disappears from Pools.
func (c *Client) DecommissionPool(ctx context.Context, index int) (*Pool, error) {
	return call[Pool](ctx, c, http.MethodPost, "/pools/"+strconv.Itoa(index)+"/decommission", nil, nil)
}

// Rebalance starts moving objects between the active pools so each holds data in
// proportion to its capacity; it returns at once (poll RebalanceStatus).
func (c *Client) Rebalance(ctx context.Context) (*RebalanceStatus, error) {
	return call[RebalanceStatus](ctx, c, http.MethodPost, "/pools/rebalance", nil, nil)
}

// RebalanceStatus reports the last rebalance started in the cluster (through any
// node).
func (c *Client) RebalanceStatus(ctx context.Context) (*RebalanceStatus, error) {
	return call[RebalanceStatus](ctx, c, http.MethodGet, "/pools/rebalance", nil, nil)
}

// StopRebalance stops the running rebalance, wherever it runs, and returns its
// final state; with none running it changes nothing. The objects it moved stay
// where they are; Rebalance starts afresh.
func (c *Client) StopRebalance(ctx context.Context) (*RebalanceStatus, error) {
	return call[RebalanceStatus](ctx, c, http.MethodDelete, "/pools/rebalance", nil, nil)
}

// Heal returns the background healing state: queue, scanner position, totals.
func (c *Client) Heal(ctx context.Context) (*HealStatus, error) {
	return call[HealStatus](ctx, c, http.MethodGet, "/heal", nil, nil)
}

// MetricsToken mints the /metrics bearer token of the caller's access key.
func (c *Client) MetricsToken(ctx context.Context) (string, error) {
	out, err := call[MetricsToken](ctx, c, http.MethodGet, "/metrics-token", nil, nil)
	if err != nil {
		return "", err
	}
	return out.Token, nil
}
