#!/usr/bin/env python3
"""Interop: every export format loads in the consumer people use, with the same words in the same
order and the same values; and wembed's evaluation agrees with gensim's.

Run by tests/interop.rs (cargo test) as: python3 tests/interop.py WEMBED_BINARY WORK_DIR
Needs numpy, gensim and safetensors (.ci/run installs them).
"""
import json, os, subprocess, sys

import numpy as np
from gensim.models import KeyedVectors
from safetensors import safe_open
from safetensors.numpy import load_file

wembed, work = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
    r = subprocess.run([wembed, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"wembed {' '.join(args)} failed: {r.stderr}")
    return r.stdout


# A small corpus with accents, CJK and emoji among ordinary words.
lines = []
extra = ["café", "naïve", "東京", "大阪", "🙂", "🚀", "Straße", "ÉCOLE"]
for i in range(3000):
    ws = [f"w{(i * 7 + k * 13) % 97}" for k in range(8)]
    ws.insert(i % 8, extra[i % len(extra)])
    lines.append(" ".join(ws))
corpus = os.path.join(work, "corpus.txt")
with open(corpus, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
model = os.path.join(work, "model")
run("skipgram", corpus, "-o", model, "-q", "--dim", "16", "--epochs", "2", "--min-count", "1", "--threads", "1")

words = [l.rstrip("\n").split("\t")[0] for l in open(os.path.join(model, "vocab.txt"), encoding="utf-8")]
inp = np.load(os.path.join(model, "input.npy"), mmap_mode="r")
out = np.load(os.path.join(model, "output.npy"), mmap_mode="r")
assert all(w in words for w in extra), "unicode words missing from the vocabulary"
assert inp.shape == (len(words), 16)


def same(got_words, got, want_words, want, tol, what):
    assert list(got_words) == list(want_words), f"{what}: words or order differ"
    got, want = np.asarray(got, dtype=np.float32), np.asarray(want, dtype=np.float32)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    err = float(np.abs(got - want).max())
    assert err <= tol, f"{what}: max abs difference {err} > {tol}"
    print(f"ok  {what:<44} {got.shape[0]} words, max |diff| {err:.2e}")


def export(fmt, name, *opts):
    path = os.path.join(work, name)
    run("export", model, "--format", fmt, "-o", path, *opts)
    return path


# word2vec binary and text, fastText .vec, GloVe text: gensim's loader.
p = export("word2vec-bin", "v.bin")
kv = KeyedVectors.load_word2vec_format(p, binary=True)
same(kv.index_to_key, kv.vectors, words, inp, 0.0, "word2vec-bin / gensim")
same(KeyedVectors.load_word2vec_format(os.path.join(model, "vectors.bin"), binary=True).index_to_key,
     KeyedVectors.load_word2vec_format(os.path.join(model, "vectors.bin"), binary=True).vectors, words, inp, 0.0,
     "model vectors.bin / gensim")
for fmt, name, kw in [("word2vec-text", "v.txt", {}), ("fasttext-vec", "v.vec", {}), ("glove-text", "v.glove", {"no_header": True})]:
    p = export(fmt, name)
    kv = KeyedVectors.load_word2vec_format(p, binary=False, **kw)
    same(kv.index_to_key, kv.vectors, words, inp, 1e-6, f"{fmt} / gensim")

# npy + vectors.vocab.txt (named after the export): numpy by memory map.
os.makedirs(os.path.join(work, "npy32"), exist_ok=True)
p = export("npy", "npy32/vectors.npy")
a = np.load(p, mmap_mode="r")
assert a.dtype == np.float32 and a.offset % 64 == 0
vw = [l.rstrip("\n").split("\t")[0] for l in open(os.path.join(work, "npy32", "vectors.vocab.txt"), encoding="utf-8")]
same(vw, a, words, inp, 0.0, "npy f32 / numpy mmap")
os.makedirs(os.path.join(work, "npy16"), exist_ok=True)
p = export("npy", "npy16/vectors.npy", "--dtype", "f16")
a = np.load(p, mmap_mode="r")
assert a.dtype == np.float16
same(vw, a, words, np.asarray(inp).astype(np.float16), 0.0, "npy f16 / numpy (exact f16 rounding)")

# safetensors: the numpy loader, words in the metadata.
for dt, npdt in [("f32", np.float32), ("f16", np.float16)]:
    os.makedirs(os.path.join(work, "st" + dt), exist_ok=True)
    p = export("safetensors", f"st{dt}/vectors.safetensors", "--dtype", dt)
    t = load_file(p)["embeddings"]
    assert t.dtype == npdt
    with safe_open(p, framework="np") as f:
        meta_words = json.loads(f.metadata()["vocab"])
    same(meta_words, t, words, np.asarray(inp).astype(npdt), 0.0, f"safetensors {dt} / safetensors.numpy")

# Options: --which output|sum, --normalize, --limit.
p = export("word2vec-bin", "out.bin", "--which", "output")
kv = KeyedVectors.load_word2vec_format(p, binary=True)
same(kv.index_to_key, kv.vectors, words, out, 0.0, "--which output")
p = export("word2vec-bin", "sum.bin", "--which", "sum")
kv = KeyedVectors.load_word2vec_format(p, binary=True)
same(kv.index_to_key, kv.vectors, words, np.asarray(inp) + np.asarray(out), 1e-6, "--which sum")
p = export("word2vec-bin", "norm.bin", "--normalize", "--limit", "20")
kv = KeyedVectors.load_word2vec_format(p, binary=True)
unit = np.asarray(inp[:20]) / np.linalg.norm(inp[:20], axis=1, keepdims=True)
same(kv.index_to_key, kv.vectors, words[:20], unit, 1e-6, "--normalize --limit 20")

# Evaluation agrees with gensim on the synthetic model (analogies, restrict 30000; word pairs).
synth = os.path.join(work, "synth")
run("skipgram", os.path.join(root, "corpora", "synth-1m.txt.gz"), "-o", synth, "-q", "--dim", "32", "--epochs", "1",
    "--threads", "1", "--seed", "7")
q = os.path.join(root, "corpora", "synth-questions.txt")
s = os.path.join(root, "corpora", "synth-similarity.tsv")
ours = json.loads(run("eval", synth, "--analogy", q, "--similarity", s, "--json"))
kv = KeyedVectors.load_word2vec_format(os.path.join(synth, "vectors.bin"), binary=True)
acc, sections = kv.evaluate_word_analogies(q, restrict_vocab=30000)
g_total = [x for x in sections if x["section"] == "Total accuracy"][0]
g_correct, g_answered = len(g_total["correct"]), len(g_total["correct"]) + len(g_total["incorrect"])
our_correct, our_answered = ours["analogy"]["total"]["correct"], ours["analogy"]["total"]["answered"]
our_acc = our_correct / our_answered
# Same questions answered and the same number right. The argmax may differ only on a near-tie
# (gensim sums in another order in float32), so count the questions whose top two candidates
# are within 1e-6 in float64 and allow exactly that many to flip (a handful of ~5000).
assert our_answered == g_answered, (our_answered, g_answered)
unit = kv.vectors[:30000].astype(np.float64)
unit /= np.linalg.norm(unit, axis=1, keepdims=True)
index = {w: i for i, w in enumerate(kv.index_to_key[:30000])}
ties = 0
for line in open(q, encoding="utf-8"):
    ws = line.split()
    if line.startswith(":") or len(ws) != 4 or any(w not in index for w in ws):
        continue
    a, b, c = (index[w] for w in ws[:3])
    query = unit[b] - unit[a] + unit[c]
    sims = unit @ (query / np.linalg.norm(query))
    sims[[a, b, c]] = -np.inf
    top2 = np.partition(sims, -2)[-2:]
    ties += int(abs(top2[1] - top2[0]) < 1e-6)
assert abs(our_correct - g_correct) <= ties, (our_correct, g_correct, ties)
pear, spear, oov = kv.evaluate_word_pairs(s)
rep = ours["similarity"][0]["report"]
assert abs(spear.statistic - rep["spearman"]) < 1e-4 and abs(pear.statistic - rep["pearson"]) < 1e-4, (spear, pear, rep)
print(f"ok  analogy accuracy {our_acc:.4f} = gensim {acc:.4f} ({ties} near-ties); spearman {rep['spearman']:.4f} = gensim {spear.statistic:.4f}")
print("interop: all checks passed")
