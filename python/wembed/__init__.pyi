"""Type stubs of the public API (the implementation is in _training.py and _keyedvectors.py)."""

import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import (
    BadFile as BadFile,
    Error as Error,
    FileError as FileError,
    FolderInUse as FolderInUse,
    Interrupted as Interrupted,
    InvalidArgument as InvalidArgument,
    NotFound as NotFound,
    UnknownWord as UnknownWord,
)

PathLike = Union[str, os.PathLike]
Corpus = Union[PathLike, Sequence[PathLike], Iterable[Sequence[str]]]
Callback = Callable[[Dict[str, Any]], None]

def train(
    corpus: Corpus,
    model: str = "skipgram",
    output: PathLike = "model",
    *,
    progress: bool = True,
    callback: Optional[Callback] = None,
    **settings: Any,
) -> "KeyedVectors": ...
def resume(
    output: PathLike,
    corpus: Optional[Union[PathLike, Sequence[PathLike]]] = None,
    *,
    progress: bool = True,
    callback: Optional[Callback] = None,
) -> "KeyedVectors": ...
def load(path: PathLike) -> "KeyedVectors": ...

class KeyedVectors:
    path: str
    index_to_key: List[str]
    key_to_index: Dict[str, int]
    vectors: np.ndarray
    counts: Optional[List[int]]
    stats: Optional[Dict[str, Any]]
    @property
    def vector_size(self) -> int: ...
    @property
    def has_subwords(self) -> bool: ...
    def __len__(self) -> int: ...
    def __contains__(self, word: str) -> bool: ...
    def __getitem__(self, key: Union[str, Sequence[str]]) -> np.ndarray: ...
    def get_index(self, word: str) -> int: ...
    def get_vector(self, word: str) -> np.ndarray: ...
    def most_similar(
        self,
        positive: Optional[Union[str, Sequence[str]]] = None,
        negative: Optional[Union[str, Sequence[str]]] = None,
        topn: int = 10,
        restrict_vocab: Optional[int] = None,
    ) -> List[Tuple[str, float]]: ...
    def similarity(self, w1: str, w2: str) -> float: ...
    def evaluate_word_analogies(
        self, analogies: PathLike, restrict_vocab: int = 300000, case_insensitive: bool = True
    ) -> Tuple[float, List[Dict[str, Any]]]: ...
    def evaluate_word_pairs(
        self, pairs: PathLike, restrict_vocab: int = 300000, case_insensitive: bool = True
    ) -> Tuple[float, float, float]: ...
    def save(self, path: PathLike, format: str = "word2vec-bin") -> None: ...
    def to_gensim(self) -> Any: ...
