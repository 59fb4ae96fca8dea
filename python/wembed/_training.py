"""Training from Python: settings as keyword arguments, the run on the library's own threads
with the GIL released, progress as a tqdm bar, log lines or a callback, and Ctrl-C as
``KeyboardInterrupt`` once the run has taken its last checkpoint."""

import json
import os
import sys
import time

from . import _native
from .errors import Interrupted

# gensim's names where they differ from wembed's (``Word2Vec`` and, for GloVe, the same words).
_WORD2VEC_NAMES = {"vector_size": "dim", "alpha": "lr", "workers": "threads"}
_GLOVE_NAMES = {"vector_size": "dim", "workers": "threads", "epochs": "iter"}
_BOOLS = ("hs", "cbow_mean", "lowercase", "force", "shared_negatives", "pretokenize")


def _settings(model, kwargs):
    names = _GLOVE_NAMES if model == "glove" else _WORD2VEC_NAMES
    out = {}
    for given, value in kwargs.items():
        name = names.get(given, given)
        if name in out:
            raise TypeError(f"{given!r} sets {name!r}, which is given twice")
        if name in _BOOLS and isinstance(value, int):
            value = bool(value)
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        out[name] = value
    return out


def _is_path(x):
    return isinstance(x, (str, os.PathLike))


def _spool_path(output):
    out = os.path.abspath(os.fspath(output))
    parent, name = os.path.split(out.rstrip(os.sep))
    return os.path.join(parent, f".{name}.corpus.txt")


def _corpus(corpus, output):
    """Paths to train on, and the spooled file made from an iterable (or None)."""
    if _is_path(corpus):
        return [os.fspath(corpus)], None
    if isinstance(corpus, (list, tuple)) and corpus and all(_is_path(c) for c in corpus):
        return [os.fspath(c) for c in corpus], None
    # Token lists, as gensim takes them: written once to a text file beside the output, which
    # the library then reads at its own speed for every epoch (and a resume reads again).
    spool = _spool_path(output)
    with open(spool, "w", encoding="utf-8") as f:
        for sentence in corpus:
            if isinstance(sentence, str):
                raise TypeError(
                    "a sentence is a list of tokens, not a string: split it, "
                    "or pass file paths as a list of str"
                )
            f.write(" ".join(sentence))
            f.write("\n")
    return [spool], spool


def train(corpus, model="skipgram", output="model", *, progress=True, callback=None, **settings):
    """Trains ``model`` ("skipgram", "cbow" or "glove") on ``corpus`` into the model folder
    ``output`` and returns its vectors (:class:`wembed.KeyedVectors`, with ``.stats``).

    ``corpus`` is a path (text or gzip, a file or a folder), a list of paths, or an iterable of
    token lists as gensim takes (``LineSentence``, lists of lists). Paths are fastest: the
    library reads them on its own threads; an iterable is first written to
    ``.OUTPUT.corpus.txt`` beside the output (removed when the run ends, kept when it is
    interrupted so that :func:`resume` can read it again).

    ``settings`` are the CLI's settings under their config names (``dim``, ``window``,
    ``negative``, ``ns_exponent``, ``hs``, ``sample``, ``epochs``, ``lr``, ``min_count``,
    ``max_vocab``, ``lowercase``, ``threads``, ``seed``; GloVe's ``x_max``, ``alpha``, ``iter``;
    ``subwords=True`` or ``subwords={"minn": 3, "maxn": 6, "bucket": 2000000}``; ``force``,
    ``checkpoint_secs``, ``vocab_file``), or gensim's names where they differ
    (``vector_size``, ``alpha`` for word2vec's learning rate, ``workers``; ``sg=1`` picks
    skip-gram). Defaults are the library's.

    Progress shows as a tqdm bar when tqdm is installed, else as a line on stderr every ten
    seconds; ``progress=False`` silences it, and ``callback(info)`` receives a dict (``stage``,
    ``done``, ``total``, ``fraction``, ``per_second``, ``seconds``, ``message``) instead.
    Ctrl-C raises ``KeyboardInterrupt`` after the run's last checkpoint: :func:`resume` goes on.
    """
    sg = settings.pop("sg", None)
    if sg is not None:
        model = "skipgram" if sg else "cbow"
    paths, spool = _corpus(corpus, output)
    job = _native.train(model, paths, os.fspath(output), json.dumps(_settings(model, settings)))
    return _finish(job, output, spool, progress, callback)


def resume(output, corpus=None, *, progress=True, callback=None):
    """Continues the interrupted run in the model folder ``output`` from its last checkpoint,
    with its settings; ``corpus`` names the corpus where it is now, if it moved."""
    paths = [] if corpus is None else ([os.fspath(corpus)] if _is_path(corpus) else [os.fspath(c) for c in corpus])
    job = _native.resume(os.fspath(output), paths)
    spool = _spool_path(output)
    return _finish(job, output, spool if os.path.exists(spool) else None, progress, callback)


def _finish(job, output, spool, progress, callback):
    from ._keyedvectors import load

    try:
        _watch(job, progress, callback)
        stats = json.loads(job.result())
    except Interrupted:
        raise
    except KeyboardInterrupt:
        job.stop()
        while not job.wait(0.25):
            pass
        _notes(job, progress or callback is not None)
        resumable = os.path.exists(os.path.join(os.fspath(output), "checkpoint.json"))
        if spool and not resumable and os.path.exists(spool):
            os.remove(spool)
        raise
    except BaseException:
        if spool and os.path.exists(spool):
            os.remove(spool)
        raise
    if spool and os.path.exists(spool):
        os.remove(spool)
    kv = load(output)
    kv.stats = stats
    return kv


def _notes(job, show, display=None):
    for note in job.notes():
        if note.startswith("wembed: "):
            note = note[len("wembed: "):]
        if show or note.startswith("warning:"):
            if display is not None and display.bar is not None:
                display.tqdm.write(f"wembed: {note}", file=sys.stderr)
            else:
                print(f"wembed: {note}", file=sys.stderr)


class _Display:
    """A tqdm bar per stage when tqdm is there, else a line every ``every`` seconds."""

    def __init__(self, every=10.0):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self.tqdm, self.bar, self.label, self.every, self.last = tqdm, None, None, every, 0.0

    def show(self, info, final=False):
        if self.tqdm is not None:
            if info["stage"] != self.label:
                self.close()
                self.label = info["stage"]
                self.bar = self.tqdm(total=info["total"], desc=self.label, unit_scale=True)
            self.bar.n = info["done"]
            self.bar.set_postfix_str(info["message"], refresh=False)
            self.bar.refresh()
        elif time.monotonic() - self.last >= self.every and not final:
            self.last = time.monotonic()
            pct = "" if info["fraction"] is None else f" {100 * info['fraction']:.0f}%"
            print(f"wembed: {info['stage']}{pct} {info['per_second']:.0f}/s {info['message']}", file=sys.stderr)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _watch(job, progress, callback):
    display = _Display() if progress and callback is None else None
    try:
        ended = False
        while not ended:
            # One more look after the run ends, so that the bar shows where it finished.
            ended = job.wait(0.25)
            _notes(job, progress, display)
            p = job.progress()
            if p is None:
                continue
            stage, done, total, items, seconds, message = p
            info = {
                "stage": stage,
                "done": done,
                "total": total,
                "fraction": done / total if total else None,
                "per_second": done / max(seconds, 1e-9),
                "items": items,
                "seconds": seconds,
                "message": message,
            }
            if callback is not None:
                callback(info)
            elif display is not None:
                display.show(info, final=ended)
    finally:
        if display is not None:
            display.close()
