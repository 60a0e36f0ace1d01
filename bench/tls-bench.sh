#!/bin/bash
# tls-bench.sh - the cost of STARTTLS in callouts: callout-bench.sh twice
# against the same farm (bench/tlsfarm.py, which offers STARTTLS), once
# with tls = may and once with tls = never, side by side in one run.
# Figures, not a test: callouts per second, peak RSS, PING latency.
#
# usage: bench/tls-bench.sh [-n inflight] [-D rcpt-delay-ms] [-d seconds] SAVD
#   defaults: -n 1000 -D 5000 -d 20.  Needs python3 and openssl; builds
#   nothing (dnsfarm and loadgen from `make bench`, next to SAVD).
set -u
N=1000 DELAY=5000 DUR=20
while getopts n:D:d: opt; do
	case $opt in
	n) N=$OPTARG ;; D) DELAY=$OPTARG ;; d) DUR=$OPTARG ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;$d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SAVD=$(readlink -f "${1:?usage: $0 [options] SAVD}")
HERE=$(dirname "$(readlink -f "$0")")
BUILT=$(dirname "$(dirname "$SAVD")")/bench
work=$(mktemp -d /tmp/savd-tls-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=farm.bench.test -days 2 -keyout "$work/key.pem" \
    -out "$work/cert.pem" 2>/dev/null || { echo "openssl failed" >&2; exit 1; }
mkdir "$work/bin"
for t in dnsfarm loadgen; do
	for d in "$BUILT" "$HERE"; do
		[ -x "$d/$t" ] && { ln -s "$d/$t" "$work/bin/$t"; break; }
	done
done
ln -s "$HERE/tlsfarm.py" "$work/bin/smtpfarm"
export TLSFARM_CERT=$work/cert.pem TLSFARM_KEY=$work/key.pem
for tls in may never; do
	echo "=== tls = $tls"
	TLS=$tls "$HERE/callout-bench.sh" -B "$work/bin" -n "$N" -D "$DELAY" \
	    -d "$DUR" -L /dev/null "$SAVD"
done
