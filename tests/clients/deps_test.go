package clients

// The minio-go functional tests are built from this module's go.mod and go.sum
// (minio_test.go): this import keeps minio-go and its checksums there.
import _ "github.com/minio/minio-go/v7"
