"""The Python package against the library's promises and gensim's answers. Corpora are slices of
the shipped synthetic corpus; models are small so that the whole file runs in a minute or two."""

import gzip
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import wembed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = dict(dim=16, epochs=1, threads=1, seed=3, progress=False)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The first 4,000 lines (about 100k tokens) of the shipped synthetic corpus, as text."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    with gzip.open(os.path.join(ROOT, "corpora", "synth-1m.txt.gz"), "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(4000)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def model(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m"
    return wembed.train(corpus, model="skipgram", output=out, **SMALL)


def sentences(path):
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f]


def test_training_from_a_path_writes_a_model_folder(model):
    assert len(model) > 100
    assert model.vectors.shape == (len(model), 16)
    assert model.vectors.dtype == np.float32
    assert model.stats["words"] == sum(model.counts) > 20_000, "one epoch reads every kept token"
    assert os.path.exists(os.path.join(model.path, "config.json"))


def test_an_iterable_trains_what_the_same_text_file_trains(corpus, model, tmp_path):
    kv = wembed.train(sentences(corpus), model="skipgram", output=tmp_path / "it", **SMALL)
    assert kv.index_to_key == model.index_to_key
    assert np.array_equal(kv.vectors, model.vectors)
    assert not os.path.exists(tmp_path / ".it.corpus.txt"), "the spooled corpus is removed"


def test_gensim_names_mean_the_same_settings(corpus, model, tmp_path):
    kv = wembed.train(
        corpus, sg=1, output=tmp_path / "g", vector_size=16, epochs=1, workers=1, seed=3,
        alpha=0.025, min_count=5, negative=5, window=5, hs=0, progress=False,
    )
    assert np.array_equal(kv.vectors, model.vectors)


def test_cbow_glove_and_subwords_train(corpus, tmp_path):
    cbow = wembed.train(corpus, model="cbow", output=tmp_path / "c", **SMALL)
    glove = wembed.train(corpus, model="glove", output=tmp_path / "gl", dim=16, iter=2, threads=1, progress=False)
    sub = wembed.train(corpus, model="skipgram", output=tmp_path / "s", subwords={"bucket": 5000}, **SMALL)
    assert len(cbow) == len(glove) == len(sub)
    assert sub.has_subwords and "qqqzzz" in sub and "qqqzzz" not in cbow
    v = sub["qqqzzz"]
    assert v.shape == (16,) and np.any(v != 0)
    with pytest.raises(KeyError):
        cbow["qqqzzz"]


def test_progress_reaches_a_callback(corpus, tmp_path):
    seen = []
    wembed.train(corpus, output=tmp_path / "cb", dim=16, epochs=30, threads=1, callback=seen.append)
    assert seen, "a run of a few seconds reports at least once"
    assert {"stage", "done", "total", "fraction", "per_second", "message"} <= set(seen[-1])
    assert all(0 <= i["fraction"] <= 1 for i in seen if i["fraction"] is not None)


CHILD = textwrap.dedent(
    """
    import signal, sys, wembed
    # A shell's background job starts with SIGINT ignored, and then Python installs no
    # KeyboardInterrupt handler: give the child the handler an interactive Python has.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    said = []
    def tell(info):
        # The parent interrupts once training is under way, far from its end (300 epochs).
        if not said and info["stage"] == "skipgram" and (info["fraction"] or 0) > 0.05:
            said.append(print("training", flush=True))
    wembed.train(sys.argv[1], output=sys.argv[2], dim=16, epochs=300, threads=1, seed=3,
                 checkpoint_secs=0.2, callback=tell)
    """
)


def test_ctrl_c_raises_keyboard_interrupt_and_resume_finishes(corpus, tmp_path):
    out = tmp_path / "ki"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdout.readline().strip() == "training", child.stderr.read()
    deadline = time.time() + 60
    while not (out / "checkpoint.json").exists():
        assert time.time() < deadline and child.poll() is None, child.stderr.read()
        time.sleep(0.05)
    sent = time.time()
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert time.time() - sent < 5, "KeyboardInterrupt came late"
    assert child.returncode != 0 and "KeyboardInterrupt" in err, err
    assert (out / "checkpoint.json").exists()
    done = wembed.resume(out, progress=False)
    assert len(done) > 100 and not (out / "checkpoint.json").exists()


def test_every_format_loads_back(model, tmp_path):
    for fmt, name in [
        ("word2vec-bin", "v.bin"), ("word2vec-text", "v.txt"), ("glove-text", "v.glove"),
        ("fasttext-vec", "v.vec"), ("npy", "v.npy"), ("safetensors", "v.safetensors"),
        ("fasttext-bin", "ft.bin"),
    ]:
        path = tmp_path / name
        model.save(path, format=fmt)
        back = wembed.load(path)
        assert back.index_to_key == model.index_to_key, fmt
        tol = 0 if fmt in ("word2vec-bin", "npy", "safetensors", "fasttext-bin") else 1e-5
        assert np.allclose(back.vectors, model.vectors, atol=tol, rtol=0), fmt


