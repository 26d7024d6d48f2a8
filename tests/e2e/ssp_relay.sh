# SSP between two processes through the impairment relay (tests/tools):
# input arrives byte-exact, once, in order; the client's screen converges
# to the server's final screen; the server follows the client's roams.
#
#   bulk:  1 MiB of input at 5% loss each way, the server flooding its
#          terminal for the first 3 s
#   lossy: 1 MiB of input at 50% loss each way (about a minute), the
#          server flooding its terminal for the first 30 s
# both with 10% duplication, 20% reordering, 0-5 ms jitter, a roam every
# 2 s, the input typed in events of 1..200 bytes, and hostile packets
# from another address (relay --attack): forged, truncated, replayed,
# reflected and oversized, which must all be dropped and counted.
SUITE=ssp-relay
. "$(dirname "$0")/../lib.sh"
tools="$OUT/tools"

scenario() { # NAME LOSS BYTES FLOOD-SECONDS [RELAY-OPTIONS...]
	name=$1 loss=$2 bytes=$3 flood=$4
	shift 4
	extra="$*"
	MOSHI_KEY=$(head -c 16 /dev/urandom | base64 | tr -d '=\n')
	export MOSHI_KEY
	# The server ends 10 s after the last input (and once its screen is
	# acknowledged).
	"$tools/ssp_peer" server "$flood" 10 > "$TMP/$name.srv" 2> "$TMP/$name.srv.err" &
	spid=$!
	wait_for_line "$TMP/$name.srv" '^port'
	sport=$(awk '/^port/ {print $2}' "$TMP/$name.srv")
	start_relay "$TMP/$name.rel" "$TMP/$name.rel.err" --to "127.0.0.1:$sport" \
		--loss "$loss" --dup 0.1 --reorder 0.2 --jitter 5 --roam-every 2 --seed 7 "$@"
	start=$(date +%s)
	timeout 300 "$tools/ssp_peer" client 127.0.0.1 "$rport" "$bytes" 42 \
		> "$TMP/$name.cli" 2> "$TMP/$name.cli.err"
	crc=$?
	# The server ends on its own once the output stops and the screen is
	# acknowledged (or 30 s later).
	for i in $(seq 1 400); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$spid" 2>/dev/null
	kill -TERM "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	secs=$(( $(date +%s) - start ))
	echo "$name: $(cat "$TMP/$name.cli") in ${secs}s" >&2
	cat "$TMP/$name.srv" "$TMP/$name.srv.err" "$TMP/$name.rel.err" "$TMP/$name.cli.err" >&2

	set -- $(cat "$TMP/$name.cli")     # client input BYTES HASH screen HASH
	c_bytes=$3 c_hash=$4 c_screen=$6
	set -- $(grep '^server' "$TMP/$name.srv")
	s_bytes=$3 s_hash=$4 s_screen=$6
	if [ "$crc" -ne 0 ] || [ -z "$c_bytes" ]; then
		fail "${name}_session" "client exited with $crc: $(tail -n 3 "$TMP/$name.cli.err")"
		return
	fi
	pass "${name}_session"
	[ "$s_bytes" = "$bytes" ] && [ "$s_hash" = "$c_hash" ] &&
		pass "${name}_input_exact_once_in_order" ||
		fail "${name}_input_exact_once_in_order" "sent $c_bytes ($c_hash), server got $s_bytes ($s_hash)"
	[ -n "$s_screen" ] && [ "$s_screen" = "$c_screen" ] &&
		pass "${name}_screen_converged" ||
		fail "${name}_screen_converged" "client screen $c_screen, server screen $s_screen"
	# The impairments really happened, and the server followed.
	if grep -q 'dropped [1-9]' "$TMP/$name.rel.err" &&
	   grep -q 'duplicated [1-9]' "$TMP/$name.rel.err" &&
	   grep -q 'reordered [1-9]' "$TMP/$name.rel.err" &&
	   grep -q 'roams [1-9]' "$TMP/$name.rel.err" &&
	   grep -q 'roams [1-9]' "$TMP/$name.srv.err"; then
		pass "${name}_impaired_and_roamed"
	else
		fail "${name}_impaired_and_roamed" "$(cat "$TMP/$name.rel.err" "$TMP/$name.srv.err")"
	fi

	case "$extra" in *--attack*) attacked "$name" ;; esac
}

# The relay's hostile packets (--attack) came from another address: each
# kind was sent, and the server dropped and counted it; the server followed
# no address but the relay's (a roam to the attacker would also have cut
# the session off, which the checks above catch).
count() { # FILE WORD: the number after the last "WORD N" in FILE
	sed -n "s/.*[ :]$2 \([0-9]*\).*/\1/p" "$1" | tail -n 1
}
attacked() { # NAME
	a="$TMP/$1.rel.err" srv="$TMP/$1.srv.err"
	ok=1 why=""
	for k in forged truncated replayed reflected oversized; do
		n=$(count "$a" "$k")
		[ "${n:-0}" -gt 0 ] || { ok=0; why="$why no $k sent;"; }
	done
	for k in forged replayed reflected short oversized; do
		n=$(count "$srv" "$k")
		[ "${n:-0}" -gt 0 ] || { ok=0; why="$why server counted no $k;"; }
	done
	[ "$ok" = 1 ] && pass "${1}_attacks_rejected_and_counted" ||
		fail "${1}_attacks_rejected_and_counted" "$why $(cat "$a" "$srv" | tr '\n' ' ')"
	rr=$(count "$a" roams) sr=$(count "$srv" roams)
	[ "${sr:-0}" -le $(( ${rr:-0} + 1 )) ] && pass "${1}_attacks_moved_no_address" ||
		fail "${1}_attacks_moved_no_address" "relay roamed $rr times, server followed $sr"
}

scenario bulk 0.05 1048576 3 --attack 7
scenario lossy 0.5 1048576 30 --attack 5
