package lifecycle

import (
	"net/url"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// ActionType is what an Action does.
type ActionType int

const (
	// ExpireCurrent expires the current version: DeleteObject without a version
	// id (and with If-Match on Action.ETag, so a newer write is never expired):
	// a delete marker in a versioned bucket, the removal of the object in an
	// unversioned one.
	ExpireCurrent ActionType = iota + 1
	// DeleteNoncurrent permanently deletes the noncurrent version Action.VersionID.
	DeleteNoncurrent
	// DeleteExpiredMarker removes the delete marker Action.VersionID, the only
	// version the object has left.
	DeleteExpiredMarker
	// TransitionCurrent moves the current version's data to the tier
	// Action.Class.
	TransitionCurrent
	// TransitionNoncurrent moves noncurrent version Action.VersionID to a tier.
	TransitionNoncurrent
	// AbortUpload aborts an incomplete multipart upload (EvaluateUpload).
	AbortUpload
)

var actionNames = [...]string{
	ExpireCurrent:        "expire_current",
	DeleteNoncurrent:     "delete_noncurrent",
	DeleteExpiredMarker:  "delete_expired_marker",
	TransitionCurrent:    "transition_current",
	TransitionNoncurrent: "transition_noncurrent",
	AbortUpload:          "abort_upload",
}

// ActionTypes lists every action type, in order (for metrics).
var ActionTypes = []ActionType{ExpireCurrent, DeleteNoncurrent, DeleteExpiredMarker, TransitionCurrent, TransitionNoncurrent, AbortUpload}

// String is the action's metric label ("expire_current", …).
func (t ActionType) String() string {
	if t > 0 && int(t) < len(actionNames) {
		return actionNames[t]
	}
	return "unknown"
}

// Action is one thing a rule asks to be done to one version.
type Action struct {
	Type      ActionType
	RuleID    string
	VersionID string    // the version acted on ("" or "null" for the null version)
	ETag      string    // ExpireCurrent: the current version's ETag (If-Match)
	Class     string    // transitions: the tier (StorageClass)
	ModTime   time.Time // transitions: the version's ModTime (it must not have changed)
	Due       time.Time // when the action became due
}

// DueAfter is when an action due days after t is due: S3 adds the days to t and
// rounds up to the next midnight UTC (an object written 2014-01-15 10:30 UTC that
// expires after 3 days expires at 2014-01-19 00:00 UTC).
func DueAfter(t time.Time, days int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day()+days+1, 0, 0, 0, 0, time.UTC)
}

// version is one version being evaluated, with its tags decoded once.
type version struct {
	info objects.ObjectInfo
	tags url.Values
}

func (p *predicates) match(key string, v *version) bool {
	if !strings.HasPrefix(key, p.prefix) {
		return false
	}
	if v.info.DeleteMarker {
		return !p.hasFilter
	}
	if p.sizeGT != nil && v.info.Size <= *p.sizeGT {
		return false
	}
	if p.sizeLT != nil && v.info.Size >= *p.sizeLT {
		return false
	}
	for _, t := range p.tags {
		if !v.hasTag(t.Key, t.Value) {
			return false
		}
	}
	return true
}

func (v *version) hasTag(k, val string) bool {
	if v.tags == nil {
		v.tags, _ = url.ParseQuery(v.info.Tags)
		if v.tags == nil {
			v.tags = url.Values{}
		}
	}
	vs, ok := v.tags[k]
	return ok && len(vs) > 0 && vs[0] == val
}

