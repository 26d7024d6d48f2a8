# moshi — one static binary. See README for the two commands you need.
#
#   make                  build ./moshi (static, musl, stripped)
#   make run              build and start moshi on this machine
#   make check            build and run every test
#   make bench            run the benchmarks (lines: bench NAME VALUE UNIT)
#   make bench-report     moshi against mosh and ssh, every benchmark in one
#                         run: writes docs/benchmarks.md and its plots
#   make fuzz             run every fuzz target (clang libFuzzer, ASan, UBSan)
#                         for FUZZ_SECONDS each (default 60)
#   make install PREFIX=/usr/local
#   make clean            remove build products (keeps fetched sources)
#   make distclean        also remove the fetched dependency sources
#
# Options:
#   MBEDTLS_SRC=DIR       an mbedTLS 2.28 source tree to build from
#   TERMKEY_SRC=DIR       a libtermkey 0.22 source tree to build from
#   SANITIZE=1            build with clang, ASan and UBSan (glibc, not static)
#
# Without MBEDTLS_SRC/TERMKEY_SRC, both are fetched once from Debian's
# source archive into build/src by deps/fetch.sh.

VERSION := 0.1.0
PREFIX ?= /usr/local
BUILD ?= build
SRC_DIR := $(BUILD)/src

MBEDTLS_SRC ?= $(SRC_DIR)/mbedtls
TERMKEY_SRC ?= $(SRC_DIR)/libtermkey

SANITIZE ?= 0
FUZZ_SECONDS ?= 60
ifeq ($(SANITIZE),fuzz)
  # The fuzz build (make fuzz): every object carries libFuzzer's coverage
  # hooks; only the fuzz targets link libFuzzer itself (it has the main).
  MOSHI_CC := clang
  OUT := $(BUILD)/fuzz
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
         -fno-sanitize-recover=undefined
  LINK := -fsanitize=fuzzer,address,undefined
  TOOLS := clang:clang
  MOSHI_BIN := $(OUT)/moshi
else ifeq ($(SANITIZE),1)
  MOSHI_CC := clang
  OUT := $(BUILD)/san
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
         -fno-sanitize-recover=undefined
  LINK := -fsanitize=address,undefined
  TOOLS := clang:clang
  MOSHI_BIN := $(OUT)/moshi
else
  MOSHI_CC := musl-gcc
  OUT := $(BUILD)/musl
  OPT := -O2
  LINK := -static -s
  TOOLS := musl-gcc:musl-tools
  MOSHI_BIN := moshi
endif

TOOLS += file:file patch:patch

DEP_CFLAGS := $(OPT) -ffunction-sections -fdata-sections \
  -I$(MBEDTLS_SRC)/include -Ideps \
  -DMBEDTLS_CONFIG_FILE='"moshi_mbedtls_config.h"' -I$(TERMKEY_SRC)
WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
  -Wpointer-arith -Wformat=2 -Werror
CFLAGS_MOSHI := -std=c11 -D_GNU_SOURCE $(DEP_CFLAGS) $(WARN) \
  -DMOSHI_VERSION='"$(VERSION)"' -MMD -MP
LDFLAGS_MOSHI := $(LINK) -Wl,--gc-sections

