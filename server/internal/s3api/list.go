package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// ListObjects (v1), ListObjectsV2, ListObjectVersions.

type objectEntry struct {
	Key               string   `xml:"Key"`
	LastModified      string   `xml:"LastModified"`
	ETag              string   `xml:"ETag"`
	ChecksumAlgorithm []string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
	Size              int64    `xml:"Size"`
	Owner             *owner   `xml:"Owner,omitempty"`
	StorageClass      string   `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listV1Result struct {
	XMLName        xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	Contents       []objectEntry  `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

type listV2Result struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	KeyCount              int            `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	Contents              []objectEntry  `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

// listParams are the parameters every listing shares.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	urlEncode         bool
}

func parseListParams(query url.Values) (listParams, error) {
	var p listParams
	var err error
	if p.urlEncode, err = parseEncodingType(query.Get("encoding-type")); err != nil {
		return p, err
	}
	if p.maxKeys, err = parseMaxKeys("max-keys", query.Get("max-keys"), maxListKeys, maxListKeys); err != nil {
		return p, err
	}
	p.prefix, p.delimiter = query.Get("prefix"), query.Get("delimiter")
	return p, nil
}

// enc applies encoding-type=url to a name in the response.
func (p listParams) enc(s string) string {
	if p.urlEncode && s != "" {
		return s3URLEncode(s)
	}
	return s
}

func (p listParams) encodingType() string {
	if p.urlEncode {
		return "url"
	}
	return ""
}

// list runs one listing page. max-keys=0 lists nothing (S3 answers an empty,
// untruncated page) but still fails for a missing bucket.
func (s *server) list(rq *request, p listParams, marker, versionMarker string, versions bool) (objects.ListResult, error) {
	ctx := rq.r.Context()
	if p.maxKeys == 0 {
		_, err := s.objects.HeadBucket(ctx, rq.bucket)
		return objects.ListResult{}, err
	}
	opts := objects.ListOptions{Prefix: p.prefix, Delimiter: p.delimiter, Marker: marker, VersionMarker: versionMarker, MaxKeys: p.maxKeys}
	if versions {
		return s.objects.ListObjectVersions(ctx, rq.bucket, opts)
	}
	return s.objects.ListObjects(ctx, rq.bucket, opts)
}

// contents converts listed objects to Contents entries (delete markers, which a
// listing of latest versions should not contain, are skipped).
func (p listParams) contents(objs []objects.ObjectInfo, o *owner) []objectEntry {
	out := make([]objectEntry, 0, len(objs))
	for _, oi := range objs {
		if oi.DeleteMarker {
			continue
		}
		out = append(out, objectEntry{
			Key:               p.enc(oi.Key),
			LastModified:      s3Time(oi.ModTime),
			ETag:              quoteETag(oi.ETag),
			ChecksumAlgorithm: checksumAlgorithmsOf(oi),
			ChecksumType:      checksumTypeOf(oi),
			Size:              oi.Size,
			Owner:             o,
			StorageClass:      storageClassOf(oi.Meta),
		})
	}
	return out
}

func (p listParams) prefixes(ps []string) []commonPrefix {
	out := make([]commonPrefix, len(ps))
	for i, s := range ps {
		out[i] = commonPrefix{Prefix: p.enc(s)}
	}
	return out
}

func checksumAlgorithmsOf(oi objects.ObjectInfo) []string {
	var algs []string
	for _, alg := range checksumAlgorithms() {
		if oi.Checksums[alg] != "" {
			algs = append(algs, alg)
		}
	}
	return algs
}

func checksumTypeOf(oi objects.ObjectInfo) string {
	if len(oi.Checksums) == 0 {
		return ""
	}
	return oi.ChecksumType
}

// nextMarker is where the next page starts: the layer's NextMarker, or else the
// greater of the last key and the last prefix returned.
func nextMarker(res objects.ListResult) string {
	if res.NextMarker != "" {
		return res.NextMarker
	}
	m := ""
	if n := len(res.Objects); n > 0 {
		m = res.Objects[n-1].Key
	}
	if n := len(res.Prefixes); n > 0 && res.Prefixes[n-1] > m {
		m = res.Prefixes[n-1]
	}
	return m
}

// Continuation tokens are opaque to clients: the base64 of the marker.
func encodeContinuationToken(marker string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(marker))
}

func decodeContinuationToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || tok == "" {
		return "", apiError(codeInvalidArgument, "The continuation token provided is incorrect.")
	}
	return string(b), nil
}

