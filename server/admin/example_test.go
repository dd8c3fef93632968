package admin_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/cairn-io/cairn/server/admin"
)

// A user confined to their own folder of a bucket, with an access key that
// expires in 90 days.
func Example() {
	ctx := context.Background()
	c, err := admin.New("http://127.0.0.1:9000", admin.Options{AccessKey: "cairnadmin", SecretKey: "cairnadmin-dev-secret"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreatePolicy(ctx, "home-dirs", []byte(`{
	  "Version": "2012-10-17",
	  "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
	                 "Resource": "arn:aws:s3:::home/${aws:username}/*"}]
	}`))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateUser(ctx, admin.CreateUserRequest{Name: "alice", Policies: []string{"home-dirs"}}); err != nil {
		log.Fatal(err)
	}
	exp := time.Now().Add(90 * 24 * time.Hour)
	key, err := c.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{User: "alice", Expiration: &exp})
	if err != nil {
		log.Fatal(err)
	}
	// The secret is in key.SecretKey; the server never returns it again.
	fmt.Println("access key for alice:", key.AccessKey.AccessKey)
}
