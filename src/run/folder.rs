//! The model folder a trainer leaves behind, and what makes it ready to use:
//!
//! ```text
//! model/
//!   config.json   hyperparameters, corpus and vocabulary statistics, training summary, version
//!   vocab.txt     word<TAB>count, most frequent first (row order of every matrix)
//!   input.npy     [V, dim] f32 word vectors
//!   output.npy    [V, dim] f32 context vectors (negative sampling)
//!   vectors.bin   word2vec binary of input.npy, for tools of the word2vec era
//! ```
//!
//! This module sits above trainers and formats: trainers write matrices, formats know files, and
//! only here are the two put together. [`ModelDir`] is the folder of one run: how a fresh run
//! claims it, how it is locked while training, and how a forced run replaces an old model.

use super::{ModelConfig, Observer, Trainer};
use crate::error::{Error, Result};
use crate::subword::Subwords;
use crate::vectors::lookup::{SubwordVectors, WordVectors};
use crate::vectors::{word2vec, Embeddings};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The run's settings and record, typed ([`ModelConfig`]).
pub const CONFIG: &str = "config.json";
/// `word<TAB>count`, the row order of every matrix.
pub const VOCAB: &str = "vocab.txt";
/// Word vectors.
pub const INPUT: &str = "input.npy";
/// The vectors users should load, as word2vec binary.
pub const VECTORS_BIN: &str = "vectors.bin";

/// Writes `config.json` atomically.
pub fn write_config(dir: &Path, config: &ModelConfig) -> Result<()> {
    let text = serde_json::to_string_pretty(config)
        .map_err(|e| Error::Invalid(format!("config.json: {e}")))?;
    crate::atomic::write_file(&dir.join(CONFIG), |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")
    })
}

/// Reads a model folder's `config.json` back as the struct it was written from.
pub fn read_config(dir: &Path) -> Result<ModelConfig> {
    let path = dir.join(CONFIG);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::bad_file(&path, format!("not a wembed model config: {e}")))
}

/// Writes `vectors.bin` (word2vec binary) from the folder's matrices: `input.npy` for word2vec
/// (each word's mean of its rows, with subwords), `input.npy + output.npy` for GloVe (the
/// Stanford tool's `-model 2`).
pub fn write_vectors_bin(dir: &Path, which: Which, config: &ModelConfig) -> Result<()> {
    let (base, add) = load_as(dir, which, subwords_of(config))?;
    let view = crate::vectors::View::new(&base, add.as_ref(), None, false)?;
    word2vec::write_binary(&dir.join(VECTORS_BIN), &view)
}

/// The n-gram settings of a folder trained with subwords.
pub fn subwords_of(config: &ModelConfig) -> Option<Subwords> {
    match &config.trainer {
        Trainer::Skipgram {
            hyperparameters, ..
        }
        | Trainer::Cbow {
            hyperparameters, ..
        } => hyperparameters.subwords,
        Trainer::Glove { .. } => None,
    }
}

/// A folder's input matrix with its n-grams, when it was trained with subwords.
pub fn subword_vectors(dir: &Path) -> Result<Option<SubwordVectors>> {
    let Some(subwords) = read_config(dir).ok().as_ref().and_then(subwords_of) else {
        return Ok(None);
    };
    open_subwords(dir, subwords).map(Some)
}

fn open_subwords(dir: &Path, subwords: Subwords) -> Result<SubwordVectors> {
    let vocab = crate::vocab::Vocab::load(&dir.join(VOCAB))?;
    let path = dir.join(INPUT);
    let matrix = crate::vectors::npy::read(&path)?;
    let words = (vocab.words().to_vec(), vocab.counts().to_vec());
    SubwordVectors::new(words, matrix, subwords, &path)
}

/// A run's checkpoint, while it trains.
pub const CHECKPOINT: &str = crate::checkpoint::FILE;
/// Context vectors (GloVe: W~).
pub const OUTPUT: &str = "output.npy";

/// Every name a trainer writes into a model folder (word2vec, GloVe and the LM): an export or
/// any other side output must not replace one of them.
pub const OWN_FILES: &[&str] = &[
    CONFIG,
    VOCAB,
    INPUT,
    OUTPUT,
    VECTORS_BIN,
    crate::checkpoint::FILE,
    "hs-nodes.npy",
    "bias.npy",
    "adagrad-input.npy",
    "adagrad-output.npy",
    "adagrad-bias.npy",
    crate::lm::train::WEIGHTS_FILE,
    crate::lm::train::METRICS_FILE,
];

