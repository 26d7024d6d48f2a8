#!/bin/sh
# Make sure build tools exist: deps/need.sh TOOL:PACKAGE ...
# A missing tool is installed with apt-get when we are root; otherwise the
# exact command to run is printed and the build stops.
set -eu
missing=
for pair in "$@"; do
	tool=${pair%%:*}
	pkg=${pair#*:}
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	printf 'moshi: installing%s\n' "$missing" >&2
	# Wait for the package lock rather than fail if another apt runs.
	# A fresh machine may have no package lists yet.
	apt="apt-get -o DPkg::Lock::Timeout=600"
	if ! DEBIAN_FRONTEND=noninteractive $apt install -y -qq $missing >/dev/null 2>&1; then
		$apt update -qq >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive $apt install -y -qq $missing >/dev/null ||
			{ printf 'moshi: apt-get install%s failed\n' "$missing" >&2; exit 1; }
	fi
	exit 0
fi
printf 'moshi: missing build tools; run:\n    sudo apt-get install%s\n' "$missing" >&2
exit 1
