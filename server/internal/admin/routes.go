package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/iam"
)

// route is one row of the route table.
type route struct {
	method string
	// pattern is the path below adminapi.PathPrefix; "{name}" segments capture.
	pattern string
	action  string // the IAM action the caller needs
	status  int    // success status
	fn      func(rq *request) (any, error)
}

// routeTable is THE route table (the list is also in server/admin's doc).
func (h *handler) routeTable() []route {
	return []route{
		{http.MethodGet, "/info", iam.ActionAdminServerInfo, http.StatusOK, h.info},

		{http.MethodGet, "/users", iam.ActionAdminListUsers, http.StatusOK, h.listUsers},
		{http.MethodPost, "/users", iam.ActionAdminCreateUser, http.StatusCreated, h.createUser},
		{http.MethodGet, "/users/{user}", iam.ActionAdminGetUser, http.StatusOK, h.getUser},
		{http.MethodDelete, "/users/{user}", iam.ActionAdminDeleteUser, http.StatusNoContent, h.deleteUser},
		{http.MethodPut, "/users/{user}/status", iam.ActionAdminUpdateUser, http.StatusOK, h.setUserStatus},
		{http.MethodPut, "/users/{user}/policies/{policy}", iam.ActionAdminAttachPolicy, http.StatusOK, h.attachUserPolicy},
		{http.MethodDelete, "/users/{user}/policies/{policy}", iam.ActionAdminDetachPolicy, http.StatusOK, h.detachUserPolicy},

		{http.MethodGet, "/groups", iam.ActionAdminListGroups, http.StatusOK, h.listGroups},
		{http.MethodPost, "/groups", iam.ActionAdminCreateGroup, http.StatusCreated, h.createGroup},
		{http.MethodGet, "/groups/{group}", iam.ActionAdminGetGroup, http.StatusOK, h.getGroup},
		{http.MethodDelete, "/groups/{group}", iam.ActionAdminDeleteGroup, http.StatusNoContent, h.deleteGroup},
		{http.MethodPut, "/groups/{group}/members/{user}", iam.ActionAdminUpdateGroup, http.StatusOK, h.addGroupMember},
		{http.MethodDelete, "/groups/{group}/members/{user}", iam.ActionAdminUpdateGroup, http.StatusOK, h.removeGroupMember},
		{http.MethodPut, "/groups/{group}/policies/{policy}", iam.ActionAdminAttachPolicy, http.StatusOK, h.attachGroupPolicy},
		{http.MethodDelete, "/groups/{group}/policies/{policy}", iam.ActionAdminDetachPolicy, http.StatusOK, h.detachGroupPolicy},

		{http.MethodGet, "/policies", iam.ActionAdminListPolicies, http.StatusOK, h.listPolicies},
		{http.MethodPost, "/policies", iam.ActionAdminCreatePolicy, http.StatusCreated, h.createPolicy},
		{http.MethodGet, "/policies/{policy}", iam.ActionAdminGetPolicy, http.StatusOK, h.getPolicy},
		{http.MethodPut, "/policies/{policy}", iam.ActionAdminUpdatePolicy, http.StatusOK, h.updatePolicy},
		{http.MethodDelete, "/policies/{policy}", iam.ActionAdminDeletePolicy, http.StatusNoContent, h.deletePolicy},

		{http.MethodGet, "/access-keys", iam.ActionAdminListAccessKeys, http.StatusOK, h.listAccessKeys},
		{http.MethodPost, "/access-keys", iam.ActionAdminCreateAccessKey, http.StatusCreated, h.createAccessKey},
		{http.MethodGet, "/access-keys/{key}", iam.ActionAdminGetAccessKey, http.StatusOK, h.getAccessKey},
		{http.MethodPatch, "/access-keys/{key}", iam.ActionAdminUpdateAccessKey, http.StatusOK, h.updateAccessKey},
		{http.MethodDelete, "/access-keys/{key}", iam.ActionAdminDeleteAccessKey, http.StatusNoContent, h.deleteAccessKey},

		{http.MethodGet, "/heal", iam.ActionAdminServerInfo, http.StatusOK, h.heal},
		{http.MethodGet, "/metrics-token", iam.ActionAdminServerInfo, http.StatusOK, h.metricsToken},
		{http.MethodGet, "/pools", iam.ActionAdminListPools, http.StatusOK, h.listPools},
		{http.MethodPost, "/pools", iam.ActionAdminAddPool, http.StatusCreated, h.addPool},
		{http.MethodGet, "/pools/rebalance", iam.ActionAdminListPools, http.StatusOK, h.rebalanceStatus},
		{http.MethodPost, "/pools/rebalance", iam.ActionAdminAddPool, http.StatusAccepted, h.rebalance},
		{http.MethodDelete, "/pools/rebalance", iam.ActionAdminAddPool, http.StatusOK, h.stopRebalance},

		{http.MethodGet, "/kms/keys", iam.ActionAdminListKMSKeys, http.StatusOK, h.listKMSKeys},
		{http.MethodPost, "/kms/keys", iam.ActionAdminCreateKMSKey, http.StatusCreated, h.createKMSKey},
		{http.MethodGet, "/kms/keys/{key}", iam.ActionAdminGetKMSKey, http.StatusOK, h.getKMSKey},
		{http.MethodDelete, "/kms/keys/{key}", iam.ActionAdminDeleteKMSKey, http.StatusNoContent, h.deleteKMSKey},
		{http.MethodPost, "/kms/keys/{key}/rotate", iam.ActionAdminRotateKMSKey, http.StatusOK, h.rotateKMSKey},

		{http.MethodGet, "/tiers", iam.ActionAdminListTiers, http.StatusOK, h.listTiers},
		{http.MethodPost, "/tiers", iam.ActionAdminAddTier, http.StatusCreated, h.addTier},
		{http.MethodGet, "/tiers/{tier}", iam.ActionAdminListTiers, http.StatusOK, h.getTier},
		{http.MethodPut, "/tiers/{tier}/credentials", iam.ActionAdminUpdateTier, http.StatusOK, h.updateTierCredentials},
		{http.MethodDelete, "/tiers/{tier}", iam.ActionAdminRemoveTier, http.StatusNoContent, h.removeTier},
		{http.MethodGet, "/pools/{pool}", iam.ActionAdminListPools, http.StatusOK, h.getPool},
		{http.MethodPost, "/pools/{pool}/decommission", iam.ActionAdminDecommission, http.StatusAccepted, h.decommissionPool},
	}
}

