package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"
)

// ErrUsage is wrapped by every error about invalid Options or flags, so a
// command can tell a usage mistake (exit status 2) from a failed run.
var ErrUsage = errors.New("bench: invalid options")

// Defaults for the fields Run fills in when they are zero.
const (
	DefaultEndpoint    = "http://127.0.0.1:9000"
	DefaultRegion      = "us-east-1"
	DefaultBucket      = "cairn-bench"
	DefaultOp          = "put"
	DefaultObjectSize  = 1 << 20
	DefaultConcurrency = 16
	DefaultDuration    = 30 * time.Second

	// maxObjectSize is S3's limit for a single PutObject; bench does not do
	// multipart uploads.
	maxObjectSize = 5 << 30
	// prepareBudget caps the data written by the default prepare phase.
	prepareBudget = 1 << 30
)

// Options configures one run. Endpoint, AccessKey and SecretKey are required
// (ParseFlags supplies them from flags or the environment); Run fills every
// other zero field with the default named in its comment.
type Options struct {
	Endpoint  string // S3 endpoint URL, http or https, e.g. http://127.0.0.1:9000
	AccessKey string
	SecretKey string
	Region    string // SigV4 signing region; default us-east-1

	// Bucket is created if missing and never deleted; the run's objects go
	// under a fresh per-run prefix and are deleted at the end unless KeepData.
	// Default cairn-bench.
	Bucket string

	// Op is "put", "get" or "mixed" (45% GET, 30% PUT, 15% STAT, 10% DELETE
	// of the worker's own objects). Default put.
	Op string

	ObjectSize  int64         // bytes per object, at most 5 GiB; default 1 MiB
	Concurrency int           // workers, each with one request in flight; default 16
	Duration    time.Duration // length of the measured phase; default 30s

	// Objects is the number of objects written before the measured phase of a
	// get or mixed run (unused for put). Zero picks max(4*Concurrency, 100),
	// reduced so that they hold at most 1 GiB but never below Concurrency.
	Objects int

	CACert   string // PEM file of extra CA certificates to trust for https
	Insecure bool   // skip TLS certificate verification
	KeepData bool   // leave the run's objects in the bucket

	// UnsignedPayload sends UNSIGNED-PAYLOAD as x-amz-content-sha256 over
	// http too. By default bench keeps the SDK's behaviour: over http the
	// payload's SHA-256 is signed (as awscli does, costing one SHA-256 pass in
	// the client and one in the server per PUT); over https the SDK always
	// sends UNSIGNED-PAYLOAD.
	UnsignedPayload bool

	// ServerPID, if non-zero, is the process id of a server on this machine
	// whose CPU time and memory are sampled from /proc around the measured
	// phase (see the package documentation on MiB per CPU-second).
	ServerPID int

	// JSON also prints every Result as one JSON object per line after the
	// table.
	JSON bool
}

