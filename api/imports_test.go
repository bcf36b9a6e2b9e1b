package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// withRunner gives e a job runner, so its imports run in the background as in serve; with
// maxBytes > 0 uploads are limited to it.
func (e *env) withRunner(maxBytes int64) *env {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &claims.Service{Store: e.st, Now: func() time.Time { return testNow }}
	im := &importer.Importer{Store: e.st, Claims: svc, Log: log, Live: importer.NewLive(), BatchSize: 2, Heartbeat: 20 * time.Millisecond}
	r := &jobs.Runner{Store: e.st, Log: log, Poll: 20 * time.Millisecond, Lease: 5 * time.Second, Now: func() time.Time { return time.Now() }}
	r.Handle(store.JobImport, im)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); wg.Wait() })
	e.h = api.New(api.Config{Store: e.st, Logger: log, Now: func() time.Time { return testNow }, Importer: im, Jobs: r, ImportMaxBytes: maxBytes})
	return e
}

// eachImportDB runs fn against both databases, each with a job runner.
func eachImportDB(t *testing.T, fn func(t *testing.T, e *env)) {
	eachDB(t, func(t *testing.T, e *env) { fn(t, e.withRunner(0)) })
}

// raw sends a body as it is with its content type. The exchange is checked against the
// OpenAPI document once the route is documented there.
func (e *env) raw(method, path, contentType string, body []byte, headers ...string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if documented(req) {
		checkOpenAPI(e.t, req, body, r.Status, r.Header, r.Body)
	}
	return r
}

// json sends v as JSON, checked like raw.
func (e *env) json(method, path string, v any, headers ...string) resp {
	e.t.Helper()
	b, ok := v.(string)
	if !ok {
		raw, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		b = string(raw)
	}
	return e.raw(method, path, "application/json", []byte(b), headers...)
}

// get sends a request without a body, checked like raw.
func (e *env) get(method, path string, headers ...string) resp {
	e.t.Helper()
	return e.raw(method, path, "", nil, headers...)
}

func documented(req *http.Request) bool {
	_, router, err := oaLoad()
	if err != nil {
		return false
	}
	_, _, err = router.FindRoute(req)
	return err == nil
}

// upload posts a CSV file and returns the new import's id.
func (e *env) upload(token, query, body string) int64 {
	e.t.Helper()
	r := e.raw("POST", "/api/v1/cases/kakao-2022/imports"+query, "text/csv", []byte(body), bearer(token)...)
	wantStatus(e.t, r, 202)
	v := r.json(e.t)
	id := int64(v["id"].(float64))
	if v["status"] != "queued" || v["status_url"] != fmt.Sprintf("/api/v1/imports/%d", id) || r.Header.Get("Location") == "" {
		e.t.Fatalf("upload answer %s", r.Body)
	}
	return id
}

// wait polls an import until it ends and returns its status answer.
func (e *env) wait(token string, id int64) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r := e.get("GET", fmt.Sprintf("/api/v1/imports/%d", id), bearer(token)...)
		wantStatus(e.t, r, 200)
		v := r.json(e.t)
		switch v["status"] {
		case "succeeded", "failed", "cancelled":
			return v
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("import %d did not end", id)
	return nil
}

// importCSV uploads a CSV and waits for its end.
func (e *env) importCSV(token, query, body string) map[string]any {
	e.t.Helper()
	return e.wait(token, e.upload(token, query, body))
}

func num(v map[string]any, key string) int64 {
	f, _ := v[key].(float64)
	return int64(f)
}

func wantCounts(t *testing.T, v map[string]any, status string, rows, created, unchanged, rejectedRows int64) {
	t.Helper()
	if v["status"] != status || num(v, "rows_read") != rows || num(v, "claims_created") != created ||
		num(v, "claims_unchanged") != unchanged || num(v, "rows_rejected") != rejectedRows {
		t.Fatalf("import: %v\nwant status %s, rows %d, created %d, unchanged %d, rows rejected %d", v, status, rows, created, unchanged, rejectedRows)
	}
}