func (s *server) listObjectsV1(w http.ResponseWriter, rq *request) error {
	p, err := parseListParams(rq.query)
	if err != nil {
		return err
	}
	marker := rq.query.Get("marker")
	res, err := s.list(rq, p, marker, "", false)
	if err != nil {
		return err
	}
	o := ownerOf(rq)
	out := listV1Result{
		Name:           rq.bucket,
		Prefix:         p.enc(p.prefix),
		Marker:         p.enc(marker),
		MaxKeys:        p.maxKeys,
		Delimiter:      p.enc(p.delimiter),
		IsTruncated:    res.IsTruncated,
		EncodingType:   p.encodingType(),
		Contents:       p.contents(res.Objects, &o),
		CommonPrefixes: p.prefixes(res.Prefixes),
	}
	// S3 returns NextMarker only with a delimiter; without one, clients continue
	// from the last key.
	if res.IsTruncated && p.delimiter != "" {
		out.NextMarker = p.enc(nextMarker(res))
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *server) listObjectsV2(w http.ResponseWriter, rq *request) error {
	p, err := parseListParams(rq.query)
	if err != nil {
		return err
	}
	startAfter := rq.query.Get("start-after")
	marker := startAfter
	token := rq.query.Get("continuation-token")
	if rq.query.Has("continuation-token") {
		if marker, err = decodeContinuationToken(token); err != nil {
			return err
		}
	}
	res, err := s.list(rq, p, marker, "", false)
	if err != nil {
		return err
	}
	var o *owner
	if rq.query.Get("fetch-owner") == "true" {
		ow := ownerOf(rq)
		o = &ow
	}
	out := listV2Result{
		Name:              rq.bucket,
		Prefix:            p.enc(p.prefix),
		Delimiter:         p.enc(p.delimiter),
		MaxKeys:           p.maxKeys,
		IsTruncated:       res.IsTruncated,
		ContinuationToken: token,
		StartAfter:        p.enc(startAfter),
		EncodingType:      p.encodingType(),
		Contents:          p.contents(res.Objects, o),
		CommonPrefixes:    p.prefixes(res.Prefixes),
	}
	out.KeyCount = len(out.Contents) + len(out.CommonPrefixes)
	if res.IsTruncated {
		out.NextContinuationToken = encodeContinuationToken(nextMarker(res))
	}
	return writeXML(w, http.StatusOK, out)
}

type listVersionsResult struct {
	XMLName             xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListVersionsResult"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
	Entries             versionEntries `xml:"Version"`
	CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
}

// versionEntry is a Version or a DeleteMarker element.
type versionEntry struct {
	deleteMarker bool
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag,omitempty"`
	Size         *int64 `xml:"Size,omitempty"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass,omitempty"`
}

// versionEntries marshals versions and delete markers interleaved, in listing
// order, each under its own element name (two slices would group them).
type versionEntries []versionEntry

func (v versionEntries) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	for _, ent := range v {
		name := "Version"
		if ent.deleteMarker {
			name = "DeleteMarker"
		}
		if err := e.EncodeElement(ent, xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) listObjectVersions(w http.ResponseWriter, rq *request) error {
	p, err := parseListParams(rq.query)
	if err != nil {
		return err
	}
	keyMarker, versionMarker := rq.query.Get("key-marker"), rq.query.Get("version-id-marker")
	if versionMarker != "" && keyMarker == "" {
		return apiError(codeInvalidArgument, "A version-id marker cannot be specified without a key marker.")
	}
	res, err := s.list(rq, p, keyMarker, versionMarker, true)
	if err != nil {
		return err
	}
	o := ownerOf(rq)
	out := listVersionsResult{
		Name:            rq.bucket,
		Prefix:          p.enc(p.prefix),
		KeyMarker:       p.enc(keyMarker),
		VersionIDMarker: versionMarker,
		MaxKeys:         p.maxKeys,
		Delimiter:       p.enc(p.delimiter),
		IsTruncated:     res.IsTruncated,
		EncodingType:    p.encodingType(),
		Entries:         make(versionEntries, 0, len(res.Objects)),
		CommonPrefixes:  p.prefixes(res.Prefixes),
	}
	for _, oi := range res.Objects {
		ent := versionEntry{
			deleteMarker: oi.DeleteMarker,
			Key:          p.enc(oi.Key),
			VersionID:    oi.VersionID,
			IsLatest:     oi.IsLatest,
			LastModified: s3Time(oi.ModTime),
			Owner:        o,
		}
		if ent.VersionID == "" {
			ent.VersionID = objects.NullVersion
		}
		if !oi.DeleteMarker {
			size := oi.Size
			ent.ETag, ent.Size, ent.StorageClass = quoteETag(oi.ETag), &size, storageClassOf(oi.Meta)
		}
		out.Entries = append(out.Entries, ent)
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = res.NextMarker, res.NextVersionMarker
		if out.NextKeyMarker == "" {
			out.NextKeyMarker = nextMarker(res)
			if n := len(res.Objects); n > 0 && res.Objects[n-1].Key == out.NextKeyMarker {
				out.NextVersionIDMarker = res.Objects[n-1].VersionID
			}
		}
		out.NextKeyMarker = p.enc(out.NextKeyMarker)
	}
	return writeXML(w, http.StatusOK, out)
}
