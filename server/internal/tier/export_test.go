package tier

// Test hooks: small multipart parts and chunks, so tests cover the multi-part
// paths with objects of a few MiB.

// SetPartSize sets the size above which t uploads in parts, and the part size
// (S3 parts, GCS resumable chunks, Azure blocks). It must be called before use.
func SetPartSize(t Tier, n int64) {
	switch t := t.(type) {
	case *s3Tier:
		t.partSize = n
	case *gcsTier:
		t.chunk = n
	case *azureTier:
		t.block = n
	}
}
