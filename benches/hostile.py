#!/usr/bin/env python3
"""Hostile-input campaign against the wembed binary: mutated vectors files, corpora and
checkpoint files, SIGKILL-and-resume, signals. Counts what must never happen: panics (exit 101),
aborts and crashes (killed by a signal), hangs (over the time limit), leftovers (temporary
files after an error) and resumes that differ from the uninterrupted run.

    python3 benches/hostile.py [--cases N] [--seed S] [--wembed target/release/wembed]
"""
import argparse, gzip, json, os, random, shutil, signal, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--cases", type=int, default=200, help="mutations per target")
p.add_argument("--kills", type=int, default=10, help="SIGKILL-and-resume cases per trainer")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--wembed", default="target/release/wembed")
a = p.parse_args()
W = os.path.abspath(a.wembed)
rng = random.Random(a.seed)
work = tempfile.mkdtemp(prefix="wembed-hostile-")
tally = {"runs": 0, "panics": 0, "crashes": 0, "hangs": 0, "leftovers": 0, "diverged": 0,
         "resumed": 0, "lying": 0}
bad = []


def run(args, timeout=60, cwd=None):
    tally["runs"] += 1
    try:
        r = subprocess.run([W] + args, capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        tally["hangs"] += 1
        bad.append(("hang", args))
        return None
    if r.returncode == 101 or b"panicked" in r.stderr:
        tally["panics"] += 1
        bad.append(("panic", args, r.stderr[-300:]))
    elif r.returncode < 0 or r.returncode > 128:
        tally["crashes"] += 1
        bad.append(("signal %d" % r.returncode, args, r.stderr[-300:]))
    return r


def leftovers(d):
    found = [f for f in os.listdir(d) if ".tmp-" in f] if os.path.isdir(d) else []
    if found:
        tally["leftovers"] += 1
        bad.append(("leftover", d, found))
        for f in found:
            path = os.path.join(d, f)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def mutate(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        k = rng.randrange(6)
        if not b:
            b += b"\x00"
        i = rng.randrange(len(b))
        if k == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif k == 1:
            b[i] = rng.choice([0, 0xFF, 0x7F, 0x80, ord("9"), ord(" "), ord("\n")])
        elif k == 2:
            del b[i:i + rng.randint(1, 64)]
        elif k == 3:
            b[i:i] = b[i:i + rng.randint(1, 64)] * rng.randint(1, 4)
        elif k == 4:
            b = b[:i]
        else:
            b[i:i] = str(rng.choice([0, 1, 2**31, 2**32, 2**63, 10**15, -1])).encode()
    return bytes(b)


corpus = os.path.join(work, "c.txt")
run(["synth", "--tokens", "300000", "-o", corpus])
model = os.path.join(work, "m")
run(["skipgram", corpus, "-o", model, "-q", "--dim", "8", "--epochs", "1"])
seeds = {}
for fmt, name in [("word2vec-bin", "v.bin"), ("word2vec-text", "v.txt"), ("glove-text", "v.glove"),
                  ("npy", "v.npy"), ("safetensors", "v.safetensors")]:
    out = os.path.join(work, "seed-" + name)
    run(["export", model, "--format", fmt, "--limit", "300", "-o", out])
    seeds[name] = open(out, "rb").read()

# 1. Mutated vectors files: read by neighbors, eval and export.
vdir = os.path.join(work, "vec")
os.makedirs(vdir)
for name, seed in seeds.items():
    for _ in range(a.cases):
        path = os.path.join(vdir, name)
        open(path, "wb").write(mutate(seed))
        shutil.copy(os.path.join(work, "seed-v.vocab.txt"), os.path.join(vdir, "v.vocab.txt"))
        cmd = rng.choice([["neighbors", path, "the", "-k", "3"],
                          ["export", path, "--format", "word2vec-bin", "-o", os.path.join(vdir, "o.bin")]])
        run(cmd)
        leftovers(vdir)

# 2. Mutated corpora, plain and gzip: vocab and a short training run.
text = open(corpus, "rb").read()[:200000]
cdir = os.path.join(work, "corp")
os.makedirs(cdir)
for i in range(a.cases):
    data = mutate(text)
    path = os.path.join(cdir, "c.gz" if i % 2 else "c.txt")
    open(path, "wb").write(gzip.compress(data) if i % 4 == 1 else mutate(gzip.compress(data)) if i % 4 == 3 else data)
    out = os.path.join(cdir, "m%d" % i)
    r = run(rng.choice([["vocab", path, "-q", "--min-count", "1", "-o", os.path.join(cdir, "v.txt")],
                        ["skipgram", path, "-q", "-o", out, "--dim", "4", "--epochs", "1", "--min-count", "1"],
                        ["glove", path, "-q", "-o", out, "--dim", "4", "--iter", "1", "--min-count", "1"]]))
    leftovers(cdir)
    leftovers(out)
    shutil.rmtree(out, ignore_errors=True)


# 3. SIGKILL at random moments, then resume: --threads 1 must give the uninterrupted bytes; and
#    mutated checkpoint files must be refused or resumed, never crash.
def mats(d):
    return [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d)) if f.endswith(".npy")]


for trainer, extra in [("skipgram", ["--epochs", "3"]), ("cbow", ["--epochs", "3"]), ("glove", ["--iter", "8"])]:
    base = [trainer, corpus, "-q", "--threads", "1", "--seed", "2", "--dim", "24"] + extra
    ref = os.path.join(work, trainer + "-ref")
    run(base + ["-o", ref, "--checkpoint-secs", "0"])
    want = mats(ref)
    for k in range(a.kills):
        d = os.path.join(work, "%s-k%d" % (trainer, k))
        proc = subprocess.Popen([W] + base + ["-o", d, "--checkpoint-secs", "0.05"], stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        tally["runs"] += 1
        if not os.path.exists(os.path.join(d, "checkpoint.json")):
            shutil.rmtree(d, ignore_errors=True)
            continue
        if k % 3 == 2:  # a lying checkpoint: refused or resumed, never a crash
            ck = os.path.join(d, "checkpoint.json")
            open(ck, "wb").write(mutate(open(ck, "rb").read()))
            run([trainer, "--resume", d, "-q"])
            tally["lying"] += 1
        else:
            r = run([trainer, "--resume", d, "-q"])
            tally["resumed"] += 1
            if r is not None and r.returncode == 0 and mats(d) != want:
                tally["diverged"] += 1
                bad.append(("diverged", trainer, k))
        shutil.rmtree(d, ignore_errors=True)

print("| runs | panics | aborts/crashes | hangs | leftovers | kill+resume | lying checkpoints | resumes that differ |")
print("|---|---|---|---|---|---|---|---|")
print("| %(runs)d | %(panics)d | %(crashes)d | %(hangs)d | %(leftovers)d | %(resumed)d | %(lying)d | %(diverged)d |" % tally)
for b in bad[:20]:
    print(b, file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if bad else 0)
