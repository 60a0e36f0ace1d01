#!/bin/bash
# daemon-crash.sh - kill -9 a running savd while it writes verification
# results to its cache, restart it on the same cache file, and count how
# many restarts found the file intact and how many found a serving daemon
# (issue 4).
#
# Each cycle: savd starts on the cache left by the previous cycle, 200
# clients keep it busy with verifications of new distinct addresses (every
# answer is a cache write), after a random 0.3-1.5 s it is killed with
# SIGKILL; the next start either opens the file ("open, N records") or
# moves it aside ("moved aside").  After each start a PING and a cached
# answer are checked.  Loopback only; stops everything it started.
#
# usage: bench/daemon-crash.sh [-B bindir] [-n cycles] [-k] SAVD
set -u

CYCLES=50 KEEP=0 BIN=
while getopts B:n:k opt; do
	case $opt in
	B) BIN=$OPTARG ;; n) CYCLES=$OPTARG ;; k) KEEP=1 ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;$d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SAVD=${1:?usage: $0 [options] SAVD}
SAVD=$(readlink -f "$SAVD")
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/benchlib.sh"

bench_setup "$SAVD" "$BIN" savd-crash
start_farms 0 $((CYCLES * 10 + 120))

query() {
	timeout 5 perl -MIO::Socket::UNIX -e '
	    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1;
	    print $s "$ARGV[1]\n"; shutdown($s, 1); print scalar <$s>;' \
	    "$SOCK" "$1"
}

intact=0 aside=0 serving=0 records=0 base=0
for c in $(seq "$CYCLES"); do
	log=$TMP/savd.$c.log
	start_savd "$log" "max_clients = 2000" "domain_rate = 0" \
	    "host_concurrency = 1000" "max_callouts = 2000"
	if grep -q 'moved aside' "$log"; then
		aside=$((aside + 1))
	else
		intact=$((intact + 1))
	fi
	n=$(grep -o 'open, [0-9]* records' "$log" | grep -o '[0-9]*' | tail -1)
	records=${n:-0}
	if query PING | grep -q pong &&
	    { [ "$c" -eq 1 ] || query "SENDER <user0@d$((base - 100000)).bench.test>" |
	    grep -q 'result='; }; then
		serving=$((serving + 1))
	fi
	"$LOADGEN" -s "$SOCK" -l crash -c 200 -d 30 -t 10 -o "$base" \
	    -q 'SENDER <user0@d{i}.bench.test>' >"$TMP/load.$c" 2>&1 &
	lg=$!
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + r % 120 / 100 }')"
	kill -9 "$SAVD_PID"
	wait "$SAVD_PID" 2>/dev/null
	kill "$lg" 2>/dev/null
	wait "$lg" 2>/dev/null
	base=$((base + 100000))
	printf 'cycle %d: %s, %s records at start\n' "$c" \
	    "$(grep -q 'moved aside' "$log" && echo 'moved aside' || echo intact)" \
	    "$records"
done
echo "== daemon-crash: $CYCLES kill -9 cycles: $intact restarts found the" \
    "cache intact, $aside moved it aside; $serving restarts served" \
    "(PING and a query); $records records at the last start"
