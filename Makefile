# verdict — developer and CI entry points. `make help` lists them.
#
# A shared target directory outside the clone keeps fresh clones (CI) fast.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/verdict-target
# No debug info: faster cold builds and smaller test binaries.
export CARGO_PROFILE_DEV_DEBUG ?= 0
export CARGO_TERM_COLOR ?= never

CARGO ?= cargo
VERDICT = $(CARGO_TARGET_DIR)/debug/verdict

DEMO_ARGS ?=

.PHONY: help deps build lint test demo bench check-slos

help:
	@echo "make demo   - the whole story in ~3 minutes: demo shop, Prometheus, Alertmanager, verdict, a chaos experiment"
	@echo "             (installs Prometheus and Alertmanager if missing; DEMO_ARGS=\"--scenario no-recovery\" for others)"
	@echo "make test   - install what is missing, lint, and run the whole test suite"
	@echo "make bench  - run the benchmarks (release build)"

deps:
	@scripts/install-deps.sh

build:
	$(CARGO) build --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

check-slos: build
	$(VERDICT) check slos

test: deps lint
	$(CARGO) build --locked --all-targets
	$(CARGO) run --quiet --locked -- check --quiet slos
	$(CARGO) test --locked --all-targets

demo: deps build
	$(VERDICT) demo $(DEMO_ARGS)

bench:
	$(CARGO) bench --locked --bench spec_load -- --warm-up-time 1 --measurement-time 3
