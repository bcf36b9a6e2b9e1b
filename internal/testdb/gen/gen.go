// Package gen fills a case with synthetic claims for benchmarks, set-based in SQL: a million
// items take seconds instead of the minutes row-by-row inserts would. Items runs on both
// engines; Valued on PostgreSQL only.
package gen

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/store"
)

// Items writes n items in claims of three (taxi, payment, message) spread over the outage
// and the days around it, set-based in SQL. Claim ids are assumed to start at 1 (a case in a
// fresh database).
func Items(ctx context.Context, st *store.Store, caseID int64, n int) error {
	if st.Dialect() == store.SQLite {
		return itemsSQLite(ctx, st, caseID, n)
	}
	db := st.Gorm().WithContext(ctx)
	claimsN := (n + 2) / 3
	if err := db.Exec(`INSERT INTO claims (case_id, reference, access_code_hash, content_hash, status, channel, claimant_name, claimant_phone,
		consent_at, consent_version, submitted_at, updated_at)
	SELECT ?, 'CD-B' || g, '\x00'::bytea, md5(g::text), 'received', 'import', '홍길동' || g, '+8210' || lpad(g::text, 8, '0'), now(), 'bench', now(), now()
	FROM generate_series(1, ?) g`, caseID, claimsN).Error; err != nil {
		return err
	}
	return db.Exec(`INSERT INTO claim_items (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
		expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code)
	SELECT c.id, c.case_id, p,
		(ARRAY['taxi_booking','payment','message'])[p+1],
		(ARRAY['kakao_t','kakao_pay','kakaotalk'])[p+1],
		(ARRAY['taxi','payments','text'])[p+1],
		timestamptz '2022-10-15 03:00:00+00' + (c.id % 97) * interval '1 hour' + (c.id % 3600) * interval '1 second',
		CASE WHEN p = 2 THEN timestamptz '2022-10-15 03:00:00+00' + (c.id % 97 + c.id % 7) * interval '1 hour' + (c.id % 3600) * interval '1 second' END,
		(ARRAY['booking_failed','double_charged',''])[p+1],
		CASE WHEN p = 2 THEN (ARRAY['personal','business'])[c.id % 2 + 1] ELSE '' END,
		CASE WHEN p = 0 THEN 8000 + c.id % 20000 ELSE 0 END,
		CASE WHEN p = 0 THEN 15000 + c.id % 40000 ELSE 0 END,
		CASE WHEN p = 1 THEN 1000 + c.id % 200000 ELSE 0 END,
		(c.id * 7919) % 700000,
		c.id % 3 = 0, '', 'eligible', 'in_down_window'
	FROM claims c CROSS JOIN generate_series(0, 2) p
	WHERE c.case_id = ? AND (c.id - 1) * 3 + p < ?`, caseID, n).Error
}

// itemsSQLite is Items in SQLite's dialect: the same rows, from a recursive series.
func itemsSQLite(ctx context.Context, st *store.Store, caseID int64, n int) error {
	db := st.Gorm().WithContext(ctx)
	now := time.Now().UTC().Truncate(time.Microsecond)
	claimsN := (n + 2) / 3
	if err := db.Exec(`WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < ?)
	INSERT INTO claims (case_id, reference, access_code_hash, content_hash, status, channel, claimant_name, claimant_phone,
		consent_at, consent_version, submitted_at, updated_at)
	SELECT ?, 'CD-B' || g, x'00', printf('%032x', g), 'received', 'import', '홍길동' || g, '+8210' || printf('%08d', g), ?, 'bench', ?, ?
	FROM g`, claimsN, caseID, now, now, now).Error; err != nil {
		return err
	}
	const at = `strftime('%Y-%m-%d %H:%M:%S+00:00', '2022-10-15 03:00:00', '+' || (c.id % 97 %s) || ' hours', '+' || (c.id % 3600) || ' seconds')`
	return db.Exec(`WITH RECURSIVE p(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM p WHERE p < 2)
	INSERT INTO claim_items (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
		expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code)
	SELECT c.id, c.case_id, p,
		CASE p WHEN 0 THEN 'taxi_booking' WHEN 1 THEN 'payment' ELSE 'message' END,
		CASE p WHEN 0 THEN 'kakao_t' WHEN 1 THEN 'kakao_pay' ELSE 'kakaotalk' END,
		CASE p WHEN 0 THEN 'taxi' WHEN 1 THEN 'payments' ELSE 'text' END,
		`+strings.Replace(at, "%s", "", 1)+`,
		CASE WHEN p = 2 THEN `+strings.Replace(at, "%s", "+ c.id % 7", 1)+` END,
		CASE p WHEN 0 THEN 'booking_failed' WHEN 1 THEN 'double_charged' ELSE '' END,
		CASE WHEN p = 2 THEN CASE c.id % 2 WHEN 0 THEN 'personal' ELSE 'business' END ELSE '' END,
		CASE WHEN p = 0 THEN 8000 + c.id % 20000 ELSE 0 END,
		CASE WHEN p = 0 THEN 15000 + c.id % 40000 ELSE 0 END,
		CASE WHEN p = 1 THEN 1000 + c.id % 200000 ELSE 0 END,
		(c.id * 7919) % 700000,
		c.id % 3 = 0, '', 'eligible', 'in_down_window'
	FROM claims c CROSS JOIN p
	WHERE c.case_id = ? AND (c.id - 1) * 3 + p < ?`, caseID, n).Error
}

// Valued fills the valuation columns of the case's claims and items with plausible amounts,
// set-based, as if every claim had been valued under rules version 1: the shape exports and
// reports read, without running the valuation (the numbers are not the methodology's).
func Valued(ctx context.Context, st *store.Store, caseID int64) error {
	db := st.Gorm().WithContext(ctx)
	if err := db.Exec(`UPDATE claim_items i SET
		window_id = (SELECT w.id FROM outage_windows w WHERE w.case_id = i.case_id AND w.service = i.service AND w.feature = i.feature ORDER BY w.start_at LIMIT 1),
		principal_krw = (i.expected_fare_krw + i.alternative_cost_krw + i.amount_krw + i.loss_krw) / 2,
		interest_krw = (i.expected_fare_krw + i.alternative_cost_krw + i.amount_krw + i.loss_krw) / 21
	WHERE i.case_id = ?`, caseID).Error; err != nil {
		return err
	}
	return db.Exec(`UPDATE claims c SET rules_version = 1, valued_as_of = '2023-10-15',
		principal_krw = s.p, interest_krw = s.i, estimate_krw = s.p + s.i
	FROM (SELECT claim_id, SUM(principal_krw) AS p, SUM(interest_krw) AS i FROM claim_items WHERE case_id = ? GROUP BY claim_id) s
	WHERE c.id = s.claim_id`, caseID).Error
}

// BenchItems is how many items a benchmark stores: CLAIMDESK_BENCH_ITEMS when it is a positive
// number, else def.
func BenchItems(def int) int {
	if v, err := strconv.Atoi(os.Getenv("CLAIMDESK_BENCH_ITEMS")); err == nil && v > 0 {
		return v
	}
	return def
}
