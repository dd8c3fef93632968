package rpcauth

import (
	"net/http"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	a := New("cluster secret")
	now := time.Unix(1_800_000_000, 0)
	newReq := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://n1:9000/cairn/rpc/v1/drive/d1/read?path=a%2Fb", nil)
		a.Sign(r, now)
		return r
	}
	cases := []struct {
		name   string
		mutate func(*http.Request)
		at     time.Time
		ok     bool
	}{
		{"valid", func(*http.Request) {}, now, true},
		{"clock skew within bound", func(*http.Request) {}, now.Add(MaxSkew - time.Second), true},
		{"replayed later", func(*http.Request) {}, now.Add(MaxSkew + time.Second), false},
		{"from the future", func(*http.Request) {}, now.Add(-MaxSkew - time.Second), false},
		{"other path", func(r *http.Request) { r.URL.Path = "/cairn/rpc/v1/drive/d2/read" }, now, false},
		{"other query", func(r *http.Request) { r.URL.RawQuery = "path=c" }, now, false},
		{"other method", func(r *http.Request) { r.Method = http.MethodGet }, now, false},
		{"no signature", func(r *http.Request) { r.Header.Del(hdrSig) }, now, false},
		{"bad time", func(r *http.Request) { r.Header.Set(hdrTime, "soon") }, now, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReq()
			c.mutate(r)
			if err := a.Verify(r, c.at); (err == nil) != c.ok {
				t.Fatalf("verify: %v, want ok=%v", err, c.ok)
			}
		})
	}
	r, _ := http.NewRequest(http.MethodPost, "http://n1:9000/x", nil)
	New("another secret").Sign(r, now)
	if a.Verify(r, now) == nil {
		t.Fatal("a request signed with another cluster secret verified")
	}
}
