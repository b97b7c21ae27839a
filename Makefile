# medvault — `make run` serves the SPA and the API on http://127.0.0.1:8080 (embedded default);
# `make test` installs what the tests need and runs every test. Both are idempotent.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
S3_STATE := $(CURDIR)/target/s3-servers

.PHONY: help run test deps deps-run frontend openapi lint fmt bench s3-up s3-down clean-data

help:
	@echo "make run      build and serve SPA + API on http://127.0.0.1:8080 (SQLite, directory buckets)"
	@echo "make test     install test dependencies, then run every test (unit, API on SQLite and"
	@echo "              PostgreSQL+S3, OpenAPI drift, browser end-to-end), clippy and rustfmt"
	@echo "make openapi  regenerate openapi/openapi.json from the code"
	@echo "make bench    run the engine and API benchmarks"
	@echo "make lint     clippy (-D warnings) and rustfmt --check"

deps-run:
	scripts/deps.sh run

deps:
	scripts/deps.sh test

frontend: deps-run
	scripts/build-frontend.sh

run: frontend
	MEDVAULT_SPA_DIR="$${MEDVAULT_SPA_DIR:-$(CURDIR)/frontend/dist}" \
	  $(CARGO) run --release -p medvault-server --bin medvault -- serve

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) check -p medvault-types --target wasm32-unknown-unknown
	cd frontend && $(CARGO) fmt --check && $(CARGO) clippy --target wasm32-unknown-unknown --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

openapi:
	$(CARGO) run -q -p medvault-server --bin medvault -- openapi > openapi/openapi.json

s3-up:
	scripts/s3-servers.sh up "$(S3_STATE)"

s3-down:
	scripts/s3-servers.sh down "$(S3_STATE)" || true

# Every test. S3 servers are stopped whatever the outcome.
test: deps frontend lint
	@trap 'scripts/s3-servers.sh down "$(S3_STATE)" >/dev/null 2>&1 || true' EXIT; \
	scripts/s3-servers.sh up "$(S3_STATE)"; \
	export MEDVAULT_TEST_S3_CONFIG="$(S3_STATE)/storage.toml"; \
	export MEDVAULT_TEST_SMTP_PYTHON="$$(scripts/smtp-sink.sh python)"; \
	export MEDVAULT_TEST_SPA_DIR="$(CURDIR)/frontend/dist"; \
	$(CARGO) test --workspace --no-fail-fast; \
	(cd frontend && $(CARGO) test --lib)

bench:
	$(CARGO) bench -p medvault-engine
	$(CARGO) run --release -p medvault-tests --example api_bench

clean-data:
	rm -rf data
