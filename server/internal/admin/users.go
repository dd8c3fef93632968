package admin

import (
	"context"
	"net/http"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/iam"
)

// Users, groups and server information.

func (h *handler) info(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	if h.cfg.Info == nil {
		return adminapi.ServerInfo{}, nil
	}
	return h.cfg.Info(rq.r.Context()), nil
}

func userOut(u iam.User) adminapi.User {
	st := adminapi.StatusEnabled
	if !u.Enabled {
		st = adminapi.StatusDisabled
	}
	return adminapi.User{Name: u.Name, Status: st, Policies: nonNil(u.Policies), Groups: nonNil(u.Groups),
		Created: u.Created, Updated: u.Updated}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (h *handler) listUsers(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	out := adminapi.UserList{Users: []adminapi.User{}}
	for _, u := range h.cfg.Store.Users() {
		out.Users = append(out.Users, userOut(u))
	}
	return out, nil
}

func (h *handler) createUser(rq *request) (any, error) {
	var in adminapi.CreateUserRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	u, err := h.cfg.Store.CreateUser(rq.r.Context(), in.Name, in.Policies)
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

func (h *handler) getUser(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	u, err := h.cfg.Store.User(rq.params["user"])
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

func (h *handler) deleteUser(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	return nil, h.cfg.Store.DeleteUser(rq.r.Context(), rq.params["user"])
}

func (h *handler) setUserStatus(rq *request) (any, error) {
	var in adminapi.SetStatusRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	enabled, err := parseStatus(in.Status)
	if err != nil {
		return nil, err
	}
	u, err := h.cfg.Store.SetUserEnabled(rq.r.Context(), rq.params["user"], enabled)
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

func parseStatus(s adminapi.Status) (bool, error) {
	switch s {
	case adminapi.StatusEnabled:
		return true, nil
	case adminapi.StatusDisabled:
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "status must be %q or %q, not %q", adminapi.StatusEnabled, adminapi.StatusDisabled, s)
}

func (h *handler) attachUserPolicy(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	u, err := h.cfg.Store.AttachUserPolicy(rq.r.Context(), rq.params["user"], rq.params["policy"])
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

func (h *handler) detachUserPolicy(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	u, err := h.cfg.Store.DetachUserPolicy(rq.r.Context(), rq.params["user"], rq.params["policy"])
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

func groupOut(g iam.Group) adminapi.Group {
	return adminapi.Group{Name: g.Name, Members: nonNil(g.Members), Policies: nonNil(g.Policies),
		Created: g.Created, Updated: g.Updated}
}

func (h *handler) listGroups(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	out := adminapi.GroupList{Groups: []adminapi.Group{}}
	for _, g := range h.cfg.Store.Groups() {
		out.Groups = append(out.Groups, groupOut(g))
	}
	return out, nil
}

func (h *handler) createGroup(rq *request) (any, error) {
	var in adminapi.CreateGroupRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	g, err := h.cfg.Store.CreateGroup(rq.r.Context(), in.Name, in.Members, in.Policies)
	if err != nil {
		return nil, err
	}
	return groupOut(g), nil
}

func (h *handler) getGroup(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	g, err := h.cfg.Store.Group(rq.params["group"])
	if err != nil {
		return nil, err
	}
	return groupOut(g), nil
}

func (h *handler) deleteGroup(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	return nil, h.cfg.Store.DeleteGroup(rq.r.Context(), rq.params["group"])
}

// groupEdit runs one of the store's group changes with the route's parameters.
func groupEdit(rq *request, second string, fn func(ctx context.Context, group, x string) (iam.Group, error)) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	g, err := fn(rq.r.Context(), rq.params["group"], rq.params[second])
	if err != nil {
		return nil, err
	}
	return groupOut(g), nil
}

func (h *handler) addGroupMember(rq *request) (any, error) {
	return groupEdit(rq, "user", h.cfg.Store.AddGroupMember)
}

func (h *handler) removeGroupMember(rq *request) (any, error) {
	return groupEdit(rq, "user", h.cfg.Store.RemoveGroupMember)
}

func (h *handler) attachGroupPolicy(rq *request) (any, error) {
	return groupEdit(rq, "policy", h.cfg.Store.AttachGroupPolicy)
}

func (h *handler) detachGroupPolicy(rq *request) (any, error) {
	return groupEdit(rq, "policy", h.cfg.Store.DetachGroupPolicy)
}
