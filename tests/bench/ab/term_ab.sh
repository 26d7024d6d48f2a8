#!/bin/sh
# term_ab.sh [REV]: the emulator of REV (default HEAD) as A against the
# working tree's term/ as B, in one process (term_ab.c), on the first 2 MB
# of make bench's three corpora. Needs musl-gcc and a built
# build/musl/bench/term_bench (make bench builds it). Ratios above 1 mean
# the working tree is faster; two runs of the same tree differ by 1-2%.
set -eu
rev=${1:-HEAD}
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/A" "$tmp/B" "$tmp/corpora"
git -C "$top" archive "$rev" term | tar -x -C "$tmp/A" --strip-components=1
cp "$top"/term/*.c "$top"/term/*.h "$tmp/B/"
for v in A B; do
	(cd "$tmp/$v" && for c in *.c; do musl-gcc -O2 -c "$c"; done)
	nm -g --defined-only "$tmp/$v"/*.o | awk 'NF == 3 { print $3 }'
done | sort -u > "$tmp/syms"
for v in A B; do
	awk -v p="$v" '{ print "#define " $1 " " p "_" $1 }' "$tmp/syms" > "$tmp/$v.h"
	(cd "$tmp/$v" && for c in *.c; do musl-gcc -O2 -include "../$v.h" -c "$c"; done)
done
musl-gcc -O2 -o "$tmp/term_ab" "$top/tests/bench/ab/term_ab.c" "$tmp"/A/*.o "$tmp"/B/*.o
"$top/build/musl/bench/term_bench" --corpora "$tmp/corpora" > /dev/null
for c in scroll colour cursor; do
	head -c 2000000 "$tmp/corpora/$c.vt" > "$tmp/$c.vt"
done
cd "$tmp" && ./term_ab scroll.vt colour.vt cursor.vt
