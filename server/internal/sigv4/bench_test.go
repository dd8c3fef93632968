package sigv4

import (
	"bytes"
	"io"
	"testing"
)

const benchSize = 4 << 20

func BenchmarkSHA256Reader(b *testing.B) {
	payload := testPayload(benchSize)
	var want [32]byte
	copy(want[:], mustHex(sha256Hex(string(payload))))
	buf := make([]byte, 32<<10)
	src := bytes.NewReader(payload)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(payload)
		r := newSHA256Reader(io.NopCloser(src), want)
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChunkedReader(b *testing.B) {
	payload := testPayload(benchSize)
	for _, bc := range []struct {
		name  string
		mode  payloadMode
		chunk int
	}{
		{"signed-64KiB", modeStreaming, 64 << 10},
		{"signed-1MiB", modeStreaming, 1 << 20},
		{"unsigned-trailer-64KiB", modeStreamingUnsignedTrailer, 64 << 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var trailer []string
			if bc.mode != modeStreaming {
				trailer = []string{"x-amz-checksum-crc32:AAAAAA=="}
			}
			body := encodeChunked(payload, bc.chunk, bc.mode, trailer)
			v := exampleVerifier()
			r := newRequest(b, "PUT", "https://s3.amazonaws.com/b/o", nil,
				"X-Amz-Decoded-Content-Length", itoa(benchSize), "X-Amz-Trailer", "x-amz-checksum-crc32")
			key := signingKey(exampleSecret, "20130524", "us-east-1", "s3")
			src := bytes.NewReader(body)
			buf := make([]byte, 32<<10)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(body)
				cr, _, err := v.newChunkedReader(r, io.NopCloser(src), bc.mode, key,
					"20130524T000000Z", "20130524/us-east-1/s3/aws4_request", testSeed)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{cr}, buf); err != nil || n != benchSize {
					b.Fatal(n, err)
				}
				cr.Close()
			}
		})
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	r := newRequest(b, "GET", "http://bkt.s3.cairn.test/some/key?versionId=3", nil, "Range", "bytes=0-99")
	if err := SignRequest(r, testAccessKey, testSecret, testRegion, testTime, EmptySHA256); err != nil {
		b.Fatal(err)
	}
	v := testVerifier(testTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
