package iam

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Context is the request context a policy's conditions and variables read:
// lower-cased condition key → values. Most keys have one value.
type Context map[string][]string

// Condition operators. Each may carry the suffix "IfExists" (true when the key
// is absent) and the prefix "ForAnyValue:" or "ForAllValues:" (for keys with
// several values).
const (
	opStringEquals              = "StringEquals"
	opStringNotEquals           = "StringNotEquals"
	opStringEqualsIgnoreCase    = "StringEqualsIgnoreCase"
	opStringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
	opStringLike                = "StringLike"
	opStringNotLike             = "StringNotLike"
	opNumericEquals             = "NumericEquals"
	opNumericNotEquals          = "NumericNotEquals"
	opNumericLessThan           = "NumericLessThan"
	opNumericLessThanEquals     = "NumericLessThanEquals"
	opNumericGreaterThan        = "NumericGreaterThan"
	opNumericGreaterThanEquals  = "NumericGreaterThanEquals"
	opDateEquals                = "DateEquals"
	opDateNotEquals             = "DateNotEquals"
	opDateLessThan              = "DateLessThan"
	opDateLessThanEquals        = "DateLessThanEquals"
	opDateGreaterThan           = "DateGreaterThan"
	opDateGreaterThanEquals     = "DateGreaterThanEquals"
	opBool                      = "Bool"
	opIPAddress                 = "IpAddress"
	opNotIPAddress              = "NotIpAddress"
	opArnEquals                 = "ArnEquals"
	opArnNotEquals              = "ArnNotEquals"
	opArnLike                   = "ArnLike"
	opArnNotLike                = "ArnNotLike"
	opNull                      = "Null"
)

type opKind uint8

const (
	kindString opKind = iota
	kindNumeric
	kindDate
	kindBool
	kindIP
	kindNull
)

// opInfo describes an operator: its kind and whether it is negated.
type opInfo struct {
	kind    opKind
	negated bool
}

func lookupOp(name string) (opInfo, bool) {
	switch name {
	case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnEquals, opArnLike:
		return opInfo{kind: kindString}, true
	case opStringNotEquals, opStringNotEqualsIgnoreCase, opStringNotLike, opArnNotEquals, opArnNotLike:
		return opInfo{kind: kindString, negated: true}, true
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		return opInfo{kind: kindNumeric}, true
	case opNumericNotEquals:
		return opInfo{kind: kindNumeric, negated: true}, true
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		return opInfo{kind: kindDate}, true
	case opDateNotEquals:
		return opInfo{kind: kindDate, negated: true}, true
	case opBool:
		return opInfo{kind: kindBool}, true
	case opIPAddress:
		return opInfo{kind: kindIP}, true
	case opNotIPAddress:
		return opInfo{kind: kindIP, negated: true}, true
	case opNull:
		return opInfo{kind: kindNull}, true
	}
	return opInfo{}, false
}

// qualifier is the set operator prefix of a condition.
type qualifier uint8

const (
	qualNone qualifier = iota
	qualForAnyValue
	qualForAllValues
)

// Condition is one (operator, key, values) test of a statement's Condition block.
type Condition struct {
	Op       string // base operator, e.g. "StringLike"
	IfExists bool
	Key      string   // lower-cased
	Values   []string // as written (numbers and booleans as their JSON text)

	qual  qualifier
	info  opInfo
	vars  bool // a value holds a policy variable (2012-10-17 only)
	nums  []float64
	times []time.Time
	nets  []netip.Prefix
}

