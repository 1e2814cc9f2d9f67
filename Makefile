# creditchain: every target works from a fresh clone with Go and PostgreSQL's server binaries.
SHELL := /bin/bash
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
MODULES = $(shell $(GO) list -m -f '{{.Dir}}')
# Packages whose tests start whole networks are run without -race: the race
# detector slows them past what CI's 2 cores can afford.
NORACE_MODULES = e2e helmtest
DATA ?= .data/dev

.PHONY: run test lint bench fuzz soak build proto tidy

run: ## the whole network locally, with demo data; Ctrl-C stops it
	$(GO) run ./cmd/creditchain dev --data $(DATA) --demo

build:
	mkdir -p bin && for d in cmd/creditchain services/*/cmd/*; do [ -f $$d/main.go ] && (cd $$d && $(GO) build -o $(CURDIR)/bin/ . ) || true; done

test: ## every test of every module
	@set -e; for m in $(MODULES); do \
	  name=$$(basename $$m); race=-race; \
	  for n in $(NORACE_MODULES); do [ "$$name" = "$$n" ] && race=; done; \
	  echo "=== go test $$race $$m/..."; \
	  (cd $$m && $(GO) test $$race -count=1 -timeout 25m ./...); \
	done

lint:
	@test -z "$$(gofmt -l $(MODULES))" || (gofmt -l $(MODULES); exit 1)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...); done

FUZZTIME ?= 20s
fuzz: ## every fuzz target for FUZZTIME each
	@set -e; for m in $(MODULES); do (cd $$m; for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz' || true); do \
	    echo "=== fuzz $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p; done; done); done

bench: ## load benchmark (creditchain bench) and Go micro-benchmarks
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchtime 1x ./... >/dev/null); done
	$(GO) run ./cmd/creditchain bench --duration 60s --rate max
	$(GO) run ./cmd/creditchain bench --duration 60s --rate 1000

# The soak: the multi-process fault runner (e2e/fault_test.go) for SOAK, every
# perturbation many times in random order under SOAK_RATE tx/s, then the table.
# `make test` runs each perturbation once. SOAK=3m make soak for a short try.
SOAK ?= 30m
SOAK_RATE ?= 20
SOAK_TIMEOUT ?= 60m
# Before it, SOAK_MEMORY of steady load (SOAK_MEMORY_RATE tx/s) on the same
# multi-process network, sampling every process's resident memory: none may
# keep growing (e2e/memory_test.go; `make test` runs it for a minute).
SOAK_MEMORY ?= 10m
SOAK_MEMORY_RATE ?= 200
soak: ## 10 minutes of load with every process's memory sampled, then the 30-minute fault run; prints both tables
	set -o pipefail; cd e2e && CREDITCHAIN_SOAK_MEMORY=$(SOAK_MEMORY) CREDITCHAIN_SOAK_MEMORY_RATE=$(SOAK_MEMORY_RATE) $(GO) test -count=1 -run '^TestMemoryBounded$$' -timeout $(SOAK_TIMEOUT) -v . | grep -v '^=== RUN'
	cd e2e && CREDITCHAIN_SOAK=$(SOAK) CREDITCHAIN_SOAK_RATE=$(SOAK_RATE) $(GO) test -count=1 -run '^TestFault$$' -timeout $(SOAK_TIMEOUT) -v .

# The 100,000-row import of docs/import-export.md: the e2e import test with a
# 100,000-row court file, 10,000-row GBK and .xlsx variants, a kill halfway and
# the export round trip. IMPORT_ROWS=20000 make import-100k for a shorter run;
# make import-100k-all runs the variants at IMPORT_ROWS too.
IMPORT_ROWS ?= 100000
.PHONY: import-100k
import-100k: ## the 100,000-row import benchmark (about an hour of 2 shared cores)
	cd e2e && CREDITCHAIN_IMPORT_ROWS=$(IMPORT_ROWS) $(GO) test -count=1 -run '^TestImportExport$$' -timeout 120m -v .

.PHONY: import-100k-all
import-100k-all: ## the same with the GBK and .xlsx variants at 100,000 rows too
	cd e2e && CREDITCHAIN_IMPORT_ROWS=$(IMPORT_ROWS) CREDITCHAIN_IMPORT_VARIANT_ROWS=$(IMPORT_ROWS) $(GO) test -count=1 -run '^TestImportExport$$' -timeout 180m -v .

PROTOC_GEN_GO_VERSION ?= v1.36.12
proto: ## regenerate proto/ (needs protoc: apt-get install protobuf-compiler)
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	cd proto && protoc --plugin=protoc-gen-go=$$($(GO) env GOPATH)/bin/protoc-gen-go --go_out=. --go_opt=paths=source_relative creditchain/v1/*.proto

tidy:
	@for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod tidy); done
