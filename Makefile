# sit - the Secure Image Transfer toolchain.
#
#   make                 build every program into bin/
#   make check           install what is missing, build, run every test
#   make check-asan      the same tests against an ASan+UBSan build
#   make check-valgrind  the program tests with every C program under valgrind
#   make fuzz            libFuzzer harnesses (fuzz/*.c); scripts/fuzz-ci runs them
#   make demo            the whole job on a generated image, end to end
#   make bench           throughput beside the reference tools
#   make install PREFIX=/usr/local DESTDIR=
#   make uninstall PREFIX=/usr/local DESTDIR=   removes exactly what install put
#   dpkg-buildpackage -us -uc -b   the Debian packages sit and sit-gui (debian/)
#
# Every cmd/NAME.c is a program linked against libsit.a built from lib/*.c.

VERSION    = 0.2.0
PREFIX    ?= /usr/local
BINDIR_I  ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
COMPDIR   ?= $(PREFIX)/share/bash-completion/completions
PKG_CONFIG ?= pkg-config
CC        ?= cc

# Lazily expanded: `make check` installs libsodium-dev before anything asks.
SODIUM_CFLAGS = $(shell $(PKG_CONFIG) --cflags libsodium)
SODIUM_LIBS   = $(shell $(PKG_CONFIG) --libs libsodium)
SECCOMP_LIBS  = $(shell $(PKG_CONFIG) --libs libseccomp)

