package admin

import (
	"encoding/json"
	"fmt"
	"time"
)

// PathPrefix is where the admin API lives on a Cairn server.
const PathPrefix = "/cairn/admin/v1"

// MaxBodySize is the largest request body the admin API accepts.
const MaxBodySize = 64 << 10

// Status is the state of a user or an access key.
type Status string

const (
	StatusEnabled  Status = "enabled"
	StatusDisabled Status = "disabled"
)

// ServerInfo describes the server (GET /info).
type ServerInfo struct {
	Version      string  `json:"version"`
	DeploymentID string  `json:"deploymentId"`
	Region       string  `json:"region"`
	Layout       Layout  `json:"layout"`
	Drives       []Drive `json:"drives"`
	// Capacity sums the online drives; usable counts data shards only.
	TotalBytes       uint64 `json:"totalBytes"`
	FreeBytes        uint64 `json:"freeBytes"`
	UsableTotalBytes uint64 `json:"usableTotalBytes"`
	UsableFreeBytes  uint64 `json:"usableFreeBytes"`
	Pools            []Pool `json:"pools"`
}

// Layout is the erasure layout.
type Layout struct {
	Sets         int `json:"sets"`
	DrivesPerSet int `json:"drivesPerSet"`
	DataShards   int `json:"dataShards"`
	ParityShards int `json:"parityShards"`
}

// Drive is one drive of the layout.
type Drive struct {
	Path       string `json:"path"`
	Pool       int    `json:"pool"`
	Set        int    `json:"set"`
	State      string `json:"state"` // "ok" or "offline"
	TotalBytes uint64 `json:"totalBytes,omitempty"`
	FreeBytes  uint64 `json:"freeBytes,omitempty"`
}

