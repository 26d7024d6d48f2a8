# moshi against a real sshd behind 1:1 NAT, as on most cloud machines: a
# network namespace whose sshd and moshi server have their own address
# 10.201.5.5, reached from here as 10.201.0.2 (nftables DNATs TCP and
# UDP). A blackhole route for 10.201.5.5 on this side keeps anything
# sent there on the machine. Also: mosh's command line (no "connect",
# a command with no "--", --server=/path/to/moshi, --client), honest
# failures and their exit statuses, all through that sshd (which has
# PermitTTY no: moshi never asks for a pty, with or without
# --no-ssh-pty).
SUITE=nat
. "$(dirname "$0")/../lib.sh"

netns_suite_or_skip
ns="moshinat$$" vh="mn$$h" vn="mn$$n"
sock="moshi-nat-$$"
mark="MOSHI_E2E_NAT=$$"
CLEANUP='tmux -L "$sock" kill-server 2>/dev/null; pkill -f "$mark"; [ -f "$TMP/sshd.pid" ] && kill $(cat "$TMP/sshd.pid") 2>/dev/null; ip netns del "$ns" 2>/dev/null; ip link del "$vh" 2>/dev/null; ip route del blackhole 10.201.5.5/32 2>/dev/null'
in_ns() { ip netns exec "$ns" "$@"; }

netns_pair "$ns" "$vh" "$vn" 10.201.0.1 10.201.0.2 &&
ip route add blackhole 10.201.5.5/32 &&
in_ns ip addr add 10.201.5.5/32 dev lo &&
in_ns nft -f - <<NFT
table ip nat {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr 10.201.0.2 tcp dport 22 dnat to 10.201.5.5
		ip daddr 10.201.0.2 udp dport 60000-61000 dnat to 10.201.5.5
	}
}
table ip filter {
	set blocked { type inet_service; flags interval; }
	chain in {
		type filter hook input priority 0;
		udp dport @blocked counter drop
	}
	chain out {
		type filter hook output priority 0;
		udp sport @blocked counter drop
	}
}
NFT
if [ $? -ne 0 ]; then
	fail namespace_made "could not make the namespace, veth or nftables rules"
	exit 0
fi

sshd_setup 22 10.201.5.5
echo 'PermitTTY no' >> "$TMP/sshd_config"
in_ns "$sshd" -f "$TMP/sshd_config" -E "$TMP/sshd.log" || { fail sshd_starts "$(cat "$TMP/sshd.log")"; exit 0; }
sshcmd="ssh -i $TMP/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=5"
me=$(id -un)

# Long lines joined (-J): messages wrap at 120 columns.
screen() { tmux -L "$sock" capture-pane -t s -p -J; }
WAIT_TENTHS=100

# 1. mosh's habits: no "connect", --server=/path/to/moshi, -v.
run_tmux "'$MOSHI' -v --ssh='$sshcmd' --server='$MOSHI' $me@10.201.0.2 -- env $mark PS1='nat\$ ' bash --norc --noprofile 2>$TMP/v.err"
wait_screen '^nat\$' && pass connects_behind_nat || fail connects_behind_nat "$(shown)"
tmux -L "$sock" send-keys -t s 'echo "in: $SSH_CONNECTION"' Enter
wait_screen '^in: 10\.201\.0\.1 [0-9]+ 10\.201\.5\.5 22' && pass server_sees_its_own_address ||
	fail server_sees_its_own_address "$(shown)"
tmux -L "$sock" send-keys -t s 'exit' Enter
wait_screen '^EXIT=0' && pass session_ends_with_status_0 || fail session_ends_with_status_0 "$(shown)"
grep -q 'dialling 10\.201\.0\.2 port [0-9]*: the address ssh connected to' "$TMP/v.err" &&
	pass verbose_names_the_address || fail verbose_names_the_address "$(cat "$TMP/v.err")"

# 2. A command without "--", and --client naming the client binary.
run_tmux "'$MOSHI' --ssh='$sshcmd' --server='$MOSHI' --client='$MOSHI' --no-ssh-pty --no-init 10.201.0.2 env $mark sh -c 'echo args: \"\$0\" \"\$1\"; sleep 1' one two"
wait_screen '^args: one two' && pass command_without_dashes || fail command_without_dashes "$(shown)"
wait_screen '^EXIT=0' && pass client_option_runs_that_client || fail client_option_runs_that_client "$(shown)"

# 3. The other ways to find the address.
run_tmux "'$MOSHI' -v --experimental-remote-ip=local --ssh='$sshcmd' --server='$MOSHI' 10.201.0.2 -- env $mark true 2>$TMP/v.err"
wait_screen '^EXIT=0' && grep -q 'dialling 10\.201\.0\.2 .*resolved here' "$TMP/v.err" &&
	pass remote_ip_local || fail remote_ip_local "$(shown) $(cat "$TMP/v.err")"
run_tmux "MOSHI_CLIENT_CONTACT_TMOUT=2 '$MOSHI' --experimental-remote-ip=remote --ssh='$sshcmd' --server='$MOSHI' 10.201.0.2 -- env $mark true"
wait_screen '^EXIT=' && screen | tr -d '\n' | grep -Eq 'cannot reach 10\.201\.5\.5 port [0-9]+: [A-Z][a-z]' &&
	pass remote_ip_remote_says_why || fail remote_ip_remote_says_why "$(shown)"
# The user's own ProxyCommand is kept: the name is resolved here.
run_tmux "'$MOSHI' -v --ssh=\"$sshcmd -o ProxyCommand='$MOSHI proxy --report=/dev/null %h %p'\" --server='$MOSHI' 10.201.0.2 -- env $mark true 2>$TMP/v.err"
wait_screen '^EXIT=0' && grep -q 'its own ProxyCommand' "$TMP/v.err" &&
	grep -q 'dialling 10\.201\.0\.2 .*resolved here' "$TMP/v.err" &&
	pass own_proxycommand_kept || fail own_proxycommand_kept "$(shown) $(cat "$TMP/v.err")"
