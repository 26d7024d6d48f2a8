#!/bin/sh
# Run every test program and script and total their results.
#
# Test programs ($OUT/tests/*) and scripts (tests/e2e/*.sh) print one line
# per test: "PASS name", "FAIL name: why" or "SKIP name: why". A program
# that exits non-zero without printing FAIL (a crash, a sanitizer report)
# counts as one failure of its own. The last line is
#     N passed, N failed
# after a line counting the skipped ones, if any.
# and the exit status is non-zero if anything failed.
#
# Environment: MOSHI (the binary under test), OUT (the build directory).
# TESTS=PATTERN runs only the programs and scripts whose name matches.
set -u
: "${MOSHI:?}" "${OUT:?}"
export MOSHI OUT
export TERM_TESTS="$(cd "$(dirname "$0")" && pwd)/term"
here=$(cd "$(dirname "$0")" && pwd)
log="$OUT/test.log"
: > "$log"
pass=0 fail=0 skip=0

run_one() { # NAME COMMAND...
	name=$1; shift
	case "$name" in *${TESTS:-}*) ;; *) return ;; esac
	out="$OUT/test-$name.out"
	start=$(date +%s)
	"$@" > "$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	cat "$out" >> "$log"
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	grep -E '^(PASS|FAIL|SKIP) ' "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $rc without reporting a failure; output:"
		tail -n 20 "$out" | sed 's/^/    /'
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "FAIL $name: ran no test"
		f=1
	fi
	echo "  ($name: $p passed, $f failed, $s skipped in ${secs}s)"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

for t in "$OUT"/tests/*_test; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
# A process of the binary under test that its own child traces is in
# LeakSanitizer's leak check at exit (make check SANITIZE=1). One still
# there seconds later is stuck for good, spinning (a SIGCONT, as tmux
# sends with SIGHUP to a pane it kills, discarded the stop the check
# waits for): such are killed after each suite, and named.
leak_checks() {
	for p in $(pgrep -f "^$MOSHI" 2>/dev/null); do
		tr=$(awk '/^TracerPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ -n "$tr" ] && [ "$tr" != 0 ] &&
			[ "$(awk '/^PPid:/ { print $2 }' "/proc/$tr/status" 2>/dev/null)" = "$p" ] &&
			echo "$p:$tr"
	done
}
reap_leak_check_hangs() {
	first=$(leak_checks)
	[ -n "$first" ] || return 0
	sleep 3
	for pt in $(leak_checks); do
		case " $(echo $first) " in *" $pt "*) ;; *) continue ;; esac
		p=${pt%:*}
		echo "run.sh: killed $(tr '\0' ' ' < "/proc/$p/cmdline"), stuck in the leak check at exit" >&2
		kill -KILL "$p" "${pt#*:}" 2>/dev/null
	done
}

for t in "$here"/e2e/*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t" .sh)" sh "$t"
	reap_leak_check_hangs
done

echo
[ "$skip" -gt 0 ] && echo "$skip skipped (each SKIP line above says why)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
