package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// mutation is one state-changing request of the API and the audit event it must record.
type mutation struct {
	prep           func()      // sets up what run needs (its own records are not counted)
	run            func() resp // the change
	entity, action string      // the event it records
	read           bool        // an export: a read, recorded after it ran, not a change
}

// readOnlyRoutes change nothing the audit trail covers (claims, windows, rules, users, tokens),
// with the reason.
var readOnlyRoutes = map[string]string{
	"POST /api/v1/cases/:case/claims/validate": "stores nothing",
	"POST /api/v1/cases/:case/rules/simulate":  "stores nothing",
	"DELETE /api/v1/imports/:id":               "cancels an import: the claims it stored are audited when its transaction commits",
	"POST /api/v1/cases/:case/imports":         "queues a file: its claims are audited when the import commits (TestImportIsAudited)",
}

// mutations returns, for every state-changing route of the API, a request that changes
// something and the audit event it records.
func mutations(t *testing.T, e *env) map[string]*mutation {
	ref := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
	ref2 := e.file(person("김", "dup@example.com", "", taxi("2022-10-15T18:40:00+09:00")))
	ref3 := e.file(person("김", "dup@example.com", "", taxi("2022-10-15T18:50:00+09:00")))
	sign := e.signIn(e.newUser("admin", "a-admin@example.com"))
	var cs map[string]any
	json.Unmarshal(e.do("GET", "/api/v1/cases/kakao-2022", nil).Body, &cs)
	var rs map[string]any
	json.Unmarshal(e.do("GET", "/api/v1/cases/kakao-2022/rules", nil, bearer(e.admin)...).Body, &rs)
	var wins []map[string]any
	for _, w := range cs["windows"].([]any) {
		m := w.(map[string]any)
		delete(m, "id")
		wins = append(wins, m)
	}
	var tokenID any
	var userID int64
	out := map[string]*mutation{
		"PUT /api/v1/cases/:case/windows": {entity: "windows", action: "update", run: func() resp {
			return e.do("PUT", "/api/v1/cases/kakao-2022/windows", map[string]any{"windows": wins}, bearer(e.lawyer)...)
		}},
		"PUT /api/v1/cases/:case/rules": {entity: "rules", action: "update", run: func() resp {
			return e.doWith(false, "PUT", "/api/v1/cases/kakao-2022/rules", string(mustJSON(rs["rules"])), append(bearer(e.admin), "Content-Type", "application/json")...)
		}},
		"POST /api/v1/cases/:case/claims": {entity: "claim", action: "submit", run: func() resp {
			return e.do("POST", "/api/v1/cases/kakao-2022/claims", person("최", "choi@example.com", "", payment("2022-10-15T19:00:00+09:00")))
		}},
		"POST /api/v1/cases/:case/claims/batch": {entity: "claims", action: "submit", run: func() resp {
			b := claim(payment("2022-10-15T19:00:00+09:00"))
			b["external_ref"] = "X-1"
			return e.do("POST", "/api/v1/cases/kakao-2022/claims/batch", map[string]any{"claims": []any{b}}, bearer(e.importer)...)
		}},
		"POST /api/v1/cases/:case/claims/transitions": {entity: "claim", action: "transition", run: func() resp {
			return e.do("POST", "/api/v1/cases/kakao-2022/claims/transitions", map[string]any{"references": []string{ref}, "to": "under_review"}, bearer(e.lawyer)...)
		}},
		"POST /api/v1/claims/:reference/transitions": {entity: "claim", action: "transition", run: func() resp {
			return e.move(ref2, map[string]any{"to": "under_review"}, e.lawyer)
		}},
		"POST /api/v1/cases/:case/duplicates/decisions": {entity: "claim", action: "decide_duplicate", run: func() resp {
			return e.do("POST", "/api/v1/cases/kakao-2022/duplicates/decisions", map[string]any{"claim": ref3, "other": ref2, "decision": "not_duplicate"}, bearer(e.lawyer)...)
		}},
		"POST /api/v1/claims/:reference/erasure": {entity: "claim", action: "erase", run: func() resp {
			return e.do("POST", "/api/v1/claims/"+ref3+"/erasure", nil, bearer(e.admin)...)
		}},
		"POST /api/v1/tokens": {entity: "token", action: "create", run: func() resp {
			return e.do("POST", "/api/v1/tokens", map[string]any{"role": "lawyer", "name": "x"}, bearer(e.admin)...)
		}},
		"DELETE /api/v1/tokens/:id": {entity: "token", action: "revoke",
			prep: func() {
				r := e.do("POST", "/api/v1/tokens", map[string]any{"role": "lawyer", "name": "y"}, bearer(e.admin)...)
				tokenID = r.json(t)["id"]
			},
			run: func() resp { return e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%v", tokenID), nil, bearer(e.admin)...) }},
		"POST /api/v1/users": {entity: "user", action: "create", run: func() resp {
			return e.do("POST", "/api/v1/users", map[string]any{"email": "new@example.com", "role": "lawyer"}, bearer(e.admin)...)
		}},
		"POST /api/v1/users/:id/disable": {entity: "user", action: "disable",
			prep: func() { userID = e.newUser("lawyer", "gone@example.com") },
			run: func() resp {
				return e.do("POST", fmt.Sprintf("/api/v1/users/%d/disable", userID), nil, bearer(e.admin)...)
			}},
		"POST /api/v1/session": {entity: "user", action: "sign_in",
			prep: func() { e.newUser("lawyer", "in@example.com") },
			run: func() resp {
				return e.do("POST", "/api/v1/session", map[string]any{"email": "in@example.com", "password": testPassword})
			}},
		"DELETE /api/v1/session": {entity: "user", action: "sign_out", run: func() resp {
			return e.do("DELETE", "/api/v1/session", nil, sign.headers(true)...)
		}},
	}
	for _, name := range []string{"claims.csv", "claims.xlsx", "claims.ndjson", "plaintiffs.csv", "plaintiffs.xlsx"} {
		path := "/api/v1/cases/kakao-2022/exports/" + name
		out["POST /api/v1/cases/:case/exports/"+name] = &mutation{entity: strings.TrimSuffix(name, name[strings.Index(name, "."):]), action: "export", read: true,
			run: func() resp { return e.do("POST", path, nil, bearer(e.lawyer)...) }}
	}
	return out
}

// mutatingRoutes lists the state-changing routes of the API from the router's own list.
func mutatingRoutes() []string {
	var out []string
	for _, rt := range api.New(api.Config{}).(interface{ Routes() gin.RoutesInfo }).Routes() {
		if strings.HasPrefix(rt.Path, "/api/") && rt.Method != "GET" && rt.Method != "HEAD" {
			out = append(out, rt.Method+" "+rt.Path)
		}
	}
	return out
}

// TestEveryMutatingRouteIsAudited runs every state-changing route of the API (from the
// router's own list) and checks that it recorded the event of its change (entity and action).
// A new POST, PUT, PATCH or DELETE route fails this test until it is added to mutations, or to
// readOnlyRoutes with the reason it changes nothing auditable.
func TestEveryMutatingRouteIsAudited(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ms := mutations(t, e)
		for _, key := range mutatingRoutes() {
			if _, ok := readOnlyRoutes[key]; ok {
				continue
			}
			m, ok := ms[key]
			if !ok {
				t.Errorf("%s changes state but is neither exercised by this test nor allow-listed: add it", key)
				continue
			}
			if m.prep != nil {
				m.prep()
			}
			last := e.lastAuditID()
			r := m.run()
			if r.Status >= 300 {
				t.Errorf("%s: %d %s", key, r.Status, r.Body)
				continue
			}
			var evs []models.AuditEvent
			e.st.Gorm().Where("id > ?", last).Order("id").Find(&evs)
			found := false
			for _, ev := range evs {
				found = found || (ev.Entity == m.entity && ev.Action == m.action)
			}
			if !found {
				t.Errorf("%s changed state without its audit record %s/%s (recorded: %+v)", key, m.entity, m.action, evs)
			}
		}
	})
}