// errorsCSV downloads the error report: its header and rows.
func (e *env) errorsCSV(token string, id int64, lang string) ([]string, [][]string) {
	e.t.Helper()
	r := e.get("GET", fmt.Sprintf("/api/v1/imports/%d/errors.csv", id), append(bearer(token), "Accept-Language", lang)...)
	wantStatus(e.t, r, 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		e.t.Fatalf("errors.csv content type %q", ct)
	}
	body, ok := bytes.CutPrefix(r.Body, []byte("\ufeff"))
	if !ok {
		e.t.Fatal("errors.csv has no BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		e.t.Fatalf("errors.csv: %v\n%s", err, body)
	}
	return recs[0], recs[1:]
}

const csvHeader = "claim_ref,claimant_name,email,phone,kind,service,feature,occurred_at,ended_at,failure,purpose,expected_fare_krw,alternative_cost_krw,amount_krw,loss_krw,documented,description\n"

// goodCSV has three claims in four rows (the first claim has two items).
const goodCSV = csvHeader +
	"A-1,홍길동,hong@example.com,010-1234-5678,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,\n" +
	"A-1,홍길동,hong@example.com,010-1234-5678,payment,kakao_pay,,2022-10-15 19:00,,double_charged,,,,50000,,1,\n" +
	"A-2,김영희,,010-2222-3333,message,kakaotalk,,2022-10-15 16:00,2022-10-15 20:00,,business,,,,400000,false,\"거래처 연락 불가, \"\"긴급\"\"\"\n" +
	"A-3,이철수,lee@example.com,,other,daum,mail,2022-10-19 09:00,,,,,,,10000,n,메일 수신 불가\n"

func TestImportCSV(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		// BOM, CRLF, columns in another order than claimdesk writes them.
		body := "\ufeff" + strings.ReplaceAll(goodCSV, "\n", "\r\n")
		v := e.importCSV(e.importer, "", body)
		wantCounts(t, v, "succeeded", 4, 3, 0, 0)
		if v["started_at"] == nil || v["finished_at"] == nil || v["rows_per_second"] == nil || v["attestation"] == "" || v["case"] != "kakao-2022" {
			t.Errorf("status lacks figures: %v", v)
		}
		var cs []models.Claim
		if err := e.st.Gorm().Preload("Items").Order("external_ref").Find(&cs).Error; err != nil {
			t.Fatal(err)
		}
		if len(cs) != 3 || len(cs[0].Items) != 2 || cs[0].Channel != "import" || cs[0].ImportID == nil || cs[0].Reference == "" {
			t.Fatalf("stored claims: %+v", cs)
		}
		if cs[0].Items[0].Eligibility != "eligible" || cs[2].Items[0].Eligibility != "eligible_degraded" || cs[0].EstimateKRW == nil {
			t.Errorf("eligibility/valuation not decided: %+v %+v", cs[0].Items[0], cs[2].Items[0])
		}
		if cs[1].Items[0].Description != `거래처 연락 불가, "긴급"` {
			t.Errorf("quoted field read as %q", cs[1].Items[0].Description)
		}
		// The same file again creates nothing; the error report of both is empty.
		again := e.importCSV(e.importer, "", goodCSV)
		wantCounts(t, again, "succeeded", 4, 0, 3, 0)
		if n := e.countClaims(); n != 3 {
			t.Fatalf("%d claims after a repeat, want 3", n)
		}
		head, rows := e.errorsCSV(e.importer, num(again, "id"), "ko")
		if len(rows) != 0 || strings.Join(head, ",")+"\n" != strings.Replace(csvHeader, "\n", ",error_row,error_column,error_code,error_message\n", 1) {
			t.Errorf("errors.csv of a clean file: %v %v", head, rows)
		}
	})
}

