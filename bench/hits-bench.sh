#!/bin/bash
# hits-bench.sh - cache-hit answers per second of savd (issue 4).
#
# Starts dnsfarm, smtpfarm and savd in a temporary directory, verifies A
# addresses over D domains once (prefill: real callouts to the farm), then
# hammers savd with SENDER queries for those same addresses, one connection
# per query as Exim does, from 1 and from 32 concurrent clients, and
# finally pipelined on persistent connections for comparison.  Prints the
# figures and stops everything it started.  Builds nothing; loopback only.
#
# usage: bench/hits-bench.sh [-B bindir] [-a addresses] [-D domains]
#            [-d seconds] [-L savd-log] [-k] SAVD
#   -B  where smtpfarm, dnsfarm, loadgen are (default: SAVD's ../bench,
#       then this script's directory)
#   -a  addresses to prefill and query [5000]
#   -D  domains they are spread over [500]
#   -d  seconds per measurement [10]
#   -L  where savd's stderr log goes [TMP/savd.log]; /dev/null to drop it
#   -k  keep the temporary directory
set -u

A=5000 DOMS=500 DUR=10 LOG= KEEP=0 BIN=
while getopts B:a:D:d:L:k opt; do
	case $opt in
	B) BIN=$OPTARG ;; a) A=$OPTARG ;; D) DOMS=$OPTARG ;;
	d) DUR=$OPTARG ;; L) LOG=$OPTARG ;; k) KEEP=1 ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;$d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SAVD=${1:?usage: $0 [options] SAVD}
SAVD=$(readlink -f "$SAVD")
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/benchlib.sh"

bench_setup "$SAVD" "$BIN" savd-hits
start_farms 0 $((6 * DUR + 180))
start_savd "${LOG:-$TMP/savd.log}" \
    "max_clients = 2000" "host_concurrency = 100" "domain_rate = 0" \
    "max_callouts = 5000"
Q="SENDER <user{i}@d{i%$DOMS}.bench.test>"

echo "== hits-bench: addresses=$A domains=$DOMS seconds=$DUR" \
    "log=${LOG:-$TMP/savd.log}"
"$LOADGEN" -s "$SOCK" -l prefill -c 200 -n "$A" -t 60 -q "$Q"
echo "-- after prefill: $(stats_line)"

# run LABEL loadgen-args...: one timed measurement over the cached set.
run() {
	local label=$1
	shift
	"$LOADGEN" -s "$SOCK" -l "$label" -d "$DUR" -t 10 -m "$A" -q "$Q" "$@"
}
run "conn-1" -c 1
run "conn-32" -c 32
run "pipeline-1x64" -c 1 -p 64
run "pipeline-32x16" -c 32 -p 16
report_savd
stop_all
