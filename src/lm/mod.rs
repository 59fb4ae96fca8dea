//! A small decoder-only Transformer language model (candle) whose token embedding can start from
//! wembed's vectors, and the experiment that measures what that does to validation perplexity.
//!
//! `model` is the network, `data` the vocabulary and the train/validation split, `init` the
//! pretrained initialisation, `train` the loop, checkpoints and sampling, `plot` the curves.

pub mod data;
pub mod init;
pub mod model;
pub mod optim;
pub mod plot;
pub mod report;
pub mod train;

pub use data::LmData;
pub use init::{InitReport, InitScale};
pub use model::{Config, Transformer};
pub use train::{Lm, Metric, TrainOptions};

use crate::vectors::Embeddings;
use crate::Result;
use candle_core::Device;
use std::path::Path;

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

/// One arm of a comparison: how its token embedding starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    pub name: String,
    /// `None`: random; otherwise the pretrained vectors with this rescale.
    pub init: Option<InitScale>,
    pub freeze_steps: usize,
}

impl Arm {
    /// The arms `lm compare` understands: random, raw, std (rescaled), std-freeze.
    pub fn parse(name: &str, freeze_steps: usize) -> Result<Arm> {
        let (init, freeze) = match name {
            "random" => (None, 0),
            "raw" => (Some(InitScale::None), 0),
            "std" => (Some(InitScale::Std), 0),
            "std-freeze" => (Some(InitScale::Std), freeze_steps),
            _ => {
                return Err(crate::Error::Invalid(format!(
                    "arm {name}: expected random, raw, std or std-freeze"
                )))
            }
        };
        Ok(Arm {
            name: name.to_string(),
            init,
            freeze_steps: freeze,
        })
    }
}

/// What `compare` reports while it runs.
pub enum Event<'a> {
    /// An arm's embedding was initialised from the vectors.
    Init(&'a Arm, &'a InitReport),
    Metric(&'a Arm, &'a Metric),
}

pub struct ArmResult {
    pub arm: Arm,
    pub init: Option<InitReport>,
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
        },
        None,
    )?;
    Ok(ArmResult {
        arm: arm.clone(),
        init,
        metrics,
    })
}