# -6 to an IPv4 address fails, and says so.
run_tmux "'$MOSHI' -6 --ssh='$sshcmd' --server='$MOSHI' 10.201.0.2 -- env $mark true"
wait_screen '^EXIT=3' && screen | grep -q 'cannot resolve 10\.201\.0\.2 as IPv6' &&
	pass family_inet6_honoured || fail family_inet6_honoured "$(shown)"

# 4. Bad values are refused before anything runs (sshd logs no login).
pkill -f "server new .*$mark"
logins=$(grep -c 'Accepted publickey' "$TMP/sshd.log")
for bad in "-p 70000" "--family=ipx" "--experimental-remote-ip=dns" "--predict=sometimes" "--bind-server=1.2.3"; do
	expect "refused_before_ssh:$bad" 2 "takes" "$MOSHI" $bad --ssh="$sshcmd" 10.201.0.2
done
expect refused_before_ssh:MOSHI_PREDICTION_DISPLAY 2 "prediction mode" \
	env MOSHI_PREDICTION_DISPLAY=bogus "$MOSHI" --ssh="$sshcmd" 10.201.0.2
[ "$(grep -c 'Accepted publickey' "$TMP/sshd.log")" = "$logins" ] &&
	pass bad_values_start_nothing || fail bad_values_start_nothing "ssh logged in"
pgrep -f "server new" -a | grep -q "$mark" && fail bad_values_leave_no_server "a server runs" ||
	pass bad_values_leave_no_server

# 5. UDP blocked, and UDP only (--carrier=udp; by default the session
# goes through ssh, tests/e2e/udpblock.sh): the client gives up by itself
# (status 4), or is quit with the escape key before any contact (status
# 4); the bar fits 80 columns and names the escape key in use.
in_ns nft add element ip filter blocked '{ 60000-61000 }'
run_tmux "MOSHI_CLIENT_CONTACT_TMOUT=4 '$MOSHI' --carrier=udp --ssh='$sshcmd' --server='$MOSHI' 10.201.0.2 -- env $mark true"
wait_screen '^EXIT=4' 100 && screen | grep -q 'nothing ever came back' &&
	pass no_contact_gives_up || fail no_contact_gives_up "$(shown)"
tmux -L "$sock" kill-server 2>/dev/null
sleep 0.2
tmux -L "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
	"MOSHI_ESCAPE_KEY='^]' '$MOSHI' --carrier=udp --ssh='$sshcmd' --server='$MOSHI' 10.201.0.2 -- env $mark true; echo EXIT=\$?; sleep 60"
wait_screen 'Nothing received' 80
bar=$(screen | head -n 1)
case "$bar" in
*"[To quit: Ctrl-] .]") pass bar_fits_and_names_the_key ;;
*) fail bar_fits_and_names_the_key "top row: $bar" ;;
esac
tmux -L "$sock" send-keys -t s C-] .
wait_screen '^EXIT=4' && pass quit_before_contact_is_status_4 || fail quit_before_contact_is_status_4 "$(shown)"

# 6. Contact lost, then quit: status 5.
in_ns nft flush set ip filter blocked
run_tmux "'$MOSHI' --carrier=udp --ssh='$sshcmd' --server='$MOSHI' 10.201.0.2 -- env $mark PS1='nat\$ ' bash --norc --noprofile"
wait_screen '^nat\$' || fail server_gone_setup "$(shown)"
in_ns nft add element ip filter blocked '{ 60000-61000 }'
wait_screen 'Last contact' 120
tmux -L "$sock" send-keys -t s C-^ .
wait_screen '^EXIT=5' && screen | grep -q 'it may be gone' && pass quit_when_server_gone_is_status_5 ||
	fail quit_when_server_gone_is_status_5 "$(shown)"
in_ns nft flush set ip filter blocked
pkill -f "server new .*$mark"

# 7. ssh failing: status 3; a word close to a role name gets a hint.
cat > "$TMP/fakessh" <<'FAKE'
#!/bin/sh
for a; do h=$a; [ "$a" = -G ] && g=1; done
[ -n "$g" ] && { echo "hostname conect"; exit 0; }
echo "ssh: Could not resolve hostname conect: Name or service not known" >&2
exit 255
FAKE
chmod 755 "$TMP/fakessh"
expect ssh_failure_is_status_3 3 "did you mean 'moshi connect'" "$MOSHI" --ssh="$TMP/fakessh" conect
# A slow login (ssh asking the user) does not run the server's clock;
# a server that never comes after the login does.
cat > "$TMP/slowssh" <<FAKE
#!/bin/sh
# (-G as an argument of its own: a temporary name may hold "-G" too)
for a; do [ "\$a" = -G ] && exec ssh "\$@"; done
sleep 3
exec $sshcmd "\$@"
FAKE
chmod 755 "$TMP/slowssh"
run_tmux "MOSHI_CONNECT_TMOUT=2 '$MOSHI' --ssh='$TMP/slowssh' --server='$MOSHI' --no-init 10.201.0.2 -- env $mark true"
wait_screen '^EXIT=0' && pass slow_login_does_not_time_out || fail slow_login_does_not_time_out "$(shown)"
expect hung_server_times_out 3 "did not start on 10.201.0.2 within 2 s" \
	env MOSHI_CONNECT_TMOUT=2 "$MOSHI" --ssh="$sshcmd" --server="sleep 30; :" 10.201.0.2
