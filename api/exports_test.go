package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// exportFixture files three claims: 홍길동 twice (same phone, so one plaintiff) and a
// claimant whose name looks like a formula.
func exportFixture(e *env) {
	e.submit(claim(taxi("2022-10-15T18:30"), payment("2022-10-20T12:00")))
	e.submit(claim(message("2022-10-15T16:00", "2022-10-16T09:00")))
	c := claim(taxi("2022-10-15T19:00"))
	c["claimant"] = map[string]any{"name": "=1+2", "email": "eq@example.com"}
	e.submit(c)
}

func TestExportsAuthorization(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		exportFixture(e)
		paths := []string{
			"/api/v1/cases/kakao-2022/exports/claims.csv", "/api/v1/cases/kakao-2022/exports/claims.xlsx",
			"/api/v1/cases/kakao-2022/exports/claims.ndjson", "/api/v1/cases/kakao-2022/exports/plaintiffs.csv",
			"/api/v1/cases/kakao-2022/exports/plaintiffs.xlsx", "/api/v1/cases/kakao-2022/report.pdf", "/admin/cases/kakao-2022/report",
		}
		for _, p := range paths {
			wantStatus(t, e.do("GET", p, nil), 401)
			wantStatus(t, e.do("GET", p, nil, bearer(e.importer)...), 403)
			wantStatus(t, e.do("GET", p, nil, "Authorization", "Bearer cdk_wrong"), 401)
			for _, tok := range []string{e.lawyer, e.admin} {
				r := e.do("GET", p, nil, bearer(tok)...)
				wantStatus(t, r, 200)
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: Cache-Control %q, want no-store (personal data)", p, r.Header.Get("Cache-Control"))
				}
			}
		}
		wantStatus(t, e.do("GET", "/api/v1/cases/nope/exports/claims.csv", nil, bearer(e.lawyer)...), 404)

		// Every successful export is in the audit trail: who, what, filters, rows. Refusals
		// exported nothing and are not.
		var evs []models.AuditEvent
		if err := e.st.Gorm().Where("action = ?", "export").Order("id").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2*len(paths) {
			t.Fatalf("%d audit events, want %d", len(evs), 2*len(paths))
		}
		first := evs[0]
		if first.Action != "export" || first.Entity != "claims" || first.EntityID != "kakao-2022" || first.ActorKind != "token" ||
			first.ActorRole != "lawyer" || first.ActorName != "lawyer" || first.ActorID == nil || first.IP == "" || first.RequestID == "" {
			t.Errorf("audit event %+v", first)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(first.Details), &d); err != nil {
			t.Fatal(err)
		}
		if d["format"] != "csv" || d["rows"] != float64(4) || d["redacted"] != false || d["completed"] != true || d["bom"] != true {
			t.Errorf("details %v", d)
		}
		if last := evs[len(evs)-1]; last.Entity != "report" || last.ActorRole != "admin" || !strings.Contains(last.Details, `"format":"html"`) {
			t.Errorf("last event %+v", last)
		}
		// Append-only: the database refuses to change or remove an event.
		if err := e.st.Gorm().Exec("UPDATE audit_events SET actor_name = 'x'").Error; err == nil {
			t.Error("audit_events accepted an UPDATE")
		}
		if err := e.st.Gorm().Exec("DELETE FROM audit_events").Error; err == nil {
			t.Error("audit_events accepted a DELETE")
		}
	})
}

