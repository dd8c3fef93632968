package s3api

import "github.com/cairn-io/cairn/server/internal/objects"

// The production object layer satisfies the interfaces the handlers use.
var _ ObjectLayer = (*objects.Layer)(nil)
