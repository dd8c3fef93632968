package s3api

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strconv"
)

// Listing responses are the largest XML documents the server writes (up to
// 1,000 entries each) and listing is the path where XML encoding costs most, so
// ListObjects v1 and v2 results are written by hand rather than by reflection.
// The output is byte-for-byte what xml.Marshal writes (list_xml_test.go checks).

// xmlAppender is a response that writes its own XML.
type xmlAppender interface {
	appendXML(b []byte) []byte
}

var (
	_ xmlAppender = listV1Result{}
	_ xmlAppender = listV2Result{}
)

func appendElem(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendEscaped(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendElemOmit(b []byte, name, text string) []byte {
	if text == "" {
		return b
	}
	return appendElem(b, name, text)
}

func appendElemInt(b []byte, name string, v int64) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = strconv.AppendInt(b, v, 10)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendElemBool(b []byte, name string, v bool) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = strconv.AppendBool(b, v)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendEscaped escapes text as encoding/xml does: ASCII here, anything else
// (control characters, non-ASCII, invalid UTF-8) through xml.EscapeText.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			var buf bytes.Buffer
			xml.EscapeText(&buf, []byte(s))
			return append(b, buf.Bytes()...)
		}
	}
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

func (e *objectEntry) appendXML(b []byte) []byte {
	b = append(b, "<Contents>"...)
	b = appendElem(b, "Key", e.Key)
	b = appendElem(b, "LastModified", e.LastModified)
	b = appendElem(b, "ETag", e.ETag)
	for _, a := range e.ChecksumAlgorithm {
		b = appendElemOmit(b, "ChecksumAlgorithm", a) // omitempty applies per item
	}
	b = appendElemOmit(b, "ChecksumType", e.ChecksumType)
	b = appendElemInt(b, "Size", e.Size)
	if e.Owner != nil {
		b = append(b, "<Owner>"...)
		b = appendElem(b, "ID", e.Owner.ID)
		b = appendElem(b, "DisplayName", e.Owner.DisplayName)
		b = append(b, "</Owner>"...)
	}
	b = appendElem(b, "StorageClass", e.StorageClass)
	return append(b, "</Contents>"...)
}

func appendEntries(b []byte, contents []objectEntry, prefixes []commonPrefix) []byte {
	b = slices.Grow(b, 320*len(contents)+96*len(prefixes)+512)
	for i := range contents {
		b = contents[i].appendXML(b)
	}
	for _, p := range prefixes {
		b = append(b, "<CommonPrefixes>"...)
		b = appendElem(b, "Prefix", p.Prefix)
		b = append(b, "</CommonPrefixes>"...)
	}
	return b
}

func (r listV1Result) appendXML(b []byte) []byte {
	b = append(b, `<ListBucketResult xmlns="`+s3NS+`">`...)
	b = appendElem(b, "Name", r.Name)
	b = appendElem(b, "Prefix", r.Prefix)
	b = appendElem(b, "Marker", r.Marker)
	b = appendElemOmit(b, "NextMarker", r.NextMarker)
	b = appendElemInt(b, "MaxKeys", int64(r.MaxKeys))
	b = appendElemOmit(b, "Delimiter", r.Delimiter)
	b = appendElemBool(b, "IsTruncated", r.IsTruncated)
	b = appendElemOmit(b, "EncodingType", r.EncodingType)
	b = appendEntries(b, r.Contents, r.CommonPrefixes)
	return append(b, "</ListBucketResult>"...)
}

func (r listV2Result) appendXML(b []byte) []byte {
	b = append(b, `<ListBucketResult xmlns="`+s3NS+`">`...)
	b = appendElem(b, "Name", r.Name)
	b = appendElem(b, "Prefix", r.Prefix)
	b = appendElemOmit(b, "Delimiter", r.Delimiter)
	b = appendElemInt(b, "MaxKeys", int64(r.MaxKeys))
	b = appendElemInt(b, "KeyCount", int64(r.KeyCount))
	b = appendElemBool(b, "IsTruncated", r.IsTruncated)
	b = appendElemOmit(b, "ContinuationToken", r.ContinuationToken)
	b = appendElemOmit(b, "NextContinuationToken", r.NextContinuationToken)
	b = appendElemOmit(b, "StartAfter", r.StartAfter)
	b = appendElemOmit(b, "EncodingType", r.EncodingType)
	b = appendEntries(b, r.Contents, r.CommonPrefixes)
	return append(b, "</ListBucketResult>"...)
}
