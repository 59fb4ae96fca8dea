#!/usr/bin/env python3
"""Side-by-side word2vec benchmark: wembed, fastText and gensim on one corpus, same settings, one run.

usage: python3 benches/word2vec_compare.py [--corpus ../shared/corpora/mixed-en.txt.gz] [--threads 2] [--repeat 3]
       [--archs skipgram,cbow] [--tools wembed,fasttext,gensim,word2vec-c] [--word2vec-c PATH] [--out bench-out]
       [--variant NAME=ARGS ...] (adds tool wembed:NAME, wembed with ARGS, e.g. ns05="--ns-exponent 0.5")

Needs: cargo build --release; apt-get install fasttext; pip install gensim.
All tools read the same decompressed text (fastText reads no gzip). Every output is evaluated by
`wembed eval` (3CosAdd over the 30,000 most frequent words, case-insensitive, like gensim's
evaluate_word_analogies; Spearman on wordsim353). words/s = corpus tokens x epochs / wall seconds
of the whole command (vocabulary pass included), the same definition for every tool. Peak RSS from
/usr/bin/time. Prints a Markdown table.

Repetition r runs every tool with seed r+1 (wembed --seed, fastText -seed, gensim seed=): the seed
moves CBOW's analogy accuracy by about a point on this corpus, more than two threads' run-to-run
jitter, so repeats with one fixed seed would measure one lucky or unlucky draw many times. The word2vec
C tool has no seed option (its threads seed themselves with their index); its repeats vary by timing only.
"""
import argparse, gzip, json, os, shlex, shutil, subprocess, sys, time

ap = argparse.ArgumentParser()
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpora", "mixed-en.txt.gz"))
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--archs", default="skipgram,cbow")
ap.add_argument("--tools", default="wembed,fasttext,gensim")
ap.add_argument("--repeat", type=int, default=1, help="runs per tool and model; the table shows medians and ranges")
ap.add_argument("--scaling", action="store_true", help="also time wembed skip-gram, 1 epoch, on 1 and 2 threads")
ap.add_argument("--out", default=os.path.join(root, "bench-out"))
ap.add_argument("--wembed", default=os.path.join(root, "target", "release", "wembed"))
ap.add_argument("--word2vec-c", default="/tmp/word2vec-c",
                help="the original word2vec C tool, for --tools ...,word2vec-c (see BENCHMARKS.md for how to build it)")
ap.add_argument("--eval", default=os.path.join(root, "..", "shared", "eval"))
ap.add_argument("--variant", action="append", default=[], metavar="NAME=ARGS",
                help="also run wembed with extra arguments, as tool wembed:NAME (repeatable)")
a = ap.parse_args()
VARIANTS = dict(v.split("=", 1) for v in a.variant)
tools = a.tools.split(",") + [f"wembed:{n}" for n in VARIANTS]
wembed = a.wembed
os.makedirs(a.out, exist_ok=True)

