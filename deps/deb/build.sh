#!/bin/sh
# make deb: moshi_VERSION_ARCH.deb with dpkg-deb, from the built binary.
#   deps/deb/build.sh BINARY VERSION OUTDIR
# The package holds the static binary, the moshi-server and moshi-client
# links, moshi(1), the README, the copyright, bash completion, and a
# lintian override for the one thing that is so by design: the binary
# is static.
set -eu
bin=$1 version=$2 out=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
arch=$(dpkg --print-architecture)
root="$out/moshi_${version}_$arch"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
	"$root/usr/share/doc/moshi" "$root/usr/share/bash-completion/completions" \
	"$root/usr/share/lintian/overrides"
install -m 755 "$bin" "$root/usr/bin/moshi"
ln -s moshi "$root/usr/bin/moshi-server"
ln -s moshi "$root/usr/bin/moshi-client"
gzip -9n < "$top/moshi.1" > "$root/usr/share/man/man1/moshi.1.gz"
ln -s moshi.1.gz "$root/usr/share/man/man1/moshi-server.1.gz"
ln -s moshi.1.gz "$root/usr/share/man/man1/moshi-client.1.gz"
install -m 644 "$top/README" "$root/usr/share/doc/moshi/README"
install -m 644 "$top/contrib/moshi.bash" "$root/usr/share/bash-completion/completions/moshi"
date=$(git -C "$top" log -1 --format=%aD 2>/dev/null || date -R)
{
	printf 'moshi (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * moshi %s, built from its source tree.\n\n' "$version"
	printf ' -- moshi authors <moshi@example.org>  %s\n' "$date"
} | gzip -9n > "$root/usr/share/doc/moshi/changelog.gz"
{
	echo 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'
	echo 'Upstream-Name: moshi'
	echo
	echo 'Files: *'
	echo 'Copyright: 2026 the moshi authors'
	echo 'License: Expat'
	sed -n '3,$p' "$top/LICENSE" | sed 's/^$/./; s/^/ /'
	echo
	echo 'Files: build/src/mbedtls/*'
	echo 'Copyright: The Mbed TLS Contributors'
	echo 'License: Apache-2.0'
	echo ' On Debian systems, the full text of the Apache License 2.0 is in'
	echo ' /usr/share/common-licenses/Apache-2.0.'
	echo
	echo 'Files: build/src/libtermkey/*'
	echo 'Copyright: Paul Evans <leonerd@leonerd.org.uk>'
	echo 'License: Expat'
	echo ' The same terms as moshi above.'
} > "$root/usr/share/doc/moshi/copyright"
# One static file is the point of moshi (its libraries are built in,
# from Debian's sources, with musl).
echo 'moshi: statically-linked-binary [usr/bin/moshi]' > "$root/usr/share/lintian/overrides/moshi"
size=$(du -sk "$root/usr" | cut -f1)
cat > "$root/DEBIAN/control" <<CTRL
Package: moshi
Version: $version
Architecture: $arch
Maintainer: moshi authors <moshi@example.org>
Installed-Size: $size
Section: net
Priority: optional
Description: mobile shell in one static file
 moshi is a remote terminal for unreliable networks, like mosh: the
 screen is kept in sync over UDP, typing is echoed locally, and a
 session survives roaming and outages. It is one statically linked
 binary with no run-time dependencies, which connect copies to a host
 over ssh when the host lacks it.
CTRL
(cd "$root" && find usr -type f -exec md5sum {} + > DEBIAN/md5sums)
find "$root" -type d -exec chmod 755 {} +
dpkg-deb --root-owner-group --build "$root" "$out/moshi_${version}_$arch.deb" >/dev/null
rm -rf "$root"
echo "$out/moshi_${version}_$arch.deb"
