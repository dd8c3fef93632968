package sigv4_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-io/cairn/server/internal/sigv4"
)

type creds map[string]string

func (c creds) SecretKey(ak string) (string, bool) { s, ok := c[ak]; return s, ok }

func ExampleVerifier_Verify() {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	v := &sigv4.Verifier{
		Creds:  creds{"AKIDEXAMPLE": "secret"},
		Region: "us-east-1",
		Now:    func() time.Time { return now },
	}

	// A client signs a PUT with a signed payload...
	r, _ := http.NewRequest("PUT", "http://s3.example.test/bucket/hello.txt", strings.NewReader("hello"))
	_ = sigv4.SignRequest(r, "AKIDEXAMPLE", "secret", "us-east-1", now,
		"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")

	// ...and the server verifies it and reads the payload through Result.Body.
	res, err := v.Verify(r)
	if err != nil {
		code, status, _ := sigv4.S3Code(err)
		fmt.Println(code, status)
		return
	}
	body, err := io.ReadAll(res.Body)
	fmt.Println(res.AccessKey, string(body), err)

	// A different payload fails at EOF.
	r.Body = io.NopCloser(strings.NewReader("HELLO"))
	res, _ = v.Verify(r)
	_, err = io.ReadAll(res.Body)
	code, status, _ := sigv4.S3Code(err)
	fmt.Println(code, status)
	// Output:
	// AKIDEXAMPLE hello <nil>
	// XAmzContentSHA256Mismatch 400
}

func ExampleSignChunkedRequest() {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	v := &sigv4.Verifier{Creds: creds{"AKIDEXAMPLE": "secret"}, Region: "us-east-1", Now: func() time.Time { return now }}

	r, _ := http.NewRequest("PUT", "http://s3.example.test/bucket/big", nil)
	_ = sigv4.SignChunkedRequest(r, "AKIDEXAMPLE", "secret", "us-east-1", now, []byte("hello, chunked world"),
		sigv4.ChunkedOptions{ChunkSize: 8, Trailer: http.Header{"X-Amz-Checksum-Crc32": {"EtOVQA=="}}})
	fmt.Println(r.Header.Get("X-Amz-Content-Sha256"))

	res, err := v.Verify(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, err := io.ReadAll(res.Body)
	fmt.Println(res.ContentLength, string(body), err, res.Trailer().Get("X-Amz-Checksum-Crc32"))
	// Output:
	// STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	// 20 hello, chunked world <nil> EtOVQA==
}
