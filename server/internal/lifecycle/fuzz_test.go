package lifecycle

import (
	"errors"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// FuzzParse: the parser takes untrusted request bodies. It must never panic, must
// fail only with a *Error (a 4xx), and what it accepts must encode to a document
// it accepts again, unchanged, and evaluate without panicking.
func FuzzParse(f *testing.F) {
	for _, tc := range validConfigs {
		f.Add([]byte(tc.xml))
	}
	f.Add([]byte(`<LifecycleConfiguration><Rule><Filter><And><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`<LifecycleConfiguration><Rule>`))
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	versions := []objects.ObjectInfo{
		{Key: "logs/a", VersionID: "3", IsLatest: true, DeleteMarker: true, ModTime: now.Add(-24 * time.Hour)},
		{Key: "logs/a", VersionID: "2", Size: 100, Tags: "k=v", ModTime: now.Add(-1000 * time.Hour)},
		{Key: "logs/a", VersionID: "1", Size: 1 << 20, ModTime: time.Unix(0, 0)},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, Options{})
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.Code == "" || le.Message == "" {
				t.Fatalf("Parse error %v is not a *Error with code and message", err)
			}
			return
		}
		enc := c.Encode()
		c2, err := Parse(enc, Options{})
		if err != nil {
			t.Fatalf("encoded form %s does not parse: %v", enc, err)
		}
		if string(c2.Encode()) != string(enc) {
			t.Fatalf("encode not stable:\n%s\n%s", enc, c2.Encode())
		}
		c.Evaluate(versions, now)
		c.Evaluate(versions[1:], now)
		c.ExpirationHeader(versions[1])
		c.EvaluateUpload("logs/a", now.Add(-1000*time.Hour), now)
	})
}
