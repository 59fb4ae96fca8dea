#!/usr/bin/env bash
# The LM benchmark of BENCHMARKS.md: random vs pretrained token embeddings on mixed-en.
#   bash benches/lm_bench.sh [CORPUS] [OUT]
# Splits the corpus by line (every 100th line held out), trains skip-gram vectors (dim 128) on the
# train half only, then trains the same Transformer four ways from the same seed and batches.
set -euo pipefail
corpus=${1:-../shared/corpora/mixed-en.txt.gz}
out=${2:-bench-out/lm}
w=${WEMBED:-target/release/wembed}
mkdir -p "$out"
"$w" lm split "$corpus" -o "$out/split" --holdout 100 -q
/usr/bin/time -f "skipgram: %e s, peak RSS %M KiB" \
  "$w" skipgram "$out/split/train.txt" -o "$out/sg128" --dim 128 -q
"$w" lm compare --corpus "$out/split/train.txt" --valid "$out/split/valid.txt" --init "$out/sg128" \
  --vocab-size 10000 --dim 128 --layers 2 --heads 4 --context 64 --batch 16 \
  --steps 2000 --eval-every 200 --valid-tokens 32768 --freeze-steps 200 \
  --arms random,raw,std,std-freeze -o "$out/compare"
