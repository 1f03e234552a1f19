# spotenv - keep spot environments on Tencent Cloud CVM at the shape in YAML.
#
#   make            build ./spotenv
#   make test       run every test (unit, golden plans, CLI) against the build
#   make check      install missing deps, build, test; then the same under
#                   AddressSanitizer + UBSan; then the fuzzers briefly
#   make demo       install missing deps, build, run the demo against `spotenv sim`
#   make fuzz       build the libFuzzer targets (clang)
#   make bench      run the benchmarks against `spotenv sim` (tests/bench/)
#   make schema     regenerate docs/spotenv.schema.json (spotenv schema)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package, built in a copy of the tree (build/deb/)
#   make check-deb  make deb, then install it into a scratch root and run it
#   make clean
#
# Knobs: CC, CFLAGS, LDFLAGS, PKG_CONFIG, SANITIZE=address,undefined,
#        DEVELOPER=1 (-Werror and stricter warnings; make check uses it),
#        B (object directory), FUZZ_SECONDS.

.DEFAULT_GOAL := all
CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/spotenv
DESTDIR ?=
B ?= build
BIN ?= spotenv
FUZZ_SECONDS ?= 20

PKGS := yaml-0.1 libcurl libcrypto libcjson libmicrohttpd
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# Users get -Wall -Wextra; DEVELOPER=1 (what make check builds with) adds
# -Werror and stricter checks, in the manner of git's config.mak.dev.
WARN := -Wall -Wextra
ifneq ($(DEVELOPER),)
WARN += -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wformat-security -Wvla \
	-Wmissing-prototypes -Wstrict-prototypes -Wold-style-definition \
	-Wpointer-arith -Woverflow -Wunused -fno-common
endif
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS = $(PKG_LIBS) -lpthread -lm

ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

MODULES := util provider specs planner applier sim
# Link order (dependents first) for each module's archive set: each module
# links exactly what it uses (specs -> planner (pure) -> applier -> provider).
LIBS_util := util
LIBS_provider := provider util
LIBS_specs := specs util
LIBS_planner := planner specs util
LIBS_applier := applier planner specs provider util
LIBS_sim := sim provider util
LIBS_all := applier planner sim specs provider util

