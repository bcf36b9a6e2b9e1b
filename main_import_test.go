package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
)

const importTestToken = "cdk_import_test_admin_token_0123456789"

// TestImportSurvivesKill kills a server (SIGKILL) in the middle of an import, starts another
// one on the same database and checks that the import finishes with exactly the result of an
// uninterrupted run of the same file on a fresh database: same claims, same content, same
// counts, same error report, nothing duplicated or lost.
func TestImportSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "claims.csv")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Generate(f, importer.GenOptions{Rows: 60000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	binary(t) // built once, before the parallel subtests use it
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			env := func(url string) []string {
				return []string{"CLAIMDESK_DATABASE_URL=" + url, "CLAIMDESK_ADMIN_TOKEN=" + importTestToken,
					"CLAIMDESK_JOB_LEASE=2s", "CLAIMDESK_JOB_POLL=100ms", "CLAIMDESK_LOG_LEVEL=warn"}
			}
			url := testdb.URL(t, d)
			a := start(t, t.TempDir(), env(url)...)
			id := postImport(t, a, file)
			for status(t, a, id)["status"] == "queued" {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			a.cmd.Process.Kill()
			<-a.done

			st, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			imp, err := st.Import(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			st.Gorm().Table("claims").Count(&n)
			st.Close()
			if imp.Status != store.ImportRunning {
				t.Fatalf("the import was %s when the server was killed; the test needs it running (a bigger file?)", imp.Status)
			}
			if n != 0 {
				t.Fatalf("%d claims visible after the kill: an import must never be half-applied", n)
			}

			b := start(t, t.TempDir(), env(url)...)
			resumed := waitImport(t, b, id)
			b.stop(t)

			fresh := testdb.URL(t, d)
			c := start(t, t.TempDir(), env(fresh)...)
			whole := waitImport(t, c, postImport(t, c, file))
			c.stop(t)

			for _, k := range []string{"status", "rows_read", "claims_created", "claims_unchanged", "claims_rejected", "rows_rejected"} {
				if fmt.Sprint(resumed[k]) != fmt.Sprint(whole[k]) {
					t.Errorf("%s: %v after a kill, %v uninterrupted", k, resumed[k], whole[k])
				}
			}
			if resumed["status"] != "succeeded" || resumed["claims_created"].(float64) < 1000 {
				t.Fatalf("resumed import: %v", resumed)
			}
			if x, y := contents(t, url), contents(t, fresh); x != y {
				t.Errorf("stored claims differ after a kill and an uninterrupted run")
			}
		})
	}
}

func postImport(t *testing.T, p *proc, file string) int64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/cases/kakao-2022/imports", f)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+importTestToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var v struct{ ID int64 }
	if r.StatusCode != 202 || json.NewDecoder(r.Body).Decode(&v) != nil {
		t.Fatalf("upload: %d", r.StatusCode)
	}
	return v.ID
}

func status(t *testing.T, p *proc, id int64) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/api/v1/imports/%d", p.addr, id), nil)
	req.Header.Set("Authorization", "Bearer "+importTestToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var v map[string]any
	if r.StatusCode != 200 || json.NewDecoder(r.Body).Decode(&v) != nil {
		t.Fatalf("status: %d", r.StatusCode)
	}
	return v
}

func waitImport(t *testing.T, p *proc, id int64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		v := status(t, p, id)
		if s := v["status"]; s != "queued" && s != "running" {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("import %d did not finish:\n%s", id, p.stderr)
	return nil
}

// contents describes what a database holds: every claim by external_ref with its content
// hash, items and decisions, and the error report.
func contents(t *testing.T, url string) string {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rows []struct {
		ExternalRef, ContentHash, Channel string
		Items, Eligible                   int64
		Estimate                          *int64
	}
	err = st.Gorm().Raw(`SELECT c.external_ref, c.content_hash, c.channel, c.estimate_krw AS estimate,
		COUNT(i.claim_id) AS items, SUM(CASE WHEN i.eligibility = 'eligible' THEN 1 ELSE 0 END) AS eligible
		FROM claims c JOIN claim_items i ON i.claim_id = c.id GROUP BY c.id ORDER BY c.external_ref`).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	var errs []struct {
		ErrorRow                                        int64
		ErrorColumn, ErrorCode, MessageKey, Params, Raw string
	}
	if err := st.Gorm().Raw(`SELECT error_row, error_column, error_code, message_key, params, raw FROM import_errors ORDER BY id`).Scan(&errs).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s %d %d %v\n", r.ExternalRef, r.ContentHash, r.Channel, r.Items, r.Eligible, *r.Estimate)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "%+v\n", e)
	}
	return b.String()
}

// TestImportsUseReviewConfig: the importer's detection passes use CLAIMDESK_REVIEW_CONFIG, as
// the service's own do (they fell back to the defaults).
func TestImportsUseReviewConfig(t *testing.T) {
	cfg := config.Config{Review: claims.DefaultReviewConfig()}
	rule := cfg.Review.Signals[claims.SignalSameDescription]
	rule.Weight = 77
	cfg.Review.Signals[claims.SignalSameDescription] = rule
	im, _ := newJobs(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	if im.Claims.Review == nil || im.Claims.Review.Signals[claims.SignalSameDescription].Weight != 77 {
		t.Fatalf("the importer's review config is %+v, want the configured one", im.Claims.Review)
	}
}

// TestImportCommand: `claimdesk import FILE` stores the upload with its job already claimed
// (one transaction, so a kill at any point leaves a job a server will run), runs it here and
// finishes the job.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "claims.csv")
	csv := "claim_ref,claimant_name,email,phone,kind,service,feature,occurred_at,ended_at,failure,purpose,expected_fare_krw,alternative_cost_krw,amount_krw,loss_krw,documented,description\n" +
		"A-1,홍길동,hong@example.com,010-1234-5678,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,\n" +
		"A-2,이철수,lee@example.com,,other,daum,mail,2022-10-17 09:00,,,,,,,10000,n,메일 수신 불가\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{DatabaseURL: filepath.Join(dir, "claimdesk.db"), JobLease: time.Minute, ImportMaxBytes: importer.DefaultMaxBytes,
		Review: claims.DefaultReviewConfig()}
	var out strings.Builder
	if err := importCmd(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), []string{file}, &out); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	st, err := store.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var imps []struct {
		ID            int64
		Status        string
		ClaimsCreated int64
	}
	st.Gorm().Table("imports").Find(&imps)
	var jobs []struct {
		Kind, Status, LockedBy string
		RefID                  int64
		Attempts               int
	}
	st.Gorm().Table("jobs").Find(&jobs)
	if len(imps) != 1 || imps[0].Status != store.ImportSucceeded || imps[0].ClaimsCreated != 2 ||
		len(jobs) != 1 || jobs[0].Kind != store.JobImport || jobs[0].RefID != imps[0].ID || jobs[0].Status != store.JobDone || jobs[0].Attempts != 1 {
		t.Errorf("imports %+v, jobs %+v\n%s", imps, jobs, out.String())
	}
}
