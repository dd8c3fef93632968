package objects

import (
	"context"
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/drive"
)

// The trash: with Config.TrashDelay set, replaced data stays where it is and a note
// .cairn/trash/<unix seconds>-<id> holding its path is written instead; the scanner
// deletes the data and the note once the note is older than the delay. Readers on
// other nodes that already resolved the old version can still open its data (they
// open it by path). A note lost in a crash leaves an orphan data directory, which
// costs space but never correctness.

const trashDir = ".cairn/trash"

// discard removes p from d now, or moves it to the trash.
func (l *Layer) discard(ctx context.Context, d drive.Drive, p string) error {
	if l.trashDelay <= 0 {
		return d.Delete(ctx, p, true)
	}
	note := trashDir + "/" + strconv.FormatInt(l.now().Unix(), 10) + "-" + formatUUID(newID())
	if err := d.WriteFile(ctx, note, []byte(p)); err != nil {
		return d.Delete(ctx, p, true)
	}
	return nil
}

// emptyTrash deletes trash entries older than the delay on every drive.
func (l *Layer) emptyTrash(ctx context.Context) {
	if l.trashDelay <= 0 {
		return
	}
	cutoff := l.now().Add(-l.trashDelay).Unix()
	for _, s := range l.allSets() {
		parallel(len(s.drives), func(i int) {
			names, err := s.drives[i].List(ctx, trashDir)
			if err != nil {
				return
			}
			for _, n := range names {
				n = strings.TrimSuffix(n, "/")
				ts, _, ok := strings.Cut(n, "-")
				sec, err := strconv.ParseInt(ts, 10, 64)
				if !ok || err != nil || sec >= cutoff {
					continue
				}
				if p, err := s.drives[i].ReadFile(ctx, trashDir+"/"+n); err == nil && len(p) > 0 {
					s.drives[i].Delete(ctx, string(p), true)
				}
				s.drives[i].Delete(ctx, trashDir+"/"+n, false)
			}
		})
	}
}
