#![warn(missing_docs)]
//! wembed: word embeddings (word2vec skip-gram and CBOW, GloVe) trained on streamed corpora into
//! memory-mapped matrices, exported to the formats other tools load.
//!
//! Floors, lowest first (arrows point down only): `corpus`, `store`, `sampling`, `synth` read and
//! hold data; `vocab` counts words; trainers and formats sit above them; `main.rs` is a thin CLI.

pub mod atomic;
pub(crate) mod checkpoint;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod glove;
pub(crate) mod hogwild;
pub(crate) mod kernels;
pub mod lm;
pub mod progress;
pub mod run;
pub mod sampling;
mod settings;
pub(crate) mod store;
pub mod subword;
pub mod synth;
pub mod vectors;
pub mod vocab;
pub mod word2vec;

pub use error::{Error, Result};

/// More worker threads than this is a mistake, not a machine.
pub const MAX_THREADS: usize = 4096;

/// Threads to use when the user does not say: all cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
