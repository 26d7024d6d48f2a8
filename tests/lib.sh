# Helpers for the end-to-end test scripts (sourced, not run).
# Each check prints one PASS/FAIL/SKIP line, as tests/run.sh expects.
: "${MOSHI:?MOSHI must name the moshi binary under test}"
SUITE=${SUITE:-e2e}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/moshi-test.XXXXXX")

# dash runs an EXIT trap when a $(...) subshell exits too: clean up only
# in the main shell. A script may set CLEANUP to a command to run first.
MAIN_PID=$$
CLEANUP=:
on_exit() {
	[ "$(sh -c 'echo $PPID')" = "$MAIN_PID" ] || return 0
	eval "$CLEANUP"
	rm -rf "$TMP"
}
trap on_exit EXIT
trap 'exit 1' INT TERM

pass() { echo "PASS $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: $2"; }
skip() { echo "SKIP $SUITE/$1: $2"; }

# expect NAME WANT_STATUS OUTPUT_PATTERN COMMAND...: run COMMAND, check its
# exit status and that its combined output matches the grep -E pattern.
expect() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" > "$TMP/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, expected $want; output: $(head -c 300 "$TMP/out")"
	elif ! grep -Eq -- "$pat" "$TMP/out"; then
		fail "$name" "output does not match /$pat/: $(head -c 300 "$TMP/out")"
	else
		pass "$name"
	fi
}
