//! A run, fresh or resumed: everything between "these settings, this corpus" and "a model folder
//! you can load". The trainers below only write matrices; this floor owns the folder's layout
//! ([`ModelDir`]), its typed `config.json` ([`ModelConfig`]), the corpus record a checkpoint keeps
//! ([`InputRecord`]), the check of a resumed run's settings, and the [`Observer`] that clients
//! implement to show progress.
//!
//! ```
//! use wembed::run::{self, Input, Silent, Which, Word2VecRun};
//! use wembed::synth::{Language, SynthOptions};
//! use wembed::word2vec::{Architecture, Word2VecConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let corpus = dir.path().join("corpus.txt");
//! let mut text = Vec::new();
//! Language::new(&SynthOptions::default())?.write_corpus(50_000, &mut text)?;
//! std::fs::write(&corpus, text)?;
//!
//! let config = Word2VecConfig { dim: 16, epochs: 1, ..Word2VecConfig::new(Architecture::SkipGram) };
//! let run = Word2VecRun::new(config, Input::new(vec![corpus]), dir.path().join("model"));
//! let trained = run::word2vec::fresh(&run, &Silent)?;
//! assert!(trained.stats.words > 0);
//!
//! // The folder is typed all the way: its record, its vectors.
//! let record = run::folder::read_config(&trained.dir)?;
//! assert_eq!(record.vocab.words, run::folder::load(&trained.dir, Which::Input)?.0.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod folder;
pub mod glove;
mod input;
pub mod lm;
pub mod named;
pub mod query;
mod record;
pub mod word2vec;

pub use folder::{ModelDir, Which};
pub use glove::GloveRun;
pub use input::{Input, InputOverrides, InputRecord};
pub use record::{CorpusRecord, ModelConfig, Trainer, VocabRecord, CONFIG_VERSION};
pub use word2vec::Word2VecRun;

use crate::progress::Progress;
use crate::settings::Overrides;
use crate::vectors::{Dtype, Format, Rows};
use crate::Result;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What a stage of work counts, for its progress display.
#[derive(Clone, Copy, Debug)]
pub enum Stage<'a> {
    /// Input bytes read (known for files, `None` for stdin), counting `item`s (tokens) too.
    Bytes {
        /// Shown before the bar.
        label: &'a str,
        /// Bytes to read.
        total: Option<u64>,
        /// What the rate counts.
        item: &'static str,
    },
    /// Words trained over all epochs, on `threads` threads.
    Words {
        /// Shown before the bar.
        label: &'a str,
        /// Words over all epochs.
        total: u64,
        /// Threads, for the per-thread rate.
        threads: usize,
    },
    /// GloVe's co-occurrence records over all iterations.
    Records {
        /// Shown before the bar.
        label: &'a str,
        /// Records over all iterations.
        total: u64,
    },
    /// Optimisation steps (the LM).
    Steps {
        /// Shown before the bar.
        label: &'a str,
        /// Steps to take.
        total: u64,
    },
}

/// How a client watches a run: each stage gets a [`Progress`] to count into (the trainers' hot
/// loops only touch its atomics), and news (vocabulary size, where a resume starts, each epoch's
/// loss, files a killed run left) arrives as notes. The CLI's bars are one implementation,
/// [`Silent`] another; a client's own keeps what it wants:
///
/// ```
/// use std::sync::Mutex;
/// use wembed::progress::Progress;
/// use wembed::run::{Observer, Stage};
///
/// #[derive(Default)]
/// struct Log(Mutex<Vec<String>>);
///
/// impl Observer for Log {
///     fn stage(&self, stage: Stage) -> Progress {
///         self.note(&format!("{stage:?}"));
///         Progress::hidden()
///     }
///     fn note(&self, msg: &str) {
///         self.0.lock().unwrap().push(msg.to_string());
///     }
/// }
/// let log = Log::default();
/// log.stage(Stage::Steps { label: "lm", total: 10 });
/// assert_eq!(log.0.lock().unwrap().len(), 1);
/// ```
pub trait Observer: Sync {
    /// A stage begins; the trainer counts its work into the returned progress.
    fn stage(&self, stage: Stage) -> Progress;
    /// A line of news, without the program's name.
    fn note(&self, msg: &str);
    /// Something the user should know even when not watching: files of a killed run removed,
    /// vectors with NaN in them.
    fn warning(&self, msg: &str) {
        self.note(msg)
    }
}

