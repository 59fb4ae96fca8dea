#!/usr/bin/env python3
"""Figure of issue 19's experiment 2 from the CSV benches/lm_dims.py --csv wrote: vector quality
against dimension (left), the LM's final validation perplexity per arm against its width, median
of the seeds with a min-max band (middle), and its tokens/s (right).

  python3 benches/plot_lm_dims.py dims.csv -o lm-dims.png
"""
import argparse
import csv
import statistics
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("-o", "--out", required=True)
a = ap.parse_args()
rows = list(csv.DictReader(open(a.csv)))
dims = sorted({int(r["dim"]) for r in rows})
colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00"]   # Okabe-Ito
markers = ["o", "s", "^", "D"]
fig, axes = plt.subplots(1, 3, figsize=(14, 4.5), dpi=110)

q = {d: next(r for r in rows if int(r["dim"]) == d) for d in dims}
ax = axes[0]
for k, (key, name, scale) in enumerate([("analogy", "analogy %", 1), ("wordsim353", "wordsim353 x 100", 100),
                                         ("men", "MEN x 100", 100)]):
    ax.plot(dims, [float(q[d][key]) * scale for d in dims], marker=markers[k], color=colours[k], label=name)
ax.set_title("skip-gram vectors (mixed-en without Python docs)")
ax.set_ylabel("score")

def by_arm(key):
    out = defaultdict(lambda: defaultdict(list))
    for r in rows:
        out[r["arm"]][int(r["dim"])].append(float(r[key]))
    return out

for ax, key, title, ylabel in [(axes[1], "final_ppl", "LM on 100k tokens of Python docs", "validation perplexity (final)"),
                               (axes[2], "tokens_per_s", "LM training speed", "tokens/s (median of seeds)")]:
    for k, (arm, per_dim) in enumerate(by_arm(key).items()):
        ds = sorted(per_dim)
        med = [statistics.median(per_dim[d]) for d in ds]
        ax.plot(ds, med, marker=markers[k], color=colours[k],
                label="pretrained (unit)" if arm == "pretrained" else arm)
        if key == "final_ppl":
            ax.fill_between(ds, [min(per_dim[d]) for d in ds], [max(per_dim[d]) for d in ds],
                            color=colours[k], alpha=0.2, linewidth=0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    ax.set_xlabel("embedding dimension (log scale)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
fig.tight_layout()
fig.savefig(a.out)