func TestImportErrorReport(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		e.importCSV(e.importer, "", goodCSV)
		body := csvHeader +
			// line 2-3: the second row has a bad time and a bad amount: the whole claim is rejected.
			"B-1,박민수,park@example.com,,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,no_driver,,9000,20000,,,y,\n" +
			"B-1,,,,payment,kakao_pay,,2022/10/15 7pm,,payment_failed,,,,12x,,maybe,\n" +
			// line 4: fine.
			"B-2,최지우,choi@example.com,,other,kakao_map,map,2022-10-15 17:00,,,,,,,5000,n,\n" +
			// line 5: unknown service; no contact.
			"B-3,정하늘,,,other,kakao_bank,,2022-10-15 17:00,,,,,,,5000,n,\n" +
			// line 6: A-2 sent before with other content: conflict.
			"A-2,김영희,,010-2222-3333,message,kakaotalk,,2022-10-15 16:00,2022-10-15 21:00,,business,,,,400000,false,\n" +
			// line 7: a row with a field missing.
			"B-4,한별,han@example.com,,other,daum,mail,2022-10-15 17:00,,,,,,,5000,n\n" +
			// line 8: B-1 again, apart from its rows.
			"B-1,박민수,park@example.com,,other,daum,mail,2022-10-15 17:00,,,,,,,5000,n,\n"
		v := e.importCSV(e.importer, "", body)
		wantCounts(t, v, "succeeded", 7, 1, 0, 6)
		// B-1 is one claim, counted once with the row of it that comes back.
		if num(v, "claims_rejected") != 4 {
			t.Errorf("claims_rejected %d, want 4", num(v, "claims_rejected"))
		}
		head, rows := e.errorsCSV(e.importer, num(v, "id"), "en")
		if len(head) != 21 || head[0] != "claim_ref" || head[17] != "error_row" {
			t.Fatalf("errors.csv header %v", head)
		}
		var got []string
		for _, r := range rows {
			if len(r) != 21 {
				t.Fatalf("errors.csv row has %d fields: %v", len(r), r)
			}
			if r[20] == "" {
				t.Errorf("no message: %v", r)
			}
			got = append(got, strings.Join([]string{r[0], r[17], r[18], r[19]}, " "))
		}
		want := []string{
			"B-1 2 claim_ref ", // rejected with its claim
			"B-1 3 occurred_at invalid_format",
			"B-1 3 amount_krw invalid_format",
			"B-1 3 documented invalid_format",
			"B-3 5 service unknown_service",
			"B-3 5 email required",
			"A-2 6 claim_ref conflict",
			"B-4 7  invalid_format",
			"B-1 8 claim_ref conflict",
		}
		// Row 2 carries no error of its own: its line says it went with its claim.
		want[0] = "B-1 2  "
		if strings.Join(sorted(got), "\n") != strings.Join(sorted(want), "\n") {
			t.Errorf("errors.csv rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, r := range rows {
			if r[17] == "2" && !strings.Contains(r[20], "line 3") {
				t.Errorf("row 2 message %q does not point at line 3", r[20])
			}
			if r[18] == "occurred_at" && !strings.Contains(r[20], "2022-10-15") {
				t.Errorf("occurred_at message %q has no example", r[20])
			}
		}
		// Korean messages by default.
		_, ko := e.errorsCSV(e.importer, num(v, "id"), "")
		if !strings.Contains(ko[1][20], "형식") {
			t.Errorf("Korean message expected: %q", ko[1][20])
		}
	})
}

// errors.csv writes the sender's rows back for a spreadsheet: a cell it would evaluate is
// defused, and a row with a field too many still has its error columns under their names.
func TestImportErrorReportIsSafeToOpen(t *testing.T) {
	e := newEnv(t, "sqlite").withRunner(0)
	body := csvHeader +
		// line 2: no contact, and a name a spreadsheet would run.
		"F-1,\"=HYPERLINK(\"\"http://x\"\")\",,,other,daum,mail,2022-10-15 17:00,,,,,,,5000,n,\n" +
		// line 3: a field too many.
		"F-2,한별,han@example.com,,other,daum,mail,2022-10-15 17:00,,,,,,,5000,n,,@SUM(1)\n"
	v := e.importCSV(e.importer, "", body)
	head, rows := e.errorsCSV(e.importer, num(v, "id"), "en")
	if len(rows) != 2 {
		t.Fatalf("%d rows: %v; import %v", len(rows), rows, v)
	}
	for _, r := range rows {
		if len(r) != len(head) || r[17] == "" || r[19] == "" {
			t.Errorf("row of %d fields under a header of %d: %q", len(r), len(head), r)
		}
		for _, cell := range r {
			if strings.ContainsAny(cell[:min(1, len(cell))], "=+-@") {
				t.Errorf("cell %q would be evaluated", cell)
			}
		}
	}
	if rows[0][1] != `'=HYPERLINK("http://x")` || rows[1][17] != "3" {
		t.Errorf("rows %q", rows)
	}
}

