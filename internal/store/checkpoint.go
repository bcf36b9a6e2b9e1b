package store

import (
	"context"
	"os"
	"time"
)

// SQLite copies its write-ahead log back into the database file at checkpoints. Left to
// itself (wal_autocheckpoint), it does so in the commit that takes the log past 1,000 pages:
// that commit, a group of claims whose claimants wait for it, also copies the log and syncs
// the file. The store checkpoints from its own goroutine instead, every checkpointEvery while
// the log grows; a PASSIVE checkpoint runs beside the writer without blocking it. SQLite's
// own checkpoint stays as a backstop at sqliteAutoCheckpoint pages (39 MiB), should this one
// fall behind.
const (
	checkpointEvery      = 200 * time.Millisecond
	sqliteAutoCheckpoint = 10_000
)

// checkpoints runs until ctx ends.
func (s *Store) checkpoints(ctx context.Context, wal string) {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var last os.FileInfo
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(wal)
		if err != nil || last != nil && fi.Size() == last.Size() && fi.ModTime().Equal(last.ModTime()) {
			continue // no log yet, or nothing written since the last complete checkpoint
		}
		// A checkpoint that failed (the database busy or closing) or stopped short (a reader
		// still needs older pages) is tried again at the next tick.
		var busy, frames, copied int
		err = s.sqlDB.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		if err == nil && busy == 0 && copied == frames {
			last = fi
		}
	}
}
