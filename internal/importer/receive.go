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
// whatever the size) and queues its job (the CLI, which runs the job itself, uses
// ReceiveClaimed). Nothing is left behind on error.
func (im *Importer) Receive(ctx context.Context, n NewImport, r io.Reader, max int64) (*models.Import, error) {
	imp, _, err := im.receive(ctx, n, r, max, func(id, size int64) (*models.Job, error) {
		return nil, im.Store.QueueImport(ctx, id, size, time.Now())
	})
	return imp, err
}

// ReceiveClaimed stores an upload as Receive does and queues its job already claimed by
// worker for lease, in the same transaction: the CLI runs the job at once (jobs.RunClaimed),
// and a server takes it over if the CLI dies, at any point (queued without a job, the import
// would never run).
func (im *Importer) ReceiveClaimed(ctx context.Context, n NewImport, r io.Reader, max int64, worker string, lease time.Duration) (*models.Import, *models.Job, error) {
	return im.receive(ctx, n, r, max, func(id, size int64) (*models.Job, error) {
		now := time.Now()
		return im.Store.QueueImportClaimed(ctx, id, size, worker, now, now.Add(lease))
	})
}

func (im *Importer) receive(ctx context.Context, n NewImport, r io.Reader, max int64, queue func(id, size int64) (*models.Job, error)) (*models.Import, *models.Job, error) {
	imp := &models.Import{CaseID: n.CaseID, TokenID: n.TokenID, CreatedBy: n.CreatedBy, Format: n.Format,
		DryRun: n.DryRun, MaxErrorRate: n.MaxErrorRate, Attestation: Attestation, CreatedAt: time.Now().UTC()}
	if err := im.Store.CreateImport(ctx, imp); err != nil {
		return nil, nil, err
	}
	size, err := im.storeChunks(ctx, imp.ID, r, max)
	var job *models.Job
	if err == nil {
		job, err = queue(imp.ID, size)
	}
	if err != nil {
		im.Store.DeleteImport(context.WithoutCancel(ctx), imp.ID)
		return nil, nil, err
	}
	imp.Status, imp.SizeBytes = store.ImportQueued, size
	return imp, job, nil
}

// storeChunks stores what r gives until it ends with io.EOF. Any other error fails the upload,
// io.ErrUnexpectedEOF included: it is what mime/multipart and net/http give for a body cut
// short (a part without its closing boundary, a client gone before Content-Length), and such a
// file must not be imported as if it were whole. The error is returned as r gave it, so the
// API can still tell a client that went away.
func (im *Importer) storeChunks(ctx context.Context, id int64, r io.Reader, max int64) (int64, error) {
	buf := make([]byte, store.ImportChunkSize)
	var size int64
	for seq := 0; ; seq++ {
		n, err := fill(r, buf)
		end := errors.Is(err, io.EOF)
		if err != nil && !end {
			return size, err
		}
		if n > 0 {
			size += int64(n)
			if size > max {
				return size, &ErrTooLarge{Max: max}
			}
			if err := im.Store.AppendImportChunk(ctx, id, seq, buf[:n]); err != nil {
				return size, err
			}
		}
		if end {
			return size, nil
		}
	}
}

// fill reads from r until buf is full or r fails. Unlike io.ReadFull it passes r's own error
// on: io.EOF only when r says so, which is the one normal end of an upload.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
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
