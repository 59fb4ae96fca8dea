#!/usr/bin/env bash
# Do f16 vectors as LM init change anything (issue 19, experiment 3)? The same vectors exported as
# f32 and as f16 (`wembed export MODEL -f safetensors [--dtype f16]`) initialise the same LM (the
# benchmark's: V 10k, dim 128, 2 layers, batch 16 x 64, default init scale), seeds 1..RUNS, the two
# arms alternated; prints each run's validation perplexity at the end and the per-seed difference.
#   bash benches/lm_f16_init.sh CORPUS F32_VECTORS F16_VECTORS [RUNS=3] [STEPS=500]
set -euo pipefail
corpus=$1 v32=$2 v16=$3 runs=${4:-3} steps=${5:-500}
w=${WEMBED:-target/release/wembed}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| seed | f32 init: valid ppl | f16 init: valid ppl | difference |"
echo "|---|---|---|---|"
for r in $(seq "$runs"); do
  for arm in f32 f16; do
    v=$([ "$arm" = f32 ] && echo "$v32" || echo "$v16")
    "$w" lm train --corpus "$corpus" --init "$v" --vocab-size 10000 --dim 128 --layers 2 --heads 4 \
      --context 64 --batch 16 --steps "$steps" --eval-every "$steps" --seed "$r" \
      --checkpoint-secs 0 -o "$out/$arm" --force -q > /dev/null
  done
  a=$(tail -1 "$out/f32/metrics.csv" | cut -d, -f4) b=$(tail -1 "$out/f16/metrics.csv" | cut -d, -f4)
  echo "| $r | $a | $b | $(python3 -c "print(f'{$b - $a:+.3f}')") |"
done
