//! Word vectors as users hold them: a word list and a matrix, read from and written to the formats
//! other tools use. One file per format; this file holds the types, format detection and export.
//!
//! ```
//! use wembed::vectors::{self, Dtype, Embeddings, Format, Matrix};
//!
//! let emb = Embeddings {
//!     words: vec!["king".into(), "queen".into()],
//!     counts: None,
//!     matrix: Matrix::Owned { data: vec![1.0, 0.0, 0.8, 0.6], cols: 2 },
//! };
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("v.bin");
//! vectors::export(&emb, Format::Word2VecBin, Dtype::F32, &path)?;
//! // Any format is read back by content, not by name.
//! let back = Embeddings::load(&path)?;
//! assert_eq!(back.words, emb.words);
//! assert_eq!(back.row(1), [0.8, 0.6]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fasttext;
pub mod lookup;
pub mod npy;
pub mod safetensors;
pub mod word2vec;

use crate::error::{Error, Result};
use crate::kernels;
use crate::store::NpyMatrix;
use crate::vocab::Vocab;
use std::io::Read;
use std::path::Path;

/// Row storage: owned after parsing a file, mapped for float32 `.npy`.
pub enum Matrix {
    /// Values in memory.
    Owned {
        /// Every value, row-major.
        data: Vec<f32>,
        /// Columns.
        cols: usize,
    },
    /// A float32 `.npy` file, mapped.
    Mapped(NpyMatrix),
}

impl Matrix {
    /// Columns (the dimension).
    pub fn cols(&self) -> usize {
        match self {
            Matrix::Owned { cols, .. } => *cols,
            Matrix::Mapped(m) => m.cols(),
        }
    }

    /// Every value, row-major.
    pub fn data(&self) -> &[f32] {
        match self {
            Matrix::Owned { data, .. } => data,
            Matrix::Mapped(m) => m.data(),
        }
    }

    /// The float32 `.npy` file the rows are mapped from (its first rows), if they are.
    pub fn mapped_file(&self) -> Option<&Path> {
        match self {
            Matrix::Owned { .. } => None,
            Matrix::Mapped(m) => Some(m.path()),
        }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        let c = self.cols();
        &self.data()[i * c..(i + 1) * c]
    }
}

/// Words (in file order: most frequent first for every format wembed writes), their counts when
/// the source has them, and their vectors.
pub struct Embeddings {
    /// One word per row.
    pub words: Vec<String>,
    /// Corpus counts, when the format carries them (a model folder's vocab.txt).
    pub counts: Option<Vec<u64>>,
    /// The vectors.
    pub matrix: Matrix,
}

/// What a writer needs: `len` rows of `dim` values, each with its word. Writers pull rows one at a
/// time, so an export never needs a second copy of a mapped matrix.
pub trait Rows {
    /// Rows.
    fn len(&self) -> usize;
    /// Columns.
    fn dim(&self) -> usize;
    /// The word of row `i`.
    fn word(&self, i: usize) -> &str;
    /// Count of word i, if known (written to `vocab.txt` beside npy and safetensors exports).
    fn count(&self, i: usize) -> Option<u64>;
    /// Writes row `i` into `out` (which has `dim` values).
    fn row_into(&self, i: usize, out: &mut [f32]);
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Rows for Embeddings {
    fn len(&self) -> usize {
        self.words.len()
    }
    fn dim(&self) -> usize {
        self.matrix.cols()
    }
    fn word(&self, i: usize) -> &str {
        &self.words[i]
    }
    fn count(&self, i: usize) -> Option<u64> {
        self.counts.as_ref().map(|c| c[i])
    }
    fn row_into(&self, i: usize, out: &mut [f32]) {
        out.copy_from_slice(self.matrix.row(i));
    }
}

impl Embeddings {
    /// Rows.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.matrix.cols()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        self.matrix.row(i)
    }

    /// Loads vectors, telling the format from the content: a wembed model folder, `.npy` with a
    /// `vocab.txt` beside it, safetensors, a fastText `.bin` (each dictionary word's vector, built
    /// from its n-grams as fastText builds it), word2vec binary or text (with a `count dim`
    /// header), or GloVe text (no header).
    pub fn load(path: &Path) -> Result<Embeddings> {
        let e = Self::load_any(path)?;
        if e.dim() == 0 {
            return Err(Error::bad_file(path, "vectors of dimension 0"));
        }
        Ok(e)
    }

