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
for t in "$here"/e2e/*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t" .sh)" sh "$t"
done

echo
[ "$skip" -gt 0 ] && echo "$skip skipped (each SKIP line above says why)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
