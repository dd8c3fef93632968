package e2e

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

const (
	// inlineLimit is the server's default inline limit (objects.Config.InlineLimit):
	// objects of at most this size live inside the metadata files.
	inlineLimit = 128 << 10
	// partSize is the part size of the multipart uploads the tests make.
	partSize = 7<<20 + 12345
	// opTimeout bounds a single S3 operation.
	opTimeout = 2 * time.Minute
)

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test against the cairn binary; skipped with -short")
	}
}

// newClient returns an S3 client for p without retries, so that every error the
// server answers reaches the test instead of being retried away.
func newClient(p *servertest.Process) *s3.Client {
	return p.Client(func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
}

// object is an object a test wrote: its content is content(seed, size).
type object struct {
	key       string
	size      int64
	seed      uint64
	sum       [32]byte
	multipart bool
}

func (o object) inline() bool { return o.size <= inlineLimit }

// content returns size pseudo-random bytes determined by seed (AES-CTR keystream:
// fast, and no two blocks of any object alike, so a shard from the wrong place or
// the wrong object cannot go unnoticed).
func content(seed uint64, size int64) []byte {
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:8], seed)
	copy(key[8:], "cairne2e")
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	b := make([]byte, size)
	cipher.NewCTR(blk, make([]byte, aes.BlockSize)).XORKeyStream(b, b)
	return b
}

// newObject makes the object key with content(seed, size) and records its hash.
func newObject(key string, seed uint64, size int64, multipart bool) (object, []byte) {
	data := content(seed, size)
	return object{key: key, size: size, seed: seed, sum: sha256.Sum256(data), multipart: multipart}, data
}

// put writes o (with data = content(o.seed, o.size)) by PutObject or, for
// o.multipart, by a multipart upload of partSize parts.
func put(ctx context.Context, c *s3.Client, bucket string, o object, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if !o.multipart {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(o.key),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(o.size),
		})
		return err
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(o.key)})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < o.size; n, off = n+1, off+partSize {
		end := min(off+partSize, o.size)
		r, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(o.key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(data[off:end]), ContentLength: aws.Int64(end - off),
		})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		parts = append(parts, types.CompletedPart{ETag: r.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(o.key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// putAll writes objs with the given number of concurrent workers.
func putAll(ctx context.Context, c *s3.Client, bucket string, objs []object, workers int) error {
	return forEach(len(objs), workers, func(i int) error {
		if err := put(ctx, c, bucket, objs[i], content(objs[i].seed, objs[i].size)); err != nil {
			return fmt.Errorf("PUT %s (%d bytes): %w", objs[i].key, objs[i].size, err)
		}
		return nil
	})
}

// get reads bucket/key and returns its size and SHA-256, with the error of the GET
// or of reading the body.
func get(ctx context.Context, c *s3.Client, bucket, key string) (int64, [32]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, [32]byte{}, err
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	var sum [32]byte
	h.Sum(sum[:0])
	if err != nil {
		return n, sum, fmt.Errorf("reading body after %d bytes: %w", n, err)
	}
	return n, sum, nil
}

// check reads o back and describes any difference; "" means identical.
func check(ctx context.Context, c *s3.Client, bucket string, o object) string {
	n, sum, err := get(ctx, c, bucket, o.key)
	switch {
	case err != nil:
		return fmt.Sprintf("GET %s (%d bytes): %v", o.key, o.size, err)
	case n != o.size:
		return fmt.Sprintf("GET %s: %d bytes, want %d", o.key, n, o.size)
	case sum != o.sum:
		return fmt.Sprintf("GET %s: SHA-256 %s, want %s (WRONG DATA)", o.key, short(sum), short(o.sum))
	}
	return ""
}

func short(sum [32]byte) string { return hex.EncodeToString(sum[:8]) }

// verifyAll reads every object back with 4 workers and fails the test for each one
// that is not byte-for-byte what was written. It logs the time taken under label.
func verifyAll(t *testing.T, ctx context.Context, c *s3.Client, bucket string, objs []object, label string) {
	t.Helper()
	start := time.Now()
	var mu sync.Mutex
	var bad []string
	forEach(len(objs), 4, func(i int) error {
		if msg := check(ctx, c, bucket, objs[i]); msg != "" {
			mu.Lock()
			bad = append(bad, msg)
			mu.Unlock()
		}
		return nil
	})
	sort.Strings(bad)
	for i, msg := range bad {
		if i == 20 {
			t.Errorf("%s: … and %d more", label, len(bad)-i)
			break
		}
		t.Errorf("%s: %s", label, msg)
	}
	d := time.Since(start)
	t.Logf("%s: read %d objects (%s) in %v (%.0f MiB/s), %d bad", label, len(objs), mib(totalSize(objs)), d.Round(time.Millisecond), float64(totalSize(objs))/(1<<20)/d.Seconds(), len(bad))
}

func totalSize(objs []object) int64 {
	var n int64
	for _, o := range objs {
		n += o.size
	}
	return n
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// forEach calls fn(0…n-1) on the given number of goroutines and returns the
// errors joined.
func forEach(n, workers int, fn func(i int) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// createBucket creates bucket or fails the test.
func createBucket(t *testing.T, ctx context.Context, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", bucket, err)
	}
}

// listKeys lists every key in bucket under prefix.
func listKeys(ctx context.Context, c *s3.Client, bucket, prefix string) ([]string, error) {
	var keys []string
	pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return keys, err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

// httpStatus is the HTTP status of an SDK operation error (0 if there was no
// response, e.g. a connection error).
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorCode is the S3 error code of an SDK operation error ("" if none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// describe names an SDK error by status and code, for messages.
func describe(err error) string {
	if err == nil {
		return "success"
	}
	return fmt.Sprintf("%d %s (%v)", httpStatus(err), errorCode(err), err)
}

// listDir returns the names in dir, sorted ("" entries never).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
