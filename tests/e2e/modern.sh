# Modern terminal features through a real session (connect --local in a
# tmux pane; tmux is the user's terminal, its output recorded with
# pipe-pane): colour queries answered with the outer terminal's colours,
# synchronized output (mode 2026) never showing a half-drawn update,
# extended keys, OSC 52 for every selection and OSC 8, styled and
# coloured underlines. The application is tests/tools/termapp.py.
SUITE=modern
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip modern "needs tmux and python3"
	exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
sock="moshi-modern-$$"
mark="MOSHI_E2E_MODERN=$$"
t() { tmux -L "$sock" "$@"; }
# The client is ended first, by SIGTERM: killed with its tmux, it gets
# SIGHUP and then SIGCONT, which under LeakSanitizer (make check
# SANITIZE=1) can discard the stop its leak check waits for at exit.
end_client() {
	pkill -TERM -f "connect --local -- sh -c : $mark" 2>/dev/null
	for i in $(seq 1 30); do
		pgrep -f "connect --local -- sh -c : $mark" >/dev/null || break
		sleep 0.1
	done
	t kill-server 2>/dev/null
}
CLEANUP='end_client; pkill -f "server new .*$mark"'
app="python3 $here/tools/termapp.py"
rec="$TMP/out.vt"

# session COMMAND: `moshi connect --local` in pane s (80x24) running
# COMMAND a second after it starts; the outer terminal (tmux) has the
# colours fg #c0c0c0 on bg #102030, extended keys and the clipboard on;
# what the client writes to it is recorded in $rec.
session() {
	end_client
	sleep 0.2
	t -f /dev/null new-session -d -s boot "sleep 600" \; \
		set -g window-style 'fg=#c0c0c0,bg=#102030' \; \
		set -g extended-keys on \; set -g set-clipboard on
	: > "$rec"
	t new-session -d -s s -x 80 -y 24 \
		"'$MOSHI' connect --local -- sh -c ': $mark; sleep 1; $1; sleep 60'; echo EXIT=\$?; sleep 60"
	t pipe-pane -t s -o "cat >> '$rec'"
}
joined() { t capture-pane -p -J -t s; }
wait_joined() { # PATTERN: up to 10 s
	for i in $(seq 1 100); do
		joined | grep -Fq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# The screen as one line: a long line the application wrote may reach
# tmux as rows, not as one wrapped line.
flat() { t capture-pane -p -t s | tr -d '\n'; }
has() { # NAME TEXT: TEXT is on the screen
	if flat | grep -Fq -- "$2"; then pass "$1"; else fail "$1" "no '$2' in: $(flat | head -c 400)"; fi
}
count() { grep -aoF -- "$1" "$rec" | wc -l; }

# ---- colour queries and other answers
session "$app query"
if wait_joined "GOT "; then
	has colour_query_background ']11;rgb:1010/2020/3030'
	has colour_query_foreground ']10;rgb:c0c0/c0c0/c0c0'
	has decrqm_2026_supported '[?2026;2$y'
	has xtversion_names_moshi 'P>|moshi('
	if flat | grep -Eq '\[\?[0-9]+u'; then
		fail kitty_query_unanswered "answered, though tmux cannot send kitty keys: $(flat | head -c 400)"
	else
		pass kitty_query_unanswered
	fi
else
	fail colour_query_background "no answers: $(joined | tail -3)"
fi

# ---- synchronized output: no capture may mix two generations
session "$app sync 12"
wait_joined "top 1" || fail sync_session "nothing drawn: $(joined | tail -3)"
torn=0 n=0 seen=""
end=$(( $(date +%s) + 15 ))
while [ "$(date +%s)" -lt "$end" ]; do
	s=$(t capture-pane -p -t s)
	case "$s" in *done*) break ;; esac
	gens=$(echo "$s" | awk '/^(top|bottom) [0-9]+$/ { print $2 }' | sort -u)
	if [ "$(echo "$gens" | grep -c .)" -gt 1 ]; then
		torn=$((torn + 1))
		seen=$(echo "$gens" | tr '\n' ' ')
	fi
	n=$((n + 1))
done
echo "sync: $n captures, $torn torn" >&2
if [ "$torn" -ne 0 ]; then
	fail sync_update_never_torn "$torn of $n captures mixed generations ($seen)"
elif [ "$n" -lt 20 ]; then
	fail sync_update_never_torn "only $n captures"
else
	pass sync_update_never_torn
fi
wait_joined "done" && pass sync_updates_all_drawn || fail sync_updates_all_drawn "$(joined | tail -3)"

# An update never ended is shown after the bound all the same.
session "printf '\\033[?2026hstuck-update-shown'"
wait_joined "stuck-update-shown" && pass sync_bounded || fail sync_bounded "$(joined | tail -3)"

