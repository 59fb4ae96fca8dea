//! Queries on vectors, as `neighbors`, `analogy` and the Python package ask them: a model
//! folder, a fastText `.bin` or any vectors file, with unknown words built from their n-grams
//! where the model has them.

use super::Observer;
use crate::error::{Error, Result};
use crate::eval::UnitVectors;
use crate::vectors::lookup::{Found, Lookup};
use crate::vectors::{self, Embeddings};
use std::path::{Path, PathBuf};

/// Opens vectors for lookups: a fastText `.bin` and a folder trained with subwords keep their
/// n-grams; anything else is its rows.
pub fn lookup(path: &Path, observer: &dyn Observer) -> Result<Lookup> {
    if path.is_dir() {
        if let Some(v) = super::folder::subword_vectors(path)? {
            return Ok(Lookup::Subwords(Box::new(v)));
        }
    }
    if vectors::fasttext::FastTextModel::sniff(path)? {
        let m = vectors::fasttext::FastTextModel::open(path)?;
        return Ok(Lookup::Subwords(Box::new(m)));
    }
    Ok(Lookup::rows(super::lm::load_vectors(path, observer)?))
}

/// A query's vectors: the vocabulary's rows, and the model itself where it builds vectors for
/// unknown words from their n-grams.
pub struct Queries {
    /// The vocabulary's vectors (built from their n-grams for a subword model).
    pub emb: Embeddings,
    subwords: Option<Lookup>,
    path: PathBuf,
}

impl Queries {
    /// What `path` holds, as [`lookup`] opens it.
    pub fn open(path: &Path, observer: &dyn Observer) -> Result<Queries> {
        let l = lookup(path, observer)?;
        let (emb, subwords) = match l.built_vocabulary() {
            Some(emb) => (emb, Some(l)),
            None => match l {
                Lookup::Rows { emb, .. } => (emb, None),
                _ => unreachable!("only rows have no built vocabulary"),
            },
        };
        Ok(Queries {
            emb,
            subwords,
            path: path.to_path_buf(),
        })
    }

    /// The model that builds unknown words' vectors, if it has n-grams.
    pub fn subwords(&self) -> Option<&Lookup> {
        self.subwords.as_ref().filter(|l| l.has_subwords())
    }

    /// `word`'s unit vector and its row (`None`: built from its n-grams); an unknown word the
    /// model cannot build is [`Error::UnknownWord`].
    pub fn unit(&self, uv: &UnitVectors, word: &str) -> Result<(Vec<f32>, Option<usize>)> {
        if let Some(id) = uv.id(word) {
            return Ok((uv.row(id).to_vec(), Some(id)));
        }
        let mut v = vec![0f32; self.emb.dim()];
        match &self.subwords {
            Some(l) if l.vector(word, &mut v) != Found::Unknown => {
                vectors::normalize(&mut v);
                Ok((v, None))
            }
            _ => Err(Error::UnknownWord {
                word: word.to_string(),
                path: self.path.clone(),
                subwords: self.subwords.is_some(),
            }),
        }
    }

    /// The `k` words nearest to the mean of `positive`'s unit vectors minus `negative`'s,
    /// the query words left out, with their cosines: gensim's `most_similar`.
    pub fn most_similar(
        &self,
        uv: &UnitVectors,
        (positive, negative): (&[String], &[String]),
        k: usize,
    ) -> Result<Vec<(String, f32)>> {
        let mut query = vec![0f32; self.emb.dim()];
        let mut exclude = Vec::new();
        let signed = positive
            .iter()
            .map(|w| (w, 1.0))
            .chain(negative.iter().map(|w| (w, -1.0)));
        for (w, sign) in signed {
            let (v, id) = self.unit(uv, w)?;
            crate::kernels::axpy(sign, &v, &mut query);
            exclude.extend(id);
        }
        if positive.is_empty() && negative.is_empty() {
            return Err(Error::Invalid(
                "most_similar needs at least one word".into(),
            ));
        }
        let found = uv.nearest(&query, k, &exclude);
        Ok(found
            .into_iter()
            .map(|(i, s)| (uv.word(i).to_string(), s))
            .collect())
    }

    /// Cosine similarity of two words' vectors.
    pub fn similarity(&self, uv: &UnitVectors, a: &str, b: &str) -> Result<f32> {
        let (va, _) = self.unit(uv, a)?;
        let (vb, _) = self.unit(uv, b)?;
        Ok(crate::kernels::dot(&va, &vb))
    }
}
