#!/usr/bin/env python3
"""Quality against CPU time: wembed at several epoch counts and each peer at a few of its own
settings, every point scored on analogy (questions-words.txt, 3CosAdd over the 30,000 most
frequent words), wordsim353 and MEN with `wembed eval`, on one corpus, in one run.

usage: python3 benches/quality_per_cpu.py --arch skipgram [--points wembed:1,wembed:3,word2vec-c:5,...]
       [--seeds 1] [--corpus ../shared/corpora/mixed-en.txt.gz] [--threads 2] [--out bench-out/quality]

A point is TOOL:EPOCHS, or TOOL:EPOCHS:d for the tool's own default learning rate (and schedule)
instead of word2vec's (fastText's default is 0.05 for both architectures, gensim's 0.025 for
both, finalfrontier's 0.05), so that each tool's default run can be measured. Tools: wembed, word2vec-c (../shared/anchors/build.sh; --word2vec-c PATH),
fasttext (apt-get install fasttext; a word-level model, -minn 0 -maxn 0), gensim (pip install
gensim), finalfrontier (cargo install finalfrontier --version 0.9.4; --subwords none).
Settings as word2vec's documentation: dim 100, window 5, negative 5, sample 1e-4, min-count 5,
lr 0.025 skip-gram / 0.05 CBOW (finalfrontier: its own lr schedule at the same start).

CPU seconds are user + system of the whole command (vocabulary pass included), from
/usr/bin/time. "passes" is how many times the tool reads the corpus: EPOCHS for the word2vec
family; finalfrontier's epochs count the tokens kept after subsampling, so its passes are
EPOCHS / keep rate. The keep rate (word2vec's formula, which fastText, gensim and finalfrontier
share: sqrt(t/f) + t/f, capped at 1) is computed from the corpus's counts.

Writes TABLE.md, points.csv and quality-ARCH.png (matplotlib, when installed) to --out; prints
the table. Tools are interleaved within a seed, so drift in load hits them alike.
"""
import argparse, csv, gzip, json, math, os, shutil, statistics, subprocess, sys, time
from collections import Counter

