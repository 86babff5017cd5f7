# evdeploy — build, test and demo. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     := bin/evdeploy
PKGS    := ./...
# The version stamped into the binary: the tag, else the commit (`dirty` when
# the tree has uncommitted changes). `evdeploy version` prints it.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: dist graph-png all build test test-short lint vet fmt-check tidy-check arch-check cross golden demo clean bench soak

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/evdeploy

# Everything: static checks, the whole suite, and -race on the concurrent engine.
test: lint
	@# The end-to-end package drives the CLI through every template on two
	@# emulators; go test's default 10-minute limit per package is too tight on a
	@# loaded 2-core machine, so the limit is explicit.
	$(GO) test -count=1 -timeout 30m $(PKGS)
	@# The concurrent engine and state under the race detector. planner's
	@# emulator-backed test (planner/enginetest) is left out: a race build of
	@# the emulator costs minutes on a fresh machine and adds no engine code.
	$(GO) test -count=1 -race ./planner ./state/...

test-short: lint
	$(GO) test -short $(PKGS)

lint: vet fmt-check tidy-check arch-check cross

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# go.mod and go.sum must be what `go mod tidy` writes: direct requirements not
# marked indirect, no stale sums. After adding a dependency, run `go mod tidy`.
tidy-check:
	@if ! $(GO) mod tidy -diff >/dev/null 2>&1; then \
	  echo "go.mod/go.sum are not tidy; run 'go mod tidy' and commit the result:"; \
	  $(GO) mod tidy -diff; exit 1; fi

# evdeploy builds for macOS and Windows too (process management is behind
# per-OS files in localstack/): keep it so.
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/evdeploy
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/evdeploy

# The decided import direction (docs/architecture.md): planner never reaches the
# AWS SDK or a provider; spec, state, build, localstack, templates import no
# evdeploy package; providers never import spec.
arch-check:
	@bad=$$($(GO) list -deps ./planner | grep -E 'aws-sdk-go-v2|evdeploy/providers' || true); \
	if [ -n "$$bad" ]; then echo "planner must not import:"; echo "$$bad"; exit 1; fi
	@for p in spec state build localstack templates; do \
	  bad=$$($(GO) list -deps ./$$p | grep -E '^github.com/evdeploy/evdeploy/' | grep -v "^github.com/evdeploy/evdeploy/$$p" || true); \
	  if [ -n "$$bad" ]; then echo "$$p must not import:"; echo "$$bad"; exit 1; fi; \
	done
	@# flow (the event-flow graph) is a view of the spec: spec only.
	@bad=$$($(GO) list -deps ./flow | grep -E '^github.com/evdeploy/evdeploy/' | grep -vE '^github.com/evdeploy/evdeploy/(flow|spec)$$' || true); \
	if [ -n "$$bad" ]; then echo "flow must not import:"; echo "$$bad"; exit 1; fi
	@# providers reach spec only through planner's types, never directly.
	@bad=$$($(GO) list -f '{{join .Imports "\n"}}' ./providers/... | grep -E '^github.com/evdeploy/evdeploy/spec$$' || true); \
	if [ -n "$$bad" ]; then echo "providers must not import spec"; exit 1; fi

# The soak (docs/reliability.md): SOAK_RUNS seeded deploy/destroy runs of the
# crash project through a proxy injecting 20% write faults, SIGKILLs at random
# writes and AWS's eventual-consistency errors. Not part of `make test`, which
# runs one seeded run of it.
SOAK_RUNS ?= 20
SOAK_SEED ?= 1
soak:
	EVDEPLOY_SOAK_RUNS=$(SOAK_RUNS) EVDEPLOY_SOAK_SEED=$(SOAK_SEED) $(GO) test -count=1 -timeout 60m -run '^TestSoak$$' -v ./cmd/evdeploy

# Regenerate golden files after an intended change; review the diff.
golden:
	$(GO) test ./spec/... ./planner/... -update

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./planner/... ./build/... ./bench/...

# Deploy an example app to the embedded local cloud (no Docker, no AWS account).
demo: build
	./scripts/demo.sh

# Reproducible cross-builds for linux, darwin and windows on amd64 and arm64,
# with SHA256SUMS (docs/install.md).
dist:
	VERSION=$(VERSION) ./scripts/dist.sh

# Re-render docs/shop-flow.png (the README's picture) with headless Chromium.
graph-png:
	./scripts/graph-png.sh

clean:
	rm -rf bin dist .evdeploy
