package bench

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	noEnv := map[string]string{}
	cairnEnv := map[string]string{"CAIRN_ROOT_USER": "root", "CAIRN_ROOT_PASSWORD": "rootpw", "AWS_ACCESS_KEY_ID": "aws", "AWS_SECRET_ACCESS_KEY": "awspw"}
	awsEnv := map[string]string{"AWS_ACCESS_KEY_ID": "aws", "AWS_SECRET_ACCESS_KEY": "awspw"}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, o Options)
		wantErr error // nil: success
	}{
		{
			name: "defaults with cairn env",
			env:  cairnEnv,
			check: func(t *testing.T, o Options) {
				want := Options{
					Endpoint: DefaultEndpoint, AccessKey: "root", SecretKey: "rootpw", Region: "us-east-1",
					Bucket: "cairn-bench", Op: "put", ObjectSize: 1 << 20, Concurrency: 16, Duration: 30 * time.Second,
				}
				if o != want {
					t.Errorf("got %+v\nwant %+v", o, want)
				}
			},
		},
		{
			name: "aws env fallback",
			env:  awsEnv,
			check: func(t *testing.T, o Options) {
				if o.AccessKey != "aws" || o.SecretKey != "awspw" {
					t.Errorf("credentials %q/%q, want the AWS_* pair", o.AccessKey, o.SecretKey)
				}
			},
		},
		{
			name: "flags beat env",
			args: []string{"--access-key", "a", "--secret-key", "s"},
			env:  cairnEnv,
			check: func(t *testing.T, o Options) {
				if o.AccessKey != "a" || o.SecretKey != "s" {
					t.Errorf("credentials %q/%q, want the flags", o.AccessKey, o.SecretKey)
				}
			},
		},
		{
			name: "every flag",
			args: []string{
				"--endpoint", "https://s3.example:9443", "--access-key", "a", "--secret-key", "s",
				"--region", "eu-west-1", "--bucket", "b1", "--op", "mixed", "--size", "64KiB",
				"--concurrency", "3", "--duration", "5s", "--objects", "10", "--cacert", "/ca.pem",
				"--insecure", "--keep", "--unsigned-payload", "--server-pid", "42", "--json",
			},
			env: noEnv,
			check: func(t *testing.T, o Options) {
				want := Options{
					Endpoint: "https://s3.example:9443", AccessKey: "a", SecretKey: "s", Region: "eu-west-1",
					Bucket: "b1", Op: "mixed", ObjectSize: 64 << 10, Concurrency: 3, Duration: 5 * time.Second,
					Objects: 10, CACert: "/ca.pem", Insecure: true, KeepData: true, UnsignedPayload: true,
					ServerPID: 42, JSON: true,
				}
				if o != want {
					t.Errorf("got %+v\nwant %+v", o, want)
				}
			},
		},
		{
			name: "single dash and one-letter size",
			args: []string{"-size", "1m", "-op", "get", "-concurrency", "2"},
			env:  cairnEnv,
			check: func(t *testing.T, o Options) {
				if o.ObjectSize != 1<<20 || o.Op != "get" || o.Objects != 100 {
					t.Errorf("size %d op %q objects %d, want 1 MiB, get, 100", o.ObjectSize, o.Op, o.Objects)
				}
			},
		},
		{
			name: "default objects capped at 1 GiB",
			args: []string{"--op", "get", "--size", "64MiB"},
			env:  cairnEnv,
			check: func(t *testing.T, o Options) {
				if o.Objects != 16 {
					t.Errorf("objects %d, want 16 (1 GiB / 64 MiB)", o.Objects)
				}
			},
		},
		{name: "no credentials", env: noEnv, wantErr: ErrUsage},
		{name: "access key without secret", args: []string{"--access-key", "a"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "bad op", args: []string{"--op", "list"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "bad size", args: []string{"--size", "4XB"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "zero size", args: []string{"--size", "0"}, env: cairnEnv, wantErr: nil, check: func(t *testing.T, o Options) {
			if o.ObjectSize != DefaultObjectSize {
				t.Errorf("size %d, want the default for 0", o.ObjectSize)
			}
		}},
		{name: "size over 5 GiB", args: []string{"--size", "6GiB"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "negative concurrency", args: []string{"--concurrency", "-1"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "negative duration", args: []string{"--duration", "-1s"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "endpoint without scheme", args: []string{"--endpoint", "127.0.0.1:9000"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "ftp endpoint", args: []string{"--endpoint", "ftp://host"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "unknown flag", args: []string{"--verbose"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "positional argument", args: []string{"extra"}, env: cairnEnv, wantErr: ErrUsage},
		{name: "help", args: []string{"-h"}, env: cairnEnv, wantErr: flag.ErrHelp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}
