package sse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// TestKMSAdminAPI: keys are created, listed, described and rotated through the
// admin API; objects sealed before a rotation still read, new ones use the new
// version.
func TestKMSAdminAPI(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	adm, err := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	k, err := adm.CreateKMSKey(ctx, "billing")
	if err != nil || k.Name != "billing" || k.Version != 1 || k.Backend != "builtin" {
		t.Fatalf("CreateKMSKey: %+v %v", k, err)
	}
	var ae *admin.Error
	if _, err := adm.CreateKMSKey(ctx, "billing"); !errors.As(err, &ae) || ae.StatusCode != 409 {
		t.Fatalf("second CreateKMSKey: %v", err)
	}
	keys, err := adm.ListKMSKeys(ctx)
	if err != nil || len(keys) != 3 { // cairn-default, team-a, billing
		t.Fatalf("ListKMSKeys: %+v %v", keys, err)
	}
	c := srv.Client()
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("adm")})
	put := func(key string) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("adm"), Key: aws.String(key), Body: bytes.NewReader([]byte("data of " + key)),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("billing")}); err != nil {
			t.Fatal(err)
		}
	}
	put("before")
	if k, err = adm.RotateKMSKey(ctx, "billing"); err != nil || k.Version != 2 {
		t.Fatalf("RotateKMSKey: %+v %v", k, err)
	}
	put("after")
	for _, key := range []string{"before", "after"} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("adm"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GET %s after rotation: %v", key, err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != "data of "+key {
			t.Fatalf("GET %s: %q", key, b)
		}
	}
	if k, err = adm.KMSKeyStatus(ctx, "billing"); err != nil || k.Version != 2 || !k.Enabled {
		t.Fatalf("KMSKeyStatus: %+v %v", k, err)
	}
	if _, err := adm.KMSKeyStatus(ctx, "nope"); !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Fatalf("KMSKeyStatus of a missing key: %v", err)
	}

	// Without a KMS the routes answer 501.
	bare := servertest.New(t, servertest.Options{})
	adm2, _ := admin.New(bare.URL, admin.Options{AccessKey: bare.AccessKey, SecretKey: bare.SecretKey})
	if _, err := adm2.ListKMSKeys(ctx); !errors.As(err, &ae) || ae.StatusCode != 501 {
		t.Fatalf("ListKMSKeys without a KMS: %v", err)
	}
}
