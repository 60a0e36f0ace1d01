#!/bin/bash
# callout-bench.sh - callouts per second, peak RSS and PING latency of savd
# with N verifications of distinct addresses in flight (issue 3).
#
# Starts dnsfarm, smtpfarm and savd in a temporary directory, keeps N
# one-connection-per-query clients busy with SENDER queries for addresses
# that are all distinct (one domain each), probes PING every 10 ms on the
# side, samples STATS and VmRSS once a second, prints the figures and stops
# everything it started.  It builds nothing and talks to loopback only.
#
# usage: bench/callout-bench.sh [-B bindir] [-n inflight] [-D rcpt-delay-ms]
#            [-d seconds] [-r ramp-seconds] [-L savd-log] [-c catchall_probe]
#            [-k] SAVD        (environment: TLS=may|never, savd's tls key)
#   -B  where smtpfarm, dnsfarm, loadgen are (default: SAVD's ../bench,
#       then this script's directory)
#   -n  concurrent verifications (clients) [5000]
#   -D  farm delay before every RCPT reply, ms [1000]; 0 = as fast as it goes
#   -d  load duration in seconds [30]
#   -r  start the clients evenly over this many seconds [0: all at once]
#   -L  where savd's stderr log goes [TMP/savd.log]; /dev/null to drop it
#   -c  catchall_probe yes|no [yes]
#   -k  keep the temporary directory
set -u

N=5000 DELAY=1000 DUR=30 LOG= KEEP=0 BIN= PROBE=yes RAMP=0
while getopts B:n:D:d:r:L:c:k opt; do
	case $opt in
	B) BIN=$OPTARG ;; n) N=$OPTARG ;; D) DELAY=$OPTARG ;;
	d) DUR=$OPTARG ;; r) RAMP=$OPTARG ;; L) LOG=$OPTARG ;;
	c) PROBE=$OPTARG ;; k) KEEP=1 ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;$d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SAVD=${1:?usage: $0 [options] SAVD}
SAVD=$(readlink -f "$SAVD")
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/benchlib.sh"

bench_setup "$SAVD" "$BIN" savd-callout
need=$((2 * N + 200))
[ "$(ulimit -n)" -ge "$need" ] ||
    echo "warning: ulimit -n $(ulimit -n) < $need: expect accept errors" >&2

start_farms "$DELAY" $((DUR + 120))
start_savd "${LOG:-$TMP/savd.log}" \
    "max_callouts = $((N * 2))" "max_clients = $((N + 1000))" \
    "host_concurrency = 1000" "domain_rate = 0" "answer_timeout = 60s" \
    "command_timeout = 30s" "callout_timeout = 60s" \
    "catchall_probe = $PROBE" "max_pipeline = 64" "tls = ${TLS:-may}"
start_sampler

# PING every 10 ms on its own connection while the load runs.
"$LOADGEN" -s "$SOCK" -l ping -c 1 -i 10 -q PING -d $((DUR + 2)) -t 5 \
    >"$TMP/ping.out" 2>&1 &
PING_PID=$!
PIDS+=($PING_PID)

"$LOADGEN" -s "$SOCK" -l callouts -c "$N" -d "$DUR" -r "$RAMP" -t 90 -v \
    -q 'SENDER <user{i}@d{i}.bench.test>' >"$TMP/load.out" \
    2>"$TMP/load.progress"
wait "$PING_PID"
stop_sampler

echo "== callout-bench: N=$N rcpt_delay=${DELAY}ms duration=${DUR}s" \
    "ramp=${RAMP}s" \
    "catchall_probe=$PROBE log=${LOG:-$TMP/savd.log}"
cat "$TMP/load.out" "$TMP/ping.out"
echo "-- per second (answered/s), steady part:"
grep -o 'answered/s=[0-9]*' "$TMP/load.progress" | cut -d= -f2 |
    awk '{ a[NR] = $1 } END { for (i = 3; i <= NR - 2; i++) { s += a[i]; n++;
	if (a[i] > m) m = a[i] } if (n) printf "mean=%.0f max=%d over %d s\n",
	s / n, m, n }'
report_samples
report_savd
stop_all
grep -h '^smtpfarm:\|^dnsfarm:' "$TMP/smtpfarm.err" "$TMP/dnsfarm.err"
