# A real session whose client moves: the client talks to the server through
# the relay, which takes a new source address every second. Typing goes on
# working across the moves.
SUITE=roam
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip roam "tmux is not installed"
	exit 0
fi
sock="moshi-roam-$$"
mark="MOSHI_E2E_ROAM=$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; kill $rpid 2>/dev/null; pkill -f "server new .*$mark"'
rpid=
screen() { tmux -L "$sock" capture-pane -t s -p; }
wait_screen() {
	for i in $(seq 1 80); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

"$MOSHI" server new -i 127.0.0.1 -- env "$mark" PS1='roam$ ' bash --norc --noprofile \
	> "$TMP/server.out" 2>/dev/null
set -- $(tr -d '\r' < "$TMP/server.out" | grep '^MOSHI CONNECT')
port=$3 key=$4
[ -n "$key" ] && pass server_starts || { fail server_starts "$(cat "$TMP/server.out")"; exit 0; }
start_relay "$TMP/relay.out" "$TMP/relay.err" --to "127.0.0.1:$port" \
	--roam-every 1 --delay 20 --jitter 5

tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
	"MOSHI_KEY=$key '$MOSHI' client 127.0.0.1 $rport; echo EXIT=\$?; sleep 60"
wait_screen '^roam\$' && pass session_through_relay || fail session_through_relay "$(screen | head -3)"
# Five commands, a second or more apart: the relay moves between them.
ok=1
for n in 1 2 3 4 5; do
	tmux -L "$sock" send-keys -t s "clear; echo step-$n-done" Enter
	wait_screen "^step-$n-done" || { ok=0; break; }
	sleep 1.2
done
[ "$ok" = 1 ] && pass typing_across_roams || fail typing_across_roams "stuck at step $n: $(screen | head -3)"
tmux -L "$sock" send-keys -t s 'exit' Enter
wait_screen '^EXIT=0' && pass ends_cleanly || fail ends_cleanly "$(screen | tail -3)"
kill -TERM "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
roams=$(sed -n 's/.*roams \([0-9]*\).*/\1/p' "$TMP/relay.err" | head -n 1)
[ "${roams:-0}" -ge 4 ] && pass relay_roamed_at_least_4_times ||
	fail relay_roamed_at_least_4_times "roams: ${roams:-none}: $(cat "$TMP/relay.err")"
