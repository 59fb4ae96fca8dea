#!/usr/bin/env python3
"""Data of the LM transfer experiment (issue 19, experiment 1), from mixed-en alone.

mixed-en's lines were shuffled together with random.Random(20261128) after the sources were read in
MANIFEST order, so shuffling the line numbers 0..N-1 with the same seed gives back which source
each line came from, exactly and with no download. One source (python-docs by default: technical
prose, unlike every other source) is held out:

  OUT/vectors.txt      every other line of mixed-en: the pretrained vectors' corpus
  OUT/valid.txt        the held-out source's last lines in mixed-en, about --valid-tokens tokens
  OUT/train-1m.txt     the rest of it (about a million tokens)
  OUT/train-100k.txt   its first lines up to --small tokens

The source's lines are kept in mixed-en's shuffled order, so that each part is a random sample of
the source (in its own order the last pages are changelogs, unlike the rest).

  python3 benches/lm_transfer_data.py [--corpus mixed-en.txt.gz] [--source python-docs] OUT
"""
import argparse
import gzip
import os
import random
import re
import sys

SEED = 20261128


def manifest_sources(path):
    """(name, lines) per source in MANIFEST order, from its Sources table."""
    rows, inside = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("## Sources"):
            inside = True
        elif inside and line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if inside and len(cells) > 5 and re.fullmatch(r"[\d,]+", cells[4]) and cells[0] != "**total**":
            rows.append((cells[0], int(cells[4].replace(",", ""))))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.path.join(here, "..", "..", "shared", "corpora")
    ap.add_argument("--corpus", default=os.path.join(shared, "mixed-en.txt.gz"))
    ap.add_argument("--manifest", default=os.path.join(shared, "MANIFEST.md"))
    ap.add_argument("--source", default="python-docs")
    ap.add_argument("--valid-tokens", type=int, default=50_000)
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("out")
    a = ap.parse_args()
    sources = manifest_sources(a.manifest)
    names = [n for n, _ in sources]
    if a.source not in names:
        sys.exit(f"--source {a.source}: not in {a.manifest} ({', '.join(names)})")
    start = sum(n for name, n in sources[: names.index(a.source)])
    end = start + dict(sources)[a.source]
    total = sum(n for _, n in sources)
    order = list(range(total))
    random.Random(SEED).shuffle(order)
    os.makedirs(a.out, exist_ok=True)
    held = []
    with gzip.open(a.corpus, "rt", encoding="ascii") as f, \
            open(os.path.join(a.out, "vectors.txt"), "w") as vec:
        n = -1
        for n, line in enumerate(f):
            if n >= total:
                sys.exit(f"{a.corpus} has more lines than the MANIFEST's {total}")
            if start <= order[n] < end:
                held.append((order[n], line))
            else:
                vec.write(line)
    if n + 1 != total:
        sys.exit(f"{a.corpus} has {n + 1} lines, the MANIFEST {total}")
    held = [line for _, line in held]   # in mixed-en's (shuffled) order: each part a random sample
    cut, tokens = len(held), 0
    while cut > 0 and tokens < a.valid_tokens:
        cut -= 1
        tokens += len(held[cut].split())
    write = lambda name, lines: open(os.path.join(a.out, name), "w").writelines(lines)
    write("valid.txt", held[cut:])
    write("train-1m.txt", held[:cut])
    small, tokens = [], 0
    for line in held[:cut]:
        if tokens >= a.small:
            break
        small.append(line)
        tokens += len(line.split())
    write("train-100k.txt", small)
    for name in ("vectors.txt", "train-1m.txt", "train-100k.txt", "valid.txt"):
        words = sum(len(l.split()) for l in open(os.path.join(a.out, name)))
        print(f"{name:16s} {words:12,d} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