func sorted(ss []string) []string {
	out := append([]string{}, ss...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestImportNDJSON(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		good := claim(taxi("2022-10-15T18:30:00+09:00"))
		good["external_ref"] = "N-1"
		noRef := claim(payment("2022-10-15 19:00"))
		unknown := claim(other("daum", "mail", "2022-10-16 09:00"))
		unknown["external_ref"] = "N-3"
		unknown["colour"] = "blue"
		line := func(v any) string { b, _ := json.Marshal(v); return string(b) }
		body := line(good) + "\n\n" + line(noRef) + "\r\n{not json\n" + line(unknown) + "\n"
		r := e.raw("POST", "/api/v1/cases/kakao-2022/imports", "application/x-ndjson", []byte(body), bearer(e.lawyer)...)
		wantStatus(t, r, 202)
		v := e.wait(e.lawyer, int64(r.json(t)["id"].(float64)))
		wantCounts(t, v, "succeeded", 4, 1, 0, 3)
		head, rows := e.errorsCSV(e.lawyer, num(v, "id"), "en")
		if strings.Join(head, ",") != "line,error_row,error_column,error_code,error_message" {
			t.Fatalf("header %v", head)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r[1]+" "+r[2]+" "+r[3])
		}
		want := []string{"3 external_ref required", "4  invalid_format", "5 colour unknown_field"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rows[0][0] != line(noRef) {
			t.Errorf("rejected line not as sent: %q", rows[0][0])
		}
	})
}

func TestImportDryRunAndMaxErrorRate(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		v := e.importCSV(e.importer, "?dry_run=true", goodCSV)
		wantCounts(t, v, "succeeded", 4, 3, 0, 0)
		if v["dry_run"] != true || e.countClaims() != 0 {
			t.Fatalf("dry run stored claims: %v, %d claims", v, e.countClaims())
		}
		bad := goodCSV + "C-1,유나,,,other,daum,mail,2022-10-15 17:00,,,,,,,,n,\n" // no contact
		// 1 bad row of 5 is over 10%: nothing is written, the report is kept.
		v = e.importCSV(e.importer, "?max_error_rate=0.1", bad)
		if v["status"] != "failed" || v["reason"].(map[string]any)["code"] != "max_error_rate_exceeded" || num(v, "rows_rejected") != 1 {
			t.Fatalf("over the error rate: %v", v)
		}
		if e.countClaims() != 0 {
			t.Fatal("a file over its error rate wrote claims")
		}
		if _, rows := e.errorsCSV(e.importer, num(v, "id"), "en"); len(rows) != 1 {
			t.Errorf("report of a file over its rate: %v", rows)
		}
		// Under the rate: the good claims go in.
		v = e.importCSV(e.importer, "?max_error_rate=0.25&dry_run=false", bad)
		wantCounts(t, v, "succeeded", 5, 3, 0, 1)
		for _, q := range []string{"?max_error_rate=2", "?max_error_rate=abc", "?dry_run=maybe"} {
			r := e.raw("POST", "/api/v1/cases/kakao-2022/imports"+q, "text/csv", []byte(goodCSV), bearer(e.importer)...)
			wantStatus(t, r, 422)
		}
	})
}

