# Faults around a real session (server and client started by hand, the
# client in tmux): the client killed, SIGUSR1 with and without
# MOSHI_SERVER_SIGNAL_TMOUT, and the program exiting while the client is
# away (stopped with SIGSTOP), with and without MOSHI_SERVER_NETWORK_TMOUT.
SUITE=faults
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip faults "tmux is not installed"
	exit 0
fi
sock="moshi-faults-$$"
t() { tmux -L "$sock" "$@"; }
mark="MOSHI_E2E_FAULTS=$$"
CLEANUP='t kill-server 2>/dev/null; pkill -f "$mark"'

alive() { kill -0 "$1" 2>/dev/null; }
gone_within() { # PID TENTHS: the process ends within TENTHS/10 s
	for i in $(seq 1 "$2"); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}
# The server and the program it runs (its child) are both gone.
none_left() { ! alive "$spid" && ! alive "$apid"; }

# session [NAME=VALUE...] -- COMMAND...: hand_session (tests/lib.sh),
# after the last test's server (it may be waiting for its client) went.
session() {
	t kill-server 2>/dev/null
	pkill -f "server new .*$mark" 2>/dev/null
	for i in $(seq 1 50); do
		pgrep -f "server new .*$mark" >/dev/null || break
		sleep 0.1
	done
	hand_session "$@"
}

# The client killed: the session stays (as mosh's does, for the client to
# come back), and the program in it.
if session -- bash --norc --noprofile && wait_screen '^moshi\$'; then
	kill -9 "$cpid"
	sleep 4
	alive "$spid" && alive "$apid" && pass client_killed_server_keeps_session ||
		fail client_killed_server_keeps_session "server alive: $(alive "$spid" && echo yes), program alive: $(alive "$apid" && echo yes)"
else
	fail client_killed_server_keeps_session "no session: $(shown)"
fi

# ... and with MOSHI_SERVER_NETWORK_TMOUT=3 it ends 3 s after the client's
# last datagram, and its program with it.
if session MOSHI_SERVER_NETWORK_TMOUT=3 -- bash --norc --noprofile && wait_screen '^moshi\$'; then
	kill -9 "$cpid"
	sleep 2
	early=$(alive "$spid" && echo no || echo yes)
	if [ "$early" = no ] && gone_within "$spid" 40; then
		sleep 0.3
		none_left && pass network_timeout_ends_server ||
			fail network_timeout_ends_server "its program is still running"
	else
		fail network_timeout_ends_server "ended before 2 s: $early; after 6 s alive: $(alive "$spid" && echo yes): $(ps -o pid,etimes,args -p "$spid" | tail -n 1)"
	fi
else
	fail network_timeout_ends_server "no session: $(shown)"
fi

# SIGUSR1 without MOSHI_SERVER_SIGNAL_TMOUT ends the server at once, and
# the client is told.
if session -- bash --norc --noprofile && wait_screen '^moshi\$'; then
	kill -USR1 "$spid"
	gone_within "$spid" 50 && wait_screen '^EXIT=' && pass sigusr1_ends_session ||
		fail sigusr1_ends_session "server alive: $(alive "$spid" && echo yes); $(shown)"
else
	fail sigusr1_ends_session "no session: $(shown)"
fi

# With MOSHI_SERVER_SIGNAL_TMOUT=5, SIGUSR1 is ignored while the client
# talks (an idle client speaks every 3 s), and ends the server once it
# has been silent 5 s.
if session MOSHI_SERVER_SIGNAL_TMOUT=5 -- bash --norc --noprofile && wait_screen '^moshi\$'; then
	kill -USR1 "$spid"
	sleep 1.5
	alive "$spid" && pass sigusr1_ignored_while_client_talks ||
		fail sigusr1_ignored_while_client_talks "the server ended"
	kill -9 "$cpid"
	sleep 6
	kill -USR1 "$spid"
	gone_within "$spid" 30 && pass sigusr1_ends_once_client_silent ||
		fail sigusr1_ends_once_client_silent "server still alive 3 s after SIGUSR1"
else
	fail sigusr1_ignored_while_client_talks "no session: $(shown)"
fi

# The program exits while the client is away (stopped): the server waits
# for it, and when it comes back it gets the final screen, both end, and
# nothing is left.
if session -- sh -c 'sleep 2; echo BYE-FROM-THE-APP; sleep 1' && sleep 0.5; then
	kill -STOP "$cpid"
	sleep 6
	alive "$spid" && pass server_waits_for_away_client ||
		fail server_waits_for_away_client "the server ended while the client was away"
	kill -CONT "$cpid"
	if gone_within "$cpid" 150; then
		gone_within "$spid" 30
		none_left && wait_screen '^EXIT=0' && pass away_client_told_both_end ||
			fail away_client_told_both_end "server alive: $(alive "$spid" && echo yes); $(shown)"
	else
		fail away_client_told_both_end "the client did not end: $(shown)"
	fi
else
	fail server_waits_for_away_client "no session"
fi

# ... and with MOSHI_SERVER_NETWORK_TMOUT=4 the server stops waiting 4 s
# after the client's last datagram.
if session MOSHI_SERVER_NETWORK_TMOUT=4 -- sh -c 'sleep 1; echo BYE' && sleep 0.5; then
	kill -STOP "$cpid"
	sleep 2.5
	alive "$spid" && gone_within "$spid" 60 && none_left &&
		pass away_client_network_timeout_ends_server ||
		fail away_client_network_timeout_ends_server "server alive: $(alive "$spid" && echo yes)"
	kill -CONT "$cpid"
	kill "$cpid"
else
	fail away_client_network_timeout_ends_server "no session"
fi
