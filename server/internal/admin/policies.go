package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/iam"
)

// Managed policies and access keys.

func policyOut(p iam.PolicyInfo) adminapi.Policy {
	out := adminapi.Policy{Name: p.Name, Builtin: p.Builtin, Document: rawJSON(p.Document),
		Users: nonNil(p.Users), Groups: nonNil(p.Groups)}
	if !p.Builtin {
		c, u := p.Created, p.Updated
		out.Created, out.Updated = &c, &u
	}
	return out
}

// rawJSON embeds a stored document; one that is not valid JSON (damaged on
// disk) is sent as a JSON string so the answer stays well-formed.
func rawJSON(doc string) json.RawMessage {
	if json.Valid([]byte(doc)) {
		return json.RawMessage(doc)
	}
	b, _ := json.Marshal(doc)
	return b
}

// document returns the policy text of a request field: a JSON object, or a JSON
// string holding the document (as Terraform's jsonencode produces).
func document(field string, raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, errorf(http.StatusBadRequest, adminapi.CodeMalformedPolicy, "the %s field is required", field)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errorf(http.StatusBadRequest, adminapi.CodeMalformedJSON, "the %s field is not a valid JSON string", field)
		}
		return []byte(s), nil
	}
	return raw, nil
}

func (h *handler) listPolicies(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	out := adminapi.PolicyList{Policies: []adminapi.Policy{}}
	for _, p := range h.cfg.Store.Policies() {
		out.Policies = append(out.Policies, policyOut(p))
	}
	return out, nil
}

func (h *handler) createPolicy(rq *request) (any, error) {
	var in adminapi.CreatePolicyRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	doc, err := document("document", in.Document)
	if err != nil {
		return nil, err
	}
	p, err := h.cfg.Store.CreatePolicy(rq.r.Context(), in.Name, doc)
	if err != nil {
		return nil, err
	}
	return policyOut(p), nil
}

func (h *handler) getPolicy(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	p, err := h.cfg.Store.Policy(rq.params["policy"])
	if err != nil {
		return nil, err
	}
	return policyOut(p), nil
}

func (h *handler) updatePolicy(rq *request) (any, error) {
	var in adminapi.UpdatePolicyRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	doc, err := document("document", in.Document)
	if err != nil {
		return nil, err
	}
	p, err := h.cfg.Store.UpdatePolicy(rq.r.Context(), rq.params["policy"], doc)
	if err != nil {
		return nil, err
	}
	return policyOut(p), nil
}

func (h *handler) deletePolicy(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	return nil, h.cfg.Store.DeletePolicy(rq.r.Context(), rq.params["policy"])
}

func keyOut(k iam.AccessKey) adminapi.AccessKey {
	out := adminapi.AccessKey{AccessKey: k.AccessKey, User: k.User, Name: k.Name, Description: k.Description,
		Status: adminapi.StatusEnabled, Usable: k.Usable, Created: k.Created, Updated: k.Updated}
	if !k.Enabled {
		out.Status = adminapi.StatusDisabled
	}
	if !k.Expiration.IsZero() {
		e := k.Expiration
		out.Expiration = &e
		out.Expired = k.Expired
	}
	if k.Policy != "" {
		out.Policy = rawJSON(k.Policy)
	}
	return out
}

func (h *handler) listAccessKeys(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	q := rq.r.URL.Query()
	for k := range q {
		if k != "user" {
			return nil, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "unknown query parameter %q", k)
		}
	}
	keys, err := h.cfg.Store.AccessKeys(q.Get("user"))
	if err != nil {
		return nil, err
	}
	out := adminapi.AccessKeyList{AccessKeys: []adminapi.AccessKey{}}
	for _, k := range keys {
		out.AccessKeys = append(out.AccessKeys, keyOut(k))
	}
	return out, nil
}

func (h *handler) createAccessKey(rq *request) (any, error) {
	var in adminapi.CreateAccessKeyRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	o := iam.CreateAccessKeyOptions{User: in.User, Name: in.Name, Description: in.Description,
		AccessKey: in.AccessKey, SecretKey: in.SecretKey}
	if len(bytes.TrimSpace(in.Policy)) > 0 && !bytes.Equal(bytes.TrimSpace(in.Policy), []byte("null")) {
		doc, err := document("policy", in.Policy)
		if err != nil {
			return nil, err
		}
		o.Policy = doc
	}
	if in.Expiration != nil {
		o.Expiration = *in.Expiration
	}
	k, secret, err := h.cfg.Store.CreateAccessKey(rq.r.Context(), o)
	if err != nil {
		return nil, err
	}
	return adminapi.AccessKeyCredentials{AccessKey: keyOut(k), SecretKey: secret}, nil
}

func (h *handler) getAccessKey(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	k, err := h.cfg.Store.AccessKey(rq.params["key"])
	if err != nil {
		return nil, err
	}
	return keyOut(k), nil
}

func (h *handler) updateAccessKey(rq *request) (any, error) {
	var in adminapi.UpdateAccessKeyRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	o := iam.UpdateAccessKeyOptions{Name: in.Name, Description: in.Description}
	if in.Status != nil {
		enabled, err := parseStatus(*in.Status)
		if err != nil {
			return nil, err
		}
		o.Enabled = &enabled
	}
	switch p := bytes.TrimSpace(in.Policy); {
	case len(p) == 0:
	case bytes.Equal(p, []byte("null")):
		empty := []byte{}
		o.Policy = &empty
	default:
		doc, err := document("policy", p)
		if err != nil {
			return nil, err
		}
		o.Policy = &doc
	}
	switch {
	case in.NoExpiration && in.Expiration != nil:
		return nil, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "give either expiration or noExpiration, not both")
	case in.NoExpiration:
		o.Expiration = &time.Time{}
	case in.Expiration != nil:
		if in.Expiration.IsZero() {
			return nil, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "the expiration is the zero time; use noExpiration to remove it")
		}
		o.Expiration = in.Expiration
	}
	k, err := h.cfg.Store.UpdateAccessKey(rq.r.Context(), rq.params["key"], o)
	if err != nil {
		return nil, err
	}
	return keyOut(k), nil
}

func (h *handler) deleteAccessKey(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	return nil, h.cfg.Store.DeleteAccessKey(rq.r.Context(), rq.params["key"])
}
