#!/bin/sh
# Install the Debian packages spotenv needs, but only those that are missing.
#
#   sh util/deps.sh [build]   build and run spotenv (and `spotenv sim`):
#                             `make deps`, and so `make demo`
#   sh util/deps.sh test      the above, and what the tests use:
#                             `make deps-test`, and so `make check`
#   sh util/deps.sh deb       build, and what building the Debian package
#                             needs: `make deb`, `make check-deb`
set -u
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
what=${1:-build}
missing=""

case $what in
build | test | deb) ;;
*)
	echo "usage: sh util/deps.sh [build|test|deb]" >&2
	exit 64
	;;
esac

need_pc() {	# pkg-config module, Debian package
	if ! command -v "$PKG_CONFIG" >/dev/null 2>&1 || ! "$PKG_CONFIG" --exists "$1" 2>/dev/null; then
		missing="$missing $2"
	fi
}
need_cmd() {	# command, Debian package
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}

# build and run
need_cmd cc gcc
need_cmd make make
need_cmd "$PKG_CONFIG" pkg-config
need_pc yaml-0.1 libyaml-dev
need_pc libcurl libcurl4-openssl-dev
need_pc libcrypto libssl-dev
need_pc libcjson libcjson-dev
need_pc libmicrohttpd libmicrohttpd-dev

if [ "$what" = test ]; then
	need_pc cmocka libcmocka-dev     # unit tests
	need_cmd bats bats               # CLI tests
	need_cmd python3 python3         # CLI tests: JSON checks, a scripted responder
	# the JSON Schema's test (tests/cli/0700-schema.bats): Draft 2020-12, YAML
	python3 -c 'import jsonschema, yaml' 2>/dev/null ||
		/usr/bin/python3 -c 'import jsonschema, yaml' 2>/dev/null ||
		missing="$missing python3-jsonschema python3-yaml"
	need_cmd curl curl               # CLI tests: the emulator's control API by hand
	need_cmd clang clang             # fuzzers (libFuzzer)
	need_cmd shellcheck shellcheck   # make lint
	need_cmd etcd etcd-server        # the distributed lock's tests
	[ -r /usr/share/bash-completion/bash_completion ] ||
		missing="$missing bash-completion" # completion tests drive it
	need_cmd zsh zsh                 # completion tests: the zsh script parses
	need_cmd fish fish               # completion tests: the fish script completes
	[ -x /usr/bin/time ] || missing="$missing time" # benchmarks: peak memory
	# bats --jobs needs GNU parallel (moreutils has a parallel of its own)
	parallel --version 2>/dev/null | grep -q 'GNU parallel' || missing="$missing parallel"
	# the recipes' test (tests/cli/0800-recipes.bats): YAML that parses,
	# systemd units that systemd-analyze verify accepts, the GitLab job's jq
	python3 -c 'import yaml' 2>/dev/null || /usr/bin/python3 -c 'import yaml' 2>/dev/null ||
		missing="$missing python3-yaml"
	need_cmd systemd-analyze systemd
	need_cmd jq jq
	need_cmd strace strace # the systemd unit's syscall filter, checked
fi

if [ "$what" = deb ]; then
	need_cmd dpkg-buildpackage dpkg-dev # make deb
	need_cmd dh debhelper               # debian/rules (debhelper-compat 13)
fi

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
# shellcheck disable=SC2086 # $missing is a list of package names
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
	echo "deps: apt-get install failed for:$missing" >&2
	exit 1
fi
echo "deps: done"
