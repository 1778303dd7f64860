# The README's two commands: `make run` and `make check`. Everything else is a step of those.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
RELEASE_BUILD ?= build-release
FUZZ_SECONDS ?= 10
JOBS       ?= 2
ARGS       ?=
MAKEFLAGS  += --no-print-directory

.PHONY: all deps build build-asan build-release format-check run check unit unit-asan integration integration-pg integration-scale integration-asan fuzz bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCASTOR_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

# Release (-O3) finds warnings the other builds do not (gcc's maybe-uninitialized); check builds
# it so every build type stays warning-free.
build-release: deps
	@cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_BUILD) -j$(JOBS)

# The tree is formatted by .clang-format; the generated metamodel digest is exempt.
FORMAT_FILES = $(shell git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' \
                 | grep -v dtdl_meta_data.c)
format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES)

# Sets up (first run) and starts castor on the embedded SQLite store in ./castor-data.
run: build
	$(BUILD)/castor serve $(ARGS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

unit-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

integration: build
	cd tests/integration && CASTOR_BINARY=$(CURDIR)/$(BUILD)/castor node --test --test-concurrency=1 .

# The whole integration suite again on PostgreSQL (docs/postgres.md): one throwaway cluster for
# the run (scripts/pg-tmp: initdb in a temp folder as an unprivileged user, a free loopback
# port), one database per server; the cluster is stopped and removed whatever the outcome.
integration-pg: build
	@d=$$(mktemp -d /tmp/castor-pg-XXXXXX) && chmod 711 $$d && \
	  scripts/pg-tmp start $$d/cluster --fast >/dev/null && \
	  (cd tests/integration && CASTOR_TEST_STORE=postgres CASTOR_TEST_PG_CLUSTER=$$d/cluster \
	    CASTOR_BINARY=$(CURDIR)/$(BUILD)/castor node --test --test-concurrency=1 .); \
	  rc=$$?; scripts/pg-tmp stop $$d/cluster; rm -rf $$d; exit $$rc

# The integration suite on PostgreSQL with every server a two-node deployment behind nginx
# (scripts/scale-out's topology, tests/integration/lib/scale.js): requests land on either node.
# Not part of make check (it takes longer than the PostgreSQL run); see docs/scale-out.md.
integration-scale: build
	@d=$$(mktemp -d /tmp/castor-pg-XXXXXX) && chmod 711 $$d && \
	  scripts/pg-tmp start $$d/cluster --fast >/dev/null && \
	  (cd tests/integration && CASTOR_TEST_STORE=postgres CASTOR_TEST_NODES=2 CASTOR_TEST_PG_CLUSTER=$$d/cluster \
	    CASTOR_BINARY=$(CURDIR)/$(BUILD)/castor node --test --test-concurrency=1 .); \
	  rc=$$?; scripts/pg-tmp stop $$d/cluster; rm -rf $$d; exit $$rc

integration-asan: build-asan
	cd tests/integration && CASTOR_BINARY=$(CURDIR)/$(ASAN_BUILD)/castor \
	  ASAN_OPTIONS=detect_leaks=1 node --test --test-concurrency=1 .

# The libFuzzer targets (tests/fuzz/fuzz_*.c, each built and run briefly); a crash fails.
FUZZ_TARGETS = $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCASTOR_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  (cd $(FUZZ_BUILD) && ./$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 >$$t.log 2>&1) \
	    || { tail -40 $(FUZZ_BUILD)/$$t.log; echo "fuzz: $$t failed"; exit 1; }; \
	  grep -E "^stat::number_of_executed_units|^Done" $(FUZZ_BUILD)/$$t.log; \
	done

# Every test: the format check, unit and integration on the normal build and on the sanitizer
# build, the Release build, and the fuzz targets briefly.
check: format-check unit integration integration-pg unit-asan integration-asan build-release fuzz
	@echo "make check: all test suites passed"

bench: build
	@CASTOR_BENCH=1 scripts/install-deps
	bench/run $(CURDIR)/$(BUILD)/castor

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(RELEASE_BUILD)