// ParseFlags parses the arguments of `cairn bench` (without the command
// name) into Options with defaults applied and validated. The access key and
// secret key fall back to CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD, then to
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Flag errors and -h print the
// usage to stderr; -h returns flag.ErrHelp. Other errors wrap ErrUsage.
func ParseFlags(args []string) (Options, error) {
	return parseFlags(args, os.Getenv, os.Stderr)
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (Options, error) {
	var opt Options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: cairn bench [flags]\n\nRun a PUT, GET or mixed load against an S3 endpoint and report throughput and latency.\n\nflags:\n")
		fs.PrintDefaults()
	}
	opt.ObjectSize = DefaultObjectSize
	fs.StringVar(&opt.Endpoint, "endpoint", DefaultEndpoint, "S3 endpoint `URL`")
	fs.StringVar(&opt.AccessKey, "access-key", "", "access `key` (default $CAIRN_ROOT_USER, then $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&opt.SecretKey, "secret-key", "", "secret `key` (default $CAIRN_ROOT_PASSWORD, then $AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&opt.Region, "region", DefaultRegion, "signing `region`")
	fs.StringVar(&opt.Bucket, "bucket", DefaultBucket, "`bucket` to use, created if missing")
	fs.StringVar(&opt.Op, "op", DefaultOp, "operation: put, get or mixed (45% GET, 30% PUT, 15% STAT, 10% DELETE)")
	fs.Var(sizeFlag{&opt.ObjectSize}, "size", "object `size`: bytes or 4KiB, 1MiB, 1m, 1GB (KB/MB/GB are powers of 1000)")
	fs.IntVar(&opt.Concurrency, "concurrency", DefaultConcurrency, "`workers`, one request in flight each")
	fs.DurationVar(&opt.Duration, "duration", DefaultDuration, "length of the measured phase")
	fs.IntVar(&opt.Objects, "objects", 0, "`number` of objects to prepare for get and mixed (default max(4*concurrency, 100), at most 1 GiB)")
	fs.StringVar(&opt.CACert, "cacert", "", "PEM `file` of CA certificates to trust for https")
	fs.BoolVar(&opt.Insecure, "insecure", false, "skip TLS certificate verification")
	fs.BoolVar(&opt.KeepData, "keep", false, "keep the objects written by the run")
	fs.BoolVar(&opt.UnsignedPayload, "unsigned-payload", false, "send UNSIGNED-PAYLOAD over http too (https always does)")
	fs.IntVar(&opt.ServerPID, "server-pid", 0, "`pid` of a local server to sample for CPU seconds and peak RSS")
	fs.BoolVar(&opt.JSON, "json", false, "also print each result as a JSON object on its own line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Options{}, err
		}
		return Options{}, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if opt.AccessKey == "" && opt.SecretKey == "" {
		// Take both halves from the same place, never a user from one and a
		// password from another.
		if u := getenv("CAIRN_ROOT_USER"); u != "" {
			opt.AccessKey, opt.SecretKey = u, getenv("CAIRN_ROOT_PASSWORD")
		} else {
			opt.AccessKey, opt.SecretKey = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
		}
	}
	opt.setDefaults()
	if err := opt.validate(); err != nil {
		return Options{}, err
	}
	return opt, nil
}

// setDefaults fills zero fields. It is idempotent.
func (o *Options) setDefaults() {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.Op == "" {
		o.Op = DefaultOp
	}
	if o.ObjectSize == 0 {
		o.ObjectSize = DefaultObjectSize
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Objects == 0 && o.Op != "put" && o.Concurrency > 0 && o.ObjectSize > 0 {
		n := max(4*o.Concurrency, 100)
		if int64(n)*o.ObjectSize > prepareBudget {
			n = int(prepareBudget / o.ObjectSize)
		}
		o.Objects = max(n, o.Concurrency)
	}
}

func (o *Options) validate() error {
	u, err := url.Parse(o.Endpoint)
	switch {
	case o.Endpoint == "":
		return fmt.Errorf("%w: no endpoint", ErrUsage)
	case err != nil:
		return fmt.Errorf("%w: endpoint: %v", ErrUsage, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%w: endpoint %q: want http://host[:port] or https://host[:port]", ErrUsage, o.Endpoint)
	case o.AccessKey == "" || o.SecretKey == "":
		return fmt.Errorf("%w: no credentials: use --access-key and --secret-key, CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", ErrUsage)
	case o.Op != "put" && o.Op != "get" && o.Op != "mixed":
		return fmt.Errorf("%w: op %q: want put, get or mixed", ErrUsage, o.Op)
	case o.ObjectSize <= 0:
		return fmt.Errorf("%w: object size must be positive", ErrUsage)
	case o.ObjectSize > maxObjectSize:
		return fmt.Errorf("%w: object size %s is over the 5 GiB single-PUT limit", ErrUsage, formatSize(o.ObjectSize))
	case o.Concurrency < 1:
		return fmt.Errorf("%w: concurrency must be at least 1", ErrUsage)
	case o.Duration < 0:
		return fmt.Errorf("%w: negative duration", ErrUsage)
	case o.Objects < 0:
		return fmt.Errorf("%w: negative object count", ErrUsage)
	case o.ServerPID < 0:
		return fmt.Errorf("%w: negative server pid", ErrUsage)
	}
	return nil
}

// grace is how long operations in flight at the end of the measured phase
// may still run before they are cancelled.
func grace(d time.Duration) time.Duration {
	return min(max(d/10, 2*time.Second), 30*time.Second)
}
