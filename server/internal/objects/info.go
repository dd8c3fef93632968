package objects

import (
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/meta"
)

// storageClassKey is where the storage class is kept in ObjectInfo.Meta.
const storageClassKey = "X-Amz-Storage-Class"

// versionInfo converts a stored version to the S3 view of it.
func versionInfo(bucket, key string, v *meta.Version, latest bool, vs Versioning) ObjectInfo {
	oi := ObjectInfo{
		Bucket:       bucket,
		Key:          key,
		IsLatest:     latest,
		DeleteMarker: v.Kind == meta.KindDeleteMarker,
		Size:         v.Size,
		StoredSize:   v.Size,
		ETag:         v.ETag,
		ModTime:      v.ModTime,
		Meta:         v.Meta,
		Tags:         v.Tags,
		Checksums:    v.Checksums,
		ChecksumType: v.ChecksumType,
	}
	splitInternal(&oi)
	if t := v.Transition; t != nil {
		oi.Transition = &TransitionInfo{Tier: t.Tier, RemoteKey: t.RemoteKey, At: t.At, RestoreExpiry: t.RestoreExpiry}
		m := make(map[string]string, len(oi.Meta)+1)
		for k, val := range oi.Meta {
			m[k] = val
		}
		m[storageClassKey] = t.Tier // as S3 shows a transitioned object's class
		oi.Meta = m
	}
	switch {
	case !v.ID.IsNull():
		oi.VersionID = formatUUID(v.ID)
	case vs != VersioningUnset:
		oi.VersionID = NullVersion
	}
	if len(v.Parts) > 1 || (len(v.Parts) == 1 && isMultipartETag(v.ETag)) {
		oi.PartCount = len(v.Parts)
		oi.Parts = make([]PartInfo, len(v.Parts))
		for i, p := range v.Parts {
			oi.Parts[i] = PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, ModTime: v.ModTime, Checksums: p.Checksums}
		}
	}
	return oi
}

func isMultipartETag(etag string) bool {
	for i := len(etag) - 1; i >= 0; i-- {
		if etag[i] == '-' {
			return true
		}
	}
	return false
}

// parseVersionID turns an S3 version id into a stored id. "" and "null" are the null version.
func parseVersionID(s string) (meta.VersionID, error) {
	if s == "" || s == NullVersion {
		return meta.VersionID{}, nil
	}
	id, ok := parseUUID(s)
	if !ok {
		return meta.VersionID{}, ErrInvalidVersionID
	}
	return id, nil
}

// splitInternal moves internal metadata out of oi.Meta into oi.Internal.
func splitInternal(oi *ObjectInfo) {
	var user map[string]string
	for k, v := range oi.Meta {
		name, ok := strings.CutPrefix(k, internalPrefix)
		if !ok {
			continue
		}
		if user == nil {
			user = make(map[string]string, len(oi.Meta))
			for k2, v2 := range oi.Meta {
				if !strings.HasPrefix(k2, internalPrefix) {
					user[k2] = v2
				}
			}
			oi.Internal = map[string]string{}
		}
		if name == "Actual-Size" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				oi.Size = n
			}
			continue
		}
		oi.Internal[name] = v
	}
	if user != nil {
		oi.Meta = user
	}
}
