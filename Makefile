# hollow - libhformat and the hollow-* tools.  `make help` lists the targets.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
BIN      ?= bin
AR       ?= ar

PKGS      = liblz4 libxxhash
# Options structs grow at their end; members an initializer leaves out are
# zero, which is every option's default (C99 6.7.8p21).
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith \
            -Wcast-qual -Wundef -Wvla -Wno-missing-field-initializers
CSTD      = -std=c99 -pedantic
OPT      ?= -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -Ilibhformat/include -Ilibhformat
CFLAGS   += $(OPT) $(WARN) $(WERROR)
# --as-needed: XXH3 is compiled in (XXH_INLINE_ALL), so libxxhash is linked
# only into programs that call it themselves (tests comparing against it).
LDLIBS   += -Wl,--as-needed -llz4 -lxxhash -pthread
TEST_LIBS = -lcriterion
# hf_lz4.o carries liblz4's block code (lz4.o, lz4hc.o of liblz4.a, which
# Debian builds PIC) with every symbol but hf_lz4_* made local: a program
# linked with libhformat.a or libhformat.so then needs no -llz4 and loads no
# liblz4.so at exec (bench/README.md, "Open + one lookup").  BUNDLE_LZ4=
# (or no liblz4.a) links liblz4 the usual way, through -llz4 below.
LZ4_ARCHIVE ?= $(shell $(CC) -print-file-name=liblz4.a)
BUNDLE_LZ4  ?= $(if $(wildcard $(LZ4_ARCHIVE)),1)
OBJCOPY     ?= objcopy

