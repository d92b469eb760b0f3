# The two commands of the README: `make demo` and `make test`. Both install what they need
# (Node packages here, the local stack into ~/.cache/pulp-manager-dev) and start what must run.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps stack-up stack-down stack-status lint typecheck test test-unit test-cluster demo bench gen-pulp-client build

help:
	@echo "make demo   - install and start the local stack, then run Pulp Manager's main job on it"
	@echo "make test   - install and start the local stack, then lint, typecheck and run every test"
	@echo "make test-cluster - Pulp Manager on a multi-service Temporal cluster with mTLS (builds it first)"
	@echo "make bench  - run the benchmarks (bench/, 60-75 min) and rewrite BENCHMARKS.md"
	@echo "make stack-up | stack-down | stack-status | gen-pulp-client"

node_modules/.installed: package.json package-lock.json
	@t0=$$SECONDS; echo "[make] npm ci"; npm ci --no-audit --no-fund --loglevel=error; \
	  touch $@; echo "[make] node packages installed in $$((SECONDS - t0))s"

deps: node_modules/.installed

stack-up:
	bash dev/up

stack-down:
	bash dev/down

stack-status:
	bash dev/status

lint: deps
	npm run --silent lint

typecheck: deps
	npm run --silent typecheck

build: deps
	npm run --silent build

test-unit: deps
	npx vitest run --project unit

test: deps stack-up lint typecheck
	npx vitest run

# The production topology (issue 16): builds and starts the Temporal cluster profile
# (dev/temporal-cluster.sh) inside the test, stops it at the end. Not part of `make test`.
test-cluster: deps stack-up
	npx vitest run --config vitest.cluster.config.ts

bench: deps stack-up
	bash bench/run.sh

demo: deps stack-up
	bash scripts/demo.sh

gen-pulp-client: deps stack-up
	npm run --silent gen:pulp-client
