package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

type listBucketsResult struct {
	XMLName           xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner             owner         `xml:"Owner"`
	Buckets           []bucketEntry `xml:"Buckets>Bucket"`
	ContinuationToken string        `xml:"ContinuationToken,omitempty"`
	Prefix            string        `xml:"Prefix,omitempty"`
}

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

// listBuckets lists all buckets. It supports the newer prefix, max-buckets and
// continuation-token parameters; the token is the base64 of the last name returned.
func (s *server) listBuckets(w http.ResponseWriter, rq *request) error {
	prefix := rq.query.Get("prefix")
	limit, err := parseMaxKeys("max-buckets", rq.query.Get("max-buckets"), 10000, 10000)
	if err != nil {
		return err
	}
	after := ""
	if tok := rq.query.Get("continuation-token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return apiError(codeInvalidArgument, "The continuation token provided is incorrect.")
		}
		after = string(b)
	}
	buckets, err := s.objects.ListBuckets(rq.r.Context())
	if err != nil {
		return err
	}
	slices.SortFunc(buckets, func(a, b objects.BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	res := listBucketsResult{Owner: ownerOf(rq), Prefix: prefix, Buckets: []bucketEntry{}}
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= after {
			continue
		}
		if len(res.Buckets) == limit {
			res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Buckets[len(res.Buckets)-1].Name))
			break
		}
		res.Buckets = append(res.Buckets, bucketEntry{Name: b.Name, CreationDate: s3Time(b.Created), BucketRegion: s.region})
	}
	return writeXML(w, http.StatusOK, res)
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

// createBucket creates a bucket. The optional body names a LocationConstraint that
// must be this server's region; x-amz-bucket-object-lock-enabled: true records
// object lock and turns versioning on, as S3 does.
func (s *server) createBucket(w http.ResponseWriter, rq *request) error {
	body, err := readBody(rq, maxXMLBody)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		var cfg createBucketConfiguration
		if err := unmarshalXML(body, &cfg); err != nil {
			return err
		}
		if lc := cfg.LocationConstraint; lc != "" && lc != s.region {
			return apiError(codeIllegalLocation, "The "+lc+" location constraint is incompatible for the region specific endpoint this request was sent to.")
		}
	}
	var cfg objects.BucketConfig
	switch v := strings.ToLower(rq.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled")); v {
	case "", "false":
	case "true":
		cfg.ObjectLock = true
		cfg.Versioning = objects.VersioningEnabled
	default:
		return apiError(codeInvalidArgument, "x-amz-bucket-object-lock-enabled must be true or false.")
	}
	if err := s.objects.MakeBucket(rq.r.Context(), rq.bucket, cfg); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+rq.bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) headBucket(w http.ResponseWriter, rq *request) error {
	if _, err := s.objects.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", s.region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) deleteBucket(w http.ResponseWriter, rq *request) error {
	if err := s.objects.DeleteBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

// getBucketLocation returns the region; us-east-1 is the empty constraint, as in S3.
func (s *server) getBucketLocation(w http.ResponseWriter, rq *request) error {
	if _, err := s.objects.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	region := s.region
	if region == "us-east-1" {
		region = ""
	}
	return writeXML(w, http.StatusOK, locationConstraint{Region: region})
}
