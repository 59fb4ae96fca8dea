#!/usr/bin/env python3
"""Independent check of `wembed vocab`: counts the corpus with Python's own gzip and str.split and
compares words, counts and order with the vocab.txt wembed wrote.

usage: python3 benches/vocab_check.py CORPUS [--min-count 5] [--wembed target/release/wembed]
Prints tokens, types, kept, wembed's seconds and MB/s, and exits 1 on any difference.
"""
import argparse, collections, gzip, subprocess, sys, tempfile, os, time

ap = argparse.ArgumentParser()
ap.add_argument("corpus")
ap.add_argument("--min-count", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--wembed", default="target/release/wembed")
a = ap.parse_args()

with open(a.corpus, "rb") as f:
    gz = f.read(2) == b"\x1f\x8b"
opener = gzip.open if gz else open
counts = collections.Counter()
tokens = 0
t0 = time.time()
with opener(a.corpus, "rb") as f:
    for line in f:
        # ASCII whitespace split on bytes then decode: the same tokens as Unicode split_whitespace
        # on this ASCII corpus, and independent of wembed's code path.
        words = line.decode("utf-8", errors="replace").split()
        tokens += len(words)
        counts.update(words)
py_s = time.time() - t0
expect = sorted(((w, c) for w, c in counts.items() if c >= a.min_count), key=lambda wc: (-wc[1], wc[0].encode()))

with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "vocab.txt")
    r = subprocess.run([a.wembed, "vocab", a.corpus, "--min-count", str(a.min_count), "-t", str(a.threads), "-q", "-o", out],
                       capture_output=True, text=True, check=True)
    summary = r.stdout.strip()
    got = []
    with open(out, encoding="utf-8") as f:
        for line in f:
            w, c = line.rstrip("\n").split("\t")
            got.append((w, int(c)))

print(f"python: tokens {tokens} types {len(counts)} kept {len(expect)} ({py_s:.1f} s)")
print(f"wembed: {summary}")
if got != expect:
    diff = next(i for i, (x, y) in enumerate(zip(got + [None] * len(expect), expect + [None] * len(got))) if x != y)
    print(f"MISMATCH at row {diff}: wembed {got[diff] if diff < len(got) else None} python {expect[diff] if diff < len(expect) else None}")
    sys.exit(1)
fields = summary.split()
if int(fields[1]) != tokens or int(fields[3]) != len(counts):
    print("MISMATCH in token or type totals")
    sys.exit(1)
print("OK: identical words, counts and order")
