#!/bin/sh
# Install everything savd needs to build, test and run its demo on Debian
# bookworm.  Idempotent; needs root (or sudo).
set -e
PKGS="build-essential autoconf automake pkg-config perl
      libev-dev libudns-dev libtdb-dev libidn2-dev libssl-dev tdb-tools uthash-dev
      libnet-dns-perl libio-socket-ip-perl libio-socket-ssl-perl swaks
      exim4-daemon-heavy
      mandoc groff-base openssl iproute2
      clang libclang-rt-14-dev
      prometheus"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Postfix as a real callout target for t/46-real-postfix.t: its .deb is
# downloaded once and unpacked into a cache directory, never installed
# (it conflicts with exim4).  Only as root: the tests that use it need
# root anyway.  SAVD_MTA_CACHE must match what t/lib/RealMTA.pm reads.
MTA_CACHE=${SAVD_MTA_CACHE:-/var/cache/savd-test-mtas}
if [ "$(id -u)" -eq 0 ] && [ ! -x "$MTA_CACHE/postfix/usr/lib/postfix/sbin/master" ]; then
	mkdir -p "$MTA_CACHE"
	if ( cd "$MTA_CACHE" &&
	     { ls postfix_*.deb >/dev/null 2>&1 || apt-get download postfix ||
	       { apt-get update -q && apt-get download postfix; }; } &&
	     rm -rf postfix.tmp && dpkg -x postfix_*.deb postfix.tmp &&
	     rm -rf postfix && mv postfix.tmp postfix ); then
		# The users and group Debian's postinst would create.
		getent group postdrop >/dev/null || groupadd --system postdrop
		getent passwd postfix >/dev/null ||
			useradd --system --user-group --no-create-home \
			    --home-dir /var/spool/postfix \
			    --shell /usr/sbin/nologin postfix
		for f in postdrop postqueue; do
			chgrp postdrop "$MTA_CACHE/postfix/usr/sbin/$f"
			chmod 2555 "$MTA_CACHE/postfix/usr/sbin/$f"
		done
	else
		echo "deps.sh: could not get postfix into $MTA_CACHE;" \
		    "t/46-real-postfix.t will be skipped" >&2
	fi
fi
