#!/bin/sh
# Build the fuzz targets (fuzz/build.sh, clang + libFuzzer + ASan/UBSan) in
# _build/fuzz and run each for a while on its seed corpus (fuzz/corpus/T).
#   tools/fuzz-smoke.sh [SECONDS] [TARGET ...]     default 30 s each, all
# New inputs go to _build/fuzz/work/T, never into the tree; a finding's
# reproducer is kept in _build/fuzz/findings/T/ and its log printed.
# Prints one line per target and "fuzz: N ok, N failed"; exits non-zero on
# any finding or build failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
[ $# -gt 0 ] && shift
out=${FUZZ_OUT:-$top/_build/fuzz}
bins=$(sh "$top/fuzz/build.sh" "$top" "$out" "$@") ||
	{ echo "fuzz: build FAILED"; exit 1; }
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
ok=0
bad=0
for bin in $bins; do
	t=${bin##*/fuzz-}
	work="$out/work/$t"
	found="$out/findings/$t"
	log="$out/$t.log"
	rm -rf "$work" && mkdir -p "$work" "$found" || exit 1
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=1024 -artifact_prefix="$found/" \
		"$work" "$top/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$found")" ]; then
		ok=$((ok + 1))
		echo "fuzz $t: ok, ${execs:-?} executions in ${secs}s"
	else
		bad=$((bad + 1))
		echo "fuzz $t: FAILED (exit $rc), reproducer in $found:"
		ls "$found"
		grep -E -A30 '^==[0-9]+==ERROR|runtime error|invariant failed|deadly signal' "$log" | head -50
	fi
done
echo "fuzz: $ok ok, $bad failed"
[ "$bad" -eq 0 ]
