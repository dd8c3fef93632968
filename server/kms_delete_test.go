package server_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// DELETE /kms/keys/{key}: refused for the default key and for a key a bucket's
// default encryption names; otherwise the key is gone, and its name can be
// created again.
func TestDeleteKMSKey(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{KMS: server.KMSConfig{MasterKey: bytes.Repeat([]byte{7}, 32)}})
	ctx := context.Background()
	c := srv.Client()
	ac, _ := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	conflict := func(err error, want string) {
		t.Helper()
		var e *admin.Error
		if !admin.IsConflict(err) || !errors.As(err, &e) || e.Code != admin.CodeDeleteConflict || !strings.Contains(e.Message, want) {
			t.Fatalf("DeleteKMSKey = %v, want a 409 DeleteConflict saying %q", err, want)
		}
	}

	conflict(ac.DeleteKMSKey(ctx, "cairn-default"), "is the default key")

	if _, err := ac.CreateKMSKey(ctx, "tenant"); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, c, "enc")
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String("enc"),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("tenant")},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	conflict(ac.DeleteKMSKey(ctx, "tenant"), "bucket enc's default encryption")
	if _, err := ac.KMSKeyStatus(ctx, "tenant"); err != nil {
		t.Fatalf("a refused delete removed the key: %v", err)
	}

	if _, err := c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("enc")}); err != nil {
		t.Fatal(err)
	}
	if err := ac.DeleteKMSKey(ctx, "tenant"); err != nil {
		t.Fatalf("DeleteKMSKey: %v", err)
	}
	if _, err := ac.KMSKeyStatus(ctx, "tenant"); !admin.IsNotFound(err) {
		t.Fatalf("KMSKeyStatus after delete = %v, want 404", err)
	}
	if err := ac.DeleteKMSKey(ctx, "tenant"); !admin.IsNotFound(err) {
		t.Fatalf("deleting a deleted key = %v, want 404", err)
	}
	// New writes naming the key fail; the name can be used again.
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("tenant")})
	if err == nil {
		t.Fatal("PutObject with a deleted key succeeded")
	}
	if _, err := ac.CreateKMSKey(ctx, "tenant"); err != nil {
		t.Fatalf("re-creating a deleted key: %v", err)
	}
	keys, err := ac.ListKMSKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("ListKMSKeys = %+v, %v; want cairn-default and tenant", keys, err)
	}
}
