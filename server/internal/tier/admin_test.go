package tier_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// TestAdminTiers configures tiers of every type through the admin API of a real
// server: each is probed before it is stored, credentials are sealed on the
// drives and never returned, lifecycle rules may name them, and a tier in use
// cannot be removed.
func TestAdminTiers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and remote-store peers; skipped with -short")
	}
	ctx := context.Background()
	srv := servertest.New(t, servertest.Options{Drives: 4})
	ac, err := adminapi.New(srv.URL, adminapi.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, start := range []func(*testing.T) *peer{cairnPeer, gcsPeer, azurePeer} {
		p := start(t)
		c := p.cfg
		req := adminapi.AddTierRequest{
			Tier: adminapi.Tier{Name: c.Name, Type: string(c.Type), Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix},
			Credentials: adminapi.TierCredentials{
				AccessKey: c.Credentials.AccessKey, SecretKey: c.Credentials.SecretKey,
				AccountName: c.Credentials.AccountName, AccountKey: c.Credentials.AccountKey,
			},
		}
		if _, err := ac.AddTier(ctx, req); err != nil {
			t.Fatalf("AddTier %s: %v", c.Name, err)
		}
		if s := c.Credentials.SecretKey + c.Credentials.AccountKey; s != "" {
			secrets = append(secrets, s)
		}
		if c.Type == "s3" {
			// Wrong credentials fail the probe: nothing is stored.
			bad := req
			bad.Name = "BADKEY"
			bad.Credentials.SecretKey = "not-the-secret"
			if _, err := ac.AddTier(ctx, bad); code(err) != adminapi.CodeTierUnusable {
				t.Fatalf("AddTier with a wrong secret: %v", err)
			}
			if _, err := ac.UpdateTierCredentials(ctx, c.Name, bad.Credentials); code(err) != adminapi.CodeTierUnusable {
				t.Fatalf("UpdateTierCredentials with a wrong secret: %v", err)
			}
			good := req.Credentials
			if _, err := ac.UpdateTierCredentials(ctx, c.Name, good); err != nil {
				t.Fatalf("UpdateTierCredentials: %v", err)
			}
		}
	}
	if _, err := ac.AddTier(ctx, adminapi.AddTierRequest{Tier: adminapi.Tier{Name: "lower", Type: "s3", Bucket: "b"}}); code(err) != adminapi.CodeInvalidConfig {
		t.Fatalf("AddTier with a bad name: %v", err)
	}
	tiers, err := ac.ListTiers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tr := range tiers {
		names = append(names, tr.Name)
	}
	if strings.Join(names, ",") != "AZURE,CAIRN,GCS" {
		t.Fatalf("ListTiers = %v", names)
	}
	if got, err := ac.GetTier(ctx, "CAIRN"); err != nil || got.Type != "s3" || got.Prefix != "cold/" {
		t.Fatalf("GetTier = %+v, %v", got, err)
	}
	if _, err := ac.GetTier(ctx, "NOPE"); code(err) != adminapi.CodeNoSuchTier {
		t.Fatalf("GetTier of an unknown tier: %v", err)
	}
	// No secret is stored in the clear on any drive.
	for _, d := range srv.Drives {
		filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(path)
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a tier secret in the clear", path)
				}
			}
			return nil
		})
	}

	// Lifecycle rules may name the tiers; unknown names are refused.
	s3c := srv.Client()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("warm")}); err != nil {
		t.Fatal(err)
	}
	putRule := func(class string) error {
		_, err := s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
			Bucket: aws.String("warm"),
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
				ID: aws.String("cold"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
				Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClass(class)}},
			}}},
		})
		return err
	}
	if err := putRule("GCS"); err != nil {
		t.Fatalf("a rule naming a configured tier: %v", err)
	}
	var ae smithy.APIError
	if err := putRule("GLACIER"); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidStorageClass" {
		t.Fatalf("a rule naming an unknown tier: %v", err)
	}
	if err := ac.RemoveTier(ctx, "GCS"); code(err) != adminapi.CodeTierInUse {
		t.Fatalf("RemoveTier of a tier in use: %v", err)
	}
	if _, err := s3c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String("warm")}); err != nil {
		t.Fatal(err)
	}
	if err := ac.RemoveTier(ctx, "GCS"); err != nil {
		t.Fatalf("RemoveTier: %v", err)
	}
	if _, err := ac.GetTier(ctx, "GCS"); code(err) != adminapi.CodeNoSuchTier {
		t.Fatalf("GetTier after RemoveTier: %v", err)
	}
	// A restarted server still has the others, credentials and all.
	srv.Close()
	again := servertest.New(t, servertest.Options{Drives: 4, Dir: filepath.Dir(srv.Drives[0])})
	tr, err := again.Server.Tiers().Tier(ctx, "AZURE")
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Put(ctx, "after-restart", strings.NewReader("x"), 1); err != nil {
		t.Fatalf("Put through a tier loaded after a restart: %v", err)
	}
}

// code is the admin API error code of err ("" if none).
func code(err error) string {
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}