CFLAGS    ?= -O2 -g
STD        = -std=c11 -D_GNU_SOURCE
WARN       = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
ifeq ($(SANITIZE),1)
O          = build/asan
HARDEN     = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDHARDEN   = -fsanitize=address,undefined
else
O          = build/release
HARDEN     = $(FORTIFY) -fstack-protector-strong -fPIE -fstack-clash-protection
LDHARDEN   = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
endif
# _FORTIFY_SOURCE=2 unless CPPFLAGS or CFLAGS set it themselves (as
# dpkg-buildflags does: a second, different value would be a redefinition,
# an error under -Werror), and not at -O0 (DEB_BUILD_OPTIONS=noopt), where
# glibc warns that it needs optimisation.
FORTIFY    = $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS))$(filter -O0,$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
BIN        = $(if $(filter 1,$(SANITIZE)),$(O)/bin,bin)

# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line
# (dpkg-buildflags: debian/rules) are used as given, after our own, so that
# theirs win; except that a plain -Wformat among them (Debian's CFLAGS has
# one) would lower -Wformat=2 to level 1, so the level is stated again last.
ALL_CFLAGS = $(STD) $(WARN) $(HARDEN) $(CPPFLAGS) $(CFLAGS) -Wformat=2 -Ilib -I/usr/include/stb $(SODIUM_CFLAGS) -MMD -MP
LIBS       = $(SODIUM_LIBS) $(SECCOMP_LIBS) -lm

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(O)/%.o)
CMD_SRC  = $(wildcard cmd/*.c)
PROGS    = $(CMD_SRC:cmd/%.c=%)
SCRIPTS  = $(filter-out scripts/install-deps scripts/bench%,$(wildcard scripts/sit*))
MANS     = $(wildcard man/*.[157])
# bash completion: one file, completion/sit.bash, installed as COMPDIR/sit,
# and a link to it for each other program, the name bash-completion loads.
COMPS    = $(PROGS) $(SCRIPTS:scripts/%=%)
# Test programs, built beside the objects and never installed.
PROBES   = $(O)/tests/sandbox-probe $(O)/tests/noseccomp $(O)/tests/cksum-probe \
           $(O)/tests/cksum-probe-portable $(O)/tests/shamir-probe $(O)/tests/pngw-probe

all: $(PROGS:%=$(BIN)/%) $(SCRIPTS:scripts/%=$(BIN)/%) $(PROBES)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# stb_image_write's JPEG writer left-shifts negative values (defined by gcc,
# undefined by the letter of C11): keep UBSan's shift-base check off for the
# stb translation unit only, so the sanitizer build can run --to jpeg.
$(O)/lib/stb.o: HARDEN += -fno-sanitize=shift-base
# stb_image decodes PNG and BMP palette indices past the file's palette from
# stack arrays it never set (stb issues #1861, #1929): stack contents reached
# the decoded pixels (tests/regress/stb).  Zero every automatic variable of
# the stb translation unit, as STBI_MALLOC zeroes its heap (lib/stb.c).
STB_ZERO_STACK = -ftrivial-auto-var-init=zero
$(O)/lib/stb.o: HARDEN += $(STB_ZERO_STACK)

$(O)/libsit.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN)/%: $(O)/cmd/%.o $(O)/libsit.a
	@mkdir -p $(BIN)
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $< $(O)/libsit.a $(LIBS)

$(O)/tests/%: $(O)/tests/%.o $(O)/libsit.a
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $< $(O)/libsit.a $(LIBS)

# The checksum probe again over cksum.c without its fast paths, so that the
# tests check the portable code too (tests/t-cksum.sh).
$(O)/tests/cksum-portable.o: lib/cksum.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DSIT_CKSUM_PORTABLE -c -o $@ $<

$(O)/tests/cksum-probe-portable: $(O)/tests/cksum-probe.o $(O)/tests/cksum-portable.o
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^

$(BIN)/%: scripts/%
	@mkdir -p $(BIN)
	cp $< $@ && chmod 755 $@

# libFuzzer harnesses: every fuzz/NAME.c becomes fuzz/build/NAME, linked with
# libsit built again by clang with the same sanitizers (scripts/fuzz-ci runs them).
FUZZ_CC    = clang
FUZZ_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang, unlike gcc, flags vsnprintf(fmt, ap) in a printf-like wrapper (lib/cli.c).
FUZZ_FLAGS = $(STD) $(WARN) -Wno-format-nonliteral $(FUZZ_SAN) -g -O1 -Ilib -I/usr/include/stb $(SODIUM_CFLAGS) -MMD -MP
FUZZ_SRC   = $(wildcard fuzz/*.c)
FUZZ_OBJ   = $(LIB_SRC:%.c=fuzz/build/%.o)

fuzz: $(FUZZ_SRC:fuzz/%.c=fuzz/build/%)

fuzz/build/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# The fuzzing copy of libsit allocates and reads through fuzz/fuzz.h (why:
# see there).
FUZZ_WRAP = malloc free realloc sodium_malloc sodium_free read

# clang 14 wants its consent flag for the same stack zeroing.
fuzz/build/lib/stb.o: FUZZ_FLAGS += $(STB_ZERO_STACK) \
	-enable-trivial-auto-var-init-zero-knowing-it-will-be-removed-from-clang

fuzz/build/libsit.a: $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
	objcopy $(foreach s,$(FUZZ_WRAP),--redefine-sym $(s)=sit_fuzz_$(s)) $@

fuzz/build/%: fuzz/%.c fuzz/build/libsit.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< fuzz/build/libsit.a $(LIBS)

deps:
	scripts/install-deps

check:
	scripts/install-deps
	$(MAKE) all
	tests/run

check-asan:
	scripts/install-deps
	$(MAKE) SANITIZE=1 all
	SIT_BIN=$(CURDIR)/build/asan/bin tests/run

# The tests that run the C programs, each program under valgrind's memcheck
# for its first 2 runs of each command line (what it covers and leaves out:
# the script).  Manual, not in .ci/run: about 17 minutes on 2 cores.
check-valgrind:
	scripts/install-deps
	$(MAKE) all
	scripts/check-valgrind

demo:
	scripts/install-deps
	$(MAKE) all
	scripts/demo

bench:
	scripts/install-deps --bench
	$(MAKE) all
	scripts/bench

install: all
	install -d $(DESTDIR)$(BINDIR_I) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(COMPDIR)
	install -m 755 $(PROGS:%=bin/%) $(SCRIPTS:scripts/%=bin/%) $(DESTDIR)$(BINDIR_I)
	for m in $(MANS); do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	install -m 644 completion/sit.bash $(DESTDIR)$(COMPDIR)/sit
	for c in $(filter-out sit,$(COMPS)); do ln -sf sit $(DESTDIR)$(COMPDIR)/$$c; done

# Exactly the files and links install made; the directories stay (they may
# have been there before, and may hold other things).
uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR_I)/%) $(SCRIPTS:scripts/%=$(DESTDIR)$(BINDIR_I)/%)
	for m in $(MANS); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	rm -f $(COMPS:%=$(DESTDIR)$(COMPDIR)/%)

clean:
	rm -rf build bin fuzz/build

.PHONY: all deps check check-asan check-valgrind demo bench install uninstall clean fuzz
.SECONDARY: $(LIB_OBJ) $(CMD_SRC:%.c=$(O)/%.o) $(PROBES:%=%.o) $(O)/tests/cksum-portable.o

-include $(wildcard $(O)/lib/*.d $(O)/cmd/*.d $(O)/tests/*.d fuzz/build/lib/*.d fuzz/build/*.d)