func TestImportBadFiles(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		long := csvHeader + "L-1,홍길동,h@example.com,,other,daum,mail,2022-10-15 17:00,,,,,,,,n," + strings.Repeat("가", 4<<20) + "\n"
		cases := []struct{ name, body, reason string }{
			{"empty", "", "file_empty"},
			{"header only", csvHeader, "file_no_rows"},
			{"missing column", "claim_ref,claimant_name,email,kind\nX,홍,h@example.com,other\n", "file_missing_column"},
			{"no contact column", "claim_ref,claimant_name,kind,occurred_at\nX,홍,other,2022-10-15 17:00\n", "file_missing_column"},
			{"duplicate column", "claim_ref,claimant_name,email,kind,occurred_at,email\nX,홍,a,other,2022,b\n", "file_duplicate_column"},
			{"unknown column", "claim_ref,claimant_name,email,kind,occurred_at,colour\nX,홍,a,other,2022,red\n", "file_unknown_column"},
			{"EUC-KR", "claim_ref,claimant_name,email,kind,occurred_at\nX,\xc8\xab\xb1\xe6\xb5\xbf,a@example.com,other,2022-10-15 17:00\n", "file_encoding"},
			{"10 MB line", long, "file_line_too_long"},
			{"unclosed quote", csvHeader + "Q-1,\"홍길동,h@example.com,,other,daum,mail,2022-10-15 17:00,,,,,,,,n,\n", "file_unclosed_quote"},
			{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "file_binary"},
		}
		for _, c := range cases {
			v := e.importCSV(e.importer, "", c.body)
			reason, _ := v["reason"].(map[string]any)
			if v["status"] != "failed" || reason == nil || reason["code"] != c.reason || reason["message"] == "" {
				t.Errorf("%s: %v, want failed with %s", c.name, v, c.reason)
			}
		}
		// A NUL byte further into the file is reported on its own line.
		v := e.importCSV(e.importer, "", csvHeader+"N-1,홍길동,h@example.com,,other,daum,mail,2022-10-15 17:00,,,,,,,,n,x\x00y\n")
		if reason, _ := v["reason"].(map[string]any); reason == nil || reason["code"] != "file_binary" || !strings.Contains(fmt.Sprint(reason["message"]), "(2행") && !strings.Contains(fmt.Sprint(reason["message"]), "line 2)") {
			t.Errorf("NUL on line 2: %v", v)
		}
		ndjson := e.raw("POST", "/api/v1/cases/kakao-2022/imports", "application/x-ndjson", []byte("\n\n"), bearer(e.importer)...)
		wantStatus(t, ndjson, 202)
		if v := e.wait(e.importer, int64(ndjson.json(t)["id"].(float64))); v["reason"].(map[string]any)["code"] != "file_empty" {
			t.Errorf("empty NDJSON: %v", v)
		}
		if e.countClaims() != 0 {
			t.Error("a bad file wrote claims")
		}
	})
}

func TestImportUploads(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("note", "partner batch")
		fw, _ := mw.CreateFormFile("file", "claims.csv")
		fw.Write([]byte(goodCSV))
		mw.Close()
		r := e.raw("POST", "/api/v1/cases/kakao-2022/imports", mw.FormDataContentType(), buf.Bytes(), bearer(e.admin)...)
		wantStatus(t, r, 202)
		wantCounts(t, e.wait(e.admin, int64(r.json(t)["id"].(float64))), "succeeded", 4, 3, 0, 0)

		buf.Reset()
		mw = multipart.NewWriter(&buf)
		mw.WriteField("note", "no file")
		mw.Close()
		r = e.raw("POST", "/api/v1/cases/kakao-2022/imports", mw.FormDataContentType(), buf.Bytes(), bearer(e.admin)...)
		wantStatus(t, r, 422)

		// A whole body whose file part lacks its closing boundary: the upload is cut short,
		// refused (it used to be left unanswered, which gin sent as an empty 200).
		buf.Reset()
		mw = multipart.NewWriter(&buf)
		fw, _ = mw.CreateFormFile("file", "claims.csv")
		fw.Write([]byte(goodCSV))
		r = e.raw("POST", "/api/v1/cases/kakao-2022/imports", mw.FormDataContentType(), buf.Bytes(), bearer(e.admin)...)
		if r.Status != 400 || errorCode(t, r) != "malformed_request" {
			t.Errorf("multipart without its end: %d %s", r.Status, r.Body)
		}

		wantStatus(t, e.raw("POST", "/api/v1/cases/kakao-2022/imports", "application/pdf", []byte("%PDF"), bearer(e.importer)...), 415)
		wantStatus(t, e.raw("POST", "/api/v1/cases/kakao-2022/imports", "", []byte(goodCSV), bearer(e.importer)...), 415)
		wantStatus(t, e.raw("POST", "/api/v1/cases/no-such-case/imports", "text/csv", []byte(goodCSV), bearer(e.importer)...), 404)
	})
}