// Evaluate returns the actions the enabled rules ask for on one object at now.
// versions are all the object's versions, newest first (as the scanner hands
// them to ScanHooks.Object); versions[0] is the current one (possibly a delete
// marker). At most one action is returned per version: a deletion wins over a
// transition, and among several due expirations the earliest due one (the rule
// that expired it first) is reported.
func (c *Configuration) Evaluate(versions []objects.ObjectInfo, now time.Time) []Action {
	if len(versions) == 0 {
		return nil
	}
	key := versions[0].Key
	vs := make([]version, len(versions))
	for i := range versions {
		vs[i].info = versions[i]
	}
	preds := make([]predicates, len(c.Rules))
	for i := range c.Rules {
		preds[i] = c.Rules[i].predicates()
	}
	var out []Action
	if a, ok := c.evalCurrent(key, vs, preds, now); ok {
		out = append(out, a)
	}
	// Noncurrent versions: each rule counts the noncurrent versions it matches,
	// newest first, to keep its NewerNoncurrentVersions.
	best := make([]Action, len(vs))  // deletions
	moves := make([]Action, len(vs)) // transitions
	for ri := range c.Rules {
		r := &c.Rules[ri]
		if !r.enabled() || (r.NoncurrentVersionExpiration == nil && len(r.NoncurrentVersionTransitions) == 0) {
			continue
		}
		rank := 0
		for i := 1; i < len(vs); i++ {
			if !preds[ri].match(key, &vs[i]) {
				continue
			}
			rank++
			since := vs[i-1].info.ModTime // it became noncurrent when its successor was written
			if e := r.NoncurrentVersionExpiration; e != nil {
				if e.NewerNoncurrentVersions == nil || rank > *e.NewerNoncurrentVersions {
					due := DueAfter(since, *e.NoncurrentDays)
					if !now.Before(due) {
						better(&best[i], Action{Type: DeleteNoncurrent, RuleID: r.ID, VersionID: vs[i].info.VersionID, Due: due})
					}
				}
			}
			if vs[i].info.DeleteMarker {
				continue // a marker has no data to move
			}
			for _, t := range r.NoncurrentVersionTransitions {
				if t.NewerNoncurrentVersions != nil && rank <= *t.NewerNoncurrentVersions {
					continue
				}
				if due := DueAfter(since, *t.NoncurrentDays); !now.Before(due) {
					better(&moves[i], Action{Type: TransitionNoncurrent, RuleID: r.ID, VersionID: vs[i].info.VersionID, Class: t.StorageClass, ModTime: vs[i].info.ModTime, Due: due})
				}
			}
		}
	}
	for i := 1; i < len(best); i++ {
		switch {
		case best[i].Type != 0:
			out = append(out, best[i])
		case moves[i].Type != 0 && storageClass(vs[i].info) != moves[i].Class:
			out = append(out, moves[i])
		}
	}
	return out
}

// evalCurrent decides what happens to versions[0].
func (c *Configuration) evalCurrent(key string, vs []version, preds []predicates, now time.Time) (Action, bool) {
	cur := &vs[0]
	var best, move Action // the deletion and the transition due
	if cur.info.DeleteMarker {
		if len(vs) > 1 {
			return best, false // not expired: noncurrent versions remain
		}
		for ri := range c.Rules {
			r := &c.Rules[ri]
			e := r.Expiration
			if !r.enabled() || e == nil || !preds[ri].match(key, cur) {
				continue
			}
			a := Action{Type: DeleteExpiredMarker, RuleID: r.ID, VersionID: cur.info.VersionID}
			switch {
			case e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker:
				a.Due = cur.info.ModTime
			case e.Days != nil:
				// Days also cleans up expired markers, once they are that old.
				a.Due = DueAfter(cur.info.ModTime, *e.Days)
			default:
				continue
			}
			if !now.Before(a.Due) {
				better(&best, a)
			}
		}
		return best, best.Type != 0
	}
	for ri := range c.Rules {
		r := &c.Rules[ri]
		if !r.enabled() || !preds[ri].match(key, cur) {
			continue
		}
		if due, ok := r.expiry(cur.info.ModTime); ok && !now.Before(due) {
			better(&best, Action{Type: ExpireCurrent, RuleID: r.ID, VersionID: cur.info.VersionID, ETag: cur.info.ETag, Due: due})
		}
		for _, t := range r.Transitions {
			if due := t.due(cur.info.ModTime); !now.Before(due) {
				better(&move, Action{Type: TransitionCurrent, RuleID: r.ID, VersionID: cur.info.VersionID, Class: t.StorageClass, ModTime: cur.info.ModTime, Due: due})
			}
		}
	}
	switch {
	case best.Type != 0:
		return best, true
	case move.Type != 0 && storageClass(cur.info) != move.Class:
		// The furthest transition due; a version already there stays.
		return move, true
	}
	return Action{}, false
}

// expiry is when the rule's Expiration Days/Date expires a current version
// written at mod.
func (r *Rule) expiry(mod time.Time) (time.Time, bool) {
	e := r.Expiration
	switch {
	case e == nil:
		return time.Time{}, false
	case e.Days != nil:
		return DueAfter(mod, *e.Days), true
	case e.Date != nil:
		return e.Date.UTC(), true
	}
	return time.Time{}, false
}