ap = argparse.ArgumentParser()
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap.add_argument("--arch", default="skipgram", choices=["skipgram", "cbow"])
ap.add_argument("--points", default="wembed:1,wembed:3,wembed:5,wembed:9,word2vec-c:1,word2vec-c:5")
ap.add_argument("--seeds", type=int, default=1)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpora", "mixed-en.txt.gz"))
ap.add_argument("--eval", default=os.path.join(root, "..", "shared", "eval"))
ap.add_argument("--out", default=os.path.join(root, "bench-out", "quality"))
ap.add_argument("--wembed", default=os.path.join(root, "target", "release", "wembed"))
ap.add_argument("--word2vec-c", default="/tmp/anchors/word2vec")
ap.add_argument("--finalfrontier", default=os.path.expanduser("~/.cargo/bin/finalfrontier"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
DIM, WS, NEG, T, MINC = 100, 5, 5, 1e-4, 5
LR = {"skipgram": 0.025, "cbow": 0.05}[a.arch]

text = os.path.join(a.out, "..", "corpus.txt")
if not os.path.exists(text):
    with gzip.open(a.corpus, "rb") as src, open(text, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
counts = Counter()
with open(text, "rb") as f:
    for line in f:
        counts.update(line.split())
kept = {w: c for w, c in counts.items() if c >= MINC}
n = sum(kept.values())
keep_rate = sum(c * min(1.0, math.sqrt(T * n / c) + T * n / c) for c in kept.values()) / n
tokens = sum(counts.values())

GENSIM = """
import sys
from gensim.models import Word2Vec
sg, threads, out, text, seed, epochs = int(sys.argv[1]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
own = {} if sys.argv[2] == "default" else {"alpha": float(sys.argv[2])}
m = Word2Vec(corpus_file=text, sg=sg, vector_size=%d, window=%d, negative=%d, sample=%g, min_count=%d,
             epochs=epochs, workers=threads, hs=0, seed=seed, **own)
m.wv.save_word2vec_format(out, binary=True)
""" % (DIM, WS, NEG, T, MINC)


def command(tool, epochs, own_lr, seed, label):
    sg = a.arch == "skipgram"
    out = os.path.join(a.out, label)
    cmd = tool_command(tool, epochs, seed, out, sg)
    if own_lr:
        flag = {"wembed": "--lr", "word2vec-c": "-alpha", "fasttext": "-lr", "finalfrontier": "--lr"}.get(tool)
        if flag:
            i = cmd[1].index(flag)
            del cmd[1][i:i + 2]
        else:
            cmd[1][cmd[1].index(str(LR))] = "default"
    return cmd


def tool_command(tool, epochs, seed, out, sg):
    if tool == "wembed":
        return out, [a.wembed, a.arch, text, "-o", out, "-q", "--force", "--threads", str(a.threads),
                     "--dim", str(DIM), "--window", str(WS), "--negative", str(NEG), "--epochs", str(epochs),
                     "--min-count", str(MINC), "--sample", str(T), "--lr", str(LR), "--seed", str(seed),
                     "--checkpoint-secs", "0"]
    if tool == "word2vec-c":
        return out + ".bin", [a.word2vec_c, "-train", text, "-output", out + ".bin", "-cbow", "0" if sg else "1",
                              "-size", str(DIM), "-window", str(WS), "-negative", str(NEG), "-hs", "0",
                              "-sample", str(T), "-threads", str(a.threads), "-iter", str(epochs),
                              "-min-count", str(MINC), "-alpha", str(LR), "-binary", "1"]
    if tool == "fasttext":
        return out + ".vec", ["fasttext", a.arch, "-input", text, "-output", out, "-minn", "0", "-maxn", "0",
                              "-dim", str(DIM), "-ws", str(WS), "-neg", str(NEG), "-epoch", str(epochs),
                              "-minCount", str(MINC), "-t", str(T), "-lr", str(LR), "-thread", str(a.threads),
                              "-verbose", "0", "-seed", str(seed)]
    if tool == "gensim":
        return out + ".bin", [sys.executable, "-c", GENSIM, "1" if sg else "0", str(LR), str(a.threads),
                              out + ".bin", text, str(seed), str(epochs)]
    if tool == "finalfrontier":
        model = "skipgram" if sg else "dirgram"
        if not sg:
            sys.exit("finalfrontier has no CBOW")
        return out + ".w2v", [a.finalfrontier, model, "--subwords", "none", "--dims", str(DIM), "--context", str(WS),
                              "--ns", str(NEG), "--discard", str(T), "--mincount", str(MINC), "--epochs", str(epochs),
                              "--lr", str(LR), "--threads", str(a.threads), "-f", "word2vec", text, out + ".w2v"]
    sys.exit(f"unknown tool {tool}")


def timed(cmd, label):
    stats = os.path.join(a.out, label + ".time")
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats] + cmd, capture_output=True)
    wall = time.time() - t0
    if r.returncode != 0:
        sys.exit(f"{label} failed: {r.stderr.decode()[-2000:]}")
    user, sys_, _ = open(stats).read().split()[-3:]
    return float(user) + float(sys_), wall


def evaluate(vectors):
    ev = a.eval
    r = subprocess.run([a.wembed, "eval", vectors, "--json", "--analogy", os.path.join(ev, "questions-words.txt"),
                        "--similarity", os.path.join(ev, "wordsim353.tsv"), os.path.join(ev, "men.tsv")],
                       check=True, capture_output=True, text=True)
    j = json.loads(r.stdout)
    tot = j["analogy"]["total"]
    # No scored pair (a corpus whose words miss the set) gives no correlation: NaN.
    sims = [s["report"]["spearman"] if s["report"]["spearman"] is not None else float("nan") for s in j["similarity"]]
    # Accuracy over the questions answered (all four words among the top 30,000), as
    # word2vec's compute-accuracy and gensim report it; coverage is the same for every tool.
    return 100.0 * tot["correct"] / max(tot["answered"], 1), sims[0], sims[1]


def point(p):
    f = p.split(":")
    if len(f) not in (2, 3) or (len(f) == 3 and f[2] != "d"):
        sys.exit(f"a point is TOOL:EPOCHS or TOOL:EPOCHS:d, not {p}")
    return f[0], int(f[1]), len(f) == 3


points = [point(p) for p in a.points.split(",")]
results = {p: [] for p in points}
for seed in range(1, a.seeds + 1):
    for tool, epochs, own_lr in points:
        label = f"{tool}-{a.arch}-{epochs}e{'-own-lr' if own_lr else ''}-s{seed}"
        vec, cmd = command(tool, epochs, own_lr, seed, label)
        cpu, wall = timed(cmd, label)
        acc, ws, men = evaluate(vec)
        results[(tool, epochs, own_lr)].append((cpu, wall, acc, ws, men))
        print(f"done {label}: {cpu:.0f} CPU s, {wall:.0f} s, analogy {acc:.2f}, ws353 {ws:.3f}, MEN {men:.3f}",
              file=sys.stderr, flush=True)
        if tool == "wembed":
            shutil.rmtree(vec, ignore_errors=True)
        else:
            for f in (vec, os.path.join(a.out, label + ".bin")):
                if os.path.exists(f):
                    os.remove(f)


def med(xs):
    return statistics.median(xs)


def spread(xs, fmt):
    return "" if len(xs) < 2 else f" ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


lines = [f"{a.arch}, {os.path.basename(a.corpus)} ({tokens:,} tokens), dim {DIM}, window {WS}, negative {NEG}, "
         f"sample {T} (keep rate {keep_rate:.3f}), min-count {MINC}, lr {LR}, {a.threads} threads; "
         f"{a.seeds} seed(s) per point: median (min–max)", "",
         "| tool | epochs | passes | CPU s | wall s | analogy % | wordsim353 | MEN |", "|---|---|---|---|---|---|---|---|"]
rows = []
for (tool, epochs, own_lr), rs in results.items():
    col = lambda i: [r[i] for r in rs]
    passes = epochs / keep_rate if tool == "finalfrontier" else epochs
    tool = tool + " (own lr)" if own_lr else tool
    rows.append((tool, epochs, passes, med(col(0)), med(col(1)), med(col(2)), med(col(3)), med(col(4))))
    lines.append(f"| {tool} | {epochs} | {passes:.1f} | {med(col(0)):.0f}{spread(col(0), '{:.0f}')} | {med(col(1)):.0f} | "
                 f"{med(col(2)):.2f}{spread(col(2), '{:.2f}')} | {med(col(3)):.3f}{spread(col(3), '{:.3f}')} | "
                 f"{med(col(4)):.3f}{spread(col(4), '{:.3f}')} |")
table = "\n".join(lines)
print(table)
open(os.path.join(a.out, f"TABLE-{a.arch}.md"), "w").write(table + "\n")
with open(os.path.join(a.out, f"points-{a.arch}.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["tool", "epochs", "passes", "cpu_s", "wall_s", "analogy", "wordsim353", "men"])
    w.writerows(rows)
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(no matplotlib: no PNG; pip install matplotlib)", file=sys.stderr)
    sys.exit(0)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
for ax, k, name in zip(axes, (5, 6, 7), ("analogy % (3CosAdd, top 30k)", "wordsim353 Spearman", "MEN Spearman")):
    for tool in dict.fromkeys(r[0] for r in rows):
        pts = sorted((r[3], r[k], r[1]) for r in rows if r[0] == tool)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=tool)
        for x, y, e in pts:
            ax.annotate(str(e), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("CPU seconds (log)")
    ax.set_title(name)
    ax.grid(alpha=0.3)
axes[0].legend()
fig.suptitle(f"{a.arch} on {os.path.basename(a.corpus)}: quality against CPU time (labels: epochs)")
fig.tight_layout()
fig.savefig(os.path.join(a.out, f"quality-{a.arch}.png"), dpi=110)