def test_npy_vectors_are_mapped_not_copied(model, tmp_path):
    model.save(tmp_path / "v.npy", format="npy")
    kv = wembed.load(tmp_path / "v.npy")
    assert isinstance(kv.vectors, np.memmap)
    # A word-only model folder's rows are its mapped input.npy too.
    assert isinstance(model.vectors, np.memmap)


def test_numpys_default_float64_npy_loads_as_float32(model, tmp_path):
    model.save(tmp_path / "v.npy", format="npy")
    np.save(tmp_path / "v.npy", np.asarray(model.vectors, dtype=np.float64))
    kv = wembed.load(tmp_path / "v.npy")
    assert kv.vectors.dtype == np.float32 and not isinstance(kv.vectors, np.memmap)
    assert np.array_equal(kv.vectors, model.vectors)
    assert kv.index_to_key == model.index_to_key


def test_most_similar_and_similarity_equal_gensims(model):
    g = model.to_gensim()
    for rows in [[10], [20, 3], [150, 60, 2]]:
        words = [model.index_to_key[i] for i in rows]
        ours = model.most_similar(positive=words, negative=[model.index_to_key[7]], topn=10)
        theirs = g.most_similar(positive=words, negative=[model.index_to_key[7]], topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    a, b = model.index_to_key[3], model.index_to_key[9]
    assert model.similarity(a, b) == pytest.approx(float(g.similarity(a, b)), abs=1e-5)


def eval_files(model, tmp_path):
    rng = random.Random(5)
    words = model.index_to_key[:300]
    q = tmp_path / "questions.txt"
    with open(q, "w") as f:
        for section in [": capital-made-up", ": gram-made-up"]:
            f.write(section + "\n")
            for _ in range(150):
                f.write(" ".join(w.upper() if rng.random() < 0.2 else w for w in rng.sample(words, 4)) + "\n")
            f.write("nosuchword1 nosuchword2 nosuchword3 nosuchword4\n")
    p = tmp_path / "pairs.tsv"
    with open(p, "w") as f:
        f.write("# word1\tword2\tscore\n")
        for _ in range(200):
            a, b = rng.sample(words, 2)
            f.write(f"{a}\t{b}\t{rng.uniform(0, 10):.2f}\n")
        f.write("nosuchword\tw1\t5.0\n")
    return q, p


def test_evaluations_equal_gensims(model, tmp_path):
    q, p = eval_files(model, tmp_path)
    g = model.to_gensim()
    score, sections = model.evaluate_word_analogies(q)
    g_score, g_sections = g.evaluate_word_analogies(str(q))
    assert score == pytest.approx(g_score, abs=1e-12)
    assert [s["correct"] for s in sections] == [len(s["correct"]) for s in g_sections]
    pearson, spearman, oov = model.evaluate_word_pairs(p)
    g_pearson, g_spearman, g_oov = g.evaluate_word_pairs(str(p))
    assert pearson == pytest.approx(g_pearson[0], abs=1e-4)
    assert spearman == pytest.approx(g_spearman[0], abs=1e-4)
    assert oov == pytest.approx(g_oov, abs=1e-9)


def test_to_gensim_round_trips(model, tmp_path):
    g = model.to_gensim()
    assert g.index_to_key == model.index_to_key
    assert np.array_equal(g.vectors, model.vectors)
    assert g.get_vecattr(model.index_to_key[0], "count") == model.counts[0]
    g.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    back = wembed.load(tmp_path / "g.bin")
    assert back.index_to_key == model.index_to_key
    assert np.array_equal(back.vectors, model.vectors)


def test_errors_are_exceptions_with_the_librarys_message(corpus, model, tmp_path):
    with pytest.raises(wembed.NotFound) as e:
        wembed.load(tmp_path / "missing.bin")
    assert isinstance(e.value, FileNotFoundError) and "missing.bin" in str(e.value)
    bad = tmp_path / "bad.txt"
    bad.write_text("3 4\nthe 1 2 x 4\n")
    with pytest.raises(wembed.BadFile) as e:
        wembed.load(bad)
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)
    with pytest.raises(wembed.InvalidArgument):
        wembed.train(corpus, output=tmp_path / "d0", dim=0, progress=False)
    with pytest.raises(wembed.InvalidArgument, match="unknown setting"):
        wembed.train(corpus, output=tmp_path / "u", no_such_setting=1, progress=False)
    with pytest.raises(wembed.InvalidArgument):
        wembed.train(corpus, model="word3vec", output=tmp_path / "w3", progress=False)
    with pytest.raises(wembed.FolderInUse):
        wembed.train(corpus, output=model.path, **SMALL)
    with pytest.raises(wembed.UnknownWord) as e:
        model.most_similar("no-such-word")
    assert isinstance(e.value, KeyError) and "no-such-word" in str(e.value)
    assert not (tmp_path / "d0").exists() and not (tmp_path / "u").exists()


def test_the_readme_example_runs(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    os.symlink(os.path.join(ROOT, "corpora"), tmp_path / "corpora")
    r = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "model-py" / "config.json").exists() and (tmp_path / "model-py.vec").exists()
