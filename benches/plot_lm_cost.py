#!/usr/bin/env python3
"""Figure of issue 19's experiment 3: the token embedding's share of the LM's parameters, step time
and peak memory per vocabulary size, tied and untied, from the table benches/lm_embedding_cost.sh
printed (as benches/results/lm-embedding-cost.csv).

  python3 benches/plot_lm_cost.py benches/results/lm-embedding-cost.csv -o lm-embedding-cost.png
"""
import argparse
import csv

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("-o", "--out", required=True)
a = ap.parse_args()
rows = [r for r in csv.DictReader(open(a.csv)) if r["vocab"] != "100"]
measures = [("param_share", "parameters"), ("time_share", "step time"), ("memory_share", "peak memory")]
colours = ["#0072B2", "#E69F00", "#009E73"]   # Okabe-Ito
fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
labels = [f"V {int(r['vocab']):,}\n{r['output']}" for r in rows]
width = 0.26
for k, ((key, name), colour) in enumerate(zip(measures, colours)):
    xs = [i + (k - 1) * width for i in range(len(rows))]
    vals = [100 * float(r[key]) for r in rows]
    bars = ax.bar(xs, vals, width, label=name, color=colour, edgecolor="black", linewidth=0.5)
    for x, v in zip(xs, vals):
        ax.text(x, v + 1, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
ax.set_xticks(range(len(rows)), labels)
ax.set_ylim(0, 105)
ax.set_ylabel("embedding (and output layer) share, %")
ax.set_title("What the token embedding costs the LM (dim 128, 2 layers, batch 16 x 64)")
ax.legend(loc="upper left", frameon=False, ncol=3)
ax.spines[["top", "right"]].set_visible(False)
fig.tight_layout()
fig.savefig(a.out)
