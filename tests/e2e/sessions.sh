# Sessions on this machine: moshi ls lists this user's servers (detached,
# attached, the command), moshi kill ends one or every detached one and
# leaves nothing behind, a killed server's socket is cleared, and another
# user can neither list nor kill them (the directory is 0700, the socket
# 0600, and the server checks its peer's credentials).
SUITE=sessions
. "$(dirname "$0")/../lib.sh"

mark="MOSHI_E2E=$$"
sock="moshi-sessions-$$"
other="msess$$"
export XDG_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
dir="$XDG_RUNTIME_DIR/moshi"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; pkill -f "server new .*$mark"; userdel "$other" 2>/dev/null'

ls_out() { "$MOSHI" ls > "$TMP/ls" 2>&1; }
session_ids() { ls "$dir" 2>/dev/null | grep -E '^[0-9a-f]{8}$'; }
alive1() { "$MOSHI" ls 2>/dev/null | grep -q "^$id1 "; }

expect ls_none 0 '^no sessions$' "$MOSHI" ls

start_server -- sleep 300
id1=$(session_ids | head -n 1)
ls_out
if [ -n "$id1" ] && grep -Eq "^$id1  .*detached, no client yet .*sleep 300" "$TMP/ls"; then
	pass ls_shows_detached_session
else
	fail ls_shows_detached_session "id '$id1': $(cat "$TMP/ls")"
fi
modes=$(stat -c %a "$dir" "$dir/$id1" 2>/dev/null | tr '\n' ' ')
[ "$modes" = "700 600 " ] && pass dir_0700_socket_0600 || fail dir_0700_socket_0600 "modes: $modes"

# A session with a client: attached, from where.
hand_session -- bash --norc --noprofile
ls_out
if grep -Eq "attached from 127\.0\.0\.1:[0-9]+, [0-9]+ s ago .*bash" "$TMP/ls"; then
	pass ls_shows_attached_session
else
	fail ls_shows_attached_session "$(cat "$TMP/ls")"
fi
id2=$(session_ids | grep -v "^$id1$" | head -n 1)

# Another user: their own moshi ls finds nothing of ours; ours is closed
# to them; and a connection that gets through anyway is refused.
if useradd -M -d /nonexistent -s /bin/sh "$other" 2>/dev/null; then
	theirs=$(su "$other" -s /bin/sh -c "env -u XDG_RUNTIME_DIR '$MOSHI' ls" 2>&1)
	echo "$theirs" | grep -q '^no sessions$' && pass other_user_sees_none ||
		fail other_user_sees_none "$theirs"
	su "$other" -s /bin/sh -c "XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' '$MOSHI' kill $id1" \
		> "$TMP/theirs" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && grep -Eq 'Permission denied|not a directory of this user' "$TMP/theirs" &&
	   alive1; then
		pass other_user_cannot_kill
	else
		fail other_user_cannot_kill "status $rc: $(cat "$TMP/theirs")"
	fi
	# Open the way (as a careless umask might) and try the socket itself.
	chmod 755 "$TMP" "$XDG_RUNTIME_DIR" "$dir"
	chmod 666 "$dir/$id1"
	su "$other" -s /bin/sh -c "python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b\"kill\\n\")
    print(repr(s.recv(100)))
