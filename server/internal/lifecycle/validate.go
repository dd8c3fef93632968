package lifecycle

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Error is a configuration S3 would refuse: Code is the S3 error code, Message
// says what is wrong. The S3 layer sends both to the client (status 400).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "lifecycle: " + e.Code + ": " + e.Message }

// S3 error codes of Parse and Validate.
const (
	CodeMalformedXML        = "MalformedXML"
	CodeInvalidArgument     = "InvalidArgument"
	CodeInvalidRequest      = "InvalidRequest"
	CodeInvalidStorageClass = "InvalidStorageClass"
)

func malformed(msg string) *Error  { return &Error{Code: CodeMalformedXML, Message: msg} }
func invalidArg(msg string) *Error { return &Error{Code: CodeInvalidArgument, Message: msg} }

// Limits S3 applies to a configuration.
const (
	MaxRules                   = 1000
	maxIDLen                   = 255
	maxPrefixLen               = 1024
	maxTagKeyLen               = 128
	maxTagValueLen             = 256
	maxNewerNoncurrentVersions = 100
)

// Validate applies S3's rules to a decoded configuration (Parse calls it).
func (c *Configuration) Validate(opts Options) error {
	if len(c.Unknown) > 0 {
		return unknownElement(c.Unknown, "LifecycleConfiguration")
	}
	if len(c.Rules) == 0 {
		return malformed("A lifecycle configuration needs at least one Rule.")
	}
	if len(c.Rules) > MaxRules {
		return invalidArg("A lifecycle configuration can have at most " + strconv.Itoa(MaxRules) + " rules.")
	}
	ids := make(map[string]bool, len(c.Rules))
	for i := range c.Rules {
		r := &c.Rules[i]
		if err := r.validate(opts); err != nil {
			return err
		}
		if r.ID != "" {
			if ids[r.ID] {
				return invalidArg("Rule ID must be unique. Found same ID for more than one rule: '" + r.ID + "'.")
			}
			ids[r.ID] = true
		}
	}
	return nil
}

func unknownElement(u []unknown, parent string) *Error {
	return malformed("Unknown element <" + u[0].XMLName.Local + "> in <" + parent + ">.")
}

func (r *Rule) validate(opts Options) error {
	if len(r.Unknown) > 0 {
		return unknownElement(r.Unknown, "Rule")
	}
	if utf8.RuneCountInString(r.ID) > maxIDLen {
		return invalidArg("ID length should not exceed allowed limit of 255.")
	}
	switch r.Status {
	case StatusEnabled, StatusDisabled:
	case "":
		return malformed("Rule " + quoteID(r.ID) + "has no Status (Enabled or Disabled).")
	default:
		return malformed("Rule " + quoteID(r.ID) + "has Status '" + r.Status + "'; it must be Enabled or Disabled.")
	}
	switch {
	case r.Prefix != nil && r.Filter != nil:
		return malformed("Rule " + quoteID(r.ID) + "has both Filter and Prefix; use Filter only.")
	case r.Prefix == nil && r.Filter == nil:
		return malformed("Rule " + quoteID(r.ID) + "needs a Filter (an empty <Filter/> selects every object).")
	case r.Prefix != nil:
		if err := checkPrefix(*r.Prefix); err != nil {
			return err
		}
	default:
		if err := r.Filter.validate(); err != nil {
			return err
		}
	}
	p := r.predicates()
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil &&
		len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 {
		return &Error{Code: CodeInvalidRequest, Message: "At least one action needs to be specified in a rule (" + r.filterName() + ")."}
	}
	if e := r.Expiration; e != nil {
		if err := e.validate(p); err != nil {
			return err
		}
	}
	if n := r.NoncurrentVersionExpiration; n != nil {
		if len(n.Unknown) > 0 {
			return unknownElement(n.Unknown, "NoncurrentVersionExpiration")
		}
		if n.NoncurrentDays == nil || *n.NoncurrentDays <= 0 {
			return invalidArg("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer.")
		}
		if err := checkNewer(n.NewerNoncurrentVersions, "NoncurrentVersionExpiration"); err != nil {
			return err
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if len(a.Unknown) > 0 {
			return unknownElement(a.Unknown, "AbortIncompleteMultipartUpload")
		}
		if a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0 {
			return invalidArg("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer.")
		}
		if p.hasFilter {
			return invalidArg("AbortIncompleteMultipartUpload cannot be specified with a tag or object size filter (" + r.filterName() + ").")
		}
	}
	if err := r.validateTransitions(opts); err != nil {
		return err
	}
	return r.validateNoncurrentTransitions(opts)
}

func quoteID(id string) string {
	if id == "" {
		return ""
	}
	return "'" + id + "' "
}

func checkPrefix(p string) error {
	if len(p) > maxPrefixLen {
		return invalidArg("The prefix is longer than 1024 bytes.")
	}
	if !utf8.ValidString(p) {
		return invalidArg("The prefix is not valid UTF-8.")
	}
	return nil
}

func checkNewer(n *int, action string) error {
	if n != nil && (*n <= 0 || *n > maxNewerNoncurrentVersions) {
		return invalidArg("'NewerNoncurrentVersions' for " + action + " action must be a positive integer up to 100.")
	}
	return nil
}

func (f *Filter) validate() error {
	if len(f.Unknown) > 0 {
		return unknownElement(f.Unknown, "Filter")
	}
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return malformed("A Filter has exactly one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or And; combine conditions with And.")
	}
	if f.Prefix != nil {
		if err := checkPrefix(*f.Prefix); err != nil {
			return err
		}
	}
	if f.Tag != nil {
		if err := checkTags([]Tag{*f.Tag}); err != nil {
			return err
		}
	}
	if err := checkSizes(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan); err != nil {
		return err
	}
	if a := f.And; a != nil {
		if len(a.Unknown) > 0 {
			return unknownElement(a.Unknown, "And")
		}
		if a.Prefix == nil && len(a.Tags) == 0 && a.ObjectSizeGreaterThan == nil && a.ObjectSizeLessThan == nil {
			return malformed("An And filter needs at least one of Prefix, Tag, ObjectSizeGreaterThan or ObjectSizeLessThan.")
		}
		if a.Prefix != nil {
			if err := checkPrefix(*a.Prefix); err != nil {
				return err
			}
		}
		if err := checkTags(a.Tags); err != nil {
			return err
		}
		if err := checkSizes(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan); err != nil {
			return err
		}
	}
	return nil
}

