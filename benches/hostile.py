#!/usr/bin/env python3
"""Hostile-input campaign against the wembed binary. Counts what must never happen: panics (exit
101), aborts and crashes (killed by a signal), hangs (over the time limit), leftovers (temporary
files after an error, or a failed fresh run's folder), data lost (a good output replaced by a
failed run) and resumes that differ from the uninterrupted run.

Sections: mutated vectors files (every format wembed reads, fastText .bin with and without
n-grams), mutated corpora, SIGKILL at random moments then resume (skip-gram, CBOW, subword
skip-gram, GloVe, the LM), mutated checkpoint and state files, SIGINT/SIGTERM/SIGPIPE, a full disk
(RLIMIT_FSIZE), folders the user cannot write (run as nobody), two runs into one folder at once,
and absurd settings.

    python3 benches/hostile.py [--cases N] [--kills K] [--seed S] [--wembed target/release/wembed]
"""
import argparse, gzip, json, os, random, resource, shutil, signal, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--cases", type=int, default=200, help="mutations per target")
p.add_argument("--kills", type=int, default=10, help="SIGKILL-and-resume cases per trainer")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--wembed", default="target/release/wembed")
p.add_argument("--only", nargs="*", help="run only these sections (e.g. kills signals)")
a = p.parse_args()
W = os.path.abspath(a.wembed)
rng = random.Random(a.seed)
work = tempfile.mkdtemp(prefix="wembed-hostile-")
os.chmod(work, 0o755)
COUNTS = ["runs", "panics", "crashes", "hangs", "leftovers", "lost", "diverged"]
tally = {k: 0 for k in COUNTS}
cases = {}
bad = []


def case(section):
    cases[section] = cases.get(section, 0) + 1


