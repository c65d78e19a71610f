#!/bin/bash
# Installation: `make install` into a DESTDIR puts exactly the expected files
# there and `make uninstall` takes exactly those away; the installed sit finds
# its own filters under a PREFIX that is not on PATH; the version is the same
# everywhere; the Makefile passes CPPFLAGS, CFLAGS and LDFLAGS through.  Then
# the Debian packages: built with dpkg-buildpackage in a copy of the tree,
# clean under lintian, holding exactly the programs, man pages and
# completions, and the sit they install encrypts and decrypts.
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 70
version=$(sed -n 's/^VERSION *= *//p' "$SIT_ROOT/Makefile")
# No directory of the build tree: only what the system has.
SYSPATH=/usr/sbin:/usr/bin:/sbin:/bin

# The files and links of an installation under PREFIX, one per line, sorted.
expected() { # expected PREFIX [sit|sit-gui|all]
	local p=$1 which=${2:-all}
	{
		if [ "$which" != sit-gui ]; then
			for f in sit sit-aes sit-load sit-run sit-share sit-unshare sit-visual; do
				echo "$p/bin/$f"
				echo "$p/share/bash-completion/completions/$f"
				echo "$p/share/man/man1/$f.1"
			done
			echo "$p/share/man/man5/sit.5"
			echo "$p/share/man/man5/sit-image.5"
			echo "$p/share/man/man7/sit.7"
		fi
		if [ "$which" != sit ]; then
			echo "$p/bin/sit-gui"
			echo "$p/share/bash-completion/completions/sit-gui"
			echo "$p/share/man/man1/sit-gui.1"
		fi
	} | LC_ALL=C sort
}

listing() { # listing ROOT: its files and links, as absolute paths, sorted
	(cd "$1" && find . \( -type f -o -type l \) | sed 's/^\.//' | LC_ALL=C sort)
}

same_list() { # same_list NAME WANT-FILE GOT-FILE
	if cmp -s "$2" "$3"; then pass "$1"
	else fail "$1" "$(diff "$2" "$3" | grep '^[<>]' | head -8 | tr '\n' ' ')"; fi
}

# An image, a key, and the round trips through the sit at $1/sit.
convert -seed 5 -size 64x48 plasma: img.png 2>/dev/null ||
	{ fail "setup" "ImageMagick cannot make a test image"; exit 1; }

roundtrip() { # roundtrip NAME BINDIR: sealed, --visual and --shares, byte for byte
	local name=$1 b=$2 d
	d=$(mktemp -d "$T/rt.XXXXXX")
	cp img.png "$d/"
	expect "$name: sit-aes --gen-key" 0 env PATH=$SYSPATH "$b/sit-aes" --gen-key -o "$d/key"
	expect "$name: sit encrypt" 0 env PATH=$SYSPATH "$b/sit" encrypt -k "$d/key" "$d/img.png"
	mv "$d/img.png" "$d/orig.png"
	expect "$name: sit decrypt" 0 env PATH=$SYSPATH "$b/sit" decrypt -k "$d/key" "$d/img.png.sit"
	same "$name: decrypted bytes are the original" "$d/orig.png" "$d/img.png"
	expect "$name: sit encrypt --visual" 0 env PATH=$SYSPATH "$b/sit" encrypt --visual \
		-k "$d/key" -o "$d/v.png.sit.png" "$d/orig.png"
	expect "$name: sit decrypt of the cipher image" 0 env PATH=$SYSPATH "$b/sit" decrypt \
		-k "$d/key" "$d/v.png.sit.png"
	same "$name: cipher image decrypts to the original" "$d/orig.png" "$d/v.png"
	expect "$name: sit encrypt --shares 2/3" 0 env PATH=$SYSPATH "$b/sit" encrypt --shares 2/3 \
		-k "$d/key" -o "$d/s.png" "$d/orig.png"
	expect "$name: sit decrypt of 2 shares of 3" 0 env PATH=$SYSPATH "$b/sit" decrypt \
		-k "$d/key" "$d/s.png.1.png" "$d/s.png.3.png"
	same "$name: shares rebuild the original" "$d/orig.png" "$d/s.png"
}

