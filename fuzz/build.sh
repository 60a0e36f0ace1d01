#!/bin/sh
# fuzz/build.sh SRCDIR OUTDIR [TARGET ...] - build the libFuzzer targets
# (fuzz/fuzz-TARGET.c) with clang -fsanitize=fuzzer,address,undefined.
# `make fuzz` runs it; it also works straight from a clean clone, without
# configure: sh fuzz/build.sh . /tmp/fuzz.
# The pure core (src_libsavdcore_a_SOURCES in Makefile.am) is compiled
# into OUTDIR/obj; the dns target links udns as well and is built only
# once src/dnscheck.c exists.  Prints the paths of the built fuzzers.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SRCDIR OUTDIR [TARGET ...]" >&2; exit 2; }
top=$(cd "$1" && pwd)
out=$2
shift 2
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE \
	-Wall -Wextra -Wno-unused-parameter -I$top/src -I$top/fuzz \
	${FUZZ_BUILDDIR:+-I$FUZZ_BUILDDIR} ${FUZZ_CFLAGS:-}"
# Libraries the core needs (libidn2 when address.c uses it).
LIBS=${FUZZ_LIBS-$(pkg-config --libs libidn2 2>/dev/null || true)}

command -v "$CC" >/dev/null 2>&1 ||
	{ echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

targets="$*"
if [ -z "$targets" ]; then
	targets="proto address smtpreply session record config"
	[ -f "$top/src/dnscheck.c" ] && targets="$targets dns"
fi

# The core's sources, read from Makefile.am so that a new file is built.
core=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$top/Makefile.am" |
	sed -n 's/^src_libsavdcore_a_SOURCES[ 	]*+*=//p' | tr ' \t' '\n\n' |
	grep '^src/.*\.c$')
[ -n "$core" ] || { echo "fuzz: no core sources in Makefile.am" >&2; exit 1; }

mkdir -p "$out/obj"
newest_h=$(ls -t "$top"/src/*.h | head -1)
objs=
for c in $core; do
	o="$out/obj/$(basename "$c" .c).o"
	if [ ! -f "$o" ] || [ "$top/$c" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
		$CC $CFLAGS -fsanitize=fuzzer-no-link,address,undefined \
			-fno-sanitize-recover=undefined -c "$top/$c" -o "$o"
	fi
	objs="$objs $o"
done
rm -f "$out/obj/libcore.a"
ar rcs "$out/obj/libcore.a" $objs

for t in $targets; do
	src="$top/fuzz/fuzz-$t.c"
	[ -f "$src" ] || { echo "fuzz: no $src" >&2; exit 1; }
	extra=
	[ "$t" = dns ] && extra="$top/src/dnscheck.c -ludns"
	case " $core " in *" src/dnscheck.c "*) [ "$t" = dns ] && extra="-ludns" ;; esac
	$CC $CFLAGS $SAN "$src" $extra "$out/obj/libcore.a" $LIBS -o "$out/fuzz-$t"
	echo "$out/fuzz-$t"
done
