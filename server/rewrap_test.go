package server_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
	"github.com/cairn-io/cairn/server/servertest"
)

// Rotating a KMS key re-seals the data keys of the objects it sealed (the
// metadata changes, the data does not), and the objects still read back.
func TestKeyRotationRewrapsObjectKeys(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{KMS: server.KMSConfig{MasterKey: bytes.Repeat([]byte{7}, 32)}})
	c := srv.Client()
	ctx := context.Background()
	mustBucket(t, c, "vault")
	data := map[string][]byte{}
	for _, k := range []string{"a", "b/c", "d"} {
		data[k] = payload(int64(len(k)), 50_000)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vault"), Key: aws.String(k), Body: bytes.NewReader(data[k]),
			ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
			t.Fatal(err)
		}
	}
	sealed := func(k string) string {
		oi, err := srv.Server.Objects().StatObject(ctx, "vault", k, objects.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return oi.Internal[sse.MetaKMSDataKey]
	}
	before := map[string]string{}
	for k := range data {
		before[k] = sealed(k)
		if before[k] == "" {
			t.Fatalf("%s has no sealed data key", k)
		}
	}
	ac, _ := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	keys, err := ac.ListKMSKeys(ctx)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if _, err := ac.RotateKMSKey(ctx, keys[0].Name); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := srv.Server.Rewrap()
		if !st.Running && st.Rewrapped+st.Failed >= int64(len(data)) {
			if st.Failed != 0 {
				t.Fatalf("re-wrap failures: %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-wrap did not finish: %+v", srv.Server.Rewrap())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for k, want := range data {
		if sealed(k) == before[k] {
			t.Fatalf("%s: sealed key unchanged after rotation", k)
		}
		if got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("vault"), Key: aws.String(k)}); !bytes.Equal(got, want) {
			t.Fatalf("%s differs after re-wrap", k)
		}
	}
}
