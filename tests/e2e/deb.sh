# make deb: the package builds, lintian finds no error in it, and it
# installs with dpkg -i into a scratch root, from where the binary runs
# (--version, and a whole local session).
SUITE=deb
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${SANITIZE:-0}" = 1 ]; then
	skip deb "the sanitizer build is not packaged"
	exit 0
fi
if ! command -v dpkg-deb >/dev/null || ! command -v dpkg >/dev/null; then
	skip deb "needs dpkg and dpkg-deb"
	exit 0
fi
if make -s -C "$top" deb > "$TMP/log" 2>&1; then
	deb=$(tail -n 1 "$TMP/log")
	pass make_deb
else
	fail make_deb "$(tail -n 5 "$TMP/log")"
	exit 0
fi
if command -v lintian >/dev/null; then
	# (It warns when run as root; the findings are what counts.)
	lintian --tag-display-limit 0 "$deb" > "$TMP/lintian" 2>/dev/null
	rc=$?
	grep -q '^E:' "$TMP/lintian" || [ "$rc" -ne 0 ] &&
		fail lintian_clean "$(head -c 400 "$TMP/lintian") (status $rc)" ||
		pass lintian_clean
else
	skip lintian_clean "lintian is not installed (apt-get install lintian)"
fi
root="$TMP/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
if dpkg --root="$root" --force-not-root --force-script-chrootless --log=/dev/null \
	-i "$deb" > "$TMP/dpkg" 2>&1; then
	pass dpkg_installs
else
	fail dpkg_installs "$(tail -n 5 "$TMP/dpkg")"
	exit 0
fi
for f in usr/bin/moshi usr/share/man/man1/moshi.1.gz usr/share/doc/moshi/copyright \
         usr/share/bash-completion/completions/moshi; do
	[ -e "$root/$f" ] || missing="${missing:-} $f"
done
[ "$(readlink "$root/usr/bin/moshi-server")" = moshi ] || missing="${missing:-} moshi-server"
[ -z "${missing:-}" ] && pass package_contents || fail package_contents "missing:$missing"
expect installed_version 0 '^moshi [0-9]' "$root/usr/bin/moshi" --version
if command -v script >/dev/null; then
	expect installed_session 0 'moshi is exiting' \
		script -qec "'$root/usr/bin/moshi' connect --local -- true" /dev/null
else
	skip installed_session "script(1) is not installed"
fi
dpkg --root="$root" --force-not-root --force-script-chrootless --log=/dev/null \
	-r moshi > /dev/null 2>&1 && [ ! -e "$root/usr/bin/moshi" ] &&
	pass dpkg_removes || fail dpkg_removes "usr/bin/moshi left behind"