def run(args, timeout=60, cwd=None, preexec=None, signals_ok=()):
    """Runs wembed once and counts a panic, a crash or a hang."""
    tally["runs"] += 1
    try:
        r = subprocess.run([W] + args, capture_output=True, timeout=timeout, cwd=cwd,
                           preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        tally["hangs"] += 1
        bad.append(("hang", args))
        return None
    if r.returncode == 101 or b"panicked" in r.stderr:
        tally["panics"] += 1
        bad.append(("panic", args, r.stderr[-300:]))
    elif (r.returncode < 0 or r.returncode > 128) and r.returncode not in signals_ok:
        tally["crashes"] += 1
        bad.append(("signal %d" % r.returncode, args, r.stderr[-300:]))
    elif r.returncode not in (0, 1, 2) + tuple(signals_ok):
        bad.append(("odd exit %d" % r.returncode, args))
    return r


def leftovers(d):
    found = [f for f in os.listdir(d) if ".tmp-" in f] if os.path.isdir(d) else []
    if found:
        tally["leftovers"] += 1
        bad.append(("leftover", d, found))
        for f in found:
            path = os.path.join(d, f)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def failed_fresh(r, out):
    """A fresh run that failed before its first checkpoint leaves no folder behind."""
    if r is not None and r.returncode != 0 and os.path.isdir(out) \
            and not os.path.exists(os.path.join(out, "checkpoint.json")) and os.listdir(out):
        tally["leftovers"] += 1
        bad.append(("failed run left", out, os.listdir(out)))


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


def tensors(path):
    """A matrix file's numbers and shapes: a safetensors file without its metadata (the LM keeps
    its timings there)."""
    data = open(path, "rb").read()
    if not path.endswith(".safetensors"):
        return data
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return json.dumps(header, sort_keys=True).encode() + data[8 + n:]


def mats(d):
    names = sorted(f for f in os.listdir(d) if f.endswith(".npy") or f.endswith(".safetensors"))
    return [tensors(os.path.join(d, f)) for f in names]


corpus = os.path.join(work, "c.txt")
run(["synth", "--tokens", "300000", "-o", corpus])
sim = os.path.join(work, "sim.tsv")
open(sim, "w").write("".join("%s\t%s\t%d\n" % (w, v, i) for i, (w, v) in
                             enumerate([("the", "of"), ("a", "the"), ("of", "and")])))
model = os.path.join(work, "m")
run(["skipgram", corpus, "-o", model, "-q", "--dim", "8", "--epochs", "1"])
sub = os.path.join(work, "sub")
run(["skipgram", corpus, "-o", sub, "-q", "--dim", "8", "--epochs", "1", "--subwords", "--bucket", "2000"])


def vectors_files():
    seeds = {}
    for src, fmt, name in [(model, "word2vec-bin", "v.bin"), (model, "word2vec-text", "v.txt"),
                           (model, "glove-text", "v.glove"), (model, "npy", "v.npy"),
                           (model, "safetensors", "v.safetensors"), (model, "fasttext-vec", "v.vec"),
                           (model, "fasttext-bin", "w.bin"), (sub, "fasttext-bin", "s.bin")]:
        out = os.path.join(work, "seed-" + name)
        limit = [] if fmt == "fasttext-bin" else ["--limit", "300"]
        run(["export", src, "--format", fmt, "-o", out] + limit)
        seeds[name] = open(out, "rb").read()
    vdir = os.path.join(work, "vec")
    os.makedirs(vdir)
    for name, seed in seeds.items():
        for _ in range(a.cases):
            path = os.path.join(vdir, name)
            open(path, "wb").write(mutate(seed))
            for v in ("v.vocab.txt",):
                shutil.copy(os.path.join(work, "seed-" + v), os.path.join(vdir, v))
            good = os.path.join(vdir, "good.txt")
            open(good, "w").write("kept\n")
            cmd = rng.choice([["neighbors", path, "the", "-k", "3"], ["vector", path, "the", "zzzq"],
                              ["eval", path, "--similarity", sim],
                              ["export", path, "--format", "word2vec-text", "-o", good]])
            r = run(cmd)
            case("vectors files")
            if cmd[0] == "export" and r is not None and r.returncode != 0 \
                    and open(good).read() != "kept\n":
                tally["lost"] += 1
                bad.append(("export failed and replaced its target", name))
            leftovers(vdir)


def corpora():
    text = open(corpus, "rb").read()[:200000]
    cdir = os.path.join(work, "corp")
    os.makedirs(cdir)
    for i in range(a.cases):
        data = mutate(text)
        path = os.path.join(cdir, "c.gz" if i % 2 else "c.txt")
        open(path, "wb").write(gzip.compress(data) if i % 4 == 1 else
                               mutate(gzip.compress(data)) if i % 4 == 3 else data)
        out = os.path.join(cdir, "m%d" % i)
        small = ["-q", "-o", out, "--dim", "4", "--min-count", "1"]
        r = run(rng.choice([["vocab", path, "-q", "--min-count", "1", "-o", os.path.join(cdir, "v.txt")],
                            ["skipgram", path, "--epochs", "1"] + small,
                            ["cbow", path, "--epochs", "1"] + small,
                            ["skipgram", path, "--epochs", "1", "--subwords", "--bucket", "500"] + small,
                            ["glove", path, "--iter", "1"] + small]))
        case("corpora")
        leftovers(cdir)
        leftovers(out)
        failed_fresh(r, out)
        shutil.rmtree(out, ignore_errors=True)


TRAINERS = [("skipgram", ["--epochs", "3"]), ("cbow", ["--epochs", "3"]),
            ("skipgram", ["--epochs", "2", "--subwords", "--bucket", "5000"]), ("glove", ["--iter", "8"])]
LM = ["--corpus", corpus, "--steps", "500", "--dim", "16", "--layers", "1", "--heads", "2",
      "--context", "16", "--batch", "8", "--vocab-size", "500", "--eval-every", "50", "-q"]


def base_args(trainer, extra):
    if trainer == "lm":
        return ["lm", "train"] + LM
    return [trainer, corpus, "-q", "--threads", "1", "--seed", "2", "--dim", "24"] + extra


def resume_args(trainer, d):
    return ["lm", "train", "--resume", d, "-q"] if trainer == "lm" else [trainer, "--resume", d, "-q"]


def reference(trainer, extra, name):
    """The trainer's arguments, and the tensors of its uninterrupted run."""
    base = base_args(trainer, extra)
    ref = os.path.join(work, name)
    shutil.rmtree(ref, ignore_errors=True)
    run(base + ["-o", ref, "--checkpoint-secs", "0"])
    return base, mats(ref)


def mutate_state(d):
    """Damages one state file of a checkpointed folder: the record, a snapshot or a partial."""
    files = [f for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)) and f != ".wembed-run"]
    f = os.path.join(d, rng.choice(files))
    data = open(f, "rb").read()
    if len(data) > 4096:  # a few bytes damaged in place, or the file cut short
        b = bytearray(data)
        if rng.random() < 0.3:
            b = b[:rng.randrange(len(b))]
        else:
            for _ in range(rng.randint(1, 16)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        data = bytes(b)
    else:
        data = mutate(data)
    open(f, "wb").write(data)


def kills():
    """SIGKILL at a random moment; the resume must give the uninterrupted bytes (one thread), and
    damaged copies of the checkpointed folder must be refused or resumed, never crash."""
    for trainer, extra in TRAINERS + [("lm", [])]:
        base, want = reference(trainer, extra, trainer + "-ref")
        for k in range(a.kills):
            d = os.path.join(work, "%s-k%d" % (trainer, k))
            every, late = ("1", 2.5) if trainer == "lm" else ("0.05", 1.5)
            proc = subprocess.Popen([W] + base + ["-o", d, "--checkpoint-secs", every],
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, late))
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            tally["runs"] += 1
            if finished:
                shutil.rmtree(d, ignore_errors=True)
                continue
            if not os.path.exists(os.path.join(d, "checkpoint.json")) \
                    and not os.path.exists(os.path.join(d, "model.safetensors")):
                shutil.rmtree(d, ignore_errors=True)
                continue
            for m in range(4):
                copy = d + "-lying%d" % m
                shutil.copytree(d, copy, symlinks=True)
                mutate_state(copy)
                run(resume_args(trainer, copy))
                case("damaged checkpoint/state files")
                shutil.rmtree(copy, ignore_errors=True)
            r = run(resume_args(trainer, d))
            case("SIGKILL and resume")
            if r is not None and (r.returncode != 0 or mats(d) != want):
                tally["diverged"] += 1
                bad.append(("resume differs", trainer, extra, k, r.returncode, r.stderr[-200:]))
            shutil.rmtree(d, ignore_errors=True)


