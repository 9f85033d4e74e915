# nedb - build, test and install.  See README.md.
#
#   make                 build libnedb and the commands into $(BUILD)
#   make check           the bats suite, then again under ASan+UBSan
#   make check-full      the suite once, with its long runs (NEDB_CHECK_FULL)
#   make install         PREFIX=/usr/local DESTDIR=...
#   make deps            install the Debian packages the build and tests need

PREFIX ?= /usr/local
prefix ?= $(PREFIX)
bindir ?= $(prefix)/bin
libdir ?= $(prefix)/lib
includedir ?= $(prefix)/include
mandir ?= $(prefix)/share/man
datadir ?= $(prefix)/share

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
SAN ?=

CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wno-unused-parameter -Wno-unused-function
# lib/ by concern: core (errors, buffers, JSON), log (the line codec,
# archives, replay, verify), view (apply, indexes, edges), engine (open,
# the write protocol, reads), query (NQL, filters, updates), proto (the
# Redis command table), crypt (encryption at rest: libcrypto, loaded on
# first use like libjq, and key.enc), proof (Merkle trees, signed
# notes), file (the file store: chunking, packs, manifests; zlib loaded
# on first use); cli/ is what the commands share, not libnedb.
LIB_DIRS = lib lib/core lib/log lib/view lib/engine lib/query lib/proto \
	   lib/crypt lib/proof lib/file
CPPFLAGS += -D_GNU_SOURCE $(LIB_DIRS:%=-I%) -Icli $(PQ_CFLAGS)
# The sanitizer build (make check's second suite): ASan with its leak
# check, and UBSan trapping (an undefined behaviour kills the process
# with SIGILL at the faulting instruction, which no test expects; gdb or
# a SAN=full build names it).  UBSan's run-time library is left out:
# its 6 MB of zeroed globals are scanned by the leak check at every
# exit, which on this machine's VM costs more than half of what ASan
# adds to each of the suite's twenty thousand processes.
ifeq ($(SAN),full)
CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	 -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else ifneq ($(SAN),)
CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	 -fsanitize-undefined-trap-on-error
LDFLAGS += -fsanitize=address,undefined -fsanitize-undefined-trap-on-error
endif

pc = $(shell $(PKG_CONFIG) --$(1) $(2) 2>/dev/null || echo $(3))
LMDB_CFLAGS := $(call pc,cflags,lmdb,)
LMDB_LIBS := $(call pc,libs,lmdb,-llmdb)
B2_CFLAGS := $(call pc,cflags,libb2,)
# libpq's header (libpq-dev) for the log on PostgreSQL (lib/log/pglog.c),
# hiredis's (libhiredis-dev) for the log on Redis (lib/log/redislog.c);
# the libraries themselves are loaded on first use (dlopen), never linked.
PQ_CFLAGS := $(call pc,cflags,libpq,-I/usr/include/postgresql)
# libb2 is linked statically: its shared form drags in libgomp (for the
# parallel variants nedb does not use) at every process start.
B2_STATIC := $(shell $(CC) -print-file-name=libb2.a)
B2_LIBS := $(if $(filter /%,$(B2_STATIC)),$(B2_STATIC),$(call pc,libs,libb2,-lb2))

LIB_SRC = lib/core/util.c lib/core/jv.c lib/core/doc.c lib/log/log.c lib/log/midstate.c \
	  lib/log/optab.c lib/core/time.c lib/view/timeidx.c lib/engine/diff.c \
	  lib/view/view.c lib/log/replay.c lib/engine/db.c lib/log/verify.c \
	  lib/query/nql_parse.c lib/query/value.c lib/query/filter.c \
	  lib/view/index.c lib/view/elems.c lib/view/graph.c lib/view/codec.c lib/view/kv.c \
	  lib/query/query.c lib/query/sql_parse.c lib/query/sql_value.c \
	  lib/query/sql_exec.c \
	  lib/query/update.c lib/log/archive.c lib/proto/redis.c \
	  lib/engine/update.c lib/engine/convert.c lib/engine/redact.c lib/engine/staged.c \
	  lib/proto/request.c \
	  lib/log/logstore.c lib/log/logfile.c lib/log/logcrypt.c lib/log/chain.c \
	  lib/crypt/aead.c lib/crypt/keys.c lib/proof/tree.c \
	  lib/proof/verify.c lib/proof/note.c lib/proof/witness.c \
	  lib/proof/sign.c lib/core/zlib.c \
	  lib/file/cdc.c lib/file/store.c lib/file/manifest.c lib/file/file.c \
	  lib/log/engine.c lib/log/pglog.c lib/log/redislog.c \
	  lib/engine/move.c
