#!/usr/bin/env bash
# Scale: a 2,000,000-word vocabulary at dim 300 (input + output matrices 2 × 2.4 GB) trains and
# exports with memory bounded by the mapping, not by RAM.
#   bash benches/scale.sh [OUT] [LIMIT_GIB]
# Prints peak RSS (anonymous and file-backed) against matrix size. With LIMIT_GIB, and where the
# cgroup-v1 memory controller is writable (root), the runs are confined to that much memory, page
# cache included: the kernel must write mapped pages back and read them again.
set -euo pipefail
out=${1:-bench-out/scale}
limit_gib=${2:-}
w=$(realpath "${WEMBED:-target/release/wembed}")
mkdir -p "$out"
corpus="$out/corpus.txt"
if [ ! -s "$corpus" ]; then
python3 - "$corpus" <<'PY'
import random, sys
# 2,000,000 rare words, each 3 times, mixed with 1,000 frequent ones: 12M tokens in lines of 20.
random.seed(1)
rare = 2_000_000
with open(sys.argv[1], "w") as f:
    line = []
    for k in range(3 * rare):
        line.append(f"r{(k * 7919) % rare}")
        line.append(f"f{int(random.paretovariate(1.2)) % 1000}")
        if len(line) >= 20:
            f.write(" ".join(line) + "\n")
            line = []
PY
fi
cg=""
if [ -n "$limit_gib" ] && [ -w /sys/fs/cgroup/memory ] && mkdir -p /sys/fs/cgroup/memory/wembed-scale 2>/dev/null; then
    cg=/sys/fs/cgroup/memory/wembed-scale
    echo $((limit_gib << 30)) > $cg/memory.limit_in_bytes
    echo "memory limit: $limit_gib GiB (cgroup v1, page cache included)"
fi
run() {  # label, command...
    local label=$1; shift
    [ -n "$cg" ] && echo 0 > $cg/memory.max_usage_in_bytes
    bash -c 'if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs"; fi; shift; exec "$@"' _ "$cg" \
        /usr/bin/time -f "%e %M" -o "$out/$label.time" "$@" &
    local pid=$! anon=0 file=0
    while kill -0 $pid 2>/dev/null; do
        for p in $(pgrep -f "$w" || true); do
            a=$(awk '/RssAnon/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)
            f=$(awk '/RssFile/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)
            [ "${a:-0}" -gt "$anon" ] && anon=$a
            [ "${f:-0}" -gt "$file" ] && file=$f
        done
        sleep 0.5
    done
    wait $pid
    read -r secs rss < "$out/$label.time"
    local cgpeak="-"
    [ -n "$cg" ] && cgpeak=$(( $(cat $cg/memory.max_usage_in_bytes) >> 20 ))
    printf "| %s | %.0f | %d | %d | %d | %s |\n" "$label" "$secs" $((rss >> 10)) $((anon >> 10)) $((file >> 10)) "$cgpeak"
}
echo "| step | seconds | peak RSS MiB | peak anonymous MiB | peak file-backed MiB | cgroup peak MiB |"
echo "|---|---|---|---|---|---|"
run skipgram "$w" skipgram "$corpus" -o "$out/model" --min-count 1 --dim 300 --epochs 1 --threads 2 -q
run export-bin "$w" export "$out/model" --format word2vec-bin -o "$out/vectors.bin"
mkdir -p "$out/npy"
run export-npy-f16 "$w" export "$out/model" --format npy --dtype f16 -o "$out/npy/vectors.npy"
words=$(wc -l < "$out/model/vocab.txt")
echo "vocabulary: $words words; input.npy $(( $(stat -c %s "$out/model/input.npy") >> 20 )) MiB, output.npy $(( $(stat -c %s "$out/model/output.npy") >> 20 )) MiB"
[ -n "$cg" ] && rmdir $cg 2>/dev/null || true
