package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"sync"
)

// maxCachedKeys bounds the signing-key cache; when it is full it is emptied
// and refilled by the keys in use.
const maxCachedKeys = 1024

// keyCache caches derived signing keys per access key, scope date and
// region. An entry also records a hash of the secret it was derived from, so
// a rotated secret is never answered with a key derived from the old one.
// The zero value is ready to use and it is safe for concurrent use.
type keyCache struct {
	mu sync.Mutex
	m  map[keyCacheKey]keyCacheEntry
}

type keyCacheKey struct {
	accessKey, date, region string
}

type keyCacheEntry struct {
	secretSum [32]byte
	key       [32]byte
}

// get returns the signing key for c, derived from secret.
func (kc *keyCache) get(c credential, secret string) [32]byte {
	k := keyCacheKey{c.AccessKey, c.Date, c.Region}
	sum := sha256.Sum256([]byte(secret))
	kc.mu.Lock()
	e, ok := kc.m[k]
	kc.mu.Unlock()
	if ok && subtle.ConstantTimeCompare(e.secretSum[:], sum[:]) == 1 {
		return e.key
	}
	key := signingKey(secret, c.Date, c.Region, c.Service)
	kc.mu.Lock()
	if kc.m == nil || len(kc.m) >= maxCachedKeys {
		kc.m = make(map[keyCacheKey]keyCacheEntry)
	}
	kc.m[k] = keyCacheEntry{secretSum: sum, key: key}
	kc.mu.Unlock()
	return key
}
