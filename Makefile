# CIFAR-10 in a browser tab. `make run` builds everything and serves the app;
# `make test` runs every test. Both install what they need on a fresh Debian.

export GOTOOLCHAIN := go1.27.4
GO        ?= go
DATA      ?= /tmp/cifar10_data
ADDR      ?= 127.0.0.1:8080
SHARED    ?= ../shared
GOROOT_   := $(shell GOTOOLCHAIN=$(GOTOOLCHAIN) $(GO) env GOROOT)
WASM_EXEC := $(GOROOT_)/lib/wasm/go_js_wasm_exec
SIMD      := GOEXPERIMENT=simd
WASMENV   := GOOS=js GOARCH=wasm
# BUILD names the build in both wasm binaries (wasm/protocol.Build), so the page and its
# workers can check that they come from one build: a hash of the sources that go into them.
BUILD     = $(shell cat go.mod go.sum $$(git ls-files -co --exclude-standard '*.go' | sort) | sha256sum | cut -c1-12)
# Engine packages that also run under Node as wasm.
ENGINE    := ./nn/...

.PHONY: all build run test test-native test-wasm test-fuzz vet bench bench-browser bench-accuracy deps data clean

all: build

## build: the native trainer, the server, and the page + worker wasm (with .br/.gz twins)
build: bin/cifar10 bin/server web

bin/cifar10: FORCE
	$(SIMD) $(GO) build -o $@ ./cmd/cifar10

bin/server: FORCE
	$(GO) build -o $@ ./server

web: FORCE
	@mkdir -p web
	$(eval id := $(BUILD))
	$(WASMENV) $(GO) build -ldflags "-X cifar10/wasm/protocol.Build=$(id)" -o web/app.wasm ./cmd/page
	$(WASMENV) $(SIMD) $(GO) build -ldflags "-X cifar10/wasm/protocol.Build=$(id)" -o web/worker.wasm ./cmd/worker
	@scripts/compress.sh web/app.wasm web/worker.wasm

## data: the CIFAR-10 binary set in $(DATA) (rebuilt from $(SHARED)/cifar10 when present;
## otherwise the server downloads the official archive at start)
data:
	@scripts/data.sh "$(DATA)" "$(SHARED)"

## run: build everything and serve the app with the dataset on http://$(ADDR)
run: deps-run build data
	./bin/server -addr $(ADDR) -data $(DATA)

## test: every test, natively (SIMD and plain Go), as wasm under Node, and in headless Chromium
test: deps vet test-native test-wasm test-fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	@$(GO) mod tidy -diff >/dev/null || (echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1)
	$(GO) vet ./...
	$(WASMENV) $(GO) vet ./cmd/page ./cmd/worker ./wasm/... ./app/...

test-native:
	$(SIMD) $(GO) test -count=1 -timeout 40m ./...
	$(GO) test -count=1 $(ENGINE)

test-wasm:
	$(WASMENV) $(SIMD) $(GO) test -count=1 -exec $(WASM_EXEC) $(ENGINE)
	$(WASMENV) $(GO) test -count=1 -exec $(WASM_EXEC) $(ENGINE)

test-fuzz:
	@scripts/fuzz.sh 5s

## bench: engine benchmarks natively and as wasm under Node, one summary table
bench:
	@scripts/bench.sh

## bench-accuracy: time to accuracy of the fast preset natively over SEEDS (default 1 2 3) on DATA; BENCH_BROWSER=1 adds the browser's
bench-accuracy:
	@scripts/bench_accuracy.sh

## bench-browser: training speed in headless Chromium
bench-browser: deps build
	BENCH_NODE=1 $(SIMD) $(GO) test -count=1 -run '^$$' -bench 'BrowserTrain|BrowserInside' -benchtime 1x -timeout 60m ./e2e/

deps:
	@scripts/deps.sh test

deps-run:
	@scripts/deps.sh run

clean:
	rm -rf bin web artifacts

FORCE:
