#!/usr/bin/env bash
# LM training speed of two builds at the benchmark's settings (V 10k, dim 128, 2 layers, 4 heads,
# batch 16 x 64), runs alternated so that the machine's drift falls on both, medians printed.
#   bash benches/lm_speed.sh OLD_WEMBED NEW_WEMBED [RUNS=5] [STEPS=60] [CORPUS]
# Both builds must print the same losses: the script compares their metrics.csv.
set -euo pipefail
old=$1 new=$2 runs=${3:-5} steps=${4:-60}
corpus=${5:-../shared/corpora/mixed-en.txt.gz}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(zcat -f "$corpus" || true) | head -c 30000000 > "$out/corpus.txt"
speed() { # binary tag run
  "$1" lm train --corpus "$out/corpus.txt" --vocab-size 10000 --dim 128 --layers 2 --heads 4 \
    --context 64 --batch 16 --steps "$steps" --eval-every "$steps" --valid-tokens 4096 --seed 1 \
    --checkpoint-secs 0 -o "$out/$2" --force -q >/dev/null
  tail -1 "$out/$2/metrics.csv" | cut -d, -f5
}
for r in $(seq "$runs"); do
  a=$(speed "$old" old) b=$(speed "$new" new)
  # Train and validation loss as printed (5 decimals); perplexity, its exponential, is left out.
  cmp -s <(cut -d, -f2-3 "$out/old/metrics.csv") <(cut -d, -f2-3 "$out/new/metrics.csv") ||
    echo "losses differ in run $r:" $(cut -d, -f2-3 "$out/old/metrics.csv" | tail -1) / $(cut -d, -f2-3 "$out/new/metrics.csv" | tail -1)
  echo "$a $b"
done | awk '
  NF == 2 { k++; o[k] = $1; n[k] = $2; q[k] = $2 / $1; printf "run %d: %.0f -> %.0f tokens/s (%.2fx)\n", k, $1, $2, $2 / $1; next }
  { print }
  function median(a, k,  i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
  END { printf "| build | tokens/s (median of %d) |\n|---|---|\n| old | %.0f |\n| new | %.0f |\nmedian of per-run ratios: %.2fx\n", k, median(o, k), median(n, k), median(q, k) }'