func checkTags(tags []Tag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if len(t.Unknown) > 0 {
			return unknownElement(t.Unknown, "Tag")
		}
		if n := utf8.RuneCountInString(t.Key); n == 0 || n > maxTagKeyLen || !utf8.ValidString(t.Key) {
			return invalidArg("The TagKey you have provided is invalid: it must be 1 to 128 characters.")
		}
		if utf8.RuneCountInString(t.Value) > maxTagValueLen || !utf8.ValidString(t.Value) {
			return invalidArg("The TagValue you have provided is invalid: it must be at most 256 characters.")
		}
		if seen[t.Key] {
			return invalidArg("Duplicate Tag Keys are not allowed: '" + t.Key + "'.")
		}
		seen[t.Key] = true
	}
	return nil
}

func checkSizes(gt, lt *int64) error {
	if gt != nil && *gt < 0 {
		return invalidArg("'ObjectSizeGreaterThan' must be a non-negative integer.")
	}
	if lt != nil && *lt <= 0 {
		return invalidArg("'ObjectSizeLessThan' must be a positive integer.")
	}
	if gt != nil && lt != nil && *lt <= *gt {
		return invalidArg("'ObjectSizeLessThan' must be greater than 'ObjectSizeGreaterThan'.")
	}
	return nil
}

func checkMidnight(d *Date, action string) error {
	if d == nil {
		return nil
	}
	t := d.UTC()
	if !t.Equal(t.Truncate(24 * time.Hour)) {
		return invalidArg("'Date' in the " + action + " action must be at midnight GMT.")
	}
	return nil
}

func (e *Expiration) validate(p predicates) error {
	if len(e.Unknown) > 0 {
		return unknownElement(e.Unknown, "Expiration")
	}
	switch {
	case e.Days == nil && e.Date == nil && e.ExpiredObjectDeleteMarker == nil:
		return malformed("An Expiration action needs Days, Date or ExpiredObjectDeleteMarker.")
	case e.Days != nil && e.Date != nil:
		return malformed("An Expiration action has Days or Date, not both.")
	case e.ExpiredObjectDeleteMarker != nil && (e.Days != nil || e.Date != nil):
		return invalidArg("ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.")
	case e.ExpiredObjectDeleteMarker != nil && p.hasFilter:
		return invalidArg("ExpiredObjectDeleteMarker cannot be specified with a tag or object size filter: delete markers have neither.")
	}
	if e.Days != nil && *e.Days <= 0 {
		return invalidArg("'Days' for Expiration action must be a positive integer.")
	}
	return checkMidnight(e.Date, "Expiration")
}

