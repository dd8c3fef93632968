package s3api

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// s3NS is the namespace of S3's top-level response elements.
const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// writeXML writes v as an S3 XML response: the XML declaration, then v.
func writeXML(w http.ResponseWriter, status int, v any) error {
	var body []byte
	if a, ok := v.(xmlAppender); ok {
		buf := xmlBufs.Get().(*[]byte)
		body = a.appendXML((*buf)[:0])
		defer func() {
			if cap(body) <= maxPooledXML {
				*buf = body
				xmlBufs.Put(buf)
			}
		}()
	} else {
		var err error
		if body, err = xml.Marshal(v); err != nil {
			return fmt.Errorf("s3api: encode %T: %w", v, err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	// Write errors mean the client went away; there is no one left to tell.
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
	return nil
}

// xmlBufs hold the bodies of XML responses while they are written (a listing
// page is ~300 KB): reused, not allocated per response.
var xmlBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledXML = 1 << 20

// s3Time formats a timestamp as S3 does in XML: RFC 3339, UTC, milliseconds.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// httpTime formats a timestamp for Last-Modified and friends.
func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// readBody reads a small request body (an XML document) of at most limit bytes,
// verifying Content-MD5 and any x-amz-checksum-* header that came with it.
func readBody(rq *request, limit int64) ([]byte, error) {
	body, _, err := checksumBody(rq, rq.body)
	if err != nil {
		return nil, err
	}
	return readLimited(rq, body, limit)
}

// readBodyMD5 is readBody for requests whose x-amz-checksum-* headers describe
// something else than the body (CompleteMultipartUpload: the whole object): only
// Content-MD5 and a checksum trailer, which does describe the body, are verified.
func readBodyMD5(rq *request, limit int64) ([]byte, error) {
	h := rq.r.Header
	if h.Get("X-Amz-Trailer") != "" || h.Get("X-Amz-Content-Sha256") == sigv4.StreamingUnsignedPayloadTrailer {
		return readBody(rq, limit)
	}
	return readLimited(rq, rq.body, limit)
}

// readLimited reads body (at most limit bytes) and checks Content-MD5.
func readLimited(rq *request, body io.Reader, limit int64) ([]byte, error) {
	wantMD5, err := contentMD5(rq.r.Header)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, apiError(codeEntityTooLarge, fmt.Sprintf("The XML request body exceeds the limit of %d bytes.", limit))
	}
	if wantMD5 != nil {
		if sum := md5.Sum(b); !bytes.Equal(sum[:], wantMD5) {
			return nil, apiError(codeBadDigest, "")
		}
	}
	return b, nil
}

// decodeXML reads an XML request body of at most limit bytes into v. Anything that
// is not a well-formed document with v's root element is MalformedXML.
func decodeXML(rq *request, limit int64, v any) error {
	b, err := readBody(rq, limit)
	if err != nil {
		return err
	}
	return unmarshalXML(b, v)
}

// unmarshalXML decodes b into v, mapping every failure to MalformedXML.
func unmarshalXML(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return apiError(codeMalformedXML, "")
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return apiError(codeMalformedXML, "")
	}
	return nil
}

// owner is the Owner / Initiator element.
type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// ownerOf is the owner shown in listings. Cairn does not yet record bucket owners;
// it shows a stable id derived from the requester's access key.
func ownerOf(rq *request) owner {
	name := rq.accessKey()
	if name == "" {
		name = "anonymous"
	}
	sum := sha256.Sum256([]byte("cairn-owner/" + name))
	return owner{ID: hex.EncodeToString(sum[:]), DisplayName: name}
}

// s3URLEncode encodes a key for encoding-type=url responses: every byte except the
// unreserved characters and '/' is percent-encoded (so a space is %20 and a plus
// %2B, which both url.QueryUnescape and url.PathUnescape decode correctly).
func s3URLEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+8), s[:i]...)
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}
