# mod_seckill: the module (build/mod_seckill.so), the worker (build/seckill-worker), their
# tests and the local stack. `make run` and `make test` are the README's two commands.
SHELL := /bin/bash
TOP := $(CURDIR)
BUILD ?= build
APXS ?= apxs

APXS_CFLAGS := $(shell $(APXS) -q CFLAGS 2>/dev/null)
APXS_INC := -I$(shell $(APXS) -q INCLUDEDIR 2>/dev/null)
PKGS := apr-1 apr-util-1 hiredis json-c libmariadb librabbitmq openssl libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
SAN ?=
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(SAN) $(WARN) -std=gnu11 -fPIC -Ilib $(APXS_INC) $(PKG_CFLAGS) \
	-D_FILE_OFFSET_BITS=64
LDLIBS := $(PKG_LIBS) -lm

LIB_SRC := $(wildcard lib/*.c)
MOD_SRC := $(wildcard mod_seckill/*.c)
WRK_SRC := $(wildcard worker/*.c)
UNIT_SRC := $(wildcard t/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
MOD_OBJ := $(MOD_SRC:%.c=$(BUILD)/%.o)
WRK_OBJ := $(WRK_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(BUILD)/unit/%)

.PHONY: all module worker unit test test-unprivileged run stop install clean format bench deps
all: module worker
module: $(BUILD)/mod_seckill.so
worker: $(BUILD)/seckill-worker

$(BUILD)/%.o: %.c $(wildcard lib/*.h mod_seckill/*.h worker/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(APXS_CFLAGS) $(ALL_CFLAGS) -c $< -o $@

# The module links the shared lib/ objects in; apxs -q gave the flags, apxs -i installs it.
$(BUILD)/mod_seckill.so: $(MOD_OBJ) $(LIB_OBJ)
	$(CC) -shared $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/seckill-worker: $(WRK_OBJ) $(LIB_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS) -lpthread

$(BUILD)/unit/%: t/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# C unit tests (cmocka), built with AddressSanitizer in a build folder of their own.
unit:
	$(MAKE) BUILD=build/asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		CFLAGS="-O1 -g" unit-run

.PHONY: unit-run
unit-run: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
		SECKILL_TOP=$(TOP) ASAN_OPTIONS=detect_leaks=1 $$t; done

deps:
	@scripts/deps.sh

test: deps
	@scripts/test.sh

# The shop in headless Chromium (e2e/, playwright-core): on the test stack's servers, with its
# own httpd, worker and Alipay stand-in; screenshots in build/e2e-shots/. make test runs it too.
.PHONY: e2e
e2e: deps all
	@scripts/e2e.sh

run: deps all
	@scripts/run.sh start

stop:
	@scripts/run.sh stop

bench: deps all
	@bench/bench.sh

install: all
	@scripts/install.sh

format:
	clang-format -i lib/*.[ch] mod_seckill/*.[ch] worker/*.[ch] t/unit/*.c

clean:
	rm -rf build

# Test tools (t/tools/*.c, e.g. amqp_tool for the suite's RabbitMQ work), linked with lib/.
TOOL_BIN := $(patsubst t/tools/%.c,$(BUILD)/tools/%,$(wildcard t/tools/*.c))
all: $(TOOL_BIN)
$(BUILD)/tools/%: t/tools/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# Fault injection: t/chaos/*.t run in make test too (t/TEST runs every t/**/*.t); here
# they run alone on a stack of their own (ports
# 28529/26390/23317/25683, build/chaos-run), each scenario audited; prints a table.
.PHONY: chaos
chaos: deps
	@scripts/chaos.sh

# Fuzzing (not part of make test): libFuzzer targets t/fuzz/fuzz_*.c over the parsers of
# lib/, built with clang, ASan and UBSan. Each runs FUZZ_SECONDS (30) from its seeds in
# t/fuzz/corpus/<target>/ (inputs it finds go to build/fuzz/corpus/<target>/); a crash
# leaves its input in build/fuzz/crash-<target>-* and makes `make fuzz` fail.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := mustache order endpoint slot form notify
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -std=gnu11 -Ilib $(APXS_INC) $(PKG_CFLAGS) -D_FILE_OFFSET_BITS=64
fuzz_src_mustache := lib/mustache.c lib/value.c
fuzz_src_order := lib/order.c lib/token.c lib/fmt.c
fuzz_src_endpoint := lib/endpoint.c
fuzz_src_slot := lib/slot.c
fuzz_src_form := lib/form.c
fuzz_src_notify := lib/form.c lib/alipay.c lib/alipay_api.c
.PHONY: fuzz
fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@fail=; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t; echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/crash-$$t- \
			$(BUILD)/fuzz/corpus/$$t t/fuzz/corpus/fuzz_$$t 2>$(BUILD)/fuzz/fuzz_$$t.log \
			|| fail="$$fail fuzz_$$t"; \
		grep -E '^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY)' \
			$(BUILD)/fuzz/fuzz_$$t.log || true; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: crashes in$$fail (inputs: $(BUILD)/fuzz/crash-*," \
		"logs: $(BUILD)/fuzz/*.log)"; exit 1; fi; echo "fuzz: no crash"
$(BUILD)/fuzz/fuzz_%: t/fuzz/fuzz_%.c $(wildcard lib/*.c lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(fuzz_src_$*) $(LDLIBS)
