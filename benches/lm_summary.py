#!/usr/bin/env python3
"""Summaries of `lm compare` CSVs of several seeds concatenated (one header):
per step, each arm's median validation perplexity (min-max over seeds); then per arm its final
and best perplexity (and best's step) and the first evaluated step at which it reached random's
final and random's best perplexity (seed by seed), each as a median over seeds with min-max.

  python3 benches/lm_summary.py CSV [--steps 0,100,...]
"""
import argparse
import csv
import math
import statistics
from collections import defaultdict


def fmt(values, digits=1):
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:,.{digits}f}"
    return f"{med:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--steps", help="steps of the per-step table (default: every evaluation)")
    a = ap.parse_args()
    # runs[arm] = list of {step: ppl}, one per seed; a seed starts again at step 0
    runs = defaultdict(list)
    for row in csv.DictReader(open(a.csv)):
        step, ppl = int(row["step"]), float(row["valid_ppl"])
        if step == 0 or not runs[row["arm"]]:
            runs[row["arm"]].append({})
        runs[row["arm"]][-1][step] = ppl
    arms = list(runs)
    steps = sorted({s for r in runs.values() for run in r for s in run})
    if a.steps:
        steps = [int(s) for s in a.steps.split(",")]
    print("| step | " + " | ".join(arms) + " |")
    print("|---|" + "---|" * len(arms))
    for s in steps:
        print(f"| {s} | " + " | ".join(fmt([run.get(s) for run in runs[arm]]) for arm in arms) + " |")
    print()
    random_final = [run[max(run)] for run in runs.get("random", [])]
    random_best = [min(run.values()) for run in runs.get("random", [])]
    print("| arm | final ppl | best ppl | step of best | step reaching random's final | step reaching random's best |")
    print("|---|---|---|---|---|---|")
    for arm in arms:
        finals = [run[max(run)] for run in runs[arm]]
        best = [min(run.values()) for run in runs[arm]]
        best_step = [float(min(run, key=run.get)) for run in runs[arm]]
        cells = [reach_step(runs[arm], random_final), reach_step(runs[arm], random_best)]
        if arm == "random":
            cells = ["-", "-"]
        print(f"| {arm} | {fmt(finals)} | {fmt(best)} | {fmt(best_step, 0)} | {cells[0]} | {cells[1]} |")


def reach_step(arm_runs, targets):
    """First evaluated step at which each seed's run is at or below that seed's target."""
    reach = []
    for run, target in zip(arm_runs, targets):
        hit = [s for s in sorted(run) if run[s] <= target]
        reach.append(float(hit[0]) if hit else None)
    missed = sum(r is None for r in reach)
    if missed == len(reach):
        return "not reached"
    return fmt(reach, 0) + (f" ({missed} seeds not)" if missed else "")

if __name__ == "__main__":
    main()
