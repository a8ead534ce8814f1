# risklane: the one binary and its checks. `make help` lists the targets.
GO        ?= go
BIN       ?= bin/risklane
FUZZTIME  ?= 30s
BENCHTIME ?= 1x
# The version every binary reports (risklane --version) and every manifest
# records: git describe, or "devel" outside a git checkout.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS   := -s -w -X risklane/internal/version.stamp=$(VERSION)
# make release: one static binary per platform, dist/risklane-VERSION-OS-ARCH[.exe].
PLATFORMS ?= linux/amd64 linux/arm64 windows/amd64 darwin/arm64
DIST      ?= dist

.PHONY: help build release test demo bench bench-score bench-suite bench-date-torch fuzz vet check clean

help:
	@echo "build  - build $(BIN)"
	@echo "release - static binaries for $(PLATFORMS) in $(DIST)/, stamped with $(VERSION)"
	@echo "demo   - run the whole pipeline on the embedded demo data"
	@echo "test   - run every test, the Beam module's on Prism too (tests needing Python XGBoost or ../shared/data skip when absent)"
	@echo "bench  - run the benchmark suite"
	@echo "bench-score - time risklane score against the pandas + XGBoost reference on ROWS generated rows (default 1000000)"
	@echo "bench-suite - score, predict, ingest, train against Python, XGBoost and DuckDB on ROWS rows (default 200000); docs/benchmarks.md"
	@echo "bench-date-torch - train DATE on KCS train.csv in risklane and in PyTorch (2 threads), same configuration, EPOCHS epochs (default 3): both wall times and the ratio"
	@echo "fuzz   - run every fuzz target for FUZZTIME each"
	@echo "check  - gofmt, go vet (also for GOARCH=386: int is 32 bits there)"

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/risklane

release:
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=$(DIST)/risklane-$(VERSION)-$$os-$$arch$$ext; \
	  echo "== $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/risklane || exit 1; \
	done
	cd $(DIST) && sha256sum risklane-$(VERSION)-* > SHA256SUMS-$(VERSION)

demo: build
	./$(BIN) demo

# beam/ is a module of its own (Apache Beam's SDK stays out of the risklane
# binary, docs/beam.md): `go test ./...` at the root skips it, so it runs here.
test:
	$(GO) test -count=1 -timeout 40m ./...
	cd beam && $(GO) test -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...
	GOARCH=386 $(GO) vet ./...
	cd beam && $(GO) vet ./...

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

# DATE's training against PyTorch's on 2 threads, one run (docs/date.md, "Speed").
# ROWS limits the training rows (default all) for a quick check.
EPOCHS ?= 3
bench-date-torch:
	RISKLANE_BENCH_EPOCHS=$(EPOCHS) RISKLANE_BENCH_ROWS=$(ROWS) $(GO) test ./models/date -run '^$$' \
	  -bench 'TrainVsPyTorch/default' -benchtime 1x -timeout 3h -count=1 -v

# Each fuzz target runs alone: go test -fuzz takes one target per package at a time.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin dist