# ---- one version ------------------------------------------------------------
chv=$(sed -n '1s/^sit (\([^)]*\)).*/\1/p' "$SIT_ROOT/debian/changelog")
if [ -n "$version" ] && [ "$chv" = "$version" ]; then pass "debian/changelog is at the Makefile's VERSION $version"
else fail "debian/changelog version" "changelog says '$chv', the Makefile '$version'"; fi
bad=""
grep -qx "#define SIT_VERSION \"$version\"" "$SIT_ROOT/lib/cli.h" || bad="$bad lib/cli.h"
grep -qx "version=$version" "$SIT_ROOT/scripts/sit" || bad="$bad scripts/sit"
for p in sit-aes sit-load sit-share sit-unshare sit-visual sit sit-gui; do
	[ "$("$SIT_BIN/$p" --version 2>&1)" = "$p $version" ] || bad="$bad $p--version"
done
if [ -z "$bad" ]; then pass "every program says version $version"
else fail "one version" "not $version in:$bad"; fi

# ---- the Makefile passes the build flags through ---------------------------
make -s -n -B -C "$SIT_ROOT" all CPPFLAGS=-DSIT_PROBE_CPP 'CFLAGS=-O1 -Wformat' \
	LDFLAGS=-Wl,--sit-probe-ld >flags.n 2>&1
grep -E ' -c -o build/release/(lib|cmd)/' flags.n >flags.cc
grep -E ' -o bin/sit-[a-z]+ ' flags.n >flags.ld
n=$(grep -c '' flags.cc)
if [ "$n" -gt 10 ] && ! grep -v -- '-DSIT_PROBE_CPP -O1 -Wformat -Wformat=2 ' flags.cc | grep -q .; then
	pass "every compilation gets CPPFLAGS, then CFLAGS, then -Wformat=2 back"
else fail "CPPFLAGS and CFLAGS" "$n compile lines; $(grep -v -- '-DSIT_PROBE_CPP' flags.cc | head -1)"; fi
if [ "$(grep -c '' flags.ld)" -ge 5 ] && ! grep -v -- '-Wl,--sit-probe-ld' flags.ld | grep -q .; then
	pass "every link gets LDFLAGS"
else fail "LDFLAGS" "$(head -2 flags.ld)"; fi
if grep -q -- '-D_FORTIFY_SOURCE=2' flags.cc; then pass "_FORTIFY_SOURCE=2 by default"
else fail "_FORTIFY_SOURCE default" "not in: $(head -1 flags.cc)"; fi
make -s -n -B -C "$SIT_ROOT" build/release/lib/io.o CPPFLAGS=-D_FORTIFY_SOURCE=3 >flags.3 2>&1
if grep -q -- '-D_FORTIFY_SOURCE=3' flags.3 && ! grep -q -- '-D_FORTIFY_SOURCE=2' flags.3; then
	pass "CPPFLAGS' own _FORTIFY_SOURCE replaces ours"
else fail "CPPFLAGS' _FORTIFY_SOURCE" "$(grep -- '-c -o' flags.3 | head -1)"; fi
make -s -n -B -C "$SIT_ROOT" build/release/lib/io.o CFLAGS='-O0 -g' >flags.0 2>&1
if grep -q -- ' -O0 ' flags.0 && ! grep -q -- '_FORTIFY_SOURCE' flags.0; then
	pass "no _FORTIFY_SOURCE at -O0 (noopt)"
else fail "-O0" "$(grep -- '-c -o' flags.0 | head -1)"; fi

# ---- make install / make uninstall into a DESTDIR ---------------------------
D=$T/dest
P=/opt/sit-test
expect "make install PREFIX=$P DESTDIR=..." 0 make -C "$SIT_ROOT" install PREFIX=$P DESTDIR="$D"
expected $P >want.list
listing "$D" >got.list
same_list "make install puts exactly the programs, man pages and completions" want.list got.list
bad=""
for f in "$D$P"/bin/*; do [ "$(stat -c %a "$f")" = 755 ] || bad="$bad ${f##*/}"; done
for f in "$D$P"/share/man/*/* "$D$P/share/bash-completion/completions/sit"; do
	[ "$(stat -c %a "$f")" = 644 ] || bad="$bad ${f##*/}"