text = os.path.join(a.out, "corpus.txt")
if not os.path.exists(text):
    with open(a.corpus, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(a.corpus, "rb") as src, open(text, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
tokens = 0
with open(text, "rb") as f:
    for line in f:
        tokens += len(line.split())

DIM, WS, NEG, EPOCH, MINC, T = 100, 5, 5, 5, 5, 1e-4
LR = {"skipgram": 0.025, "cbow": 0.05}


def timed(cmd, label):
    rss = os.path.join(a.out, label + ".rss")
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.time() - t0
    if r.returncode != 0:
        sys.exit(f"{label} failed: {r.stderr.decode()[-2000:]}")
    with open(rss) as f:
        kb = int(f.read().strip().splitlines()[-1])
    return wall, kb / 1024 / 1024


def evaluate(vectors):
    r = subprocess.run([wembed, "eval", vectors, "--json",
                        "--analogy", os.path.join(a.eval, "questions-words.txt"),
                        "--similarity", os.path.join(a.eval, "wordsim353.tsv")],
                       check=True, capture_output=True, text=True)
    j = json.loads(r.stdout)
    tot = j["analogy"]["total"]
    sim = j["similarity"][0]["report"]
    return 100.0 * tot["correct"] / max(tot["answered"], 1), 100.0 * tot["answered"] / tot["questions"], sim["spearman"], sim["used"]


GENSIM = """
import sys, logging
from gensim.models import Word2Vec
sg, lr, threads, out, text, seed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
m = Word2Vec(corpus_file=text, sg=sg, vector_size=%d, window=%d, negative=%d, sample=%g, min_count=%d,
             epochs=%d, alpha=lr, workers=threads, hs=0, seed=seed)
m.wv.save_word2vec_format(out, binary=True)
""" % (DIM, WS, NEG, T, MINC, EPOCH)


def run(tool, arch, threads=a.threads, epochs=EPOCH, rep=0):
    label = f"{tool.replace(':', '-')}-{arch}-{threads}t-{epochs}e-r{rep}"
    lr = LR[arch]
    seed = rep + 1
    if tool.startswith("wembed"):
        model = os.path.join(a.out, label)
        cmd = [wembed, arch, text, "-o", model, "-q", "--threads", str(threads), "--dim", str(DIM), "--window", str(WS),
               "--negative", str(NEG), "--epochs", str(epochs), "--min-count", str(MINC), "--sample", str(T), "--lr", str(lr),
               "--seed", str(seed)]
        if ":" in tool:
            cmd += shlex.split(VARIANTS[tool.split(":", 1)[1]])
        vec = model
    elif tool == "word2vec-c":
        vec = os.path.join(a.out, label + ".bin")
        cmd = [a.word2vec_c, "-train", text, "-output", vec, "-cbow", "1" if arch == "cbow" else "0", "-size", str(DIM),
               "-window", str(WS), "-negative", str(NEG), "-hs", "0", "-sample", str(T), "-threads", str(threads),
               "-iter", str(epochs), "-min-count", str(MINC), "-alpha", str(lr), "-binary", "1"]
    elif tool == "fasttext":
        prefix = os.path.join(a.out, label)
        cmd = ["fasttext", arch, "-input", text, "-output", prefix, "-minn", "0", "-maxn", "0", "-dim", str(DIM),
               "-ws", str(WS), "-neg", str(NEG), "-epoch", str(epochs), "-minCount", str(MINC), "-t", str(T),
               "-lr", str(lr), "-thread", str(threads), "-verbose", "0", "-seed", str(seed)]
        vec = prefix + ".vec"
    else:
        vec = os.path.join(a.out, label + ".bin")
        cmd = [sys.executable, "-c", GENSIM, "1" if arch == "skipgram" else "0", str(lr), str(threads), vec, text, str(seed)]
    wall, gib = timed(cmd, label)
    return label, wall, tokens * epochs / wall, gib, vec


import statistics


def med(xs):
    return statistics.median(xs)


def rng(xs, fmt):
    return "" if len(xs) < 2 else f" ({fmt.format(min(xs))}–{fmt.format(max(xs))})"


rows = []
for arch in a.archs.split(","):
    runs = {tool: [] for tool in tools}
    for rep in range(a.repeat):
        # Tools interleaved within each repetition, so drift in machine load hits all of them alike.
        for tool in runs:
            label, wall, wps, gib, vec = run(tool, arch, rep=rep)
            acc, cov, rho, pairs = evaluate(vec)
            runs[tool].append((wall, wps, gib, acc, cov, rho, pairs))
            print(f"done {label}: {wall:.1f} s, analogy {acc:.2f}, rho {rho:.4f}", file=sys.stderr, flush=True)
    for tool, rs in runs.items():
        rows.append((tool, arch, rs))

print(f"corpus: {os.path.basename(a.corpus)} ({tokens:,} tokens); dim {DIM}, window {WS}, negative {NEG}, sample {T}, "
      f"min-count {MINC}, epochs {EPOCH}, lr 0.025 skip-gram / 0.05 CBOW, {a.threads} threads; "
      f"{a.repeat} run(s) per row: median (min–max)\n")
print("| tool | model | wall s | words/s | peak RSS GiB | analogy % (3CosAdd, top 30k) | coverage % | wordsim353 rho | pairs |")
print("|---|---|---|---|---|---|---|---|---|")
for tool, arch, rs in rows:
    col = lambda i: [r[i] for r in rs]
    print(f"| {tool} | {arch} | {med(col(0)):.1f}{rng(col(0), '{:.1f}')} | {med(col(1)):,.0f} | {max(col(2)):.2f} | "
          f"{med(col(3)):.2f}{rng(col(3), '{:.2f}')} | {med(col(4)):.1f} | {med(col(5)):.4f}{rng(col(5), '{:.4f}')} | {rs[0][6]} |")

by = {(tool, arch): rs for tool, arch, rs in rows}
for arch in a.archs.split(","):
    if ("wembed", arch) in by and ("fasttext", arch) in by:
        ratio = med([r[1] for r in by[("wembed", arch)]]) / med([r[1] for r in by[("fasttext", arch)]])
        print(f"\n{arch}: wembed words/s = {ratio:.2f} x fastText's (ratio of the medians)")

if a.scaling:
    print(f"\nThread scaling, wembed skip-gram, 1 epoch, {a.repeat} run(s) each, interleaved: median (min–max):\n")
    print("| threads | wall s | words/s | speed-up |")
    print("|---|---|---|---|")
    walls = {1: [], 2: []}
    for rep in range(a.repeat):
        for t in (1, 2):
            walls[t].append(run("wembed", "skipgram", threads=t, epochs=1, rep=rep)[1])
    base = tokens / med(walls[1])
    for t in (1, 2):
        wps = tokens / med(walls[t])
        print(f"| {t} | {med(walls[t]):.1f}{rng(walls[t], '{:.1f}')} | {wps:,.0f} | {wps / base:.2f} |")
