#!/usr/bin/env bash
# What the token embedding costs the LM (issue 19, experiment 3): its share of the parameters, of
# the step time and of peak memory, at vocabularies of 10k and 30k words, tied and untied.
#   bash benches/lm_embedding_cost.sh [RUNS=3] [STEPS=60] [CORPUS]
# Each setting trains RUNS times (seeds 1..RUNS, settings interleaved) at the benchmark's model (dim
# 128, 2 layers, 4 heads, batch 16 x 64) on the first 30 MB of the corpus. The embedding's share of
# step time and of memory is measured against the same model with a 100-word vocabulary, whose
# embedding and output layer are negligible: share = (x(V) - x(100)) / x(V), on medians.
# Parameters are read from the checkpoint's safetensors header, optimizer state ("opt.*") left out;
# the embedding's are the token matrix ("tok.weight") and, untied, the output matrix ("head.*").
set -euo pipefail
runs=${1:-3} steps=${2:-60}
corpus=${3:-../shared/corpora/mixed-en.txt.gz}
w=${WEMBED:-target/release/wembed}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(zcat -f "$corpus" || true) | head -c 30000000 > "$out/corpus.txt"
for r in $(seq "$runs"); do
  for v in 100 10000 30000; do
    for tie in tied untied; do
      flag=$([ "$tie" = untied ] && echo --untied || true)
      dir="$out/$v-$tie"
      /usr/bin/time -f "%M" -o "$out/rss" "$w" lm train --corpus "$out/corpus.txt" \
        --vocab-size "$v" $flag --dim 128 --layers 2 --heads 4 --context 64 --batch 16 \
        --steps "$steps" --eval-every "$steps" --valid-tokens 4096 --seed "$r" \
        --checkpoint-secs 0 -o "$dir" --force -q > /dev/null
      tps=$(tail -1 "$dir/metrics.csv" | cut -d, -f5)
      echo "$v $tie $r $tps $(cat "$out/rss") $dir/model.safetensors"
    done
  done
done | python3 -c '
import json, statistics, struct, sys
rows = {}
for line in sys.stdin:
    v, tie, r, tps, rss, st = line.split()
    with open(st, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
    sizes = {k: 1 for k in head if k != "__metadata__" and not k.startswith("opt.")}
    for k in sizes:
        for d in head[k]["shape"]:
            sizes[k] *= d
    emb = sum(s for k, s in sizes.items() if k == "tok.weight" or k.startswith("head."))
    rows.setdefault((int(v), tie), []).append((float(tps), int(rss) / 1024, emb, sum(sizes.values())))
print("| vocabulary | output | parameters | embedding share of parameters | tokens/s (median) | ms per step | embedding share of step time | peak RSS MiB | embedding share of memory |")
print("|---|---|---|---|---|---|---|---|---|")
tok_per_step = 16 * 64
for tie in ("tied", "untied"):
    base = rows[(100, tie)]
    b_ms = 1000 * tok_per_step / statistics.median(x[0] for x in base)
    b_rss = statistics.median(x[1] for x in base)
    for v in (100, 10000, 30000):
        xs = rows[(v, tie)]
        tps = statistics.median(x[0] for x in xs)
        ms, rss = 1000 * tok_per_step / tps, statistics.median(x[1] for x in xs)
        emb, tot = xs[0][2], xs[0][3]
        lo, hi = min(x[0] for x in xs), max(x[0] for x in xs)
        print(f"| {v:,} | {tie} | {tot:,} | {100 * emb / tot:.1f}% | {tps:,.0f} ({lo:,.0f}-{hi:,.0f}) | {ms:.0f} | "
              f"{100 * (ms - b_ms) / ms:.0f}% | {rss:.0f} | {100 * (rss - b_rss) / rss:.0f}% |")
'
