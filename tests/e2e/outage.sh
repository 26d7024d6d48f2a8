# Outages: the test relay drops everything both ways for 12 s (longer
# than mosh's 10 s of resending, after which it waits for its 3 s
# heartbeat), a command is typed during it, and the path comes back,
# at the same address or from a new one (a roam: Wi-Fi to mobile data).
# The command's output must arrive, and the client must have kept
# trying all along: the relay counts what it dropped in the outage's
# last 2 s (a probe every max(RTO, 250 ms), so about 8; a heartbeat
# alone would be at most one). Figures: make bench.
SUITE=outage
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null; then
	skip outage "needs tmux"
	exit 0
fi
sock="moshi-outage-$$"
mark="MOSHI_E2E_OUTAGE=$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; [ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null; pkill -f "server new .*$mark"'

# outage NAME ROAM: one outage, ended from a new address when ROAM is 1.
outage() {
	export RELAY_LOG="$TMP/relay-$1.log"
	relayed_session 'out$ ' --delay 50 --blackout-both
	unset RELAY_LOG
	if ! wait_screen '^out\$'; then
		fail "$1" "no prompt: $(shown)"
		return
	fi
	kill -USR2 "$rpid"
	sleep 10
	tmux -L "$sock" send-keys -t s "echo back-$1" Enter
	sleep 2
	[ "$2" = 1 ] && kill -USR1 "$rpid"
	kill -USR2 "$rpid"
	if wait_screen "^back-$1" 50; then
		pass "${1}_output_arrives"
	else
		fail "${1}_output_arrives" "$(shown)"
	fi
	# What the client sent in the outage's last 2 s (the relay dropped it).
	end=$(awk '/ roam$/ { t = $1 } / up drop / { last = $1 } END { print last }' "$TMP/relay-$1.log")
	n=$(awk -v e="$end" '/ up drop / && $1 > e - 2 { n++ } END { print n + 0 }' "$TMP/relay-$1.log")
	[ "$n" -ge 4 ] && pass "${1}_client_kept_trying" ||
		fail "${1}_client_kept_trying" "$n datagrams in the outage's last 2 s (at least 4)"
	screen | grep -q 'Last contact' && fail "${1}_bar_gone" "the bar is still up: $(screen | head -1)" ||
		pass "${1}_bar_gone"
	end_session
}

# The session ends by its shell's exit, not by killing its terminal: a
# sanitizer build's client hung at exit, its leak checker's tracer
# waiting for a stop that the terminal's hangup (SIGHUP, then SIGCONT)
# had cancelled.
end_session() {
	tmux -L "$sock" send-keys -t s 'exit' Enter
	wait_screen '^EXIT=' 100
}
outage same_address 0
outage new_address 1

# Beyond mosh: the client's machine changes address (a new network), and
# the client notices it through rtnetlink: it moves to a fresh socket and
# probes at once, where waiting for 10 s of silence to change port would
# take that long. A client in a network namespace; its address changes
# from 10.202.0.2 to 10.203.0.2; a command typed right after must show
# its output within 5 s (without the watch: 7 to 10 s).
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	skip route_change_probes_at_once "needs root and ip"
	exit 0
fi
ns="moshiout$$" vh="mo$$h" vn="mo$$n"
CLEANUP="$CLEANUP; ip netns del $ns 2>/dev/null; ip link del $vh 2>/dev/null"
in_ns() { ip netns exec "$ns" "$@"; }
if ! { ip netns add "$ns" && ip link add "$vh" type veth peer name "$vn" &&
       ip link set "$vn" netns "$ns" && ip addr add 10.202.0.1/24 dev "$vh" &&
       ip addr add 10.203.0.1/24 dev "$vh" && ip link set "$vh" up &&
       in_ns ip link set lo up && in_ns ip addr add 10.202.0.2/24 dev "$vn" &&
       in_ns ip link set "$vn" up; }; then
	fail route_change_setup "could not make the namespace and veth"
	exit 0
fi
tmux -L "$sock" kill-server 2>/dev/null
[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
line=$(env PS1='rt$ ' "$MOSHI" server new -i 10.202.0.1 -- env "$mark" bash --norc --noprofile 2>/dev/null | tr -d '\r')
port=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $3 }')
key=$(echo "$line" | awk '/^MOSHI CONNECT/ { print $4 }')
tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
	"MOSHI_KEY=$key ip netns exec $ns '$MOSHI' client 10.202.0.1 $port; echo EXIT=\$?; sleep 60"
if ! wait_screen '^rt\$'; then
	fail route_change_probes_at_once "no prompt: $(shown)"
	exit 0
fi
sleep 1
in_ns ip addr add 10.203.0.2/24 dev "$vn"
in_ns ip addr del 10.202.0.2/24 dev "$vn"
in_ns ip route add 10.202.0.1/32 dev "$vn" src 10.203.0.2
tmux -L "$sock" send-keys -t s 'echo moved-$((6*7))' Enter
wait_screen '^moved-42' 50 && pass route_change_probes_at_once ||
	fail route_change_probes_at_once "no output 5 s after the address changed: $(shown)"
end_session
