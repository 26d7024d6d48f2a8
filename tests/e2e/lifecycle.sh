# 100 sessions started and ended one after another leave no processes;
# a live server holds only what it needs, and its program inherits only
# its terminal.
SUITE=lifecycle
. "$(dirname "$0")/../lib.sh"

if ! command -v script >/dev/null 2>&1; then
	skip lifecycle "script(1) is not installed (util-linux)"
	exit 0
fi
mark="MOSHI_E2E_LIFE=$$"
CLEANUP='pkill -f "server new .*$mark"'

fails=0
start=$(date +%s)
for i in $(seq 1 100); do
	# script gives the client a terminal; the command exits at once.
	if ! script -qec "'$MOSHI' connect --local -- env $mark true" /dev/null \
	     > "$TMP/s.out" 2>&1 < /dev/null; then
		fails=$((fails + 1))
		cp "$TMP/s.out" "$TMP/failed.out"
	fi
done
secs=$(( $(date +%s) - start ))
echo "lifecycle: 100 sessions in ${secs}s" >&2
[ "$fails" -eq 0 ] && pass hundred_sessions_exit_0 ||
	fail hundred_sessions_exit_0 "$fails failed: $(tail -c 300 "$TMP/failed.out")"
sleep 0.5
left=$(pgrep -f "$mark" | wc -l)
[ "$left" -eq 0 ] && pass hundred_sessions_leave_no_process ||
	fail hundred_sessions_leave_no_process "$left processes left"

# A live server: its descriptors, and those of the program it runs.
"$MOSHI" server new -i 127.0.0.1 -- env "$mark" sleep 30 > "$TMP/server.out" 2>/dev/null
sleep 0.5
spid=$(pgrep -f "server new .*$mark" | head -n 1)
cpid=$(pgrep -f "^sleep 30" -P "$spid" | head -n 1)
if [ -z "$spid" ] || [ -z "$cpid" ]; then
	fail server_descriptors "no server ($spid) or child ($cpid)"
else
	fds=$(ls -l /proc/"$spid"/fd | awk 'NR > 1 {print $NF}' | sed 's/socket:.*/socket/' | sort | tr '\n' ' ')
	case "$fds" in
	# The UDP socket and the session socket (moshi ls, attach, kill).
	"/dev/null /dev/null /dev/null /dev/ptmx socket socket "|"/dev/null /dev/null /dev/null /dev/pts/ptmx socket socket ")
		pass server_descriptors ;;
	*) fail server_descriptors "server holds: $fds" ;;
	esac
	cfds=$(ls -l /proc/"$cpid"/fd | awk 'NR > 1 {print $NF}' | sort -u | tr '\n' ' ')
	case "$cfds" in
	"/dev/pts/"*" ") [ "$(echo "$cfds" | wc -w)" -eq 1 ] && pass program_inherits_only_its_terminal ||
		fail program_inherits_only_its_terminal "it holds: $cfds" ;;
	*) fail program_inherits_only_its_terminal "it holds: $cfds" ;;
	esac
fi
kill -TERM "$spid" 2>/dev/null
sleep 0.5
left=$(pgrep -f "$mark" | wc -l)
[ "$left" -eq 0 ] && pass sigterm_leaves_nothing || fail sigterm_leaves_nothing "$left processes left"
