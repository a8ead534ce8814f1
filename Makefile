# risklane: the one binary and its checks. `make help` lists the targets.
GO        ?= go
BIN       ?= bin/risklane
FUZZTIME  ?= 30s
BENCHTIME ?= 1x

.PHONY: help build test demo bench bench-score bench-suite fuzz vet check clean

help:
	@echo "build  - build $(BIN)"
	@echo "demo   - run the whole pipeline on the embedded demo data"
	@echo "test   - run every test (tests needing Python XGBoost or ../shared/data skip when absent)"
	@echo "bench  - run the benchmark suite"
	@echo "bench-score - time risklane score against the pandas + XGBoost reference on ROWS generated rows (default 1000000)"
	@echo "bench-suite - score, predict, ingest, train against Python, XGBoost and DuckDB on ROWS rows (default 200000); docs/benchmarks.md"
	@echo "fuzz   - run every fuzz target for FUZZTIME each"
	@echo "check  - gofmt, go vet"

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/risklane

demo: build
	./$(BIN) demo

test:
	$(GO) test -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

check: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

ROWS ?=
bench-score:
	bench/score.sh $(or $(ROWS),1000000) $(BENCHDIR)

# One run against the tools users would pick instead (docs/benchmarks.md).
# DuckDB comes from bench/duckdb, a Go module of its own, so that neither the
# risklane binary nor `make test` links it.
REPEAT ?= 3
bench-suite:
	/usr/bin/python3 bench/suite.py --rows $(or $(ROWS),200000) --repeat $(REPEAT) $(if $(BENCHDIR),--work $(BENCHDIR))

# Each fuzz target runs alone: go test -fuzz takes one target per package at a time.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
