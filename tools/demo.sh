#!/bin/sh
# demo.sh - README's first command.  On a Debian machine without internet
# access: install what savd needs (tools/deps.sh), build it out of tree in
# _build/demo, then run tools/demo/demo.pl: a simulated internet on
# loopback (scripted DNS and SMTP servers), savd in the foreground in a
# temp dir, savctl queries and a real Exim session with the shipped ACL
# snippets, and a table of what each address got and why.  Everything it
# starts is stopped when it exits; nothing leaves this machine.
#
#   sh tools/demo.sh                  the demo
#   sudo sh tools/demo.sh -c FILE     build, check FILE (savd -t), then run
#                                     savd for real with it, in the
#                                     foreground (Ctrl-C stops it)
set -eu
usage() {
	echo "usage: sh tools/demo.sh [-c savd.conf]" >&2
	exit 2
}
conf=
while getopts c: opt; do
	case $opt in
	c) conf=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
if [ -n "$conf" ]; then
	[ -r "$conf" ] || { echo "demo.sh: $conf: not readable" >&2; exit 1; }
	conf=$(cd "$(dirname "$conf")" && pwd)/$(basename "$conf")
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "==> installing what is needed (tools/deps.sh)"
sh tools/deps.sh

echo "==> building in _build/demo"
if ! { [ -x configure ] && [ configure -nt configure.ac ] &&
    [ Makefile.in -nt Makefile.am ]; }; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
build=$top/_build/demo
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	"$top/configure" CFLAGS="-O2 -g" >configure.out 2>&1 ||
		{ cat configure.out; exit 1; }
fi
make -j"$(nproc 2>/dev/null || echo 2)" >make.out 2>&1 ||
	{ cat make.out; exit 1; }
cd "$top"

if [ -n "$conf" ]; then
	echo "==> checking $conf"
	"$build/src/savd" -t -c "$conf"
	# The directories of the socket and the cache (systemd's
	# RuntimeDirectory and StateDirectory do this under the unit).
	key() {
		v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" \
		    "$conf" | tail -n 1 | sed 's/[[:space:]]*$//')
		echo "${v:-$2}"
	}
	user=$(key user '')
	for f in "$(key socket /run/savd/savd.sock)" \
	    "$(key cache_file /var/lib/savd/cache.tdb)"; do
		d=$(dirname "$f")
		if [ -n "$f" ] && [ ! -d "$d" ]; then
			echo "==> creating $d"
			mkdir -p "$d"
			chmod 0755 "$d"
			[ -z "$user" ] || chown "$user" "$d"
		fi
	done
	echo "==> running $build/src/savd -f -c $conf (Ctrl-C stops it)"
	exec "$build/src/savd" -f -c "$conf"
fi

# demo.pl stops what it started on exit or on INT/TERM/HUP; the trap
# makes sure it gets the signal when this shell is stopped.
pid=
cleanup() {
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
		wait "$pid" || true
	fi
	pid=
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
SAVD=$build/src/savd SAVCTL=$build/src/savctl perl tools/demo/demo.pl &
pid=$!
rc=0
wait "$pid" || rc=$?
pid=
exit "$rc"
