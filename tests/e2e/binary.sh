# The built binary: static, self-contained, and dispatching on its name and
# its first argument.
SUITE=binary
. "$(dirname "$0")/../lib.sh"

static=1
case "$SANITIZE" in 1) static=0 ;; esac

if [ "$static" = 1 ]; then
	desc=$(file -L "$MOSHI")
	case "$desc" in
	*"statically linked"*|*"static-pie linked"*) pass static_link ;;
	*) fail static_link "file says: $desc" ;;
	esac
	case "$desc" in
	*"not stripped"*) fail stripped "file says: $desc" ;;
	*stripped*) pass stripped ;;
	*) fail stripped "file says: $desc" ;;
	esac
fi

expect version 0 '^moshi [0-9]+\.[0-9]+\.[0-9]+ \(mbedTLS 2\.28\.[0-9]+, libtermkey 0\.22\)$' "$MOSHI" --version
expect help 0 'connect' "$MOSHI" --help
expect help_lists_roles 0 'client .*MOSHI_KEY' "$MOSHI" --help
expect unknown_option_exit_2 2 "unknown option '--bogus'" "$MOSHI" --bogus host
expect no_args_exit_2 2 '^usage: moshi' "$MOSHI"

# Dispatch by name: symlinks called moshi-server and moshi-client reach
# their roles (asked for help, so that nothing is started).
ln -s "$MOSHI" "$TMP/moshi-server"
ln -s "$MOSHI" "$TMP/moshi-client"
expect argv0_server 0 '^usage: moshi server new' "$TMP/moshi-server" --help
expect argv0_client 0 '^usage: moshi client' "$TMP/moshi-client" --help
expect argv0_client_needs_host 2 '^usage: moshi client' "$TMP/moshi-client"
expect subcommand_connect_needs_host 2 '^usage: moshi \[connect\]' "$MOSHI" connect
expect subcommand_serve_bad_option 2 "unknown or incomplete option '-x'" "$MOSHI" serve -x
expect subcommand_server_bad_port 2 'bad port or range' "$MOSHI" server new -p 70000
expect client_without_key 1 'MOSHI_KEY is not set' env -u MOSHI_KEY "$MOSHI" client 127.0.0.1 60001
expect client_bad_key 1 'not a valid key' env MOSHI_KEY=short "$MOSHI" client 127.0.0.1 60001

# The binary alone, in an empty root: nothing else may be needed.
if [ "$static" = 1 ]; then
	root="$TMP/root"
	mkdir "$root"
	cp "$MOSHI" "$root/moshi"
	if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
		expect chroot_version 0 '^moshi [0-9.]+ ' chroot "$root" /moshi --version
	elif unshare -r true 2>/dev/null; then
		expect chroot_version 0 '^moshi [0-9.]+ ' unshare -r chroot "$root" /moshi --version
	else
		skip chroot_version "neither root nor user namespaces are available"
	fi
	n=$(find "$root" | wc -l)
	[ "$n" -eq 2 ] && pass chroot_root_holds_only_moshi ||
		fail chroot_root_holds_only_moshi "root has $n entries"
fi