/// A folder is a model folder when a trainer left its `config.json` or `checkpoint.json` there.
pub fn is_model_folder(dir: &Path) -> bool {
    dir.join(CONFIG).is_file() || dir.join(crate::checkpoint::FILE).is_file()
}

/// Refuses `path` if it would replace a file of the model folder it lies in.
pub fn refuse_own_file(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => return Ok(()),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if is_model_folder(dir) && OWN_FILES.contains(&name) {
        return Err(Error::Invalid(format!(
            "{} belongs to the model folder {}: write the export under another name",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// Which matrix of a model folder to use: word vectors, context vectors, or their sum (GloVe's
/// W + W~, and sometimes better for word2vec too).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// `input.npy`: word vectors.
    Input,
    /// `output.npy`: context vectors.
    Output,
    /// Their sum.
    Sum,
}

/// The matrices `which` asks for: the first to read rows from, the second (for `Sum`) to add.
/// With subwords, `input` is each word's vector built from its rows.
pub fn load(dir: &Path, which: Which) -> Result<(Embeddings, Option<Embeddings>)> {
    let subwords = read_config(dir).ok().as_ref().and_then(subwords_of);
    load_as(dir, which, subwords)
}

fn load_as(
    dir: &Path,
    which: Which,
    subwords: Option<Subwords>,
) -> Result<(Embeddings, Option<Embeddings>)> {
    let vocab = dir.join(VOCAB);
    let open = |name: &str| -> Result<Embeddings> {
        let path = dir.join(name);
        if !path.exists() {
            return Err(Error::bad_file(dir, format!("model folder has no {name}")));
        }
        match (name, subwords) {
            (INPUT, Some(s)) => Ok(open_subwords(dir, s)?.embeddings()),
            _ => Embeddings::load_npy(&path, &vocab),
        }
    };
    Ok(match which {
        Which::Input => (open(INPUT)?, None),
        Which::Output => (open(OUTPUT)?, None),
        Which::Sum => (open(INPUT)?, Some(open(OUTPUT)?)),
    })
}

/// The vectors a model folder gives its users, what its `vectors.bin` holds: W + W~ for a GloVe
/// folder trained with `vectors_bin: sum`, the word vectors (mapped, not copied) otherwise. What
/// `eval MODEL` scores is then what a user of the folder gets.
pub fn vectors(dir: &Path) -> Result<Embeddings> {
    let which = match read_config(dir) {
        Ok(ModelConfig {
            trainer: super::Trainer::Glove { vectors_bin, .. },
            ..
        }) => vectors_bin,
        _ => Which::Input,
    };
    let (base, add) = load(dir, which)?;
    let Some(add) = add else { return Ok(base) };
    let view = crate::vectors::View::new(&base, Some(&add), None, false)?;
    let dim = base.dim();
    let mut data = vec![0f32; base.len() * dim];
    for (i, row) in data.chunks_mut(dim).enumerate() {
        crate::vectors::Rows::row_into(&view, i, row);
    }
    Ok(Embeddings {
        words: base.words.clone(),
        counts: base.counts.clone(),
        matrix: crate::vectors::Matrix::Owned { data, cols: dim },
    })
}

/// Where a run writes its model folder. A run never mixes its files with another run's: an
/// existing, non-empty folder is refused unless forced, and then the new model is built in a
/// staging folder beside it (`.NAME.new`) that replaces the old one only when it is complete, so
/// a failed or killed forced run leaves the old model as it was.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelDir {
    /// The folder the trainer writes into.
    pub dir: std::path::PathBuf,
    /// The folder `dir` replaces when the run finishes (a forced run over an existing model).
    #[serde(default)]
    pub replaces: Option<std::path::PathBuf>,
    /// This run made `dir` (it did not exist, or is a staging folder).
    #[serde(skip)]
    pub created: bool,
}

impl ModelDir {
    /// Checks `dir` for a fresh run before any work is done; files that killed runs left are
    /// removed (and noted).
    pub fn fresh(dir: &Path, force: bool, observer: &dyn Observer) -> Result<ModelDir> {
        let meta = match std::fs::metadata(dir) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ModelDir {
                    dir: dir.to_path_buf(),
                    replaces: None,
                    created: true,
                })
            }
            Err(e) => return Err(Error::io(dir, e)),
        };
        if !meta.is_dir() {
            return Err(Error::bad_file(
                dir,
                "exists and is not a folder: name a new folder for the model",
            ));
        }
        for p in crate::atomic::remove_dead_scratch(dir) {
            observer.warning(&format!("removed {}, left by a killed run", p.display()));
        }
        remove_debris(dir, observer)?;
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_none();
        if empty {
            return Ok(ModelDir {
                dir: dir.to_path_buf(),
                replaces: None,
                created: false,
            });
        }
        if !force {
            return Err(Error::FolderInUse {
                dir: dir.to_path_buf(),
                interrupted: dir.join(crate::checkpoint::FILE).is_file(),
            });
        }
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let staging = dir.with_file_name(format!(".{name}.new"));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        Ok(ModelDir {
            dir: staging,
            replaces: Some(dir.to_path_buf()),
            created: true,
        })
    }

    /// A continued run's destination, as its checkpoint recorded it.
    pub fn resumed(dir: &Path, replaces: Option<PathBuf>) -> ModelDir {
        ModelDir {
            dir: dir.to_path_buf(),
            replaces,
            created: false,
        }
    }

    /// Cleans up after a fresh run unless [`FreshRun::keep`] is called: a run that fails before
    /// its first checkpoint leaves nothing anyone could resume, so its files (the vocabulary,
    /// scratch files) go, and the folder too if the run made it. A fresh run into a folder is then
    /// never refused because an earlier attempt failed there.
    pub fn fresh_run(&self) -> FreshRun<'_> {
        FreshRun {
            dest: self,
            keep: false,
        }
    }

    /// Creates the folder and locks it (and the folder it replaces) for the run. A fresh run
    /// then checks again that no other run wrote into the folder since [`ModelDir::fresh`].
    pub fn lock(&self, fresh: bool) -> Result<Vec<RunLock>> {
        let made = !self.dir.exists();
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let first = RunLock::acquire(&self.dir).inspect_err(|e| {
            // A folder this run made and could not lock for a failed write goes again (not when
            // another run holds it: it is that run's).
            if made && matches!(e, Error::Io { .. }) {
                let _ = std::fs::remove_dir(&self.dir);
            }
        })?;
        let mut locks = vec![first];
        if let Some(old) = &self.replaces {
            locks.push(RunLock::acquire(old)?);
        }
        if fresh {
            let others = std::fs::read_dir(&self.dir)
                .map_err(|e| Error::io(&self.dir, e))?
                .flatten()
                .any(|e| e.file_name() != PID_FILE);
            if others {
                return Err(Error::Invalid(format!(
                    "{} was filled by another run meanwhile; train into another folder",
                    self.dir.display()
                )));
            }
        }
        Ok(locks)
    }

    /// The folder the finished model ends up in.
    pub fn target(&self) -> &Path {
        self.replaces.as_deref().unwrap_or(&self.dir)
    }

    /// Puts a finished model in place: swaps the staging folder with the old one in a single
    /// rename (RENAME_EXCHANGE), then removes the old model. Where the filesystem cannot swap,
    /// the old folder is moved aside first, then the new one renamed into place.
    pub fn commit(&self) -> Result<()> {
        let Some(old) = &self.replaces else {
            return Ok(());
        };
        let cwd = rustix::fs::CWD;
        let swapped =
            rustix::fs::renameat_with(cwd, &self.dir, cwd, old, rustix::fs::RenameFlags::EXCHANGE);
        if swapped.is_ok() {
            return std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e));
        }
        let name = old.file_name().unwrap_or_default().to_string_lossy();
        let aside = old.with_file_name(format!(".{name}.old-{}", std::process::id()));
        if old.exists() {
            std::fs::rename(old, &aside).map_err(|e| Error::io(old, e))?;
        }
        std::fs::rename(&self.dir, old).map_err(|e| Error::io(old, e))?;
        let _ = std::fs::remove_dir_all(&aside);
        Ok(())
    }
}

