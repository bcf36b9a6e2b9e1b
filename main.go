// Command claimdesk takes in claims for a class action after a platform outage, decides each
// claim's eligibility against the outage windows and values it. See README.md.
//
//	claimdesk [serve]                       run the service (the default)
//	claimdesk migrate [up|status]           apply or list database migrations
//	claimdesk token create --role R [--name N]   print a new API token
//	claimdesk import [--case SLUG] [--dry-run] FILE   import a CSV or NDJSON file of claims
//	claimdesk gen --rows N [--out FILE]           write a synthetic CSV of claims
//	claimdesk export [--case SLUG] --format F [--out FILE]   export claims, the plaintiff list or the report
//	claimdesk user create --email E --role admin|lawyer   add a staff user (password on stdin)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/logsink"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

func main() {
	config.TuneGC()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "claimdesk:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	// The service's log lines go through a sink, one write for many lines under load; the
	// other commands write theirs at once, in order with their progress and prompts.
	var logOut io.Writer = os.Stderr
	if cmd == "serve" {
		sink := logsink.New(os.Stderr)
		defer sink.Close()
		logOut = sink
	}
	log := cfg.Logger(logOut)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		return migrate(ctx, cfg, args, stdout)
	case "token":
		return token(ctx, cfg, args, stdout)
	case "import":
		return importCmd(ctx, cfg, log, args, stdout)
	case "gen":
		return genCmd(args, stdout)
	case "export":
		return exportCmd(ctx, cfg, args, stdout)
	case "user":
		return userCmd(ctx, cfg, args, os.Stdin, stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, migrate, token, import, gen, export, user)", cmd)
	}
}