LIB_SRCS  = $(sort $(wildcard libhformat/*.c))
TOOL_MAIN = $(sort $(wildcard tools/hollow-*.c))
TOOL_LIB  = $(filter-out $(TOOL_MAIN),$(sort $(wildcard tools/*.c)))
TEST_SRCS = $(sort $(wildcard tests/unit/test_*.c))
TEST_HELP = $(sort $(wildcard tests/unit/helper_*.c))
MAN_SRCS  = $(sort $(wildcard tools/hollow-*.1.md))

LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/%.o)
TOOLLIB_OBJS = $(TOOL_LIB:%.c=$(BUILD)/%.o)
TOOLS     = $(TOOL_MAIN:tools/%.c=$(BIN)/%)
TESTS     = $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TESTHELP_OBJS = $(TEST_HELP:%.c=$(BUILD)/%.o)
MANS      = $(MAN_SRCS:tools/%.md=$(BUILD)/man/%)

.PHONY: all lib tools deps check test test-unit test-cli test-link \
        asan demo install uninstall clean help man format

all: lib tools ## build libhformat (static + shared) and the tools into bin/

lib: $(BUILD)/libhformat.a $(BUILD)/libhformat.so ## build the library only

tools: $(TOOLS) ## build the hollow-* tools

deps: ## install missing build/test dependencies (apt-get when root)
	@sh scripts/deps.sh

$(BUILD)/libhformat/%.o: libhformat/%.c $(wildcard libhformat/include/*.h libhformat/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/tools/%.o: tools/%.c $(wildcard tools/*.h) libhformat/include/hformat.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libhformat.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libhformat.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libhformat.so.0 $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

ifeq ($(BUNDLE_LZ4),1)
$(BUILD)/libhformat/hf_lz4.o: libhformat/hf_lz4.c libhformat/hf_lz4.h
	@mkdir -p $@.d
	$(CC) $(CSTD) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@.d/wrap.o $<
	cd $@.d && $(AR) x $(abspath $(LZ4_ARCHIVE)) lz4.o lz4hc.o
	$(CC) -r -nostdlib -o $@.d/all.o $@.d/wrap.o $@.d/lz4.o $@.d/lz4hc.o
	$(OBJCOPY) --wildcard --keep-global-symbol='hf_lz4_*' $@.d/all.o $@
	rm -rf $@.d
endif

$(BIN)/%: $(BUILD)/tools/%.o $(TOOLLIB_OBJS) $(BUILD)/libhformat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lm

$(BUILD)/tests/helper_%.o: tests/unit/helper_%.c $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(CPPFLAGS) -Itests/unit $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/helper_%.o: tests/unit/helper_%.c $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(CPPFLAGS) -Itests/unit $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TESTHELP_OBJS) $(BUILD)/libhformat.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $< $(TESTHELP_OBJS) \
	  $(BUILD)/libhformat.a $(LDFLAGS) $(LDLIBS) $(TEST_LIBS) -lm

test-unit: $(TESTS) ## run the Criterion unit tests once
	@sh tests/run_unit.sh $(TESTS)

test-cli: tools ## run the command-line tests (tests/cli)
	@sh tests/cli/run.sh $(BIN)

check: ## fast checks: unit + CLI tests, warnings as errors
	@$(MAKE) --no-print-directory WERROR=-Werror all $(TESTS)
	@$(MAKE) --no-print-directory WERROR=-Werror test-unit test-cli test-link fuzz-replay

test-link: lib tools ## with LZ4 bundled: nothing needs liblz4.so, no LZ4 symbol leaks
	@$(if $(BUNDLE_LZ4),sh tests/link.sh $(BUILD) $(BIN),echo "link: BUNDLE_LZ4 is off: not checked")

asan: ## the unit and CLI tests again, built with clang + ASan + UBSan
	@$(MAKE) --no-print-directory CC=clang BUILD=build-asan BIN=build-asan/bin \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" WERROR=-Werror \
	  check

test: deps ## everything CI runs: check (gcc), asan (clang), short fuzz runs, bench smoke
	@mkdir -p $(BUILD) && rm -f $(BUILD)/test-tally
	@TEST_TALLY=$(CURDIR)/$(BUILD)/test-tally $(MAKE) --no-print-directory check
	@TEST_TALLY=$(CURDIR)/$(BUILD)/test-tally $(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SECONDS)
	@$(MAKE) --no-print-directory bench-smoke
	@awk '{p += $$1; f += $$2} END {printf "make test: %d passed, %d failed\n", p, f}' $(BUILD)/test-tally

demo: deps all ## build, inspect and query the bundled sample data
	@sh scripts/demo.sh $(BIN)

man: $(MANS) ## man pages from tools/hollow-*.1.md

$(BUILD)/man/%: tools/%.md scripts/md2man.sh
	@mkdir -p $(dir $@)
	sh scripts/md2man.sh $< > $@

install: all man ## install library, header, tools, man pages, pkg-config file
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(BUILD)/libhformat.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libhformat.so $(DESTDIR)$(PREFIX)/lib/libhformat.so.0
	ln -sf libhformat.so.0 $(DESTDIR)$(PREFIX)/lib/libhformat.so
	install -m 644 libhformat/include/hformat.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBS_PRIVATE@|$(if $(BUNDLE_LZ4),,-llz4 )-pthread|g' -e 's|@VERSION@|$(shell sed -n 's/^#define HF_VERSION_STRING "\(.*\)"/\1/p' libhformat/include/hformat.h)|g' \
	  libhformat/hformat.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hformat.pc

uninstall: ## remove what install put in PREFIX
	rm -f $(DESTDIR)$(PREFIX)/lib/libhformat.a $(DESTDIR)$(PREFIX)/lib/libhformat.so* \
	  $(DESTDIR)$(PREFIX)/include/hformat.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/hformat.pc
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$(basename $$t); done

format: ## clang-format the C sources in place
	clang-format -i libhformat/*.c libhformat/*.h libhformat/include/*.h tools/*.c tools/*.h tests/unit/*.c tests/unit/*.h bench/*.c 2>/dev/null || true

clean: ## remove build outputs
	rm -rf $(BUILD) build-asan $(BIN)

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

# ---- Snapshot benches: bench/bench_lookup.c, bench/bench_open.c ------------
# Every bench/*.c program except the JSON bench's own (datagen, bench_json*)
# and the shared helper.  Built with the default OPT (-O2 -g): never take
# figures from a sanitizer build.
BENCH_SNAP_SRCS = $(filter-out bench/datagen.c bench/bench_json%.c \
                    bench/bench_util.c bench/peer_%.c,$(sort $(wildcard bench/*.c)))
BENCH_SNAP      = $(BENCH_SNAP_SRCS:bench/%.c=$(BUILD)/bench/%)
BENCH_DATAGEN   = $(BUILD)/bench/snapshot-datagen
BENCH_N        ?= 1000000

.PHONY: bench bench-smoke bench-programs

bench-programs: $(BENCH_SNAP) $(BENCH_DATAGEN) ## build the snapshot bench programs

$(BUILD)/bench/bench_util.o: bench/bench_util.c bench/bench_util.h \
                             libhformat/include/hformat.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) -Ibench $(CFLAGS) -c -o $@ $<

$(BENCH_SNAP): $(BUILD)/bench/%: bench/%.c bench/bench_util.h \
               $(BUILD)/bench/bench_util.o $(BUILD)/libhformat.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) -Ibench $(CFLAGS) -o $@ $< \
	  $(BUILD)/bench/bench_util.o $(BUILD)/libhformat.a $(LDFLAGS) $(LDLIBS) -lm

# A private build of the shared generator, so this section needs no rule
# from the JSON bench's.
$(BENCH_DATAGEN): bench/datagen.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) $(CFLAGS) -o $@ $<

bench: all bench-programs ## snapshot benches on 1M records (minutes): build, sizes, open, lookups
	@CC="$(CC)" sh bench/run_snapshot.sh -n $(BENCH_N) -m 10000 -b $(BIN) \
	  -p $(BUILD)/bench -g $(BENCH_DATAGEN)

bench-smoke: all bench-programs ## the snapshot benches on 10,000 records, in seconds
	@CC="$(CC)" sh bench/run_snapshot.sh -q -n 10000 -m 1000 -b $(BIN) \
	  -p $(BUILD)/bench -g $(BENCH_DATAGEN) -w $(BUILD)/bench/smoke >/dev/null
	@echo "bench-smoke: all snapshot bench programs ran"
	@sh bench/run --smoke --work $(BUILD)/bench/run-smoke >/dev/null
	@echo "bench-smoke: bench/run ran hollow and its peers on 10,000 records"

# ---- Peers: bench/peer_main.c + bench/peer_<name>.c, driven by bench/run ----
# The same open/lookup/field work against hollow, tinycdb, SQLite and LMDB
# (Debian: libcdb-dev libsqlite3-dev liblmdb-dev; bench/run installs them).
PEER_NAMES       = hollow cdb sqlite lmdb
PEER_BINS        = $(PEER_NAMES:%=$(BUILD)/bench/peer_%)
PEER_LIBS_hollow = $(BUILD)/libhformat.a $(LDLIBS) -lm
PEER_LIBS_cdb    = -lcdb
PEER_LIBS_sqlite = -lsqlite3
PEER_LIBS_lmdb   = -llmdb

.PHONY: bench-peers bench-run

bench-peers: $(PEER_BINS) ## build the peer lookup programs (needs the peers' -dev packages)

$(BUILD)/bench/peer_%: bench/peer_%.c bench/peer_main.c bench/peer.h $(BUILD)/libhformat.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) -Ibench $(CFLAGS) -pthread -o $@ bench/peer_main.c $< \
	  $(LDFLAGS) $(PEER_LIBS_$*)

bench-run: ## hollow against cdb, SQLite, LMDB, xdelta3, diff: writes bench/RESULTS.md (minutes)
	@sh bench/run

# ---- Fuzzing, static analysis, valgrind (fuzz/, .clang-tidy) ---------------
# libFuzzer targets (clang, ASan + UBSan, coverage) in $(FUZZ_BUILD); the
# library is compiled again with the same flags and with
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips checksum comparisons
# only (FORMAT.md §12.5, fuzz/README.md).  fuzz-replay runs the corpora and
# tests/regress/ through fuzz/replay_main.c with $(CC), no libFuzzer.
FUZZ_NAMES    = $(sort $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS    = -O1 -g -fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIBOBJS  = $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS     = $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
REPLAY_LIBOBJS = $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o)
REPLAY_BINS   = $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_HDRS     = $(wildcard fuzz/*.h libhformat/include/*.h libhformat/*.h)

.PHONY: fuzz fuzz-run fuzz-replay fuzz-seeds analyze valgrind

fuzz: $(FUZZ_BINS) ## build the libFuzzer targets (clang) into build-fuzz/

$(FUZZ_BUILD)/libhformat/%.o: libhformat/%.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIBOBJS) $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) -fsanitize=fuzzer \
	  -o $@ $< $(FUZZ_LIBOBJS) $(LDLIBS) -lm

# Each target for FUZZ_SECONDS over its committed corpus; new inputs go to
# $(FUZZ_BUILD)/corpus/<target> (merge them with fuzz/README.md's recipe).
fuzz-run: $(FUZZ_BINS) ## run each fuzz target for FUZZ_SECONDS (default 30)
	@for t in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t; \
	  dict=; [ -f fuzz/$$t.dict ] && dict=-dict=fuzz/$$t.dict; \
	  echo "fuzz-run: fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 $$dict \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t > $(FUZZ_BUILD)/fuzz_$$t.log 2>&1 \
	  || { tail -n 60 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz-run: fuzz_$$t FAILED"; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|cov: ' \
	    $(FUZZ_BUILD)/fuzz_$$t.log | tail -n 4 | sed "s/^/  /"; \
	done

$(BUILD)/fuzz/libhformat/%.o: libhformat/%.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CPPFLAGS) $(CFLAGS) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/replay_main.c $(REPLAY_LIBOBJS) $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(CPPFLAGS) $(CFLAGS) \
	  -o $@ $< fuzz/replay_main.c $(REPLAY_LIBOBJS) $(LDFLAGS) $(LDLIBS) -lm

fuzz-replay: $(REPLAY_BINS) ## replay fuzz/corpus and tests/regress through every target, no libFuzzer
	@for t in $(FUZZ_NAMES); do \
	  set -- fuzz/corpus/$$t; [ -d tests/regress/$$t ] && set -- "$$@" tests/regress/$$t; \
	  $(BUILD)/fuzz/fuzz_$$t "$$@" || { echo "fuzz-replay: fuzz_$$t FAILED"; exit 1; }; \
	done

# Library objects of the fuzz and replay builds are kept between runs.
.SECONDARY: $(FUZZ_LIBOBJS) $(REPLAY_LIBOBJS)

$(BUILD)/fuzz/gen_seeds: fuzz/gen_seeds.c $(BUILD)/libhformat.a $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(CPPFLAGS) $(CFLAGS) -o $@ $< \
	  $(BUILD)/libhformat.a $(LDFLAGS) $(LDLIBS) -lm

fuzz-seeds: $(BUILD)/fuzz/gen_seeds ## regenerate the generated seeds (deltas, diff pairs) in fuzz/corpus
	@mkdir -p fuzz/corpus/delta fuzz/corpus/diff
	$(BUILD)/fuzz/gen_seeds fuzz/corpus

# Static analysis of the library and the tools, clean or failing.  cppcheck
# needs no suppressions today; add them inline (// cppcheck-suppress id) with
# the reason.  clang-tidy reads .clang-tidy (checks and why some are off).
ANALYZE_SRCS = $(LIB_SRCS) $(TOOL_MAIN) $(TOOL_LIB)
analyze: ## cppcheck and clang-tidy over libhformat/ and tools/, warnings fail
	@sh scripts/deps.sh cppcheck clang-tidy
	cppcheck --enable=warning,performance,portability --error-exitcode=1 \
	  --std=c99 --inline-suppr -q -D_DEFAULT_SOURCE -Ilibhformat/include -Ilibhformat \
	  $(ANALYZE_SRCS)
	@rc=0; for f in $(ANALYZE_SRCS); do \
	  hints=-DHF_ANALYZER_HINTS; [ $$f = libhformat/hf_error.c ] && hints=; \
	  clang-tidy --quiet $$f -- $(CSTD) $(CPPFLAGS) $$hints 2>/dev/null || rc=1; \
	done; [ $$rc -eq 0 ] && echo "analyze: cppcheck and clang-tidy clean" || \
	  { echo "analyze: clang-tidy findings above"; exit 1; }

valgrind: all ## the tools' pipeline on samples/ under valgrind memcheck, no leaks
	@sh scripts/deps.sh valgrind
	@sh fuzz/valgrind.sh $(BIN) $(BUILD)/valgrind
