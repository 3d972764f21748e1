# frase — every target installs what it needs first (scripts/bootstrap.sh), and is idempotent.
#
#   make serve   build the release and serve it on 0.0.0.0:3000 (phones on the LAN can join)
#   make test    unit and integration tests, then the Playwright end-to-end suite
#   make dev     cargo leptos watch (live reload)
#   make build   the release binary, target/release/frase
#   make lint    rustfmt and clippy

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Every recipe runs with the toolchain the bootstrap chose.
TOOLCHAIN := . ./.toolchain.env &&
ADDR ?= 0.0.0.0:3000
# End-to-end runs use their own port and a throwaway data directory.
E2E_PORT ?= 3917

.PHONY: help bootstrap bootstrap-test build serve cluster dev test test-rust test-e2e test-api redbot test-dev lint clean bench lighthouse

help:
	@echo "make serve | make test | make dev | make build | make lint | make bench | make lighthouse | make clean"

bootstrap:
	@scripts/bootstrap.sh

bootstrap-test:
	@scripts/bootstrap.sh test

# The release is rebuilt only when its sources changed: cargo-leptos regenerates the site on
# every run, which would make cargo re-link the server (it embeds the site) for nothing.
RELEASE_SOURCES := Cargo.toml Cargo.lock $(shell find src style public migrations -type f 2>/dev/null)

build: bootstrap target/release/frase

# The binary is dated when its build started, so a source saved during the build is newer and
# makes the next `make build` build again.
target/release/frase: $(RELEASE_SOURCES)
	@echo "==> cargo leptos build --release --precompress"
	@started=$$(date +%s.%N) && $(TOOLCHAIN) cargo leptos build --release --precompress && \
	  touch -d "@$$started" target/release/frase
	@ls -l target/release/frase

serve: build
	@target/release/frase serve --addr $(ADDR)

# Two processes on the machine's PostgreSQL behind nginx on one port (deploy/, scripts/cluster.sh).
cluster: build
	@scripts/cluster.sh

# cargo-leptos builds the client and the server (debug), runs the server with no command (it
# then serves on 127.0.0.1:3000 with its data in target/dev-data) and reloads the page on every
# change. Plain file names in development, so that a changed stylesheet swaps in place.
DEV_ADDR ?= 127.0.0.1:3000
DEV_RELOAD_PORT ?= 3001
dev: bootstrap
	@$(TOOLCHAIN) LEPTOS_HASH_FILES=false LEPTOS_SITE_ADDR=$(DEV_ADDR) \
	  LEPTOS_RELOAD_PORT=$(DEV_RELOAD_PORT) cargo leptos watch

# The release first: the Rust tests drive it too (tests/slow_readers.rs).
test: bootstrap-test build test-rust test-e2e test-api redbot test-dev

# The suites that run on a TestApp run twice: on SQLite, then on PostgreSQL (a throwaway
# database per app on FRASE_TEST_POSTGRES_URL, default the machine's server).
POSTGRES_SUITES := --test api --test http --test security --test live --test story --test turns --test i18n

test-rust: bootstrap
	@echo "==> cargo test (unit and integration, SQLite)"
	@$(TOOLCHAIN) cargo test --features ssr
	@echo "==> cargo test (the API suites again, on PostgreSQL)"
	@$(TOOLCHAIN) FRASE_TEST_DATABASE=postgres cargo test --features ssr $(POSTGRES_SUITES)

test-e2e: bootstrap-test build
	@scripts/test-e2e.sh $(E2E_PORT)

# schemathesis against the live server, from its own OpenAPI document.
test-api: build
	@scripts/test-api-conformance.sh $$(( $(E2E_PORT) + 1 ))

# REDbot ("lint for HTTP") on the room API, the story, a page and the .wasm.
redbot: build
	@scripts/redbot.sh $$(( $(E2E_PORT) + 2 ))

# `make dev` in a throwaway copy, driven by Chromium: serves, swaps the stylesheet, reloads on a
# Rust change.
test-dev: bootstrap-test
	@scripts/test-dev.sh $$(( $(E2E_PORT) + 3 ))

# Benchmarks print figures and assert nothing about time (bench/README.md).
BENCH_SUBSCRIBERS ?= 1000,10000
bench: build
	@$(TOOLCHAIN) SUBSCRIBERS=$(BENCH_SUBSCRIBERS) cargo bench --profile benchmark --features ssr --bench live

# Lighthouse scores (mobile and desktop) of the lobby and a room: a measurement, never a test.
lighthouse: build bootstrap-test
	@scripts/lighthouse.sh

# Lints with the machine's rustup toolchain (Debian's rustc-web ships no clippy or rustfmt); the
# WebAssembly side too where rustup has the wasm32 target.
lint:
	cargo fmt --all -- --check
	cargo clippy --features ssr --all-targets --target-dir target/clippy -- -D warnings
	@if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then \
	  cargo clippy --lib --features hydrate --target wasm32-unknown-unknown --target-dir target/clippy -- -D warnings; \
	else echo "lint: no rustup wasm32 target, client side not linted"; fi

clean:
	rm -rf target/site target/release/frase
