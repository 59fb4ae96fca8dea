#!/usr/bin/env python3
"""GloVe on the benchmark corpus: each stage's time and peak RSS, quality, and the bounded-memory run.

usage: python3 benches/glove_bench.py [--corpus ../shared/corpora/mixed-en.txt.gz] [--threads 2]

Runs `wembed glove` with the issue's settings (dim 100, window 10, min-count 5, x_max 10,
15 iterations) twice: with --memory 0.25 (GiB) and with the default 4; prints per-stage seconds and
peak RSS (from wembed's own stage report, VmHWM reset between stages), whole-run peak RSS, analogy
accuracy (3CosAdd, top 30k) and wordsim353 Spearman of vectors.bin (W + W~).
"""
import argparse, json, os, re, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpora", "mixed-en.txt.gz"))
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--memory", default="0.25,4")
ap.add_argument("--iter", type=int, default=15)
ap.add_argument("--wembed", default=os.path.join(root, "target", "release", "wembed"))
ap.add_argument("--out", default=os.path.join(root, "bench-out"))
ap.add_argument("--eval", default=os.path.join(root, "..", "shared", "eval"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)

rows = []
for mem in a.memory.split(","):
    model = os.path.join(a.out, f"glove-mem{mem}")
    t0 = time.time()
    r = subprocess.run([a.wembed, "glove", a.corpus, "-o", model, "-q",
                        "--threads", str(a.threads), "--dim", "100", "--window", "10", "--min-count", "5",
                        "--x-max", "10", "--iter", str(a.iter), "--memory", mem], capture_output=True, text=True)
    wall = time.time() - t0
    if r.returncode != 0:
        sys.exit(r.stderr)
    # wembed resets the kernel's high-water mark between stages (to report each stage's peak), and
    # getrusage reads that same mark, so the run's peak is the largest stage peak.
    cfg = json.load(open(os.path.join(model, "config.json")))
    stages = {s["name"]: s for s in cfg["training"]["stages"]}
    peak = max(s["peak_rss_mib"] for s in stages.values())
    ev = subprocess.run([a.wembed, "eval", model + "/vectors.bin", "--json",
                         "--analogy", os.path.join(a.eval, "questions-words.txt"),
                         "--similarity", os.path.join(a.eval, "wordsim353.tsv")], capture_output=True, text=True, check=True)
    j = json.loads(ev.stdout)
    tot = j["analogy"]["total"]
    rows.append((mem, cfg["vocab"]["seconds"], stages, wall, peak, cfg["training"]["records"], cfg["training"]["spilled_runs"],
                 100 * tot["correct"] / tot["answered"], 100 * tot["answered"] / tot["questions"],
                 j["similarity"][0]["report"]["spearman"], cfg["training"]["cost"][-1]))
    print(f"done --memory {mem}: {wall:.1f} s", file=sys.stderr, flush=True)

print(f"corpus: {os.path.basename(a.corpus)}; dim 100, window 10, min-count 5, x_max 10, {a.iter} iterations, {a.threads} threads\n")
print("| --memory GiB | vocab s | count s (peak MiB) | merge+shuffle s (peak MiB) | train s | total s | peak RSS MiB | records | runs spilled | analogy % | coverage % | wordsim353 rho | final cost |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for mem, vs, st, wall, peak, recs, runs, acc, cov, rho, cost in rows:
    c, s, t = st["count"], st["merge+shuffle"], st["train"]
    print(f"| {mem} | {vs:.1f} | {c['seconds']:.1f} ({c['peak_rss_mib']:.0f}) | {s['seconds']:.1f} ({s['peak_rss_mib']:.0f}) | "
          f"{t['seconds']:.1f} | {wall:.1f} | {peak:.0f} | {recs:,} | {runs} | {acc:.2f} | {cov:.1f} | {rho:.4f} | {cost:.4f} |")