// TestAuditIsCommittedWithTheChange makes the database refuse audit records, then runs every
// state-changing route: each must fail and leave the database as it was. A change committed
// before (or without) its audit record, in a transaction of its own, shows up here as a
// changed table.
func TestAuditIsCommittedWithTheChange(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ms := mutations(t, e)
		refuse := e.refuseAuditRecords()
		for _, key := range mutatingRoutes() {
			m := ms[key]
			if m == nil || m.read {
				continue // reported by TestEveryMutatingRouteIsAudited; exports change nothing
			}
			if m.prep != nil {
				m.prep()
			}
			before := e.snapshot()
			refuse(true)
			r := m.run()
			refuse(false)
			if r.Status < 400 {
				t.Errorf("%s succeeded (%d) although its audit record could not be written", key, r.Status)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("%s changed the database without its audit record:\n%s", key, diffLines(before, after))
			}
		}
	})
}

// TestFailedChangeIsNotAudited sends every state-changing route an empty body as an admin:
// what is refused records nothing.
func TestFailedChangeIsNotAudited(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ref := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
		for _, key := range mutatingRoutes() {
			method, path, _ := strings.Cut(key, " ")
			for _, p := range [][2]string{{":case", "kakao-2022"}, {":reference", ref}, {":id", "999999"}} {
				path = strings.ReplaceAll(path, p[0], p[1])
			}
			last := e.lastAuditID()
			before := e.snapshot()
			r := e.doWith(false, method, path, "{}", append(bearer(e.admin), "Content-Type", "application/json")...)
			if r.Status < 400 {
				continue // an empty body is a valid request here (an export)
			}
			if got := e.lastAuditID(); got != last {
				var ev models.AuditEvent
				e.st.Gorm().Where("id > ?", last).Take(&ev)
				t.Errorf("%s refused (%d) but audited: %+v", key, r.Status, ev)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("%s refused (%d) but changed the database:\n%s", key, r.Status, diffLines(before, after))
			}
		}
	})
}

