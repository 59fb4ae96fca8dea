//! A vector for any word: a row for a word of the vocabulary, and for a model with subwords a
//! vector built from the word's n-grams, as `fasttext print-word-vectors` gives one.

use super::fasttext::FastTextModel;
use super::{Embeddings, Matrix};
use crate::error::{Error, Result};
use crate::subword::{self, Subwords};
use hashbrown::HashMap;
use std::path::Path;

/// Where a word's vector came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// The word is in the vocabulary.
    Known,
    /// Not in the vocabulary: built from its n-grams alone.
    Subwords,
    /// No vector at all (zeros): unknown, and the model has no n-grams for it.
    Unknown,
}

/// Vectors that answer for any word.
pub enum Lookup {
    /// Rows and their words: only the vocabulary has vectors.
    Rows {
        /// The vectors.
        emb: Embeddings,
        /// Each word's row (the first row, should a file hold a word twice).
        index: HashMap<String, usize>,
    },
    /// A model with n-grams (a fastText `.bin`, a wembed folder trained with subwords): they
    /// answer for unknown words.
    Subwords(Box<dyn WordVectors>),
}

/// A model that builds any word's vector from its rows.
pub trait WordVectors: Send + Sync {
    /// Dimension.
    fn dim(&self) -> usize;
    /// The vocabulary and its counts, in row order.
    fn vocabulary(&self) -> (&[String], &[u64]);
    /// The row of a vocabulary word.
    fn id(&self, word: &str) -> Option<usize>;
    /// Whether unknown words get n-grams.
    fn has_ngrams(&self) -> bool;
    /// `word`'s vector; returns how many rows it averages (0: none, the vector is zero).
    fn word_vector(&self, word: &str, out: &mut [f32]) -> usize;
    /// The rows `word`'s vector averages, named (`subword::ngram_vectors`).
    fn ngram_vectors(&self, word: &str) -> Vec<(String, Vec<f32>)>;
    /// Every vocabulary word with its built vector (what fastText's `.vec` and a subword
    /// folder's `vectors.bin` hold).
    fn embeddings(&self) -> Embeddings {
        let d = self.dim();
        let (words, counts) = self.vocabulary();
        let mut data = vec![0f32; words.len() * d];
        for (w, row) in words.iter().zip(data.chunks_exact_mut(d)) {
            self.word_vector(w, row);
        }
        Embeddings {
            words: words.to_vec(),
            counts: Some(counts.to_vec()),
            matrix: Matrix::Owned { data, cols: d },
        }
    }
}

/// The input matrix of a model trained with subwords (the words' rows, then `bucket` n-gram
/// rows) with its words: any word's vector, as fastText builds it.
pub struct SubwordVectors {
    /// The vocabulary, in row order.
    pub words: Vec<String>,
    /// Their counts.
    pub counts: Vec<u64>,
    /// The n-gram settings it was trained with.
    pub subwords: Subwords,
    /// `words + bucket` rows.
    pub matrix: Matrix,
    index: HashMap<String, usize>,
}

impl SubwordVectors {
    /// Checks that `matrix` has a row for every word and every bucket.
    pub fn new(
        (words, counts): (Vec<String>, Vec<u64>),
        matrix: Matrix,
        subwords: Subwords,
        path: &Path,
    ) -> Result<SubwordVectors> {
        let rows = matrix.data().len() / matrix.cols().max(1);
        if rows != words.len() + subwords.bucket {
            return Err(Error::bad_file(
                path,
                format!(
                    "{rows} rows, but {} words and {} n-gram buckets need {}",
                    words.len(),
                    subwords.bucket,
                    words.len() + subwords.bucket
                ),
            ));
        }
        let index = first_rows(&words);
        Ok(SubwordVectors {
            words,
            counts,
            subwords,
            matrix,
            index,
        })
    }

    /// The row of a vocabulary word.
    pub fn id(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }
}

