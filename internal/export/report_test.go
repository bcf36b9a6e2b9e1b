package export_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/models"
)

// pdfText extracts the text of a PDF with pdftotext (poppler-utils). A missing pdftotext is a
// failure, not a skip: the check that Korean renders must never silently not run.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatalf("pdftotext not found: install poppler-utils (`make deps` does) to check the PDF report: %v", err)
	}
	cmd := exec.Command(bin, "-enc", "UTF-8", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pdftotext: %v: %s", err, stderr.String())
	}
	return out.String()
}

func TestReportPDF(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		for _, tc := range []struct {
			lang messages.Lang
			want []string
		}{
			{messages.Ko, []string{"사건 보고서", "2022년 10월 카카오 서비스 장애", "장애 경위와 장애 구간", "kakao_t", "택시", "전면 장애",
				"산정 규칙 버전 1", "지연손해금", "시간대별 청구 항목", "일별 청구 접수", "보상안 구간별", "서비스별 내역", "카카오페이",
				"비교 기준", "자료 품질", "중복 청구", "보완 요청 중인 청구", "청구 추정액 합계", "Kakao Mobility notice 10-16 14:00"}},
			{messages.En, []string{"Case report", "Kakao outage of October 2022", "Methodology and rule version", "Delay interest", "Data quality"}},
		} {
			rep, err := export.BuildReport(context.Background(), fx.st, fx.svc, fx.cs, testNow, tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := export.WritePDF(&buf, rep, testNow, ""); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", buf.Bytes()[:20])
			}
			text := pdfText(t, buf.Bytes())
			flat := strings.Join(strings.Fields(text), " ")
			for _, w := range tc.want {
				if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("%s: PDF text lacks %q", tc.lang, w)
				}
			}
			if t.Failed() {
				t.Logf("PDF text:\n%s", text)
			}
		}
	})
}

func TestReportFigures(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		rep, err := export.BuildReport(context.Background(), fx.st, fx.svc, fx.cs, testNow, messages.Ko)
		if err != nil {
			t.Fatal(err)
		}
		figures := map[string]string{}
		for _, f := range append(append(rep.Headline, rep.Quality...), rep.Benchmark...) {
			figures[f.Label] = f.Value
		}
		for label, want := range map[string]string{
			// The duplicate and the withdrawn claim count in no total (their statuses do).
			"청구 건수": "7", "청구 항목": "8", "배상 대상 아님": "1", "배상 대상 항목 (부분 장애)": "1",
			"보완 요청 중인 청구": "1", "중복 청구": "1", "취하된 청구": "1", "이상 징후 표시 청구": "0",
			"해당 항목": "2", "카카오 보상안 지급액": "80,000원",
		} {
			if figures[label] != want {
				t.Errorf("%s = %q, want %q", label, figures[label], want)
			}
		}
		if len(rep.Charts) != 3 {
			t.Fatalf("%d charts, want 3", len(rep.Charts))
		}
		// A claim with a fraud signal is counted as flagged.
		var cl models.Claim
		if err := fx.st.Gorm().Where("case_id = ?", fx.cs.ID).Order("id").Take(&cl).Error; err != nil {
			t.Fatal(err)
		}
		if err := fx.svc.RecordSignal(context.Background(), &cl, "honeypot", "test"); err != nil {
			t.Fatal(err)
		}
		flagged, err := export.BuildReport(context.Background(), fx.st, fx.svc, fx.cs, testNow, messages.Ko)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range flagged.Quality {
			if f.Label == "이상 징후 표시 청구" && f.Value != "1" {
				t.Errorf("flagged claims %q after a signal, want 1", f.Value)
			}
		}
		// The hourly chart has the windows drawn behind the bars (translucent bands).
		bands := 0
		for _, r := range rep.Charts[0].Rects {
			if r.Opacity < 1 && r.Opacity > 0 && strings.Contains(r.Title, "KST") {
				bands++
			}
		}
		if bands != len(fx.cs.Windows) {
			t.Errorf("%d window bands, want %d", bands, len(fx.cs.Windows))
		}
	})
}

func TestReportHTML(t *testing.T) {
	fx := newFixture(t, "sqlite")
	rep, err := export.BuildReport(context.Background(), fx.st, fx.svc, fx.cs, testNow, messages.Ko)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := export.WriteHTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, w := range []string{"<!doctype html>", `<html lang="ko">`, "<h1>사건 보고서</h1>", "<svg", "<rect", "<title>kakao_t/taxi down 2022-10-15 15:30 – 2022-10-16 14:00 KST</title>",
		"@media print", "산정 규칙 버전 1", "카카오페이"} {
		if !strings.Contains(html, w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://"} {
		if strings.Contains(html, bad) && !strings.Contains(html, `xmlns="http://www.w3.org/2000/svg"`) || strings.Contains(html, "<script") {
			t.Errorf("HTML holds %q", bad)
		}
	}
	if !strings.HasPrefix(export.ReportCSP, "default-src 'none'; style-src 'sha256-") {
		t.Errorf("CSP %q", export.ReportCSP)
	}
}
