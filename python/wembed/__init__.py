"""wembed from Python: train word2vec (skip-gram, CBOW) and GloVe vectors with the wembed
library, at its speed, and load, query, evaluate and export vectors.

>>> import wembed
>>> wembed.train("corpus.txt", model="skipgram", output="model")   # doctest: +SKIP
>>> kv = wembed.load("model")                                       # doctest: +SKIP
>>> kv.most_similar("king", topn=5)                                 # doctest: +SKIP
"""

from .errors import (
    BadFile,
    Error,
    FileError,
    FolderInUse,
    Interrupted,
    InvalidArgument,
    NotFound,
    UnknownWord,
)
from ._keyedvectors import KeyedVectors, load
from ._training import resume, train

__all__ = [
    "train",
    "resume",
    "load",
    "KeyedVectors",
    "Error",
    "NotFound",
    "FileError",
    "BadFile",
    "InvalidArgument",
    "FolderInUse",
    "UnknownWord",
    "Interrupted",
]
