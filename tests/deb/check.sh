#!/bin/sh
# make check-deb: the package that make deb built (DEB_OUT, default
# build/deb), checked the way a host would get it.  Installs it with dpkg
# into a scratch root (dpkg --root; never the machine's own root), runs the
# installed spotenv (its libraries are the machine's), removes it again,
# and runs lintian when it is installed.  Prints one line per check and
# "check-deb: N ok, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
out=${DEB_OUT:-build/deb}
version=$(dpkg-parsechangelog -S Version)
ok=0
bad=0
pass() {
	echo "ok   deb: $*"
	ok=$((ok + 1))
}
fail() {
	echo "FAIL deb: $*"
	bad=$((bad + 1))
}
check() { # description, command...
	d=$1
	shift
	if "$@" >"$tmp/last.log" 2>&1; then pass "$d"; else
		fail "$d"
		sed 's/^/    /' "$tmp/last.log" | head -n 20
	fi
}

deb=""
for f in "$out"/spotenv_"$version"_*.deb; do
	[ -f "$f" ] && deb=$f && break
done
if [ -z "$deb" ]; then
	echo "FAIL deb: no $out/spotenv_${version}_*.deb (run make deb)"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# what the package declares and holds
dpkg-deb -f "$deb" Depends >"$tmp/depends"
check "Depends names libmicrohttpd (the emulator is included: README.Debian)" \
	grep -q libmicrohttpd "$tmp/depends"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
for f in /usr/bin/spotenv /usr/share/man/man1/spotenv.1.gz \
	/usr/share/doc/spotenv/copyright /usr/share/doc/spotenv/README.Debian \
	/usr/share/doc/spotenv/examples/render-farm.yaml \
	/usr/share/doc/spotenv/recipes/github-actions.yml \
	/usr/share/doc/spotenv/recipes/spotenv-apply.service; do
	check "holds $f" grep -qx -- "$f" "$tmp/contents"
done
check "holds the README and the reference docs" \
	grep -q '^/usr/share/doc/spotenv/README.md' "$tmp/contents"
check "holds the spec format" \
	grep -q '^/usr/share/doc/spotenv/spec-format.md' "$tmp/contents"

# install into a scratch root: dpkg's own database there, nothing else
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
# the scratch root has no libc to satisfy Depends: the host's is used
check "dpkg --root installs it" \
	dpkg --root="$root" --force-depends --force-not-root --log=/dev/null -i "$deb"
check "dpkg --root knows it as installed, version $version" \
	sh -c "dpkg-query --admindir='$root/var/lib/dpkg' -W -f='\${Status} \${Version}' spotenv |
		grep -qx 'install ok installed $version'"
bin=$root/usr/bin/spotenv
check "installed spotenv version says $version" \
	sh -c "'$bin' version | grep -qx 'spotenv $version'"
check "installed spotenv validate accepts the installed examples" \
	"$bin" validate "$root/usr/share/doc/spotenv/examples"
check "installed examples are the tree's" \
	sh -c "for f in specs/examples/*.yaml; do cmp \"\$f\" '$root/usr/share/doc/spotenv/examples/'\"\$(basename \"\$f\")\" || exit 1; done"
# shell completions: in the package once spotenv has `completion`
if "$bin" completion bash >/dev/null 2>&1; then
	for f in /usr/share/bash-completion/completions/spotenv \
		/usr/share/zsh/vendor-completions/_spotenv \
		/usr/share/fish/vendor_completions.d/spotenv.fish; do
		check "holds $f" grep -qx -- "$f" "$tmp/contents"
	done
	check "installed bash completion registers spotenv" \
		bash -c "source '$root/usr/share/bash-completion/completions/spotenv' && complete -p spotenv"
else
	echo "skip deb: shell completions (this spotenv has no completion command)"
fi
# (their README.md is documentation, and gzipped as such)
check "installed recipes are the tree's, not gzipped" \
	sh -c "for f in docs/recipes/*; do case \"\$f\" in *.md) continue ;; esac
		cmp \"\$f\" '$root/usr/share/doc/spotenv/recipes/'\"\$(basename \"\$f\")\" || exit 1; done"
check "installed man page renders" \
	sh -c "zcat '$root/usr/share/man/man1/spotenv.1.gz' | grep -q '^\.TH SPOTENV 1'"
check "dpkg --root removes it, leaving no file behind" \
	sh -c "dpkg --root='$root' --force-not-root --log=/dev/null --purge spotenv &&
		! find '$root/usr' -type f | grep -q ."

if command -v lintian >/dev/null 2>&1; then
	check "lintian: no errors or warnings" \
		lintian --fail-on error,warning --suppress-tags bad-distribution-in-changes-file \
		"$deb"
else
	echo "skip deb: lintian (not installed)"
fi

echo "check-deb: $ok ok, $bad failed"
[ "$bad" -eq 0 ]