except (ConnectionResetError, BrokenPipeError):
    print(repr(b\"\"))' '$dir/$id1'" > "$TMP/peer" 2>&1
	sleep 0.3
	chmod 700 "$TMP" "$XDG_RUNTIME_DIR" "$dir"
	chmod 600 "$dir/$id1"
	if grep -q "^b''$" "$TMP/peer" && alive1; then
		pass peer_credentials_checked
	else
		fail peer_credentials_checked "$(tail -3 "$TMP/peer" | tr '\n' '|')"
	fi
	userdel "$other" 2>/dev/null
else
	skip other_user "useradd failed"
fi

# Bad input.
expect kill_needs_an_id 2 'usage: moshi kill' "$MOSHI" kill
expect kill_bad_id 2 'an ID is eight hex digits' "$MOSHI" kill nothex
expect kill_unknown_id 1 'no session 00000000' "$MOSHI" kill 00000000
expect ls_bad_option 2 "unknown option '--bogus'" "$MOSHI" ls --bogus

# moshi kill --detached ends the detached one, not the attached one.
"$MOSHI" kill --detached > "$TMP/kd" 2>&1
gone() { ! pgrep -f "server new .*$mark sleep 300" > /dev/null && ! pgrep -f "$mark sleep 300" > /dev/null; }
for i in $(seq 1 30); do gone && break; sleep 0.1; done
if gone && [ ! -e "$dir/$id1" ] && kill -0 "$spid" 2>/dev/null && [ -e "$dir/$id2" ]; then
	pass kill_detached_leaves_attached
else
	fail kill_detached_leaves_attached "left: $(pgrep -af "$mark" | tr '\n' ' '), sockets: $(ls "$dir" | tr '\n' ' '); $(cat "$TMP/kd")"
fi

# moshi kill ID: the server, its program and its socket go; the client
# is told and exits.
"$MOSHI" kill "$id2"
for i in $(seq 1 50); do
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$spid" 2>/dev/null && ! kill -0 "$apid" 2>/dev/null && [ ! -e "$dir/$id2" ] &&
   wait_screen 'EXIT=' 50; then
	pass kill_ends_everything
else
	fail kill_ends_everything "server $(kill -0 "$spid" 2>&1 && echo alive), program $(kill -0 "$apid" 2>&1 && echo alive), sockets: $(ls "$dir"); $(shown)"
fi

# A server killed outright leaves its socket; moshi ls clears it.
start_server -- sleep 300
id3=$(session_ids | head -n 1)
kill -9 "$spid"
pkill -f "$mark sleep 300"
ls_out
if grep -q '^no sessions$' "$TMP/ls" && [ -z "$(session_ids)" ]; then
	pass stale_socket_cleared
else
	fail stale_socket_cleared "$(cat "$TMP/ls"); left: $(session_ids)"
fi

# moshi attach. A session with a client: attached by ID from a second
# terminal, the first client is told and exits 6 with a line saying so,
# the new one shows the screen at its own size, and typing works.
tmux -L "$sock" kill-server 2>/dev/null
hand_session -- bash --norc --noprofile
ida=$(ls -t "$dir" | head -n 1)
oldkey=$key
tmux -L "$sock" send-keys -t s 'echo before-attach' Enter
wait_screen '^before-attach$' 50
tmux -L "$sock" new-session -d -s taker -x 100 -y 30 \
	"XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' '$MOSHI' attach $ida; echo EXIT=\$?; sleep 60"
bscreen() { tmux -L "$sock" capture-pane -t taker -p; }
for i in $(seq 1 50); do bscreen | grep -q '^before-attach$' && break; sleep 0.1; done
if wait_screen 'EXIT=6' 50 && screen | grep -q 'taken over from this machine at [0-9:]*$'; then
	pass old_client_told_and_exits_6
else
	fail old_client_told_and_exits_6 "$(shown)"
fi
tmux -L "$sock" send-keys -t taker 'echo cols $COLUMNS' Enter
for i in $(seq 1 50); do bscreen | grep -q '^cols 100$' && break; sleep 0.1; done
if bscreen | grep -q '^before-attach$' && bscreen | grep -q '^cols 100$'; then
	pass attach_shows_screen_and_types
else
	fail attach_shows_screen_and_types "$(bscreen | grep -v '^$' | tail -4 | tr '\n' '|')"
fi

# A request that comes slowly, a byte every 250 ms, is answered, and
# the session goes on meanwhile: the server never waits for one.
python3 - "$dir/$ida" > "$TMP/slow" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
for c in b"info\n":
    s.sendall(bytes([c])); time.sleep(0.25)
d = b""
while True:
    b = s.recv(4096)
    if not b: break
    d += b
print(d.decode())
PY
slowpid=$!
sleep 0.3
tmux -L "$sock" send-keys -t taker 'echo while-asked' Enter
for i in $(seq 1 50); do bscreen | grep -q '^while-asked$' && break; sleep 0.1; done
wait "$slowpid"
if grep -q "^id $ida$" "$TMP/slow" && bscreen | grep -q '^while-asked$'; then
	pass slow_request_answered
else
	fail slow_request_answered "answer: $(tr '\n' '|' < "$TMP/slow"); $(bscreen | grep -v '^$' | tail -2 | tr '\n' '|')"
fi

# The old key is worthless: a client that still has it gets nothing, and
# its datagrams are counted as forged.
forged() { "$MOSHI" ls > /dev/null; python3 - "$dir/$ida" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"info\n")
d = b""
while True:
    b = s.recv(4096)
    if not b: break
    d += b
print([l.split()[1] for l in d.decode().splitlines() if l.startswith("forged ")][0])
PY
}
f0=$(forged)
tmux -L "$sock" new-session -d -s stale -x 80 -y 24 \
	"MOSHI_KEY=$oldkey '$MOSHI' client 127.0.0.1 $port; sleep 60"
tmux -L "$sock" send-keys -t stale 'echo with-old-key' Enter
sleep 2
f1=$(forged)
if [ "${f1:-0}" -gt "${f0:-0}" ] && ! bscreen | grep -q 'with-old-key'; then
	pass old_key_rejected_and_counted
else
	fail old_key_rejected_and_counted "forged $f0 -> $f1; b: $(bscreen | grep -v '^$' | tail -3 | tr '\n' '|') o: $(tmux -L "$sock" capture-pane -t stale -p | grep -v '^$' | tail -3 | tr '\n' '|') sessions: $(tmux -L "$sock" ls | tr '\n' '|')"
fi
tmux -L "$sock" kill-session -t stale

# Without an ID: the only detached session; with none, or with several, a
# clear message and the list.
expect attach_none_detached 1 'no detached session here' "$MOSHI" attach
expect attach_bad_id 2 'usage: moshi attach' "$MOSHI" attach --local xyz

# Kill and attach, 100 times: the server keeps the same descriptors, and
# nothing else is left (no client, no extra socket).
fds0=$(ls /proc/"$spid"/fd | wc -l)
tmux -L "$sock" kill-session -t taker
for n in $(seq 1 100); do
	tmux -L "$sock" new-session -d -s "c$n" -x 80 -y 24 \
		"XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' exec '$MOSHI' attach $ida"
	c=""
	for i in $(seq 1 50); do
		c=$(pgrep -f "^$MOSHI attach $ida") && break
		sleep 0.02
	done
	sleep 0.1
	kill -9 $c 2>/dev/null
	tmux -L "$sock" kill-session -t "c$n" 2>/dev/null
done
sleep 0.5
fds1=$(ls /proc/"$spid"/fd 2>/dev/null | wc -l)
if kill -0 "$spid" 2>/dev/null && [ "$fds1" -eq "$fds0" ] && ! pgrep -f "$MOSHI attach" > /dev/null &&
   [ "$(session_ids | wc -l)" -eq 1 ]; then
	pass hundred_attach_kill_cycles_leave_nothing
else
	fail hundred_attach_kill_cycles_leave_nothing "server $(kill -0 "$spid" 2>&1 && echo alive), fds $fds0 -> $fds1, clients $(pgrep -fc "$MOSHI attach"), sockets $(session_ids | tr '\n' ' ')"
fi
"$MOSHI" kill "$ida"

# A client killed outright (a laptop that died): moshi ls shows its
# session detached once the client has been silent SESSIONS_ATTACHED_S
# (15 s), and moshi attach with no ID takes it, screen and all.
tmux -L "$sock" kill-server 2>/dev/null
hand_session -- bash --norc --noprofile
idk=$(ls -t "$dir" | head -n 1)
tmux -L "$sock" send-keys -t s 'echo before-the-crash' Enter
wait_screen '^before-the-crash$' 50
kill -9 "$cpid"
for i in $(seq 1 250); do
	"$MOSHI" ls | grep -q "^$idk .*detached, last contact" && break
	sleep 0.1
done
ls_out
tmux -L "$sock" new-session -d -s back -x 80 -y 24 \
	"XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' '$MOSHI' attach; echo EXIT=\$?; sleep 60"
back() { tmux -L "$sock" capture-pane -t back -p; }
for i in $(seq 1 50); do back | grep -q '^before-the-crash$' && break; sleep 0.1; done
tmux -L "$sock" send-keys -t back 'echo after-the-crash' Enter
for i in $(seq 1 50); do back | grep -q '^after-the-crash$' && break; sleep 0.1; done
if grep -q "^$idk .*detached, last contact [0-9]* s ago from 127\.0\.0\.1" "$TMP/ls" &&
   back | grep -q '^before-the-crash$' && back | grep -q '^after-the-crash$'; then
	pass crashed_client_detached_then_attached
else
	fail crashed_client_detached_then_attached "$(cat "$TMP/ls") | $(back | grep -v '^$' | tail -3 | tr '\n' '|')"
fi
tmux -L "$sock" kill-session -t back
"$MOSHI" kill "$idk"

# connect mentions the detached sessions it finds, and how to attach.
start_server -- sleep 300
idd=$(ls -t "$dir" | head -n 1)
tmux -L "$sock" new-session -d -s note -x 120 -y 24 \
	"'$MOSHI' connect --local -- env $mark PS1='note\$ ' bash --norc --noprofile"
for i in $(seq 1 50); do tmux -L "$sock" capture-pane -t note -p | grep -q '^note\$' && break; sleep 0.1; done
if tmux -L "$sock" capture-pane -t note -p -J -S - |
   grep -q "detached sessions on this machine: $idd (moshi attach ID takes one over)"; then
	pass connect_mentions_detached
else
	fail connect_mentions_detached "$(tmux -L "$sock" capture-pane -t note -p -J -S - | grep -v '^$' | head -3 | tr '\n' '|')"
fi
tmux -L "$sock" send-keys -t note 'exit' Enter
"$MOSHI" kill "$idd"

# Reaping: a session made by connect --local --reap=4 says so in moshi
# ls; its client killed outright, the server ends after 4 s without it,
# its program and socket with it. (The default is a week.)
tmux -L "$sock" new-session -d -s reap -x 80 -y 24 \
	"'$MOSHI' connect --local --reap=4 -- env $mark PS1='reap\$ ' bash --norc --noprofile"
for i in $(seq 1 50); do tmux -L "$sock" capture-pane -t reap -p | grep -q '^reap\$' && break; sleep 0.1; done
ls_out
idr=$(grep 'reaped after 4 s idle' "$TMP/ls" | cut -c1-8)
rpid=$(pgrep -f "server new .*-r 4 .*$mark")
kill -9 $(pgrep -f "^$MOSHI connect --local --reap=4") 2>/dev/null
alive_then=$(kill -0 "$rpid" 2>/dev/null && echo yes)
for i in $(seq 1 150); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
if [ -n "$idr" ] && [ "$alive_then" = yes ] && ! kill -0 "$rpid" 2>/dev/null && [ ! -e "$dir/$idr" ]; then
	pass reaped_after_its_time
else
	fail reaped_after_its_time "id '$idr', server $rpid alive at the kill: $alive_then, now: $(kill -0 "$rpid" 2>/dev/null && echo alive); $(cat "$TMP/ls")"
fi
expect reap_bad_value 2 'reap takes seconds' "$MOSHI" connect --local --reap=soon

# Over ssh: a session started by moshi connect through a real sshd is
# taken over by moshi attach HOST ID from another terminal; the first
# client names the ssh client's address.
sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [ "$(id -u)" != 0 ] || [ ! -x "$sshd" ] || ! command -v ssh > /dev/null; then
	skip attach_over_ssh "needs root, sshd and ssh"
	exit 0
fi
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sshd_setup "$sport" 127.0.0.1
echo "SetEnv XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" >> "$TMP/sshd_config"
"$sshd" -f "$TMP/sshd_config" -E "$TMP/sshd.log" || { fail sshd_starts "$(cat "$TMP/sshd.log")"; exit 0; }
CLEANUP="$CLEANUP; kill \$(cat '$TMP/sshd.pid') 2>/dev/null"
sshcmd="ssh -p $sport -i $TMP/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
tmux -L "$sock" new-session -d -s first -x 80 -y 24 \
	"'$MOSHI' connect --ssh='$sshcmd' --server='$MOSHI server' $(id -un)@127.0.0.1 -- env $mark PS1='rem\$ ' bash --norc --noprofile; echo EXIT=\$?; sleep 60"
pane() { tmux -L "$sock" capture-pane -t "$1" -p; }
for i in $(seq 1 100); do pane first | grep -q '^rem\$' && break; sleep 0.1; done
tmux -L "$sock" send-keys -t first 'echo remote-before' Enter
ids=$(ls -t "$dir" | head -n 1)
sleep 0.5
tmux -L "$sock" new-session -d -s second -x 90 -y 24 \
	"'$MOSHI' attach --ssh='$sshcmd' --server='$MOSHI server' $(id -un)@127.0.0.1 $ids; echo EXIT=\$?; sleep 60"
for i in $(seq 1 100); do pane second | grep -q '^remote-before$' && break; sleep 0.1; done
for i in $(seq 1 50); do pane first | grep -q 'EXIT=6' && break; sleep 0.1; done
tmux -L "$sock" send-keys -t second 'echo cols $COLUMNS' Enter
for i in $(seq 1 50); do pane second | grep -q '^cols 90$' && break; sleep 0.1; done
if pane second | grep -q '^remote-before$' && pane second | grep -q '^cols 90$' &&
   pane first | grep -q 'taken over from 127\.0\.0\.1 at ' && pane first | grep -q 'EXIT=6'; then
	pass attach_over_ssh
else
	fail attach_over_ssh "first: $(pane first | grep -v '^$' | tail -3 | tr '\n' '|') second: $(pane second | grep -v '^$' | tail -3 | tr '\n' '|')"
fi

# The attached client dies (kill -9): moshi ls over ssh shows the session
# detached, and moshi attach HOST with no ID takes it back.
sshopts="--ssh='$sshcmd' --server='$MOSHI server'"
kill -9 $(pgrep -f "^$MOSHI attach --ssh") 2>/dev/null
for i in $(seq 1 250); do
	eval "'$MOSHI' ls $sshopts $(id -un)@127.0.0.1" 2>/dev/null | grep -q "^$ids .*detached" && break
	sleep 0.1
done
tmux -L "$sock" new-session -d -s third -x 80 -y 24 \
	"'$MOSHI' attach $sshopts $(id -un)@127.0.0.1; echo EXIT=\$?; sleep 60"
for i in $(seq 1 100); do pane third | grep -q '^cols 90$' && break; sleep 0.1; done
tmux -L "$sock" send-keys -t third 'echo third-one' Enter
for i in $(seq 1 50); do pane third | grep -q '^third-one$' && break; sleep 0.1; done
if pane third | grep -q '^cols 90$' && pane third | grep -q '^third-one$'; then
	pass crashed_then_attached_over_ssh
else
	fail crashed_then_attached_over_ssh "$(pane third | grep -v '^$' | tail -3 | tr '\n' '|')"
fi

# ls and kill of another host, through ssh as connect goes, leaving
# nothing in TMPDIR (connect's report directory is for dialling only).
mkdir "$TMP/tmpdir"
eval "TMPDIR='$TMP/tmpdir' '$MOSHI' ls $sshopts $(id -un)@127.0.0.1" > "$TMP/rls" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^$ids .*attached from 127\.0\.0\.1" "$TMP/rls"; then
	pass ls_over_ssh
else
	fail ls_over_ssh "status $rc: $(cat "$TMP/rls")"
fi
eval "TMPDIR='$TMP/tmpdir' '$MOSHI' kill $sshopts $(id -un)@127.0.0.1 $ids" > "$TMP/rkill" 2>&1
rc=$?
for i in $(seq 1 30); do [ -e "$dir/$ids" ] || break; sleep 0.1; done
if [ "$rc" -eq 0 ] && [ ! -e "$dir/$ids" ]; then
	pass kill_over_ssh
else
	fail kill_over_ssh "status $rc: $(cat "$TMP/rkill"); sockets: $(ls "$dir" | tr '\n' ' ')"
fi
[ -z "$(ls -A "$TMP/tmpdir")" ] && pass ls_kill_over_ssh_leave_nothing ||
	fail ls_kill_over_ssh_leave_nothing "$(ls -A "$TMP/tmpdir" | tr '\n' ' ')"