done
if [ -z "$bad" ]; then pass "programs 755, man pages and completion 644"; else fail "modes" "wrong:$bad"; fi
bad=""
for f in "$D$P"/share/bash-completion/completions/*; do
	case ${f##*/} in
	sit) [ -f "$f" ] && [ ! -L "$f" ] || bad="$bad sit" ;;
	*) [ "$(readlink "$f")" = sit ] || bad="$bad ${f##*/}" ;;
	esac
done
if [ -z "$bad" ]; then pass "each program's completion is a link to the one file"
else fail "completion links" "wrong:$bad"; fi
case :$SYSPATH: in *":$P/bin:"* | *":$SIT_BIN:"* | *":$SIT_ROOT/bin:"*) fail "PATH" "$SYSPATH" ;; esac
roundtrip "installed under $P (not on PATH)" "$D$P/bin"
# By name through PATH, as a user types it.
mkdir byname && cp img.png byname/ && "$D$P/bin/sit-aes" --gen-key -o byname/key
expect "sit found on PATH finds its filters beside it" 0 env PATH="$D$P/bin:$SYSPATH" \
	sh -c 'cd byname && sit encrypt -k key img.png && mv img.png orig.png && sit decrypt -k key img.png.sit'
same "sit by name: decrypted bytes are the original" byname/orig.png byname/img.png

# Things that were there before stay; only what install put goes.
mkdir -p "$D$P/share/man/man1" && echo other >"$D$P/bin/other" && echo other >"$D$P/share/man/man1/other.1"
expect "make uninstall PREFIX=$P DESTDIR=..." 0 make -C "$SIT_ROOT" uninstall PREFIX=$P DESTDIR="$D"
printf '%s\n' "$P/bin/other" "$P/share/man/man1/other.1" >want.list
listing "$D" >got.list
same_list "make uninstall removes exactly what install put there" want.list got.list

