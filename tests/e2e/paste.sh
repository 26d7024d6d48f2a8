# Pastes through a real session: the client's input flow control (sync_flow)
# must deliver a large paste whole, once and in order, on a clean path and
# on a lossy one where pushing it all into one instruction would stall.
SUITE=paste
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip paste "tmux is not installed"
	exit 0
fi
sock="moshi-paste-$$"
mark="MOSHI_E2E_PASTE=$$"
t() { tmux -L "$sock" "$@"; }
rpid=
CLEANUP='t kill-server 2>/dev/null; [ -n "$rpid" ] && kill $rpid 2>/dev/null; pkill -f "server new .*$mark"'
screen() { t capture-pane -p -t s; }
wait_screen() { # PATTERN SECONDS
	for i in $(seq 1 $(( $2 * 10 ))); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

paste_through() { # NAME BYTES RELAY-OPTIONS...
	name=$1 bytes=$2
	shift 2
	relayed_session 'paste$ ' --seed 11 "$@"
	if ! wait_screen '^paste\$' 20; then
		fail "${name}_session" "$(screen | head -3)"
		return
	fi
	# The program reads exactly the paste, without echo, and prints its
	# digest; the paste starts once the command line has come back.
	t send-keys -t s "stty -echo -icanon; head -c $bytes | md5sum | sed 's/^/got /'; stty sane" Enter
	wait_screen 'md5sum' 20 && sleep 1
	head -c "$bytes" /dev/urandom | base64 -w 76 | head -c "$bytes" > "$TMP/data"
	want=$(md5sum < "$TMP/data" | cut -d' ' -f1)
	t load-buffer "$TMP/data"
	start=$(date +%s)
	t paste-buffer -t s
	if wait_screen '^got [0-9a-f]{32}' 120; then
		got=$(screen | sed -n 's/^got \([0-9a-f]*\).*/\1/p' | head -n 1)
		secs=$(( $(date +%s) - start ))
		echo "$name: $bytes bytes in ${secs}s" >&2
		[ "$got" = "$want" ] && pass "${name}_arrives_whole" ||
			fail "${name}_arrives_whole" "sent $want, the program read $got"
	else
		fail "${name}_arrives_whole" "no digest after 120 s: $(screen | tail -3)"
	fi
	t send-keys -t s 'exit' Enter
	wait_screen "^EXIT=0" 20 && pass "${name}_ends" ||
		fail "${name}_ends" "$(screen | grep -v "^$" | tail -4 | tr "\n" "|")"
	kill -TERM "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	rpid=
	cat "$TMP/relay.err" >&2
}

# tmux pastes LF as CR; the terminal's ICRNL turns it back.
paste_through clean_256k 262144 --delay 10
paste_through lossy_64k 65536 --delay 10 --loss 0.2 --dup 0.05 --reorder 0.1
