package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestPostgresGoesAwayAndComesBack stops PostgreSQL under a stream of submissions: requests
// fail fast with 503 and Retry-After, /readyz turns red, and when the database is back the
// service recovers by itself. Every claim that got a 201 is stored; nothing else answered 201.
func TestPostgresGoesAwayAndComesBack(t *testing.T) {
	cl := testdb.NewCluster(t)
	st, _ := casedb.OpenURL(t, cl.URL())
	e := &env{t: t, st: st, h: api.New(api.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})}

	var (
		mu       sync.Mutex
		accepted []string
		statuses = map[int]int{}
		slowest  time.Duration
	)
	submit := func(i int) {
		body := claim(taxi("2022-10-15T18:30"))
		body["external_ref"] = fmt.Sprintf("fault-%d", i)
		start := time.Now()
		r := e.doQuiet("POST", "/api/v1/cases/kakao-2022/claims", body)
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		statuses[r.Status]++
		switch r.Status {
		case 201:
			accepted = append(accepted, r.json(t)["reference"].(string))
		case 503:
			if r.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if took > slowest {
				slowest = took
			}
		default:
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	}

	// Four clients submit without pause; the database stops after a while and comes back.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				submit(i)
			}
		}()
	}
	go func() {
		defer close(next)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case next <- i:
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	cl.Stop()
	time.Sleep(500 * time.Millisecond)
	if r := e.doQuiet("GET", "/readyz", nil); r.Status != 503 {
		t.Errorf("readyz with the database down: %d", r.Status)
	}
	cl.Start(t)
	deadline := time.Now().Add(15 * time.Second)
	for e.doQuiet("GET", "/readyz", nil).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Give the service a moment of normal work after recovery, then stop the clients.
	mu.Lock()
	before := len(accepted)
	mu.Unlock()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	t.Logf("statuses %v, slowest 503 %v", statuses, slowest)
	if statuses[503] == 0 {
		t.Error("no request saw the database down")
	}
	if len(accepted) <= before {
		t.Error("no claim accepted after the database came back")
	}
	if slowest > 3*time.Second {
		t.Errorf("503s are slow: %v", slowest)
	}
	var stored []string
	if err := st.Gorm().Model(&models.Claim{}).Pluck("reference", &stored).Error; err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range stored {
		have[r] = true
	}
	for _, r := range accepted {
		if !have[r] {
			t.Errorf("claim %s got 201 but is not stored", r)
		}
	}
	if len(stored) < len(accepted) {
		t.Errorf("%d stored, %d accepted", len(stored), len(accepted))
	}
}

// doQuiet is do without the OpenAPI check (called from many goroutines; t.Error is safe but
// the check is not what this test is about).
func (e *env) doQuiet(method, path string, body any, headers ...string) resp {
	return e.doWith(false, method, path, body, headers...)
}
