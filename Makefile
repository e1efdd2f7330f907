# rin — see README.md. Every target works on a fresh machine with Go and the
# PostgreSQL server binaries (apt-get install postgresql); nothing else runs.

GO        ?= go
BIN       ?= bin
PKGS      := ./...
# The local stack, the emulators, the end-to-end tests and the dev tools
# (rin-stack, rin-demo) are a module of their own, so that rin's go.mod
# requires no emulator; every target that tests runs both modules.
STACK     := internal/stack
# Packages with concurrency run under the race detector (rin's module; in
# the stack module, all of them).
RACE_PKGS := ./fsm/... ./journal/... ./sqsx/... ./redshift/... ./admin/... .
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.Version=$(VERSION)

.PHONY: all build test test-short vet fmt-check unit e2e race demo bench crashtest lambda clean cross-check release docker

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ . ./cmd/...

# The test command of README.md and CI: static checks, then every test
# (unit and end to end on the local stack) with the race detector.
test: vet fmt-check cross-check
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(GO) -C $(STACK) test -race -count=1 -timeout 30m $(PKGS)

# Quick local runs: every test but the slow ones (end to end, crash, over
# about 5 s), which skip under -short; no race detector. CI runs make test,
# which skips nothing.
test-short: vet
	$(GO) test -short -count=1 -timeout 10m $(PKGS)
	$(GO) -C $(STACK) test -short -count=1 -timeout 10m $(PKGS)

vet:
	$(GO) vet $(PKGS)
	$(GO) -C $(STACK) vet $(PKGS)

# One cross-compiled release target, so that a Linux-only construct in the
# commands fails here and not at release time (compiles; writes nothing).
cross-check:
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build ./ ./cmd/rin-journal

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The demo: a local stack, a few hundred objects, rin until all are loaded.
# Built in the stack module, run from here: its output (demo-output/) and
# the commands it suggests are the checkout root's.
demo:
	$(GO) -C $(STACK) build -o $(CURDIR)/$(BIN)/rin-demo ./cmd/rin-demo
	$(BIN)/rin-demo

# Benchmarks (never timed tests). See BENCHMARKS.md. BENCH_RUNS runs of
# each end-to-end case, medians printed (BENCHMARKS.md used 3);
# RIN_BENCH_SCALE=1000,10000,50000 extends the scale series.
BENCH_RUNS ?= 1
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 3 ./journal/
	$(GO) test -run '^$$' -bench PlanWaiting -benchtime 2000x -count 3 ./fsm/
	RIN_BENCH=1 $(GO) test -run '^$$' -bench LedgerLookup -benchtime 20x -count 1 -timeout 60m ./redshift/
	RIN_BENCH=1 $(GO) -C $(STACK) test -run '^$$' -bench . -benchtime $(BENCH_RUNS)x -count 1 -timeout 120m ./e2e/

# The full-size crash test (CI runs a reduced size inside make test).
crashtest:
	RIN_CRASH_OBJECTS=5000 RIN_CRASH_KILLS=50 $(GO) -C $(STACK) test -run TestCrash -count=1 -v -timeout 90m ./e2e/

# Lambda deployment zips (docs/lambda.md): a static bootstrap for the
# provided.al2023 runtime per architecture, zipped with Go's archive/zip.
# Lambda names amd64 x86_64; so do the zips.
LAMBDA_ARCHS ?= arm64 amd64
lambda:
	@for arch in $(LAMBDA_ARCHS); do \
	  name=$$arch; [ $$arch = amd64 ] && name=x86_64; \
	  echo "lambda: $(BIN)/rin-lambda-$$name.zip"; \
	  GOOS=linux GOARCH=$$arch CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath \
	    -ldflags "-s -w $(LDFLAGS)" -o $(BIN)/lambda/$$name/bootstrap . || exit 1; \
	  $(GO) run ./internal/lambdazip -o $(BIN)/rin-lambda-$$name.zip $(BIN)/lambda/$$name/bootstrap || exit 1; \
	done

# Release binaries: static (no cgo), reproducible paths, the version
# stamped into main.Version and the commit recorded by the go command
# (rin -version prints both), for each platform; SHA256SUMS beside them.
DIST      ?= dist
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
RELEASE   := rin=. rin-journal=./cmd/rin-journal
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		for c in $(RELEASE); do \
			name=$${c%%=*}; pkg=$${c#*=}; out=$(DIST)/$$name-$(VERSION)-$$os-$$arch; \
			echo "$$out"; \
			CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=auto -ldflags "-s -w $(LDFLAGS)" -o $$out $$pkg; \
		done; \
	done
	cd $(DIST) && sha256sum -- * > SHA256SUMS

# The container image (deploy/Dockerfile); needs docker.
docker:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) -t rin:$(VERSION) .

clean:
	rm -rf $(BIN) $(DIST)
