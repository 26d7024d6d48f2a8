# Helpers for the end-to-end test scripts (sourced, not run).
# Each check prints one PASS/FAIL/SKIP line, as tests/run.sh expects.
: "${MOSHI:?MOSHI must name the moshi binary under test}"
SUITE=${SUITE:-e2e}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/moshi-test.XXXXXX")

# dash runs an EXIT trap when a $(...) subshell exits too: clean up only
# in the main shell. A script may set CLEANUP to a command to run first.
MAIN_PID=$$
CLEANUP=:
on_exit() {
	[ "$(sh -c 'echo $PPID')" = "$MAIN_PID" ] || return 0
	eval "$CLEANUP"
	rm -rf "$TMP"
}
trap on_exit EXIT
trap 'exit 1' INT TERM

pass() { echo "PASS $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: $2"; }
skip() { echo "SKIP $SUITE/$1: $2"; }

# expect NAME WANT_STATUS OUTPUT_PATTERN COMMAND...: run COMMAND, check its
# exit status and that its combined output matches the grep -E pattern.
expect() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" > "$TMP/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, expected $want; output: $(head -c 300 "$TMP/out")"
	elif ! grep -Eq -- "$pat" "$TMP/out"; then
		fail "$name" "output does not match /$pat/: $(head -c 300 "$TMP/out")"
	else
		pass "$name"
	fi
}

# wait_for_line FILE PATTERN: up to 10 s for a line matching PATTERN to
# appear in FILE (a program started in the background saying it is up).
wait_for_line() {
	for i in $(seq 1 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_relay OUT ERR RELAY-OPTIONS...: the test relay in the background,
# its standard output in OUT and error in ERR; sets rpid, and rport to the
# port it listens on once it says so (empty if it does not within 10 s).
start_relay() {
	relay_out=$1 relay_err=$2
	shift 2
	"$OUT/tools/relay" "$@" > "$relay_out" 2> "$relay_err" &
	rpid=$!
	wait_for_line "$relay_out" listening
	rport=$(awk '/listening/ {print $4}' "$relay_out")
}

# relayed_session PS1 RELAY-OPTIONS...: a moshi server running bash with
# that prompt (its command line carries $mark), the test relay in front of
# it with those options, and `moshi client $CLIENT_OPTS` through the relay
# in tmux session "s" on socket $sock, 80x24 (10,000 lines of pane
# history); the client's exit status is
# shown as EXIT=N when it ends. Sets rpid to the relay's pid (a previous
# relay is stopped first); the relay's counts go to $TMP/relay.err.
relayed_session() {
	ps1=$1
	shift
	tmux -L "$sock" kill-server 2>/dev/null
	sleep 0.2
	line=$(env PS1="$ps1" "$MOSHI" server new -i 127.0.0.1 -- env "$mark" bash --norc --noprofile 2>"$TMP/server.err" | tr -d '\r')
	port=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $3 }')
	key=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $4 }')
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	start_relay "$TMP/relay.out" "$TMP/relay.err" --to "127.0.0.1:$port" "$@"
	if [ -z "$port" ] || [ -z "$rport" ]; then
		echo "relayed_session: server port '$port', relay port '$rport';" \
		     "server said: $(tr '\n' '|' < "$TMP/server.err")" \
		     "relay said: $(tr '\n' '|' < "$TMP/relay.err")" >&2
	fi
	tmux -L "$sock" -f /dev/null new-session -d -s boot "sleep 600" \; \
		set-option -g history-limit 10000
	tmux -L "$sock" new-session -d -s s -x 80 -y 24 \
		"MOSHI_KEY=$key '$MOSHI' client ${CLIENT_OPTS:-} 127.0.0.1 $rport; echo EXIT=\$?; sleep 60"
}

