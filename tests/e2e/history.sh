# Native scrollback: what a session prints lands in the terminal's own
# history (a tmux pane's, here), compared with the same output printed
# directly in another pane: plain lines in order and once, colours, a
# line the remote terminal wrapped joined again (capture-pane -J), wide
# and combining characters, nothing from the alternate screen, ED 3
# clearing it, a flood
# with the lines past the server's bound replaced by one marker line, and
# the last screen left in place after the session.
SUITE=history
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip history "tmux is not installed"
	exit 0
fi
sock="moshi-hist-$$"
t() { tmux -L "$sock" "$@"; }
mark="MOSHI_E2E=$$"
CLEANUP='t kill-server 2>/dev/null; pkill -f "server new .*$mark"'

hist() { p=$1; shift; t capture-pane -t "$p" -p -J -S - "$@"; }
screen() { t capture-pane -t m -p; }
wait_screen() { # PATTERN [TENTHS]
	for i in $(seq 1 "${2:-100}"); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# wait_hist PANE PATTERN TENTHS: the pane's history shows it
wait_hist() {
	for i in $(seq 1 "$3"); do
		hist "$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# Pane m runs moshi, pane d the same shell directly. The server keeps its
# default 10,000 lines of history, which the flood below goes past; the
# panes keep 100,000.
t -f /dev/null new-session -d -s boot "sleep 600" \; set-option -g history-limit 100000
t new-session -d -s m -x 80 -y 24 \
	"env PS1='moshi\$ ' HOME='$TMP' '$MOSHI' connect --local -- env $mark bash --norc --noprofile; echo EXIT=\$?; sleep 60"
t new-session -d -s d -x 80 -y 24 "env PS1='moshi\$ ' bash --norc --noprofile"
if ! wait_screen '^moshi\$'; then
	fail session_starts "no prompt: $(screen | head -5)"
	exit 0
fi
pass session_starts

both() { t send-keys -t m "$1" Enter; t send-keys -t d "$1" Enter; }

# eventually TENTHS COMMAND...: up to TENTHS tenths of a second for COMMAND to
# succeed (the history follows the screen by a round trip or a few).
eventually() {
	n=$1
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Plain lines: every one in the history, in order, once.
both 'seq 1 500; echo END-SEQ'
seq_ok() {
	hist m | grep -E '^[0-9]+$' > "$TMP/m.seq"
	seq 1 500 | cmp -s - "$TMP/m.seq"
}
if eventually 100 seq_ok; then
	pass seq_500_in_history
else
	fail seq_500_in_history "$(wc -l < "$TMP/m.seq") numeric lines; first difference: $(seq 1 500 | diff - "$TMP/m.seq" | head -3 | tr '\n' ' ')"
fi

# Colours, a long line the remote terminal wrapped, wide and combining
# characters, pushed off the screen: the same in both histories.
both "printf '\\033[1;31mred\\033[m plain \\033[4mul\\033[m\\n'; printf 'x%.0s' \$(seq 1 190); echo; printf '\\344\\270\\255\\346\\226\\207 e\\314\\201 wide\\n'; seq 1 30; echo END-MIX"
strip() { sed -n '/^moshi\$ printf/,/^END-MIX$/p'; }
mix_same() {
	hist m -e | strip > "$TMP/m.mix"
	hist d -e | strip > "$TMP/d.mix"
	[ -s "$TMP/d.mix" ] && cmp -s "$TMP/m.mix" "$TMP/d.mix"
}
if eventually 100 mix_same; then
	pass colours_wraps_wide_same_as_direct
else
	fail colours_wraps_wide_same_as_direct "$(diff "$TMP/d.mix" "$TMP/m.mix" | head -6 | cat -v | tr '\n' '|')"
fi
hist m | grep -Eq '^x{190}$' && pass wrapped_line_joined ||
	fail wrapped_line_joined "$(hist m | grep -E '^x+' | head -2 | tr '\n' '|')"

# The alternate screen stays out of the history.
both "printf '\\033[?1049h'; for i in \$(seq 1 60); do echo ALT\$i; done; printf '\\033[?1049l'; echo END-ALT"
wait_screen '^END-ALT$'
sleep 1
if hist m | grep -q '^ALT'; then
	fail alternate_screen_kept_out "$(hist m | grep -c '^ALT') lines of it in the history"
else
	pass alternate_screen_kept_out
fi

# ESC [ 3 J (the end of what clear prints) clears the history, as over
# ssh: nothing printed before it stays, what comes after it does.
both "seq 1 40 | sed s/^/PRE/; printf '\\033[H\\033[2J\\033[3J'; seq 1 30 | sed s/^/POST/; echo END-CLEAR"
cleared() { # PANE
	hist "$1" > "$TMP/$1.clear"
	grep -q '^END-CLEAR$' "$TMP/$1.clear" &&
		! grep -q -e '^PRE' -e '^END-SEQ$' "$TMP/$1.clear" &&
		[ "$(grep -c '^POST' "$TMP/$1.clear")" -eq 30 ]
}
if ! eventually 50 cleared d; then
	fail history_cleared_by_ed3 "the test is wrong: tmux kept $(grep -c -e '^PRE' -e '^END-SEQ$' "$TMP/d.clear") lines"
elif eventually 100 cleared m; then
	pass history_cleared_by_ed3
else
	fail history_cleared_by_ed3 "$(grep -c -e '^PRE' -e '^END-SEQ$' "$TMP/m.clear") lines from before the clear, $(grep -c '^POST' "$TMP/m.clear") of 30 after"
fi

# A resize while lines are printed: the lines before, during and after
# it, and a line wrapped at the new width, pushed into the history, as in
# the pane without moshi.
both "for i in \$(seq 1 40); do echo RS\$i; sleep 0.05; done; printf 'y%.0s' \$(seq 1 150); echo; echo END-RS; seq 1 30"
sleep 1
t resize-window -t m -x 60
t resize-window -t d -x 60
resized_same() {
	hist m | sed -n '/^RS1$/,/^END-RS$/p' > "$TMP/m.rs"
	hist d | sed -n '/^RS1$/,/^END-RS$/p' > "$TMP/d.rs"
	grep -q '^END-RS$' "$TMP/d.rs" && cmp -s "$TMP/m.rs" "$TMP/d.rs"
}
if eventually 100 resized_same && grep -Eq '^y{150}$' "$TMP/m.rs"; then
	pass resize_mid_stream_same_as_direct
else
	fail resize_mid_stream_same_as_direct "$(diff "$TMP/d.rs" "$TMP/m.rs" | head -6 | tr '\n' '|')"
fi
t resize-window -t m -x 80
t resize-window -t d -x 80

# A flood past the server's 10,000 lines: the last lines arrive, the ones
# it dropped are one marker line, and the screen keeps up.
t send-keys -t m 'seq 1 60000; echo END-FLOOD' Enter
if wait_hist m '^END-FLOOD$' 600; then
	pass flood_reaches_the_end
else
	fail flood_reaches_the_end "$(screen | tail -3 | tr '\n' '|')"
fi
if hist m | grep -Eq 'moshi: [0-9]+ lines not kept'; then
	pass flood_marker_line
else
	fail flood_marker_line "no marker: $(hist m | grep -n '^1$\|lines not' | tail -3 | tr '\n' '|')"
fi
# The server's last 10,000 lines all arrive, and what came before them
# (what the history could send while the flood went on) is in order,
# with a marker wherever lines were dropped.
flood_ok() {
	hist m | sed -n '/lines not kept/,/^END-FLOOD$/p' | grep -E '^[0-9]+$' > "$TMP/m.flood"
	tail -n 10000 "$TMP/m.flood" > "$TMP/m.tail"
	seq 50001 60000 | cmp -s - "$TMP/m.tail" &&
		sort -n -c -u "$TMP/m.flood" 2>/dev/null
}
if eventually 300 flood_ok; then
	pass flood_last_lines_whole_and_in_order
else
	fail flood_last_lines_whole_and_in_order "$(wc -l < "$TMP/m.flood") lines after the marker, the last 10,000 from $(head -n 1 "$TMP/m.tail") to $(tail -n 1 "$TMP/m.tail")"
fi

# After the session the last screen stays, the prompt below it.
t send-keys -t m 'echo LAST-WORDS; exit' Enter
if wait_screen 'EXIT=0' 100 && screen | grep -q '^LAST-WORDS$'; then
	pass last_screen_stays
else
	fail last_screen_stays "$(screen | tail -5 | tr '\n' '|')"
fi
t kill-server 2>/dev/null

# Lines printed while the path is down (a 20 s blackout of the test
# relay) arrive once it is back: all of them, in order, none twice.
sock="moshi-hist-r-$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; pkill -f "server new .*$mark"; [ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null'
screen() { tmux -L "$sock" capture-pane -t s -p; }
relayed_session 'out$ ' --delay 20 --blackout-both
if ! wait_screen '^out\$' 100; then
	fail outage_lines_arrive "no prompt: $(shown)"
	exit 0
fi
tmux -L "$sock" send-keys -t s 'sleep 2; seq 1 2000; echo END-OUT' Enter
sleep 0.5
kill -USR2 "$rpid" # the path goes down
sleep 20
kill -USR2 "$rpid" # and comes back
out_ok() {
	tmux -L "$sock" capture-pane -t s -p -J -S - | grep -E '^[0-9]+$' > "$TMP/out.seq"
	seq 1 2000 | cmp -s - "$TMP/out.seq"
}
if eventually 300 out_ok; then
	pass outage_lines_arrive_in_order_once
else
	fail outage_lines_arrive_in_order_once "$(wc -l < "$TMP/out.seq") numeric lines; $(seq 1 2000 | diff - "$TMP/out.seq" | head -3 | tr '\n' ' ')"
fi
tmux -L "$sock" send-keys -t s 'exit' Enter
wait_screen 'EXIT=' 100
