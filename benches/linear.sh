#!/usr/bin/env bash
# Scale in corpus size: one trainer on the project's synthetic corpora of 10M, 100M and 300M
# tokens. Time should grow linearly (the same time per token at every size) and peak memory should
# not grow at all: the reader streams, and the matrices depend on the vocabulary, not the corpus.
#   bash benches/linear.sh [OUT]
# Environment: SIZES (millions of tokens, default "10 100 300"; the first is the base), ARCH
# (skipgram), EPOCHS (1), THREADS (2), REPEAT (3: rounds over all sizes, interleaved; the tables
# show medians), MATCHED (1: also time duration-matched blocks, below; 0 skips them). The corpora
# (about 7.5 bytes a token) are generated once and kept in OUT.
#
# Why the matched blocks: on this shared 2-core machine, two busy threads run at about 60% of their
# speed for stretches of a minute or more (a plain C loop shows such dips too), so a 4-second run
# and a 2-minute run do not meet the same machine. Next to each bigger run, the base corpus is
# therefore also trained N/base times back to back (the same number of tokens, the same minutes
# of the machine, but every process as short as the base run). If wembed's cost per token grew
# with the corpus, the single long run would be slower than its block; if only the machine
# drifts, both see it alike. Within a round the two alternate which goes first.
set -euo pipefail
out=${1:-bench-out/linear}
w=$(realpath "${WEMBED:-target/release/wembed}")
sizes=${SIZES:-"10 100 300"}
arch=${ARCH:-skipgram}
epochs=${EPOCHS:-1}
threads=${THREADS:-2}
repeat=${REPEAT:-3}
matched=${MATCHED:-1}
base=${sizes%% *}
mkdir -p "$out"
for m in $sizes; do
    c="$out/synth-${m}M.txt"
    [ -s "$c" ] || "$w" synth --tokens $((m * 1000000)) -o "$c" 2>/dev/null
done

# One training run of corpus $1 (millions); appends "kind size wall kb rate" to runs.tsv.
train() {
    local m=$1 kind=$2 size=$3
    /usr/bin/time -f "%e %M" -o "$out/run.time" "$w" "$arch" "$out/synth-${m}M.txt" \
        -o "$out/model" --epochs "$epochs" --threads "$threads" --quiet 2> "$out/run.log"
    read -r wall kb < <(tail -1 "$out/run.time")
    rate=$(grep -o '[0-9]* words/s' "$out/run.log" | head -1 | cut -d' ' -f1)
    printf "%s\t%s\t%s\t%s\t%s\n" "$kind" "$size" "$wall" "$kb" "$rate" >> "$out/runs.tsv"
    rm -rf "$out/model"
}

block() {
    local m=$1
    for _ in $(seq $((m / base))); do train "$base" block "$m"; done
}

: > "$out/runs.tsv"
for r in $(seq "$repeat"); do
    for m in $sizes; do
        if [ "$matched" = 1 ] && [ "$m" != "$base" ] && [ $((r % 2)) = 0 ]; then
            block "$m"
            train "$m" single "$m"
        else
            train "$m" single "$m"
            [ "$matched" = 1 ] && [ "$m" != "$base" ] && block "$m"
        fi
    done
done
python3 - "$out" "$arch" "$epochs" "$threads" "$repeat" "$sizes" <<'PY'
import os, statistics, sys
out, arch, epochs, threads, repeat, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6].split()
single, block = {}, {}
for line in open(os.path.join(out, "runs.tsv")):
    kind, m, wall, kb, rate = line.split("\t")
    (single if kind == "single" else block).setdefault(m, []).append((float(wall), int(kb), int(rate)))
base = sizes[0]
print(f"{arch}, {epochs} epoch(s), {threads} threads, {repeat} interleaved round(s): median (min–max); "
      "wall = the whole command, vocabulary pass included\n")
print("| tokens | corpus MB | wall s | ns per token | vs first | trainer words/s | peak RSS MiB |")
print("|---|---|---|---|---|---|---|")
first = None
for m in sizes:
    rs = single[m]
    walls = [r[0] for r in rs]
    wall = statistics.median(walls)
    ns = wall * 1e9 / (int(m) * 1e6 * epochs)
    first = first or ns
    mb = os.path.getsize(os.path.join(out, f"synth-{m}M.txt")) / 1e6
    print(f"| {m}M | {mb:,.0f} | {wall:.1f} ({min(walls):.1f}–{max(walls):.1f}) | {ns:.0f} | {ns / first:.3f} | "
          f"{statistics.median([r[2] for r in rs]):,.0f} | {max(r[1] for r in rs) / 1024:.0f} |")
if block:
    print(f"\nDuration-matched: each run beside the {base}M corpus trained (size/{base}) times back to back in the same "
          f"round; per round, ns per token of the single run and of its block; median over rounds (min–max)\n")
    print("| tokens | single run ns/token | block of base runs ns/token | single / block |")
    print("|---|---|---|---|")
    for m in sizes[1:]:
        n = int(m) // int(base)
        s = [r[0] * 1e9 / (int(m) * 1e6 * epochs) for r in single[m]]
        walls = [r[0] for r in block[m]]
        b = [sum(walls[i:i + n]) * 1e9 / (int(m) * 1e6 * epochs) for i in range(0, len(walls), n)]
        ratio = [x / y for x, y in zip(s, b)]
        f = lambda xs, p: f"{statistics.median(xs):.{p}f} ({min(xs):.{p}f}–{max(xs):.{p}f})"
        print(f"| {m}M | {f(s, 0)} | {f(b, 0)} | {f(ratio, 3)} |")
PY
