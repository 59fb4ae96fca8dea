#!/usr/bin/env bash
# What a consistent checkpoint costs at scale: skip-gram on the 2,000,000-word corpus of
# benches/scale.sh (dim 300: input + output 2 × 2.3 GB), once with a checkpoint every SECS
# seconds and once without. Prints each checkpoint's copy time, the run times and the peak disk
# use of the model folder (partial files + snapshots).
#   bash benches/checkpoint_cost.sh [OUT] [SECS]
set -euo pipefail
out=${1:-bench-out/scale}
secs=${2:-60}
w=$(realpath "${WEMBED:-target/release/wembed}")
mkdir -p "$out"
corpus="$out/corpus.txt"
[ -s "$corpus" ] || { echo "run benches/scale.sh first (it writes $corpus)"; exit 1; }
run() {  # label, checkpoint seconds
    local model="$out/ck-$1" peak=0
    rm -rf "$model"
    /usr/bin/time -f "%e" -o "$out/ck-$1.time" "$w" skipgram "$corpus" -o "$model" --min-count 1 \
        --dim 300 --epochs 1 --threads 2 --checkpoint-secs "$2" --log-every 0 2> "$out/ck-$1.log" &
    local pid=$!
    while kill -0 $pid 2>/dev/null; do
        k=$(du -sm "$model" 2>/dev/null | cut -f1 || echo 0)
        [ "${k:-0}" -gt "$peak" ] && peak=$k
        sleep 1
    done
    wait $pid
    grep "checkpoint" "$out/ck-$1.log" || true
    printf "| %s | %s | %s |\n" "$1" "$(tail -1 "$out/ck-$1.time")" "$peak"
}
echo "| run | seconds | peak folder MiB |"
echo "|---|---|---|"
run "every-${secs}s" "$secs"
run "none" 0
