# medvault — `make run` serves the SPA and the API on http://127.0.0.1:8080 (embedded default);
# `make test` installs what the tests need and runs every test. Both are idempotent.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
S3_STATE := $(CURDIR)/target/s3-servers

.PHONY: help run test deps deps-run frontend openapi lint deny fmt bench s3-up s3-down clean-data

help:
	@echo "make run      build and serve SPA + API on http://127.0.0.1:8080 (SQLite, directory buckets)"
	@echo "make test     install test dependencies, then run every test (unit, API on SQLite and"
	@echo "              PostgreSQL+S3, OpenAPI drift, browser end-to-end), clippy and rustfmt"
	@echo "make openapi  regenerate openapi/openapi.json from the code"
	@echo "make bench    run the engine, API, fault, transfer (vs rclone) and load benchmarks"
	@echo "make lint     clippy (-D warnings) and rustfmt --check"
	@echo "make deny     cargo deny (advisories, bans, licenses, sources) offline, both workspaces"

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

# Supply chain, offline against the RustSec snapshot (deny.toml, scripts/deps.sh): both
# workspaces must pass, and a fixture with known-vulnerable dependencies must be refused.
# deny.toml's one ignored advisory is the frontend's: not seeing it is expected in the server
# workspace and an error in the frontend's (the exception is then stale: remove it).
DENY_FIXTURE := tests/fixtures/deny-vulnerable/Cargo.toml
deny:
	$(CARGO) fetch --locked -q
	$(CARGO) fetch --locked -q --manifest-path frontend/Cargo.toml
	$(CARGO) fetch --locked -q --manifest-path $(DENY_FIXTURE)
	$(CARGO) deny --frozen check -A advisory-not-detected
	$(CARGO) deny --frozen --manifest-path frontend/Cargo.toml check -D advisory-not-detected
	@out="$$($(CARGO) deny --frozen --manifest-path $(DENY_FIXTURE) check advisories bans 2>&1)" \
	  && { echo "$$out"; echo "deny: the known-vulnerable fixture was accepted"; exit 1; }; \
	for want in 'ID: RUSTSEC-2026-0258' "crate 'jsonwebtoken = 9.3.1' is explicitly banned"; do \
	  grep -qF -- "$$want" <<<"$$out" \
	    || { echo "$$out"; echo "deny: the fixture was refused, but not for $$want"; exit 1; }; \
	done; \
	echo "deny: known-vulnerable fixture refused (RUSTSEC-2026-0258, jsonwebtoken < 10.3)"

fmt:
	$(CARGO) fmt --all

openapi:
	$(CARGO) run -q -p medvault-server --bin medvault -- openapi > openapi/openapi.json

s3-up:
	scripts/s3-servers.sh up "$(S3_STATE)"

s3-down:
	scripts/s3-servers.sh down "$(S3_STATE)" || true

# Every test. S3 servers are stopped whatever the outcome.
test: deps deny frontend lint
	@trap 'scripts/s3-servers.sh down "$(S3_STATE)" >/dev/null 2>&1 || true' EXIT; \
	scripts/s3-servers.sh up "$(S3_STATE)"; \
	export MEDVAULT_TEST_S3_CONFIG="$(S3_STATE)/storage.toml"; \
	export MEDVAULT_TEST_SMTP_PYTHON="$$(scripts/smtp-sink.sh python)"; \
	export MEDVAULT_TEST_SCHEMATHESIS="$$(scripts/schemathesis.sh path)"; \
	export MEDVAULT_TEST_SPA_DIR="$(CURDIR)/frontend/dist"; \
	$(CARGO) test --workspace --no-fail-fast; \
	(cd frontend && $(CARGO) test --lib)

# The transfer and load benches (tests/examples/transfer_bench.rs, load_bench.rs) start the
# release server binary built here; the fault and transfer benches use the Garage servers.
bench: deps
	$(CARGO) bench -p medvault-engine
	$(CARGO) run --release -p medvault-engine --example scrub_rate
	$(CARGO) run --release -p medvault-tests --example api_bench
	$(CARGO) build --release -p medvault-server --bin medvault
	@trap 'scripts/s3-servers.sh down "$(S3_STATE)" >/dev/null 2>&1 || true' EXIT; \
	scripts/s3-servers.sh up "$(S3_STATE)"; \
	export MEDVAULT_TEST_S3_CONFIG="$(S3_STATE)/storage.toml"; \
	$(CARGO) run --release -p medvault-tests --example fault_bench; \
	$(CARGO) run --release -p medvault-tests --example transfer_bench
	$(CARGO) run --release -p medvault-tests --example load_bench

clean-data:
	rm -rf data
