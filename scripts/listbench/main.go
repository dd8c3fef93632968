// Command listbench measures listing at scale (issue #3): it fills a bucket with
// empty objects named dir%03d/file%05d (1,000 per directory) through the S3 API,
// then lists the whole bucket with ListObjectsV2 (pages of 1,000) several times
// and reports objects/s, and, given the server's pid, objects per server
// CPU-second.
//
//	go run ./scripts/listbench -endpoint http://127.0.0.1:9000 -n 1000000 -pid $(pgrep -f 'cairn server')
//
// Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. -fill=false lists
// what an earlier run left.
//
// -client raw lists with signed plain HTTP requests and reads only the keys
// and the continuation token out of each page (checking that keys ascend),
// instead of aws-sdk-go-v2's full XML decoding: on a small machine where
// client and server share the cores, the SDK client's CPU (8 µs per object)
// caps the rate this measures, and raw shows what the server sustains.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cairn-io/cairn/cli/bench"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:9000", "S3 endpoint")
	bucket := flag.String("bucket", "listbench", "bucket")
	n := flag.Int("n", 100000, "objects")
	conc := flag.Int("concurrency", 64, "concurrent PUTs while filling")
	fill := flag.Bool("fill", true, "create the bucket and the objects first")
	first := flag.Int("first", 0, "fill from object number first on (resume an interrupted fill)")
	passes := flag.Int("passes", 3, "full listings")
	pid := flag.Int("pid", 0, "server pid, for objects per server CPU-second")
	client := flag.String("client", "sdk", "listing client: sdk (aws-sdk-go-v2) or raw (signed HTTP, keys only)")
	flag.Parse()
	ctx := context.Background()
	c := s3.New(s3.Options{
		BaseEndpoint: endpoint, Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
	})
	if *fill {
		c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
		start := time.Now()
		var next, failed atomic.Int64
		next.Store(int64(*first))
		var wg sync.WaitGroup
		for w := 0; w < *conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= *n {
						return
					}
					key := fmt.Sprintf("dir%03d/file%05d", i/1000, i%1000)
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &key, Body: bytes.NewReader(nil)}); err != nil {
						if failed.Add(1) == 1 {
							log.Printf("PUT %s: %v", key, err)
						}
					}
					if i%100000 == 0 && i > 0 {
						log.Printf("%d objects, %.0f/s", i, float64(i)/time.Since(start).Seconds())
					}
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			log.Fatalf("%d PUTs failed", failed.Load())
		}
		log.Printf("filled %d objects in %v (%.0f/s)", *n, time.Since(start).Round(time.Second), float64(*n)/time.Since(start).Seconds())
	}
	for p := 1; p <= *passes; p++ {
		cpu0 := cpuSeconds(*pid)
		start := time.Now()
		var total int
		if *client == "raw" {
			total = rawList(ctx, *endpoint, *bucket)
		} else {
			in := &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(1000)}
			for {
				out, err := c.ListObjectsV2(ctx, in)
				if err != nil {
					log.Fatal(err)
				}
				total += len(out.Contents)
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				in.ContinuationToken = out.NextContinuationToken
			}
		}
		el := time.Since(start)
		line := fmt.Sprintf("pass %d: listed %d objects in %v: %.0f objects/s", p, total, el.Round(time.Millisecond), float64(total)/el.Seconds())
		if cpu1 := cpuSeconds(*pid); cpu1 > cpu0 {
			line += fmt.Sprintf(", %.0f objects per server CPU-second", float64(total)/(cpu1-cpu0))
		}
		fmt.Println(line)
		if *fill && total != *n {
			log.Fatalf("listed %d of %d", total, *n)
		}
	}
}

// cpuSeconds is the CPU time of process pid in seconds, 0 if unknown.
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	d, err := bench.ProcessCPU(pid)
	if err != nil {
		return 0
	}
	return d.Seconds()
}

// rawList lists bucket with signed ListObjectsV2 requests over plain HTTP,
// reading only the keys (checked to ascend) and the continuation token out of
// each page, and returns how many keys it saw.
func rawList(ctx context.Context, endpoint, bucket string) int {
	creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
	signer := v4.NewSigner()
	emptyHash := hex.EncodeToString(sha256.New().Sum(nil))
	total, last, token := 0, "", ""
	for {
		q := url.Values{"list-type": {"2"}, "max-keys": {"1000"}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", endpoint+"/"+bucket+"?"+q.Encode(), nil)
		req.Header.Set("X-Amz-Content-Sha256", emptyHash)
		if err := signer.SignHTTP(ctx, creds, req, emptyHash, "s3", "us-east-1", time.Now()); err != nil {
			log.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			log.Fatalf("list: %v %d %.200s", err, resp.StatusCode, body)
		}
		for rest := body; ; {
			k, after, ok := between(rest, "<Key>", "</Key>")
			if !ok {
				break
			}
			if k <= last && total > 0 {
				log.Fatalf("keys out of order: %q after %q", k, last)
			}
			last, rest = k, after
			total++
		}
		t, _, ok := between(body, "<NextContinuationToken>", "</NextContinuationToken>")
		if !ok || !bytes.Contains(body, []byte("<IsTruncated>true</IsTruncated>")) {
			return total
		}
		token = html.UnescapeString(t)
	}
}

// between returns the text between the first open and the close after it.
func between(b []byte, open, close string) (string, []byte, bool) {
	i := bytes.Index(b, []byte(open))
	if i < 0 {
		return "", nil, false
	}
	b = b[i+len(open):]
	j := bytes.Index(b, []byte(close))
	if j < 0 {
		return "", nil, false
	}
	return string(b[:j]), b[j+len(close):], true
}
