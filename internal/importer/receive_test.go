package importer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// count counts the rows of model.
func count(t *testing.T, st *store.Store, model any) int64 {
	t.Helper()
	var n int64
	if err := st.Gorm().Model(model).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReceiveTruncatedUpload: a multipart part cut before its closing boundary (the client went
// away mid-upload) ends in io.ErrUnexpectedEOF after whole rows; it used to be stored and
// queued as a complete file, a shorter import than was sent.
func TestReceiveTruncatedUpload(t *testing.T) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	pw, _ := mw.CreateFormFile("file", "claims.csv")
	io.WriteString(pw, goodCSV)
	// No mw.Close(): the closing boundary never came.
	eachDB(t, func(t *testing.T, f *fixture) {
		mr := multipart.NewReader(bytes.NewReader(body.Bytes()), mw.Boundary())
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.im.Receive(context.Background(), importer.NewImport{CaseID: f.caseID, Format: importer.FormatCSV}, part, importer.DefaultMaxBytes)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("receive of a truncated upload: %v", err)
		}
		if n, c, j := count(t, f.st, &models.Import{}), count(t, f.st, &models.ImportChunk{}), count(t, f.st, &models.Job{}); n+c+j != 0 {
			t.Errorf("left behind: %d imports, %d chunks, %d jobs", n, c, j)
		}
	})
}

// failJobInserts makes the database refuse new jobs, as a process killed before it could
// enqueue one would leave things.
func failJobInserts(t *testing.T, st *store.Store) {
	t.Helper()
	stmts := []string{"CREATE TRIGGER no_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'no jobs'); END"}
	if st.Dialect() == store.Postgres {
		stmts = []string{
			"CREATE FUNCTION no_jobs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no jobs'; END $$",
			"CREATE TRIGGER no_jobs BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION no_jobs()",
		}
	}
	for _, q := range stmts {
		if err := st.Gorm().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestReceiveClaimed: the CLI's upload is queued with its job already claimed in one
// transaction, so no import can be left queued without a job to run it.
func TestReceiveClaimed(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		n := importer.NewImport{CaseID: f.caseID, Format: importer.FormatCSV, CreatedBy: "cli"}
		imp, job, err := f.im.ReceiveClaimed(ctx, n, strings.NewReader(goodCSV), importer.DefaultMaxBytes, "cli-1", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var jobs []models.Job
		f.st.Gorm().Find(&jobs)
		if imp.Status != store.ImportQueued || len(jobs) != 1 || jobs[0].ID != job.ID || jobs[0].RefID != imp.ID ||
			jobs[0].Status != store.JobRunning || jobs[0].LockedBy != "cli-1" || jobs[0].Attempts != 1 {
			t.Fatalf("import %+v, jobs %+v", imp, jobs)
		}
		if err := f.im.Run(ctx, imp.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.st.Import(ctx, imp.ID); got.Status != store.ImportSucceeded || got.ClaimsCreated != 3 {
			t.Errorf("import run %+v", got)
		}

		// The job cannot be stored: the import is not left queued (nor at all).
		failJobInserts(t, f.st)
		if _, _, err := f.im.ReceiveClaimed(ctx, n, strings.NewReader(goodCSV), importer.DefaultMaxBytes, "cli-2", time.Minute); err == nil {
			t.Fatal("received with no job stored")
		}
		var queued int64
		f.st.Gorm().Model(&models.Import{}).Where("status = ?", store.ImportQueued).Count(&queued)
		if n := count(t, f.st, &models.Import{}); queued != 0 || n != 1 {
			t.Errorf("%d imports (%d queued) after a failed enqueue", n, queued)
		}
	})
}