// openStore opens and migrates the database, and loads the shipped case.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
		st.Close()
		return nil, fmt.Errorf("load case %s: %w", seed.Kakao2022, err)
	}
	return st, nil
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensureAdmin(ctx, st, cfg, log, stdout); err != nil {
		return err
	}
	bgCtx, stopBackground := context.WithCancel(ctx)
	bg := &background{ctx: bgCtx, log: log}
	defer bg.wait()
	defer stopBackground() // before the wait: a listener that fails ends the background work too
	imports, runner := newJobs(st, log, cfg)
	bg.Go(func(ctx context.Context) { runImports(ctx, runner, log) }) // imports queued or cut short by a crash resume here
	review := startReview(st, cfg.Review, log, bg)
	handler := api.New(api.Config{Store: st, Logger: log, Background: bg.Go, Importer: imports, Jobs: runner, ImportMaxBytes: cfg.ImportMaxBytes, Review: review,
		TrustedProxies: cfg.TrustedProxies, SessionSecret: cfg.SessionSecret, WebSubmitEvery: cfg.WebSubmitEvery, WebSubmitBurst: cfg.WebSubmitBurst, SecureCookies: cfg.SecureCookies, RedactRoles: cfg.RedactRoles, FontDir: cfg.FontDir, WarmReports: true,
		RevaluationEvery: revaluationCheck})
	bg.Go(func(ctx context.Context) { erasures(ctx, st, cfg.Retention, log) })
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("claimdesk listening", "addr", cfg.Addr, "database", string(st.Dialect()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// revaluationCheck is how often the service looks for claims to re-value: after a restart cut a
// rule change's revaluation short, or once the day has changed under rules valued as of today
// (so such estimates are at most this late into a new day).
const revaluationCheck = 15 * time.Minute

// background runs work that outlives a request; on shutdown its context is cancelled and serve
// waits for it (work is resumable: what a stop cuts short is redone at the next start). A panic
// of that work is logged and ends only that work: the process goes on serving claims.
type background struct {
	ctx context.Context
	log *slog.Logger
	wg  sync.WaitGroup
}

func (b *background) Go(fn func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.run(fn); err != nil {
			b.log.Error("background work failed", "err", err)
		}
	}()
}

func (b *background) run(fn func(ctx context.Context)) (err error) {
	defer apperr.Catch("background work", &err)
	fn(b.ctx)
	return nil
}

func (b *background) wait() { b.wg.Wait() }

// ensureAdmin makes sure someone can administer the service: the token given in the
// environment, or, on a first start without one, a new token printed this once. A configured
// token an admin has revoked stays revoked (it may have leaked): the service starts anyway, for
// the other tokens and the claimants, and the log says why the configured one is refused.
func ensureAdmin(ctx context.Context, st *store.Store, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	if cfg.AdminToken != "" {
		now := time.Now()
		tok := &models.APIToken{Name: "CLAIMDESK_ADMIN_TOKEN", Role: string(auth.Admin), TokenHash: auth.Hash(cfg.AdminToken)}
		_, err := st.EnsureToken(ctx, tok,
			func(before, after *models.APIToken) (*models.AuditEvent, error) {
				e := audit.Event{Actor: audit.Actor{Kind: audit.ActorSystem, Name: "CLAIMDESK_ADMIN_TOKEN"}, Action: audit.ActionCreate, Entity: audit.EntityToken,
					EntityID: fmt.Sprint(after.ID), After: map[string]any{"id": after.ID, "role": after.Role, "name": after.Name}}
				if before != nil {
					e.Action = audit.ActionUpdate
					e.Before = map[string]any{"id": before.ID, "role": before.Role}
				}
				return e.Model(now)
			})
		if errors.Is(err, store.ErrTokenRevoked) {
			// Never the value itself: the log is no place for a secret, leaked or not.
			log.Error("CLAIMDESK_ADMIN_TOKEN is revoked and cannot be used; set a new value to administer through it", "token_id", tok.ID)
			return nil
		}
		return err
	}
	ok, err := st.HasLiveAdminToken(ctx)
	if err != nil || ok {
		return err
	}
	secret := auth.NewToken()
	now := time.Now()
	err = st.CreateTokenAudited(ctx, &models.APIToken{Name: "first admin", Role: string(auth.Admin), TokenHash: auth.Hash(secret)}, func(t *models.APIToken) (*models.AuditEvent, error) {
		return audit.TokenCreated(audit.Actor{Kind: audit.ActorSystem, Name: "first start"}, t, now)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nFirst start: an admin API token was created. It is shown only now; keep it safe:\n\n    %s\n\n", secret)
	return nil
}

func migrate(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "up":
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "status":
		sts, err := st.MigrationStatuses(ctx)
		if err != nil {
			return err
		}
		for _, m := range sts {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%05d  %-8s %s\n", m.Version, state, m.Source)
		}
		return nil
	default:
		return fmt.Errorf("unknown migrate command %q (up, status)", sub)
	}
}

func token(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: claimdesk token create --role admin|lawyer|importer [--name NAME]")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	role := fs.String("role", "", "admin, lawyer or importer")
	name := fs.String("name", "cli", "a name to recognise the token by")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !auth.Role(*role).Valid() {
		return fmt.Errorf("--role must be admin, lawyer or importer, not %q", *role)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := auth.NewToken()
	now := time.Now()
	err = st.CreateTokenAudited(ctx, &models.APIToken{Name: *name, Role: *role, TokenHash: auth.Hash(secret)}, func(t *models.APIToken) (*models.AuditEvent, error) {
		return audit.TokenCreated(audit.Actor{Kind: audit.ActorCLI, Name: "claimdesk token create"}, t, now)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

// erasures removes personal data no longer kept, at start and then every hour: what an earlier
// version left on withdrawn claims (claims.Service.EraseWithdrawn, until it has succeeded once),
// that of closed claims older than the retention period when there is one (EraseExpired), and
// uploads a dead process left half received more than a day ago (an upload still coming in on
// another instance is younger).
func erasures(ctx context.Context, st *store.Store, retention time.Duration, log *slog.Logger) {
	svc := &claims.Service{Store: st, Now: time.Now}
	withdrawn := false // the withdrawn claims' sweep is done
	for {
		if !withdrawn {
			n, err := svc.EraseWithdrawn(ctx)
			if withdrawn = err == nil; !withdrawn && ctx.Err() == nil {
				log.Error("erasing withdrawn claims failed", "err", err)
			} else if n > 0 {
				log.Info("personal data of withdrawn claims erased", "claims", n)
			}
		}
		if retention > 0 {
			if n, err := svc.EraseExpired(ctx, retention); err != nil && ctx.Err() == nil {
				log.Error("retention sweep failed", "err", err)
			} else if n > 0 {
				log.Info("personal data erased after the retention period", "claims", n)
			}
		}
		if n, err := st.DeleteAbandonedUploads(ctx, time.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Warn("removing abandoned uploads failed", "err", err)
		} else if n > 0 {
			log.Info("removed abandoned uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}
