#!/usr/bin/env bash
# Issue 19, experiment 1: does pretraining help an LM whose own data is small and of another kind?
# Vectors: skip-gram (dim 128, defaults) on mixed-en without the Python documentation. LM: the
# benchmark's model (dim 128, 2 layers, 4 heads, context 64, tied, batch 16) with a 5,000-word
# vocabulary, trained on about 100k or 1M tokens of the Python documentation and scored on 50k
# held-out tokens of it (benches/lm_transfer_data.py). Every arm of one seed has the same weights
# seed and batches; seeds 1..SEEDS. Writes OUT/SIZE.csv (every seed's compare.csv), OUT/SIZE.png and
# prints the summary tables (benches/lm_summary.py).
# SPECS (SIZE:STEPS:EVERY ...) changes the runs; a run of other steps than the default's goes to
# OUT/SIZE-STEPS (the overfitting run: 100k:2000:100).
#   bash benches/lm_transfer.sh [OUT=bench-out/lm-transfer] [SEEDS=3] [ARMS=random,raw,std,unit] [SPECS]
set -euo pipefail
defaults="100k:600:50 1m:1500:100"
out=${1:-bench-out/lm-transfer} seeds=${2:-3} arms=${3:-random,raw,std,unit} specs=${4:-$defaults}
w=${WEMBED:-target/release/wembed}
here=$(dirname "$0")
[ -f "$out/valid.txt" ] || python3 "$here/lm_transfer_data.py" "$out"
[ -f "$out/sg128/config.json" ] || "$w" skipgram "$out/vectors.txt" -o "$out/sg128" --dim 128 -q
# size, steps, evaluation interval: about 6 passes over 100k tokens, 1.5 over 1M
for spec in $specs; do
  IFS=: read -r size steps every <<< "$spec"
  name=$size
  [[ " $defaults " == *" $spec "* ]] || name=$size-$steps
  for s in $(seq "$seeds"); do
    [ -f "$out/$name/seed$s/compare.csv" ] && continue
    "$w" lm compare --corpus "$out/train-$size.txt" --valid "$out/valid.txt" --init "$out/sg128" \
      --vocab-size 5000 --dim 128 --layers 2 --heads 4 --context 64 --batch 16 --steps "$steps" \
      --eval-every "$every" --valid-tokens 32768 --seed "$s" --checkpoint-secs 0 --arms "$arms" \
      -o "$out/$name/seed$s" --force -q > /dev/null
  done
  { head -1 "$out/$name/seed1/compare.csv"
    for s in $(seq "$seeds"); do tail -n +2 "$out/$name/seed$s/compare.csv"; done; } > "$out/$name.csv"
  "$w" lm plot "$out/$name.csv" -o "$out/$name.png" \
    --title "Python docs, $size training tokens, $steps steps"
  echo "## $size training tokens, $steps steps ($seeds seeds)"
  python3 "$here/lm_summary.py" "$out/$name.csv"
done
