# moshi connect through a real sshd, started here on a loopback port with
# throwaway keys (its AuthorizedKeysFile is in this test's own directory:
# nobody's ~/.ssh is touched). First the remote's moshi is this build,
# named with --server; then two throwaway users with fresh homes and no
# moshi on PATH get it by self-upload (one of them on a host that calls
# itself aarch64, which must refuse).
SUITE=ssh
. "$(dirname "$0")/../lib.sh"

sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [ "$(id -u)" != 0 ] || [ ! -x "$sshd" ] || ! command -v ssh >/dev/null ||
   ! command -v tmux >/dev/null; then
	skip connect_over_ssh "needs root, sshd, ssh and tmux (apt-get install openssh-server tmux)"
	exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sshd_setup "$port" 127.0.0.1
# Two throwaway users for the self-upload: fresh homes, no moshi on PATH
# (the first finds a moshi of another version there; the second, a uname
# that says aarch64). "*" is a password nobody has, but not a locked one.
up="mup$$" arch="march$$"
uphome=$(mktemp -d /tmp/moshi-home.XXXXXX) archhome=$(mktemp -d /tmp/moshi-home.XXXXXX)
drop_users() {
	userdel "$up" 2>/dev/null; userdel "$arch" 2>/dev/null
	rm -rf "$uphome" "$archhome"
}
mkdir -p "$TMP/oldpath" "$TMP/archpath"
printf '#!/bin/sh\necho "moshi 0.0.1 (an old one)"\n' > "$TMP/oldpath/moshi"
printf '#!/bin/sh\n[ "$1" = -m ] && echo aarch64 || exec /bin/uname "$@"\n' > "$TMP/archpath/uname"
chmod 755 "$TMP/oldpath/moshi" "$TMP/archpath/uname"
users_ok=1
for u in "$up:$uphome" "$arch:$archhome"; do
	useradd -M -d "${u#*:}" -s /bin/sh "${u%%:*}" && usermod -p '*' "${u%%:*}" &&
		chown "${u%%:*}" "${u#*:}" || users_ok=0
done
cat >> "$TMP/sshd_config" <<CONF
Match User $up
	SetEnv PATH=$TMP/oldpath:/usr/bin:/bin
Match User $arch
	SetEnv PATH=$TMP/archpath:/usr/bin:/bin
CONF
"$sshd" -f "$TMP/sshd_config" -E "$TMP/sshd.log" || { fail sshd_starts "$(cat "$TMP/sshd.log")"; exit 0; }
sock="moshi-ssh-$$"
mark="MOSHI_E2E_SSH=$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; kill $(cat "$TMP/sshd.pid") 2>/dev/null; pkill -f "server new .*$mark"; drop_users'
sshcmd="ssh -p $port -i $TMP/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
WAIT_TENTHS=80

tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
	"'$MOSHI' connect --ssh='$sshcmd' --server='$MOSHI server' $(id -un)@127.0.0.1 -- env $mark PS1='remote\$ ' bash --norc --noprofile; echo EXIT=\$?; sleep 60"
wait_screen '^remote\$' && pass connect_over_ssh ||
	fail connect_over_ssh "$(screen | grep -v '^$' | head -5)"
tmux -L "$sock" send-keys -t s 'echo "over ssh: $SSH_CONNECTION"' Enter
wait_screen "^over ssh: 127.0.0.1 [0-9]+ 127.0.0.1 $port" && pass runs_in_the_ssh_session ||
	fail runs_in_the_ssh_session "$(screen | grep -v '^$' | head -5)"
tmux -L "$sock" send-keys -t s 'exit' Enter
wait_screen '^EXIT=0' && pass exit_status_0 || fail exit_status_0 "$(screen | grep -v '^$' | tail -3)"
sleep 0.5
n=$(pgrep -f "server new .*$mark" | wc -l)
[ "$n" -eq 0 ] && pass no_server_left || fail no_server_left "$n left"

# A server that cannot start: the error says so.
tmux -L "$sock" kill-server 2>/dev/null
sleep 0.2
tmux -L "$sock" -f /dev/null new-session -d -s s -x 100 -y 24 \
	"'$MOSHI' connect --ssh='$sshcmd' --server=/nonexistent/moshi 127.0.0.1; echo EXIT=\$?; sleep 60"
wait_screen '^EXIT=3' && screen | tr -d '\n' | grep -q 'exited with status 127 before the server started' &&
	pass missing_server_reported || fail missing_server_reported "$(screen | grep -v '^$' | head -5)"

# Self-upload: no --server, a fresh home, only an old moshi on PATH.
upload_session() { # USER HOST-OPTIONS...: a session as USER, no --server
	u=$1; shift
	tmux -L "$sock" kill-server 2>/dev/null
	sleep 0.2
	tmux -L "$sock" -f /dev/null new-session -d -s s -x 120 -y 24 \
		"'$MOSHI' connect --ssh='$sshcmd' $* $u@127.0.0.1 -- env $mark PS1='up\$ ' sh; echo EXIT=\$?; sleep 60"
}
if [ "$users_ok" != 1 ]; then
	fail upload_users "useradd failed"
