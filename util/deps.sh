#!/bin/sh
# Install the Debian packages spotenv needs, but only those that are missing.
# Used by `make deps` (and so by `make demo` and `make check`).
set -u
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
missing=""

need_pc() {	# pkg-config module, Debian package
	if ! command -v "$PKG_CONFIG" >/dev/null 2>&1 || ! "$PKG_CONFIG" --exists "$1" 2>/dev/null; then
		missing="$missing $2"
	fi
}
need_cmd() {	# command, Debian package
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}

need_cmd cc gcc
need_cmd make make
need_cmd "$PKG_CONFIG" pkg-config
need_pc yaml-0.1 libyaml-dev
need_pc libcurl libcurl4-openssl-dev
need_pc libcrypto libssl-dev
need_pc libcjson libcjson-dev
need_pc libmicrohttpd libmicrohttpd-dev
need_pc cmocka libcmocka-dev
need_cmd bats bats
need_cmd clang clang
need_cmd curl curl
need_cmd python3 python3
[ -x /usr/bin/time ] || missing="$missing time"

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: missing packages:$missing" >&2
	echo "deps: not root and no sudo; install them with apt-get and re-run" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: apt-get not found; install these (Debian names):$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Lists may be stale or absent on a fresh machine; one update is cheap.
$SUDO apt-get update -qq >/dev/null 2>&1 || $SUDO apt-get update
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
	echo "deps: apt-get install failed for:$missing" >&2
	exit 1
fi
echo "deps: done"
