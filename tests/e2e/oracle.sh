# moshi's emulator against a real terminal: see tests/oracle/oracle.py.
SUITE=oracle
. "$(dirname "$0")/../lib.sh"

for tool in tmux python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip oracle "$tool is not installed (apt-get install $tool)"
		exit 0
	fi
done
python3 "$(dirname "$0")/../oracle/oracle.py" "$OUT/tools/term_dump" "$TMP/oracle"
