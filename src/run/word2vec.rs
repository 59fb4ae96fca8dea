//! A word2vec run: a model folder from a corpus, fresh or continued from its checkpoint.

use super::folder::Which;
use super::input::{Input, InputOverrides};
use super::record::{ModelConfig, Trainer};
use super::Ready;
use super::{Observer, Stage};
use crate::error::{Error, Result};
use crate::word2vec::Word2VecOverrides;
use crate::word2vec::{self, Architecture, Checkpointing, State, TrainStats, Word2VecConfig};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// A fresh word2vec run.
#[derive(Clone, Debug)]
pub struct Word2VecRun {
    /// Settings.
    pub config: Word2VecConfig,
    /// Text and vocabulary.
    pub input: Input,
    /// The model folder to write.
    pub output: PathBuf,
    /// Replace an existing model folder (once the new one is complete).
    pub force: bool,
    /// Interval between checkpoints; `None`: none (a killed run then cannot be resumed).
    pub checkpoint_every: Option<Duration>,
    /// Once set, the run takes a last checkpoint and stops with `Error::Interrupted`.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Word2VecRun {
    /// A run with five-minute checkpoints that refuses an existing folder.
    pub fn new(config: Word2VecConfig, input: Input, output: PathBuf) -> Word2VecRun {
        Word2VecRun {
            config,
            input,
            output,
            force: false,
            stop: None,
            checkpoint_every: Some(Duration::from_secs(CHECKPOINT_SECS)),
        }
    }
}

/// Seconds between checkpoints by default.
pub const CHECKPOINT_SECS: u64 = 300;

/// An interrupted word2vec run to continue.
#[derive(Clone, Debug)]
pub struct Word2VecResume {
    /// The model folder holding the checkpoint.
    pub dir: PathBuf,
    /// The trainer expected there.
    pub architecture: Architecture,
    /// Settings given again: each must match the checkpoint's.
    pub overrides: Word2VecOverrides,
    /// Input settings given again, and where the corpus is now if it moved.
    pub input: InputOverrides,
    /// Interval between checkpoints from now on.
    pub checkpoint_every: Option<Duration>,
    /// Once set, the run takes a last checkpoint and stops with `Error::Interrupted`.
    pub stop: Option<Arc<AtomicBool>>,
}

/// What a finished run hands back.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The model folder.
    pub dir: PathBuf,
    /// The settings it ran with.
    pub config: Word2VecConfig,
    /// What training did.
    pub stats: TrainStats,
}

/// The command's name of an architecture (`skipgram`, `cbow`).
pub fn trainer_name(a: Architecture) -> &'static str {
    match a {
        Architecture::SkipGram => "skipgram",
        Architecture::Cbow => "cbow",
    }
}

/// Trains a fresh model folder.
pub fn fresh(run: &Word2VecRun, observer: &dyn Observer) -> Result<Trained> {
    let config = run.config.clone();
    config.validate()?;
    refuse_streams(&run.input.corpus)?;
    let threads = config.threads;
    let ready = Ready::fresh(
        config,
        (&run.output, run.force),
        (&run.input, threads),
        run.stop.clone(),
        observer,
    )?;
    train(ready, run.checkpoint_every, observer)
}

/// Continues an interrupted run with its stored settings, refusing overrides that disagree.
pub fn resume(r: &Word2VecResume, observer: &dyn Observer) -> Result<Trained> {
    let dir = &r.dir;
    // The trainer is a setting like the others: a cbow folder resumed as skip-gram conflicts.
    let settings = Word2VecOverrides {
        architecture: Some(r.architecture),
        ..r.overrides.clone()
    };
    let ready = Ready::<_, State>::resumed(dir, (&settings, &r.input), r.stop.clone())?;
    let state = ready
        .state
        .as_ref()
        .expect("a resumed run has its checkpoint");
    observer.note(&format!(
        "resuming {} at epoch {} of {}, {} words done",
        dir.display(),
        state.epoch + 1,
        state.config.epochs,
        state.words_done
    ));
    train(ready, r.checkpoint_every, observer)
}

/// word2vec reads its corpus once per epoch: stdin and pipes are refused before any work.
fn refuse_streams(corpus: &[PathBuf]) -> Result<()> {
    let stream = |p: &&PathBuf| {
        p.as_os_str() == "-" || std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir())
    };
    if let Some(p) = corpus.iter().find(stream) {
        let what = match p.as_os_str() == "-" {
            true => "stdin".to_string(),
            false => format!("{} (a pipe)", p.display()),
        };
        return Err(Error::Invalid(format!("word2vec reads the corpus once per epoch and {what} can be read only once: save the text to a file (e.g. `... > corpus.txt`) and name that file")));
    }
    Ok(())
}

/// Trains a run made ready, into its folder.
fn train(
    ready: Ready<Word2VecConfig, State>,
    every: Option<Duration>,
    observer: &dyn Observer,
) -> Result<Trained> {
    let (config, vocab) = (&ready.config, &ready.vocab);
    observer.note(&format!(
        "vocabulary {} words, {} training tokens per epoch",
        vocab.len(),
        vocab.total()
    ));
    let resumed = ready.state.is_some();
    let stats = super::in_folder(&ready.dest, vocab, resumed, |dir| {
        let ck = Checkpointing {
            every,
            resume: ready.state.clone(),
            meta: super::meta(&ready.record)?,
            stop: ready.stop.clone(),
        };
        let progress = observer.stage(Stage::Words {
            label: trainer_name(config.architecture),
            total: vocab.total() * config.epochs as u64,
            threads: config.threads,
        });
        let trained = word2vec::train(&ready.corpus, vocab, config, dir, &progress, &ck);
        progress.finish();
        let stats = trained?;
        let record = ModelConfig::new(
            Trainer::word2vec(config, stats.clone()),
            (&ready.record, &ready.corpus),
            (vocab, ready.vocab_stats.as_ref(), None),
            resumed,
        );
        Ok((stats, record, Which::Input))
    })?;
    Ok(Trained {
        dir: ready.dest.target().to_path_buf(),
        config: ready.config,
        stats,
    })
}
