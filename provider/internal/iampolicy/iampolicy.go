// Package iampolicy parses AWS IAM policy documents (identity and bucket policies)
// and decides whether two documents mean the same thing to IAM.
//
// Two documents are equivalent when they differ only in ways IAM ignores: JSON
// formatting, key order, the order of statements and of values inside a list, a
// single string versus a one-element list, duplicate values, the case of action names
// and condition keys, and "Principal": "*" versus {"AWS": "*"}. Everything else
// (Sid, Effect, resources, principal identifiers, condition operators and values) is
// compared exactly.
//
// The Terraform provider uses this so that a reformatted or reordered policy never
// shows a diff, and Validate so that a malformed policy fails at plan time with a
// message that names the statement and the key. The package has no dependencies
// beyond the standard library.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every error Parse returns for a document that is JSON but
// not a valid policy.
var ErrInvalid = errors.New("iampolicy: invalid policy")

// Document is a parsed, normalized policy document.
type Document struct {
	Version    string      `json:"Version,omitempty"`
	ID         string      `json:"Id,omitempty"`
	Statements []Statement `json:"Statement"`
}

// Statement is one normalized statement. Lists are sorted and free of duplicates;
// action names and condition keys are lower case.
type Statement struct {
	Sid          string                         `json:"Sid,omitempty"`
	Effect       string                         `json:"Effect"`
	Principal    map[string][]string            `json:"Principal,omitempty"`
	NotPrincipal map[string][]string            `json:"NotPrincipal,omitempty"`
	Action       []string                       `json:"Action,omitempty"`
	NotAction    []string                       `json:"NotAction,omitempty"`
	Resource     []string                       `json:"Resource,omitempty"`
	NotResource  []string                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string][]string `json:"Condition,omitempty"`
}

// Parse decodes and validates a policy document and returns it normalized. A syntax
// error is returned as is (*json.SyntaxError and friends); a structural problem wraps
// ErrInvalid and names the statement and key at fault.
func Parse(b []byte) (*Document, error) {
	var val any
	if err := decodeStrict(b, &val); err != nil {
		return nil, fmt.Errorf("iampolicy: not valid JSON: %w", err)
	}
	if _, ok := val.(map[string]any); !ok {
		return nil, invalid("the policy must be a JSON object")
	}
	var top map[string]json.RawMessage
	if err := decodeStrict(b, &top); err != nil {
		return nil, fmt.Errorf("iampolicy: not valid JSON: %w", err)
	}
	d := &Document{}
	var stmts []json.RawMessage
	for k, v := range top {
		switch k {
		case "Version":
			if err := decodeStrict(v, &d.Version); err != nil || isNull(v) {
				return nil, invalid("Version must be a string")
			}
			if d.Version != "2012-10-17" && d.Version != "2008-10-17" {
				return nil, invalid("Version must be \"2012-10-17\" or \"2008-10-17\", got %q", d.Version)
			}
		case "Id":
			if err := decodeStrict(v, &d.ID); err != nil || isNull(v) {
				return nil, invalid("Id must be a string")
			}
		case "Statement":
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] == '{' {
				stmts = []json.RawMessage{v}
			} else if err := decodeStrict(v, &stmts); err != nil {
				return nil, invalid("Statement must be an object or a list of objects")
			}
		default:
			return nil, invalid("unknown top-level key %q (expected Version, Id, Statement)", k)
		}
	}
	if len(stmts) == 0 {
		return nil, invalid("the policy has no Statement")
	}
	for i, raw := range stmts {
		s, err := parseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: Statement[%d]: %s", ErrInvalid, i, err.msg)
		}
		d.Statements = append(d.Statements, s)
	}
	d.Statements = sortStatements(d.Statements)
	return d, nil
}

// Validate reports whether b is a valid policy document.
func Validate(b []byte) error {
	_, err := Parse(b)
	return err
}

// Normalize returns the canonical JSON of a valid document: equivalent documents
// normalize to identical bytes.
func Normalize(b []byte) ([]byte, error) {
	d, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return json.Marshal(d)
}

// Equivalent reports whether two documents grant the same thing. Either document
// failing to parse is an error.
func Equivalent(a, b []byte) (bool, error) {
	na, err := Normalize(a)
	if err != nil {
		return false, err
	}
	nb, err := Normalize(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(na, nb), nil
}

type parseError struct{ msg string }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("iampolicy: trailing data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("iampolicy: trailing data after the JSON value")
	}
	return nil
}

