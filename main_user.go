package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/staff"
	"github.com/claimdesk/claimdesk/internal/store"
)

// userCmd is `claimdesk user create --email E --role admin|lawyer`: the password is read from
// the first line of stdin (a prompt is written to stderr), never from a flag, which would
// leave it in the shell history and the process list.
func userCmd(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: claimdesk user create --email EMAIL --role admin|lawyer  (password on stdin)")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email, used to sign in")
	role := fs.String("role", "", "admin or lawyer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	e := auth.NormalizeEmail(*email)
	if e == "" || !strings.Contains(e, "@") {
		return fmt.Errorf("--email must be an email address, not %q", *email)
	}
	if *role != string(auth.Admin) && *role != string(auth.Lawyer) {
		return fmt.Errorf("--role must be admin or lawyer, not %q", *role)
	}
	fmt.Fprint(os.Stderr, "Password (12 to 72 bytes): ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < auth.MinPassword || len(pw) > auth.MaxPassword {
		return auth.ErrWeakPassword
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	u, _, err := staff.Create(ctx, st, e, *role, pw, audit.Actor{Kind: audit.ActorCLI, Name: "claimdesk user create"}, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d created: %s (%s)\n", u.ID, u.Email, u.Role)
	return nil
}

// deficiencyCheck is how often the expiry job looks for deficient claims past their deadline.
const deficiencyCheck = 15 * time.Minute

// startReview starts the deficiency expiry job in the background, with the review
// configuration config read (CLAIMDESK_REVIEW_CONFIG).
func startReview(st *store.Store, review claims.ReviewConfig, log *slog.Logger, bg *background) *claims.ReviewConfig {
	svc := &claims.Service{Store: st, Now: time.Now, Review: &review}
	bg.Go(func(ctx context.Context) {
		svc.RunExpiry(ctx, deficiencyCheck, func(err error) { log.Error("deficiency expiry failed", "err", err) })
	})
	return &review
}
