//! fastText's `.bin` model (0.9.2, file format version 12): the header (`Args`), the dictionary,
//! then the input matrix (`nwords + bucket` rows: words, then hashed n-grams) and the output
//! matrix, each as `i64 rows, i64 cols, f32 × rows·cols`, all little-endian.
//!
//! A model is read by memory map. Every count in the file is checked against the bytes that are
//! left before anything is allocated, so a truncated or fuzzed file is a one-line error, never a
//! panic or an allocation the size of a lie.

use super::Rows;
use crate::error::{Error, Result};
use crate::subword::Subwords;
use hashbrown::HashMap;
use memmap2::Mmap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// fastText's file magic.
pub const MAGIC: i32 = 793_712_314;
/// The file format version fastText 0.9.2 writes.
pub const VERSION: i32 = 12;

/// fastText's `model_name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// `cbow` (1).
    Cbow,
    /// `skipgram` (2).
    SkipGram,
}

/// fastText's `loss_name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Hierarchical softmax (1).
    Hs,
    /// Negative sampling (2).
    Ns,
}

/// The training settings a `.bin` stores (fastText's `Args::save`, in file order).
#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    /// Dimension.
    pub dim: usize,
    /// Window.
    pub ws: usize,
    /// Epochs.
    pub epoch: usize,
    /// Minimum count.
    pub min_count: usize,
    /// Negatives.
    pub neg: usize,
    /// Word n-grams (1 for unsupervised models).
    pub word_ngrams: usize,
    /// Loss.
    pub loss: Loss,
    /// Architecture.
    pub model: Model,
    /// N-gram settings (bucket, minn, maxn).
    pub subwords: Subwords,
    /// How often fastText updated its learning rate, in tokens.
    pub lr_update_rate: usize,
    /// Subsampling threshold.
    pub t: f64,
}

/// A fastText model, mapped: the words and their counts in memory, the matrices on disk.
pub struct FastTextModel {
    /// Its settings.
    pub args: Args,
    /// The dictionary's words, in its order (the rows of the input matrix's first part).
    pub words: Vec<String>,
    /// Their counts.
    pub counts: Vec<u64>,
    /// Tokens of the corpus it was trained on.
    pub ntokens: i64,
    index: HashMap<String, usize>,
    map: Mmap,
    input: usize,
    path: PathBuf,
}

/// A little-endian reader over the mapped bytes that never reads past them.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.bytes.len() - self.at < n {
            return Err(self.bad(format!("truncated in {what}")));
        }
        self.at += n;
        Ok(&self.bytes[self.at - n..self.at])
    }
    fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn i64(&mut self, what: &str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
    /// A non-negative count no larger than `max`.
    fn count(&mut self, what: &str, max: u64) -> Result<usize> {
        let v = self.i64(what)?;
        if v < 0 || v as u64 > max {
            return Err(self.bad(format!("{what} is {v}, which this file cannot hold")));
        }
        Ok(v as usize)
    }
    fn bad(&self, msg: String) -> Error {
        Error::bad_file(self.path, format!("fastText model: {msg}"))
    }
}

impl FastTextModel {
    /// Whether `head` starts like a fastText `.bin`.
    pub fn looks_like(head: &[u8]) -> bool {
        head.len() >= 4 && head[..4] == MAGIC.to_le_bytes()
    }

    /// Whether `path` is a regular file that starts like a fastText `.bin`.
    pub fn sniff(path: &Path) -> Result<bool> {
        use std::io::Read;
        if !std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .is_file()
        {
            return Ok(false);
        }
        let mut head = Vec::with_capacity(4);
        std::fs::File::open(path)
            .and_then(|f| f.take(4).read_to_end(&mut head))
            .map_err(|e| Error::io(path, e))?;
        Ok(Self::looks_like(&head))
    }

