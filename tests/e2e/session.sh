# A real moshi session on this machine, driven through tmux: moshi connect
# --local, typing, output, resize, the escape key, a clean end.
SUITE=session
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip session "tmux is not installed"
	exit 0
fi
sock="moshi-e2e-$$"
t() { tmux -L "$sock" "$@"; }
CLEANUP='t kill-server 2>/dev/null; pkill -f "server new .*$mark"'

screen() { t capture-pane -t s -p; }
shown() { screen | grep -v '^$' | tail -6 | tr '\n' '|'; }
wait_screen() { # PATTERN: up to 5 s for the screen to show it
	for i in $(seq 1 50); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# This run's servers carry a mark in their command line, so leftovers of
# other runs are not counted, and any of ours still there at the end
# (a server whose client was killed waits for it, as mosh's does) goes.
mark="MOSHI_E2E=$$"
servers() { pgrep -f "server new .*$mark" | wc -l; }

start() { # [NAME=VALUE...]: extra environment for moshi
	t kill-server 2>/dev/null
	sleep 0.2
	t -f /dev/null new-session -d -s s -x 80 -y 24 \
		"env $* PS1='moshi\$ ' HOME='$TMP' '$MOSHI' connect --local -- env $mark bash --norc --noprofile; echo EXIT=\$?; sleep 60"
	if ! wait_screen '^moshi\$'; then
		echo "start failed: screen: $(shown); processes:" >&2
		pgrep -fa "$mark" >&2
		return 1
	fi
}

start && pass starts_a_session || fail starts_a_session "no prompt: $(screen | head -5)"

t send-keys -t s 'echo hello from moshi; tput cols; tput lines' Enter
wait_screen '^hello from moshi' && pass command_output ||
	fail command_output "$(screen | head -5)"
wait_screen '^80$' && pass terminal_size_80x24 || fail terminal_size_80x24 "$(screen | head -6)"

# A resize of the tmux window reaches the application.
t resize-window -t s -x 100 -y 30
sleep 0.5
t send-keys -t s 'clear; stty size' Enter
wait_screen '^30 100$' && pass resize_reaches_application ||
	fail resize_reaches_application "$(screen | head -4)"

# Full-screen program: colours survive the trip.
t send-keys -t s "clear; printf '\\033[1;31mRED\\033[m plain\\n'" Enter
wait_screen '^RED plain' && pass colour_text || fail colour_text "$(screen | head -3)"
if t capture-pane -t s -p -e | grep -q '1;31mRED\|31;1mRED\|1m.*31mRED'; then
	pass colour_attributes
else
	fail colour_attributes "$(t capture-pane -t s -p -e | head -3 | cat -v)"
fi

# The shell's exit ends the client with status 0, and nothing is left.
t send-keys -t s 'exit' Enter
wait_screen '^EXIT=0' && pass shell_exit_status_0 || fail shell_exit_status_0 "$(screen | tail -5)"
sleep 0.5
n=$(servers)
[ "$n" -eq 0 ] && pass no_server_left_after_exit || fail no_server_left_after_exit "$n left"

# The escape key: Ctrl-^ then '.' quits; the server follows.
start || fail second_session_starts "$(shown)"
t send-keys -t s C-^ .
wait_screen '^EXIT=0' && pass escape_key_quits || fail escape_key_quits "$(shown)"
sleep 1
n=$(servers)
[ "$n" -eq 0 ] && pass no_server_left_after_escape || fail no_server_left_after_escape "$n left"

# MOSHI_ESCAPE_KEY=none: Ctrl-^ . is passed to the program as bytes.
start MOSHI_ESCAPE_KEY=none || fail escape_disabled_session_starts "$(shown)"
# One step at a time: keys typed before cat starts reach it raw.
t send-keys -t s 'cat -v' Enter
sleep 0.5
t send-keys -t s C-^ . Enter
sleep 0.3
t send-keys -t s C-d
wait_screen '\^\^\.' && pass escape_disabled_passes_bytes ||
	fail escape_disabled_passes_bytes "$(shown)"
t send-keys -t s 'exit' Enter
wait_screen '^EXIT=0'

# The key is never on a command line, and core dumps are off.
start || fail third_session_starts "$(shown)"
pid=$(pgrep -f "server new .*$mark" | head -n 1)
if [ -n "$pid" ]; then
	if grep -q ' 0 *0 ' /proc/"$pid"/limits 2>/dev/null &&
	   grep -E '^Max core file size +0 +0' /proc/"$pid"/limits >/dev/null; then
		pass server_core_limit_0
	else
		fail server_core_limit_0 "$(grep core /proc/"$pid"/limits)"
	fi
	leak="" checked=""
	# In the arguments of every process running the moshi binary (connect,
	# server, client), a key would be a whole word of exactly 22 base64
	# characters. argv[0] is left out: it is the binary's path, which in
	# a CI clone can itself be 22 such characters.
	bin=$(readlink -f "$MOSHI")
	for p in $(pgrep -f "$MOSHI"); do
		[ "$(readlink -f /proc/"$p"/exe 2>/dev/null)" = "$bin" ] || continue
		checked="$checked $p"
		args=$({ tr '\0' '\n' < /proc/"$p"/cmdline; } 2>/dev/null | tail -n +2 | tr '\n' ' ')
		echo " $args" | grep -Eq '(^| |=)[A-Za-z0-9+/]{22}( |$)' &&
			leak="$leak [pid $p args:$args]"
		{ tr '\0' '\n' < /proc/"$p"/environ; } 2>/dev/null | grep -q '^MOSHI_KEY=' &&
			leak="$leak [pid $p environ has MOSHI_KEY]"
	done
	# The server must have been among the processes looked at.
	case "$checked " in *" $pid "*) ;; *) leak="$leak [server $pid not checked]" ;; esac
	[ -z "$leak" ] && pass key_not_in_cmdline_or_environ ||
		fail key_not_in_cmdline_or_environ "a moshi process may show a key:$leak"
