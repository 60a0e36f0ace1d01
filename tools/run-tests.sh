#!/bin/sh
# Build savd out of tree and run the whole test suite.
#   tools/run-tests.sh            normal build in _build/normal
#   tools/run-tests.sh --asan     -fsanitize=address,undefined in _build/asan
# Prints the test log summary and a closing "N passed, N failed" line;
# exits non-zero when anything fails.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
sh tools/deps.sh || exit 1
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
	autoreconf -fi || exit 1

flavour=normal
cflags="-O2 -g"
ldflags=
if [ "${1:-}" = "--asan" ]; then
	flavour=asan
	cflags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	ldflags="-fsanitize=address,undefined"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
build="$top/_build/$flavour"
mkdir -p "$build" && cd "$build" || exit 1
[ -f Makefile ] || "$top/configure" CFLAGS="$cflags" LDFLAGS="$ldflags" >configure.out 2>&1 ||
	{ cat configure.out; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; exit 1; }
make -j"$(nproc)" check >check.out 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' check.out | grep -v '^PASS' || true
for f in $(grep -lE '^(not ok|Bail out)' t/*.log 2>/dev/null); do
	echo "=== $f"; grep -B2 -A12 -E '^(not ok|Bail out)' "$f" | head -60
done
pass=$(grep -cE '^PASS:' check.out)
fail=$(grep -cE '^(FAIL|ERROR|XPASS):' check.out)
echo "$flavour: $pass passed, $fail failed"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