func (e *env) lastAuditID() int64 {
	e.t.Helper()
	var id int64
	if err := e.st.Gorm().Model(&models.AuditEvent{}).Select("COALESCE(MAX(id), 0)").Scan(&id).Error; err != nil {
		e.t.Fatal(err)
	}
	return id
}

// refuseAuditRecords installs a trigger that makes inserts into audit_events fail while it is
// switched on, and returns the switch.
func (e *env) refuseAuditRecords() func(on bool) {
	e.t.Helper()
	db := e.st.Gorm()
	stmts := []string{"CREATE TABLE audit_refused (on_ INTEGER)"}
	if e.st.Dialect() == store.Postgres {
		stmts = append(stmts, `CREATE FUNCTION refuse_audit() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM audit_refused) THEN RAISE EXCEPTION 'audit record refused by the test'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql`,
			"CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()")
	} else {
		stmts = append(stmts, `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_refused) BEGIN SELECT RAISE(ABORT, 'audit record refused by the test'); END`)
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	return func(on bool) {
		q := "DELETE FROM audit_refused"
		if on {
			q = "INSERT INTO audit_refused VALUES (1)"
		}
		if err := db.Exec(q).Error; err != nil {
			e.t.Fatal(err)
		}
	}
}

// snapshotQueries read what the audit trail covers, and what a change of it writes with it.
// Sessions are read without last_seen_at, which every request of a signed-in user moves.
var snapshotQueries = []string{
	"SELECT * FROM cases ORDER BY id", "SELECT * FROM outage_windows ORDER BY id", "SELECT * FROM rule_sets ORDER BY id",
	"SELECT * FROM claims ORDER BY id", "SELECT * FROM claim_items ORDER BY claim_id, position", "SELECT * FROM claim_transitions ORDER BY 1",
	"SELECT * FROM claim_duplicates ORDER BY 1, 2", "SELECT * FROM evidence ORDER BY 1", "SELECT * FROM api_tokens ORDER BY id",
	"SELECT * FROM users ORDER BY id", "SELECT id, user_id FROM sessions ORDER BY id",
}

// snapshot renders every row snapshotQueries read, one line each.
func (e *env) snapshot() string {
	e.t.Helper()
	var sb strings.Builder
	for _, q := range snapshotQueries {
		rows, err := e.st.Gorm().Raw(q).Rows()
		if err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				e.t.Fatal(err)
			}
			fmt.Fprintf(&sb, "%s:", q)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = fmt.Sprintf("%x", b)
				}
				fmt.Fprintf(&sb, " %s=%v", cols[i], v)
			}
			sb.WriteByte('\n')
		}
		rows.Close()
	}
	return sb.String()
}

// diffLines lists the lines only one of a and b has.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var sb strings.Builder
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			sb.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			sb.WriteString("+ " + l + "\n")
		}
	}
	return sb.String()
}
