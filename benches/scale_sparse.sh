#!/usr/bin/env bash
# Scale under a memory limit smaller than the matrices: a 2,000,000-word vocabulary at dim 300
# (2 × 2.3 GB) trained on a sparse corpus (3M tokens over its 20,000 most frequent words, with
# steeply falling vocabulary counts so that negatives, too, stay among the frequent rows), then
# exported, each confined to LIMIT_GIB (default 2) by a cgroup-v1 memory controller (root).
#   bash benches/scale_sparse.sh [OUT] [LIMIT_GIB]
set -euo pipefail
out=${1:-bench-out/scale-sparse}
limit_gib=${2:-2}
w=$(realpath "${WEMBED:-target/release/wembed}")
mkdir -p "$out"
python3 - "$out" <<'PY'
import random, sys
random.seed(2)
n = 2_000_000
with open(f"{sys.argv[1]}/vocab.txt", "w") as f:
    for i in range(n):
        f.write(f"w{i}\t{max(5, int(1e12 / (i + 1) ** 2))}\n")
with open(f"{sys.argv[1]}/c.txt", "w") as f:
    for _ in range(150_000):
        f.write(" ".join(f"w{min(int(random.paretovariate(0.8)) - 1, 19999)}" for _ in range(20)) + "\n")
PY
cg=/sys/fs/cgroup/memory/wembed-sparse
mkdir -p $cg
echo $((limit_gib << 30)) > $cg/memory.limit_in_bytes
confined() {  # label, command...
    local label=$1; shift
    echo 0 > $cg/memory.max_usage_in_bytes
    bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ $cg \
        /usr/bin/time -f "$label: %e s, peak RSS %M KiB" "$@"
    echo "$label: cgroup peak $(( $(cat $cg/memory.max_usage_in_bytes) >> 20 )) MiB (limit $limit_gib GiB)"
}
rm -rf "$out/m"
confined skipgram "$w" skipgram "$out/c.txt" --vocab "$out/vocab.txt" -o "$out/m" --dim 300 --epochs 1 --threads 2 -q
confined export "$w" export "$out/m" --format word2vec-bin -o "$out/v.bin"
ls -l "$out/m"/*.npy "$out/v.bin"
rmdir $cg 2>/dev/null || true