/// Shows nothing.
pub struct Silent;

impl Observer for Silent {
    fn stage(&self, _: Stage) -> Progress {
        Progress::hidden()
    }
    fn note(&self, _: &str) {}
}

/// Warnings on stderr, nothing else: the CLI's `--quiet`.
pub struct Quiet;

impl Observer for Quiet {
    fn stage(&self, _: Stage) -> Progress {
        Progress::hidden()
    }
    fn note(&self, _: &str) {}
    fn warning(&self, msg: &str) {
        eprintln!("wembed: {msg}");
    }
}

/// Bars on a terminal, periodic lines in a log, notes on stderr: the CLI's display.
pub struct Bars;

impl Observer for Bars {
    fn stage(&self, stage: Stage) -> Progress {
        match stage {
            Stage::Bytes { label, total, item } => Progress::bytes(false, label, total, item),
            Stage::Words {
                label,
                total,
                threads,
            } => Progress::words(false, label, total, threads),
            Stage::Records { label, total } => Progress::records(false, label, total),
            Stage::Steps { label, total } => Progress::steps(false, label, total),
        }
    }
    fn note(&self, msg: &str) {
        eprintln!("wembed: {msg}");
    }
}

/// `Bars`, or `Quiet` when `quiet`.
pub fn observer(quiet: bool) -> &'static dyn Observer {
    match quiet {
        true => &Quiet,
        false => &Bars,
    }
}

/// What every trainer's run does around its training: locks the folder, saves the vocabulary
/// (first: a checkpoint's rows are its words, and a resumed run reads it back), trains, writes
/// `vectors.bin` and `config.json`, and puts the folder in place. A fresh run that fails before
/// its first checkpoint leaves nothing behind.
pub(crate) fn in_folder<T>(
    dest: &ModelDir,
    vocab: &crate::vocab::Vocab,
    resumed: bool,
    train: impl FnOnce(&Path) -> Result<(T, ModelConfig, Which)>,
) -> Result<T> {
    let dir = &dest.dir;
    // Locked first: a run refused the lock must not clean up the files of the run holding it.
    let locks = dest.lock(!resumed)?;
    let fresh_run = (!resumed).then(|| dest.fresh_run());
    crate::atomic::set_run_dir(dir, (!resumed).then_some(dest.created));
    let finished = Finish(std::cell::Cell::new(false));
    vocab.save(&dir.join(folder::VOCAB))?;
    let (out, config, which) = train(dir)?;
    crate::atomic::finishing();
    folder::write_vectors_bin(dir, which, &config)?;
    folder::write_config(dir, &config)?;
    drop(locks);
    if let Some(f) = fresh_run {
        f.keep();
    }
    dest.commit()?;
    finished.0.set(true);
    Ok(out)
}

/// Ends the finishing stretch of [`in_folder`] however it ends (see `atomic::finished`).
struct Finish(std::cell::Cell<bool>);
impl Drop for Finish {
    fn drop(&mut self) {
        crate::atomic::finished(self.0.get());
    }
}

/// A conflicting setting of the run in `dir` as an error.
pub(crate) fn conflict_in(
    dir: &Path,
) -> impl Fn(crate::settings::Conflict) -> crate::Error + Copy + '_ {
    move |conflict| crate::Error::Conflict {
        conflict,
        dir: dir.to_path_buf(),
    }
}

/// A run with its input open and its folder chosen: fresh or resumed alike from here on.
pub(crate) struct Ready<C, S> {
    pub config: C,
    pub corpus: crate::corpus::Corpus,
    pub vocab: crate::vocab::Vocab,
    pub vocab_stats: Option<crate::vocab::VocabStats>,
    pub record: InputRecord,
    /// The checkpoint a resumed run continues.
    pub state: Option<S>,
    pub dest: ModelDir,
    pub stop: Option<Arc<AtomicBool>>,
}