LIB_HDR = lib/nedb.h lib/internal.h lib/core/b2.h lib/core/nedb_jv.h lib/query/nql.h \
	  lib/query/sql.h \
	  lib/proto/redis.h lib/proto/request.h lib/view/codec.h lib/view/kv.h \
	  lib/log/logstore.h lib/log/engine.h lib/crypt/crypt.h lib/proof/tree.h \
	  lib/proof/verify.h lib/file/filestore.h
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/obj/%.o)
CLI_SRC = cli/cli.c cli/table.c cli/progress.c
CLI_OBJ = $(CLI_SRC:cli/%.c=$(BUILD)/obj/cli/%.o)
SONAME = libnedb.so.0
LIB = $(BUILD)/lib/$(SONAME)

CMDS = nedb-put nedb-get nedb-delete nedb-log nedb-verify nedb-checkpoint \
       nedb-link nedb-index nedb-coll nedb-query nedb-update \
       nedb-expire nedb-sweep nedb-stats nedb-redis nedb-key \
       nedb-proof nedb-witness nedb-diff nedb-file nedb-redact nedb-shell nedb-sql \
       nedb-redis-follow
# nedb, the umbrella, runs the others (cmd/nedb.c links libc only)
BINS = $(CMDS:%=$(BUILD)/bin/%) $(BUILD)/bin/nedb

MAN1 = $(CMDS:%=man/%.1) man/nedb.1
MAN5 = man/nedb-format.5
MAN7 = man/nedb.7 man/nedb-nql.7
MAN8 = man/nedbd.8

all: $(LIB) $(BUILD)/lib/libnedb.so $(BUILD)/lib/libnedb.a $(BINS) $(BUILD)/bin/nedbd

