package admin

import (
	"errors"
	"net/http"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/kms"
)

// KMS key routes: GET/POST /kms/keys, GET/DELETE /kms/keys/{key}, POST
// /kms/keys/{key}/rotate, on Config.KMS (nil: 501). Deleting needs a manager
// that is a kms.Deleter (501 otherwise); a key still in use is a 409. Rotation makes a new key
// version for new data keys; data keys sealed by older versions keep opening
// (the backends keep old versions), so no object is re-encrypted.

func (h *handler) kmsManager() (kms.Manager, error) {
	if h.cfg.KMS == nil {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "this server's KMS cannot manage keys (none configured, or the backend has no key management)")
	}
	return h.cfg.KMS, nil
}

// kmsError maps a KMS error to an admin API error; messages never carry key
// material (the backends guarantee it).
func kmsError(err error) error {
	switch {
	case errors.Is(err, kms.ErrKeyNotFound):
		return errorf(http.StatusNotFound, adminapi.CodeNotFound, "%s", err.Error())
	case errors.Is(err, kms.ErrKeyInUse):
		return errorf(http.StatusConflict, adminapi.CodeDeleteConflict, "%s", err.Error())
	case errors.Is(err, kms.ErrKeyExists):
		return errorf(http.StatusConflict, adminapi.CodeAlreadyExists, "%s", err.Error())
	case errors.Is(err, kms.ErrInvalidName):
		return errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "%s", err.Error())
	case errors.Is(err, kms.ErrNotSupported):
		return errorf(http.StatusNotImplemented, "NotImplemented", "%s", err.Error())
	case errors.Is(err, kms.ErrUnavailable):
		return errorf(http.StatusServiceUnavailable, adminapi.CodeServiceUnavail, "the KMS is unavailable")
	}
	return err
}

func kmsKey(k kms.KeyInfo) adminapi.KMSKey {
	return adminapi.KMSKey{Name: k.Name, ID: k.ID, Version: k.Version, Enabled: k.Enabled, Created: k.Created, Backend: k.Backend}
}

func (h *handler) listKMSKeys(rq *request) (any, error) {
	m, err := h.kmsManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	keys, err := m.ListKeys(rq.r.Context())
	if err != nil {
		return nil, kmsError(err)
	}
	out := adminapi.KMSKeyList{Keys: make([]adminapi.KMSKey, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, kmsKey(k))
	}
	return out, nil
}

func (h *handler) createKMSKey(rq *request) (any, error) {
	m, err := h.kmsManager()
	if err != nil {
		return nil, err
	}
	var in adminapi.CreateKMSKeyRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "name: required")
	}
	k, err := m.CreateKey(rq.r.Context(), in.Name)
	if err != nil {
		return nil, kmsError(err)
	}
	return kmsKey(k), nil
}

func (h *handler) getKMSKey(rq *request) (any, error) {
	m, err := h.kmsManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	k, err := m.KeyStatus(rq.r.Context(), rq.params["key"])
	if err != nil {
		return nil, kmsError(err)
	}
	return kmsKey(k), nil
}

func (h *handler) deleteKMSKey(rq *request) (any, error) {
	m, err := h.kmsManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	d, ok := m.(kms.Deleter)
	if !ok {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "this KMS backend cannot delete keys")
	}
	if err := d.DeleteKey(rq.r.Context(), rq.params["key"]); err != nil {
		return nil, kmsError(err)
	}
	return nil, nil
}

func (h *handler) rotateKMSKey(rq *request) (any, error) {
	m, err := h.kmsManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	r, ok := m.(kms.Rotator)
	if !ok {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "this KMS backend cannot rotate keys")
	}
	k, err := r.RotateKey(rq.r.Context(), rq.params["key"])
	if err != nil {
		return nil, kmsError(err)
	}
	return kmsKey(k), nil
}