func TestExportClaimsCSV(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		exportFixture(e)
		r := e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="kakao-2022-claims-`) || !strings.HasSuffix(cd, `.csv"`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		body := string(r.Body)
		if !strings.HasPrefix(body, "\uFEFFreference,status,channel,") {
			t.Errorf("no BOM and header: %q", body[:40])
		}
		if lines := strings.Count(body, "\r\n"); lines != 5 { // header + 4 items
			t.Errorf("%d lines, want 5:\n%s", lines, body)
		}
		for _, want := range []string{",홍길동,hong@example.com,'+82 10-1234-5678,1,taxi_booking,kakao_t,taxi,2022-10-15T18:30:00+09:00,",
			",'=1+2,eq@example.com,", ",ineligible,outside_outage_window,,,0,0,1,2023-10-15,"} {
			if !strings.Contains(body, want) {
				t.Errorf("CSV lacks %q:\n%s", want, body)
			}
		}

		// Filters and options.
		r = e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv?bom=false&redact=true&service=kakao_t", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		body = string(r.Body)
		if strings.HasPrefix(body, "\uFEFF") || strings.Count(body, "\r\n") != 3 {
			t.Errorf("bom=false&service=kakao_t:\n%q", body)
		}
		if strings.Contains(body, "홍길동") || strings.Contains(body, "hong@") || strings.Contains(body, "1234") ||
			!strings.Contains(body, ",홍*동,h***@example.com,'+82 10-****-5678,") {
			t.Errorf("not redacted:\n%s", body)
		}

		// Bad parameters are 422, each by name, and nothing is exported or audited.
		r = e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv?bom=maybe&status=lost&service=naver", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 422)
		if got := fields(t, r); strings.Join(got, "; ") != "bom invalid_value; service unknown_service; status invalid_value" {
			t.Errorf("fields %q", got)
		}
		if r.Header.Get("Content-Disposition") != "" {
			t.Error("an error answer names an attachment")
		}
	})
}

func TestExportXLSXAndNDJSON(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		exportFixture(e)
		r := e.do("GET", "/api/v1/cases/kakao-2022/exports/plaintiffs.xlsx", nil, bearer(e.admin)...)
		wantStatus(t, r, 200)
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := f.GetSheetList(); len(got) != 2 || got[0] != "요약" || got[1] != "원고 목록" {
			t.Errorf("sheets %q", got)
		}
		rows, _ := f.GetRows("원고 목록")
		// =1+2 and 홍길동 (two claims merged by phone), then the total.
		if len(rows) != 4 || rows[1][1] != "=1+2" || rows[2][1] != "홍길동" || rows[2][4] != "2" || rows[3][1] != "합계" {
			t.Errorf("rows %q", rows)
		}

		r = e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.ndjson?eligibility=ineligible", nil, "Authorization", "Bearer "+e.lawyer, "Accept-Language", "en")
		wantStatus(t, r, 200)
		lines := strings.Split(strings.TrimSuffix(string(r.Body), "\n"), "\n")
		if len(lines) != 1 {
			t.Fatalf("%d lines: %s", len(lines), r.Body)
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &row); err != nil {
			t.Fatal(err)
		}
		if row["kind"] != "payment" || row["amount_krw"] != float64(50000) || row["window_id"] != nil || row["claimant_phone"] != "+82 10-1234-5678" {
			t.Errorf("row %v", row)
		}
	})
}

func TestCaseReport(t *testing.T) {
	e := newEnv(t, "postgres")
	exportFixture(e)
	r := e.do("GET", "/api/v1/cases/kakao-2022/report.pdf", nil, bearer(e.lawyer)...)
	wantStatus(t, r, 200)
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatalf("pdftotext not found: install poppler-utils (`make deps` does): %v", err)
	}
	cmd := exec.Command(bin, "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(r.Body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, w := range []string{"사건 보고서", "장애 경위와 장애 구간", "청구 건수", "자료 품질"} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF lacks %q", w)
		}
	}

	r = e.do("GET", "/admin/cases/kakao-2022/report?lang=en", nil, bearer(e.lawyer)...)
	wantStatus(t, r, 200)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if !bytes.Contains(r.Body, []byte("<h1>Case report</h1>")) || !bytes.Contains(r.Body, []byte("<svg")) {
		t.Errorf("HTML report: %.300s", r.Body)
	}
	// The workspace's language, remembered in its cookie, holds for the report page too.
	r = e.do("GET", "/admin/cases/kakao-2022/report", nil, append(bearer(e.lawyer), "Cookie", "cd_lang=en")...)
	wantStatus(t, r, 200)
	if !bytes.Contains(r.Body, []byte("<h1>Case report</h1>")) {
		t.Errorf("HTML report with the English cookie: %.300s", r.Body)
	}
	// The page shows the figures the workspace keeps (gathered once per case, revision and
	// TTL): a claim filed since shows after the TTL, not at every view of the page.
	e.file(person("캐시", "cache@example.com", "", taxi("2022-10-15T18:00:00+09:00")))
	again := e.do("GET", "/admin/cases/kakao-2022/report", nil, append(bearer(e.lawyer), "Cookie", "cd_lang=en")...)
	wantStatus(t, again, 200)
	if !bytes.Equal(again.Body, r.Body) {
		t.Errorf("the report page gathered its figures again within the TTL")
	}
}

// withExportRunner gives e a job runner with the export handler, as serve has; opts change
// the server's configuration.
func (e *env) withExportRunner(opts ...func(*api.Config)) *env {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &jobs.Runner{Store: e.st, Log: log, Poll: 20 * time.Millisecond, Lease: 5 * time.Second}
	r.Handle(store.JobExport, &export.Jobs{Store: e.st, Log: log, Now: func() time.Time { return testNow }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); wg.Wait() })
	cfg := api.Config{Store: e.st, Logger: log, Now: func() time.Time { return testNow }, Jobs: r}
	for _, o := range opts {
		o(&cfg)
	}
	e.h = api.New(cfg)
	return e
}

// waitExport polls a background export until it ends and returns its last state.
func (e *env) waitExport(loc string, token string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		job := e.do("GET", loc, nil, bearer(token)...).json(e.t)
		if job["status"] == "succeeded" || job["status"] == "failed" {
			return job
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("export did not end: %v", job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A role listed in RedactRoles only ever gets masked contact data: by default, refused when it
// asks for redact=false, and refused the file of a background export made unredacted by
// someone else. Other roles are not affected.
func TestExportRedactRoles(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.withExportRunner(func(c *api.Config) { c.RedactRoles = []auth.Role{auth.Lawyer} })
		exportFixture(e)
		masked := func(r resp) bool {
			b := string(r.Body)
			return strings.Contains(b, "홍*동") && !strings.Contains(b, "홍길동") && !strings.Contains(b, "hong@")
		}
		for _, p := range []string{"/api/v1/cases/kakao-2022/exports/claims.csv", "/api/v1/cases/kakao-2022/exports/plaintiffs.csv",
			"/api/v1/cases/kakao-2022/exports/claims.ndjson", "/api/v1/cases/kakao-2022/exports/claims.csv?redact=true"} {
			r := e.do("GET", p, nil, bearer(e.lawyer)...)
			wantStatus(t, r, 200)
			if !masked(r) {
				t.Errorf("lawyer %s not redacted:\n%s", p, r.Body)
			}
		}
		var before int64
		e.st.Gorm().Model(&models.AuditEvent{}).Where("action = ?", "export").Count(&before)
		r := e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv?redact=false", nil, append(bearer(e.lawyer), "Accept-Language", "en")...)
		wantStatus(t, r, 403)
		if body, _ := r.json(t)["error"].(map[string]any); body["code"] != "forbidden" || !strings.Contains(fmt.Sprint(body["message"]), "always redacted") {
			t.Errorf("refusal %v", body)
		}
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.csv?redact=false", nil, bearer(e.lawyer)...), 403)
		var after int64
		e.st.Gorm().Model(&models.AuditEvent{}).Where("action = ?", "export").Count(&after)
		if after != before {
			t.Errorf("refused exports were audited: %d -> %d", before, after)
		}

		// The admin is not listed: full data, and its background file is not the lawyer's.
		r = e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv", nil, bearer(e.admin)...)
		wantStatus(t, r, 200)
		if !strings.Contains(string(r.Body), "홍길동") {
			t.Errorf("admin export redacted:\n%s", r.Body)
		}
		r = e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.csv", nil, bearer(e.admin)...)
		wantStatus(t, r, 202)
		loc := r.Header.Get("Location")
		e.waitExport(loc, e.admin)
		wantStatus(t, e.do("GET", loc+"/file", nil, bearer(e.lawyer)...), 403)
		if f := e.do("GET", loc+"/file", nil, bearer(e.admin)...); f.Status != 200 || !strings.Contains(string(f.Body), "홍길동") {
			t.Errorf("admin's own file: %d\n%s", f.Status, f.Body)
		}

		// The lawyer's own background export is redacted without asking.
		r = e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.csv", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 202)
		loc = r.Header.Get("Location")
		e.waitExport(loc, e.lawyer)
		if f := e.do("GET", loc+"/file", nil, bearer(e.lawyer)...); f.Status != 200 || !masked(f) {
			t.Errorf("lawyer's background file: %d\n%s", f.Status, f.Body)
		}
	})
}

func TestBackgroundExport(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.withExportRunner()
		exportFixture(e)
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.xlsx", nil, bearer(e.importer)...), 403)
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.csv?redact=yes", nil, bearer(e.lawyer)...), 422)

		r := e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.csv?redact=true&service=kakao_t", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 202)
		job := r.json(t)
		loc := r.Header.Get("Location")
		if loc != "/api/v1/exports/"+itoa(int64(job["id"].(float64))) || job["rows_total"] != float64(2) || job["export"] != "claims" {
			t.Fatalf("job %v at %q", job, loc)
		}
		deadline := time.Now().Add(20 * time.Second)
		for job["status"] != "succeeded" {
			if time.Now().After(deadline) || job["status"] == "failed" {
				t.Fatalf("export did not succeed: %v", job)
			}
			time.Sleep(20 * time.Millisecond)
			job = e.do("GET", loc, nil, bearer(e.admin)...).json(t)
		}
		if job["rows_done"] != float64(2) || job["download_url"] != loc+"/file" {
			t.Errorf("finished job %v", job)
		}
		f := e.do("GET", loc+"/file", nil, bearer(e.lawyer)...)
		wantStatus(t, f, 200)
		body := string(f.Body)
		if !strings.HasPrefix(body, "\uFEFFreference,") || strings.Count(body, "\r\n") != 3 || !strings.Contains(body, ",홍*동,h***@example.com,") {
			t.Errorf("file:\n%s", body)
		}
		if f.Header.Get("Content-Length") != strconv.Itoa(len(f.Body)) {
			t.Errorf("Content-Length %q for %d bytes", f.Header.Get("Content-Length"), len(f.Body))
		}
		// The direct export of the same request is the same file.
		direct := e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv?redact=true&service=kakao_t", nil, bearer(e.lawyer)...)
		if string(direct.Body) != body {
			t.Errorf("background file differs from the direct export:\n%s\n%s", body, direct.Body)
		}
		wantStatus(t, e.do("GET", "/api/v1/exports/999999", nil, bearer(e.lawyer)...), 404)
		wantStatus(t, e.do("GET", "/api/v1/exports/abc/file", nil, bearer(e.lawyer)...), 404)

		// The plaintiff list is asked for as its claims (three) and written as its people (two):
		// once done, its total is what it wrote.
		r = e.do("POST", "/api/v1/cases/kakao-2022/exports/plaintiffs.csv", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 202)
		if job := r.json(t); job["rows_total"] != float64(3) {
			t.Errorf("plaintiff list asked for: %v", job)
		}
		if job := e.waitExport(r.Header.Get("Location"), e.lawyer); job["status"] != "succeeded" || job["rows_done"] != float64(2) || job["rows_total"] != float64(2) {
			t.Errorf("plaintiff list done: %v", job)
		}

		// Asked for, downloaded, and the direct one: three audit records.
		var evs []models.AuditEvent
		if err := e.st.Gorm().Where("entity = ?", "claims").Order("id").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 || !strings.Contains(evs[0].Details, `"background":"queued"`) || !strings.Contains(evs[1].Details, `"background":"downloaded"`) ||
			!strings.Contains(evs[1].Details, `"redacted":true`) {
			for _, ev := range evs {
				t.Logf("%+v", ev)
			}
			t.Errorf("%d audit events", len(evs))
		}
	})
}

// Exports take every filter of the claims list, read by the same code, directly and in the
// background; the audit trail keeps a free-text search masked.
func TestExportListFilters(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.withExportRunner()
		exportFixture(e)
		rows := func(body string) int { return strings.Count(body, "\r\n") - 1 } // minus the header
		for _, c := range []struct {
			query string
			items int // items export
			plain int // plaintiff list (claimants)
		}{
			{"", 4, 2},
			{"kind=payment", 1, 1},
			{"kind=message&channel=api", 1, 1},
			{"channel=web", 0, 0},
			{"q=%ED%99%8D", 3, 1},        // 홍: the beginning of a name
			{"q=eq%40example.com", 1, 1}, // an email
			{"q=010-1234", 3, 1},         // a phone number
			{"submitted_from=2022-10-01&submitted_to=2022-10-01", 0, 0},
			{"min_score=1000000", 0, 0},
			{"flag=no_such_signal", 0, 0},
			{"status=received,under_review,cured", 4, 2}, // several statuses: any of them
			{"status=approved,withdrawn", 0, 0},
		} {
			r := e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv?"+c.query, nil, bearer(e.lawyer)...)
			wantStatus(t, r, 200)
			if n := rows(string(r.Body)); n != c.items {
				t.Errorf("claims.csv?%s: %d items, want %d:\n%s", c.query, n, c.items, r.Body)
			}
			r = e.do("GET", "/api/v1/cases/kakao-2022/exports/plaintiffs.csv?"+c.query, nil, bearer(e.lawyer)...)
			wantStatus(t, r, 200)
			if n := rows(string(r.Body)) - 1; n != c.plain { // minus the total row
				t.Errorf("plaintiffs.csv?%s: %d plaintiffs, want %d:\n%s", c.query, n, c.plain, r.Body)
			}
		}
		r := e.do("GET", "/api/v1/cases/kakao-2022/exports/claims.csv?kind=spaceship&submitted_to=tomorrow", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 422)
		if got := fields(t, r); strings.Join(got, "; ") != "kind invalid_value; submitted_to invalid_format" {
			t.Errorf("fields %q", got)
		}

		// The background job reads the same filters again.
		r = e.do("POST", "/api/v1/cases/kakao-2022/exports/claims.csv?q=%ED%99%8D%EA%B8%B8%EB%8F%99&kind=taxi_booking", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 202)
		loc := r.Header.Get("Location")
		if job := e.waitExport(loc, e.lawyer); job["status"] != "succeeded" || job["rows_total"] != float64(1) {
			t.Fatalf("job %v", job)
		}
		f := e.do("GET", loc+"/file", nil, bearer(e.lawyer)...)
		if rows(string(f.Body)) != 1 || !strings.Contains(string(f.Body), ",taxi_booking,") {
			t.Errorf("background file:\n%s", f.Body)
		}
		var evs []models.AuditEvent
		if err := e.st.Gorm().Where("action = ?", "export").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if strings.Contains(ev.Details, "홍길동") || strings.Contains(ev.Details, "eq@example") || strings.Contains(ev.Details, "010-1234") {
				t.Errorf("audit details keep the search: %s", ev.Details)
			}
		}
		if !strings.Contains(evs[len(evs)-1].Details, `"q":"홍*동"`) {
			t.Errorf("last audit details %s", evs[len(evs)-1].Details)
		}
	})
}
