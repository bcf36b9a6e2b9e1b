package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// TestExportCommand runs `claimdesk export` for each format against a fresh SQLite database:
// files appear only when complete, bad flags are refused, and every export is audited as done
// from the command line.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "claimdesk.db")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(binary(t), append([]string{"export"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CLAIMDESK_DATABASE_URL="+db)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		err := cmd.Run()
		if err != nil {
			return stderr.Bytes(), err
		}
		return out.Bytes(), nil
	}
	out, err := run("--format", "csv")
	if err != nil || !bytes.HasPrefix(out, []byte("\uFEFFreference,status,")) {
		t.Fatalf("csv to stdout: %v %q", err, out)
	}
	for _, tc := range []struct{ format, file, magic string }{
		{"xlsx", "claims.xlsx", "PK"}, {"ndjson", "claims.ndjson", ""}, {"plaintiffs-csv", "p.csv", "\uFEFFno,"},
		{"plaintiffs-xlsx", "p.xlsx", "PK"}, {"pdf", "report.pdf", "%PDF-"}, {"html", "report.html", "<!doctype html>"},
	} {
		path := filepath.Join(dir, tc.file)
		if msg, err := run("--format", tc.format, "--out", path, "--redact"); err != nil {
			t.Fatalf("%s: %v: %s", tc.format, err, msg)
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte(tc.magic)) {
			t.Errorf("%s: %v %.20q", tc.format, err, b)
		}
	}
	for _, bad := range [][]string{{"--format", "docx"}, {}, {"--format", "csv", "--service", "naver"}, {"--format", "csv", "--eligibility", "maybe"},
		{"--format", "csv", "--status", "lost"}, {"--format", "csv", "--submitted-after", "yesterday"}} {
		if msg, err := run(bad...); err == nil || !strings.Contains(string(msg), "claimdesk:") {
			t.Errorf("%q accepted: %s", bad, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); err == nil {
		t.Error("a failed export left a file")
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []models.AuditEvent
	if err := st.Gorm().Where("action = ?", "export").Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	if len(evs) != 7 {
		t.Fatalf("%d export events, want 7", len(evs))
	}
	for _, ev := range evs {
		if ev.ActorKind != "cli" || ev.EntityID != "kakao-2022" || !strings.Contains(ev.Details, `"completed":true`) {
			t.Errorf("event %+v", ev)
		}
	}
	if !strings.Contains(evs[1].Details, `"redacted":true`) || evs[6].Entity != "report" {
		t.Errorf("events %+v / %+v", evs[1], evs[6])
	}
}