# The tmux pane "s" on socket $sock (hand_session's): its text, its last
# non-empty lines on one line (for a failure message), and waiting up to
# TENTHS/10 s (5 s unless given) for a line matching the grep -E PATTERN.
screen() { tmux -L "$sock" capture-pane -t s -p; }
shown() { screen | grep -v '^$' | tail -4 | tr '\n' '|'; }
wait_screen() { # PATTERN [TENTHS], default WAIT_TENTHS (50)
	for i in $(seq 1 "${2:-${WAIT_TENTHS:-50}}"); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# netns_suite_or_skip: exits the suite (with a SKIP) unless it can make a
# namespace with an sshd in it: root, sshd, ip, nft and tmux. Sets sshd.
netns_suite_or_skip() {
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	if [ "$(id -u)" != 0 ] || [ ! -x "$sshd" ] || ! command -v nft >/dev/null ||
	   ! command -v ip >/dev/null || ! command -v tmux >/dev/null; then
		skip "$SUITE" "needs root, sshd, ip, nft and tmux (apt-get install openssh-server iproute2 nftables tmux)"
		exit 0
	fi
}

# netns_pair NS HOSTSIDE NSSIDE HOSTADDR NSADDR: network namespace NS,
# joined to this one by a veth pair (HOSTSIDE here with HOSTADDR/24,
# NSSIDE there with NSADDR/24), its loopback up. The caller's CLEANUP
# deletes NS and HOSTSIDE.
netns_pair() {
	ip netns add "$1" &&
	ip link add "$2" type veth peer name "$3" &&
	ip link set "$3" netns "$1" &&
	ip addr add "$4/24" dev "$2" && ip link set "$2" up &&
	ip netns exec "$1" ip link set lo up &&
	ip netns exec "$1" ip addr add "$5/24" dev "$3" && ip netns exec "$1" ip link set "$3" up
}

# run_tmux COMMAND: COMMAND in a fresh tmux pane (server $sock, session s),
# 120x30, its exit status shown as EXIT=N when it ends.
run_tmux() {
	tmux -L "$sock" kill-server 2>/dev/null
	sleep 0.2
	tmux -L "$sock" -f /dev/null new-session -d -s s -x 120 -y 30 "$1; echo EXIT=\$?; sleep 60"
}

# sshd_setup PORT ADDRESS: throwaway host and user keys in $TMP, and
# $TMP/sshd_config for an sshd on ADDRESS:PORT that lets this machine's
# root in with the user key only (its AuthorizedKeysFile is in $TMP:
# nobody's ~/.ssh is touched); a caller appends what else it needs.
sshd_setup() {
	# sshd reads authorized_keys as the user logging in.
	chmod 755 "$TMP"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/userkey"
	cp "$TMP/userkey.pub" "$TMP/authorized_keys"
	cat > "$TMP/sshd_config" <<CONF
Port $1
ListenAddress $2
HostKey $TMP/hostkey
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
	mkdir -p /run/sshd
}

# start_server [NAME=VALUE...] -- COMMAND...: `moshi server new` on
# 127.0.0.1 with that environment, running COMMAND with $mark on its
# command line; sets port, key and spid (each empty if missing).
start_server() {
	envs=""
	while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	shift
	line=$(env $envs "$MOSHI" server new -i 127.0.0.1 -- env "$mark" "$@" 2>/dev/null | tr -d '\r')
	port=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $3 }')
	key=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $4 }')
	spid=$(pgrep -n -f "server new .*$mark")
}

# hand_session [NAME=VALUE...] -- COMMAND...: a server started by hand
# (moshi server new, with that environment and PS1='moshi$ ') running
# COMMAND, its command line carrying $mark, and `moshi client` for it in
# tmux session "s" on socket $sock, 80x24; the client's exit status is
# shown as EXIT=N when it ends. Sets spid (the server), apid (its
# program), cpid (the client), port and key; fails if any is missing.
hand_session() {
	start_server PS1='moshi$ ' "$@"
	apid=$(pgrep -P "${spid:-1}" | head -n 1)
	tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
		"MOSHI_KEY=$key '$MOSHI' client 127.0.0.1 $port; echo EXIT=\$?; sleep 60"
	cpid=""
	for i in $(seq 1 30); do
		cpid=$(pgrep -f "^$MOSHI client 127.0.0.1 $port" | head -n 1)
		[ -n "$cpid" ] && break
		sleep 0.1
	done
	[ -n "$spid" ] && [ -n "$apid" ] && [ -n "$cpid" ]
}
