#!/bin/sh
# cache-crash.sh - kill -9 a heavy cache writer at a random moment, reopen
# the file with cache_open (which runs tdb_check and moves a bad file
# aside), and count the cycles that found the file intact.  A benchmark,
# not a test: it prints figures and never fails on them.
#
# usage: bench/cache-crash.sh [CYCLES] [SYNC]
#   SYNC=sync builds the cache without TDB_NOSYNC, to compare.
set -eu

cycles=${1:-50}
mode=${2:-nosync}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cache-crash.XXXXXX")
trap 'rm -rf "$work"' EXIT

defs=
[ "$mode" = sync ] && defs=-DCACHE_SYNC_COMMITS
cc=${CC:-gcc}
src="$top/src/cache.c $top/src/record.c $top/src/verdict.c $top/src/log.c $top/src/xmalloc.c"
# shellcheck disable=SC2086
$cc -std=gnu11 -O2 $defs -I"$top/src" -o "$work/writer" \
    "$top/bench/cache-writer.c" $src $(pkg-config --cflags --libs tdb)

db="$work/cache.tdb"
intact=0
moved=0
for i in $(seq 1 "$cycles"); do
	"$work/writer" "$db" 2>>"$work/log" &
	pid=$!
	# 0.2 .. 1.2 s: past start-up, at a random point of a batch.
	sleep "$(awk -v s="$i$$" 'BEGIN { srand(s); printf "%.3f", 0.2 + rand() }')"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	before=$(ls "$work" | grep -c 'corrupt' || true)
	# Reopen: cache_open checks, recovers, moves aside if needed.
	"$work/writer" "$db" 0.05 >/dev/null 2>>"$work/log"
	after=$(ls "$work" | grep -c 'corrupt' || true)
	if [ "$after" -eq "$before" ]; then
		intact=$((intact + 1))
	else
		moved=$((moved + 1))
	fi
done
size=$(stat -c %s "$db")
echo "mode=$mode cycles=$cycles intact=$intact moved_aside=$moved file_bytes=$size"
# What tdb_check said, for the cycles that lost the file.
grep -e 'tdb:' -e 'moved aside' "$work/log" | head -20 || true
