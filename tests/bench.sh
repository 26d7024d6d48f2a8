#!/bin/sh
# make bench: every figure as one line "bench NAME VALUE UNIT".
# Environment: MOSHI (the binary), OUT (the build directory).
set -u
: "${MOSHI:?}" "${OUT:?}"

results="$OUT/bench.out"
: > "$results"
corpora="$OUT/corpora"
mkdir -p "$corpora"
for b in "$OUT"/bench/*; do
	[ -x "$b" ] || continue
	case "$b" in
	*/term_bench) "$b" --corpora "$corpora" | tee -a "$results" ;;
	*/diff_bench) "$b" "$corpora" | tee -a "$results" ;;
	*) "$b" | tee -a "$results" ;;
	esac
done

# libvterm on the same corpora, same run: a benchmark-only dependency
# (Debian's libvterm-dev), built with the system compiler.
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f /usr/include/vterm.h ] && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvterm-dev >/dev/null 2>&1
fi
[ -f /usr/include/vterm.h ] ||
	echo "bench: no libvterm (apt-get install libvterm-dev); skipping the comparison" >&2
if [ -f /usr/include/vterm.h ] &&
   cc -O2 -o "$OUT/vterm_bench" "$here/bench/glibc/vterm_bench.c" -lvterm 2>"$OUT/vterm_bench.log"; then
	"$OUT/vterm_bench" "$corpora" | tee -a "$results"
	for c in scroll colour cursor; do
		awk -v c="$c" '
			$2 == "term_" c "_throughput" { m = $3 }
			$2 == "term_" c "_eager_throughput" { e = $3 }
			$2 == "vterm_" c "_throughput" { v = $3 }
			END { if (m && v) printf "bench term_vs_vterm_%s %.1f ratio\n", c, m / v
			      if (e && v) printf "bench term_vs_vterm_%s_eager %.1f ratio\n", c, e / v }' "$results"
	done
fi
# What zlib (mosh compresses every instruction) would save on the same
# diffs, each compressed on its own.
if command -v python3 >/dev/null 2>&1; then
	python3 "$here/bench/report.py" --zlib "$corpora" | tee -a "$results"
fi
rm -rf "$corpora"

# Baseline for the cipher: OpenSSL's AES-128-GCM (encrypt only) on the
# same 1200-byte blocks in the same run, when the openssl tool is here.
if command -v openssl >/dev/null 2>&1; then
	ossl=$(openssl speed -elapsed -seconds 1 -bytes 1200 -evp aes-128-gcm 2>/dev/null |
		awk '/^(AES-128-GCM|aes-128-gcm)/ { v = $NF; sub(/k$/, "", v); print v / 1000 }')
	if [ -n "$ossl" ]; then
		echo "bench openssl_gcm_seal_1200 $ossl MB/s"
		awk -v o="$ossl" '$2 == "gcm_seal_1200" { printf "bench gcm_seal_vs_openssl %.2f ratio\n", $3 / o }' "$results"
	fi
fi

echo "bench binary_size $(wc -c < "$MOSHI" | tr -d ' ') bytes"

# Whole sessions, moshi against mosh 1.4 (and ssh for the connect time), in
# the same run through the same relay. mosh is a benchmark-only package.
if ! command -v mosh-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosh >/dev/null 2>&1
fi
if command -v python3 >/dev/null 2>&1; then
	python3 "$here/bench/session_bench.py" | tee -a "$results"
	# Keystroke response through the relay: moshi, mosh and ssh.
	python3 "$here/bench/typing_bench.py" | tee -a "$results"
fi