/// A folder holding only what a fresh run writes before its first checkpoint (the vocabulary,
/// partial matrices, the PID file of a process no longer running) and no `config.json` or
/// `checkpoint.json` is the debris of a run killed early: nothing can resume it, so a new run
/// may clear it (and says so).
fn remove_debris(dir: &Path, observer: &dyn Observer) -> Result<()> {
    if is_model_folder(dir) {
        return Ok(());
    }
    let names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // Only a training run leaves the PID file; a vocab.txt alone may be the user's own.
    let holder = std::fs::read_to_string(dir.join(PID_FILE))
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok());
    if holder.is_none_or(crate::atomic::is_running) {
        return Ok(());
    }
    let debris =
        |n: &String| n == VOCAB || n == PID_FILE || (n.starts_with('.') && n.ends_with(".partial"));
    if !names.iter().all(debris) {
        return Ok(());
    }
    for n in &names {
        std::fs::remove_file(dir.join(n)).map_err(|e| Error::io(dir.join(n), e))?;
    }
    observer.warning(&format!(
        "removed {} file(s) of an earlier run in {} that stopped before its first checkpoint",
        names.len(),
        dir.display()
    ));
    Ok(())
}

/// See [`ModelDir::fresh_run`].
pub struct FreshRun<'a> {
    dest: &'a ModelDir,
    keep: bool,
}

