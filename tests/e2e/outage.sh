# Outages: the test relay drops everything both ways for 12 s (past the
# 10 s after which the client used to stop resending and wait for its
# 3 s heartbeat), a command is typed during it, and the path comes back,
# at the same address or from a new one (a roam: Wi-Fi to mobile data).
# The command's output must arrive, and the client must have kept
# trying all along: the relay counts what it dropped in the outage's
# last 2 s (a probe every max(RTO, 250 ms), so about 8; the old client
# sent at most its heartbeat). Figures: make bench.
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
}
outage same_address 0
outage new_address 1
