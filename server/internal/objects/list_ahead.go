package objects

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// Listing read-ahead. A client listing a large bucket asks for page after
// page, each once it has parsed the one before, and the server would sit idle
// while it parses. So when a continuation page (a request with a marker) is
// truncated, the layer lists the next page in the background, and the request
// for it finds it ready: server and client work at the same time, and with a
// core each the listing runs at the rate of the slower of the two rather than
// at the sum of their times.
//
// A page listed ahead is served only if it is what the request would list at
// its own time. Every drive counts the changes to each bucket's metadata files
// (drive.Drive.Changes), and counts a change before the call that made it
// returns — so before any write is acknowledged. The read-ahead notes the
// counts of every drive of every set before it lists; a request takes the page
// only when the layer has the same drives, they report the same counts, and
// the bucket's versioning state is the same. Otherwise it lists as usual.
// Remote drives' counts are asked of their nodes, one round trip per node
// (drive.ChangeCounts); a layer with a drive that cannot count (no index, a
// node not answering) reads nothing ahead.

// aheadMax bounds the pages listed ahead and kept at once; aheadTTL is how long
// one is kept for a request that does not come.
const (
	aheadMax = 8
	aheadTTL = 30 * time.Second
)

type listAhead struct {
	mu    sync.Mutex
	pages map[aheadKey]*aheadPage
	hits  atomic.Int64 // pages served from the read-ahead (tests)
}

// aheadKey is what a listing request asks for.
type aheadKey struct {
	bucket   string
	opts     ListOptions
	versions bool
}

type aheadPage struct {
	done    chan struct{} // closed when res and err are set
	res     ListResult
	err     error
	stamp   listStamp
	expires time.Time
}

// listStamp is the state of the drives and the bucket a page was listed from.
type listStamp struct {
	drives     []drive.Drive
	counts     []uint64
	versioning Versioning
}

// stamp returns the layer's current listStamp for bucket; ok is false when a
// drive cannot count its changes.
func (l *Layer) stamp(ctx context.Context, bucket string) (listStamp, bool) {
	cfg, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return listStamp{}, false
	}
	st := listStamp{versioning: cfg.Versioning}
	for _, s := range l.allSets() {
		st.drives = append(st.drives, s.drives...)
	}
	var ok bool
	if st.counts, ok = drive.ChangeCounts(ctx, st.drives, bucket); !ok {
		return listStamp{}, false
	}
	return st, true
}

func (a listStamp) equal(b listStamp) bool {
	return a.versioning == b.versioning && slices.Equal(a.counts, b.counts) &&
		slices.EqualFunc(a.drives, b.drives, func(x, y drive.Drive) bool { return x == y })
}

// takeAhead returns the page listed ahead for k if there is one and it is
// still what a listing would return now.
func (l *Layer) takeAhead(ctx context.Context, k aheadKey) (ListResult, bool) {
	a := &l.ahead
	a.mu.Lock()
	p := a.pages[k]
	delete(a.pages, k)
	a.mu.Unlock()
	if p == nil {
		return ListResult{}, false
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ListResult{}, false
	}
	if p.err != nil || time.Now().After(p.expires) {
		return ListResult{}, false
	}
	if now, ok := l.stamp(ctx, k.bucket); !ok || !now.equal(p.stamp) {
		return ListResult{}, false
	}
	a.hits.Add(1)
	return p.res, true
}

// readAhead starts listing the page after res, the answer to k, when k
// continues a listing (it has a marker: the client is paging) and res is
// truncated.
func (l *Layer) readAhead(k aheadKey, res ListResult) {
	if k.opts.Marker == "" || !res.IsTruncated {
		return
	}
	k.opts.Marker, k.opts.VersionMarker = res.NextMarker, ""
	if k.versions {
		k.opts.VersionMarker = res.NextVersionMarker
	}
	ctx := l.bg.ctx
	if ctx.Err() != nil {
		return // closed
	}
	st, ok := l.stamp(ctx, k.bucket)
	if !ok {
		return
	}
	a := &l.ahead
	now := time.Now()
	a.mu.Lock()
	for key, p := range a.pages {
		if now.After(p.expires) {
			delete(a.pages, key)
		}
	}
	if a.pages == nil {
		a.pages = map[aheadKey]*aheadPage{}
	}
	if _, dup := a.pages[k]; dup || len(a.pages) >= aheadMax {
		a.mu.Unlock()
		return
	}
	p := &aheadPage{done: make(chan struct{}), stamp: st, expires: now.Add(aheadTTL)}
	a.pages[k] = p
	a.mu.Unlock()
	l.bg.wg.Go(func() {
		defer close(p.done)
		ctx, cancel := context.WithTimeout(ctx, aheadTTL)
		defer cancel()
		p.res, p.err = l.listPage(ctx, k.bucket, k.opts, k.versions)
	})
}