# ---- extended keys: asked for by the application, sent by tmux
keys_check() { # NAME MODE [WANT]: WANT exactly, or no CSI at all
	session "$app keys $2 4"
	if ! wait_joined "ready"; then
		fail "$1" "the application did not start: $(joined | tail -3)"
		return
	fi
	sleep 0.5
	for k in C-Enter S-Enter C-Tab Tab Enter; do
		t send-keys -t s "$k"
		sleep 0.1
	done
	if wait_joined "KEYS "; then
		got=$(joined | grep -o 'KEYS .*' | head -n 1)
		if [ -n "${3:-}" ]; then
			[ "$got" = "KEYS $3" ] && pass "$1" || fail "$1" "read '$got', expected 'KEYS $3'"
		else
			case "$got" in
			*'\x1b['*) fail "$1" "read '$got': extended keys" ;;
			*'\x09\x0d') pass "$1" ;;
			*) fail "$1" "read '$got', expected Tab and Enter last" ;;
			esac
		fi
	else
		fail "$1" "$(joined | tail -3)"
	fi
}
keys_check extended_keys_modify_other_keys mok2 '\x1b[13;5u\x1b[13;2u\x1b[9;5u\x09\x0d'
# Not asked for, or asked in a way the terminal (tmux) cannot send:
# nothing changes, no key comes as an extended sequence.
keys_check extended_keys_not_asked none
keys_check extended_keys_kitty_terminal_cannot kitty

# A terminal that does speak the kitty protocol (tests/tools/kittyterm.py,
# scripted): the application's request reaches it, its keys reach the
# application, and the application's query of the flags is answered.
kt=$(python3 "$here/tools/kittyterm.py" 12 "$MOSHI" connect --local -- \
	sh -c ": $mark; sleep 1; $app keys kitty 3; sleep 1; $app query; sleep 5" | tr -d ' ')
echo "$kt" | grep -qx 'asked-kitty' && pass kitty_request_reaches_terminal ||
	fail kitty_request_reaches_terminal "the client did not pass CSI = 1 u on"
case "$kt" in
*'KEYS\x1b[13;5u\x1b[105;5u\x09'*) pass kitty_keys_reach_application ;;
*) fail kitty_keys_reach_application "$(echo "$kt" | grep -o 'KEYS.*' | head -c 200)" ;;
esac
case "$kt" in
*'GOT'*'\x1b[?0u'*) pass kitty_query_answered_when_terminal_can ;;
*) fail kitty_query_answered_when_terminal_can "$(echo "$kt" | grep -o 'GOT.*' | head -c 300)" ;;
esac
case "$kt" in
*'rgb:2020/3030/4040'*) pass colour_query_from_scripted_terminal ;;
*) fail colour_query_from_scripted_terminal "$(echo "$kt" | grep -o 'GOT.*' | head -c 300)" ;;
esac

# ---- OSC 52 for every selection, large, repeated; OSC 8
session "$app clip"
if wait_joined "clip done"; then
	sleep 1
	[ "$(count ']52;c;')" -eq 2 ] && pass clipboard_c_twice ||
		fail clipboard_c_twice "$(count ']52;c;') OSC 52 for c reached the terminal"
	[ "$(count ']52;p;')" -eq 1 ] && pass clipboard_primary ||
		fail clipboard_primary "$(count ']52;p;') OSC 52 for p reached the terminal"
	big=$(grep -aoE ']52;p;[A-Za-z0-9+/=]*' "$rec" | head -n 1 | wc -c)
	[ "$big" -gt 27300 ] && pass clipboard_large ||
		fail clipboard_large "the large one came as $big bytes"
	[ "$(count ']8;;http://example.invalid/moshi')" -ge 1 ] && pass hyperlink ||
		fail hyperlink "no OSC 8 link reached the terminal"
else
	fail clipboard_c_twice "$(joined | tail -3)"
fi

# ---- styled and coloured underlines, in the form the application used
session "$app underline"
if wait_joined "underline done"; then
	sleep 0.5
	for want in '4:3' '58:2::255:0:0' '21' '58;5;33' '4:4'; do
		[ "$(count "$want")" -ge 1 ] || { fail underline_forms_reach_terminal "no '$want'"; break; }
	done
	[ "$(count '4:3')" -ge 1 ] && [ "$(count '58:2::255:0:0')" -ge 1 ] &&
		[ "$(count '58;5;33')" -ge 1 ] && [ "$(count '4:4')" -ge 1 ] &&
		pass underline_forms_reach_terminal
	cap=$(t capture-pane -e -p -t s)
	if echo "$cap" | grep -q '4:3' && echo "$cap" | grep -q '58;2;255;0;0' &&
	   echo "$cap" | grep -q '4:2' && echo "$cap" | grep -q '4:4'; then
		pass underline_styles_shown
	else
		fail underline_styles_shown "$(echo "$cap" | grep -a curly | od -c | head -5)"
	fi
else
	fail underline_forms_reach_terminal "$(joined | tail -3)"
fi
exit 0