$(BUILD)/obj/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden \
		-ffunction-sections -fdata-sections \
		$(LMDB_CFLAGS) $(B2_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -Wl,-O1 \
		$(LDFLAGS) -o $@ $(LIB_OBJ) $(LMDB_LIBS) $(B2_LIBS) -ldl

$(BUILD)/lib/libnedb.so: $(LIB)
	ln -sf $(SONAME) $@

# The same objects as an archive, which the commands link (below).
$(BUILD)/lib/libnedb.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/cli/%.o: cli/%.c cli/cli.h $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC $(LMDB_CFLAGS) $(B2_CFLAGS) \
		-c $< -o $@

$(BUILD)/lib/libnedbcli.a: $(CLI_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# Commands link libnedb only: libjq is loaded on first use (nedb_jv.h),
# and so is libcrypto (lib/crypt/aead.c; its headers, from libssl-dev,
# are needed to build, never -lcrypto to link).  They link its archive,
# the parts they use (--gc-sections), not libnedb.so: the dynamic
# loader's lookups and relocations for libnedb.so were 0.27 ms of a
# 1.85 ms point get (median of 1000 hyperfine runs, README).  libnedb.so
# is built, installed and tested (tests/install.bats) for programs that
# embed nedb.
CMD_LIBS = $(BUILD)/lib/libnedbcli.a $(BUILD)/lib/libnedb.a $(LMDB_LIBS) \
	   $(B2_LIBS) -ldl
CMD_LDFLAGS = -Wl,-O1 -Wl,--as-needed -Wl,--gc-sections -pthread $(LDFLAGS)
$(BUILD)/bin/%: cmd/%.c $(BUILD)/lib/libnedb.a $(BUILD)/lib/libnedbcli.a cli/cli.h lib/nedb.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(CMD_LIBS) $(CMD_LDFLAGS)

# The umbrella: libc only, for it is on the path of every "nedb CMD"
# (nedb.h for NEDB_VERSION, no -lnedb), and linked statically: no
# dynamic loader before the exec (nedb get: +0.6 ms dynamic, +0.35 ms
# static, minimum of hyperfine runs).  ASan cannot link statically.
NEDB_STATIC = $(if $(SAN),,-static)
$(BUILD)/bin/nedb: cmd/nedb.c lib/nedb.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(NEDB_STATIC) -o $@ $< -Wl,-O1 $(LDFLAGS)

# The shell: the only command that links readline.
READLINE_LIBS := $(call pc,libs,readline,-lreadline)
$(BUILD)/bin/nedb-shell: cmd/nedb-shell.c $(BUILD)/lib/libnedb.a $(BUILD)/lib/libnedbcli.a cli/cli.h lib/nedb.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(CMD_LIBS) \
		$(READLINE_LIBS) $(CMD_LDFLAGS)

# The server: HTTP (libmicrohttpd) and RESP2 (hiredis's reader).
NEDBD_SRC = $(wildcard cmd/nedbd/*.c)
MHD_LIBS := $(call pc,libs,libmicrohttpd,-lmicrohttpd)
HIREDIS_LIBS := $(call pc,libs,hiredis,-lhiredis)
# The Redis follower: a Redis client (hiredis), the only command that
# links it.
$(BUILD)/bin/nedb-redis-follow: cmd/nedb-redis-follow.c $(BUILD)/lib/libnedb.a $(BUILD)/lib/libnedbcli.a cli/cli.h lib/nedb.h lib/proto/redis.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(CMD_LIBS) \
		$(HIREDIS_LIBS) $(CMD_LDFLAGS)

# The web console's files, built into nedbd (tools/embed.sh).
CONSOLE = cmd/nedbd/console/index.html cmd/nedbd/console/console.js \
	  cmd/nedbd/console/console.css cmd/nedbd/console/favicon.svg
$(BUILD)/gen/console.c: $(CONSOLE) tools/embed.sh
	@mkdir -p $(dir $@)
	tools/embed.sh $@ $(CONSOLE)

$(BUILD)/bin/nedbd: $(NEDBD_SRC) $(BUILD)/gen/console.c cmd/nedbd/nedbd.h $(BUILD)/lib/libnedb.a lib/nedb.h lib/proto/redis.h lib/proto/request.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Icmd/nedbd $(CFLAGS) $(WARN) -o $@ $(NEDBD_SRC) \
		$(BUILD)/gen/console.c $(BUILD)/lib/libnedb.a $(LMDB_LIBS) \
		$(B2_LIBS) -ldl $(MHD_LIBS) $(HIREDIS_LIBS) \
		-Wl,-O1 -Wl,--gc-sections -pthread $(LDFLAGS)

# The suite runs the installed commands: each build is installed into a
# staging directory first, so that install is tested too.
STAGE = $(BUILD)/stage
stage: all
	@rm -rf $(STAGE)
	@$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(STAGE) \
		PREFIX=/usr/local >/dev/null

# libFuzzer targets (clang), run for a bounded time by tests/fuzz.bats.
# The library is compiled once for all of them (instrumented, into an
# archive each fuzzer takes what it needs from).
FUZZERS = doc logline nql sql resp http encline note fileproof rops
fuzz: $(FUZZERS:%=build/fuzz/fuzz_%)

FUZZ_CFLAGS = -g -O1 -fsanitize=address,undefined \
	      -fno-sanitize-recover=undefined -D_GNU_SOURCE \
	      $(LIB_DIRS:%=-I%) $(LMDB_CFLAGS) $(B2_CFLAGS) $(PQ_CFLAGS)
FUZZ_LIB = build/fuzz/libnedb-fuzz.a
FUZZ_OBJ = $(LIB_SRC:lib/%.c=build/fuzz/obj/%.o)
FUZZ_LIBS = $(FUZZ_LIB) $(HIREDIS_LIBS) $(B2_LIBS) $(LMDB_LIBS) -ldl

build/fuzz/obj/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

# nedbd's front ends: the fuzzer includes resp.c or http.c itself and is
# linked with main.c (its main renamed); what it does not run (the other
# front end, libmicrohttpd) it stubs.
build/fuzz/nedbd_main.o: cmd/nedbd/main.c cmd/nedbd/nedbd.h $(LIB_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Dmain=nedbd_main \
		-c $< -o $@

FUZZ_NEDBD = build/fuzz/nedbd_main.o tests/fuzz/fuzz_nedbd.h cmd/nedbd/nedbd.h

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(LIB_HDR) lib/query/sql.h
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS)

build/fuzz/fuzz_resp: tests/fuzz/fuzz_resp.c cmd/nedbd/resp.c $(FUZZ_NEDBD) $(FUZZ_LIB)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		build/fuzz/nedbd_main.o $(FUZZ_LIBS)

build/fuzz/fuzz_http: tests/fuzz/fuzz_http.c cmd/nedbd/http.c $(FUZZ_NEDBD) $(FUZZ_LIB) $(BUILD)/gen/console.c
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -Icmd/nedbd -o $@ $< \
		build/fuzz/nedbd_main.o $(BUILD)/gen/console.c $(FUZZ_LIBS)

# Library unit tests (tests/unit/test_*.c), linked with libnedb's objects
# so that internal functions can be tested; run by tests/unit.bats.
UNITS = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
unit: $(UNITS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJ) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIB_OBJ) \
		$(LMDB_LIBS) $(B2_LIBS) -ldl $(LDFLAGS)

# Both builds on every core, then both suites at once (tests/run).
NPROC := $(shell nproc 2>/dev/null || echo 2)
check:
	@$(MAKE) --no-print-directory -j$(NPROC) stage fuzz unit
	@$(MAKE) --no-print-directory -j$(NPROC) BUILD=build-san SAN=1 stage unit
	@NEDB_UNIT_BUILD=$(BUILD) tests/run $(STAGE)/usr/local \
		build-san/stage/usr/local

check-fast: stage unit
	@NEDB_UNIT_BUILD=$(BUILD) tests/run $(STAGE)/usr/local

check-valgrind: stage
	@NEDB_VALGRIND=1 tests/run $(STAGE)/usr/local

# The long runs make check samples (proofs over 100k ops checked by Go).
check-full: stage unit
	@NEDB_CHECK_FULL=1 NEDB_UNIT_BUILD=$(BUILD) tests/run $(STAGE)/usr/local

# Every record of the sqllogictest files in ../shared/data through nedb-sql
# (make check runs the sample in tests/slt/data).
SLT_DATA ?= ../shared/data/sqllogictest
check-sql-full: all
	@tests/slt/run --bin $(BUILD)/bin $(SLT_DATA)/index/*.test

demo: all
	@tests/demo.sh $(BUILD)

# The yardstick: nedb beside sqlite3 and jq (tests/bench/run).
BENCH_N ?= 1000000
bench: all
	@tests/bench/run $(BUILD)/bin $(BENCH_N)
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		tests/bench/pglog $(BUILD)/bin; fi
	@if command -v redis-server >/dev/null; then \
		tests/bench/redislog $(BUILD)/bin; fi

# The same figures as a database grows to SCALE_N documents (not in CI).
SCALE_N ?= 10000000
bench-scale: all
	@tests/bench/scale $(BUILD)/bin $(SCALE_N)

lint:
	mandoc -Tlint -W warning $(MAN1) $(MAN5) $(MAN7) $(MAN8)

deps:
	@tools/deps.sh

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) \
		$(DESTDIR)$(includedir) $(DESTDIR)$(mandir)/man1 \
		$(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man7 \
		$(DESTDIR)$(mandir)/man8 $(DESTDIR)$(libdir)/pkgconfig \
		$(DESTDIR)$(datadir)/bash-completion/completions \
		$(DESTDIR)$(datadir)/zsh/vendor-completions
	install -m 755 $(LIB) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(libdir)/libnedb.so
	install -m 644 lib/nedb.h $(DESTDIR)$(includedir)/nedb.h
	install -m 755 $(BINS) $(BUILD)/bin/nedbd $(DESTDIR)$(bindir)/
	install -m 644 $(MAN1) $(DESTDIR)$(mandir)/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(mandir)/man5/
	install -m 644 $(MAN8) $(DESTDIR)$(mandir)/man8/
	for m in $(MAN7); do [ -f $$m ] && install -m 644 $$m $(DESTDIR)$(mandir)/man7/; done; true
	sed -e 's|@prefix@|$(prefix)|;s|@libdir@|$(libdir)|;s|@includedir@|$(includedir)|;s|@version@|0.1.0|' \
		lib/nedb.pc.in > $(DESTDIR)$(libdir)/pkgconfig/nedb.pc
	install -m 644 completions/nedb.bash \
		$(DESTDIR)$(datadir)/bash-completion/completions/nedb
	for c in $(CMDS) nedbd; do ln -sf nedb \
		$(DESTDIR)$(datadir)/bash-completion/completions/$$c; done
	install -m 644 completions/_nedb \
		$(DESTDIR)$(datadir)/zsh/vendor-completions/_nedb

uninstall:
	rm -f $(DESTDIR)$(libdir)/$(SONAME) $(DESTDIR)$(libdir)/libnedb.so
	rm -f $(DESTDIR)$(includedir)/nedb.h $(DESTDIR)$(libdir)/pkgconfig/nedb.pc
	for c in $(CMDS) nedb; do rm -f $(DESTDIR)$(bindir)/$$c \
		$(DESTDIR)$(mandir)/man1/$$c.1 \
		$(DESTDIR)$(datadir)/bash-completion/completions/$$c; done
	rm -f $(DESTDIR)$(mandir)/man5/nedb-format.5 $(DESTDIR)$(mandir)/man7/nedb.7
	rm -f $(DESTDIR)$(bindir)/nedbd $(DESTDIR)$(mandir)/man8/nedbd.8
	rm -f $(DESTDIR)$(datadir)/bash-completion/completions/nedbd
	rm -f $(DESTDIR)$(mandir)/man7/nedb-nql.7
	rm -f $(DESTDIR)$(datadir)/bash-completion/completions/nedb
	rm -f $(DESTDIR)$(datadir)/zsh/vendor-completions/_nedb

clean:
	rm -rf build build-san

.PHONY: all stage fuzz unit bench bench-scale check check-fast check-full check-sql-full check-valgrind demo lint deps install uninstall clean
