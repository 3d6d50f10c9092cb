# usersvc — `make` builds build/usersvc; `make test` runs everything; `make run` starts a local stack.
# SANITIZE=address,undefined builds a sanitized flavour in build/sanitize/, SANITIZE=thread one in
# build/sanitize-thread/ (objects never mix).

SANITIZE ?=
CC ?= cc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

ifeq ($(SANITIZE),)
BUILD := build
OPT := -O2
else
BUILD := build/sanitize$(if $(findstring thread,$(SANITIZE)),-thread)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

# ThreadSanitizer: the e2e service runs 4 workers (more than this 2-core host's default) and a
# report fails the run; tests/support/tsan.supp holds the reviewed library-internal suppressions.
# The sanitizer flavours run the invariants workload for 15 s instead of 30 (at least 5 rounds of every
# race either way): the races are the same, and make test stays within its time budget.
ifneq ($(SANITIZE),)
export INV_SECONDS ?= 15
endif
ifneq ($(findstring thread,$(SANITIZE)),)
export E2E_THREADS ?= 4
export TSAN_OPTIONS ?= halt_on_error=1:exitcode=66:suppressions=$(CURDIR)/tests/support/tsan.supp
endif

# Hardened by default (README: Running in containers; `make lint` checks the binary): fortified libc
# calls, stack protector, PIE, full RELRO. CPPFLAGS, CFLAGS and LDFLAGS from the environment or the
# command line (a distribution's build flags) are kept and come after ours, so they can override.
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now
override CFLAGS := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
          -Wmissing-prototypes -Wno-unused-parameter -Iinclude -DUSERSVC_VERSION='"$(VERSION)"' \
          -MMD -MP $(HARDEN_CFLAGS) $(CPPFLAGS) $(CFLAGS)
override LDFLAGS := $(HARDEN_LDFLAGS) $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)
LDLIBS := -lmicrohttpd -lcurl -ljansson -lssl -lcrypto -luuid -lpthread -lm

SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# Debian packages the build, the tests and `make run` need.
# chromium: the browser tests/e2e/test_browser.sh drives (node and npm: from the machine, or Debian's).
DEB_PACKAGES := gcc make pkg-config libmicrohttpd-dev libcurl4-openssl-dev libssl-dev \
                libjansson-dev uuid-dev libmimalloc-dev curl jq python3 clang-14 libclang-rt-14-dev \
                prometheus chromium

.PHONY: all deps test test-once unit e2e contract bench bench-smoke callgrind fuzz fuzz-smoke run clean valgrind lint \
        format compdb container-check

all: $(BUILD)/usersvc

# The service links mimalloc (README: Performance); the sanitized builds and the unit tests keep
# glibc's malloc, which the sanitizers and valgrind watch.
$(BUILD)/usersvc: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(if $(SANITIZE),,-lmimalloc) $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The OpenAPI document (config/openapi.json) is assembled into openapi.o with .incbin; its ETag is
# a hash of its bytes, so both change exactly when the document does.
OPENAPI_DOC := config/openapi.json
OPENAPI_DEFS = -DOPENAPI_FILE='"$(OPENAPI_DOC)"' \
               -DOPENAPI_ETAG='"$(shell sha256sum $(OPENAPI_DOC) | cut -c1-16)"'
$(BUILD)/obj/openapi.o: CFLAGS += $(OPENAPI_DEFS)
$(BUILD)/obj/openapi.o: $(OPENAPI_DOC)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS)

# Installs what is missing (as root), or prints the exact command to run.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null || exit 1; \
	  else \
	    echo "missing packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

# The contract (config/openapi.json): @redocly/cli lints it (recommended-strict: warnings fail
# too) and the exchange checker proves on fixtures that it catches what it must. node_modules
# comes from tests/contract/package-lock.json with `npm ci`.
CONTRACT_DEPS := tests/contract/node_modules/.package-lock.json
$(CONTRACT_DEPS): tests/contract/package-lock.json
	@command -v npm >/dev/null || { echo "contract: node and npm are required (apt-get install nodejs npm)"; exit 1; }
	cd tests/contract && npm ci --no-audit --no-fund --loglevel=error

# The normal flavour's e2e run includes the browser test, whose driver (playwright-core, exactly as
# locked; it downloads no browser) is installed under tests/browser/ when missing or out of date.
BROWSER_MODULES := tests/browser/node_modules/.package-lock.json

$(BROWSER_MODULES): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

