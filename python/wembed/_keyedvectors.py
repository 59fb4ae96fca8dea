"""Vectors in Python: gensim's ``KeyedVectors`` interface over the wembed library's readers,
queries, evaluations and exporters."""

import json
import os

import numpy as np

from . import _native


def load(path):
    """Vectors from a model folder, a fastText ``.bin`` (any word gets a vector from its
    n-grams) or any file wembed reads: word2vec text or binary, GloVe text, fastText ``.vec``,
    ``.npy`` (with ``NAME.vocab.txt`` beside it), safetensors."""
    return KeyedVectors(_native.Vectors.open(os.fspath(path)), os.fspath(path))


def _matrix(native):
    """The rows as a float32 array: numpy's own map of the file where the rows are a float32
    ``.npy`` (no copy), else one copy of the library's rows."""
    n, dim = len(native.words()), native.dim()
    mapped = native.mapped_file()
    if mapped is not None:
        arr = np.load(mapped, mmap_mode="r")
        if arr.dtype == np.float32 and arr.ndim == 2 and arr.shape[1] == dim and arr.shape[0] >= n:
            return arr[:n]
    return np.frombuffer(native.data(), dtype="<f4").reshape(n, dim)


class KeyedVectors:
    """Words and their vectors, as gensim's ``KeyedVectors``: ``.vectors`` (float32, read-only),
    ``.index_to_key``, ``.key_to_index``, ``kv[word]``, ``word in kv``, ``len(kv)``, queries
    and evaluations. Models trained with subwords answer for any word."""

    def __init__(self, native, path):
        self._native = native
        self.path = path
        self.index_to_key = native.words()
        self.key_to_index = {}
        for i, w in enumerate(self.index_to_key):
            self.key_to_index.setdefault(w, i)
        self.vectors = _matrix(native)
        self.counts = native.counts()
        self.stats = None

    @property
    def vector_size(self):
        return self.vectors.shape[1]

    @property
    def has_subwords(self):
        """Whether unknown words get vectors from their character n-grams."""
        return self._native.has_subwords()

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, word):
        return word in self.key_to_index or self.has_subwords

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.get_vector(key)
        return np.stack([self.get_vector(k) for k in key])

    def get_index(self, word):
        """The row of a vocabulary word (``KeyError`` if it has none)."""
        return self.key_to_index[word]

    def get_vector(self, word):
        """A word's vector; an unknown word's from its n-grams when the model has them."""
        i = self.key_to_index.get(word)
        if i is not None:
            return self.vectors[i]
        data, _ = self._native.vector(word)
        return np.frombuffer(data, dtype="<f4")

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` words nearest (cosine) to the mean of ``positive``'s unit vectors minus
        ``negative``'s, the query words left out: ``[(word, cosine), ...]``, as gensim."""
        positive = [positive] if isinstance(positive, str) else list(positive or [])
        negative = [negative] if isinstance(negative, str) else list(negative or [])
        return self._native.most_similar(positive, negative, int(topn), restrict_vocab)

    def similarity(self, w1, w2):
        """Cosine similarity of two words."""
        return self._native.similarity(w1, w2)

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True):
        """Accuracy on a ``questions-words.txt`` file with gensim's defaults (3CosAdd among the
        ``restrict_vocab`` most frequent words, case folded): ``(score, sections)``, each
        section a dict of its name and its ``correct`` and ``incorrect`` counts (gensim lists
        the questions themselves), the last one ``Total accuracy``."""
        r = json.loads(self._native.evaluate_analogies(os.fspath(analogies), restrict_vocab, case_insensitive))
        section = lambda name, s: {"section": name, "correct": s["correct"], "incorrect": s["answered"] - s["correct"]}
        sections = [section(name, s) for name, s in r["sections"]]
        sections.append(section("Total accuracy", r["total"]))
        total = r["total"]
        return total["correct"] / max(total["answered"], 1), sections

    def evaluate_word_pairs(self, pairs, restrict_vocab=300000, case_insensitive=True):
        """Correlation with a ``word1 word2 score`` file: ``(pearson, spearman, oov_ratio)``,
        the ratio in percent as gensim gives it (gensim's correlations also carry p-values)."""
        if restrict_vocab < len(self):
            raise ValueError("restrict_vocab below the vocabulary size is not supported")
        r = json.loads(self._native.evaluate_pairs(os.fspath(pairs), case_insensitive))
        oov = 100.0 * r["oov"] / max(r["pairs"], 1)
        return r["pearson"], r["spearman"], oov

    def save(self, path, format="word2vec-bin"):
        """Writes the vectors in one of ``wembed export``'s formats: word2vec-bin,
        word2vec-text, glove-text, fasttext-vec, fasttext-bin, npy, safetensors."""
        self._native.save(os.fspath(path), format)

    def to_gensim(self):
        """A real gensim ``KeyedVectors`` holding the same words and vectors (needs gensim)."""
        from gensim.models import KeyedVectors as GensimKeyedVectors

        kv = GensimKeyedVectors(self.vector_size, dtype=np.float32)
        kv.add_vectors(self.index_to_key, np.asarray(self.vectors, dtype=np.float32))
        if self.counts is not None:
            for w, c in zip(self.index_to_key, self.counts):
                kv.set_vecattr(w, "count", int(c))
        return kv

    def __repr__(self):
        return f"<wembed.KeyedVectors {len(self)} x {self.vector_size} from {self.path!r}>"
