# moshi connect through a real sshd, started here on a loopback port with
# throwaway keys (its AuthorizedKeysFile is in this test's own directory:
# nobody's ~/.ssh is touched). The remote's moshi is this build, named
# with --server (self-upload is not built yet).
SUITE=ssh
. "$(dirname "$0")/../lib.sh"

sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [ "$(id -u)" != 0 ] || [ ! -x "$sshd" ] || ! command -v ssh >/dev/null ||
   ! command -v tmux >/dev/null; then
	skip connect_over_ssh "needs root, sshd, ssh and tmux (apt-get install openssh-server tmux)"
	exit 0
fi
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/userkey"
cp "$TMP/userkey.pub" "$TMP/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$TMP/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
mkdir -p /run/sshd
"$sshd" -f "$TMP/sshd_config" -E "$TMP/sshd.log" || { fail sshd_starts "$(cat "$TMP/sshd.log")"; exit 0; }
sock="moshi-ssh-$$"
mark="MOSHI_E2E_SSH=$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; kill $(cat "$TMP/sshd.pid") 2>/dev/null; pkill -f "server new .*$mark"'
sshcmd="ssh -p $port -i $TMP/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
screen() { tmux -L "$sock" capture-pane -t s -p; }
wait_screen() {
	for i in $(seq 1 80); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

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
wait_screen '^EXIT=1' && screen | grep -q 'before a MOSHI CONNECT line' &&
	pass missing_server_reported || fail missing_server_reported "$(screen | grep -v '^$' | head -5)"