func TestImportTooLarge(t *testing.T) {
	for _, d := range []string{"postgres", "sqlite"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d).withRunner(100)
			r := e.raw("POST", "/api/v1/cases/kakao-2022/imports", "text/csv", []byte(goodCSV), bearer(e.importer)...)
			wantStatus(t, r, 413)
			var n int64
			e.st.Gorm().Model(&models.Import{}).Count(&n)
			if n != 0 {
				t.Errorf("a refused upload left %d imports", n)
			}
		})
	}
}

func TestImportAuthorization(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		other := casedb.Token(t, e.st, auth.Importer, "other partner")
		path := "/api/v1/cases/kakao-2022/imports"
		wantStatus(t, e.raw("POST", path, "text/csv", []byte(goodCSV)), 401)
		id := e.upload(e.importer, "", goodCSV)
		e.wait(e.importer, id)
		status := fmt.Sprintf("/api/v1/imports/%d", id)
		for _, c := range []struct {
			method, path, token string
			want                int
		}{
			{"GET", status, "", 401},
			{"GET", status, other, 404}, // another importer's import does not exist for them
			{"GET", status + "/errors.csv", other, 404},
			{"DELETE", status, other, 404},
			{"GET", status, e.lawyer, 200},
			{"GET", status, e.admin, 200},
			{"GET", status + "/errors.csv", e.lawyer, 200},
			{"GET", "/api/v1/imports/999999", e.admin, 404},
			{"GET", "/api/v1/imports/abc", e.admin, 404},
			{"DELETE", status, e.importer, 409}, // finished
		} {
			var h []string
			if c.token != "" {
				h = bearer(c.token)
			}
			if r := e.get(c.method, c.path, h...); r.Status != c.want {
				t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.Status, c.want, r.Body)
			}
		}
	})
}

func TestImportCancelQueued(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// No runner: the import stays queued until cancelled.
		id := e.upload(e.importer, "", goodCSV)
		path := fmt.Sprintf("/api/v1/imports/%d", id)
		r := e.get("DELETE", path, bearer(e.importer)...)
		wantStatus(t, r, 202)
		if v := r.json(t); v["status"] != "cancelled" || v["finished_at"] == nil {
			t.Fatalf("cancel answer %s", r.Body)
		}
		wantStatus(t, e.get("DELETE", path, bearer(e.importer)...), 409)
		// A runner started now finds nothing to do.
		e.withRunner(0)
		time.Sleep(100 * time.Millisecond)
		if v := e.get("GET", path, bearer(e.importer)...).json(t); v["status"] != "cancelled" || e.countClaims() != 0 {
			t.Fatalf("cancelled import ran: %v", v)
		}
	})
}

// TestImportCancelAnswers: DELETE /imports/{id} as the import starts, runs or ends answers
// 202 only for an import that then ends cancelled with none of its claims stored, and 409 only
// for one that had already ended otherwise. A started import used to store its claims after
// its cancel was answered 202 ("stopping", cancel_requested): when the request came before
// the worker had registered the run in this process or after the heartbeat's last look (six
// in thirteen such cancels over HTTP on PostgreSQL; on SQLite, which has no heartbeat, most).
// Some files cannot be read: their import, asked to stop, ends cancelled, not failed.
func TestImportCancelAnswers(t *testing.T) {
	eachImportDB(t, func(t *testing.T, e *env) {
		const runs = 80
		stopping := 0
		for i := range runs {
			body := csvHeader + fmt.Sprintf("RC-%d,홍길동,hong@example.com,010-1234-5678,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,\n", i)
			ended := "succeeded"
			if i%5 == 4 {
				body, ended = csvHeader+fmt.Sprintf("RC-%d,\"홍길동\n", i), "failed" // a quote left open
			}
			id := e.upload(e.importer, "", body)
			path := fmt.Sprintf("/api/v1/imports/%d", id)
			// Every other cancel waits until a worker has taken the import, the rest go at once
			// (queued, or taken meanwhile).
			for deadline := time.Now().Add(10 * time.Second); i%2 == 1 && time.Now().Before(deadline); {
				if e.get("GET", path, bearer(e.importer)...).json(t)["status"] != "queued" {
					break
				}
			}
			r := e.get("DELETE", path, bearer(e.importer)...)
			end := e.wait(e.importer, id)
			var stored int64
			if err := e.st.Gorm().Model(&models.Claim{}).Where("import_id = ?", id).Count(&stored).Error; err != nil {
				t.Fatal(err)
			}
			switch r.Status {
			case 202:
				v := r.json(t)
				if v["status"] == "running" {
					stopping++
				}
				if end["status"] != "cancelled" || stored != 0 || num(end, "claims_created") != 0 {
					t.Errorf("import %d: cancel answered 202 (%s, cancel_requested %v), yet it ended %s with %d claims stored",
						id, v["status"], v["cancel_requested"], end["status"], stored)
				}
			case 409:
				if end["status"] != ended || stored != num(end, "claims_created") || errorCode(t, r) != "conflict" {
					t.Errorf("import %d: cancel answered 409 %s, and it ended %s with %d claims stored", id, r.Body, end["status"], stored)
				}
			default:
				t.Fatalf("cancel answered %d %s", r.Status, r.Body)
			}
		}
		t.Logf("%d of %d cancels came while the import ran", stopping, runs)
	})
}

