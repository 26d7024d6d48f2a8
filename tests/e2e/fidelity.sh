# Screen fidelity: the same programs and the same keys in two tmux panes of
# the same size, one running them directly and one through a moshi
# session (connect --local). After every step, once the direct pane has
# settled, the moshi pane must show exactly the same thing:
# `capture-pane -e -p` (characters, colours, attributes) compared whole.
#
# Programs: less on a long file, man on moshi's own page, a colour test
# (16, 256 and true colours, every attribute, underline styles and
# colours), bash line editing on long
# wrapped lines, vim and nano when installed, UTF-8 with wide characters.
SUITE=fidelity
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip fidelity "tmux is not installed"
	exit 0
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
sock="moshi-fid-$$"
mark="MOSHI_E2E_FID=$$"
t() { tmux -L "$sock" "$@"; }
CLEANUP='t kill-server 2>/dev/null; pkill -f "server new .*$mark"'

# Both panes: the same shell, environment and directory.
shell="env $mark TERM=xterm-256color LC_ALL=C.UTF-8 HOME='$TMP' PS1='fid\$ ' bash --norc --noprofile"
cd "$TMP" || exit 1
t -f /dev/null new-session -d -s d -x 80 -y 24 "$shell"
t new-session -d -s m -x 80 -y 24 "env HOME='$TMP' '$MOSHI' connect --local -- $shell"

cap() { t capture-pane -e -p -N -t "$1"; }
# Two captures show the same screen when they are identical, or when
# replaying both (characters and SGR, through term_dump --capture) gives
# the same cells. tmux's captures of one screen can differ in two ways
# that show nothing: a line ends with the SGR changes of cells tmux still
# counts as used (a row blanked by EL after its text rather than before),
# and those changes then lead the next line; and a cell erased with a
# background colour (EL, ECH) is not captured at all, while the same
# cell written as a coloured space is. So a blank past a line's captured
# text (term_dump gives it the background 2010203) matches any blank
# cell of the default foreground and no attributes.
same_screen() { # FILE FILE
	cmp -s "$1" "$2" && return 0
	for f in "$1" "$2"; do
		"$OUT/tools/term_dump" --capture 80 24 "$f" | sed '/^cursor /d' > "$f.cells"
	done
	awk -F'|' '
		NR == FNR { a[FNR] = $0; n = FNR; next }
		{
			m = FNR
			if ($0 == a[FNR]) next
			split(a[FNR], o, "|")
			blank = ($1 == " " && $2 == "0" && $4 == "0" && o[1] == " " && o[2] == "0" && o[4] == "0")
			if (blank && ($3 == "2010203" || o[3] == "2010203")) next
			bad = 1
		}
		END { exit (bad || m != n) }' "$1.cells" "$2.cells"
}
settled() { # wait until the direct pane stops changing (up to 10 s)
	prev=$(cap d)
	for i in $(seq 1 40); do
		sleep 0.25
		cur=$(cap d)
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
	done
	return 1
}
both() { t send-keys -t d "$@"; t send-keys -t m "$@"; }
step() { # NAME KEYS...: send, then compare
	name=$1; shift
	[ $# -gt 0 ] && both "$@"
	settled
	cap d > "$TMP/d.txt"
	for i in $(seq 1 50); do
		cap m > "$TMP/m.txt"
		same_screen "$TMP/d.txt" "$TMP/m.txt" && break
		sleep 0.1
	done
	if same_screen "$TMP/d.txt" "$TMP/m.txt"; then
		pass "$name"
	else
		fail "$name" "screens differ (< direct, > moshi):
$(diff "$TMP/d.txt.cells" "$TMP/m.txt.cells" | head -12)"
	fi
}
wait_prompt() {
	for i in $(seq 1 100); do
		cap m | grep -q '^fid\$' && return 0
		sleep 0.1
	done
	return 1
}
wait_prompt || { fail session_starts "$(cap m | head -5)"; exit 0; }
step prompt

seq -f 'line %g of a long file, with some text to fill it out' 1 2000 > "$TMP/long.txt"
step less_opens "less long.txt" Enter
step less_pages Space Space
step less_back b
step less_search "/line 1234" Enter
step less_end G
step less_quit q

step man_page "MANWIDTH=80 man -l '$here/moshi.1'" Enter
step man_scrolls Space Space
step man_quit q

cat > "$TMP/colours.sh" <<'SH'
clear
for i in 0 1 2 3 4 5 6 7; do printf '\033[3%dm3%d\033[4%dm4%d\033[9%dm9%d\033[10%dm10%d\033[m ' $i $i $i $i $i $i $i $i; done; echo
i=0; while [ $i -lt 256 ]; do printf '\033[38;5;%dm%3d\033[48;5;%dm \033[m' $i $i $((255 - i)); i=$((i + 1)); [ $((i % 16)) = 0 ] && echo; done
for r in 0 64 128 192 255; do printf '\033[38;2;%d;100;50mrgb%d\033[48;2;10;%d;200m#\033[m ' $r $r $r; done; echo
for a in 1 2 3 4 5 7 8 9; do printf '\033[%dmattr%d\033[m ' $a $a; done; echo
printf '\033[1;3;4;31;47mall at once\033[22;23;24mnone again\033[m\n'
printf '\033[44m\033[Kblue to the end\033[m\n'
printf '\033[4:3;58:2::255:0:0mcurly\033[4:2;58;5;33mdouble\033[4:4;59mdotted\033[4:5mdashed\033[21mtwo\033[m\n'
SH
step colours "sh colours.sh" Enter

long=$(printf 'word%03d ' $(seq 1 40))
step bash_long_line "clear" Enter "echo $long"
step bash_home C-a
step bash_word_right M-f M-f
step bash_insert "INSERTED"
step bash_end C-e
step bash_rubout BSpace BSpace BSpace BSpace BSpace
step bash_history_run Enter
step bash_history_recall Up
step bash_kill_line C-a C-k
step bash_printf_wide "printf '%s\\n' '日本語の文字 wide: ａｂｃ, combining: e\\xcc\\x81'" Enter

if command -v vim >/dev/null 2>&1; then
	step vim_opens "vim -u NONE -N -n -i NONE long.txt" Enter
	step vim_end G
	step vim_insert "O" "new line from vim" Escape
	step vim_top g g
	step vim_split ":split" Enter
	step vim_quit ":qa!" Enter
else
	skip vim "vim is not installed"
fi
if command -v nano >/dev/null 2>&1; then
	step nano_opens "nano -I long.txt" Enter
	step nano_page_down C-v
	step nano_type "typed in nano"
	step nano_quit C-x n
else
	skip nano "nano is not installed"
fi
step shell_exit "clear" Enter
both 'exit' Enter