// User is an IAM user. Root is not a user.
type User struct {
	Name     string    `json:"name"`
	Status   Status    `json:"status"`
	Policies []string  `json:"policies"` // attached directly
	Groups   []string  `json:"groups"`   // member of
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// CreateUserRequest creates a user (POST /users).
type CreateUserRequest struct {
	Name     string   `json:"name"`
	Policies []string `json:"policies,omitempty"`
}

// SetStatusRequest enables or disables a user (PUT /users/{user}/status).
type SetStatusRequest struct {
	Status Status `json:"status"`
}

// UserList is the answer of GET /users.
type UserList struct {
	Users []User `json:"users"`
}

// Group is an IAM group.
type Group struct {
	Name     string    `json:"name"`
	Members  []string  `json:"members"`
	Policies []string  `json:"policies"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// CreateGroupRequest creates a group (POST /groups).
type CreateGroupRequest struct {
	Name     string   `json:"name"`
	Members  []string `json:"members,omitempty"`
	Policies []string `json:"policies,omitempty"`
}

// GroupList is the answer of GET /groups.
type GroupList struct {
	Groups []Group `json:"groups"`
}

// Policy is a built-in or managed policy.
type Policy struct {
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"`
	// Document is the policy document (AWS IAM JSON).
	Document json.RawMessage `json:"document"`
	// Users and Groups it is attached to.
	Users   []string   `json:"users"`
	Groups  []string   `json:"groups"`
	Created *time.Time `json:"created,omitempty"` // absent for built-in policies
	Updated *time.Time `json:"updated,omitempty"`
}

// CreatePolicyRequest creates a managed policy (POST /policies). Document is the
// policy as a JSON object, or as a string holding one.
type CreatePolicyRequest struct {
	Name     string          `json:"name"`
	Document json.RawMessage `json:"document"`
}

// UpdatePolicyRequest replaces a managed policy's document (PUT /policies/{policy}).
type UpdatePolicyRequest struct {
	Document json.RawMessage `json:"document"`
}

// PolicyList is the answer of GET /policies.
type PolicyList struct {
	Policies []Policy `json:"policies"`
}

// AccessKey is an access key (service account) without its secret.
type AccessKey struct {
	AccessKey   string `json:"accessKey"`
	User        string `json:"user"` // parent user
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Status      Status `json:"status"`
	// Expiration is when the key stops working; absent = never.
	Expiration *time.Time `json:"expiration,omitempty"`
	Expired    bool       `json:"expired"`
	// Policy is the inline policy that restricts the key; absent = none.
	Policy json.RawMessage `json:"policy,omitempty"`
	// Usable is false when the server cannot unseal the key's secret (the root
	// credentials changed since it was created); recreate the key.
	Usable  bool      `json:"usable"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// CreateAccessKeyRequest creates an access key (POST /access-keys).
type CreateAccessKeyRequest struct {
	User        string `json:"user"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Policy is an optional inline policy (a JSON object or a string holding
	// one): the key may do only what both it and the user's policies allow.
	Policy json.RawMessage `json:"policy,omitempty"`
	// Expiration, if set, must be in the future.
	Expiration *time.Time `json:"expiration,omitempty"`
	// AccessKey and SecretKey, if set, are used instead of generated ones.
	AccessKey string `json:"accessKey,omitempty"`
	SecretKey string `json:"secretKey,omitempty"`
}

// AccessKeyCredentials is the answer of POST /access-keys: the key and, this one
// time only, its secret.
type AccessKeyCredentials struct {
	AccessKey
	SecretKey string `json:"secretKey"`
}

// String hides the secret, so printing the value never leaks it.
func (c AccessKeyCredentials) String() string {
	return fmt.Sprintf("{AccessKey:%s User:%s SecretKey:<redacted>}", c.AccessKey.AccessKey, c.User)
}

// GoString hides the secret from %#v too.
func (c AccessKeyCredentials) GoString() string { return c.String() }

// UpdateAccessKeyRequest changes an access key (PATCH /access-keys/{key}). Absent
// fields are left as they are.
type UpdateAccessKeyRequest struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Status      *Status `json:"status,omitempty"`
	// Policy replaces the inline policy; the JSON literal null removes it
	// (see RemovePolicy).
	Policy json.RawMessage `json:"policy,omitempty"`
	// Expiration sets a new expiry (in the future); NoExpiration removes it.
	Expiration   *time.Time `json:"expiration,omitempty"`
	NoExpiration bool       `json:"noExpiration,omitempty"`
}

// RemovePolicy returns the UpdateAccessKeyRequest.Policy value that removes the
// inline policy (the JSON literal null).
func RemovePolicy() json.RawMessage { return json.RawMessage("null") }

// AccessKeyList is the answer of GET /access-keys.
type AccessKeyList struct {
	AccessKeys []AccessKey `json:"accessKeys"`
}

// Error codes of the admin API.
const (
	CodeAccessDenied     = "AccessDenied"     // 403: not signed, bad signature, or not allowed
	CodeInvalidArgument  = "InvalidArgument"  // 400
	CodeMalformedJSON    = "MalformedJSON"    // 400: body is not the expected JSON
	CodeMalformedPolicy  = "MalformedPolicy"  // 400: the policy document is invalid; Message says where
	CodeBuiltinPolicy    = "BuiltinPolicy"    // 400: built-in policies cannot change
	CodeEntityTooLarge   = "EntityTooLarge"   // 413
	CodeNoSuchUser       = "NoSuchUser"       // 404
	CodeNoSuchGroup      = "NoSuchGroup"      // 404
	CodeNoSuchPolicy     = "NoSuchPolicy"     // 404
	CodeNoSuchAccessKey  = "NoSuchAccessKey"  // 404
	CodeNotAttached      = "NotAttached"      // 404: policy not attached / user not a member
	CodeNotFound         = "NotFound"         // 404: no such route
	CodeMethodNotAllowed = "MethodNotAllowed" // 405
	CodeAlreadyExists    = "AlreadyExists"    // 409
	CodeDeleteConflict   = "DeleteConflict"   // 409: still attached / has members
	CodeServiceUnavail   = "ServiceUnavailable"
	CodeInternalError    = "InternalError"
	CodeNoSuchPool       = "NoSuchPool"   // 404
	CodePoolConflict     = "PoolConflict" // 409: last pool, already draining, drives in use, another pool change in progress
)

// Error is the body of every failed admin API response, and the error the Client
// returns for one.
type Error struct {
	StatusCode int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	RequestID  string `json:"requestId,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("cairn admin: %s (%d): %s", e.Code, e.StatusCode, e.Message)
}

// Pool describes one server pool (GET /pools).
type Pool struct {
	Index      int    `json:"index"`
	Sets       int    `json:"sets"`
	Drives     int    `json:"drives"`
	Parity     int    `json:"parity"` // parity shards per object in the pool's sets
	TotalBytes uint64 `json:"totalBytes"`
	FreeBytes  uint64 `json:"freeBytes"`
	Draining   bool   `json:"draining"`
	// State is "active" (takes new objects), "joining" (being added: every node
	// reads it, none writes to it yet) or "draining" (being decommissioned).
	State string `json:"state"`
	// Endpoints are the pool's drives in slot order (local paths on a single
	// node, http(s)://host:port/path in a cluster).
	Endpoints    []string            `json:"endpoints,omitempty"`
	Decommission *DecommissionStatus `json:"decommission,omitempty"`
}

// RebalanceStatus is the last rebalance started in the cluster, the same through
// every node (GET/POST/DELETE /pools/rebalance). Its progress is kept in the
// cluster configuration: if the node running it (Owner) restarts, it resumes.
type RebalanceStatus struct {
	// State is running, complete, stopped or failed; "" when no rebalance was
	// ever started.
	State         string    `json:"state"`
	Running       bool      `json:"running"`
	Complete      bool      `json:"complete"`
	Owner         string    `json:"owner,omitempty"` // the node running it
	Started       time.Time `json:"started"`
	Updated       time.Time `json:"updated"` // progress last saved
	ObjectsMoved  int64     `json:"objectsMoved"`
	VersionsMoved int64     `json:"versionsMoved"`
	BytesMoved    int64     `json:"bytesMoved"`
	Failed        int64     `json:"failed"`
	Error         string    `json:"error,omitempty"`
	// Pools: each active pool's data and target share when measured.
	Pools []RebalancePool `json:"pools,omitempty"`
	// Pool, Bucket and Key: the pool being emptied (-1 when none) and the last
	// key moved out of it.
	Pool   int    `json:"pool"`
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
}

// RebalancePool is one active pool's data and target share when a rebalance started.
type RebalancePool struct {
	Index       int   `json:"index"`
	Bytes       int64 `json:"bytes"`
	TargetBytes int64 `json:"targetBytes"`
}

// DecommissionStatus is a draining pool's progress.
type DecommissionStatus struct {
	Running       bool      `json:"running"`
	Complete      bool      `json:"complete"`
	ObjectsMoved  int64     `json:"objectsMoved"`
	VersionsMoved int64     `json:"versionsMoved"`
	BytesMoved    int64     `json:"bytesMoved"`
	Failed        int64     `json:"failed"`
	Bucket        string    `json:"bucket,omitempty"`
	Key           string    `json:"key,omitempty"`
	Started       time.Time `json:"started"`
	Error         string    `json:"error,omitempty"`
}

// PoolList is the response of GET /pools.
type PoolList struct {
	Pools []Pool `json:"pools"`
}

// AddPoolRequest adds a pool (POST /pools): drive paths or patterns
// ("/mnt/new/d{1...6}"), cut into sets by the same rule as at start.
type AddPoolRequest struct {
	Drives []string `json:"drives"`
	Parity int      `json:"parity,omitempty"`
}

// HealStatus is the background healing state (GET /heal).
type HealStatus struct {
	Queued         int64  `json:"queued"`
	Backlog        int64  `json:"backlog"`
	Healed         int64  `json:"healed"`
	Failed         int64  `json:"failed"`
	ShardsHealed   int64  `json:"shardsHealed"`
	BytesHealed    int64  `json:"bytesHealed"`
	Scanned        int64  `json:"scanned"`
	ScanCycles     int64  `json:"scanCycles"`
	ScanBucket     string `json:"scanBucket,omitempty"`
	ScanKey        string `json:"scanKey,omitempty"`
	LastCycleNanos int64  `json:"lastCycleNanos"`
}

// MetricsToken is the bearer token for GET /metrics minted for the caller's
// access key (GET /metrics-token).
type MetricsToken struct {
	Token string `json:"token"`
}
