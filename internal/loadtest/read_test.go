package loadtest_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
)

// BenchmarkReadLatency measures GET /claims/{reference} and the claims list (first pages,
// filters, deep cursors) on PostgreSQL with 1,000,000 stored items (CLAIMDESK_BENCH_ITEMS),
// at a steady rate (CLAIMDESK_READ_RATE, default 200 req/s). Target: p99 under 50 ms.
func BenchmarkReadLatency(b *testing.B) {
	n := gen.BenchItems(1_000_000)
	rate := 200
	if v, err := strconv.Atoi(os.Getenv("CLAIMDESK_READ_RATE")); err == nil && v > 0 {
		rate = v
	}
	ctx := context.Background()
	url := testdb.Postgres(b)
	st, c := casedb.OpenURL(b, url)
	began := time.Now()
	if err := gen.Items(ctx, st, c.ID, n); err != nil {
		b.Fatal(err)
	}
	if err := gen.Valued(ctx, st, c.ID); err != nil {
		b.Fatal(err)
	}
	// Real references (the generator's are placeholders), spread over the whole table.
	db := st.Gorm().WithContext(ctx)
	if err := db.Exec(`UPDATE claims SET reference = 'CD-' || upper(substr(md5(id::text), 1, 4)) || '-' ||
		upper(substr(md5(id::text), 5, 4)) || '-' || upper(substr(md5(id::text), 9, 4)) WHERE case_id = ?`, c.ID).Error; err != nil {
		b.Fatal(err)
	}
	// The reference rewrite left a dead version of every claim: vacuum them now, as
	// autovacuum would minutes later, in the middle of a measurement.
	if err := db.Exec("VACUUM ANALYZE claims, claim_items").Error; err != nil {
		b.Fatal(err)
	}
	var refs []string
	if err := db.Raw(`SELECT reference FROM claims WHERE case_id = ? ORDER BY random() LIMIT 2000`, c.ID).Scan(&refs).Error; err != nil {
		b.Fatal(err)
	}
	var ids []int64
	db.Raw(`SELECT id FROM claims WHERE case_id = ? ORDER BY random() LIMIT 200`, c.ID).Scan(&ids)
	b.Logf("generated %d items in %s", n, time.Since(began).Round(time.Millisecond))

	bin := filepath.Join(b.TempDir(), "claimdesk")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = repoRoot(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	const token = "read-bench-admin-token-0123456789"
	service := start(b, bin, "/readyz", "CLAIMDESK_DATABASE_URL="+url, "CLAIMDESK_ADDR=ADDR", "CLAIMDESK_ADMIN_TOKEN="+token)
	list := service + "/api/v1/cases/kakao-2022/claims"
	kinds := []struct {
		name string
		url  func(r *rand.Rand) string
	}{
		{"GET /claims/{reference}", func(r *rand.Rand) string { return service + "/api/v1/claims/" + refs[r.IntN(len(refs))] }},
		{"list, first page", func(*rand.Rand) string { return list + "?limit=50" }},
		{"list, service+eligibility", func(*rand.Rand) string { return list + "?limit=50&service=kakao_t&eligibility=eligible" }},
		{"list, status filter", func(*rand.Rand) string { return list + "?limit=100&status=received" }},
		{"list, deep cursor", func(r *rand.Rand) string { return list + "?limit=50&cursor=" + cursorOf(ids[r.IntN(len(ids))]) }},
	}
	// get reads the urls of kind k, in order, at rate for d (pace, open loop).
	get := func(k int, seed uint64, d time.Duration) paced {
		r := rand.New(rand.NewPCG(seed, seed+1))
		urls := make([]string, int(float64(rate)*d.Seconds()))
		for i := range urls {
			urls[i] = kinds[k].url(r)
		}
		p, err := pace(service, rate, len(urls), 32, func(i int, req *fasthttp.Request) {
			req.SetRequestURI(urls[i])
			req.Header.Set("Authorization", "Bearer "+token)
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.err(); err != nil {
			b.Logf("%s: transport errors: %v", kinds[k].name, err)
		}
		return p
	}
	// The service builds the case report when it starts (about 2 s of CPU at this size) and its
	// connections and caches are cold: each kind of request runs for two seconds first, not
	// measured.
	for k := range kinds {
		get(k, 3, 2*time.Second)
	}
	for i := 0; i < b.N; i++ {
		fmt.Printf("\nread latency on PostgreSQL, %d items, %d req/s for %s each:\n", n, rate, loadDuration())
		for k := range kinds {
			p := get(k, 1, loadDuration())
			fmt.Printf("  %-28s p50 %8s  p99 %8s  max %8s  statuses %v  (target p99 < 50ms)\n", kinds[k].name,
				p.quantile(0.5).Round(10*time.Microsecond), p.quantile(0.99).Round(10*time.Microsecond), p.quantile(1).Round(10*time.Microsecond), p.statusCounts())
		}
	}
}

// cursorOf is the list's cursor after claim id (the store's encoding: big-endian id, base64url).
func cursorOf(id int64) string {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(id)
		id >>= 8
	}
	return base64URL(b)
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
