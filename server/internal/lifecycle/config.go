package lifecycle

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// s3NS is the namespace S3 puts on the LifecycleConfiguration it returns.
const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// Configuration is a bucket's LifecycleConfiguration. Parse returns a valid one;
// its XML form (xml.Marshal, Encode) is what GetBucketLifecycleConfiguration
// returns. A Configuration is not modified by Evaluate and friends, so one parsed
// value may be shared by goroutines.
type Configuration struct {
	XMLName xml.Name  `xml:"LifecycleConfiguration"`
	Rules   []Rule    `xml:"Rule"`
	Unknown []unknown `xml:",any"`
}

// Rule is one lifecycle rule. A rule selects objects with either Filter or the
// legacy top-level Prefix, never both.
type Rule struct {
	ID                             string                          `xml:"ID,omitempty"`
	Prefix                         *string                         `xml:"Prefix"`
	Filter                         *Filter                         `xml:"Filter"`
	Status                         string                          `xml:"Status"`
	Transitions                    []Transition                    `xml:"Transition"`
	NoncurrentVersionTransitions   []NoncurrentVersionTransition   `xml:"NoncurrentVersionTransition"`
	Expiration                     *Expiration                     `xml:"Expiration"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `xml:"AbortIncompleteMultipartUpload"`
	Unknown                        []unknown                       `xml:",any"`
}

// Rule statuses.
const (
	StatusEnabled  = "Enabled"
	StatusDisabled = "Disabled"
)

// Filter selects the objects a rule applies to: exactly one of its fields is set,
// or none (every object).
type Filter struct {
	Prefix                *string   `xml:"Prefix"`
	Tag                   *Tag      `xml:"Tag"`
	ObjectSizeGreaterThan *int64    `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64    `xml:"ObjectSizeLessThan"`
	And                   *And      `xml:"And"`
	Unknown               []unknown `xml:",any"`
}

// And combines predicates: an object matches when it matches all of them.
type And struct {
	Prefix                *string   `xml:"Prefix"`
	Tags                  []Tag     `xml:"Tag"`
	ObjectSizeGreaterThan *int64    `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64    `xml:"ObjectSizeLessThan"`
	Unknown               []unknown `xml:",any"`
}

// Tag is one object tag a filter requires.
type Tag struct {
	Key     string    `xml:"Key"`
	Value   string    `xml:"Value"`
	Unknown []unknown `xml:",any"`
}

// Expiration expires current versions (Days or Date), or removes expired object
// delete markers (ExpiredObjectDeleteMarker); exactly one of the three is set.
type Expiration struct {
	Days                      *int      `xml:"Days"`
	Date                      *Date     `xml:"Date"`
	ExpiredObjectDeleteMarker *bool     `xml:"ExpiredObjectDeleteMarker"`
	Unknown                   []unknown `xml:",any"`
}

// NoncurrentVersionExpiration deletes noncurrent versions.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          *int      `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int      `xml:"NewerNoncurrentVersions"`
	Unknown                 []unknown `xml:",any"`
}

// Transition moves current versions to the tier named by StorageClass.
type Transition struct {
	Days         *int      `xml:"Days"`
	Date         *Date     `xml:"Date"`
	StorageClass string    `xml:"StorageClass"`
	Unknown      []unknown `xml:",any"`
}

