package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Strict JSON for policy documents. encoding/json matches field names without
// regard to case and keeps the last of duplicate keys; AWS policy grammar is
// case-sensitive and a duplicate key is an error. decodeObject reads an object
// key by key so both are caught and reported with their path.

// object is a decoded JSON object: its keys in document order and raw values.
type object struct {
	keys   []string
	fields map[string]json.RawMessage
}

// decodeObject decodes raw, which must be exactly one JSON object.
func decodeObject(raw json.RawMessage, path string) (object, error) {
	where := path
	if where == "" {
		where = "the document"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return object{}, policyErr(path, "not valid JSON: %v", jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return object{}, policyErr(path, "%s must be a JSON object", where)
	}
	obj := object{fields: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return object{}, policyErr(path, "not valid JSON: %v", jsonErr(err))
		}
		key, _ := tok.(string)
		if _, dup := obj.fields[key]; dup {
			return object{}, policyErr(path, "the key %q appears more than once", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return object{}, policyErr(path, "not valid JSON: %v", jsonErr(err))
		}
		obj.keys = append(obj.keys, key)
		obj.fields[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return object{}, policyErr(path, "not valid JSON: %v", jsonErr(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return object{}, policyErr(path, "unexpected data after the JSON object")
	}
	return obj, nil
}

// jsonErr makes a decoding error readable.
func jsonErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}

// checkKeys refuses keys of obj that are not in allowed, naming the closest
// allowed key when only the case differs.
func checkKeys(obj object, path string, allowed ...string) error {
	for _, k := range obj.keys {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if ok {
			continue
		}
		for _, a := range allowed {
			if strings.EqualFold(k, a) {
				return policyErr(path, "unknown element %q (did you mean %q? element names are case-sensitive)", k, a)
			}
		}
		return policyErr(path, "unknown element %q", k)
	}
	return nil
}

func trimJSON(raw json.RawMessage) json.RawMessage { return bytes.TrimSpace(raw) }

// stringOrList reads a JSON string or a non-empty array of strings.
func stringOrList(raw json.RawMessage, path string) ([]string, error) {
	raw = trimJSON(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, policyErr(path, "bad string: %v", err)
		}
		return []string{s}, nil
	}
	if len(raw) > 0 && raw[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return nil, policyErr(path, "not a JSON array of strings: %v", err)
		}
		if len(arr) == 0 {
			return nil, policyErr(path, "the list is empty")
		}
		out := make([]string, len(arr))
		for i, r := range arr {
			r = trimJSON(r)
			if len(r) == 0 || r[0] != '"' {
				return nil, policyErr(fmt.Sprintf("%s[%d]", path, i), "must be a string")
			}
			if err := json.Unmarshal(r, &out[i]); err != nil {
				return nil, policyErr(fmt.Sprintf("%s[%d]", path, i), "bad string: %v", err)
			}
		}
		return out, nil
	}
	return nil, policyErr(path, "must be a string or a list of strings")
}
