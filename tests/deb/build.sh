#!/bin/sh
# make deb: build the Debian package from a copy of this tree in
# build/deb/ (DEB_OUT), so that dpkg-buildpackage's `make clean` and its
# output in the parent directory never touch the working tree.  Leaves
# build/deb/spotenv_VERSION_ARCH.deb (and .buildinfo, .changes).
set -eu
cd "$(dirname "$0")/../.."
out=${DEB_OUT:-build/deb}
version=$(dpkg-parsechangelog -S Version)
src=$out/spotenv-$version

# the caller's make and developer settings are not the package's
unset MAKEFLAGS MFLAGS MAKELEVEL DEVELOPER SANITIZE B BIN OPT CFLAGS LDFLAGS CPPFLAGS
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc 2>/dev/null || echo 2)}"

rm -rf "$out"
mkdir -p "$src"
trap 'rm -rf "$src"' EXIT
# the tree as make sees it, less build output and VCS data
tar -cf - --exclude=./.git --exclude=./build --exclude=./build-san \
	--exclude=./build-fuzz --exclude=./spotenv --exclude=./tests/out \
	--exclude=./debian/.debhelper --exclude=./debian/spotenv \
	--exclude=./debian/files --exclude='./debian/*.substvars' \
	--exclude='./debian/*.debhelper.log' --exclude=./debian/debhelper-build-stamp . |
	tar -xf - -C "$src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
ls "$out"/*.deb
