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
if [ -f "$TMP/prefix/share/man/man1/moshi.1" ]; then
	pass man_page_installed
else
	fail man_page_installed "no share/man/man1/moshi.1 under PREFIX"
fi
if [ -f "$TMP/prefix/share/bash-completion/completions/moshi" ]; then
	pass completion_installed
else
	fail completion_installed "no share/bash-completion/completions/moshi under PREFIX"
fi
# The page renders, and names every role and environment variable.
if command -v man >/dev/null 2>&1; then
	man -l "$TMP/prefix/share/man/man1/moshi.1" > "$TMP/man.txt" 2>/dev/null
	missing=
	for w in "moshi connect" "moshi server new" "moshi client" MOSHI_KEY \
	         MOSHI_ESCAPE_KEY MOSHI_TITLE_NOPREFIX MOSHI_SERVER_NETWORK_TMOUT \
	         MOSHI_SERVER_SIGNAL_TMOUT -- --local --ssh= --no-init; do
		grep -qF -- "$w" "$TMP/man.txt" || missing="$missing $w"
	done
	[ -z "$missing" ] && pass man_page_complete || fail man_page_complete "missing:$missing"
else
	skip man_page_complete "man is not installed"
fi
