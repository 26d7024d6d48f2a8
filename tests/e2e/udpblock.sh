# When UDP is blocked: a network namespace (10.204.0.2, a blackhole route
# for anything else there) whose sshd is reachable but whose nftables
# drop UDP to and from the server's ports while the set @blocked holds
# them. moshi connect, with no option, comes up by itself over the ssh
# connection; typing and a flood work; once the rule is lifted the
# session moves back to UDP (a counter of the UDP the server takes shows
# it flowing) within 15 s; when UDP is blocked again it returns to ssh,
# and a relay whose ssh is killed is started again. --carrier=udp keeps
# the old way: nothing but UDP, and the no-contact failure; --carrier=ssh
# keeps to ssh though UDP is open.
SUITE=udpblock
. "$(dirname "$0")/../lib.sh"

netns_suite_or_skip
ns="moshiudp$$" vh="mu$$h" vn="mu$$n"
sock="moshi-udpblock-$$"
mark="MOSHI_E2E_UDPBLOCK=$$"
export XDG_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; pkill -f "$mark"; pkill -f "moshi relay"; [ -f "$TMP/sshd.pid" ] && kill $(cat "$TMP/sshd.pid") 2>/dev/null; ip netns del "$ns" 2>/dev/null; ip link del "$vh" 2>/dev/null; ip route del blackhole 10.204.9.9/32 2>/dev/null'
in_ns() { ip netns exec "$ns" "$@"; }

netns_pair "$ns" "$vh" "$vn" 10.204.0.1 10.204.0.2 &&
ip route add blackhole 10.204.9.9/32 &&
in_ns nft -f - <<NFT
table inet filter {
	set blocked { type inet_service; flags interval; }
	chain in {
		type filter hook input priority 0;
		udp dport @blocked counter drop
		udp dport 60000-61000 counter name udp_in
	}
	chain out {
		type filter hook output priority 0;
		udp sport @blocked counter drop
	}
	counter udp_in { }
}
NFT
if [ $? -ne 0 ]; then
	fail namespace_made "could not make the namespace, veth or nftables rules"
	exit 0
fi
block() { in_ns nft add element inet filter blocked '{ 60000-61000 }'; }
unblock() { in_ns nft delete element inet filter blocked '{ 60000-61000 }'; }
udp_in() { in_ns nft list counter inet filter udp_in | awk '/packets/ { print $2 }'; }

sshd_setup 22 10.204.0.2
echo "SetEnv XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" >> "$TMP/sshd_config"
in_ns "$sshd" -f "$TMP/sshd_config" -E "$TMP/sshd.log" || { fail sshd_starts "$(cat "$TMP/sshd.log")"; exit 0; }
sshcmd="ssh -i $TMP/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5"
me=$(id -un)
screen() { tmux -L "$sock" capture-pane -t s -p -J; }
WAIT_TENTHS=100
ls_line() { "$MOSHI" ls 2>/dev/null | grep "$1"; }

# UDP blocked from the start: connect, no option, comes up over ssh.
block
run_tmux "'$MOSHI' connect --ssh='$sshcmd' --server='$MOSHI server' $me@10.204.0.2 -- env $mark PS1='blk\$ ' bash --norc --noprofile"
saw_note=0
for i in $(seq 1 150); do
	screen | grep -q 'UDP seems blocked; using the ssh connection' && saw_note=1
	screen | grep -q '^blk\$' && [ "$saw_note" = 1 ] && break
	sleep 0.1
done
if screen | grep -q '^blk\$' && [ "$saw_note" = 1 ]; then
	pass comes_up_over_ssh
else
	fail comes_up_over_ssh "note seen: $saw_note; $(shown)"
fi
tmux -L "$sock" send-keys -t s 'echo typed-$((6*7))' Enter
wait_screen '^typed-42$' && pass typing_over_ssh || fail typing_over_ssh "$(shown)"
tmux -L "$sock" send-keys -t s 'seq 1 50000; echo flood-done' Enter
wait_screen '^flood-done$' 300 && screen | grep -q '^50000$' && pass flood_over_ssh ||
	fail flood_over_ssh "$(shown)"
id=$("$MOSHI" ls 2>/dev/null | awk '/PS1=blk/ { print $1 }' | head -n 1)
ls_line "^$id .*attached over ssh" > /dev/null && pass ls_says_ssh ||
	fail ls_says_ssh "$("$MOSHI" ls 2>&1)"
[ "$(udp_in)" = 0 ] && pass no_udp_while_blocked || fail no_udp_while_blocked "udp_in $(udp_in)"

# The firewall opens: back on UDP within 15 s, by itself.
unblock
t0=$(date +%s)
for i in $(seq 1 200); do
	ls_line "^$id .*attached from 10\.204\.0\.1:" > /dev/null && break
	sleep 0.1
