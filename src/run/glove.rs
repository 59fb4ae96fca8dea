//! A GloVe run: counting, shuffle and training into a model folder, fresh or continued.
//!
//! ```
//! use wembed::glove::GloveConfig;
//! use wembed::run::{self, GloveRun, Input, Silent};
//! use wembed::synth::{Language, SynthOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let corpus = dir.path().join("corpus.txt");
//! let mut text = Vec::new();
//! Language::new(&SynthOptions::default())?.write_corpus(50_000, &mut text)?;
//! std::fs::write(&corpus, text)?;
//! let config = GloveConfig { dim: 8, iter: 2, ..GloveConfig::default() };
//! let run = GloveRun::new(config, Input::new(vec![corpus]), dir.path().join("model"));
//! let trained = run::glove::fresh(&run, &Silent)?;
//! assert_eq!(trained.stats.cost.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::folder::Which;
use super::input::{Input, InputOverrides};
use super::record::{ModelConfig, Trainer};
use super::Ready;
use super::{Observer, Stage};
use crate::error::{Error, Result};
use crate::glove::{self, GloveCheckpointing, GloveConfig, GloveOverrides, GloveState, GloveStats};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fresh GloVe run.
#[derive(Clone, Debug)]
pub struct GloveRun {
    /// Settings.
    pub config: GloveConfig,
    /// Text and vocabulary.
    pub input: Input,
    /// The model folder to write.
    pub output: PathBuf,
    /// Replace an existing model folder (once the new one is complete).
    pub force: bool,
    /// Checkpoints: after the shuffle, after every iteration, and inside iterations at this
    /// interval. Off: none at all.
    pub checkpoints: Checkpoints,
    /// What `vectors.bin` holds: W + W~ (`Sum`) or W (`Input`).
    pub vectors_bin: Which,
    /// Once set, the run takes a last checkpoint and stops with `Error::Interrupted`.
    pub stop: Option<Arc<AtomicBool>>,
}

/// When a GloVe run checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Checkpoints {
    /// Never.
    Off,
    /// At stage and iteration boundaries, and inside iterations every so often.
    Every(Duration),
}

impl GloveRun {
    /// A run with five-minute checkpoints that refuses an existing folder.
    pub fn new(config: GloveConfig, input: Input, output: PathBuf) -> GloveRun {
        GloveRun {
            config,
            input,
            output,
            force: false,
            stop: None,
            checkpoints: Checkpoints::Every(Duration::from_secs(super::word2vec::CHECKPOINT_SECS)),
            vectors_bin: VECTORS_BIN,
        }
    }
}

/// What `vectors.bin` holds by default: W + W~, as the Stanford tool's `-model 2`.
pub const VECTORS_BIN: Which = Which::Sum;

/// An interrupted GloVe run to continue.
#[derive(Clone, Debug)]
pub struct GloveResume {
    /// The model folder holding the checkpoint.
    pub dir: PathBuf,
    /// Settings given again: each must match the checkpoint's.
    pub overrides: GloveOverrides,
    /// Input settings given again, and where the corpus is now if it moved.
    pub input: InputOverrides,
    /// Checkpoints from now on.
    pub checkpoints: Checkpoints,
    /// What `vectors.bin` holds.
    pub vectors_bin: Which,
    /// Once set, the run takes a last checkpoint and stops with `Error::Interrupted`.
    pub stop: Option<Arc<AtomicBool>>,
}

/// What a finished GloVe run hands back.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The model folder.
    pub dir: PathBuf,
    /// The settings it ran with.
    pub config: GloveConfig,
    /// Records, costs, and each stage's time and memory.
    pub stats: GloveStats,
    /// Seconds spent on the vocabulary.
    pub vocab_seconds: f64,
}

fn refuse_output_only(which: Which) -> Result<()> {
    match which {
        Which::Output => Err(Error::setting(
            "vectors_bin",
            "is sum (W + W~) or input (W alone)",
        )),
        _ => Ok(()),
    }
}

/// Trains a fresh model folder.
pub fn fresh(run: &GloveRun, observer: &dyn Observer) -> Result<Trained> {
    refuse_output_only(run.vectors_bin)?;
    let start = Instant::now();
    run.config.validate()?;
    let threads = run.config.threads;
    let ready = Ready::fresh(
        run.config.clone(),
        (&run.output, run.force),
        (&run.input, threads),
        run.stop.clone(),
        observer,
    )?;
    train(ready, (run.checkpoints, run.vectors_bin, start), observer)
}

/// Continues an interrupted run after its last checkpoint, refusing overrides that disagree.
pub fn resume(r: &GloveResume, observer: &dyn Observer) -> Result<Trained> {
    refuse_output_only(r.vectors_bin)?;
    let start = Instant::now();
    let dir = &r.dir;
    let ready = Ready::<_, GloveState>::resumed(dir, (&r.overrides, &r.input), r.stop.clone())?;
    let state = ready
        .state
        .as_ref()
        .expect("a resumed run has its checkpoint");
    let mid: u64 = state.positions.iter().sum();
    let into = match mid {
        0 => String::new(),
        _ => format!(", {mid} of {} records into the next", state.records),
    };
    observer.note(&format!(
        "resuming {} after iteration {} of {}{into}",
        dir.display(),
        state.iter_done,
        state.config.iter,
    ));
    train(ready, (r.checkpoints, r.vectors_bin, start), observer)
}

/// Trains a run made ready, into its folder; `start` is when the run began (for the
/// vocabulary's time).
fn train(
    ready: Ready<GloveConfig, GloveState>,
    (checkpoints, vectors_bin, start): (Checkpoints, Which, Instant),
    observer: &dyn Observer,
) -> Result<Trained> {
    let vocab_seconds = start.elapsed().as_secs_f64();
    let vocab = &ready.vocab;
    observer.note(&format!(
        "vocabulary {} words ({vocab_seconds:.1} s)",
        vocab.len()
    ));
    let resumed = ready.state.is_some();
    let stats = super::in_folder(&ready.dest, vocab, resumed, |dir| {
        let ck = GloveCheckpointing {
            enabled: checkpoints != Checkpoints::Off,
            every: match checkpoints {
                Checkpoints::Every(d) if !d.is_zero() => Some(d),
                _ => None,
            },
            resume: ready.state.clone(),
            meta: super::meta(&ready.record)?,
            stop: ready.stop.clone(),
        };
        let count = observer.stage(Stage::Bytes {
            label: "cooccur",
            total: ready.corpus.total_bytes(),
            item: "tokens",
        });
        let train_bar = |total: u64| {
            observer.stage(Stage::Records {
                label: "glove",
                total,
            })
        };
        let note = |m: &str| observer.note(m);
        let progress = glove::Progresses {
            count: &count,
            train: &train_bar,
            note: &note,
        };
        let stats = glove::train(&ready.corpus, vocab, &ready.config, dir, &progress, &ck)?;
        let trainer = Trainer::Glove {
            hyperparameters: ready.config.clone(),
            vectors_bin,
            training: stats.clone(),
        };
        let record = ModelConfig::new(
            trainer,
            (&ready.record, &ready.corpus),
            (vocab, ready.vocab_stats.as_ref(), Some(vocab_seconds)),
            resumed,
        );
        Ok((stats, record, vectors_bin))
    })?;
    Ok(Trained {
        dir: ready.dest.target().to_path_buf(),
        config: ready.config,
        stats,
        vocab_seconds,
    })
}
