#!/usr/bin/env bash
# Scale in corpus size: one trainer on the project's synthetic corpora of 10M, 100M and 300M
# tokens. Time should grow linearly (the same time per token at every size) and peak memory should
# not grow at all: the reader streams, and the matrices depend on the vocabulary, not the corpus.
#   bash benches/linear.sh [OUT]
# Environment: SIZES (millions of tokens, default "10 100 300"), ARCH (skipgram), EPOCHS (1),
# THREADS (2). The corpora (about 7 bytes a token) are generated once and kept in OUT.
set -euo pipefail
out=${1:-bench-out/linear}
w=$(realpath "${WEMBED:-target/release/wembed}")
sizes=${SIZES:-"10 100 300"}
arch=${ARCH:-skipgram}
epochs=${EPOCHS:-1}
threads=${THREADS:-2}
mkdir -p "$out"
echo "$arch, $epochs epoch(s), $threads threads; wall = the whole command (vocabulary pass included)"
echo
echo "| tokens | corpus MB | wall s | ns per token | vs first | trainer words/s | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
first=""
for m in $sizes; do
    c="$out/synth-${m}M.txt"
    [ -s "$c" ] || "$w" synth --tokens $((m * 1000000)) -o "$c" 2>/dev/null
    /usr/bin/time -f "%e %M" -o "$out/$m.time" \
        "$w" "$arch" "$c" -o "$out/model-$m" --epochs "$epochs" --threads "$threads" --quiet 2> "$out/$m.log"
    read -r wall kb < <(tail -1 "$out/$m.time")
    rate=$(grep -o '[0-9]* words/s' "$out/$m.log" | head -1 | cut -d' ' -f1)
    mb=$(( $(stat -c %s "$c") / 1000000 ))
    ns=$(python3 -c "print(f'{$wall * 1e9 / ($m * 1e6 * $epochs):.1f}')")
    [ -z "$first" ] && first=$ns
    ratio=$(python3 -c "print(f'{$ns / $first:.3f}')")
    printf "| %sM | %s | %.1f | %s | %s | %s | %d |\n" "$m" "$mb" "$wall" "$ns" "$ratio" \
        "$rate" $((kb / 1024))
    rm -rf "$out/model-$m"
done