def signals():
    """SIGINT/SIGTERM mid-run: exit 130, temporaries removed, and the run resumable to the same
    bytes; SIGPIPE on a closed stdout: no panic."""
    for trainer, extra in TRAINERS:
        base, want = reference(trainer, extra, "sigref")
        for k in range(max(2, a.kills // 3)):
            d = os.path.join(work, "sig%d" % k)
            proc = subprocess.Popen([W] + base + ["-o", d, "--checkpoint-secs", "0.05"],
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, 1.2))
            proc.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = None
                tally["hangs"] += 1
            tally["runs"] += 1
            case("signals")
            if rc not in (0, 130):
                tally["crashes"] += 1
                bad.append(("signal exit", trainer, rc))
            leftovers(d)
            if os.path.exists(os.path.join(d, "checkpoint.json")):
                r = run(resume_args(trainer, d))
                if r is not None and (r.returncode != 0 or mats(d) != want):
                    tally["diverged"] += 1
                    bad.append(("resume after signal differs", trainer, k))
            elif rc == 130 and os.path.isdir(d) and os.listdir(d):
                tally["leftovers"] += 1
                bad.append(("interrupted before a checkpoint left", os.listdir(d)))
            shutil.rmtree(d, ignore_errors=True)
    for cmd in (["export", model, "--format", "word2vec-text", "-o", "-"], ["vector", model, "the"]):
        for _ in range(5):
            r = subprocess.run("%s %s | head -c %d >/dev/null; echo ${PIPESTATUS[0]}"
                               % (W, " ".join(cmd), rng.randrange(200)), shell=True,
                               capture_output=True, executable="/bin/bash")
            tally["runs"] += 1
            case("signals")
            if b"panicked" in r.stderr or r.stdout.strip() not in (b"0", b"141", b"1"):
                tally["panics" if b"panicked" in r.stderr else "crashes"] += 1
                bad.append(("pipe", cmd, r.stdout, r.stderr[-200:]))


def limit_fsize(n):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))


