#!/usr/bin/env python3
"""How far the trainers are from the machine's limit (issue 20): the arithmetic a finished run did,
counted from its `config.json`, over its wall time, as GFLOP/s and as a share of the FMA peak that
`cargo bench --bench peak` measured on the same number of threads.

usage: python3 benches/flops.py --peak GFLOPS MODEL_DIR...

FLOP per unit of work (negative sampling, k = negative + 1 targets, d = dim; a multiply-add is 2):
- skip-gram, per context word: k dots (2d each), k gradient terms into the context's gradient and
  k into the target rows (2d each), and the context row's update (2d): (6k + 2)·d.
- CBOW, per context word: its row summed in (2d) and updated (2d); per centre: the mean (d) and the
  k targets (6d each): 4d·contexts + (6k + 1)·d·centres.
- GloVe, per record and iteration: the dot (2d), then per dimension two gradients (2 multiplies),
  the learning rate (2), AdaGrad's square roots and divisions (4), the squared-gradient sums (4),
  the finite check (2) and the updates (4): 20d. Square roots and divisions are not FMAs, so
  GloVe's share understates how busy its arithmetic units are.
Counts are the trainer's own (`training.centres` and `training.contexts`, `training.records`), so
subsampling, the random window and sentence ends are included exactly. Subword models are not
counted (their rows per word vary).
"""
import argparse, json, os

ap = argparse.ArgumentParser()
ap.add_argument("--peak", type=float, required=True, help="FMA GFLOP/s of the run's thread count")
ap.add_argument("models", nargs="+")
a = ap.parse_args()


def flop(cfg):
    h, t = cfg["hyperparameters"], cfg["training"]
    d, trainer = h["dim"], cfg["trainer"]
    if trainer == "glove":
        train = next(s for s in t["stages"] if s["name"] == "train")
        return 20 * d * t["records"] * h["iter"], train["seconds"], "training stage"
    if h.get("subwords"):
        raise SystemExit(f"{trainer} with subwords: not counted")
    if h.get("hs"):
        raise SystemExit(f"{trainer} with hierarchical softmax: not counted")
    k = h["negative"] + 1
    if trainer == "skipgram":
        work = (6 * k + 2) * d * t["contexts"]
    else:
        work = 4 * d * t["contexts"] + (6 * k + 1) * d * t["centres"]
    return work, t["seconds"], "training"


print("| model | trainer | threads | GFLOP | seconds | GFLOP/s | share of FMA peak |")
print("|---|---|---|---|---|---|---|")
for m in a.models:
    cfg = json.load(open(os.path.join(m, "config.json")))
    if not cfg["training"].get("contexts", 1) and cfg["trainer"] != "glove":
        raise SystemExit(f"{m}: no work counts (trained before they were recorded)")
    work, secs, what = flop(cfg)
    rate = work / secs / 1e9
    print(f"| {m} | {cfg['trainer']} | {cfg['hyperparameters']['threads']} | {work / 1e9:,.0f} | "
          f"{secs:.1f} ({what}) | {rate:.1f} | {100 * rate / a.peak:.1f}% |")