impl<C, S> Ready<C, S> {
    /// A fresh run: its folder claimed, its corpus opened and its vocabulary made.
    pub(crate) fn fresh(
        config: C,
        (output, force): (&Path, bool),
        (input, threads): (&Input, usize),
        stop: Option<Arc<AtomicBool>>,
        observer: &dyn Observer,
    ) -> Result<Self> {
        let dest = ModelDir::fresh(output, force, observer)?;
        let (corpus, vocab, vocab_stats, mut record) = input.open(threads, observer)?;
        record.replaces = dest.replaces.clone();
        Ok(Ready {
            config,
            corpus,
            vocab,
            vocab_stats,
            record,
            state: None,
            dest,
            stop,
        })
    }
}

/// A trainer's checkpoint as a run sees it: the settings it holds, and the input record it
/// carries for the run.
pub(crate) trait Checkpoint: serde::de::DeserializeOwned {
    type Config: Clone;
    fn config(&self) -> &Self::Config;
    fn meta(&self) -> &serde_json::Value;
}

impl Checkpoint for crate::word2vec::State {
    type Config = crate::word2vec::Word2VecConfig;
    fn config(&self) -> &Self::Config {
        &self.config
    }
    fn meta(&self) -> &serde_json::Value {
        &self.meta
    }
}

impl Checkpoint for crate::glove::GloveState {
    type Config = crate::glove::GloveConfig;
    fn config(&self) -> &Self::Config {
        &self.config
    }
    fn meta(&self) -> &serde_json::Value {
        &self.meta
    }
}

impl<S: Checkpoint> Ready<S::Config, S> {
    /// The run whose checkpoint is in `dir`, with the checkpoint's settings (those given again
    /// must agree) and its input reopened.
    pub(crate) fn resumed(
        dir: &Path,
        (settings, input): (&impl Overrides<S::Config>, &InputOverrides),
        stop: Option<Arc<AtomicBool>>,
    ) -> Result<Self> {
        let state: S = crate::checkpoint::read(dir)?;
        settings
            .check_against(state.config())
            .map_err(conflict_in(dir))?;
        let mut record = InputRecord::from_meta(state.meta(), dir)?;
        let (corpus, vocab) = record.reopen(dir, input)?;
        Ok(Ready {
            config: state.config().clone(),
            corpus,
            vocab,
            vocab_stats: None,
            dest: ModelDir::resumed(dir, record.replaces.clone()),
            record,
            state: Some(state),
            stop,
        })
    }
}

/// The record of a run's input, for a trainer's checkpoint.
pub(crate) fn meta(record: &InputRecord) -> Result<serde_json::Value> {
    serde_json::to_value(record)
        .map_err(|e| crate::Error::Invalid(format!("checkpoint record: {e}")))
}

/// Writes a word2vec model folder as a fastText `.bin`, refusing first to replace a file that a
/// model folder owns.
pub fn export_fasttext(dir: &Path, path: &Path) -> Result<()> {
    folder::refuse_own_file(path)?;
    if crate::atomic::is_stdout(path) {
        return Err(crate::Error::Invalid(
            "fasttext-bin is binary: -o - (stdout) is for the text formats; name a file".into(),
        ));
    }
    folder::write_fasttext(dir, path)
}

/// Exports `rows` as [`crate::vectors::export`] does, refusing first to replace a file that a
/// model folder owns (its `vocab.txt` is the row order of its matrices).
pub fn export(rows: &dyn Rows, format: Format, dtype: Dtype, path: &Path) -> Result<()> {
    for out in format.outputs(path) {
        folder::refuse_own_file(&out)?;
    }
    crate::vectors::export(rows, format, dtype, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two fresh runs into one new folder: the one that finds it locked must leave the holder's
    /// files alone (its clean-up once removed the whole folder of the run holding the lock).
    #[test]
    fn a_run_refused_the_lock_removes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("m");
        let first = ModelDir::fresh(&dir, false, &Silent).unwrap();
        let second = ModelDir::fresh(&dir, false, &Silent).unwrap();
        assert!(first.created && second.created);
        let _held = first.lock(true).unwrap();
        std::fs::write(dir.join(folder::VOCAB), "the\t3\n").unwrap();
        let vocab = crate::vocab::Vocab::from_ordered(vec![("a".into(), 1)]);
        let refused = in_folder(&second, &vocab, false, |_| -> Result<((), _, _)> {
            unreachable!("a refused run trains nothing")
        });
        assert!(refused.is_err());
        assert_eq!(
            std::fs::read_to_string(dir.join(folder::VOCAB)).unwrap(),
            "the\t3\n"
        );
    }
}
