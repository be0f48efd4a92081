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
