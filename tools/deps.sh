#!/bin/sh
# Install everything savd needs to build, test and run its demo on Debian
# bookworm.  Idempotent; needs root (or sudo).
set -e
PKGS="build-essential autoconf automake pkg-config perl
      libev-dev libudns-dev libtdb-dev libidn2-dev tdb-tools uthash-dev
      libnet-dns-perl libio-socket-ip-perl swaks exim4-daemon-heavy
      mandoc groff-base
      clang libclang-rt-14-dev"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
