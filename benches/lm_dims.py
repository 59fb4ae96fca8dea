#!/usr/bin/env python3
"""Issue 19, experiment 2: how wide should the embedding be?

For each dimension: skip-gram vectors (defaults) on the transfer experiment's vector corpus
(mixed-en without the Python documentation; benches/lm_transfer_data.py makes it), their quality
on ../shared/eval (analogy, wordsim353, MEN) with their training time and peak RSS; then the LM at
that width (2 layers, 4 heads, context 64, tied, batch 16, 5,000 words) trained on the 100k-token
Python-docs set from those vectors and from random, seeds 1..SEEDS, with its final and best
validation perplexity, tokens/s, wall time and peak RSS. Reuses OUT/sgD when it holds a model
(its time is then read from OUT/sgD.time). Prints one table; --csv writes it for the plot.

  python3 benches/lm_dims.py OUT [--dims 32,64,128,256] [--seeds 3] [--init-scale unit]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("out")
ap.add_argument("--dims", default="32,64,128,256")
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--init-scale", default="unit")
ap.add_argument("--arms", default="random,pretrained")
ap.add_argument("--wembed", default=os.environ.get("WEMBED", "target/release/wembed"))
ap.add_argument("--eval", default=os.path.join(here, "..", "..", "shared", "eval"))
ap.add_argument("--csv", help="write the table's numbers here")
a = ap.parse_args()


def timed(cmd, log):
    """Runs cmd under /usr/bin/time; returns (wall s, peak RSS MiB)."""
    subprocess.run(["/usr/bin/time", "-o", log, "-f", "%e %M", *cmd], check=True,
                   stdout=subprocess.DEVNULL)
    wall, kib = open(log).read().split()[-2:]
    return float(wall), int(kib) / 1024


def quality(model):
    ev = a.eval
    r = subprocess.run([a.wembed, "eval", model, "--json", "--analogy",
                        os.path.join(ev, "questions-words.txt"), "--similarity",
                        os.path.join(ev, "wordsim353.tsv"), os.path.join(ev, "men.tsv")],
                       check=True, capture_output=True, text=True)
    j = json.loads(r.stdout)
    tot = j["analogy"]["total"]
    return [100.0 * tot["correct"] / max(tot["answered"], 1)] + [s["report"]["spearman"] for s in j["similarity"]]


def lm(dim, arm, seed):
    run = os.path.join(a.out, "dims", f"d{dim}-{arm}-s{seed}")
    init = ["--init", os.path.join(a.out, f"sg{dim}"), "--init-scale", a.init_scale] if arm != "random" else []
    wall, rss = timed([a.wembed, "lm", "train", "--corpus", os.path.join(a.out, "train-100k.txt"),
                       "--valid", os.path.join(a.out, "valid.txt"), *init, "--vocab-size", "5000",
                       "--dim", str(dim), "--layers", "2", "--heads", "4", "--context", "64",
                       "--batch", "16", "--steps", str(a.steps), "--eval-every", "50",
                       "--valid-tokens", "32768", "--seed", str(seed), "--checkpoint-secs", "0",
                       "-o", run, "--force", "-q"], run + ".time")
    rows = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
    ppl = [float(r["valid_ppl"]) for r in rows]
    return {"final": ppl[-1], "best": min(ppl), "tokens_s": float(rows[-1]["tokens_per_s"]),
            "wall": wall, "rss": rss}


def med(xs):
    return statistics.median(xs)


def rng(xs, d=1):
    return f"{med(xs):,.{d}f} ({min(xs):,.{d}f}-{max(xs):,.{d}f})"


dims = [int(d) for d in a.dims.split(",")]
os.makedirs(os.path.join(a.out, "dims"), exist_ok=True)
arms = a.arms.split(",")
rows = []
for dim in dims:
    model = os.path.join(a.out, f"sg{dim}")
    tlog = model + ".time"
    if not os.path.exists(os.path.join(model, "config.json")):
        timed([a.wembed, "skipgram", os.path.join(a.out, "vectors.txt"), "-o", model, "--dim", str(dim),
               "-q", "--force"], tlog)
    vwall, vrss = (float(x) for x in open(tlog).read().split()[-2:]) if os.path.exists(tlog) else (float("nan"),) * 2
    q = quality(model)
    runs = {arm: [lm(dim, arm, s) for s in range(1, a.seeds + 1)] for arm in arms}
    rows.append((dim, vwall, vrss / 1024 if vrss == vrss else vrss, q, runs))
    print(f"dim {dim} done", file=sys.stderr)

print("| dim | vectors: wall s | vectors: peak RSS MiB | analogy % | wordsim353 | MEN | LM arm | "
      "final ppl | best ppl | tokens/s | LM wall s | LM peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for dim, vwall, vrss, q, runs in rows:
    for arm, rs in runs.items():
        print(f"| {dim} | {vwall:.0f} | {vrss:.0f} | {q[0]:.2f} | {q[1]:.3f} | {q[2]:.3f} | {arm} | "
              f"{rng([r['final'] for r in rs])} | {rng([r['best'] for r in rs])} | "
              f"{rng([r['tokens_s'] for r in rs], 0)} | {med([r['wall'] for r in rs]):.0f} | "
              f"{med([r['rss'] for r in rs]):.0f} |")
if a.csv:
    with open(a.csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dim", "arm", "seed", "analogy", "wordsim353", "men", "final_ppl", "best_ppl",
                    "tokens_per_s", "lm_wall_s", "lm_rss_mib", "vectors_wall_s", "vectors_rss_mib"])
        for dim, vwall, vrss, q, runs in rows:
            for arm, rs in runs.items():
                for s, r in enumerate(rs, 1):
                    w.writerow([dim, arm, s, f"{q[0]:.2f}", f"{q[1]:.4f}", f"{q[2]:.4f}", f"{r['final']:.3f}",
                                f"{r['best']:.3f}", f"{r['tokens_s']:.0f}", f"{r['wall']:.1f}",
                                f"{r['rss']:.0f}", f"{vwall:.1f}", f"{vrss:.0f}"])