done
secs=$(( $(date +%s) - t0 ))
n=$(udp_in)
if ls_line "^$id .*attached from 10\.204\.0\.1:" > /dev/null && [ "$n" -gt 0 ] && [ "$secs" -le 15 ]; then
	echo "  (back on UDP ${secs} s after the rule went, $n datagrams counted)"
	pass back_on_udp
else
	fail back_on_udp "after ${secs} s, $n datagrams: $("$MOSHI" ls 2>&1)"
fi
n0=$(udp_in)
tmux -L "$sock" send-keys -t s 'echo on-udp' Enter
wait_screen '^on-udp$' && [ "$(udp_in)" -gt "$n0" ] && ! pgrep -f "moshi relay $id" > /dev/null &&
	pass typing_on_udp_relay_ended || fail typing_on_udp_relay_ended "udp $n0 -> $(udp_in); $(pgrep -af 'moshi relay'); $(shown)"

# Blocked again mid-session: back to ssh after the silence; a relay
# whose ssh is killed comes back by itself.
block
for i in $(seq 1 300); do
	ls_line "^$id .*attached over ssh" > /dev/null && break
	sleep 0.1
done
tmux -L "$sock" send-keys -t s 'echo reblocked' Enter
wait_screen '^reblocked$' 150 && ls_line "^$id .*attached over ssh" > /dev/null &&
	pass blocked_again_back_to_ssh || fail blocked_again_back_to_ssh "$("$MOSHI" ls 2>&1); $(shown)"
pkill -f "ssh .*moshi.*relay $id"
sleep 0.5
tmux -L "$sock" send-keys -t s 'echo after-kill' Enter
wait_screen '^after-kill$' 200 && pgrep -f "moshi relay $id" > /dev/null &&
	pass relay_restarted || fail relay_restarted "bar: $(screen | head -n 1); $(ps -eo pid,ppid,stat,args | grep -E 'moshi|ssh' | grep -v grep | cut -c1-150 | tr '\n' '|'); $(shown)"
# ssh cannot log in (here: its server is down): the bar says what to do,
# and once ssh works again the session is back by itself.
kill "$(cat "$TMP/sshd.pid")"
pkill -f "ssh .*moshi.*relay $id"
wait_screen 'ssh failed without a terminal to ask on: moshi attach reconnects' 150 &&
	pass bar_says_ssh_failed || fail bar_says_ssh_failed "bar: $(screen | head -n 1)"
in_ns "$sshd" -f "$TMP/sshd_config" -E "$TMP/sshd.log"
tmux -L "$sock" send-keys -t s 'echo sshd-back' Enter
wait_screen '^sshd-back$' 400 && pass back_when_ssh_works || fail back_when_ssh_works "$(shown)"
tmux -L "$sock" send-keys -t s 'exit' Enter
wait_screen '^EXIT=0' && pass session_ends || fail session_ends "$(shown)"
tmux -L "$sock" kill-server 2>/dev/null
sleep 0.5
if pgrep -f "$mark" > /dev/null || pgrep -f "moshi relay" > /dev/null; then
	fail nothing_left "$(pgrep -af "$mark|moshi relay")"
else
	pass nothing_left
fi

# --carrier=udp: UDP only, as mosh: no contact, exit status 4.
run_tmux "MOSHI_CLIENT_CONTACT_TMOUT=5 '$MOSHI' connect --carrier=udp --ssh='$sshcmd' --server='$MOSHI server' $me@10.204.0.2 -- env $mark sleep 60"
wait_screen '^EXIT=4' 150 && ! pgrep -f "moshi relay" > /dev/null && pass carrier_udp_stays_udp ||
	fail carrier_udp_stays_udp "$(shown)"
pkill -f "$mark"
unblock

# --carrier=ssh: through ssh only, though UDP is open.
run_tmux "'$MOSHI' connect --carrier=ssh --ssh='$sshcmd' --server='$MOSHI server' $me@10.204.0.2 -- env $mark PS1='only\$ ' bash --norc --noprofile"
wait_screen '^only\$' 150
n0=$(udp_in)
tmux -L "$sock" send-keys -t s 'echo only-ssh' Enter
wait_screen '^only-ssh$'
sleep 4 # (a client on UDP would have moved back by now)
if screen | grep -q '^only-ssh$' && [ "$(udp_in)" = "$n0" ] &&
   ls_line 'PS1=only.*' | grep -q 'attached over ssh'; then
	pass carrier_ssh_stays_on_ssh
else
	fail carrier_ssh_stays_on_ssh "udp $n0 -> $(udp_in); $("$MOSHI" ls 2>&1); $(shown)"
fi
tmux -L "$sock" send-keys -t s 'exit' Enter
wait_screen '^EXIT=0'
