//! Word vectors as users hold them: a word list and a matrix, read from and written to the formats
//! other tools use. One file per format; this file holds the type and format detection.

pub mod word2vec;

use crate::error::{Error, Result};
use crate::store::NpyMatrix;
use crate::vocab::Vocab;
use std::io::Read;
use std::path::Path;

/// Row storage: owned after parsing a text or binary file, mapped for `.npy`.
pub enum Matrix {
    Owned { data: Vec<f32>, cols: usize },
    Mapped(NpyMatrix),
}

impl Matrix {
    pub fn cols(&self) -> usize {
        match self {
            Matrix::Owned { cols, .. } => *cols,
            Matrix::Mapped(m) => m.cols(),
        }
    }

    pub fn data(&self) -> &[f32] {
        match self {
            Matrix::Owned { data, .. } => data,
            Matrix::Mapped(m) => m.data(),
        }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        let c = self.cols();
        &self.data()[i * c..(i + 1) * c]
    }
}

/// Words (in file order: most frequent first for every format wembed writes) and their vectors.
pub struct Embeddings {
    pub words: Vec<String>,
    pub matrix: Matrix,
}

impl Embeddings {
    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.matrix.cols()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        self.matrix.row(i)
    }

    /// Loads vectors, telling the format from the content: a wembed model folder, `.npy` with a
    /// `vocab.txt` beside it, word2vec binary or text (with a `count dim` header), or GloVe text
    /// (no header).
    pub fn load(path: &Path) -> Result<Embeddings> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Self::load_npy(&path.join("input.npy"), &path.join("vocab.txt"));
        }
        let mut head = Vec::new();
        std::fs::File::open(path)
            .map_err(|e| Error::io(path, e))?
            .take(1 << 16)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if head.starts_with(b"\x93NUMPY") {
            let vocab = path.with_file_name("vocab.txt");
            return Self::load_npy(path, &vocab);
        }
        word2vec::read(path, &head)
    }

    /// A `.npy` matrix whose rows are the words of a `vocab.txt`, in order.
    pub fn load_npy(npy: &Path, vocab: &Path) -> Result<Embeddings> {
        let m = NpyMatrix::open(npy)?;
        let v = Vocab::load(vocab)?;
        if v.len() != m.rows() {
            return Err(Error::bad_file(
                npy,
                format!(
                    "{} rows but {} has {} words",
                    m.rows(),
                    vocab.display(),
                    v.len()
                ),
            ));
        }
        Ok(Embeddings {
            words: v.words().to_vec(),
            matrix: Matrix::Mapped(m),
        })
    }
}