// match finds the route of r: 404 when no pattern matches the path, 405 when one
// does but not with this method.
func (h *handler) match(r *http.Request) (*route, map[string]string, error) {
	segs, ok := splitPath(r.URL)
	if !ok {
		return nil, nil, errorf(http.StatusNotFound, adminapi.CodeNotFound, "no admin API route %s", r.URL.Path)
	}
	pathMatched := false
	for i := range h.routes {
		params, ok := matchPattern(h.routes[i].pattern, segs)
		if !ok {
			continue
		}
		pathMatched = true
		if h.routes[i].method == r.Method {
			return &h.routes[i], params, nil
		}
	}
	if pathMatched {
		return nil, nil, errorf(http.StatusMethodNotAllowed, adminapi.CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
	}
	return nil, nil, errorf(http.StatusNotFound, adminapi.CodeNotFound, "no admin API route %s", r.URL.Path)
}

// allowed lists the methods the routes matching path accept.
func (h *handler) allowed(path string) (string, bool) {
	segs, ok := splitPath(&url.URL{Path: path})
	if !ok {
		return "", false
	}
	var ms []string
	for _, rt := range h.routes {
		if _, ok := matchPattern(rt.pattern, segs); ok && !slices.Contains(ms, rt.method) {
			ms = append(ms, rt.method)
		}
	}
	return strings.Join(ms, ", "), len(ms) > 0
}

// splitPath returns the unescaped segments of the path below the prefix.
func splitPath(u *url.URL) ([]string, bool) {
	rest, ok := strings.CutPrefix(u.EscapedPath(), adminapi.PathPrefix+"/")
	if !ok {
		return nil, false
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		v, err := url.PathUnescape(s)
		if err != nil || v == "" {
			return nil, false
		}
		segs[i] = v
	}
	return segs, true
}

func matchPattern(pattern string, segs []string) (map[string]string, bool) {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	if len(ps) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range ps {
		if name, ok := strings.CutPrefix(p, "{"); ok {
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}