func (t *Transition) due(mod time.Time) time.Time {
	if t.Date != nil {
		return t.Date.UTC()
	}
	return DueAfter(mod, *t.Days)
}

// better keeps in *best the action that should win: any deletion over a
// transition; among deletions the one due first; among transitions the one due
// last (the furthest the rules have moved the version).
func better(best *Action, a Action) {
	switch {
	case best.Type == 0:
		*best = a
	case isDeletion(a.Type) != isDeletion(best.Type):
		if isDeletion(a.Type) {
			*best = a
		}
	case isDeletion(a.Type):
		if a.Due.Before(best.Due) {
			*best = a
		}
	default:
		if a.Due.After(best.Due) {
			*best = a
		}
	}
}

func isDeletion(t ActionType) bool {
	return t == ExpireCurrent || t == DeleteNoncurrent || t == DeleteExpiredMarker
}

// storageClass is the class a version is stored in (STANDARD when not recorded).
func storageClass(oi objects.ObjectInfo) string {
	if c := oi.Meta["X-Amz-Storage-Class"]; c != "" {
		return c
	}
	return classStandard
}

// EvaluateUpload returns the AbortUpload action for a multipart upload of key
// initiated at initiated, if an enabled rule's AbortIncompleteMultipartUpload is
// due at now.
func (c *Configuration) EvaluateUpload(key string, initiated, now time.Time) (Action, bool) {
	var best Action
	for ri := range c.Rules {
		r := &c.Rules[ri]
		a := r.AbortIncompleteMultipartUpload
		if !r.enabled() || a == nil {
			continue
		}
		p := r.predicates()
		if p.hasFilter || !strings.HasPrefix(key, p.prefix) {
			continue
		}
		due := DueAfter(initiated, *a.DaysAfterInitiation)
		if !now.Before(due) && (best.Type == 0 || due.Before(best.Due)) {
			best = Action{Type: AbortUpload, RuleID: r.ID, Due: due}
		}
	}
	return best, best.Type != 0
}

// NamesTier reports whether a rule (enabled or not) transitions to the tier.
func (c *Configuration) NamesTier(name string) bool {
	for i := range c.Rules {
		for _, t := range c.Rules[i].Transitions {
			if t.StorageClass == name {
				return true
			}
		}
		for _, t := range c.Rules[i].NoncurrentVersionTransitions {
			if t.StorageClass == name {
				return true
			}
		}
	}
	return false
}

// HasUploadRules reports whether any enabled rule aborts incomplete uploads.
func (c *Configuration) HasUploadRules() bool {
	for i := range c.Rules {
		if c.Rules[i].enabled() && c.Rules[i].AbortIncompleteMultipartUpload != nil {
			return true
		}
	}
	return false
}

// Expiry is when the current version obj will expire under the configuration
// (the earliest Expiration Days/Date of the enabled rules that match it) and the
// rule that says so; ok is false when no rule expires it.
func (c *Configuration) Expiry(obj objects.ObjectInfo) (when time.Time, ruleID string, ok bool) {
	if obj.DeleteMarker {
		return time.Time{}, "", false
	}
	v := version{info: obj}
	for ri := range c.Rules {
		r := &c.Rules[ri]
		if !r.enabled() {
			continue
		}
		p := r.predicates()
		if !p.match(obj.Key, &v) {
			continue
		}
		if due, found := r.expiry(obj.ModTime); found && (!ok || due.Before(when)) {
			when, ruleID, ok = due, r.ID, true
		}
	}
	return when, ruleID, ok
}

// ExpirationHeader is the value of x-amz-expiration for a GET or HEAD of obj
// (`expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`,
// the rule id URL-encoded), or "" when no rule expires it.
func (c *Configuration) ExpirationHeader(obj objects.ObjectInfo) string {
	when, id, ok := c.Expiry(obj)
	if !ok {
		return ""
	}
	return `expiry-date="` + when.UTC().Format(httpTimeFormat) + `", rule-id="` + url.QueryEscape(id) + `"`
}

// httpTimeFormat is net/http's TimeFormat.
const httpTimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"
