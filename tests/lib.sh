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

# relayed_session PS1 RELAY-OPTIONS...: a moshi server running bash with
# that prompt (its command line carries $mark), the test relay in front of
# it with those options, and `moshi client $CLIENT_OPTS` through the relay
# in tmux session "s" on socket $sock, 80x24; the client's exit status is
# shown as EXIT=N when it ends. Sets rpid to the relay's pid (a previous
# relay is stopped first); the relay's counts go to $TMP/relay.err.
relayed_session() {
	ps1=$1
	shift
	tmux -L "$sock" kill-server 2>/dev/null
	sleep 0.2
	line=$(env PS1="$ps1" "$MOSHI" server new -i 127.0.0.1 -- env "$mark" bash --norc --noprofile 2>/dev/null | tr -d '\r')
	port=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $3 }')
	key=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $4 }')
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	"$OUT/tools/relay" --to "127.0.0.1:$port" "$@" > "$TMP/relay.out" 2> "$TMP/relay.err" &
	rpid=$!
	for i in $(seq 1 20); do grep -q listening "$TMP/relay.out" && break; sleep 0.1; done
	rport=$(awk '{print $4}' "$TMP/relay.out")
	tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
		"MOSHI_KEY=$key '$MOSHI' client ${CLIENT_OPTS:-} 127.0.0.1 $rport; echo EXIT=\$?; sleep 60"
}

# The tmux pane "s" on socket $sock (hand_session's): its text, its last
# non-empty lines on one line (for a failure message), and waiting up to
# TENTHS/10 s (5 s unless given) for a line matching the grep -E PATTERN.
screen() { tmux -L "$sock" capture-pane -t s -p; }
shown() { screen | grep -v '^$' | tail -4 | tr '\n' '|'; }
wait_screen() { # PATTERN [TENTHS]
	for i in $(seq 1 "${2:-50}"); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# hand_session [NAME=VALUE...] -- COMMAND...: a server started by hand
# (moshi server new, with that environment and PS1='moshi$ ') running
# COMMAND, its command line carrying $mark, and `moshi client` for it in
# tmux session "s" on socket $sock, 80x24; the client's exit status is
# shown as EXIT=N when it ends. Sets spid (the server), apid (its
# program), cpid (the client), port and key; fails if any is missing.
hand_session() {
	envs=""
	while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	shift
	line=$(env $envs PS1='moshi$ ' "$MOSHI" server new -i 127.0.0.1 -- env "$mark" "$@" 2>/dev/null | tr -d '\r')
	port=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $3 }')
	key=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $4 }')
	spid=$(pgrep -n -f "server new .*$mark")
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