else
	fail server_core_limit_0 "no server process found"
fi
t send-keys -t s 'exit' Enter
wait_screen '^EXIT=0' && pass third_session_ends || fail third_session_ends "$(screen | tail -3)"

# A server and a client started by hand, as a user of `moshi client`
# would: the key the server printed must not be readable in any process's
# command line or environment (the client overwrites MOSHI_KEY's text in
# the block /proc/PID/environ shows, not only in environ[]).
t kill-server 2>/dev/null
line=$(env PS1='moshi$ ' "$MOSHI" server new -- env "$mark" bash --norc --noprofile 2>"$TMP/server.err" | tr -d '\r')
port=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $3 }')
key=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $4 }')
if [ -z "$port" ] || [ ${#key} -ne 22 ]; then
	fail client_by_hand_starts "server printed: $line $(cat "$TMP/server.err")"
else
	echo "$key" > "$TMP/key"
	t -f /dev/null new-session -d -s s -x 80 -y 24 \
		"MOSHI_KEY=\$(cat '$TMP/key') '$MOSHI' client 127.0.0.1 $port; echo EXIT=\$?; sleep 60"
	if wait_screen '^moshi\$'; then
		pass client_by_hand_starts
	else
		fail client_by_hand_starts "$(shown)"
	fi
	rm -f "$TMP/key"
	seen=""
	for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
		{ tr '\0' '\n' < "$f"; } 2>/dev/null | grep -qF -- "$key" && seen="$seen $f"
	done
	[ -z "$seen" ] && pass key_in_no_process || fail key_in_no_process "found in$seen"
	cpid=$(pgrep -f "$MOSHI client 127.0.0.1 $port" | head -n 1)
	if [ -n "$cpid" ] && grep -Eq '^Max core file size +0 +0' /proc/"$cpid"/limits; then
		pass client_core_limit_0
	else
		fail client_core_limit_0 "pid '$cpid': $(grep core /proc/"$cpid"/limits 2>&1)"
	fi
	t send-keys -t s 'exit' Enter
	wait_screen '^EXIT=0' && pass client_by_hand_ends || fail client_by_hand_ends "$(shown)"
fi

# No server on the port (as when a firewall drops UDP): the bar says so,
# naming the port and host, and on quitting the client says what to do.
t kill-server 2>/dev/null
deadport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t -f /dev/null new-session -d -s s -x 120 -y 24 \
	"MOSHI_KEY=AAAAAAAAAAAAAAAAAAAAAA '$MOSHI' client 127.0.0.1 $deadport; echo EXIT=\$?; sleep 60"
for i in $(seq 1 100); do
	screen | grep -q "Nothing received from server on UDP port $deadport" && break
	sleep 0.1
done
screen | grep -Fq "Nothing received from server on UDP port $deadport (a firewall on 127.0.0.1 may block it). [To quit: Ctrl-^ .]" &&
	pass no_reply_bar_names_port_and_host || fail no_reply_bar_names_port_and_host "$(shown)"
t send-keys -t s C-^ .
wait_screen '^EXIT=' 
screen | grep -q "iptables -I INPUT -p udp --dport $deadport -j ACCEPT" &&
	pass no_reply_says_what_to_do || fail no_reply_says_what_to_do "$(shown)"