# Library and role sources: everything but main.c, so tests can link them.
LIB_SRCS := $(wildcard crypto/*.c term/*.c ssp/*.c sync/*.c pty/*.c roles/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(OUT)/obj/%.o)
MAIN_OBJ := $(OUT)/obj/main.o

MBEDTLS_MODULES := aes aesni gcm cipher cipher_wrap platform_util constant_time
MBEDTLS_OBJS := $(MBEDTLS_MODULES:%=$(OUT)/deps/mbedtls/%.o)
TERMKEY_OBJS := $(OUT)/deps/termkey/termkey.o $(OUT)/deps/termkey/driver-csi.o \
  $(OUT)/deps/termkey/termkey_ti_decline.o
DEP_LIBS := $(OUT)/libmbedcrypto.a $(OUT)/libtermkey.a

TEST_SRCS := $(wildcard tests/*_test.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(OUT)/tests/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(OUT)/tools/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(OUT)/bench/%)
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(OUT)/fuzz/%)

# The dependency trees must exist before anything includes their headers.
DEP_STAMP := $(MBEDTLS_SRC)/include/mbedtls/version.h $(TERMKEY_SRC)/termkey.h
TOOL_STAMP := $(OUT)/.tools

.PHONY: all run check bench bench-report fuzz fuzz-targets install uninstall deb clean distclean
all: $(MOSHI_BIN)

$(TOOL_STAMP):
	@sh deps/need.sh $(TOOLS)
	@mkdir -p $(@D) && touch $@

# One fetch makes both trees (a grouped target, GNU make 4.3), and every
# dependency source file comes from it.
$(DEP_STAMP) &:
	@if [ "$(MBEDTLS_SRC)" != "$(SRC_DIR)/mbedtls" ] || [ "$(TERMKEY_SRC)" != "$(SRC_DIR)/libtermkey" ]; then \
	  echo "moshi: $@ not found: check MBEDTLS_SRC and TERMKEY_SRC" >&2; exit 1; fi
	sh deps/fetch.sh $(SRC_DIR)

$(MBEDTLS_SRC)/library/%.c $(TERMKEY_SRC)/%.c: | $(DEP_STAMP) ;
# Those sources look intermediate to make; it must never delete them.
.PRECIOUS: $(MBEDTLS_SRC)/library/%.c $(TERMKEY_SRC)/%.c $(OUT)/obj/%.o

$(OUT)/deps/mbedtls/%.o: $(MBEDTLS_SRC)/library/%.c $(DEP_STAMP) deps/moshi_mbedtls_config.h | $(TOOL_STAMP)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(DEP_CFLAGS) -w -c -o $@ $<

$(OUT)/deps/termkey/%.o: $(TERMKEY_SRC)/%.c $(DEP_STAMP) | $(TOOL_STAMP)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(DEP_CFLAGS) -std=c99 -D_XOPEN_SOURCE=700 -w -c -o $@ $<

# libtermkey 0.22 has bugs the fuzz targets found: driver-csi.c and
# termkey.c are compiled from copies with the patches of
# deps/patches/libtermkey/ applied, in order (each says what it fixes).
# The build stops when one does not apply.
TERMKEY_PATCHES := $(sort $(wildcard deps/patches/libtermkey/*.patch))
$(OUT)/deps/termkey/driver-csi.c $(OUT)/deps/termkey/termkey.c: \
  $(OUT)/deps/termkey/%.c: $(TERMKEY_SRC)/%.c $(DEP_STAMP) $(TERMKEY_PATCHES) | $(TOOL_STAMP)
	@mkdir -p $(@D)
	cp $< $@.tmp
	@for p in $(filter deps/patches/libtermkey/$*-%,$(TERMKEY_PATCHES)); do \
	  echo "patch $@ < $$p"; \
	  patch -s -f --no-backup-if-mismatch -r - $@.tmp < $$p || \
	  { echo "moshi: $$p does not apply to $< (not libtermkey 0.22?)" >&2; \
	    rm -f $@.tmp; exit 1; }; \
	done
	mv -f $@.tmp $@

$(OUT)/deps/termkey/driver-csi.o $(OUT)/deps/termkey/termkey.o: \
  $(OUT)/deps/termkey/%.o: $(OUT)/deps/termkey/%.c | $(TOOL_STAMP)
	$(MOSHI_CC) $(DEP_CFLAGS) -std=c99 -D_XOPEN_SOURCE=700 -w -c -o $@ $<

$(OUT)/deps/termkey/termkey_ti_decline.o: deps/termkey_ti_decline.c $(DEP_STAMP) | $(TOOL_STAMP)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(DEP_CFLAGS) -std=c99 -Wall -Wextra -c -o $@ $<

$(OUT)/libmbedcrypto.a: $(MBEDTLS_OBJS)
	rm -f $@ && ar rcs $@ $^

$(OUT)/libtermkey.a: $(TERMKEY_OBJS)
	rm -f $@ && ar rcs $@ $^

$(OUT)/obj/%.o: %.c $(DEP_STAMP) | $(TOOL_STAMP)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(CFLAGS_MOSHI) -c -o $@ $<

$(OUT)/moshi: $(MAIN_OBJ) $(LIB_OBJS) $(DEP_LIBS)
	$(MOSHI_CC) $(LDFLAGS_MOSHI) -o $@ $(MAIN_OBJ) $(LIB_OBJS) $(DEP_LIBS)

ifneq ($(MOSHI_BIN),$(OUT)/moshi)
$(MOSHI_BIN): $(OUT)/moshi
	cp $< $@.tmp && mv -f $@.tmp $@
endif

$(OUT)/tests/%: $(OUT)/obj/tests/%.o $(LIB_OBJS) $(DEP_LIBS)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(filter-out -s,$(LDFLAGS_MOSHI)) -o $@ $^

$(OUT)/tools/%: $(OUT)/obj/tests/tools/%.o $(LIB_OBJS) $(DEP_LIBS)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(filter-out -s,$(LDFLAGS_MOSHI)) -o $@ $^

$(OUT)/bench/%: $(OUT)/obj/tests/bench/%.o $(LIB_OBJS) $(DEP_LIBS)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(filter-out -s,$(LDFLAGS_MOSHI)) -o $@ $^

$(OUT)/fuzz/%: $(OUT)/obj/tests/fuzz/%.o $(LIB_OBJS) $(DEP_LIBS)
	@mkdir -p $(@D)
	$(MOSHI_CC) $(LDFLAGS_MOSHI) -o $@ $^

# Fuzzing has its own build (SANITIZE=fuzz, in build/fuzz).
fuzz:
	@$(MAKE) --no-print-directory SANITIZE=fuzz fuzz-targets
	@OUT=$(abspath $(BUILD)/fuzz) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SKIP="$(FUZZ_SKIP)" \
	  sh tests/fuzz/run.sh

fuzz-targets: $(FUZZ_BINS)

# The README's first command: a moshi session on this machine.
run: $(MOSHI_BIN)
	./$(MOSHI_BIN) connect --local

# What the end-to-end tests need, and the programs the oracle and
# fidelity suites record; installed when root (else the command to run
# is printed, and those tests skip).
CHECK_TOOLS := tmux:tmux python3:python3 script:bsdutils sshd:openssh-server \
  ssh:openssh-client ip:iproute2 nft:nftables pgrep:procps less:less \
  man:man-db vi:vim nano:nano lintian:lintian
check: $(MOSHI_BIN) $(TEST_BINS) $(TOOL_BINS)
	@sh deps/need.sh $(CHECK_TOOLS) || echo "moshi: tests that need those will be skipped"
	@MOSHI=$(abspath $(MOSHI_BIN)) OUT=$(abspath $(OUT)) SANITIZE=$(SANITIZE) \
	  sh tests/run.sh

bench: $(MOSHI_BIN) $(BENCH_BINS) $(TOOL_BINS)
	@MOSHI=$(abspath $(MOSHI_BIN)) OUT=$(abspath $(OUT)) sh tests/bench.sh

bench-report: $(MOSHI_BIN) $(BENCH_BINS) $(TOOL_BINS)
	@MOSHI=$(abspath $(MOSHI_BIN)) OUT=$(abspath $(OUT)) sh tests/bench/report.sh

install: $(MOSHI_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(MOSHI_BIN) $(DESTDIR)$(PREFIX)/bin/moshi
	ln -sf moshi $(DESTDIR)$(PREFIX)/bin/moshi-server
	ln -sf moshi $(DESTDIR)$(PREFIX)/bin/moshi-client
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 moshi.1 $(DESTDIR)$(PREFIX)/share/man/man1/moshi.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 contrib/moshi.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/moshi

# A Debian package of the static binary (deps/deb/build.sh says what is
# in it): $(BUILD)/moshi_VERSION_ARCH.deb.
deb: all
	@sh deps/need.sh dpkg-deb:dpkg
	@sh deps/deb/build.sh moshi $(VERSION) $(abspath $(BUILD))

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/moshi $(DESTDIR)$(PREFIX)/bin/moshi-server \
	  $(DESTDIR)$(PREFIX)/bin/moshi-client $(DESTDIR)$(PREFIX)/share/man/man1/moshi.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/moshi

clean:
	rm -rf $(BUILD)/musl $(BUILD)/san $(BUILD)/fuzz moshi moshi-server moshi-client

distclean: clean
	rm -rf $(BUILD)

-include $(shell find $(OUT)/obj -type f -name '*.d' 2>/dev/null)
