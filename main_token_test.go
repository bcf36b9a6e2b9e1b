package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestRevokedAdminTokenStaysRevoked: an admin revokes the token given in CLAIMDESK_ADMIN_TOKEN
// (say it leaked) through DELETE /tokens/:id; the next start, with the same value still in
// the environment, serves, keeps the token refused and says so at error level without
// printing the value.
func TestRevokedAdminTokenStaysRevoked(t *testing.T) {
	dir := t.TempDir()
	const tok = "leaked-operator-token-0123456789"
	p := start(t, dir, "CLAIMDESK_ADMIN_TOKEN="+tok)
	if code := get(t, "http://"+p.addr+"/api/v1/cases/kakao-2022/claims", tok); code != 200 {
		t.Fatalf("env token: %d", code)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "data", "claimdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = db.QueryRow("SELECT id FROM api_tokens WHERE name = 'CLAIMDESK_ADMIN_TOKEN'").Scan(&id)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("DELETE", fmt.Sprintf("http://%s/api/v1/tokens/%d", p.addr, id), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	p.stop(t)

	for restart := 1; restart <= 2; restart++ {
		p = start(t, dir, "CLAIMDESK_ADMIN_TOKEN="+tok)
		if code := get(t, "http://"+p.addr+"/api/v1/cases/kakao-2022/claims", tok); code != http.StatusUnauthorized {
			t.Errorf("restart %d: the revoked env token answers %d, want 401", restart, code)
		}
		logs := p.stderr.String()
		found := false
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "level=ERROR") && strings.Contains(line, "CLAIMDESK_ADMIN_TOKEN is revoked") {
				found = true
			}
		}
		if !found {
			t.Errorf("restart %d: no error line about the revoked token:\n%s", restart, logs)
		}
		if strings.Contains(logs+p.stdout.String(), tok) {
			t.Errorf("restart %d: the token value was printed", restart)
		}
		p.stop(t)
	}
}