func parseStatement(raw json.RawMessage) (Statement, *parseError) {
	var m map[string]json.RawMessage
	if err := decodeStrict(raw, &m); err != nil || m == nil {
		return Statement{}, &parseError{"a statement must be a JSON object"}
	}
	var s Statement
	var err error
	for k, v := range m {
		switch k {
		case "Sid":
			if isNull(v) || decodeStrict(v, &s.Sid) != nil {
				return s, &parseError{"Sid must be a string"}
			}
		case "Effect":
			if isNull(v) || decodeStrict(v, &s.Effect) != nil || (s.Effect != "Allow" && s.Effect != "Deny") {
				return s, &parseError{fmt.Sprintf("Effect must be \"Allow\" or \"Deny\", got %s", v)}
			}
		case "Principal", "NotPrincipal":
			p, perr := parsePrincipal(v)
			if perr != nil {
				return s, &parseError{k + ": " + perr.Error()}
			}
			if k == "Principal" {
				s.Principal = p
			} else {
				s.NotPrincipal = p
			}
		case "Action", "NotAction":
			var l []string
			if l, err = stringList(v); err != nil {
				return s, &parseError{k + " must be a string or a non-empty list of strings"}
			}
			for i := range l {
				l[i] = strings.ToLower(l[i])
			}
			if k == "Action" {
				s.Action = set(l)
			} else {
				s.NotAction = set(l)
			}
		case "Resource", "NotResource":
			var l []string
			if l, err = stringList(v); err != nil {
				return s, &parseError{k + " must be a string or a non-empty list of strings"}
			}
			if k == "Resource" {
				s.Resource = set(l)
			} else {
				s.NotResource = set(l)
			}
		case "Condition":
			c, cerr := parseCondition(v)
			if cerr != nil {
				return s, &parseError{"Condition: " + cerr.Error()}
			}
			s.Condition = c
		default:
			return s, &parseError{fmt.Sprintf("unknown key %q (expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)", k)}
		}
	}
	switch {
	case s.Effect == "":
		return s, &parseError{"Effect is required"}
	case s.Action == nil && s.NotAction == nil:
		return s, &parseError{"one of Action or NotAction is required"}
	case s.Action != nil && s.NotAction != nil:
		return s, &parseError{"Action and NotAction cannot both be set"}
	case s.Resource != nil && s.NotResource != nil:
		return s, &parseError{"Resource and NotResource cannot both be set"}
	case s.Principal != nil && s.NotPrincipal != nil:
		return s, &parseError{"Principal and NotPrincipal cannot both be set"}
	}
	return s, nil
}

// parsePrincipal accepts "*" (the same as {"AWS": "*"}) or a map from principal
// type to one identifier or a list of them.
func parsePrincipal(v json.RawMessage) (map[string][]string, error) {
	var star string
	if !isNull(v) && decodeStrict(v, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", got %q", star)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	var m map[string]json.RawMessage
	if err := decodeStrict(v, &m); err != nil || len(m) == 0 {
		return nil, errors.New("must be \"*\" or an object like {\"AWS\": [\"arn:aws:iam::123456789012:root\"]}")
	}
	out := make(map[string][]string, len(m))
	for typ, raw := range m {
		l, err := stringList(raw)
		if err != nil || len(l) == 0 {
			return nil, fmt.Errorf("%s must be a string or a non-empty list of strings", typ)
		}
		out[typ] = set(l)
	}
	return out, nil
}

// parseCondition accepts {"Operator": {"key": value-or-list}}; values may be
// strings, numbers or booleans and are compared as strings.
func parseCondition(v json.RawMessage) (map[string]map[string][]string, error) {
	var ops map[string]map[string]json.RawMessage
	if err := decodeStrict(v, &ops); err != nil {
		return nil, errors.New(`must look like {"StringEquals": {"aws:username": ["alice"]}}`)
	}
	out := make(map[string]map[string][]string, len(ops))
	for op, keys := range ops {
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s has no condition keys", op)
		}
		m := out[op]
		if m == nil {
			m = make(map[string][]string, len(keys))
			out[op] = m
		}
		for key, raw := range keys {
			l, err := scalarList(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %s must be a string, number, boolean or a non-empty list of them", op, key)
			}
			lk := strings.ToLower(key)
			m[lk] = set(append(m[lk], l...))
		}
	}
	return out, nil
}

func stringList(v json.RawMessage) ([]string, error) {
	if isNull(v) {
		return nil, errors.New("null")
	}
	var s string
	if decodeStrict(v, &s) == nil {
		return []string{s}, nil
	}
	var l []string
	if err := decodeStrict(v, &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, errors.New("empty list")
	}
	return l, nil
}

func scalarList(v json.RawMessage) ([]string, error) {
	if isNull(v) {
		return nil, errors.New("null")
	}
	var vals []any
	if err := decodeStrict(v, &vals); err != nil {
		var one any
		if err := decodeStrict(v, &one); err != nil {
			return nil, err
		}
		vals = []any{one}
	}
	if len(vals) == 0 {
		return nil, errors.New("empty list")
	}
	out := make([]string, 0, len(vals))
	for _, x := range vals {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, fmt.Sprint(x))
		case json.Number:
			out = append(out, x.String())
		default:
			return nil, errors.New("not a scalar")
		}
	}
	return out, nil
}

// set sorts l and removes duplicates.
func set(l []string) []string {
	if l == nil {
		return nil
	}
	slices.Sort(l)
	return slices.Compact(l)
}

// sortStatements orders statements by their canonical JSON and drops exact
// duplicates (a repeated statement grants nothing more).
func sortStatements(st []Statement) []Statement {
	type keyed struct {
		key string
		s   Statement
	}
	ks := make([]keyed, len(st))
	for i, s := range st {
		b, _ := json.Marshal(s) // maps marshal with sorted keys
		ks[i] = keyed{string(b), s}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := make([]Statement, 0, len(ks))
	for i, k := range ks {
		if i > 0 && k.key == ks[i-1].key {
			continue
		}
		out = append(out, k.s)
	}
	return out
}
