// Package drive is the bottom of the data path: the Drive interface through which
// the object layer reads and writes one drive, and its local-filesystem
// implementation, and the remote one that speaks the storage RPC to another node.
//
// Paths given to a Drive are slash-separated and relative to the drive root. A Drive
// refuses any path that is absolute or contains "." or ".." segments, so nothing the
// object layer computes can reach outside the drive.
//
// Durability: writes (WriteFile, Create, Rename, Delete) are not durable when they
// return. Sync is the barrier: when Sync returns nil, every write that returned
// before Sync was called is on stable storage. Local drives implement Sync with group
// commit: concurrent callers on one filesystem share one syncfs(2), so N concurrent
// small PUTs cost one flush instead of N.
//
// Layout of a local drive:
//
//	.cairn/format.json          identity (package layout)
//	.cairn/tmp/                 writes in progress; emptied at start
//	.cairn/multipart/           multipart uploads in progress
//	.cairn/buckets/<name>.json  bucket configuration
//	.cairn/index/               the metadata index (index.go), when enabled
//	<bucket>/<object path>/     per-object metadata file and data directories
//
// A local drive can keep an ordered index of the object metadata files it holds
// (EnableIndex, Scan; see index.go), updated by the same WriteFile, Create,
// Rename or Delete that changes such a file, so listings read pages of it
// instead of one file per key.
package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors. Callers test with errors.Is.
var (
	ErrNotFound = errors.New("drive: not found")
	ErrExists   = errors.New("drive: already exists")
	ErrNotEmpty = errors.New("drive: directory not empty")
	ErrBadPath  = errors.New("drive: invalid path")
	ErrOffline  = errors.New("drive: offline")
	ErrDiskFull = errors.New("drive: no space left")
	ErrFaulty   = errors.New("drive: faulty")
	// ErrForbidden: the node holding a remote drive refused the call (wrong
	// cluster secret, or a TLS client certificate it does not trust). A
	// Remote's error wraps it together with ErrFaulty.
	ErrForbidden = errors.New("drive: the node refused the call")
)

// Drive is one drive of an erasure set. Implementations are safe for concurrent use.
type Drive interface {
	// String names the drive for logs (its path or endpoint).
	String() string
	// ReadFile returns a small file's content (metadata, configuration).
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// WriteFile atomically replaces path with data (temp file + rename), creating parents.
	WriteFile(ctx context.Context, path string, data []byte) error
	// Create creates a new file at path (parents created) for streaming writes. The caller
	// must Close the writer; a failed stream should be removed with Delete. An existing
	// file is an ErrExists error, returned by Create or, for drives whose stream starts
	// later (remote drives), by Write or Close; the existing file is left unchanged.
	Create(ctx context.Context, path string) (io.WriteCloser, error)
	// Open reads length bytes of path from offset (length < 0: to the end). The caller
	// closes the reader.
	Open(ctx context.Context, path string, offset, length int64) (io.ReadCloser, error)
	// Rename moves a file or directory, replacing a file or empty directory at dst.
	Rename(ctx context.Context, src, dst string) error
	// Delete removes path; with recursive a directory and all it holds. Removing a
	// missing path is not an error. Empty parent directories up to (not including)
	// the first path segment are pruned.
	Delete(ctx context.Context, path string, recursive bool) error
	// List returns the names in directory path, sorted; directories end in "/".
	List(ctx context.Context, path string) ([]string, error)
	// Sync makes every write that completed before the call durable.
	Sync(ctx context.Context) error
	// Info reports capacity and health.
	Info(ctx context.Context) (Info, error)
	// Scan returns up to q.Limit entries of the drive's metadata index of bucket
	// with keys ≥ q.From, in key order (see index.go); with q.Digest each
	// entry's Value is IndexDigest(q.Digest, value). ErrNoIndex: the drive keeps no
	// usable index now; list by walking it.
	Scan(ctx context.Context, bucket string, q ScanQuery) (IndexPage, error)
	// Changes returns a number that grows with every change to a metadata file
	// of bucket on the drive, counted before the changing call returns (see
	// index.go). ok is false when the drive cannot count (no index; remote:
	// see ChangeCounts).
	Changes(bucket string) (n uint64, ok bool)
}

// Info is a drive's capacity and state.
type Info struct {
	Total, Free, Used uint64
	Online            bool
}

// check validates a drive-relative path.
func check(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return fmt.Errorf("%w: %q", ErrBadPath, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || len(seg) > 255 {
			return fmt.Errorf("%w: %q", ErrBadPath, p)
		}
	}
	return nil
}
