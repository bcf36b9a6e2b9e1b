package importer

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// DefaultMaxBytes is the default upload limit (CLAIMDESK_IMPORT_MAX_BYTES).
const DefaultMaxBytes int64 = 2 << 30

// NewImport describes an upload.
type NewImport struct {
	CaseID       int64
	TokenID      *int64
	CreatedBy    string
	Format       string
	DryRun       bool
	MaxErrorRate *float64
}

// ErrTooLarge is returned by Receive for an upload over its limit.
type ErrTooLarge struct{ Max int64 }

func (e *ErrTooLarge) Error() string {
	return "upload larger than " + strconv.FormatInt(e.Max, 10) + " bytes"
}

// Receive stores an upload read from r, at most max bytes, chunk by chunk (memory stays flat
// whatever the size) and queues its job. With queue false the import is left queued without
// a job, for a caller that runs it itself (the CLI). Nothing is left behind on error.
func (im *Importer) Receive(ctx context.Context, n NewImport, r io.Reader, max int64, queue bool) (*models.Import, error) {
	imp := &models.Import{CaseID: n.CaseID, TokenID: n.TokenID, CreatedBy: n.CreatedBy, Format: n.Format,
		DryRun: n.DryRun, MaxErrorRate: n.MaxErrorRate, Attestation: Attestation, CreatedAt: time.Now().UTC()}
	if err := im.Store.CreateImport(ctx, imp); err != nil {
		return nil, err
	}
	size, err := im.storeChunks(ctx, imp.ID, r, max)
	if err == nil {
		if queue {
			err = im.Store.QueueImport(ctx, imp.ID, size, time.Now())
		} else {
			err = im.Store.MarkImportQueued(ctx, imp.ID, size)
		}
	}
	if err != nil {
		im.Store.DeleteImport(context.WithoutCancel(ctx), imp.ID)
		return nil, err
	}
	imp.Status, imp.SizeBytes = store.ImportQueued, size
	return imp, nil
}

func (im *Importer) storeChunks(ctx context.Context, id int64, r io.Reader, max int64) (int64, error) {
	buf := make([]byte, store.ImportChunkSize)
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if size > max {
				return size, &ErrTooLarge{Max: max}
			}
			if err := im.Store.AppendImportChunk(ctx, id, seq, buf[:n]); err != nil {
				return size, err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return size, nil
		}
		if err != nil {
			return size, err
		}
	}
}

// Failed marks an import failed after its job gave up (the database kept failing).
func (im *Importer) Failed(ctx context.Context, id int64, err error) {
	imp, gerr := im.Store.Import(ctx, id)
	if gerr != nil || imp.Status == store.ImportSucceeded || imp.Status == store.ImportFailed || imp.Status == store.ImportCancelled {
		return
	}
	im.end(ctx, imp, store.ImportFailed, "import_gave_up", nil)
}

// IsTooLarge reports whether err is an upload over its limit.
func IsTooLarge(err error) (int64, bool) {
	var e *ErrTooLarge
	if errors.As(err, &e) {
		return e.Max, true
	}
	return 0, false
}
