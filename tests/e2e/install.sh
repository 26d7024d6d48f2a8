# make install: the binary and its two role symlinks under PREFIX.
SUITE=install
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${SANITIZE:-0}" = 1 ]; then
	skip install "the sanitizer build is not installed"
	exit 0
fi
if make -s -C "$top" install PREFIX="$TMP/prefix" > "$TMP/log" 2>&1; then
	pass make_install
else
	fail make_install "$(tail -n 5 "$TMP/log")"
fi
for n in moshi-server moshi-client; do
	if [ "$(readlink "$TMP/prefix/bin/$n")" = moshi ]; then
		pass "symlink_$n"
	else
		fail "symlink_$n" "$TMP/prefix/bin/$n is not a link to moshi"
	fi
done
expect installed_version 0 '^moshi ' "$TMP/prefix/bin/moshi" --version
