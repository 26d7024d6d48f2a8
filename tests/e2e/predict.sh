# Local echo through a slow link: the relay delays each way by 250 ms, so
# the server's echo of a key cannot be on screen sooner than 500 ms after
# it is typed. A character seen within 300 ms was predicted; predictions
# are underlined on such a link until the echo confirms them; one the
# application never echoes disappears again; --predict=never shows none.
# And at 100 ms each way: a word typed shows before its echo could, and
# the final screen equals the program's. And on a fast link whose server
# side goes dark: a typed key shows once its echo is late.
SUITE=predict
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip predict "tmux is not installed"
	exit 0
fi
sock="moshi-predict-$$"
mark="MOSHI_E2E_PREDICT=$$"
t() { tmux -L "$sock" "$@"; }
rpid=
CLEANUP='t kill-server 2>/dev/null; [ -n "$rpid" ] && kill $rpid 2>/dev/null; pkill -f "server new .*$mark"'
screen() { t capture-pane -p -t s; }
# Poll for a pattern for up to MS milliseconds.
seen_within() { # PATTERN MS
	end=$(( $(date +%s%3N) + $2 ))
	while [ "$(date +%s%3N)" -lt "$end" ]; do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.02
	done
	return 1
}

session() { # MODE
	CLIENT_OPTS="--predict=$1"
	relayed_session 'pr$ ' --delay 250
	seen_within '^pr\$' 10000
}

session always || { fail always_session "$(screen | head -3)"; exit 0; }
sleep 1.5 # a few round trips: the RTT estimate settles
t send-keys -t s -l 'e'
seen_within '^pr\$ e' 300 && pass typed_key_shown_before_the_echo ||
	fail typed_key_shown_before_the_echo "$(screen | head -1)"
t send-keys -t s -l 'c'
if seen_within '^pr\$ ec' 300 && t capture-pane -p -e -t s | head -1 | grep -q '4m[a-z]*c'; then
	pass unconfirmed_underlined_on_a_slow_link
else
	fail unconfirmed_underlined_on_a_slow_link "$(t capture-pane -p -e -t s | head -1 | cat -v)"
fi
sleep 1.5
t capture-pane -p -e -t s | head -1 | grep -q '4m' &&
	fail confirmed_not_underlined "$(t capture-pane -p -e -t s | head -1 | cat -v)" ||
	pass confirmed_not_underlined
# A program that stops echoing: a guess made in a confirmed epoch shows,
# then goes once the server's screen (without it) has applied the key.
t send-keys -t s C-u "stty -icanon; head -c 2 >/dev/null; stty -echo; cat >/dev/null" Enter
sleep 2
t send-keys -t s -l 'ab'
seen_within '^ab' 2000
sleep 2
t send-keys -t s -l 'Q'
seen_within 'Q' 300 && pass guess_shown_in_a_confirmed_epoch ||
	fail guess_shown_in_a_confirmed_epoch "$(screen | head -3)"
sleep 2
screen | grep -q "Q" && fail wrong_guess_removed "$(screen | head -4 | tr "\n" "|")" ||
	pass wrong_guess_removed
t send-keys -t s C-c
sleep 1
t send-keys -t s 'stty sane; exit' Enter
seen_within '^EXIT=0' 5000 || fail always_ends "$(screen | tail -3)"

session never || { fail never_session "$(screen | head -3)"; exit 0; }
sleep 1.5
t send-keys -t s -l 'e'
seen_within '^pr\$ e' 300 && fail never_shows_no_guess "$(screen | head -1)" ||
	pass never_shows_no_guess
seen_within '^pr\$ e' 3000 && pass never_echo_arrives || fail never_echo_arrives "$(screen | head -1)"
t send-keys -t s C-u 'exit' Enter
seen_within '^EXIT=0' 5000 && pass sessions_end || fail sessions_end "$(screen | tail -3)"

# At 100 ms each way, the default (adaptive) display: a word typed a key
# per 50 ms is on screen whole within 150 ms of its last key, before that
# key's echo could be back (200 ms); and once the command has run, the
# client shows what the same keys make bash show in a plain tmux pane
# (the program run directly: what the server's screen holds).
CLIENT_OPTS=
relayed_session 'pr$ ' --delay 100
seen_within '^pr\$' 10000 || { fail delay100_session "$(screen | head -3)"; exit 0; }
t new-session -d -s d -x 80 -y 24 "env PS1='pr\$ ' bash --norc --noprofile"
sleep 1.5
for k in e c h o; do
	t send-keys -t s -l "$k"
	sleep 0.05
done
seen_within '^pr\$ echo' 150 && pass delay100_word_shown_before_its_echo ||
	fail delay100_word_shown_before_its_echo "$(screen | head -1)"
t send-keys -t s -l ' hi'
t send-keys -t s Enter
t send-keys -t d -l 'echo hi'
t send-keys -t d Enter
sleep 2
direct=$(t capture-pane -p -e -t d)
moshi=$(t capture-pane -p -e -t s)
[ "$moshi" = "$direct" ] && pass delay100_final_screen_equals_the_programs ||
	fail delay100_final_screen_equals_the_programs "moshi: $(echo "$moshi" | head -3 | cat -v | tr '\n' '|') direct: $(echo "$direct" | head -3 | cat -v | tr '\n' '|')"
t send-keys -t s 'exit' Enter
seen_within '^EXIT=0' 5000 || fail delay100_ends "$(screen | tail -3)"

# A fast link (no delay), where adaptive display hides guesses: while the
# server's datagrams are blacked out (the relay's SIGUSR2), a typed key's
# echo cannot come, and its guess shows once it is PREDICT_LATE_MS old,
# not underlined, before the glitch rule (250 ms) would show it
# underlined. Once the link is back the echo takes its place.
relayed_session 'pr$ '
seen_within '^pr\$' 10000 || { fail late_session "$(screen | head -3)"; exit 0; }
sleep 1
t send-keys -t s -l 'ab'
seen_within '^pr\$ ab' 3000
sleep 0.5
kill -USR2 "$rpid"
sleep 0.1
t send-keys -t s -l 'c'
late=
end=$(( $(date +%s%3N) + 1000 ))
while [ "$(date +%s%3N)" -lt "$end" ]; do
	line=$(t capture-pane -p -e -t s | head -1)
	case "$line" in
	*abc*) case "$line" in *4m*) ;; *) late=yes; break ;; esac ;;
	esac
	sleep 0.01
done
[ -n "$late" ] && pass fast_link_late_guess_shown_not_underlined ||
	fail fast_link_late_guess_shown_not_underlined "$(t capture-pane -p -e -t s | head -1 | cat -v)"
kill -USR2 "$rpid"
sleep 1.5
line=$(t capture-pane -p -e -t s | head -1)
case "$line" in
*4m*) fail fast_link_echo_replaces_the_guess "$(echo "$line" | cat -v)" ;;
*abc*) pass fast_link_echo_replaces_the_guess ;;
*) fail fast_link_echo_replaces_the_guess "$(echo "$line" | cat -v)" ;;
esac
t send-keys -t s C-u 'exit' Enter
seen_within '^EXIT=0' 5000 || fail late_ends "$(screen | tail -3)"