    /// Maps and checks a `.bin` file.
    pub fn open(path: &Path) -> Result<FastTextModel> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let map = crate::store::map(&file).map_err(|e| Error::io(path, e))?;
        let mut c = Cursor {
            bytes: &map,
            at: 0,
            path,
        };
        if c.i32("the magic")? != MAGIC {
            return Err(c.bad("not a fastText .bin (wrong magic)".into()));
        }
        let version = c.i32("the version")?;
        if !(11..=VERSION).contains(&version) {
            return Err(c.bad(format!(
                "file format version {version} (this reads 11 and 12)"
            )));
        }
        let args = read_args(&mut c)?;
        let (words, counts, ntokens) = read_dictionary(&mut c)?;
        let input = read_matrices(&mut c, &args, words.len())?;
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Ok(FastTextModel {
            args,
            words,
            counts,
            ntokens,
            index,
            input,
            path: path.to_path_buf(),
            map,
        })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.args.dim
    }

    /// The row of a word in the dictionary.
    pub fn id(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// Adds input row `r` to `acc`.
    fn add_row(&self, r: usize, acc: &mut [f32]) {
        let d = self.args.dim;
        let at = self.input + r * d * 4;
        for (a, b) in acc.iter_mut().zip(self.map[at..at + d * 4].chunks_exact(4)) {
            *a += f32::from_le_bytes(b.try_into().unwrap());
        }
    }

    /// A word's vector as `fasttext print-word-vectors` gives it (zero when it has no rows: an
    /// unknown word of a model without n-grams); returns how many rows it averages (its own, if
    /// it is in the dictionary, and its n-grams').
    pub fn word_vector(&self, word: &str, out: &mut [f32]) -> usize {
        let rows = |r: usize, acc: &mut [f32]| self.add_row(r, acc);
        let (s, n) = (&self.args.subwords, self.words.len());
        crate::subword::word_vector(s, (word, self.id(word)), n, rows, out)
    }

    /// The rows `word`'s vector averages, named, as `fasttext print-ngrams` lists them.
    pub fn ngram_vectors(&self, word: &str) -> Vec<(String, Vec<f32>)> {
        let rows = |r: usize, acc: &mut [f32]| self.add_row(r, acc);
        let (s, n) = (&self.args.subwords, self.words.len());
        crate::subword::ngram_vectors(s, (word, self.id(word)), n, rows, self.args.dim)
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn read_args(c: &mut Cursor) -> Result<Args> {
    let mut int = |what: &str| -> Result<usize> {
        let v = c.i32(what)?;
        usize::try_from(v).map_err(|_| c.bad(format!("{what} is {v}")))
    };
    let (dim, ws, epoch, min_count, neg, word_ngrams) = (
        int("dim")?,
        int("ws")?,
        int("epoch")?,
        int("minCount")?,
        int("neg")?,
        int("wordNgrams")?,
    );
    let (loss, model) = (int("loss")?, int("model")?);
    let (bucket, minn, maxn, lr_update_rate) = (
        int("bucket")?,
        int("minn")?,
        int("maxn")?,
        int("lrUpdateRate")?,
    );
    let t = f64::from_le_bytes(c.take(8, "t")?.try_into().unwrap());
    let loss = match loss {
        1 => Loss::Hs,
        2 => Loss::Ns,
        3 | 4 => {
            return Err(
                c.bad("a softmax or one-vs-all model (a classifier), not word vectors".into())
            )
        }
        n => return Err(c.bad(format!("unknown loss {n}"))),
    };
    let model = match model {
        1 => Model::Cbow,
        2 => Model::SkipGram,
        3 => return Err(c.bad("a supervised classifier, not word vectors".into())),
        n => return Err(c.bad(format!("unknown model {n}"))),
    };
    if dim == 0 || dim > crate::word2vec::MAX_DIM {
        return Err(c.bad(format!("dimension {dim}")));
    }
    if maxn > 0 && (minn == 0 || minn > maxn) {
        return Err(c.bad(format!("n-gram lengths {minn}..={maxn}")));
    }
    let subwords = Subwords { minn, maxn, bucket };
    Ok(Args {
        dim,
        ws,
        epoch,
        min_count,
        neg,
        word_ngrams,
        loss,
        model,
        subwords,
        lr_update_rate,
        t,
    })
}

/// Smallest dictionary entry: an empty word's NUL, its count and its type.
const MIN_ENTRY: usize = 1 + 8 + 1;

fn read_dictionary(c: &mut Cursor) -> Result<(Vec<String>, Vec<u64>, i64)> {
    let size = c.i32("the dictionary size")?;
    let nwords = c.i32("the word count")?;
    let nlabels = c.i32("the label count")?;
    let ntokens = c.i64("the token count")?;
    let pruned = c.i64("the pruned-index size")?;
    if nlabels != 0 {
        return Err(c.bad(format!("{nlabels} labels: a classifier, not word vectors")));
    }
    if size < 0 || nwords != size || (size as usize).saturating_mul(MIN_ENTRY) > c.left() {
        return Err(c.bad(format!(
            "dictionary of {size} entries ({nwords} words) in {} bytes",
            c.left()
        )));
    }
    if pruned >= 0 {
        return Err(
            c.bad("a pruned (quantized) model; train or export one without -qnorm/cutoff".into())
        );
    }
    let mut words = Vec::with_capacity(size as usize);
    let mut counts = Vec::with_capacity(size as usize);
    for i in 0..size as usize {
        let rest = &c.bytes[c.at..];
        let Some(len) = memchr::memchr(0, rest) else {
            return Err(c.bad(format!("word {i} has no end")));
        };
        let word = String::from_utf8_lossy(c.take(len + 1, "a word")?.split_last().unwrap().1)
            .into_owned();
        let count = c.i64("a count")?;
        let kind = c.take(1, "an entry type")?[0];
        if count < 0 || kind != 0 {
            return Err(c.bad(format!(
                "entry {i} ({word:?}) has count {count}, type {kind}"
            )));
        }
        words.push(word);
        counts.push(count as u64);
    }
    Ok((words, counts, ntokens))
}

/// Checks both matrices' shapes and lengths; returns where the input matrix's values start.
fn read_matrices(c: &mut Cursor, args: &Args, nwords: usize) -> Result<usize> {
    let dense = |c: &mut Cursor, what: &str| -> Result<(usize, usize, usize)> {
        if c.take(1, what)?[0] != 0 {
            return Err(c.bad(format!(
                "the {what} matrix is quantized (.ftz); this reads dense models"
            )));
        }
        let rows = c.count("matrix rows", c.left() as u64)?;
        let cols = c.count("matrix columns", crate::word2vec::MAX_DIM as u64)?;
        let start = c.at;
        let bytes = rows.checked_mul(cols).and_then(|n| n.checked_mul(4));
        match bytes {
            Some(n) if n <= c.left() => c.take(n, what)?,
            _ => {
                return Err(c.bad(format!(
                    "the {what} matrix ({rows} × {cols}) is longer than the file"
                )))
            }
        };
        Ok((rows, cols, start))
    };
    let (rows, cols, input) = dense(c, "input")?;
    // fastText allocates the n-gram rows whenever bucket > 0 (it sets bucket to 0 for a model
    // with neither n-grams nor word n-grams).
    let want = nwords + args.subwords.bucket;
    if cols != args.dim || rows != want {
        return Err(c.bad(format!(
            "input matrix is {rows} × {cols}, expected {want} × {} ({nwords} words, {} buckets)",
            args.dim, args.subwords.bucket
        )));
    }
    let (orows, ocols, _) = dense(c, "output")?;
    if ocols != args.dim || orows != nwords {
        return Err(c.bad(format!(
            "output matrix is {orows} × {ocols}, expected {nwords} × {}",
            args.dim
        )));
    }
    if c.left() != 0 {
        return Err(c.bad(format!("{} bytes after the output matrix", c.left())));
    }
    Ok(input)
}

/// What a `.bin` is written from: the settings, the dictionary and both matrices.
pub struct FastTextParts<'a> {
    /// Settings; `subwords.bucket` rows of n-grams follow the words in `input`.
    pub args: Args,
    /// Words, most frequent first.
    pub words: &'a [String],
    /// Their counts.
    pub counts: &'a [u64],
    /// Tokens of the corpus.
    pub ntokens: i64,
    /// `(words + bucket) × dim` values, row-major.
    pub input: &'a [f32],
    /// `words × dim` values.
    pub output: &'a [f32],
}

/// Writes a `.bin` that fastText 0.9.2 and gensim's `load_facebook_model` load (through a
/// temporary file renamed at the end).
pub fn write(path: &Path, p: &FastTextParts) -> Result<()> {
    let d = p.args.dim;
    let rows = p.words.len() + p.args.subwords.bucket;
    if p.input.len() != rows * d
        || p.output.len() != p.words.len() * d
        || p.counts.len() != p.words.len()
    {
        return Err(Error::bad_file(
            path,
            "fastText export: matrix shapes do not match the dictionary",
        ));
    }
    crate::atomic::write_file(path, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let a = &p.args;
        for v in [MAGIC, VERSION] {
            w.write_all(&v.to_le_bytes())?;
        }
        let model = match a.model {
            Model::Cbow => 1,
            Model::SkipGram => 2,
        };
        let loss = match a.loss {
            Loss::Hs => 1,
            Loss::Ns => 2,
        };
        let s = a.subwords;
        for v in [
            a.dim,
            a.ws,
            a.epoch,
            a.min_count,
            a.neg,
            a.word_ngrams,
            loss,
            model,
            s.bucket,
            s.minn,
            s.maxn,
            a.lr_update_rate,
        ] {
            w.write_all(&(v as i32).to_le_bytes())?;
        }
        w.write_all(&a.t.to_le_bytes())?;
        let n = p.words.len() as i32;
        for v in [n, n, 0] {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&p.ntokens.to_le_bytes())?;
        w.write_all(&(-1i64).to_le_bytes())?; // not pruned
        for (word, &count) in p.words.iter().zip(p.counts) {
            w.write_all(word.as_bytes())?;
            w.write_all(&[0])?;
            w.write_all(&(count as i64).to_le_bytes())?;
            w.write_all(&[0])?; // a word, not a label
        }
        for (m, r) in [(p.input, rows), (p.output, p.words.len())] {
            w.write_all(&[0])?; // dense
            w.write_all(&(r as i64).to_le_bytes())?;
            w.write_all(&(d as i64).to_le_bytes())?;
            w.write_all(bytemuck::cast_slice(m))?;
        }
        w.flush()
    })
}