// NoncurrentVersionTransition moves noncurrent versions to a tier.
type NoncurrentVersionTransition struct {
	NoncurrentDays          *int      `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int      `xml:"NewerNoncurrentVersions"`
	StorageClass            string    `xml:"StorageClass"`
	Unknown                 []unknown `xml:",any"`
}

// AbortIncompleteMultipartUpload aborts uploads DaysAfterInitiation after they began.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int      `xml:"DaysAfterInitiation"`
	Unknown             []unknown `xml:",any"`
}

// unknown collects elements the schema does not have; any makes the document
// MalformedXML.
type unknown struct {
	XMLName xml.Name
}

// Date is a lifecycle date: ISO 8601, and (once validated) midnight UTC.
type Date struct{ time.Time }

// dateLayouts are the forms a Date may take in a request.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}

// UnmarshalXML parses an ISO 8601 date or timestamp.
func (d *Date) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := dec.DecodeElement(&s, &start); err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			d.Time = t
			return nil
		}
	}
	return fmt.Errorf("lifecycle: date %q is not ISO 8601", s)
}

// MarshalXML writes the date as S3 does: 2006-01-02T00:00:00.000Z.
func (d Date) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(d.UTC().Format("2006-01-02T15:04:05.000Z"), start)
}

// MarshalXML writes the configuration in S3's namespace.
func (c *Configuration) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start = xml.StartElement{Name: xml.Name{Space: s3NS, Local: "LifecycleConfiguration"}}
	return e.EncodeElement(struct {
		Rules []Rule `xml:"Rule"`
	}{c.Rules}, start)
}

// Encode returns the configuration's XML (no XML declaration): the form stored in
// objects.BucketConfig.Lifecycle.
func (c *Configuration) Encode() []byte {
	b, err := xml.Marshal(c)
	if err != nil { // only plain fields: cannot fail
		panic("lifecycle: encoding a configuration: " + err.Error())
	}
	return b
}

// Options control validation.
type Options struct {
	// Tier reports whether a tier of this name is configured: a transition's
	// StorageClass must name one. Nil accepts any name.
	Tier func(name string) bool
}

// Parse decodes and validates a LifecycleConfiguration. Errors are *Error with
// S3's code (MalformedXML, InvalidArgument, InvalidRequest, InvalidStorageClass)
// and a message that says what is wrong.
func Parse(b []byte, opts Options) (*Configuration, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, malformed("The lifecycle configuration is empty.")
	}
	var c Configuration
	if err := xml.Unmarshal(b, &c); err != nil {
		return nil, malformed("The XML you provided was not well-formed or did not validate against our published schema: " + err.Error())
	}
	if err := c.Validate(opts); err != nil {
		return nil, err
	}
	return &c, nil
}

// SetMissingIDs gives every rule without an ID a random one, as S3 does when it
// stores a configuration.
func (c *Configuration) SetMissingIDs() {
	for i := range c.Rules {
		if c.Rules[i].ID == "" {
			var b [15]byte
			rand.Read(b[:])
			c.Rules[i].ID = base32.StdEncoding.EncodeToString(b[:])
		}
	}
}

// enabled reports whether the rule applies.
func (r *Rule) enabled() bool { return r.Status == StatusEnabled }

// predicates are a rule's filter, flattened.
type predicates struct {
	prefix    string
	tags      []Tag
	sizeGT    *int64
	sizeLT    *int64
	hasFilter bool // tags or size: never matches a delete marker
}

func (r *Rule) predicates() predicates {
	var p predicates
	switch {
	case r.Prefix != nil:
		p.prefix = *r.Prefix
	case r.Filter != nil:
		f := r.Filter
		switch {
		case f.Prefix != nil:
			p.prefix = *f.Prefix
		case f.Tag != nil:
			p.tags = []Tag{*f.Tag}
		case f.ObjectSizeGreaterThan != nil:
			p.sizeGT = f.ObjectSizeGreaterThan
		case f.ObjectSizeLessThan != nil:
			p.sizeLT = f.ObjectSizeLessThan
		case f.And != nil:
			if f.And.Prefix != nil {
				p.prefix = *f.And.Prefix
			}
			p.tags = f.And.Tags
			p.sizeGT, p.sizeLT = f.And.ObjectSizeGreaterThan, f.And.ObjectSizeLessThan
		}
	}
	p.hasFilter = len(p.tags) > 0 || p.sizeGT != nil || p.sizeLT != nil
	return p
}

// filterName describes a rule's selection in messages, as S3 does ("prefix 'x'").
func (r *Rule) filterName() string {
	if r.ID != "" {
		return "rule '" + r.ID + "'"
	}
	return "prefix '" + r.predicates().prefix + "'"
}
