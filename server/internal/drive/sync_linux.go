package drive

import "golang.org/x/sys/unix"

// flushFS makes the whole filesystem holding fd durable: data, metadata and renames.
func flushFS(fd int) error { return unix.Syncfs(fd) }