    /// Values that are NaN or infinite: accepted (some tools write them), but worth a warning.
    pub fn nonfinite(&self) -> usize {
        self.matrix.data().iter().filter(|x| !x.is_finite()).count()
    }

    fn load_any(path: &Path) -> Result<Embeddings> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Self::load_folder(path);
        }
        if !meta.is_file() {
            // /dev/zero, a FIFO: an endless or one-shot stream is not a vectors file.
            return Err(Error::bad_file(path, "not a regular file"));
        }
        let mut head = Vec::new();
        std::fs::File::open(path)
            .map_err(|e| Error::io(path, e))?
            .take(1 << 16)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            return Err(Error::bad_file(path, "file is empty"));
        }
        if head.starts_with(b"\x93NUMPY") {
            return Self::load_npy(path, &npy::find_vocab(path));
        }
        if safetensors::looks_like(&head) {
            return safetensors::read(path);
        }
        if fasttext::FastTextModel::looks_like(&head) {
            use lookup::WordVectors;
            return Ok(fasttext::FastTextModel::open(path)?.embeddings());
        }
        word2vec::read(path, &head)
    }

    /// A model folder's word vectors: `input.npy` (mapped) with its `vocab.txt`; for a folder
    /// trained with subwords, whose `input.npy` also holds the n-gram rows, the words' built
    /// vectors in its `vectors.bin` (`run::folder` opens the n-grams themselves).
    fn load_folder(dir: &Path) -> Result<Embeddings> {
        let (input, vocab) = (dir.join("input.npy"), dir.join("vocab.txt"));
        let words = Vocab::load(&vocab)?.len();
        let matrix = npy::read(&input)?;
        let rows = matrix.data().len() / matrix.cols().max(1);
        let bin = dir.join("vectors.bin");
        if rows > words && bin.is_file() {
            return Self::load(&bin);
        }
        Self::load_npy(&input, &vocab)
    }

    /// A `.npy` matrix whose rows are the words of a `vocab.txt`, in order.
    pub fn load_npy(npy_path: &Path, vocab: &Path) -> Result<Embeddings> {
        let v = Vocab::load(vocab)?;
        let matrix = npy::read(npy_path)?;
        let rows = matrix.data().len() / matrix.cols().max(1);
        if v.len() != rows {
            return Err(Error::bad_file(
                npy_path,
                format!("{rows} rows but {} has {} words", vocab.display(), v.len()),
            ));
        }
        Ok(Embeddings {
            words: v.words().to_vec(),
            counts: Some(v.counts().to_vec()),
            matrix,
        })
    }
}

/// File formats of `wembed export`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    #[value(name = "word2vec-bin")]
    #[serde(rename = "word2vec-bin")]
    /// word2vec's binary format (`-binary 1`).
    Word2VecBin,
    #[value(name = "word2vec-text")]
    #[serde(rename = "word2vec-text")]
    /// word2vec's text format, with its `rows dim` header.
    Word2VecText,
    /// Stanford GloVe's text format: no header.
    GloveText,
    #[value(name = "fasttext-vec")]
    #[serde(rename = "fasttext-vec")]
    /// fastText's `.vec`: word2vec text.
    FastTextVec,
    #[value(name = "fasttext-bin")]
    #[serde(rename = "fasttext-bin")]
    /// fastText's `.bin` model: from a model folder its settings, n-grams and both matrices;
    /// from a vectors file a word-only model.
    FastTextBin,
    /// A numpy `.npy` matrix, words in `NAME.vocab.txt` beside it.
    Npy,
    /// One safetensors tensor, the words in its metadata.
    Safetensors,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format> {
        Ok(match s {
            "word2vec-bin" => Format::Word2VecBin,
            "word2vec-text" => Format::Word2VecText,
            "glove-text" => Format::GloveText,
            "fasttext-vec" => Format::FastTextVec,
            "fasttext-bin" => Format::FastTextBin,
            "npy" => Format::Npy,
            "safetensors" => Format::Safetensors,
            _ => {
                return Err(Error::Invalid(format!(
                    "unknown format {s:?}: word2vec-bin, word2vec-text, glove-text, fasttext-vec, fasttext-bin, npy or safetensors"
                )))
            }
        })
    }
}

pub use crate::store::Dtype;

/// Scales a vector to unit length (a zero vector stays zero), as every cosine here does.
pub fn normalize(v: &mut [f32]) {
    kernels::normalize(v)
}

