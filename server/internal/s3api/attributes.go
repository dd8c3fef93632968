package s3api

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// GetObjectAttributes: an object's ETag, checksum, parts, storage class and size
// in one XML document, without its data.

// The attributes a client may ask for in x-amz-object-attributes.
const (
	attrETag         = "ETag"
	attrChecksum     = "Checksum"
	attrObjectParts  = "ObjectParts"
	attrStorageClass = "StorageClass"
	attrObjectSize   = "ObjectSize"
)

type objectAttributesResult struct {
	XMLName      xml.Name             `xml:"http://s3.amazonaws.com/doc/2006-03-01/ GetObjectAttributesResponse"`
	ETag         string               `xml:"ETag,omitempty"` // unquoted, as S3 sends it here
	Checksum     *attributesChecksum  `xml:"Checksum,omitempty"`
	ObjectParts  *attributesPartsPage `xml:"ObjectParts,omitempty"`
	StorageClass string               `xml:"StorageClass,omitempty"`
	ObjectSize   *int64               `xml:"ObjectSize,omitempty"`
}

type attributesChecksum struct {
	checksumXML
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type attributesPartsPage struct {
	PartsCount           int              `xml:"PartsCount"`
	PartNumberMarker     int              `xml:"PartNumberMarker"`
	NextPartNumberMarker int              `xml:"NextPartNumberMarker"`
	MaxParts             int              `xml:"MaxParts"`
	IsTruncated          bool             `xml:"IsTruncated"`
	Parts                []attributesPart `xml:"Part"`
}

type attributesPart struct {
	checksumXML
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
}

// objectAttributesOpts are the request's x-amz-object-attributes, x-amz-max-parts
// and x-amz-part-number-marker.
type objectAttributesOpts struct {
	attrs    map[string]bool
	maxParts int
	marker   int
}

func parseObjectAttributesOpts(h http.Header) (objectAttributesOpts, error) {
	o := objectAttributesOpts{attrs: make(map[string]bool), maxParts: maxListKeys}
	for _, v := range h.Values("X-Amz-Object-Attributes") {
		for _, a := range strings.Split(v, ",") {
			switch a = strings.TrimSpace(a); a {
			case "":
			case attrETag, attrChecksum, attrObjectParts, attrStorageClass, attrObjectSize:
				o.attrs[a] = true
			default:
				return o, apiError(codeInvalidArgument, "Invalid attribute name specified: "+a+".")
			}
		}
	}
	if len(o.attrs) == 0 {
		return o, apiError(codeInvalidArgument, "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty.")
	}
	var err error
	if o.maxParts, err = parseMaxKeys("x-amz-max-parts", h.Get("X-Amz-Max-Parts"), maxListKeys, maxListKeys); err != nil {
		return o, err
	}
	if v := h.Get("X-Amz-Part-Number-Marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxPartNumber {
			return o, apiError(codeInvalidArgument, "Part number marker must be an integer between 0 and 10000, inclusive.")
		}
		o.marker = n
	}
	return o, nil
}

func (s *server) getObjectAttributes(w http.ResponseWriter, rq *request) error {
	opts, err := parseObjectAttributesOpts(rq.r.Header)
	if err != nil {
		return err
	}
	versionID := rq.query.Get("versionId")
	info, err := s.objects.StatObject(rq.r.Context(), rq.bucket, rq.key, objects.GetOptions{VersionID: versionID})
	if err != nil {
		return deleteMarkerError(err, versionID)
	}
	dec, err := s.readEncryption(rq.r.Context(), rq, info, false, false)
	if err != nil {
		return err
	}
	if dec != nil {
		info = dec.plain(info) // plaintext part sizes
	}
	h := w.Header()
	h.Set("Last-Modified", httpTime(info.ModTime))
	setVersionHeader(h, info.VersionID)
	return writeXML(w, http.StatusOK, objectAttributes(info, opts))
}

// objectAttributes builds the response for the requested attributes. Parts are
// listed only for multipart objects, one page after the marker.
func objectAttributes(info objects.ObjectInfo, opts objectAttributesOpts) objectAttributesResult {
	var res objectAttributesResult
	if opts.attrs[attrETag] {
		res.ETag = info.ETag
	}
	if opts.attrs[attrChecksum] && len(info.Checksums) > 0 {
		// Here S3 sends a COMPOSITE value without its "-<parts>" suffix.
		sums := make(map[string]string, len(info.Checksums))
		for alg, v := range info.Checksums {
			sums[alg], _, _ = strings.Cut(v, "-")
		}
		res.Checksum = &attributesChecksum{checksumXML: checksumXMLOf(sums), ChecksumType: info.ChecksumType}
	}
	if opts.attrs[attrObjectParts] && info.PartCount > 0 {
		page := &attributesPartsPage{PartsCount: info.PartCount, PartNumberMarker: opts.marker, MaxParts: opts.maxParts, Parts: []attributesPart{}}
		for _, p := range info.Parts {
			if p.Number <= opts.marker {
				continue
			}
			if len(page.Parts) == opts.maxParts {
				page.IsTruncated = true
				break
			}
			page.Parts = append(page.Parts, attributesPart{checksumXML: checksumXMLOf(p.Checksums), PartNumber: p.Number, Size: p.Size})
			page.NextPartNumberMarker = p.Number
		}
		res.ObjectParts = page
	}
	if opts.attrs[attrStorageClass] {
		res.StorageClass = storageClassOf(info.Meta)
	}
	if opts.attrs[attrObjectSize] {
		size := info.Size
		res.ObjectSize = &size
	}
	return res
}
