# benchlib.sh - shared helpers for callout-bench.sh and hits-bench.sh:
# find the bench programs, make a temporary directory, start dnsfarm,
# smtpfarm and savd on loopback, sample savd, and stop exactly the
# processes started here (by pid, never by name).  Builds nothing.
# Sourced, not run.

PIDS=()
SAVD_PID= SAMPLER_PID= TMP= SOCK=

# bench_setup SAVD BINDIR PREFIX
bench_setup() {
	local savd=$1 bin=$2 d
	[ -x "$savd" ] || { echo "no savd at $savd" >&2; exit 2; }
	for d in "$bin" "$(dirname "$savd")/../bench" "$HERE"; do
		[ -n "$d" ] && [ -x "$d/loadgen" ] && [ -x "$d/smtpfarm" ] &&
		    [ -x "$d/dnsfarm" ] && { bin=$d; break; }
	done
	if [ ! -x "$bin/loadgen" ]; then
		echo "loadgen, smtpfarm, dnsfarm not found: build them" \
		    "(see bench/README.md) and pass -B DIR" >&2
		exit 2
	fi
	LOADGEN=$bin/loadgen SMTPFARM=$bin/smtpfarm DNSFARM=$bin/dnsfarm
	TMP=$(mktemp -d "/tmp/$3.XXXXXX")
	SOCK=$TMP/savd.sock
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
	trap 'stop_all; [ "$KEEP" = 1 ] && echo "kept $TMP" >&2 ||
	    rm -rf "$TMP"' EXIT
	trap 'exit 130' INT TERM
}

# wait_file FILE: up to 10 s for a port file.
wait_file() {
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	exit 1
}

# start_farms RCPT_DELAY_MS LIMIT_SECONDS
start_farms() {
	"$DNSFARM" -w "$TMP/dns.port" -n 64 -t "$2" 2>"$TMP/dnsfarm.err" &
	PIDS+=($!)
	"$SMTPFARM" -w "$TMP/smtp.port" -n 64 -d "$1" -t "$2" \
	    2>"$TMP/smtpfarm.err" &
	PIDS+=($!)
	wait_file "$TMP/dns.port"
	wait_file "$TMP/smtp.port"
}

# stats_line: one STATS answer (or nothing).
stats_line() {
	timeout 5 perl -MIO::Socket::UNIX -e '
	    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1;
	    print $s "STATS\n"; shutdown($s, 1); print scalar <$s>;' "$SOCK"
}

# start_savd LOGFILE "key = value"...
start_savd() {
	local log=$1 i
	shift
	{
		echo "socket = $SOCK"
		echo "pid_file = $TMP/savd.pid"
		echo "cache_file = $TMP/cache.tdb"
		echo "helo_name = savd.bench.test"
		echo "allow_networks = 127.0.0.0/8"
		echo "nameservers = 127.0.0.1:$(cat "$TMP/dns.port")"
		echo "smtp_port = $(cat "$TMP/smtp.port")"
		echo "dns_timeout = 5s"
		printf '%s\n' "$@"
	} >"$TMP/savd.conf"
	"$SAVD" -f -c "$TMP/savd.conf" 2>"$log" >&2 &
	SAVD_PID=$!
	PIDS+=($SAVD_PID)
	for i in $(seq 100); do
		stats_line 2>/dev/null | grep -q '^result=ok' && return 0
		kill -0 "$SAVD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "savd did not start; config and log:" >&2
	cat "$TMP/savd.conf" >&2
	tail -20 "$log" >&2
	exit 1
}

rss_kb() {
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SAVD_PID/status"
}

field() {
	tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}

# Once a second: elapsed, inflight, sessions, clients, VmRSS.
start_sampler() {
	(
		t0=$(date +%s%N)
		while kill -0 "$SAVD_PID" 2>/dev/null; do
			s=$(stats_line 2>/dev/null)
			printf '%d %s %s %s %s %s %s\n' \
			    $((($(date +%s%N) - t0) / 1000000000)) \
			    "$(echo "$s" | field inflight)" \
			    "$(echo "$s" | field sessions)" \
			    "$(echo "$s" | field clients)" "$(rss_kb VmRSS)" \
			    "$(rss_kb RssAnon)" "$(rss_kb RssFile)"
			sleep 1
		done
	) >"$TMP/samples" 2>/dev/null &
	SAMPLER_PID=$!
	PIDS+=($SAMPLER_PID)
}

stop_sampler() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	wait "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=
}

report_samples() {
	# RssFile is mostly the mapped cache file, which grows with every
	# result stored; RssAnon is what the verifications in flight hold.
	awk '$2 != "" { if ($2 > mi) mi = $2; if ($3 > ms) ms = $3;
	    if ($5 > mr) mr = $5; if ($6 > ma) ma = $6; if ($7 > mf) mf = $7 }
	    END { printf "-- sampled once a second: max inflight=%d " \
	    "max smtp sessions=%d max VmRSS=%.1f MB (max RssAnon=%.1f MB, " \
	    "max RssFile=%.1f MB)\n", mi, ms, mr / 1024, ma / 1024, mf / 1024 }' \
	    "$TMP/samples"
}

report_savd() {
	echo "-- savd: VmHWM=$(rss_kb VmHWM) kB ($(($(rss_kb VmHWM) / 1024))" \
	    "MB) VmRSS=$(rss_kb VmRSS) kB"
	echo "-- savd STATS: $(stats_line)"
}

# stop_all: TERM what we started, by pid; KILL what is left after 5 s.
stop_all() {
	local p i
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for i in $(seq 50); do
		local alive=0
		for p in "${PIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	PIDS=()
}