/// Rows of one or two matrices (summed), cut to the first `limit` and optionally unit length.
pub struct View<'a> {
    /// The rows.
    pub base: &'a Embeddings,
    /// Rows added to them (GloVe's W + W~).
    pub add: Option<&'a Embeddings>,
    /// Rows shown: the first this many.
    pub limit: usize,
    /// Rows scaled to unit length.
    pub normalize: bool,
}

impl<'a> View<'a> {
    /// A view of `base` (+ `add`), refused when the two disagree in words or shape.
    pub fn new(
        base: &'a Embeddings,
        add: Option<&'a Embeddings>,
        limit: Option<usize>,
        normalize: bool,
    ) -> Result<Self> {
        if let Some(o) = add {
            if o.dim() != base.dim() || o.len() != base.len() {
                return Err(Error::Invalid(format!(
                    "cannot add matrices of shapes ({}, {}) and ({}, {})",
                    base.len(),
                    base.dim(),
                    o.len(),
                    o.dim()
                )));
            }
        }
        let limit = limit.map_or(base.len(), |l| l.min(base.len()));
        Ok(View {
            base,
            add,
            limit,
            normalize,
        })
    }
}

impl Rows for View<'_> {
    fn len(&self) -> usize {
        self.limit
    }
    fn dim(&self) -> usize {
        self.base.dim()
    }
    fn word(&self, i: usize) -> &str {
        &self.base.words[i]
    }
    fn count(&self, i: usize) -> Option<u64> {
        self.base.count(i)
    }
    fn row_into(&self, i: usize, out: &mut [f32]) {
        out.copy_from_slice(self.base.row(i));
        if let Some(o) = self.add {
            kernels::axpy(1.0, o.row(i), out);
        }
        if self.normalize {
            kernels::normalize(out);
        }
    }
}

impl Format {
    /// Text formats can go to stdout (`-o -`); the others are binary.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Format::Word2VecText | Format::GloveText | Format::FastTextVec
        )
    }

    /// The name users type (`--format npy`), for messages.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map_or_else(|| format!("{self:?}"), |v| v.get_name().to_string())
    }

    /// The files an export writes: the output, and the word list beside a bare matrix.
    pub fn outputs(self, path: &Path) -> Vec<std::path::PathBuf> {
        match self {
            Format::Npy | Format::Safetensors => vec![path.to_path_buf(), npy::vocab_path(path)],
            _ => vec![path.to_path_buf()],
        }
    }
}

/// Writes `rows` to `path` in `format`, through a temporary file renamed at the end; `-` is
/// stdout for the text formats. (`run::export` also refuses to write over a file a model folder
/// owns.)
pub fn export(rows: &dyn Rows, format: Format, dtype: Dtype, path: &Path) -> Result<()> {
    if crate::atomic::is_stdout(path) && !format.is_text() {
        return Err(Error::Invalid(format!(
            "{} is binary: -o - (stdout) is for word2vec-text, glove-text and fasttext-vec; name a file",
            format.name()
        )));
    }
    if rows.is_empty() {
        return Err(Error::Invalid("nothing to export: no rows".into()));
    }
    if dtype != Dtype::F32 && !matches!(format, Format::Npy | Format::Safetensors) {
        return Err(Error::setting(
            "dtype",
            "f16 and f64 are for npy and safetensors; text and word2vec binary are float32",
        ));
    }
    match format {
        Format::Word2VecBin => word2vec::write_binary(path, rows),
        Format::Word2VecText | Format::FastTextVec => word2vec::write_text(path, rows, true),
        Format::GloveText => word2vec::write_text(path, rows, false),
        Format::FastTextBin => fasttext::write_rows(path, rows),
        Format::Npy => npy::write(path, rows, dtype),
        Format::Safetensors => safetensors::write(path, rows, dtype),
    }
}

/// Little-endian float64 values (numpy's default dtype) as f32, for the readers of `.npy` and
/// safetensors; a trailing partial value is dropped, and the callers' size checks refuse one.
pub(crate) fn f64_le_to_f32(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(8)
        .map(|b| {
            let mut v = [0u8; 8];
            v.copy_from_slice(b);
            f64::from_le_bytes(v) as f32
        })
        .collect()
}

/// `vocab.txt` for exports whose matrix has no words inside: counts when known, else 0. Row order
/// is the file's line order, which `Vocab::load` keeps.
pub(crate) fn write_vocab(path: &Path, rows: &dyn Rows) -> Result<()> {
    crate::atomic::write_text(path, |w| {
        for i in 0..rows.len() {
            writeln!(w, "{}\t{}", rows.word(i), rows.count(i).unwrap_or(0))?;
        }
        Ok(())
    })
    .map(drop)
}
