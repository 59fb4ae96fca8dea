#!/usr/bin/env python3
"""Subword models (fastText's) side by side: `wembed skipgram|cbow --subwords` against `fasttext
skipgram|cbow` at the same settings (issue 17's: dim 100, window 5, negative 5, sample 1e-4,
5 epochs, min-count 5, minn 3, maxn 6, bucket 2,000,000, 2 threads), tools interleaved per seed.

usage: python3 benches/subwords.py [--arch skipgram,cbow] [--seeds 1] [--oov]
       [--corpus ../shared/corpora/mixed-en.txt.gz] [--out bench-out/subwords]

Per run: wall and CPU seconds and peak RSS (/usr/bin/time), words/s (corpus tokens × epochs /
wall: the same count for both tools), the mapped matrices' size ((words + bucket) × dim + words ×
dim floats), and analogy / wordsim353 / MEN from `wembed eval` (which reads fastText's .bin: the
vocabulary's vectors as fastText's .vec holds them).

--oov: the out-of-vocabulary test. A fifth of the words of wordsim353 and MEN (chosen by a hash
of the word, not by looking at scores) are deleted from every line of the corpus; both tools train
on what is left, and the pairs with a deleted word are scored with vectors built from n-grams:
`wembed vector` for wembed, `fasttext print-word-vectors` for fastText (Spearman, ties ranked by
their mean). The other pairs are scored too, for reference.
"""
import argparse, gzip, json, os, shutil, statistics, subprocess, sys, time, zlib
from collections import Counter

ap = argparse.ArgumentParser()
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap.add_argument("--arch", default="skipgram,cbow")
ap.add_argument("--seeds", type=int, default=1)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--epochs", type=int, default=5)
ap.add_argument("--oov", action="store_true", help="train on the corpus with the held-out words deleted")
ap.add_argument("--tools", default="wembed,fasttext")
ap.add_argument("--bucket", type=int, default=2_000_000)
ap.add_argument("--wembed-lr", help="wembed's --lr (default: its own default)")
ap.add_argument("--wembed-args", default="", help="more wembed flags, space-separated")
ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpora", "mixed-en.txt.gz"))
ap.add_argument("--eval", default=os.path.join(root, "..", "shared", "eval"))
ap.add_argument("--out", default=os.path.join(root, "bench-out", "subwords"))
ap.add_argument("--wembed", default=os.path.join(root, "target", "release", "wembed"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
DIM, WS, NEG, T, MINC, MINN, MAXN, BUCKET = 100, 5, 5, 1e-4, 5, 3, 6, a.bucket
SIMS = [os.path.join(a.eval, f) for f in ("wordsim353.tsv", "men.tsv")]


def sim_pairs(path):
    pairs = []
    for line in open(path, encoding="utf-8"):
        f = line.split()
        if len(f) >= 3 and not line.startswith("#"):
            try:
                pairs.append((f[0].lower(), f[1].lower(), float(f[2])))
            except ValueError:
                pass  # a header line
    return pairs


def held_out(word):
    return zlib.crc32(word.encode()) % 5 == 0


def prepare_corpus():
    """The corpus as plain text (and, with --oov, with the held-out words deleted)."""
    name = "corpus-oov.txt" if a.oov else "corpus.txt"
    text = os.path.join(a.out, name)
    if os.path.exists(text):
        return text
    words = {w for p in SIMS for x, y, _ in sim_pairs(p) for w in (x, y)}
    gone = {w for w in words if held_out(w)}
    with gzip.open(a.corpus, "rt", encoding="utf-8", errors="replace") as src, open(text + ".tmp", "w") as dst:
        for line in src:
            toks = line.split()
            if a.oov:
                toks = [t for t in toks if t.lower() not in gone]
            dst.write(" ".join(toks) + "\n")
    os.rename(text + ".tmp", text)
    return text


def tokens_of(text):
    """Tokens, and the size in MiB of the matrices both tools keep: (words + bucket) × dim input
    rows and words × dim output rows, for the words of at least min-count occurrences."""
    counts = Counter()
    with open(text, "rb") as f:
        for line in f:
            counts.update(line.split())
    words = sum(1 for c in counts.values() if c >= MINC)
    return sum(counts.values()), ((words + BUCKET) * DIM + words * DIM) * 4 / 2**20


def command(tool, arch, seed, out, text):
    if tool == "wembed":
        return out, [a.wembed, arch, text, "-o", out, "-q", "--force", "--subwords", "--threads", str(a.threads),
                     "--dim", str(DIM), "--window", str(WS), "--negative", str(NEG), "--epochs", str(a.epochs),
                     "--min-count", str(MINC), "--sample", str(T), "--minn", str(MINN), "--maxn", str(MAXN),
                     "--bucket", str(BUCKET), "--seed", str(seed), "--checkpoint-secs", "0"] + \
            (["--lr", a.wembed_lr] if a.wembed_lr else []) + a.wembed_args.split()
    return out + ".bin", ["fasttext", arch, "-input", text, "-output", out, "-dim", str(DIM), "-ws", str(WS),
                          "-neg", str(NEG), "-epoch", str(a.epochs), "-minCount", str(MINC), "-t", str(T),
                          "-minn", str(MINN), "-maxn", str(MAXN), "-bucket", str(BUCKET),
                          "-thread", str(a.threads), "-verbose", "0", "-seed", str(seed)]


def timed(cmd, label):
    stats = os.path.join(a.out, label + ".time")
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats] + cmd, capture_output=True)
    wall = time.time() - t0
    if r.returncode != 0:
        sys.exit(f"{label} failed: {r.stderr.decode()[-2000:]}")
    user, sys_, rss = open(stats).read().split()[-3:]
    return float(user) + float(sys_), wall, int(rss) / 1024