impl WordVectors for SubwordVectors {
    fn dim(&self) -> usize {
        self.matrix.cols()
    }
    fn vocabulary(&self) -> (&[String], &[u64]) {
        (&self.words, &self.counts)
    }
    fn id(&self, word: &str) -> Option<usize> {
        SubwordVectors::id(self, word)
    }
    fn has_ngrams(&self) -> bool {
        self.subwords.enabled()
    }
    fn word_vector(&self, word: &str, out: &mut [f32]) -> usize {
        let add = |r: usize, acc: &mut [f32]| crate::kernels::axpy(1.0, self.matrix.row(r), acc);
        let known = self.id(word);
        subword::word_vector(&self.subwords, (word, known), self.words.len(), add, out)
    }
    fn ngram_vectors(&self, word: &str) -> Vec<(String, Vec<f32>)> {
        let add = |r: usize, acc: &mut [f32]| crate::kernels::axpy(1.0, self.matrix.row(r), acc);
        let (known, n, d) = (self.id(word), self.words.len(), self.dim());
        subword::ngram_vectors(&self.subwords, (word, known), n, add, d)
    }
}

impl WordVectors for FastTextModel {
    fn dim(&self) -> usize {
        FastTextModel::dim(self)
    }
    fn vocabulary(&self) -> (&[String], &[u64]) {
        (&self.words, &self.counts)
    }
    fn id(&self, word: &str) -> Option<usize> {
        FastTextModel::id(self, word)
    }
    fn has_ngrams(&self) -> bool {
        self.args.subwords.enabled()
    }
    fn word_vector(&self, word: &str, out: &mut [f32]) -> usize {
        FastTextModel::word_vector(self, word, out)
    }
    fn ngram_vectors(&self, word: &str) -> Vec<(String, Vec<f32>)> {
        FastTextModel::ngram_vectors(self, word)
    }
}

/// Each word's first row.
fn first_rows(words: &[String]) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        index.entry(w.clone()).or_insert(i);
    }
    index
}

impl Lookup {
    /// Word-only vectors.
    pub fn rows(emb: Embeddings) -> Lookup {
        let index = first_rows(&emb.words);
        Lookup::Rows { emb, index }
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        match self {
            Lookup::Rows { emb, .. } => emb.dim(),
            Lookup::Subwords(m) => m.dim(),
        }
    }

    /// Whether unknown words get vectors from their n-grams.
    pub fn has_subwords(&self) -> bool {
        match self {
            Lookup::Rows { .. } => false,
            Lookup::Subwords(m) => m.has_ngrams(),
        }
    }

    /// The vocabulary's vectors, built from their rows, for a model with subwords (`None` for
    /// plain rows, which are their own).
    pub fn built_vocabulary(&self) -> Option<Embeddings> {
        match self {
            Lookup::Rows { .. } => None,
            Lookup::Subwords(m) => Some(m.embeddings()),
        }
    }

    /// The rows `word`'s vector averages, named as `fasttext print-ngrams` names them; `None`
    /// for vectors without n-grams.
    pub fn ngram_vectors(&self, word: &str) -> Option<Vec<(String, Vec<f32>)>> {
        match self {
            Lookup::Subwords(m) if m.has_ngrams() => Some(m.ngram_vectors(word)),
            _ => None,
        }
    }

    /// Writes `word`'s vector to `out` (`dim` values; zeros when it has none).
    pub fn vector(&self, word: &str, out: &mut [f32]) -> Found {
        match self {
            Lookup::Rows { emb, index } => match index.get(word) {
                Some(&i) => {
                    out.copy_from_slice(emb.row(i));
                    Found::Known
                }
                None => {
                    out.fill(0.0);
                    Found::Unknown
                }
            },
            Lookup::Subwords(m) => found(m.id(word), m.word_vector(word, out)),
        }
    }
}

fn found(known: Option<usize>, rows: usize) -> Found {
    match (known, rows) {
        (Some(_), _) => Found::Known,
        (None, 0) => Found::Unknown,
        (None, _) => Found::Subwords,
    }
}