define module_rules
SRCS_$(1) := $$(wildcard $(1)/*.c)
OBJS_$(1) := $$(patsubst %.c,$(B)/%.o,$$(SRCS_$(1)))
$(B)/lib$(1).a: $$(OBJS_$(1))
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

libs_of = $(foreach m,$(LIBS_$(1)),$(B)/lib$(m).a)

CMD_SRCS := $(wildcard cmd/*.c)
CMD_OBJS := $(patsubst %.c,$(B)/%.o,$(CMD_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

.PHONY: all test check demo deps fuzz fuzz-run install uninstall clean format bench
all: $(BIN)

$(BIN): $(CMD_OBJS) $(call libs_of,all)
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(call libs_of,all) $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests: tests/unit/test_<module>[_<what>].c links that module's libs,
# or TEST_LIBS_<test> when it needs more (the applier's tests drive the
# emulator in-process).
TEST_LIBS_test_applier_run := applier planner specs sim provider util
unit_mod = $(word 2,$(subst _, ,$(basename $(notdir $(1)))))
unit_libs = $(foreach m,$(or $(TEST_LIBS_$(basename $(notdir $(1)))),$(LIBS_$(call unit_mod,$(1)))),$(B)/lib$(m).a)
define unit_rule
$(B)/tests/$(basename $(notdir $(1))): $(1) $(call unit_libs,$(1)) $(wildcard tests/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(CMOCKA_CFLAGS) $$(LDFLAGS) -o $$@ $$< $(call unit_libs,$(1)) $$(CMOCKA_LIBS) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call unit_rule,$(t))))

tests-build: $(BIN) $(UNIT_BINS)
.PHONY: tests-build

test: tests-build
	@B=$(B) SPOTENV=$(abspath $(BIN)) sh tests/run.sh

# deps: what building and running needs (make demo); deps-test: that and
# what the tests need (bats, cmocka, clang, shellcheck, GNU parallel, ...).
deps:
	@PKG_CONFIG=$(PKG_CONFIG) sh util/deps.sh build

deps-test:
	@PKG_CONFIG=$(PKG_CONFIG) sh util/deps.sh test
.PHONY: deps-test

check: deps-test
	@sh tests/check.sh

# make lint: every check in LINT_CHECKS; fails on any finding.
#   lint-shell   shellcheck over the test scripts, bats files included
#   lint-format  the C sources as clang-format (.clang-format) writes them;
#                `make format` fixes what it finds
LINT_CHECKS := lint-shell lint-format
LINT_C = $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h)
LINT_SH = $(wildcard tests/*.sh tests/bench/*.sh tests/fuzz/run.sh tests/soak/*.sh \
	tests/cli/*.bash tests/cli/fixtures/*.bash tests/deb/*.sh util/deps.sh .ci/run)
LINT_BATS = $(wildcard tests/cli/*.bats)
lint: $(LINT_CHECKS)
lint-shell:
	@shellcheck $(LINT_SH)
	@shellcheck --shell=bats $(LINT_BATS)
lint-format:
	@clang-format --dry-run -Werror $(LINT_C)
.PHONY: lint lint-shell lint-format

# make soak: the long versions of the trial runs (tests/soak/run.sh: the
# bats files that mention `make soak`, with SOAK=1); not run by make check.
soak: all
	@SPOTENV=$(abspath $(BIN)) sh tests/soak/run.sh
.PHONY: soak

# The JSON Schema of specs, generated from the loader's rule tables
# (specs/rules.c); tests/cli/0700-schema.bats fails when the committed one
# differs from what the binary prints.
schema: $(BIN)
	$(abspath $(BIN)) schema -o docs/spotenv.schema.json
.PHONY: schema

demo: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@sh tests/demo.sh

# Benchmarks (tests/bench/*.sh; figures in docs/benchmarks.md): against
# spotenv sim with its rate limits on, plus programs of their own
# (tests/bench/*.c, linked with the libraries, built into $(B)/bench/).
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(B)/bench/%,$(BENCH_SRCS))
$(B)/bench/%: tests/bench/%.c $(call libs_of,all)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(call libs_of,all) $(LDLIBS)
bench: all $(BENCH_BINS)
	@for b in tests/bench/[a-z]*.sh; do echo "== $$b"; \
		SPOTENV=$(abspath $(BIN)) BENCH_BIN=$(abspath $(B)/bench) sh $$b || exit 1; done

# Fuzzing (clang/libFuzzer): tests/fuzz/fuzz_<module>_*.c.
FUZZ_CC ?= clang
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)
fuzz_mod = $(word 2,$(subst _, ,$(notdir $(1))))
build-fuzz/%: tests/fuzz/%.c $(wildcard util/*.c provider/*.c specs/*.c planner/*.c applier/*.c sim/*.c) $(wildcard util/*.h provider/*.h specs/*.h planner/*.h applier/*.h sim/*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(foreach m,$(LIBS_$(call fuzz_mod,$@)),$(wildcard $(m)/*.c)) $(LDLIBS)
fuzz: $(FUZZ_BINS)
fuzz-run: fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BINS)

# The Debian package (debian/; README.Debian says what is in it): make deb
# builds it with dpkg-buildpackage in a copy of the tree, into build/deb/;
# make check-deb installs it with dpkg into a scratch root and runs the
# installed spotenv (tests/deb/).  .ci/run runs check-deb after make check.
deps-deb:
	@PKG_CONFIG=$(PKG_CONFIG) sh util/deps.sh deb
deb: deps-deb
	@sh tests/deb/build.sh
check-deb: deb
	@sh tests/deb/check.sh
.PHONY: deps-deb deb check-deb

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/spotenv
	install -m 644 docs/spotenv.1 $(DESTDIR)$(MANDIR)/man1/spotenv.1
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(abspath $(BIN)) completion bash >$(DESTDIR)$(PREFIX)/share/bash-completion/completions/spotenv
	$(abspath $(BIN)) completion zsh >$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_spotenv
	$(abspath $(BIN)) completion fish >$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/spotenv.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/spotenv $(DESTDIR)$(MANDIR)/man1/spotenv.1
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/spotenv \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_spotenv \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/spotenv.fish

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h)

clean:
	rm -rf build build-san build-fuzz spotenv tests/out

-include $(shell find $(B) -name '*.d' 2>/dev/null)
