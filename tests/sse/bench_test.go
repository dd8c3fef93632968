package sse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/servertest"
)

// BenchmarkSSE measures what SSE-S3 costs a 1 MiB PUT and GET through the AWS
// SDK against an in-process 4+2 server on temp-dir drives. Plain and SSE-S3
// requests alternate, so load from elsewhere on the machine hits both alike;
// the medians are reported as plain-ms, sse-ms and overhead-% (of the median).
// GET-1MiB-CPU reports CPU time per GET instead (see there):
//
//	go test -run '^$' -bench BenchmarkSSE -benchtime 300x ./tests/sse/
func BenchmarkSSE(b *testing.B) {
	srv := servertest.New(b, servertest.Options{KMS: server.KMSConfig{MasterKey: randomBytes(32)}})
	c := srv.Client()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	body := randomBytes(1 << 20)
	put := func(key string, sse types.ServerSideEncryption) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Body: bytes.NewReader(body), ServerSideEncryption: sse}); err != nil {
			b.Fatal(err)
		}
	}
	get := func(key string, _ types.ServerSideEncryption) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(key)})
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}
	put("plain/get", "")
	put("sse/get", types.ServerSideEncryptionAes256)
	for _, op := range []struct {
		name string
		fn   func(string, types.ServerSideEncryption)
		key  func(i int) string
	}{
		{"PUT-1MiB", put, func(i int) string { return fmt.Sprintf("%d", i%64) }},
		{"GET-1MiB", get, func(int) string { return "get" }},
	} {
		b.Run(op.name, func(b *testing.B) {
			var plain, enc []time.Duration
			i := 0
			for b.Loop() {
				t0 := time.Now()
				op.fn("plain/"+op.key(i), "")
				t1 := time.Now()
				op.fn("sse/"+op.key(i), types.ServerSideEncryptionAes256)
				plain, enc = append(plain, t1.Sub(t0)), append(enc, time.Since(t1))
				i++
			}
			p, e := median(plain), median(enc)
			b.ReportMetric(float64(p)/1e6, "plain-ms")
			b.ReportMetric(float64(e)/1e6, "sse-ms")
			b.ReportMetric(100*(float64(e)-float64(p))/float64(p), "overhead-%")
		})
	}
	// CPU, not wall time: on a loaded machine wall time is CPU time waiting
	// for a core, so this says what SSE costs whatever the load. Blocks of 20
	// plain and 20 SSE-S3 GETs alternate; the process's CPU time (server and
	// client, both in this process) per GET of each block, medians.
	b.Run("GET-1MiB-CPU", func(b *testing.B) {
		const block = 20
		if processCPU() == 0 {
			b.Skip("no process CPU time on this platform")
		}
		var plain, enc []time.Duration
		for b.Loop() {
			for _, k := range []struct {
				key string
				to  *[]time.Duration
			}{{"plain/get", &plain}, {"sse/get", &enc}} {
				c0 := processCPU()
				for range block {
					get(k.key, "")
				}
				*k.to = append(*k.to, (processCPU()-c0)/block)
			}
		}
		p, e := median(plain), median(enc)
		b.ReportMetric(float64(p)/1e6, "plain-cpu-ms")
		b.ReportMetric(float64(e)/1e6, "sse-cpu-ms")
		b.ReportMetric(100*(float64(e)-float64(p))/float64(p), "overhead-%")
	})
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
