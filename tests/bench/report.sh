#!/bin/sh
# make bench-report: install what the report compares against (mosh,
# libvterm-dev, openssh-server, gnuplot: benchmark-only packages, when run
# as root), then run tests/bench/report.py with the servers in one network
# namespace and the clients in another, joined by tests/bench/tunrelay.py
# through a TUN device in each: every packet of moshi, mosh and ssh then
# crosses the same user-space link. The namespaces use 10.77.0.1 (client)
# and 10.77.0.2 (server) and exist only for the run. Without root (or ip
# netns) it runs on the machine's loopback, and the report says what that
# leaves out.
# Environment: MOSHI, OUT; REPORT_DIR, BENCH_QUICK as report.py.
set -u
: "${MOSHI:?}" "${OUT:?}"
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" = 0 ]; then
	need=""
	command -v mosh-server >/dev/null 2>&1 || need="$need mosh"
	[ -f /usr/include/vterm.h ] || need="$need libvterm-dev"
	[ -x /usr/sbin/sshd ] || need="$need openssh-server"
	command -v gnuplot >/dev/null 2>&1 || need="$need gnuplot-nox"
	command -v tmux >/dev/null 2>&1 || need="$need tmux"
	if [ -n "$need" ]; then
		echo "bench-report: installing$need" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$need >/dev/null || echo "bench-report: could not install$need" >&2
	fi
fi

cns="moshi-bench-c$$" sns="moshi-bench-s$$"
cleanup() { ip netns del "$cns" 2>/dev/null; ip netns del "$sns" 2>/dev/null; }
setup() {
	ip netns add "$cns" && ip netns add "$sns" || return 1
	for ns in "$cns" "$sns"; do
		ip -n "$ns" link set lo up &&
		ip -n "$ns" tuntap add dev moshi-tun mode tun || return 1
	done
	ip -n "$cns" addr add 10.77.0.1/24 dev moshi-tun &&
	ip -n "$sns" addr add 10.77.0.2/24 dev moshi-tun || return 1
	# An ordinary link size, one segment per packet: TCP meets the
	# relay's loss segment by segment, as on a real link.
	for ns in "$cns" "$sns"; do
		ip -n "$ns" link set moshi-tun mtu 1500 gso_max_segs 1 up || return 1
	done
}
if [ "$(id -u)" = 0 ] && setup; then
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	MOSHI_BENCH_L3=1 MOSHI_BENCH_CLIENT_NS="$cns" MOSHI_BENCH_SERVER_NS="$sns" \
		MOSHI_BENCH_SERVER_HOST=10.77.0.2 python3 "$here/report.py"
else
	cleanup
	echo "bench-report: no network namespaces (needs root and ip netns):" \
		"loopback only, ssh gets no loss" >&2
	python3 "$here/report.py"
fi
