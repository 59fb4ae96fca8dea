#!/usr/bin/env python3
"""Training from Python beside the CLI and gensim (issue 18, bar 3): the same skip-gram run
(dim 100, window 5, negative 5, sample 1e-4, min-count 5, 5 epochs, lr 0.025, 2 threads) by
`wembed skipgram`, by `wembed.train` from Python (a path, and an iterable of token lists), and by
gensim 4.4's `Word2Vec` given the same file through `corpus_file=` and through `LineSentence`,
interleaved, each scored on analogy (30,000 most frequent words), wordsim353 and MEN by
`wembed eval`.

usage: python3 benches/python_vs_cli.py [--seeds 1] [--tools cli,python,python-iter,gensim-file,gensim-line]
       [--corpus ../shared/corpora/mixed-en.txt.gz] [--python PYTHON] [--out bench-out/python]

PYTHON is an interpreter with the package installed (python/test.sh leaves one in
target/python-venv) and gensim. Words/s is corpus words × epochs over wall time of the whole
run (vocabulary pass included), CPU s is user + system from the child's rusage.
"""
import argparse, gzip, json, os, resource, shutil, statistics, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap = argparse.ArgumentParser()
ap.add_argument("--seeds", type=int, default=1)
ap.add_argument("--tools", default="cli,python,gensim-file,gensim-line")
ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpora", "mixed-en.txt.gz"))
ap.add_argument("--eval", default=os.path.join(root, "..", "shared", "eval"))
ap.add_argument("--python", default=os.path.join(root, "target", "python-venv", "bin", "python"))
ap.add_argument("--wembed", default=os.path.join(root, "target", "release", "wembed"))
ap.add_argument("--out", default=os.path.join(root, "bench-out", "python"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
text = os.path.join(a.out, "corpus.txt")
if not os.path.exists(text):
    with gzip.open(a.corpus, "rb") as src, open(text, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
tokens = sum(len(l.split()) for l in open(text, "rb"))
EPOCHS = 5

PY_PATH = """
import sys, wembed
wembed.train(sys.argv[1], model="skipgram", output=sys.argv[2], dim=100, window=5, negative=5,
             sample=1e-4, min_count=5, epochs=5, lr=0.025, threads=2, seed=int(sys.argv[3]),
             force=True, progress=False)
"""
PY_ITER = PY_PATH.replace("wembed.train(sys.argv[1],", "wembed.train(LineSentence(sys.argv[1]),").replace(
    "import sys, wembed", "import sys, wembed\nfrom gensim.models.word2vec import LineSentence")
GENSIM = """
import sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
kw = dict(sg=1, vector_size=100, window=5, negative=5, sample=1e-4, min_count=5, epochs=5,
          alpha=0.025, workers=2, seed=int(sys.argv[3]))
m = Word2Vec(corpus_file=sys.argv[1], **kw) if sys.argv[4] == "file" else Word2Vec(LineSentence(sys.argv[1]), **kw)
m.wv.save_word2vec_format(sys.argv[2], binary=True)
"""


def command(tool, seed, out):
    if tool == "cli":
        return [a.wembed, "skipgram", text, "-o", out, "--force", "-q", "--dim", "100", "--window", "5",
                "--negative", "5", "--sample", "1e-4", "--min-count", "5", "--epochs", "5", "--lr", "0.025",
                "--threads", "2", "--seed", str(seed)], out
    if tool == "python":
        return [a.python, "-c", PY_PATH, text, out, str(seed)], out
    if tool == "python-iter":
        return [a.python, "-c", PY_ITER, text, out, str(seed)], out
    kind = tool.split("-")[1]
    return [a.python, "-c", GENSIM, text, out + ".bin", str(seed), kind], out + ".bin"


def score(vectors):
    r = subprocess.run([a.wembed, "eval", vectors, "--analogy", os.path.join(a.eval, "questions-words.txt"),
                        "--similarity", os.path.join(a.eval, "wordsim353.tsv"), os.path.join(a.eval, "men.tsv"),
                        "--json"], capture_output=True, text=True, check=True)
    j = json.loads(r.stdout)
    tot = j["analogy"]["total"]
    return 100 * tot["correct"] / max(tot["answered"], 1), [s["report"]["spearman"] for s in j["similarity"]]


rows = []
for seed in range(1, a.seeds + 1):
    # Even seeds run the tools in reverse order, so that a machine drifting over the run (these
    # are shared hosts) does not favour whichever tool comes first.
    order = a.tools.split(",")
    for tool in order if seed % 2 else order[::-1]:
        out = os.path.join(a.out, f"{tool}-s{seed}")
        cmd, vectors = command(tool, seed, out)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.time()
        subprocess.run(cmd, check=True)
        wall = time.time() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        acc, (ws, men) = score(vectors)
        row = dict(tool=tool, seed=seed, wall_s=wall, cpu_s=cpu, words_per_s=tokens * EPOCHS / wall,
                   analogy=acc, ws353=ws, men=men)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        with open(os.path.join(a.out, "runs.jsonl"), "a") as f:
            f.write(json.dumps(row) + "\n")

print(f"corpus {tokens:,} tokens, {EPOCHS} epochs, medians of {a.seeds} seed(s)\n")
print("| run | wall s | CPU s | words/s | vs CLI | analogy % | wordsim353 | MEN |")
print("|---|---|---|---|---|---|---|---|")
med = lambda t, k: statistics.median(r[k] for r in rows if r["tool"] == t)
cli = med("cli", "words_per_s") if any(r["tool"] == "cli" for r in rows) else None
by_seed = {(r["tool"], r["seed"]): r["words_per_s"] for r in rows}
for tool in a.tools.split(","):
    wps = med(tool, "words_per_s")
    ratio = f"{wps / cli:.3f}" if cli else ""
    print(f"| {tool} | {med(tool, 'wall_s'):.1f} | {med(tool, 'cpu_s'):.1f} | {wps:,.0f} | {ratio} | "
          f"{med(tool, 'analogy'):.2f} | {med(tool, 'ws353'):.3f} | {med(tool, 'men'):.3f} |")
if cli:
    for tool in a.tools.split(","):
        if tool != "cli":
            ratios = [by_seed[(tool, s)] / by_seed[("cli", s)] for s in range(1, a.seeds + 1)]
            print(f"\n{tool} / cli words/s per seed: {', '.join(f'{q:.3f}' for q in ratios)}; "
                  f"median {statistics.median(ratios):.3f}")
