#!/usr/bin/env bash
# Scale in corpus size: one trainer on the project's synthetic corpora of 10M, 100M and 300M
# tokens. Time should grow linearly (the same time per token at every size) and peak memory should
# not grow at all: the reader streams, and the matrices depend on the vocabulary, not the corpus.
#   bash benches/linear.sh [OUT]
# Environment: SIZES (millions of tokens, default "10 100 300"), ARCH (skipgram), EPOCHS (1),
# THREADS (2), REPEAT (3: rounds over all sizes, interleaved; the table shows medians). The
# corpora (about 7.5 bytes a token) are generated once and kept in OUT.
set -euo pipefail
out=${1:-bench-out/linear}
w=$(realpath "${WEMBED:-target/release/wembed}")
sizes=${SIZES:-"10 100 300"}
arch=${ARCH:-skipgram}
epochs=${EPOCHS:-1}
threads=${THREADS:-2}
repeat=${REPEAT:-3}
mkdir -p "$out"
for m in $sizes; do
    c="$out/synth-${m}M.txt"
    [ -s "$c" ] || "$w" synth --tokens $((m * 1000000)) -o "$c" 2>/dev/null
done
: > "$out/runs.tsv"
for r in $(seq "$repeat"); do
    for m in $sizes; do
        /usr/bin/time -f "%e %M" -o "$out/$m.time" "$w" "$arch" "$out/synth-${m}M.txt" \
            -o "$out/model-$m" --epochs "$epochs" --threads "$threads" --quiet 2> "$out/$m.log"
        read -r wall kb < <(tail -1 "$out/$m.time")
        rate=$(grep -o '[0-9]* words/s' "$out/$m.log" | head -1 | cut -d' ' -f1)
        printf "%s\t%s\t%s\t%s\n" "$m" "$wall" "$kb" "$rate" >> "$out/runs.tsv"
        rm -rf "$out/model-$m"
    done
done
python3 - "$out" "$arch" "$epochs" "$threads" "$repeat" "$sizes" <<'PY'
import os, statistics, sys
out, arch, epochs, threads, repeat, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6].split()
runs = {}
for line in open(os.path.join(out, "runs.tsv")):
    m, wall, kb, rate = line.split("\t")
    runs.setdefault(m, []).append((float(wall), int(kb), int(rate)))
print(f"{arch}, {epochs} epoch(s), {threads} threads, {repeat} interleaved round(s): median (min–max); "
      "wall = the whole command, vocabulary pass included\n")
print("| tokens | corpus MB | wall s | ns per token | vs first | trainer words/s | peak RSS MiB |")
print("|---|---|---|---|---|---|---|")
first = None
for m in sizes:
    rs = runs[m]
    walls = [r[0] for r in rs]
    wall = statistics.median(walls)
    ns = wall * 1e9 / (int(m) * 1e6 * epochs)
    first = first or ns
    mb = os.path.getsize(os.path.join(out, f"synth-{m}M.txt")) / 1e6
    print(f"| {m}M | {mb:,.0f} | {wall:.1f} ({min(walls):.1f}–{max(walls):.1f}) | {ns:.0f} | {ns / first:.3f} | "
          f"{statistics.median([r[2] for r in rs]):,.0f} | {max(r[1] for r in rs) / 1024:.0f} |")
PY
