#!/bin/sh
# tests/fresh_check.sh [TARGET...]: the README's test command on a fresh
# Debian 12 (debootstrap minbase with git, make, gcc, libc6-dev and
# ca-certificates, as root), from a clone of this repository's HEAD. The
# targets default to "check"; "run" is not useful here (no terminal).
#
# Needs root; installs debootstrap when it is missing. The Debian mirror is
# the first one in this machine's apt sources. The fresh root lives in a
# temporary directory, and is entered in a mount namespace of its own with
# / a mount point (as on a real machine: ip netns needs one), so nothing
# is left mounted; the directory is removed at the end. Prints the
# targets' output and exits with their status.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fresh_check: needs root" >&2; exit 2; }
sh "$top/deps/need.sh" debootstrap:debootstrap unshare:util-linux

mirror=$(sed -n 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([a-z]*:[^[:space:]]*\).*/\2/p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
if [ -z "$mirror" ]; then
	mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
fi
[ -n "$mirror" ] || { echo "fresh_check: no apt mirror found" >&2; exit 2; }

root=$(mktemp -d /tmp/moshi-fresh.XXXXXX)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root" # it is /: every user must get through it
echo "fresh_check: debootstrap into $root" >&2
debootstrap --variant=minbase --include=git,make,gcc,libc6-dev,ca-certificates \
	bookworm "$root" "$mirror" > "$root.log" 2>&1 ||
	{ tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
git clone -q "$top" "$root/work/moshi"

targets=${*:-check}
status=0
unshare -m sh -c '
	set -e
	mount --make-rprivate /
	mount --bind "$1" "$1"
	for m in proc sys dev dev/pts; do mount --rbind "/$m" "$1/$m"; done
	mount -t tmpfs tmpfs "$1/run"
	exec chroot "$1" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=xterm LANG=C sh -c "cd /work/moshi && make $2"
' fresh "$root" "$targets" || status=$?
exit "$status"
