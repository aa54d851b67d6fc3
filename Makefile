# SPDX-License-Identifier: GPL-2.0-or-later
#
# lifeboat - a plain GNU Makefile with pkg-config.
#
#   make                      build ./lifeboat
#   make demo                 install what is missing, build, run the demo
#   make check                install what is missing, build, run every test
#   make check SANITIZE=address,undefined
#   make check-s3             the repository tests against a real Ceph RGW on loopback
#   make check-slow           the kill loops (random kill -9 points, repair and backup)
#   make DEVELOPER=1          -Werror and the strict warning set
#   make fuzz [FUZZ_SECONDS=60]   build the libFuzzer targets with clang and run each
#   make lint | format-check | valgrind-check | install PREFIX=... | clean

PREFIX ?= /usr/local
CC ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

PKGS := libntfs-3g libnbd zlib ext2fs com_err hivex libcrypto libzstd libsodium libcurl libseccomp

comma := ,
ifdef SANITIZE
VARIANT := san-$(subst $(comma),-,$(SANITIZE))
else
VARIANT := default
endif
BUILD ?= build/$(VARIANT)

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers -Wformat=2 -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wpointer-arith -Wundef \
	-Wimplicit-fallthrough -Wno-format-nonliteral -Wno-format-truncation
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) -Isrc -D_GNU_SOURCE \
	-MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)
LIBS = $(PKG_LIBS) -lm
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC := $(wildcard src/base/*.c src/io/*.c src/fs/*.c src/repair/*.c src/store/*.c src/repo/*.c)
RECIPES := $(sort $(wildcard recipes/*.recipe))
CLI_SRC := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/recipes.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/version.o
LIB := $(BUILD)/liblifeboat.a
BIN := $(BUILD)/lifeboat
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/replay/%)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)

.SECONDARY:

.PHONY: FORCE all deps demo check check-run check-s3 check-s3-run check-slow test-bin fuzz fuzz-build lint format format-check \
	valgrind-check install uninstall clean bench banned

all: $(BIN)
ifeq ($(VARIANT),default)
all: lifeboat
lifeboat: $(BIN)
	cp $< $@
endif

deps:
	@scripts/deps.sh build

$(BUILD)/%.o: %.c | banned
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The built-in recipes are compiled into the binary.
%/gen/recipes.c: $(RECIPES) scripts/embed-recipes.sh
	@mkdir -p $(dir $@)
	scripts/embed-recipes.sh $(RECIPES) >$@.tmp && mv $@.tmp $@

# The version, from git: the file changes (and main is relinked) only when it does.
$(BUILD)/gen/version.c: FORCE
	@mkdir -p $(dir $@)
	@echo 'extern const char lb_version[]; const char lb_version[] = "$(VERSION)";' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

FORCE:

$(BUILD)/gen/version.o: $(BUILD)/gen/version.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/recipes.o: $(BUILD)/gen/recipes.c
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

banned:
	@scripts/check-banned.sh
	@$(PKG_CONFIG) --exists $(PKGS) || { echo "lifeboat: missing libraries ($(PKGS)); run 'make deps' (as root) or see README.md" >&2; exit 1; }

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/harness.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/tests/unit/harness.o $(LIB) $(LIBS)

$(BUILD)/replay/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(LIB) $(LIBS)

$(BUILD)/helpers/%: $(BUILD)/tests/helpers/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

test-bin: $(BIN) $(UNIT_BIN) $(REPLAY_BIN) $(HELPER_BIN)

# The two README commands install what they need first, then re-enter make so
# that pkg-config sees the freshly installed libraries.
demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory all $(HELPER_BIN)
	@BUILD=$(CURDIR)/$(BUILD) scripts/demo.sh

check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory check-run

check-run: test-bin
	@LIFEBOAT=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run.sh $(T)

# The repository tests (t04*) with their repositories on S3: each script
# starts its own Ceph mon + OSD + RGW on loopback (tests/e2e/rgw.sh).
check-s3:
	@scripts/deps.sh check s3
	@$(MAKE) --no-print-directory check-s3-run

check-s3-run: test-bin
	@LB_TEST_STORE=s3 LIFEBOAT=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run.sh $(or $(T),t04)

# The kill loops (tests/slow/): >= 50 random kill points each for repair and
# backup (LB_KILL_POINTS=N, LB_SEED=N to replay).
check-slow: test-bin
	@LIFEBOAT=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run.sh slow

valgrind-check: test-bin
	@VALGRIND=1 LIFEBOAT=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) tests/run.sh unit

# ---- fuzzing (clang libFuzzer) -------------------------------------------
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS = -std=gnu11 -O1 -g -Isrc -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined \
	$(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/recipes.o
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_SECONDS ?= 60

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/gen/recipes.o: $(FUZZ_BUILD)/gen/recipes.c
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz-build:
	@scripts/deps.sh build fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# ---- static checks -----------------------------------------------------------
ALL_C := $(LIB_SRC) $(CLI_SRC) $(UNIT_SRC) $(FUZZ_SRC) $(HELPER_SRC) tests/unit/harness.c tests/fuzz/replay.c
ALL_H := $(wildcard src/*/*.h tests/unit/*.h)

format:
	clang-format -i $(ALL_C) $(ALL_H)

format-check:
	@scripts/deps.sh lint
	clang-format --dry-run -Werror $(ALL_C) $(ALL_H)

lint:
	@scripts/deps.sh build lint
	@scripts/check-banned.sh
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem -Isrc -D_GNU_SOURCE \
		--suppress=unknownMacro \
		--suppress=memleak --suppress=resourceLeak src
	@# (cppcheck does not understand __attribute__((cleanup)), our _cleanup_free_ and
	@# _cleanup_close_; leaks are caught by LeakSanitizer and valgrind in the tests)
	@# every analyzer finding fails the target (false positives carry a NOLINT saying why)
	clang-tidy --quiet --warnings-as-errors='*' $(LIB_SRC) $(CLI_SRC) -- -std=gnu11 -Isrc \
		-D_GNU_SOURCE $(PKG_CFLAGS)

# ---- install -------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/lifeboat
	install -m 644 docs/lifeboat.1 $(DESTDIR)$(PREFIX)/share/man/man1/lifeboat.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lifeboat $(DESTDIR)$(PREFIX)/share/man/man1/lifeboat.1

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(HELPER_BIN)
	@BUILD=$(CURDIR)/$(BUILD) bench/run.sh $(B)

clean:
	rm -rf build lifeboat

# every object's header dependencies (tests too: a changed struct must rebuild them)
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_SRC:%.c=$(BUILD)/%.d) \
	$(FUZZ_SRC:%.c=$(BUILD)/%.d) $(HELPER_SRC:%.c=$(BUILD)/%.d) \
	$(BUILD)/tests/unit/harness.d $(BUILD)/tests/fuzz/replay.d
