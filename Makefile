# rin — see README.md. Every target works on a fresh machine with Go and the
# PostgreSQL server binaries (apt-get install postgresql); nothing else runs.

GO        ?= go
BIN       ?= bin
PKGS      := ./...
# Packages with concurrency run under the race detector.
RACE_PKGS := ./fsm/... ./journal/... ./sqsx/... ./redshift/... ./stack/... ./admin/... .
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.Version=$(VERSION)

.PHONY: all build test vet fmt-check unit e2e race demo bench crashtest clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ . ./cmd/...

# The test command of README.md and CI: static checks, then every test
# (unit and end to end on the local stack) with the race detector.
test: vet fmt-check
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The demo: a local stack, a few hundred objects, rin until all are loaded.
demo:
	$(GO) run ./cmd/rin-demo

# Benchmarks (never timed tests). See BENCHMARKS.md. BENCH_RUNS runs of
# each end-to-end case, medians printed (BENCHMARKS.md used 3);
# RIN_BENCH_SCALE=1000,10000,50000 extends the scale series.
BENCH_RUNS ?= 1
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 3 ./journal/
	RIN_BENCH=1 $(GO) test -run '^$$' -bench . -benchtime $(BENCH_RUNS)x -count 1 -timeout 120m ./e2e/

# The full-size crash test (CI runs a reduced size inside make test).
crashtest:
	RIN_CRASH_OBJECTS=5000 RIN_CRASH_KILLS=50 $(GO) test -run TestCrash -count=1 -v -timeout 90m ./e2e/

clean:
	rm -rf $(BIN)
