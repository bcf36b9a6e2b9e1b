# Entry points for people and CI (.ci/run runs `make test`).

GO ?= go

.PHONY: deps test bench bench-valuation bench-import run fmt

# System packages the tests need; quiet and quick when they are already there.
deps:
	@./scripts/test-deps.sh

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

# Values 1,000,000 stored items beside a plain SELECT of the same rows (CLAIMDESK_BENCH_ITEMS).
bench-valuation: deps
	$(GO) test -run '^$$' -bench BenchmarkValueCase -benchtime 1x -timeout 30m ./internal/claims

run:
	$(GO) run .

# Fails listing the files gofmt would change.
fmt:
	@files=$$(gofmt -l .); \
	if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi

# Imports 1,000,000 rows from `claimdesk gen` beside psql \copy of the same file, on PostgreSQL
# and SQLite (CLAIMDESK_BENCH_ROWS to change the size).
bench-import: deps
	$(GO) test -run '^$$' -bench BenchmarkImport -benchtime 1x -timeout 30m ./internal/importer
