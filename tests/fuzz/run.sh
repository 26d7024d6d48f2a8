#!/bin/sh
# make fuzz: run every fuzz target for FUZZ_SECONDS, starting from its
# committed seeds (tests/fuzz/corpus/NAME, never written to). Prints one
# line per target, "fuzz NAME EXECUTIONS execs SECONDS s", and fails if
# any target finds a crash, a leak, undefined behaviour or a timeout; the
# input that did it is left in $OUT/fuzz/artifacts. FUZZ_SKIP: names of
# targets not to run, separated by spaces.
set -u
: "${OUT:?}" "${FUZZ_SECONDS:=60}"
here=$(cd "$(dirname "$0")" && pwd)
art="$OUT/fuzz/artifacts"
mkdir -p "$art"
failed=0
for bin in "$OUT"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	case " ${FUZZ_SKIP:-} " in *" $name "*) echo "fuzz $name skipped (FUZZ_SKIP)"; continue ;; esac
	work="$OUT/fuzz/corpus-$name"
	mkdir -p "$work"
	seeds="$here/corpus/$name"
	[ -d "$seeds" ] || seeds=""
	log="$OUT/fuzz/$name.log"
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$art/$name-" \
		"$work" $seeds > "$log" 2>&1
	rc=$?
	execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
	echo "fuzz $name ${execs:-0} execs $FUZZ_SECONDS s"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL fuzz/$name: exit $rc; see $log and $art" >&2
		grep -E '^(==|SUMMARY|.*runtime error)' "$log" | head -20 >&2
		failed=1
	fi
done
exit $failed
