#!/bin/sh
# Fetch the source of moshi's two dependencies (mbedTLS 2.28.x and
# libtermkey 0.22) from Debian's source archive into DIR, without touching
# the system's apt configuration: the sources list, the package lists and
# the apt caches used here all live under DIR.
#
# The deb-src entries are derived from the machine's own apt sources (the
# same mirrors, suites and keyrings), so no mirror is named in this file.
#
# Usage: deps/fetch.sh DIR
# On success DIR/mbedtls and DIR/libtermkey are links to the unpacked trees.
set -eu

dir=${1:?usage: deps/fetch.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

have_tree() {
	[ -f "$dir/mbedtls/include/mbedtls/version.h" ] &&
	[ -f "$dir/libtermkey/termkey.h" ]
}
if have_tree; then
	exit 0
fi

# apt-get source unpacks with dpkg-source, which lives in dpkg-dev.
"$(dirname "$0")/need.sh" apt-get:apt dpkg-source:dpkg-dev

apt="$dir/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
list="$apt/sources.list"
: > "$list"

# One-line style sources: turn every "deb" line into "deb-src".
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >> "$list"
done
# deb822 style sources: keep the stanzas, with Types set to deb-src.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	src="$apt/parts/$(basename "$f")"
	sed 's/^Types:.*/Types: deb-src/' "$f" > "$src"
done
if [ ! -s "$list" ] && [ -z "$(ls "$apt/parts")" ]; then
	die "no apt sources found on this machine; set MBEDTLS_SRC and TERMKEY_SRC"
fi

aptopts="-o Dir::Etc::SourceList=$list -o Dir::Etc::SourceParts=$apt/parts \
 -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache \
 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq"

say "reading Debian's source package lists"
# shellcheck disable=SC2086
apt-get $aptopts update >"$apt/update.log" 2>&1 ||
	die "apt-get update failed (see $apt/update.log)"

cd "$dir"
say "fetching mbedtls and libtermkey source packages"
# shellcheck disable=SC2086
apt-get $aptopts source mbedtls libtermkey >"$apt/source.log" 2>&1 ||
	die "apt-get source failed (see $apt/source.log)"

m=$(ls -d mbedtls-2.28.* 2>/dev/null | sort | tail -n 1)
t=$(ls -d libtermkey-0.22* 2>/dev/null | sort | tail -n 1)
[ -n "$m" ] || die "Debian's mbedtls source is not 2.28.x; set MBEDTLS_SRC to a 2.28 tree"
[ -n "$t" ] || die "Debian's libtermkey source is not 0.22; set TERMKEY_SRC to a 0.22 tree"
ln -sfn "$m" mbedtls
ln -sfn "$t" libtermkey
have_tree || die "unpacked trees look incomplete"
say "using $m and $t"