def evaluate(model):
    r = subprocess.run([a.wembed, "eval", model, "--json", "--analogy", os.path.join(a.eval, "questions-words.txt"),
                        "--similarity"] + SIMS, check=True, capture_output=True, text=True)
    j = json.loads(r.stdout)
    tot = j["analogy"]["total"]
    sims = [s["report"]["spearman"] for s in j["similarity"]]
    return 100.0 * tot["correct"] / max(tot["answered"], 1), sims[0], sims[1]


def vectors_of(tool, model, words):
    cmd = [a.wembed, "vector", model] if tool == "wembed" else ["fasttext", "print-word-vectors", model]
    r = subprocess.run(cmd, input="\n".join(words) + "\n", capture_output=True, text=True, check=True)
    out = {}
    for w, line in zip(words, r.stdout.splitlines()):
        out[w] = [float(x) for x in line.split(" ")[1:] if x]
    return out


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(xs, ys):
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    num = sum((x - mx) * (y - my) for x, y in zip(rx, ry))
    den = (sum((x - mx) ** 2 for x in rx) * sum((y - my) ** 2 for y in ry)) ** 0.5
    return num / den if den else float("nan")


def cosine(u, v):
    nu, nv = sum(x * x for x in u) ** 0.5, sum(x * x for x in v) ** 0.5
    return sum(x * y for x, y in zip(u, v)) / (nu * nv) if nu and nv else 0.0


def oov_scores(tool, model):
    """Spearman on the pairs with a held-out word, and on the others, per similarity set."""
    res = []
    for path in SIMS:
        pairs = sim_pairs(path)
        vec = vectors_of(tool, model, sorted({w for x, y, _ in pairs for w in (x, y)}))
        for part in (True, False):
            ps = [(x, y, s) for x, y, s in pairs if (held_out(x) or held_out(y)) == part]
            res.append((spearman([s for _, _, s in ps], [cosine(vec[x], vec[y]) for x, y, _ in ps]), len(ps)))
    return res


text = prepare_corpus()
tokens, mapped_mib = tokens_of(text)
rows = []
for seed in range(1, a.seeds + 1):
    for arch in a.arch.split(","):
        for tool in a.tools.split(","):
            label = f"{tool}-{arch}-{'oov-' if a.oov else ''}s{seed}"
            model, cmd = command(tool, arch, seed, os.path.join(a.out, label), text)
            cpu, wall, rss = timed(cmd, label)
            acc, ws, men = evaluate(model)
            row = {"tool": tool, "arch": arch, "seed": seed, "cpu_s": cpu, "wall_s": wall, "rss_mib": rss, "rss_over_mapped_mib": rss - mapped_mib,
                   "words_per_s": tokens * a.epochs / wall, "analogy": acc, "ws353": ws, "men": men}
            if a.oov:
                (ws_o, n1), (ws_i, _), (men_o, n2), (men_i, _) = oov_scores(tool, model)
                row.update({"ws353_oov": ws_o, "ws353_oov_pairs": n1, "ws353_rest": ws_i,
                            "men_oov": men_o, "men_oov_pairs": n2, "men_rest": men_i})
            rows.append(row)
            print("done " + label + ": " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                    for k, v in row.items()), file=sys.stderr, flush=True)
            if os.path.isdir(model):
                shutil.rmtree(model, ignore_errors=True)
            else:
                for ext in (".bin", ".vec"):
                    p = os.path.join(a.out, label + ext)
                    if os.path.exists(p):
                        os.remove(p)

with open(os.path.join(a.out, "runs%s.jsonl" % ("-oov" if a.oov else "")), "a") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
keys = ["wall_s", "cpu_s", "words_per_s", "rss_mib", "rss_over_mapped_mib", "analogy", "ws353", "men"] + \
       (["ws353_oov", "men_oov", "ws353_rest", "men_rest"] if a.oov else [])
print(f"{os.path.basename(a.corpus)}{' with held-out words deleted' if a.oov else ''} ({tokens:,} tokens), "
      f"{a.epochs} epochs, {a.threads} threads, {a.seeds} seed(s), matrices {mapped_mib:.0f} MiB: "
      f"median (min–max)\n")
print("| arch | tool | " + " | ".join(keys) + " |")
print("|---|---|" + "---|" * len(keys))
for arch in a.arch.split(","):
    for tool in a.tools.split(","):
        rs = [r for r in rows if r["arch"] == arch and r["tool"] == tool]
        cells = []
        for k in keys:
            xs = [r[k] for r in rs if r[k] is not None and r[k] == r[k]]
            if not xs:
                cells.append("–")
                continue
            fmt = "{:.0f}" if k in ("wall_s", "cpu_s", "words_per_s", "rss_mib", "rss_over_mapped_mib") else \
                "{:.2f}" if k == "analogy" else "{:.3f}"
            cell = fmt.format(statistics.median(xs))
            if len(xs) > 1:
                cell += f" ({fmt.format(min(xs))}–{fmt.format(max(xs))})"
            cells.append(cell)
        print(f"| {arch} | {tool} | " + " | ".join(cells) + " |")