def full_disk():
    """Every write past RLIMIT_FSIZE fails (EFBIG): a one-line error, no partial in place of a
    good file, no temporaries."""
    ddir = os.path.join(work, "disk")
    os.makedirs(ddir)
    for k in range(a.cases // 4):
        out = os.path.join(ddir, "m")
        good = os.path.join(ddir, "good.bin")
        open(good, "w").write("kept\n")
        n = rng.choice([0, 100, 4096, 50000, 300000, 1000000, 3000000])
        cmd = rng.choice([["skipgram", corpus, "-o", out, "-q", "--dim", "24", "--epochs", "1"],
                          ["glove", corpus, "-o", out, "-q", "--dim", "24", "--iter", "1"],
                          ["skipgram", corpus, "-o", out, "-q", "--dim", "8", "--epochs", "1",
                           "--subwords", "--bucket", "20000"],
                          ["export", model, "--format", rng.choice(["word2vec-bin", "npy", "safetensors",
                                                                    "fasttext-bin", "word2vec-text"]),
                           "-o", good],
                          ["vocab", corpus, "-o", good, "-q"]] +
                         [["lm", "train", "-o", out] + LM])
        r = run(cmd, preexec=limit_fsize(n))
        case("full disk")
        if r is not None and r.returncode != 0:
            if open(good).read() != "kept\n":
                tally["lost"] += 1
                bad.append(("full disk replaced a good file", cmd))
            failed_fresh(r, out)
        leftovers(ddir)
        leftovers(out)
        shutil.rmtree(out, ignore_errors=True)


def as_nobody():
    os.setgid(65534)
    os.setuid(65534)


def read_only():
    """A user who cannot write the output folder (or read the input) gets a one-line error."""
    rdir = os.path.join(work, "ro")
    os.makedirs(rdir)
    os.chmod(rdir, 0o755)
    secret = os.path.join(work, "secret.txt")
    shutil.copy(corpus, secret)
    os.chmod(secret, 0o600)
    for cmd in [["skipgram", corpus, "-o", os.path.join(rdir, "m"), "-q", "--epochs", "1"],
                ["glove", corpus, "-o", os.path.join(rdir, "m"), "-q", "--iter", "1"],
                ["export", model, "--format", "npy", "-o", os.path.join(rdir, "x.npy")],
                ["export", model, "--format", "word2vec-text", "-o", os.path.join(model, "..", "ro", "y")],
                ["vocab", corpus, "-o", os.path.join(rdir, "v.txt")],
                ["skipgram", secret, "-o", os.path.join(work, "nob"), "-q"],
                ["skipgram", "--resume", os.path.join(work, "m"), "-q"],
                ["lm", "train", "-o", os.path.join(rdir, "lm")] + LM]:
        r = run(cmd, preexec=as_nobody)
        case("read-only folders")
        if r is not None and (r.returncode == 0 or len(r.stderr.strip().splitlines()) != 1):
            bad.append(("read-only", cmd, r.returncode, r.stderr[-200:]))
        leftovers(rdir)


def concurrent():
    """Two runs into one folder at once: one is refused, the other gives the single-run bytes."""
    for trainer, extra in TRAINERS:
        base, want = reference(trainer, extra, "cref")
        for k in range(max(3, a.kills // 2)):
            d = os.path.join(work, "both")
            procs = [subprocess.Popen([W] + base + ["-o", d], stderr=subprocess.PIPE)]
            time.sleep(rng.choice([0, rng.uniform(0, 0.6)]))
            procs.append(subprocess.Popen([W] + base + ["-o", d], stderr=subprocess.PIPE))
            outs = [(q.wait(timeout=120), q.stderr.read()) for q in procs]
            tally["runs"] += 2
            case("concurrent runs")
            ok = [rc for rc, _ in outs if rc == 0]
            if len(ok) != 1 or any(rc not in (0, 1) for rc, _ in outs) \
                    or not os.path.isdir(d) or mats(d) != want:
                tally["lost"] += 1
                bad.append(("concurrent", trainer, [(rc, e[-150:]) for rc, e in outs]))
            shutil.rmtree(d, ignore_errors=True)


ABSURD = ["0", "-1", "-5", "4294967296", "18446744073709551616", "1e308", "NaN", "inf", "-inf",
          "0.0000001", "abc", "", "1.5"]
FLAGS = {"skipgram": ["--dim", "--window", "--epochs", "--negative", "--min-count", "--sample", "--lr",
                      "--threads", "--minn", "--maxn", "--bucket", "--checkpoint-secs", "--ns-exponent"],
         "glove": ["--dim", "--window", "--iter", "--x-max", "--alpha", "--lr", "--memory", "--threads",
                   "--min-count"],
         "lm": ["--dim", "--layers", "--heads", "--context", "--mlp-ratio", "--steps", "--batch", "--lr",
                "--warmup", "--clip", "--vocab-size", "--eval-every", "--holdout"]}


def absurd():
    """A nonsense value for one setting: refused before any file is made, or a run that works."""
    for k in range(a.cases // 2):
        trainer = rng.choice(list(FLAGS))
        flag, value = rng.choice(FLAGS[trainer]), rng.choice(ABSURD)
        out = os.path.join(work, "abs")
        if trainer == "lm":
            cmd = ["lm", "train", "-o", out] + LM + [flag, value]
        else:
            cmd = [trainer, corpus, "-o", out, "-q", "--dim", "8"] + \
                  (["--iter", "1"] if trainer == "glove" else ["--epochs", "1"]) + [flag, value]
            if flag in ("--minn", "--maxn", "--bucket"):
                cmd.append("--subwords")
        r = run(cmd, timeout=120)
        case("absurd settings")
        if r is not None and r.returncode == 2 and os.path.exists(out):
            tally["leftovers"] += 1
            bad.append(("usage error made a folder", cmd))
        failed_fresh(r, out)
        shutil.rmtree(out, ignore_errors=True)


for section in (vectors_files, corpora, kills, signals, full_disk, read_only, concurrent, absurd):
    if a.only and section.__name__ not in a.only:
        continue
    t = time.time()
    section()
    print("%-16s %6.0f s" % (section.__name__, time.time() - t), file=sys.stderr, flush=True)

print("| section | cases |\n|---|---|")
for s, n in cases.items():
    print("| %s | %d |" % (s, n))
print("| **all** | **%d** |\n" % sum(cases.values()))
print("| runs | panics | aborts/crashes | hangs | leftovers | data lost | resumes that differ |")
print("|---|---|---|---|---|---|---|")
print("| " + " | ".join(str(tally[k]) for k in COUNTS) + " |")
for b in bad[:30]:
    print(b, file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if bad else 0)
