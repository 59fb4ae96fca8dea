#!/usr/bin/env python3
"""One quality-against-CPU-time figure from several runs of benches/quality_per_cpu.py.

usage: python3 benches/plot_quality.py --title TITLE -o quality.png points-a.csv points-b.csv ...

Each CSV is a `points-ARCH.csv` that quality_per_cpu.py wrote. A point (tool, epochs) given in
several files is taken from the last one named, so list the 1-seed curves first and the 3-seed
deciding points after them. Writes the PNG and prints the merged table.
"""
import argparse, csv

ap = argparse.ArgumentParser()
ap.add_argument("--title", required=True)
ap.add_argument("-o", "--out", required=True)
ap.add_argument("csvs", nargs="+")
a = ap.parse_args()

points = {}
for path in a.csvs:
    with open(path) as f:
        for r in csv.DictReader(f):
            points[(r["tool"], int(r["epochs"]))] = r

rows = sorted(points.values(), key=lambda r: (r["tool"], float(r["cpu_s"])))
print("| tool | epochs | passes | CPU s | analogy % | wordsim353 | MEN |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['tool']} | {r['epochs']} | {float(r['passes']):.1f} | {float(r['cpu_s']):.0f} | "
          f"{float(r['analogy']):.2f} | {float(r['wordsim353']):.3f} | {float(r['men']):.3f} |")

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
names = ("analogy % (3CosAdd, top 30k)", "wordsim353 Spearman", "MEN Spearman")
for ax, key, name in zip(axes, ("analogy", "wordsim353", "men"), names):
    for tool in dict.fromkeys(r["tool"] for r in rows):
        pts = sorted((float(r["cpu_s"]), float(r[key]), r["epochs"]) for r in rows if r["tool"] == tool)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=tool)
        for x, y, e in pts:
            ax.annotate(e, (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("CPU seconds (log)")
    ax.set_title(name)
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
fig.suptitle(a.title)
fig.tight_layout()
fig.savefig(a.out, dpi=110)
