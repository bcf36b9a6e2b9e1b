package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
)

const exportUsage = "usage: claimdesk export [--case SLUG] --format csv|xlsx|ndjson|plaintiffs-csv|plaintiffs-xlsx|pdf|html " +
	"[--out FILE] [--redact] [--bom=false] [--lang ko|en] [--status S] [--service S] [--eligibility E] [--submitted-after T]"

// exportCmd writes an export of a case to a file (or stdout), like the API does, and records
// it in the audit trail as done from the command line by the OS user.
func exportCmd(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	caseSlug := fs.String("case", seed.Kakao2022, "the case to export")
	format := fs.String("format", "", "csv, xlsx, ndjson (claim items), plaintiffs-csv, plaintiffs-xlsx, pdf or html (case report)")
	out := fs.String("out", "", "file to write (default: standard output)")
	redact := fs.Bool("redact", false, "mask names, emails and phones")
	bom := fs.Bool("bom", true, "start a CSV with a UTF-8 byte order mark (for Excel)")
	lang := fs.String("lang", "ko", "language of labels and of the report: ko or en")
	status := fs.String("status", "", "only claims with this status, or any of several separated by commas")
	service := fs.String("service", "", "only items of this service")
	eligibility := fs.String("eligibility", "", "only items of this eligibility")
	after := fs.String("submitted-after", "", "only claims submitted after this time (RFC 3339 or local)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *format == "" {
		return errors.New(exportUsage)
	}
	kinds := map[string]struct {
		entity string
		format export.Format
	}{
		"csv": {audit.EntityClaims, export.CSV}, "xlsx": {audit.EntityClaims, export.XLSX}, "ndjson": {audit.EntityClaims, export.NDJSON},
		"plaintiffs-csv": {audit.EntityPlaintiffs, export.CSV}, "plaintiffs-xlsx": {audit.EntityPlaintiffs, export.XLSX},
		"pdf": {audit.EntityReport, export.PDF}, "html": {audit.EntityReport, export.HTML},
	}
	kind, ok := kinds[*format]
	if !ok {
		return fmt.Errorf("--format %q: %s", *format, exportUsage)
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.Case(ctx, *caseSlug)
	if err != nil {
		return fmt.Errorf("case %s: %w", *caseSlug, err)
	}
	// The filters are read as the claims list reads them (claims.ListFilter), as the API does.
	q, filters := url.Values{}, map[string]string{}
	for k, v := range map[string]string{"status": *status, "service": *service, "eligibility": *eligibility, "submitted_after": *after} {
		if v != "" {
			q.Set(k, v)
			filters[k] = v
		}
	}
	lf, err := claims.ListFilter(cs, q)
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			return err
		}
		var msgs []string
		for _, fe := range ae.Fields {
			msgs = append(msgs, "--"+strings.ReplaceAll(fe.Path, "_", "-")+": "+messages.Field(messages.En, fe))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	f := store.ExportFilterOf(lf)
	now := time.Now()
	opts := export.Options{Format: kind.format, BOM: *bom, Redact: *redact, Lang: messages.Parse(*lang), Now: now, Filters: filters}

	// Write to a temporary file beside the target and rename it at the end, so a failed
	// export never leaves a file that looks complete.
	var w io.Writer = stdout
	var tmp *os.File
	if *out != "" {
		if tmp, err = os.CreateTemp(filepath.Dir(*out), ".claimdesk-export-*"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = tmp
	}
	var rows int64
	switch kind.entity {
	case audit.EntityClaims:
		var res export.Result
		res, err = export.Items(ctx, st, cs, f, w, opts)
		rows = res.Rows
	case audit.EntityPlaintiffs:
		var res export.Result
		res, err = export.Plaintiffs(ctx, st, cs, f, w, opts)
		rows = res.Rows
	default:
		var rep *export.Report
		rep, err = export.BuildReport(ctx, st, &claims.Service{Store: st, Now: func() time.Time { return now }}, cs, now, opts.Lang)
		if err == nil && kind.format == export.PDF {
			err = export.WritePDF(w, rep, now, cfg.FontDir)
		} else if err == nil {
			err = export.WriteHTML(w, rep)
		}
		rows = 1
	}
	if err == nil && tmp != nil {
		if err = tmp.Close(); err == nil {
			err = os.Rename(tmp.Name(), *out)
		}
	}
	name := os.Getenv("USER")
	if u, uerr := user.Current(); uerr == nil {
		name = u.Username
	}
	caseID := cs.ID
	details := map[string]any{"format": string(kind.format), "rows": rows, "redacted": *redact, "completed": err == nil, "lang": string(opts.Lang), "filters": filters}
	if rerr := audit.Record(context.WithoutCancel(ctx), st, time.Now(), audit.Event{Actor: audit.Actor{Kind: audit.ActorCLI, Name: name},
		CaseID: &caseID, Action: audit.ActionExport, Entity: kind.entity, EntityID: cs.Slug, Details: details}); rerr != nil && err == nil {
		err = fmt.Errorf("export written, but not recorded in the audit trail: %w", rerr)
	}
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(os.Stderr, "claimdesk: %s export of %s: %d rows written to %s\n", *format, cs.Slug, rows, *out)
	}
	return nil
}
