# Servers whose client is gone: they sleep between events, they end once
# the command has ended and the client stayed away past
# MOSHI_SERVER_FINAL_TMOUT, and a command's last output always reaches
# the client, even on a loaded machine.
SUITE=orphans
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null || ! command -v script >/dev/null; then
	skip orphans "needs tmux and script(1)"
	exit 0
fi
sock="moshi-orphans-$$"
mark="MOSHI_E2E_ORPHANS=$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; pkill -f "$mark"; [ -n "${hogs:-}" ] && kill $hogs 2>/dev/null'

# start_orphan ENV... -- COMMAND...: a server (its command line carries
# $mark) and a client for it in a new tmux window, which is then killed
# with SIGKILL once it has drawn the screen. Prints the server's pid.
start_orphan() {
	start_server "$@"
	if tmux -L "$sock" has-session 2>/dev/null; then
		tmux -L "$sock" new-window -d "MOSHI_KEY=$key '$MOSHI' client 127.0.0.1 $port"
	else
		tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
			"MOSHI_KEY=$key '$MOSHI' client 127.0.0.1 $port"
	fi
	echo "$spid"
}

# cpu_ticks PID...: user + system clock ticks the processes used so far.
cpu_ticks() {
	t=0
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo "$t"
}

# Ten sessions whose command (sleep 8) ends after their client was
# killed: the screen was acknowledged, the shutdown is not. (With a
# shorter command, the first session's could end while its client was
# still there when starting the ten took long on a loaded machine: that
# server then ended, as it should, and was counted as gone.)
pids=""
for i in $(seq 1 10); do
	pids="$pids $(start_orphan -- sleep 8)"
done
sleep 1
pkill -KILL -f "^$MOSHI client 127.0.0.1"
sleep 8
t0=$(cpu_ticks $pids)
sleep 20
t1=$(cpu_ticks $pids)
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
hz=$(getconf CLK_TCK)
cs=$(( (t1 - t0) * 100 / hz ))
echo "orphans: 10 servers used ${cs} cs of CPU in 20 s ($alive alive)" >&2
[ "$alive" -eq 10 ] && [ "$cs" -le 20 ] && pass ten_orphans_sleep ||
	fail ten_orphans_sleep "$alive of 10 alive, ${cs} cs of CPU in 20 s (at most 20)"
kill $pids 2>/dev/null

# An orphan ends MOSHI_SERVER_FINAL_TMOUT seconds after its command did.
p=$(start_orphan MOSHI_SERVER_FINAL_TMOUT=2 -- sleep 1)
sleep 0.7
pkill -KILL -f "^$MOSHI client 127.0.0.1"
gone=""
for i in $(seq 1 60); do
	sleep 0.1
	kill -0 "$p" 2>/dev/null || { gone=$i; break; }
done
[ -n "$gone" ] && [ "$gone" -ge 20 ] && pass final_wait_is_bounded ||
	fail final_wait_is_bounded "ended after ${gone:-more than 60} tenths (want 2 s after the command's end)"
kill "$p" 2>/dev/null

# The last output of a command, 50 times, with two CPU hogs running.
hogs=""
for i in 1 2; do
	sh -c 'while :; do :; done' &
	hogs="$hogs $!"
done
lost=0
for i in $(seq 1 50); do
	script -qec "'$MOSHI' connect --local --no-init -- env $mark sh -c 'echo first; printf \"last-line-%s\\\\n\" $i'" \
		"$TMP/typescript" > /dev/null 2>&1 < /dev/null
	if ! tr -d '\r' < "$TMP/typescript" | grep -q "last-line-$i"; then
		lost=$((lost + 1))
		cp "$TMP/typescript" "$TMP/lost"
	fi
done
kill $hogs 2>/dev/null
hogs=""
[ "$lost" -eq 0 ] && pass last_output_reaches_the_client ||
	fail last_output_reaches_the_client "$lost of 50 sessions lost their last line: $(tr -d '\r\033' < "$TMP/lost" | tail -c 200)"

# An idle session wakes each side at most once a second (its heartbeat
# and the peer's): counted by the kernel, not timed.
tmux -L "$sock" kill-server 2>/dev/null
sleep 0.2
sp=$(start_orphan -- sh)
sleep 3
cp=$(pgrep -n -f "^$MOSHI client 127.0.0.1")
ctx() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
c0=$(ctx "$cp") s0=$(ctx "$sp")
sleep 10
c1=$(ctx "$cp") s1=$(ctx "$sp")
echo "orphans: idle session over 10 s: client $((c1 - c0)), server $((s1 - s0)) wakeups" >&2
[ -n "$cp" ] && [ $((c1 - c0)) -le 10 ] && [ $((s1 - s0)) -le 10 ] && pass idle_session_sleeps ||
	fail idle_session_sleeps "client $((c1 - c0)), server $((s1 - s0)) wakeups in 10 s (at most 10 each)"

# A client whose terminal goes away (its tmux killed) ends, and does not
# spin on the terminal's end of file. It runs in a session of its own
# (setsid), as a client whose terminal is not its controlling one: no
# SIGHUP comes, only the end of file.
tmux -L "$sock" kill-server 2>/dev/null
sleep 0.2
start_server -- sh
sp=$spid
tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
	"MOSHI_KEY=$key setsid -w '$MOSHI' client 127.0.0.1 $port"
sleep 2
cp=$(pgrep -n -f "^$MOSHI client 127.0.0.1 $port")
tmux -L "$sock" kill-server 2>/dev/null
for i in $(seq 1 30); do
	kill -0 "$cp" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$cp" ]; then
	fail client_ends_with_its_terminal "no client started"
elif kill -0 "$cp" 2>/dev/null; then
	fail client_ends_with_its_terminal "still running 3 s after its terminal closed ($(cpu_ticks "$cp") ticks of CPU)"
	kill "$cp"
else
	pass client_ends_with_its_terminal
fi
kill "$sp" 2>/dev/null

# The same race made certain: the server is stopped while its command
# prints its last line and exits, so on waking it finds SIGCHLD pending
# with the line still in the pty (a poll that wakes for the signal sees
# no input). The line must still reach the client's screen.
tmux -L "$sock" kill-server 2>/dev/null
sleep 0.2
start_server -- sh -c 'sleep 2; echo final-line-$((6*7))'
sp=$spid
tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
	"MOSHI_KEY=$key '$MOSHI' client --no-init 127.0.0.1 $port; sleep 60"
sleep 1
kill -STOP "$sp"
sleep 2
kill -CONT "$sp"
wait_screen '^final-line-42' 30 && pass last_output_read_after_the_exit ||
	fail last_output_read_after_the_exit "screen: $(shown)"
# The client's own end before the terminal's: a sanitizer build's client
# hangs in its leak check if the hangup comes while it exits (see
# outage.sh's end_session).
wait_screen 'moshi is exiting' 50
kill "$sp" 2>/dev/null
