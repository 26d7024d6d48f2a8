#!/bin/sh
# make bench: every figure as one line "bench NAME VALUE UNIT".
# Environment: MOSHI (the binary), OUT (the build directory).
set -u
: "${MOSHI:?}" "${OUT:?}"

results="$OUT/bench.out"
: > "$results"
for b in "$OUT"/bench/*; do
	[ -x "$b" ] && "$b" | tee -a "$results"
done

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