// TestImportMalformedBody: an upload that is not HTTP (a chunk size that is not a number) is
// the client's mistake, answered 400 malformed_request as on the JSON endpoints, whether the
// file is the body or the part of a form; it was answered 500 (the read error reached
// writeError as an unknown one). Nothing is kept.
func TestImportMalformedBody(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		form := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"claims.csv\"\r\nContent-Type: text/csv\r\n\r\n" + csvHeader
		for _, c := range []struct{ name, contentType, body string }{
			{"CSV body", "text/csv", "5\r\nclaim\r\nZZ\r\n"},
			{"NDJSON body", "application/x-ndjson", fmt.Sprintf("%x\r\n%s\r\n-1\r\n", len(`{"external_ref":`), `{"external_ref":`)},
			{"file of a form", "multipart/form-data; boundary=B", fmt.Sprintf("%x\r\n%s\r\nZZ\r\n", len(form), form)},
		} {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /api/v1/cases/kakao-2022/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%s",
				e.importer, c.contentType, c.body)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			conn.Close()
			var eb api.ErrorBody
			if res.StatusCode != 400 || json.Unmarshal(body, &eb) != nil || eb.Error.Code != "malformed_request" {
				t.Errorf("%s: %d %s, want 400 malformed_request", c.name, res.StatusCode, body)
			}
		}
		var imports int64
		e.st.Gorm().Model(&models.Import{}).Count(&imports)
		if imports != 0 {
			t.Errorf("malformed uploads left %d imports", imports)
		}
	})
}

func TestClaimBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		path := "/api/v1/cases/kakao-2022/claims/batch"
		mk := func(ref string, items ...map[string]any) map[string]any {
			c := claim(items...)
			if ref != "" {
				c["external_ref"] = ref
			}
			return c
		}
		bad := mk("R-3", taxi("not a time"))
		bad["extra"] = 1
		body := map[string]any{"claims": []any{
			mk("R-1", taxi("2022-10-15 18:30")),
			mk("R-2", payment("2022-10-15 19:00"), message("2022-10-15 16:00", "2022-10-15 20:00")),
			bad,
			mk("", other("daum", "mail", "2022-10-16 09:00")),
			mk("R-1", taxi("2022-10-15 18:31")),
		}}
		r := e.json("POST", path, body, bearer(e.importer)...)
		wantStatus(t, r, 200)
		var out api.BatchResponse
		json.Unmarshal(r.Body, &out)
		if out.Created != 2 || out.Rejected != 3 || len(out.Results) != 5 {
			t.Fatalf("batch answer %s", r.Body)
		}
		first := out.Results[0]
		if first.Status != "created" || first.Reference == "" || first.AccessCode == "" || first.ExternalRef != "R-1" {
			t.Errorf("created result %+v", first)
		}
		var paths []string
		for _, f := range out.Results[2].Errors {
			paths = append(paths, f.Path+" "+f.Code)
		}
		if strings.Join(paths, ",") != "extra unknown_field,items[0].occurred_at invalid_format" {
			t.Errorf("errors of claim 2: %v", paths)
		}
		if errs := out.Results[3].Errors; len(errs) != 1 || errs[0].Path != "external_ref" || errs[0].Code != "required" {
			t.Errorf("claim without external_ref: %+v", out.Results[3])
		}
		if errs := out.Results[4].Errors; len(errs) != 1 || errs[0].Code != "conflict" {
			t.Errorf("repeated external_ref: %+v", out.Results[4])
		}
		// The claimant reads the created claim with the code of the batch answer.
		wantStatus(t, e.do("GET", "/api/v1/claims/"+first.Reference, nil, "X-Access-Code", first.AccessCode), 200)

		// Sent again: unchanged, same references; a changed claim is a conflict.
		body["claims"] = []any{mk("R-1", taxi("2022-10-15 18:30")), mk("R-2", payment("2022-10-15 19:05"))}
		r = e.json("POST", path, body, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		var again api.BatchResponse
		json.Unmarshal(r.Body, &again)
		if again.Unchanged != 1 || again.Results[0].Reference != first.Reference || again.Results[0].AccessCode != "" ||
			again.Results[1].Status != "rejected" || again.Results[1].Errors[0].Code != "conflict" {
			t.Errorf("second batch %s", r.Body)
		}
		if n := e.countClaims(); n != 2 {
			t.Errorf("%d claims stored, want 2", n)
		}
		// One audit event for the batch that created claims: counts and references, no
		// personal data.
		var events []models.AuditEvent
		e.st.Gorm().Where("entity_id = ?", "batch").Order("id").Find(&events)
		if len(events) != 1 || events[0].Action != "submit" || events[0].After == nil ||
			!strings.Contains(*events[0].After, first.Reference) || strings.Contains(*events[0].After, "홍길동") {
			t.Errorf("audit of the batches: %+v", events)
		}

		many := make([]any, api.MaxBatchClaims+1)
		for i := range many {
			many[i] = map[string]any{}
		}
		wantStatus(t, e.json("POST", path, map[string]any{"claims": many}, bearer(e.importer)...), 422)
		wantStatus(t, e.json("POST", path, map[string]any{"claims": []any{}}, bearer(e.importer)...), 422)
		wantStatus(t, e.json("POST", path, "{", bearer(e.importer)...), 400)
		wantStatus(t, e.raw("POST", path, "text/csv", []byte(goodCSV), bearer(e.importer)...), 415)
		wantStatus(t, e.json("POST", path, body), 401)
		wantStatus(t, e.json("POST", "/api/v1/cases/nope/claims/batch", body, bearer(e.admin)...), 404)
	})
}

// TestBatchBesideRunningImport: on PostgreSQL, a batch holding a claim whose external_ref a
// running import has written and not committed is answered 503 (database_busy, Retry-After)
// within seconds; it waited for the import to end.
func TestBatchBesideRunningImport(t *testing.T) {
	e := newEnv(t, "postgres")
	ctx := context.Background()
	svc := &claims.Service{Store: e.st, Now: time.Now}
	b, err := svc.Builder(ctx, "kakao-2022")
	if err != nil {
		t.Fatal(err)
	}
	yes, ref := true, "LK-1"
	m, err := b.Build(intake.ClaimInput{Claimant: intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, Consent: &yes, ExternalRef: &ref,
		Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver"}}}, claims.Meta{Channel: claims.ChannelImport})
	if err != nil {
		t.Fatal(err)
	}
	m.Reference, m.AccessCodeHash = auth.NewReference(), auth.HashAccessCode(auth.NewAccessCode())
	running, err := e.st.BeginBulk(ctx, b.Case.ID, b.Case.Revision, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Rollback()
	if _, err := running.Apply(ctx, []*models.Claim{m}); err != nil {
		t.Fatal(err)
	}
	c := claim(taxi("2022-10-15 18:30"))
	c["external_ref"] = ref
	start := time.Now()
	r := e.do("POST", "/api/v1/cases/kakao-2022/claims/batch", map[string]any{"claims": []any{c}}, bearer(e.importer)...)
	var eb api.ErrorBody
	if r.Status != 503 || json.Unmarshal(r.Body, &eb) != nil || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after %s: %d %s, want 503 with Retry-After", time.Since(start).Round(time.Millisecond), r.Status, r.Body)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("answered after %s", d)
	}
}