/// Writes bare vectors as a word-only fastText model (no n-grams, zero output rows; settings
/// fastText's defaults), for tools that take only `.bin`.
pub fn write_rows(path: &Path, rows: &dyn Rows) -> Result<()> {
    let d = rows.dim();
    let mut input = vec![0f32; rows.len() * d];
    for (i, row) in input.chunks_exact_mut(d).enumerate() {
        rows.row_into(i, row);
    }
    let words: Vec<String> = (0..rows.len()).map(|i| rows.word(i).to_string()).collect();
    let counts: Vec<u64> = (0..rows.len())
        .map(|i| rows.count(i).unwrap_or(1))
        .collect();
    let args = Args {
        dim: d,
        ws: 5,
        epoch: 5,
        min_count: 1,
        neg: 5,
        word_ngrams: 1,
        loss: Loss::Ns,
        model: Model::SkipGram,
        subwords: Subwords {
            minn: 0,
            maxn: 0,
            bucket: 0,
        },
        lr_update_rate: 100,
        t: 1e-4,
    };
    let parts = FastTextParts {
        args,
        words: &words,
        counts: &counts,
        ntokens: counts.iter().sum::<u64>() as i64,
        input: &input,
        output: &vec![0f32; rows.len() * d],
    };
    write(path, &parts)
}
