#!/usr/bin/env bash
# wembed GloVe beside the Stanford tool on one corpus (BENCHMARKS.md, issue 16), every run scored
# on analogy, wordsim353 and MEN by `wembed eval`.
#
# usage: benches/glove_vs_stanford.sh OUT_DIR [SEEDS] [CORPUS]
#   CORPUS: plain text (default /tmp/q16/corpus.txt, which benches/quality_per_cpu.py writes from
#   ../shared/corpora/mixed-en.txt.gz); the Stanford tools from ../shared/anchors/build.sh
#   /tmp/anchors (ANCHORS=DIR to point elsewhere); STANFORD_SEEDS (default SEEDS) runs of them.
#
# Per seed: wembed at its own defaults (x_max 100, 25 iterations), wembed at the Stanford demo's
# settings (x_max 10, 15 iterations: W + W~ and W alone), and the Stanford pipeline
# (vocab_count, cooccur, shuffle, glove -model 2 at x_max 10, 15 iterations) with the same seed.
# All at window 10, dim 100, min-count 5, 2 threads. Prints one line per run: CPU s (user + sys,
# /usr/bin/time), wall s, analogy %, wordsim353, MEN. The Stanford text output gets its header
# fixed (it appends <unk> after writing the count).
set -euo pipefail
OUT=${1:?usage: glove_vs_stanford.sh OUT_DIR [SEEDS] [CORPUS]}
SEEDS=${2:-1}
C=${3:-/tmp/q16/corpus.txt}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${WEMBED:-$ROOT/target/release/wembed}
E=$ROOT/../shared/eval
A=${ANCHORS:-/tmp/anchors}
mkdir -p "$OUT"
cd "$OUT"
score() { # label time-file vectors
    local j
    j=$($W eval "$3" --analogy $E/questions-words.txt --similarity $E/wordsim353.tsv $E/men.tsv --json)
    python3 -c '
import json, sys
j = json.loads(sys.argv[2]); t = open(sys.argv[3]).read().split()
tot = j["analogy"]["total"]; sims = [s["report"]["spearman"] for s in j["similarity"]]
cpu, wall, acc = float(t[0]) + float(t[1]), float(t[2]), 100 * tot["correct"] / max(tot["answered"], 1)
print(f"| {sys.argv[1]} | {cpu:.0f} | {wall:.0f} | {acc:.2f} | {sims[0]:.3f} | {sims[1]:.3f} |", flush=True)
' "$1" "$j" "$2"
}
echo "| run | CPU s | wall s | analogy % | wordsim353 | MEN |"
echo "|---|---|---|---|---|---|"
common=(--dim 100 --window 10 --min-count 5 --threads 2 -q --checkpoint-secs 0 --force)
for s in $(seq 1 "$SEEDS"); do
    /usr/bin/time -f "%U %S %e" -o default.time $W glove "$C" -o default "${common[@]}" --seed "$s"
    score "wembed defaults (x_max 100, 25 iter), seed $s" default.time default/vectors.bin
    /usr/bin/time -f "%U %S %e" -o demo.time $W glove "$C" -o demo "${common[@]}" --x-max 10 --iter 15 --seed "$s"
    score "wembed x_max 10, 15 iter, W + W~, seed $s" demo.time demo/vectors.bin
    $W export demo -f word2vec-bin --which input -o w.bin 2>/dev/null
    score "wembed x_max 10, 15 iter, W alone, seed $s" demo.time w.bin
    if [ "$s" -le "${STANFORD_SEEDS:-$SEEDS}" ]; then
        /usr/bin/time -f "%U %S %e" -o stanford.time sh -c "$A/vocab_count -min-count 5 -verbose 0 < $C > vocab.txt && $A/cooccur -memory 4.0 -vocab-file vocab.txt -window-size 10 -verbose 0 < $C > cooc.bin && $A/shuffle -memory 4.0 -seed $s -verbose 0 < cooc.bin > cooc.shuf.bin && $A/glove -input-file cooc.shuf.bin -vocab-file vocab.txt -save-file vectors -threads 2 -x-max 10 -iter 15 -vector-size 100 -binary 0 -write-header 1 -seed $s -verbose 0"
        (echo "$(($(wc -l < vectors.txt) - 1)) 100"; tail -n +2 vectors.txt) > vectors.fixed.txt
        score "Stanford x_max 10, 15 iter, seed $s" stanford.time vectors.fixed.txt
        rm -f cooc.bin cooc.shuf.bin
    fi
done