# The packages take exactly what `make install PREFIX=/usr` makes.
expect "make install PREFIX=/usr DESTDIR=..." 0 make -C "$SIT_ROOT" install PREFIX=/usr DESTDIR="$T/usr"
listing "$T/usr" >got.list
sed 's|^|/|' "$SIT_ROOT"/debian/*.install | LC_ALL=C sort >want.list
same_list "debian/sit.install and sit-gui.install hold exactly make install's files" want.list got.list
expected /usr sit >want.list
sed 's|^|/|' "$SIT_ROOT/debian/sit.install" | LC_ALL=C sort >got.list
same_list "debian/sit.install: everything but the GUI" want.list got.list

# ---- the Debian packages ------------------------------------------------------
if [ "$SIT_BIN" != "$SIT_ROOT/bin" ]; then
	skip "Debian packages" "built by the plain 'make check' run (the package build does not use $SIT_BIN)"
	exit 0
fi
missing=""
for t in dpkg-buildpackage dpkg-checkbuilddeps dh lintian rsync; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	skip "Debian packages" "missing:$missing (scripts/install-deps installs build-essential, dpkg-dev, debhelper and lintian)"
	exit 0
fi
if ! (cd "$SIT_ROOT" && dpkg-checkbuilddeps) >deps.out 2>&1; then
	skip "Debian packages" "$(head -1 deps.out)"
	exit 0
fi

# A copy of the tree without build products, so that the work tree is not
# touched (dpkg-buildpackage cleans, builds in place and writes to ..).
mkdir pkg
rsync -a --exclude=/build --exclude=/bin --exclude=/.git --exclude=/fuzz/build \
	--exclude=/tests/artifacts --exclude=/debian/.debhelper --exclude=/debian/tmp \
	"$SIT_ROOT/" pkg/sit/
start=$(date +%s)
(cd pkg/sit && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) >build.log 2>&1
rc=$?
arch=$(dpkg --print-architecture)
deb=pkg/sit_${version}_$arch.deb gui=pkg/sit-gui_${version}_all.deb
if [ $rc = 0 ] && [ -f "$deb" ] && [ -f "$gui" ]; then
	pass "dpkg-buildpackage -b makes sit_${version}_$arch.deb and sit-gui_${version}_all.deb ($(($(date +%s) - start)) s)"
else
	fail "dpkg-buildpackage" "exit $rc; $(grep -E 'error|rror:' build.log | head -3 | tr '\n' ' ')"
	exit 0
fi
absent "the work tree is left alone" "$SIT_ROOT/debian/.debhelper" "$SIT_ROOT/debian/tmp" \
	"$SIT_ROOT/debian/sit" "$SIT_ROOT/debian/files" "$SIT_ROOT/debian/debhelper-build-stamp"
# dpkg-buildflags reached every compilation (CPPFLAGS -Wdate-time, CFLAGS
# -ffile-prefix-map and Debian's -Wformat, raised back to 2), and -Werror held.
grep -E ' -c -o build/release/(lib|cmd)/' build.log >deb.cc
if [ -s deb.cc ] && ! grep -v -- '-Wdate-time -D_FORTIFY_SOURCE=2 .*-ffile-prefix-map=.* -Wformat .*-Wformat=2 ' deb.cc | grep -q .; then
	pass "the package build compiles with dpkg-buildflags' CPPFLAGS and CFLAGS"
else fail "dpkg-buildflags" "$(grep -v -- '-Wdate-time' deb.cc | head -1)"; fi

lintian --pedantic pkg/sit_"${version}"_"$arch".changes >lintian.out 2>&1
lrc=$?
grep -v '^running with root privileges is not recommended!$' lintian.out >lintian.tags
if [ $lrc = 0 ] && ! grep -q '^E: ' lintian.tags; then pass "lintian: no errors"
else fail "lintian errors" "exit $lrc: $(grep '^E: ' lintian.tags | head -5 | tr '\n' ' ')"; fi
if ! grep -q '^W: ' lintian.tags; then pass "lintian: no warnings"
else fail "lintian warnings" "$(grep '^W: ' lintian.tags | head -5 | tr '\n' ' ')"; fi

f=$(dpkg-deb -f "$gui" Architecture)
dep=$(dpkg-deb -f "$gui" Depends)
# The names alone, one per line: "sit (>= 0.2.0), tk" -> sit, tk.
names=$(echo "$dep" | tr ',' '\n' | sed 's/^ *//; s/[ (].*//')
if [ "$f" = all ] && echo "$names" | grep -qx sit && echo "$names" | grep -qx tk; then
	pass "sit-gui: Architecture all, Depends: $dep"
else fail "sit-gui control" "Architecture $f, Depends: $dep"; fi
dep=$(dpkg-deb -f "$deb" Depends)
case "$dep" in
*tk* | *wish*) fail "sit does not pull in Tk" "Depends: $dep" ;;
*) pass "sit does not pull in Tk (Depends: $dep)" ;;
esac

for p in sit sit-gui; do
	mkdir "root.$p"
	dpkg -x "pkg/${p}_${version}_$( [ $p = sit ] && echo "$arch" || echo all).deb" "root.$p"
	{ expected /usr $p | sed 's/\.\([157]\)$/.\1.gz/'
	  echo "/usr/share/doc/$p/changelog.gz"; echo "/usr/share/doc/$p/copyright"; } |
		LC_ALL=C sort >want.list
	listing "root.$p" >got.list
	same_list "$p package: exactly the programs, man pages, completions (and its doc)" want.list got.list
done
mkdir root && dpkg -x "$deb" root && dpkg -x "$gui" root
roundtrip "from the .deb" "$T/root/usr/bin"
expect "the .deb's sit-gui --version" 0 env PATH=$SYSPATH "$T/root/usr/bin/sit-gui" --version
if [ "$(cat "$T/out")" = "sit-gui $version" ]; then pass "the .deb's sit-gui is $version"
else fail "the .deb's sit-gui" "said $(cat "$T/out")"; fi