# The normal flavour's e2e run records the main service's traffic and checks it against the
# OpenAPI document (E2E_CONTRACT=1, README: Tests); the sanitized flavours run without the proxy.
e2e: $(BUILD)/usersvc $(if $(SANITIZE),,$(CONTRACT_DEPS) $(BROWSER_MODULES))
	@E2E_CONTRACT=$(if $(SANITIZE),0,1) tests/e2e/run.sh $(BUILD)/usersvc

test-once: unit $(if $(SANITIZE),,contract) e2e

contract: $(CONTRACT_DEPS)
	@cd tests/contract && if node_modules/.bin/redocly lint --format=stylish ../../config/openapi.json >lint.out 2>&1; \
	  then rm -f lint.out; echo "contract lint: 1 passed, 0 failed"; \
	  else cat lint.out; rm -f lint.out; echo "contract lint: 0 passed, 1 failed"; exit 1; fi
	@node tests/contract/check_exchanges.mjs --self-test config/openapi.json

# The benchmark against the Express + AWS SDK peer (README: Performance). Not part of `make test`,
# which runs it only in smoke mode: a few seconds, every answer 2xx, no timing asserted.
bench: $(BUILD)/usersvc
	@tests/bench/run.sh $(BUILD)/usersvc

bench-smoke: $(BUILD)/usersvc
	@tests/bench/run.sh --smoke $(BUILD)/usersvc

# Instructions per request in the worker, by callgrind (README: Performance); needs valgrind.
callgrind: $(BUILD)/usersvc
	@tests/bench/callgrind.sh $(BUILD)/usersvc

# libFuzzer harnesses (tests/fuzz/fuzz_*.c, README: Tests), built by clang with ASan + UBSan in
# build/fuzz/ (objects never mix with gcc's). They link every library object but ddb.o, server.o and
# main.o: tests/fuzz/fake_app.c stands in for DynamoDB (the credential providers' I/O links, unused). `make fuzz` runs each for FUZZ_SECONDS on a
# scratch copy of its corpus; `make fuzz-smoke` replays corpus and regressions plus a few seconds.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
               -fsanitize=fuzzer-no-link,address,undefined -Itests/fuzz
FUZZ_OBJS := $(filter-out %/main.o %/server.o %/ddb.o,$(SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)) \
             $(FUZZ_BUILD)/obj/fake_app.o
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))
.SECONDARY: $(FUZZ_OBJS)

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/obj/openapi.o: FUZZ_CFLAGS += $(OPENAPI_DEFS)
$(FUZZ_BUILD)/obj/openapi.o: $(OPENAPI_DOC)

$(FUZZ_BUILD)/obj/fake_app.o: tests/fuzz/fake_app.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) -lcurl -ljansson -lssl -lcrypto -luuid -lpthread -lm

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	@tests/fuzz/run.sh --smoke 4 $(FUZZ_BINS)

# Plain `make test`: the default flavour, the benchmark and fuzzing smoke runs, then unit and e2e
# again under ASan + UBSan, then under TSan. With SANITIZE set, only that flavour's unit and e2e tests run.
test: deps
ifeq ($(SANITIZE),)
	@$(MAKE) --no-print-directory test-once bench-smoke fuzz-smoke
	@$(MAKE) --no-print-directory SANITIZE=address,undefined test-once
	@$(MAKE) --no-print-directory SANITIZE=thread test-once
else
	@$(MAKE) --no-print-directory test-once
endif

# The Dockerfile's runtime stage without a Docker engine (tests/support/container_check.sh): debootstrap
# builds its file system (minutes the first time, then reused), the binary runs in it as 10001 against
# moto. Not part of `make test`; needs root.
container-check: $(BUILD)/usersvc
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="debootstrap"
	@tests/support/container_check.sh $(BUILD)/usersvc

run: deps
	@$(MAKE) --no-print-directory all
	@tests/support/run.sh $(BUILD)/usersvc

valgrind: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do valgrind -q --leak-check=full --error-exitcode=1 $$t >/dev/null || exit 1; done; echo "valgrind: unit tests clean"

# What lint needs beyond the build: cppcheck, a real compose parser, readelf.
LINT_PACKAGES := cppcheck docker-compose binutils

# Static checks, the built binary's hardening, and the compose file as Docker Compose parses it.
lint: $(BUILD)/usersvc
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(LINT_PACKAGES)"
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 --inline-suppr -Iinclude src tests/unit
	tests/support/check_hardening.sh $(BUILD)/usersvc
	docker-compose -f docker/docker-compose.yml config -q

format:
	clang-format -i src/*.c include/*.h tests/unit/*.c tests/unit/*.h

compdb: clean
	bear -- $(MAKE) all $(UNIT_BINS)

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
