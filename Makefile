# Entry points for people and CI (.ci/run runs `make test`).

GO ?= go

.PHONY: deps lint vulncheck test bench bench-valuation bench-import bench-export run fmt

# System packages the tests need; quiet and quick when they are already there.
deps:
	@./scripts/test-deps.sh

# staticcheck, pinned, installed into .bin/ through the Go module proxy on first use.
STATICCHECK_VERSION ?= v0.8.2
BIN := $(CURDIR)/.bin

lint:
	@test -x $(BIN)/staticcheck || GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GO) vet ./...
	$(BIN)/staticcheck ./...

# govulncheck, pinned and installed like staticcheck. It reads the Go vulnerability database,
# https://vuln.go.dev or GOVULNDB (a URL, file:// for a local copy). Not part of `make test`:
# the machines this project is built on cannot reach the database (see README, Security).
GOVULNCHECK_VERSION ?= v1.9.0

vulncheck:
	@test -x $(BIN)/govulncheck || GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	$(BIN)/govulncheck $(if $(GOVULNDB),-db $(GOVULNDB)) ./...

test: deps lint
	$(GO) test -race -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

# Values 1,000,000 stored items beside a plain SELECT of the same rows (CLAIMDESK_BENCH_ITEMS).
bench-valuation: deps
	$(GO) test -run '^$$' -bench BenchmarkValueCase -benchtime 1x -timeout 30m ./internal/claims

# Intake under load: claimdesk and a bare baseline handler, each its own process, with wrk at
# saturation and an open-loop sender (pace_test.go, on fasthttp) at 80% of it, on PostgreSQL
# and SQLite (CLAIMDESK_LOAD_SECONDS per run).
bench-load: deps
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(GO) test -run '^$$' -bench BenchmarkIntakeLoad -benchtime 1x -timeout 30m ./internal/loadtest

run:
	$(GO) run .

# Fails listing the files gofmt would change.
fmt:
	@files=$$(gofmt -l .); \
	if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi

# Imports 1,000,000 rows from `claimdesk gen` beside psql \copy of the same file, on PostgreSQL
# and SQLite (CLAIMDESK_BENCH_ROWS to change the size).
bench-import: deps
	$(GO) test -run '^$$' -bench BenchmarkImport -benchtime 1x -timeout 60m ./internal/importer

# Exports 1,000,000 items to CSV beside psql \copy of the same SELECT, then XLSX, NDJSON, the
# plaintiff list and the PDF report, with each one's peak RSS (CLAIMDESK_BENCH_ITEMS to change).
bench-export: deps
	$(GO) test -run '^$$' -bench BenchmarkExport -benchtime 1x -timeout 60m ./internal/export
