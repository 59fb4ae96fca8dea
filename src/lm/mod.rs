//! A small decoder-only Transformer language model (candle) whose token embedding can start from
//! wembed's vectors, and the experiment that measures what that does to validation perplexity.
//!
//! `model` is the network, `data` the vocabulary and the train/validation split, `init` the
//! pretrained initialisation, `train` the loop, checkpoints and sampling, `plot` the curves.

pub mod data;
mod fused;
pub(crate) mod gelu;
pub mod init;
pub mod loss;
pub mod model;
pub(crate) mod norm;
pub(crate) mod optim;
pub mod plot;
pub mod report;
pub mod train;

pub use data::LmData;
pub use data::{DataSpec, DataSpecOverrides};
pub use init::{InitReport, InitScale};
pub use model::{Config, ConfigOverrides, Shape, Transformer};
pub use train::{Lm, Metric, TrainOptions, TrainOptionsOverrides};

use crate::vectors::Embeddings;
use crate::Result;
use candle_core::Device;
use std::path::Path;

/// The tensor library's errors become the crate's, on one line, so that [`crate::Error`] itself
/// names no type of a dependency.
impl From<candle_core::Error> for crate::Error {
    fn from(e: candle_core::Error) -> Self {
        crate::Error::Model(e.to_string().lines().next().unwrap_or_default().to_string())
    }
}

/// The device the LM runs on: the first CUDA GPU when built with `--features cuda` and one is
/// present, otherwise the CPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    {
        if let Ok(d) = Device::cuda_if_available(0) {
            return d;
        }
    }
    Device::Cpu
}

/// The arms `lm compare` knows.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ArmKind {
    /// The random initialiser.
    Random,
    /// Pretrained vectors as they are.
    Raw,
    /// Pretrained vectors centred and scaled to the random initialiser's std.
    Std,
    /// `Std`, with the embedding frozen for the first steps.
    StdFreeze,
    /// Pretrained vectors centred, each row scaled to length 1.
    Unit,
    /// Whatever `lm train --init VECTORS` does without further flags ([`InitScale::default`]).
    Default,
}

/// Steps the `std-freeze` arm keeps its embedding fixed, by default.
pub const STD_FREEZE_STEPS: usize = 100;

/// One arm of a comparison: how its token embedding starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    /// The arm's name (its output folder).
    pub name: String,
    /// `None`: random; otherwise the pretrained vectors with this rescale.
    pub init: Option<InitScale>,
    /// Steps the embedding stays fixed.
    pub freeze_steps: usize,
}

impl Arm {
    /// The arm of `kind`; `freeze_steps` applies to `StdFreeze`.
    pub fn new(kind: ArmKind, freeze_steps: usize) -> Arm {
        let (init, freeze) = match kind {
            ArmKind::Random => (None, 0),
            ArmKind::Raw => (Some(InitScale::None), 0),
            ArmKind::Std => (Some(InitScale::Std), 0),
            ArmKind::StdFreeze => (Some(InitScale::Std), freeze_steps),
            ArmKind::Unit => (Some(InitScale::Unit), 0),
            ArmKind::Default => (Some(InitScale::default()), 0),
        };
        let name = clap::ValueEnum::to_possible_value(&kind)
            .map_or_else(String::new, |v| v.get_name().to_string());
        Arm {
            name,
            init,
            freeze_steps: freeze,
        }
    }
}

/// What `compare` reports while it runs.
pub enum Event<'a> {
    /// An arm's embedding was initialised from the vectors.
    Init(&'a Arm, &'a InitReport),
    /// An evaluation of an arm.
    Metric(&'a Arm, &'a Metric),
}

/// One arm's outcome.
pub struct ArmResult {
    /// The arm.
    pub arm: Arm,
    /// What its initialisation matched, for pretrained arms.
    pub init: Option<InitReport>,
    /// Its evaluations, step 0 first.
    pub metrics: Vec<Metric>,
}

/// Trains every arm from the same weight seed on the same batches in the same order; only the
/// token embedding's starting values (and the freeze) differ. Each arm's checkpoint and metrics go
/// to `out/ARM/`.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    cfg: &Config,
    data: &LmData,
    vectors: &Embeddings,
    arms: &[Arm],
    options: &TrainOptions,
    weight_seed: u64,
    out: &Path,
    on_event: &mut dyn FnMut(Event),
) -> Result<Vec<ArmResult>> {
    let device = device();
    let mut results = Vec::new();
    for arm in arms {
        let mut lm = Lm::new(cfg, data.vocab.clone(), weight_seed, &device)?;
        let init = match arm.init {
            Some(scale) => {
                let r = lm.init_embeddings(vectors, scale)?;
                on_event(Event::Init(arm, &r));
                Some(r)
            }
            None => None,
        };
        results.push(run_arm(&lm, data, options, arm, init, out, on_event)?);
    }
    Ok(results)
}

fn run_arm(
    lm: &Lm,
    data: &LmData,
    options: &TrainOptions,
    arm: &Arm,
    init: Option<InitReport>,
    out: &Path,
    on_event: &mut dyn FnMut(Event),
) -> Result<ArmResult> {
    let o = TrainOptions {
        freeze_steps: arm.freeze_steps,
        ..options.clone()
    };
    let mut on_metric = |m: &Metric| on_event(Event::Metric(arm, m));
    let metrics = train::train(
        lm,
        data,
        &o,
        train::Sink {
            dir: Some(out.join(&arm.name)),
            extra: serde_json::json!({ "arm": arm.name, "init": init }),
            on_metric: &mut on_metric,
            progress: None,
            stop: None,
        },
        None,
    )?;
    Ok(ArmResult {
        arm: arm.clone(),
        init,
        metrics,
    })
}

/// Tells glibc's malloc to keep freed memory for reuse instead of handing it back to the system
/// after every large free. The LM allocates and frees its activations (hundreds of MiB) every
/// step; with the default trim threshold the heap shrinks at each step's end and page-faults back
/// at the next, which cost more system time than the arithmetic (1,987 → about 4,000 tokens/s).
/// Only the LM calls this: GloVe and word2vec promise bounded memory, and do want it returned.
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes two of glibc's malloc tuning parameters, both valid for any
    // value given here; it touches no Rust-visible memory and is thread-safe in glibc.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}