func (r *Rule) validateTransitions(opts Options) error {
	classes := map[string]bool{}
	var maxDays *int
	var maxDate *Date
	for i := range r.Transitions {
		t := &r.Transitions[i]
		if len(t.Unknown) > 0 {
			return unknownElement(t.Unknown, "Transition")
		}
		switch {
		case t.Days == nil && t.Date == nil:
			return malformed("A Transition action needs Days or Date.")
		case t.Days != nil && t.Date != nil:
			return malformed("A Transition action has Days or Date, not both.")
		}
		if t.Days != nil && *t.Days < 0 {
			return invalidArg("'Days' in Transition action must be nonnegative.")
		}
		if err := checkMidnight(t.Date, "Transition"); err != nil {
			return err
		}
		if err := checkTier(t.StorageClass, "Transition", opts); err != nil {
			return err
		}
		if classes[t.StorageClass] {
			return invalidArg("'StorageClass' must be different for 'Transition' actions in same 'Rule' (" + r.filterName() + ").")
		}
		classes[t.StorageClass] = true
		if t.Days != nil && (maxDays == nil || *t.Days > *maxDays) {
			maxDays = t.Days
		}
		if t.Date != nil && (maxDate == nil || t.Date.After(maxDate.Time)) {
			maxDate = t.Date
		}
	}
	if len(r.Transitions) == 0 {
		return nil
	}
	e := r.Expiration
	mixed := maxDays != nil && maxDate != nil
	if e != nil {
		mixed = mixed || (e.Days != nil && maxDate != nil) || (e.Date != nil && maxDays != nil)
	}
	if mixed {
		return &Error{Code: CodeInvalidRequest, Message: "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for " + r.filterName() + "."}
	}
	if e != nil && e.Days != nil && maxDays != nil && *e.Days <= *maxDays {
		return invalidArg("'Days' in the Expiration action for " + r.filterName() + " must be greater than 'Days' in the Transition action.")
	}
	if e != nil && e.Date != nil && maxDate != nil && !e.Date.After(maxDate.Time) {
		return invalidArg("'Date' in the Expiration action for " + r.filterName() + " must be later than 'Date' in the Transition action.")
	}
	return nil
}

func (r *Rule) validateNoncurrentTransitions(opts Options) error {
	classes := map[string]bool{}
	for i := range r.NoncurrentVersionTransitions {
		t := &r.NoncurrentVersionTransitions[i]
		if len(t.Unknown) > 0 {
			return unknownElement(t.Unknown, "NoncurrentVersionTransition")
		}
		if t.NoncurrentDays == nil {
			return malformed("A NoncurrentVersionTransition action needs NoncurrentDays.")
		}
		if *t.NoncurrentDays < 0 {
			return invalidArg("'NoncurrentDays' for NoncurrentVersionTransition action must be nonnegative.")
		}
		if err := checkNewer(t.NewerNoncurrentVersions, "NoncurrentVersionTransition"); err != nil {
			return err
		}
		if err := checkTier(t.StorageClass, "NoncurrentVersionTransition", opts); err != nil {
			return err
		}
		if classes[t.StorageClass] {
			return invalidArg("'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule' (" + r.filterName() + ").")
		}
		classes[t.StorageClass] = true
		if e := r.NoncurrentVersionExpiration; e != nil && e.NoncurrentDays != nil && *e.NoncurrentDays <= *t.NoncurrentDays {
			return invalidArg("'NoncurrentDays' in the NoncurrentVersionExpiration action for " + r.filterName() + " must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action.")
		}
	}
	return nil
}

// Storage classes of the object layer itself: never a transition target.
const (
	classStandard          = "STANDARD"
	classReducedRedundancy = "REDUCED_REDUNDANCY"
)

func checkTier(name, action string, opts Options) error {
	switch {
	case name == "":
		return malformed("A " + action + " action needs a StorageClass (the name of a tier).")
	case name == classStandard || name == classReducedRedundancy:
		return &Error{Code: CodeInvalidStorageClass, Message: "The storage class you specified is not valid: " + name + " is not a tier to transition to."}
	case opts.Tier != nil && !opts.Tier(name):
		return &Error{Code: CodeInvalidStorageClass, Message: "The storage class you specified is not valid: no tier named '" + name + "' is configured."}
	}
	return nil
}
