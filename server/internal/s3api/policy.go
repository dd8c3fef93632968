package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/iam"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// Bucket policies, ACLs and the public access block:
// Get/Put/DeleteBucketPolicy, GetBucketPolicyStatus, Get/PutBucketAcl,
// Get/PutObjectAcl, Get/Put/DeletePublicAccessBlock.
//
// Bucket policies are validated strictly (iam.ParseBucketPolicy) and stored as
// written in objects.BucketConfig.Policy; the authorizer evaluates them. ACLs are
// always "private" (the owner has FULL_CONTROL; access is granted by policies):
// reading one answers that, and setting one is accepted only when it says the
// same — the canned ACL private, or a document that grants only FULL_CONTROL to
// canonical users. Anything else is AccessControlListNotSupported, as S3 answers
// for buckets whose ACLs are disabled.

// s3Error builds an *APIError for codes this file alone uses.
func s3Error(status int, code, message string) *APIError {
	return &APIError{Code: code, Status: status, Message: message}
}

func noSuchBucketPolicy() *APIError {
	return s3Error(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist.")
}

func (s *server) getBucketPolicy(w http.ResponseWriter, rq *request) error {
	cfg, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	if cfg.Policy == "" {
		return noSuchBucketPolicy()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(cfg.Policy)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(cfg.Policy))
	return nil
}

func (s *server) putBucketPolicy(w http.ResponseWriter, rq *request) error {
	body, err := readBody(rq, iam.MaxPolicySize)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == codeEntityTooLarge {
			return s3Error(http.StatusBadRequest, "MalformedPolicy", fmt.Sprintf("Policy exceeds the maximum allowed document size of %d bytes.", iam.MaxPolicySize))
		}
		return err
	}
	p, err := iam.ParseBucketPolicy(body, rq.bucket)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), iam.ErrMalformedPolicy.Error()+": ")
		return s3Error(http.StatusBadRequest, "MalformedPolicy", "Invalid policy: "+msg)
	}
	doc := string(bytes.TrimSpace(body))
	err = s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		if c.PublicAccessBlock != nil && c.PublicAccessBlock.BlockPublicPolicy && iam.IsPublic(p) {
			return apiError(codeAccessDenied, "The bucket's public access block (BlockPublicPolicy) refuses a policy that grants public access.")
		}
		c.Policy = doc
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) deleteBucketPolicy(w http.ResponseWriter, rq *request) error {
	err := s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.Policy = ""
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type policyStatus struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ PolicyStatus"`
	IsPublic bool     `xml:"IsPublic"`
}

func (s *server) getBucketPolicyStatus(w http.ResponseWriter, rq *request) error {
	cfg, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	if cfg.Policy == "" {
		return noSuchBucketPolicy()
	}
	p, err := iam.ParseBucketPolicy([]byte(cfg.Policy), rq.bucket)
	return writeXML(w, http.StatusOK, policyStatus{IsPublic: err == nil && iam.IsPublic(p)})
}

// aclOut is the ACL document Cairn answers with.
type aclOut struct {
	XMLName xml.Name   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   owner      `xml:"Owner"`
	Grants  []grantOut `xml:"AccessControlList>Grant"`
}

type grantOut struct {
	Grantee    granteeOut `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type granteeOut struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// aclIn is an ACL document a client sends (any namespace).
type aclIn struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Grants  []struct {
		Grantee struct {
			Type  string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// privateACL is the ACL of every bucket and object: the owner has FULL_CONTROL.
func privateACL(rq *request) aclOut {
	o := ownerOf(rq)
	return aclOut{Owner: o, Grants: []grantOut{{
		Grantee:    granteeOut{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: o.ID, DisplayName: o.DisplayName},
		Permission: "FULL_CONTROL",
	}}}
}

func aclNotSupported(what string) *APIError {
	return s3Error(http.StatusBadRequest, "AccessControlListNotSupported",
		"The bucket does not allow ACLs: Cairn grants access with bucket and IAM policies and accepts only the canned ACL private ("+what+").")
}

// checkPrivateACL accepts a PutBucketAcl/PutObjectAcl request only when it asks
// for the private ACL.
func checkPrivateACL(rq *request) error {
	h := rq.r.Header
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			return aclNotSupported(strings.ToLower(name) + " grants access to others")
		}
	}
	body, err := readBody(rq, maxXMLBody)
	if err != nil {
		return err
	}
	canned := h.Get("X-Amz-Acl")
	hasBody := len(bytes.TrimSpace(body)) > 0
	switch {
	case canned != "" && hasBody:
		return apiError(codeInvalidRequest, "Specify either the x-amz-acl header or an AccessControlPolicy body, not both.")
	case canned != "":
		if canned != "private" {
			return aclNotSupported("the canned ACL " + strconv.Quote(canned) + " was requested")
		}
		return nil
	case !hasBody:
		return apiError(codeInvalidRequest, "The request needs the x-amz-acl header or an AccessControlPolicy body.")
	}
	var acl aclIn
	if err := unmarshalXML(body, &acl); err != nil {
		return err
	}
	if len(acl.Grants) == 0 {
		return aclNotSupported("an ACL without grants")
	}
	for _, g := range acl.Grants {
		if g.Grantee.Type != "CanonicalUser" || g.Permission != "FULL_CONTROL" || g.Grantee.URI != "" || g.Grantee.Email != "" {
			return aclNotSupported("the ACL grants " + g.Permission + " to a " + g.Grantee.Type)
		}
	}
	return nil
}

func (s *server) getBucketAcl(w http.ResponseWriter, rq *request) error {
	if _, err := s.objects.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, privateACL(rq))
}

func (s *server) putBucketAcl(w http.ResponseWriter, rq *request) error {
	if _, err := s.objects.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	if err := checkPrivateACL(rq); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) getObjectAcl(w http.ResponseWriter, rq *request) error {
	if _, err := s.objects.StatObject(rq.r.Context(), rq.bucket, rq.key, objects.GetOptions{VersionID: rq.query.Get("versionId")}); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, privateACL(rq))
}

func (s *server) putObjectAcl(w http.ResponseWriter, rq *request) error {
	if _, err := s.objects.StatObject(rq.r.Context(), rq.bucket, rq.key, objects.GetOptions{VersionID: rq.query.Get("versionId")}); err != nil {
		return err
	}
	if err := checkPrivateACL(rq); err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// publicAccessBlockConfiguration is the PublicAccessBlock XML document.
type publicAccessBlockConfiguration struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

type publicAccessBlockOut struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ PublicAccessBlockConfiguration"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

func (s *server) getPublicAccessBlock(w http.ResponseWriter, rq *request) error {
	cfg, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	p := cfg.PublicAccessBlock
	if p == nil {
		return s3Error(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found.")
	}
	return writeXML(w, http.StatusOK, publicAccessBlockOut{BlockPublicAcls: p.BlockPublicAcls,
		IgnorePublicAcls: p.IgnorePublicAcls, BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets})
}

func (s *server) putPublicAccessBlock(w http.ResponseWriter, rq *request) error {
	var in publicAccessBlockConfiguration
	if err := decodeXML(rq, maxXMLBody, &in); err != nil {
		return err
	}
	err := s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.PublicAccessBlock = &objects.PublicAccessBlock{BlockPublicAcls: in.BlockPublicAcls,
			IgnorePublicAcls: in.IgnorePublicAcls, BlockPublicPolicy: in.BlockPublicPolicy, RestrictPublicBuckets: in.RestrictPublicBuckets}
		return nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) deletePublicAccessBlock(w http.ResponseWriter, rq *request) error {
	err := s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.PublicAccessBlock = nil
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