else
	upload_session "$up"
	if wait_screen '^up\$'; then
		tmux -L "$sock" send-keys -t s 'echo "I am $(id -un) in $HOME"' Enter
		wait_screen "^I am $up in $uphome" && pass upload_session_runs ||
			fail upload_session_runs "$(screen | grep -v '^$' | head -5)"
		tmux -L "$sock" send-keys -t s 'exit' Enter
		wait_screen '^EXIT=0' && pass upload_session_ends ||
			fail upload_session_ends "$(screen | grep -v '^$' | tail -3)"
		# (what was on the screen before the session is in the
		# terminal's history by now, as it would be over ssh)
		tmux -L "$sock" capture-pane -t s -p -S - |
			grep -q "^moshi: uploading moshi [0-9.]* ([0-9]* KB) to $up@127.0.0.1" &&
			pass upload_says_so ||
			fail upload_says_so "$(tmux -L "$sock" capture-pane -t s -p -S - | grep -v '^$' | head -5)"
	else
		fail upload_session_runs "$(screen | grep -v '^$' | head -8)"
	fi
	ver=$("$MOSHI" --version | cut -d' ' -f2)
	cached="$uphome/.cache/moshi/moshi-$ver"
	cmp -s "$MOSHI" "$cached" && pass uploaded_binary_is_this_one ||
		fail uploaded_binary_is_this_one "$(ls -la "$uphome/.cache/moshi" 2>&1)"
	# A second session uses the uploaded copy: no new upload.
	upload_session "$up"
	if wait_screen '^up\$'; then
		tmux -L "$sock" send-keys -t s 'exit' Enter
		wait_screen '^EXIT=0'
		tmux -L "$sock" capture-pane -t s -p -S - | grep -q 'uploading' &&
			fail second_session_reuses_upload "uploaded again" ||
			pass second_session_reuses_upload
	else
		fail second_session_reuses_upload "$(screen | grep -v '^$' | head -8)"
	fi
	# --no-upload with nothing there: a clear refusal.
	rm -rf "$uphome/.cache"
	upload_session "$up" --no-upload
	wait_screen '^EXIT=3' && screen | grep -q "has no moshi $ver .*--no-upload" &&
		pass no_upload_refuses || fail no_upload_refuses "$(screen | grep -v '^$' | head -5)"
	[ ! -e "$uphome/.cache/moshi/moshi-$ver" ] && pass no_upload_uploads_nothing ||
		fail no_upload_uploads_nothing "$(ls -la "$uphome/.cache/moshi")"
	# Another machine type: refused before anything is sent.
	upload_session "$arch"
	wait_screen '^EXIT=3' && screen | grep -q "is a aarch64 machine and this moshi is built for" &&
		pass other_arch_refused || fail other_arch_refused "$(screen | grep -v '^$' | head -5)"
	[ ! -d "$archhome/.cache/moshi" ] || [ -z "$(ls "$archhome/.cache/moshi")" ] &&
		pass other_arch_nothing_uploaded ||
		fail other_arch_nothing_uploaded "$(ls -la "$archhome/.cache/moshi")"
	# ls and kill of that host upload moshi as connect does, and reach
	# the session that connect made.
	rm -rf "$uphome/.cache"
	"$MOSHI" ls --ssh="$sshcmd" "$up@127.0.0.1" > "$TMP/upls" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^no sessions$' "$TMP/upls" &&
	   grep -q "^moshi: uploading moshi" "$TMP/upls" && cmp -s "$MOSHI" "$cached"; then
		pass ls_over_ssh_uploads
	else
		fail ls_over_ssh_uploads "status $rc: $(cat "$TMP/upls")"
	fi
	upload_session "$up"
	wait_screen '^up\$'
	updir="/tmp/moshi-$(id -u "$up")"
	sid=$(ls "$updir" 2>/dev/null | grep -E '^[0-9a-f]{8}$' | head -n 1)
	"$MOSHI" ls --ssh="$sshcmd" "$up@127.0.0.1" > "$TMP/upls" 2>&1
	rc=$?
	if [ -n "$sid" ] && [ "$rc" -eq 0 ] && grep -q "^$sid .*attached from 127\.0\.0\.1.* sh" "$TMP/upls" &&
	   ! grep -q 'uploading' "$TMP/upls"; then
		pass ls_over_ssh_lists_the_session
	else
		fail ls_over_ssh_lists_the_session "id '$sid', status $rc: $(cat "$TMP/upls")"
	fi
	"$MOSHI" kill --ssh="$sshcmd" "$up@127.0.0.1" "$sid" > "$TMP/upkill" 2>&1
	rc=$?
	wait_screen '^EXIT='
	if [ -n "$sid" ] && [ "$rc" -eq 0 ] && [ ! -e "$updir/$sid" ] &&
	   ! pgrep -f "server new .*$mark" > /dev/null; then
		pass kill_over_ssh_ends_it
	else
		fail kill_over_ssh_ends_it "status $rc: $(cat "$TMP/upkill"); left: $(ls "$updir" 2>&1 | tr '\n' ' ')"
	fi
	rm -rf "$updir"
fi
n=$(pgrep -f "server new .*$mark" | wc -l)
[ "$n" -eq 0 ] && pass no_server_left_after_uploads || fail no_server_left_after_uploads "$n left"
