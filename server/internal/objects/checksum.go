package objects

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/meta"
)

const defaultBitrot = bitrot.DefaultAlgorithm

// compositeChecksum is S3's checksum of a multipart object: the checksum of the
// concatenated binary part checksums, suffixed with the part count. ok is false when
// a part lacks the checksum or the algorithm has no composite form.
func compositeChecksum(alg string, parts []meta.Part) (string, bool) {
	var h hash.Hash
	switch alg {
	case "CRC32":
		h = crc32.NewIEEE()
	case "CRC32C":
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "SHA1":
		h = sha1.New()
	case "SHA256":
		h = sha256.New()
	default:
		return "", false
	}
	for _, p := range parts {
		raw, err := base64.StdEncoding.DecodeString(p.Checksums[alg])
		if err != nil || len(raw) == 0 {
			return "", false
		}
		h.Write(raw)
	}
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts)), true
}