impl FreshRun<'_> {
    /// The run finished: its files stay.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for FreshRun<'_> {
    fn drop(&mut self) {
        let dir = &self.dest.dir;
        if self.keep || crate::checkpoint::path(dir).exists() {
            return;
        }
        crate::atomic::remove_fresh_run(dir, self.dest.created);
    }
}

/// An exclusive lock on a model folder for the whole of a run, so that two runs never train into
/// the same files. It is a `flock` on the folder itself: the kernel drops it when the process
/// ends however it ends, so a killed run never leaves a lock behind. `.wembed-run` inside names
/// the holder's PID for the second run's message.
pub struct RunLock {
    _dir: File,
    pid_file: PathBuf,
}

const PID_FILE: &str = ".wembed-run";

impl RunLock {
    /// Locks `dir` (which must exist), or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let f = File::open(dir).map_err(|e| Error::io(dir, e))?;
        let pid_file = dir.join(PID_FILE);
        let op = rustix::fs::FlockOperation::NonBlockingLockExclusive;
        // A lock just released can stay held for a moment by a child process that another thread
        // forked before it dropped the lock (until the child's exec closes its copy of the
        // descriptor): a run that starts right after another in one process waits that out
        // instead of reporting the folder busy.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        let mut locked = rustix::fs::flock(&f, op).is_ok();
        while !locked && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            locked = rustix::fs::flock(&f, op).is_ok();
        }
        if !locked {
            let holder = std::fs::read_to_string(&pid_file).unwrap_or_default();
            let holder = match holder.trim() {
                "" => String::new(),
                pid => format!(" (PID {pid})"),
            };
            return Err(Error::Invalid(format!(
                "{} is in use by another wembed run{holder}; wait for it to finish, or train into another folder",
                dir.display()
            )));
        }
        if let Err(e) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
            let _ = std::fs::remove_file(&pid_file);
            return Err(Error::io(&pid_file, e));
        }
        Ok(RunLock { _dir: f, pid_file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// Writes a word2vec folder as a fastText `.bin` (`fasttext print-word-vectors`, `fasttext nn`,
/// gensim's `load_facebook_model`): its settings, vocabulary, input matrix (words, then n-gram
/// buckets when it has subwords) and output matrix. A hierarchical-softmax-only model has no
/// output rows fastText could use; it gets zeros there, which leaves every word vector intact.
pub fn write_fasttext(dir: &Path, path: &Path) -> Result<()> {
    use crate::vectors::fasttext::{self, Args, FastTextParts, Loss, Model};
    let config = read_config(dir)?;
    let (h, model) =
        match &config.trainer {
            Trainer::Skipgram {
                hyperparameters, ..
            } => (hyperparameters, Model::SkipGram),
            Trainer::Cbow {
                hyperparameters, ..
            } => (hyperparameters, Model::Cbow),
            Trainer::Glove { .. } => return Err(Error::Invalid(
                "a GloVe folder has no fastText model: export it as word2vec-bin or fasttext-vec"
                    .into(),
            )),
        };
    let vocab = crate::vocab::Vocab::load(&dir.join(VOCAB))?;
    let input = crate::vectors::npy::read(&dir.join(INPUT))?;
    let output = match h.negative {
        0 => None,
        _ => Some(crate::vectors::npy::read(&dir.join(OUTPUT))?),
    };
    let zeros;
    let output = match &output {
        Some(m) => m.data(),
        None => {
            zeros = vec![0f32; vocab.len() * h.dim];
            &zeros
        }
    };
    let none = Subwords {
        minn: 0,
        maxn: 0,
        bucket: 0,
    };
    let parts = FastTextParts {
        args: Args {
            dim: h.dim,
            ws: h.window,
            epoch: h.epochs,
            min_count: config.vocab.options.min_count as usize,
            neg: h.negative,
            word_ngrams: 1,
            loss: if h.negative > 0 { Loss::Ns } else { Loss::Hs },
            model,
            subwords: h.subwords.unwrap_or(none),
            lr_update_rate: 100,
            t: h.sample,
        },
        words: vocab.words(),
        counts: vocab.counts(),
        ntokens: config.vocab.train_tokens as i64,
        input: input.data(),
        output,
    };
    fasttext::write(path, &parts)
}