// parseConditionBlock parses a statement's Condition element.
func parseConditionBlock(raw json.RawMessage, path string, variables bool) ([]Condition, error) {
	ops, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, opName := range ops.keys {
		opPath := path + "." + opName
		base, qual := opName, qualNone
		switch {
		case strings.HasPrefix(base, "ForAnyValue:"):
			base, qual = strings.TrimPrefix(base, "ForAnyValue:"), qualForAnyValue
		case strings.HasPrefix(base, "ForAllValues:"):
			base, qual = strings.TrimPrefix(base, "ForAllValues:"), qualForAllValues
		}
		ifExists := false
		if b, ok := strings.CutSuffix(base, "IfExists"); ok && base != opNull {
			base, ifExists = b, true
		}
		info, ok := lookupOp(base)
		if !ok || (info.kind == kindNull && (ifExists || qual != qualNone)) {
			return nil, policyErr(opPath, "unknown condition operator %q (Cairn knows String*, Numeric*, Date*, Bool, IpAddress, NotIpAddress, Arn*, Null, with IfExists and ForAnyValue:/ForAllValues:)", opName)
		}
		keys, err := decodeObject(ops.fields[opName], opPath)
		if err != nil {
			return nil, err
		}
		if len(keys.keys) == 0 {
			return nil, policyErr(opPath, "the operator names no condition key")
		}
		for _, key := range keys.keys {
			kPath := opPath + "[" + strconv.Quote(key) + "]"
			lk := strings.ToLower(key)
			if !knownKey(lk) {
				return nil, policyErr(kPath, "unknown condition key %q", key)
			}
			vals, err := conditionValues(keys.fields[key], kPath)
			if err != nil {
				return nil, err
			}
			c := Condition{Op: base, IfExists: ifExists, Key: lk, Values: vals, qual: qual, info: info}
			if err := c.compile(kPath, variables); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues reads a condition value: a string, number or boolean, or a
// non-empty array of them.
func conditionValues(raw json.RawMessage, path string) ([]string, error) {
	raw = trimJSON(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return nil, policyErr(path, "not a JSON array: %v", err)
		}
		if len(arr) == 0 {
			return nil, policyErr(path, "the value list is empty")
		}
		out := make([]string, 0, len(arr))
		for i, r := range arr {
			v, err := scalarValue(r, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := scalarValue(raw, path)
	if err != nil {
		return nil, err
	}
	return []string{v}, nil
}

func scalarValue(raw json.RawMessage, path string) (string, error) {
	raw = trimJSON(raw)
	if len(raw) == 0 {
		return "", policyErr(path, "missing value")
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", policyErr(path, "bad string: %v", err)
		}
		if hasReservedRune(s) {
			return "", policyErr(path, "the value contains a reserved character (U+E000 or U+E001)")
		}
		return s, nil
	case c == 't' || c == 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", policyErr(path, "bad value: %v", err)
		}
		return strconv.FormatBool(b), nil
	case c == '-' || c >= '0' && c <= '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", policyErr(path, "bad number: %v", err)
		}
		return n.String(), nil
	}
	return "", policyErr(path, "a condition value must be a string, number or boolean")
}

// compile checks the values for the operator and pre-parses them.
func (c *Condition) compile(path string, variables bool) error {
	for i, v := range c.Values {
		vPath := path
		if len(c.Values) > 1 {
			vPath = fmt.Sprintf("%s[%d]", path, i)
		}
		if variables && strings.Contains(v, "${") {
			if c.info.kind != kindString {
				return policyErr(vPath, "policy variables are only allowed in String and Arn conditions")
			}
			if err := validateVariables(v); err != nil {
				return policyErr(vPath, "%v", err)
			}
			c.vars = true
			continue
		}
		switch c.info.kind {
		case kindNumeric:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return policyErr(vPath, "%s needs a number, not %q", c.Op, v)
			}
			c.nums = append(c.nums, f)
		case kindDate:
			t, err := parseDate(v)
			if err != nil {
				return policyErr(vPath, "%s needs a date (ISO 8601, e.g. 2026-01-31T00:00:00Z, or epoch seconds), not %q", c.Op, v)
			}
			c.times = append(c.times, t)
		case kindBool, kindNull:
			if v != "true" && v != "false" {
				return policyErr(vPath, "%s needs true or false, not %q", c.Op, v)
			}
		case kindIP:
			p, err := parsePrefix(v)
			if err != nil {
				return policyErr(vPath, "%s needs an IP address or CIDR block, not %q", c.Op, v)
			}
			c.nets = append(c.nets, p)
		}
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseDate accepts the ISO 8601 forms AWS documents and epoch seconds.
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// eval evaluates the condition against ctx.
func (c *Condition) eval(ctx Context) bool {
	vals, present := ctx[c.Key]
	present = present && len(vals) > 0
	if c.info.kind == kindNull {
		// Null: "true" means the key must be absent.
		return (c.Values[0] == "true") == !present
	}
	if !present {
		switch {
		case c.IfExists:
			return true
		case c.qual == qualForAllValues:
			return true
		case c.qual == qualForAnyValue:
			return false
		}
		return c.info.negated
	}
	match := func(v string) bool { // the operator's result for one context value
		m := c.positive(v, ctx)
		if c.info.negated {
			return !m
		}
		return m
	}
	all, any := true, false
	for _, v := range vals {
		if match(v) {
			any = true
		} else {
			all = false
		}
	}
	switch c.qual {
	case qualForAllValues:
		return all
	case qualForAnyValue:
		return any
	}
	if c.info.negated {
		return all
	}
	return any
}

// positive reports whether context value v matches any of the condition's values
// under the un-negated form of the operator.
func (c *Condition) positive(v string, ctx Context) bool {
	switch c.info.kind {
	case kindString:
		return c.matchString(v, ctx)
	case kindNumeric:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, want := range c.nums {
			if compareOp(c.Op, cmpFloat(f, want)) {
				return true
			}
		}
	case kindDate:
		t, err := parseDate(v)
		if err != nil {
			return false
		}
		for _, want := range c.times {
			if compareOp(c.Op, t.Compare(want)) {
				return true
			}
		}
	case kindBool:
		for _, want := range c.Values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	case kindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, n := range c.nets {
			if n.Contains(a) {
				return true
			}
		}
	}
	return false
}

func (c *Condition) matchString(v string, ctx Context) bool {
	like := c.Op == opStringLike || c.Op == opStringNotLike || c.Op == opArnLike || c.Op == opArnNotLike
	fold := c.Op == opStringEqualsIgnoreCase || c.Op == opStringNotEqualsIgnoreCase
	for _, want := range c.Values {
		if c.vars {
			var ok bool
			if want, ok = substitute(want, ctx, like); !ok {
				continue
			}
		}
		switch {
		case like:
			if matchWildcard(want, v) {
				return true
			}
		case fold:
			if strings.EqualFold(want, v) {
				return true
			}
		case want == v:
			return true
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareOp applies a Numeric* or Date* operator to a comparison result.
func compareOp(op string, cmp int) bool {
	switch strings.TrimPrefix(strings.TrimPrefix(op, "Numeric"), "Date") {
	case "Equals", "NotEquals": // NotEquals is negated by the caller
		return cmp == 0
	case "LessThan":
		return cmp < 0
	case "LessThanEquals":
		return cmp <= 0
	case "GreaterThan":
		return cmp > 0
	case "GreaterThanEquals":
		return cmp >= 0
	}
	return false
}
