//! `config.json` of a word2vec or GloVe model folder, as a struct: written from it and read back
//! into it, so that a reader never looks fields up by name.

use super::{InputRecord, Which};
use crate::corpus::Corpus;
use crate::corpus::CorpusOptions;
use crate::glove::{GloveConfig, GloveStats};
use crate::vocab::Vocab;
use crate::vocab::{VocabOptions, VocabStats};
use crate::word2vec::{Architecture, TrainStats, Word2VecConfig};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Bumped when a field changes meaning or goes; new optional fields do not bump it.
pub const CONFIG_VERSION: u32 = 1;

/// Everything a finished run records about itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The layout version ([`CONFIG_VERSION`]); 0 for folders written before versions.
    #[serde(default)]
    pub version: u32,
    /// The crate version that wrote the folder.
    pub wembed_version: String,
    /// Which trainer ran, with its settings and what it did.
    #[serde(flatten)]
    pub trainer: Trainer,
    /// Where the text came from.
    pub corpus: CorpusRecord,
    /// How the vocabulary was made.
    pub vocab: VocabRecord,
    /// The run was continued from a checkpoint.
    pub resumed: bool,
}

/// The trainer, its settings (`hyperparameters`) and its statistics (`training`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "trainer", rename_all = "lowercase")]
pub enum Trainer {
    /// word2vec skip-gram.
    Skipgram {
        /// Settings.
        hyperparameters: Word2VecConfig,
        /// What training did.
        training: TrainStats,
    },
    /// word2vec CBOW.
    Cbow {
        /// Settings.
        hyperparameters: Word2VecConfig,
        /// What training did.
        training: TrainStats,
    },
    /// GloVe.
    Glove {
        /// Settings.
        hyperparameters: GloveConfig,
        /// What `vectors.bin` holds: W + W~ or W.
        vectors_bin: Which,
        /// What training did.
        training: GloveStats,
    },
}

impl Trainer {
    /// A word2vec run's record.
    pub fn word2vec(config: &Word2VecConfig, stats: TrainStats) -> Trainer {
        let hyperparameters = config.clone();
        match config.architecture {
            Architecture::SkipGram => Trainer::Skipgram {
                hyperparameters,
                training: stats,
            },
            Architecture::Cbow => Trainer::Cbow {
                hyperparameters,
                training: stats,
            },
        }
    }
}

/// The corpus as the run read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CorpusRecord {
    /// Absolute paths (`-` for stdin).
    pub paths: Vec<PathBuf>,
    /// Tokenisation.
    pub options: CorpusOptions,
}

/// The vocabulary as the run made it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VocabRecord {
    /// Counting and pruning.
    pub options: VocabOptions,
    /// A vocabulary file used instead of counting.
    pub file: Option<PathBuf>,
    /// What counting saw (none when the vocabulary came from a file or a checkpoint).
    pub stats: Option<VocabStats>,
    /// Words kept.
    pub words: usize,
    /// Corpus tokens that are in the vocabulary, per pass.
    #[serde(default)]
    pub train_tokens: u64,
    /// Seconds the vocabulary took.
    #[serde(default)]
    pub seconds: Option<f64>,
}

impl ModelConfig {
    /// The record of a run of `trainer` on this input.
    pub(crate) fn new(
        trainer: Trainer,
        input: (&InputRecord, &Corpus),
        vocab: (&Vocab, Option<&VocabStats>, Option<f64>),
        resumed: bool,
    ) -> ModelConfig {
        let (record, corpus) = input;
        let (vocab, stats, seconds) = vocab;
        ModelConfig {
            version: CONFIG_VERSION,
            wembed_version: env!("CARGO_PKG_VERSION").into(),
            trainer,
            corpus: CorpusRecord {
                paths: record.corpus.clone(),
                options: corpus.options().clone(),
            },
            vocab: VocabRecord {
                options: record.vocab_options.clone(),
                file: record.vocab_file.clone(),
                stats: stats.cloned(),
                words: vocab.len(),
                train_tokens: vocab.total(),
                seconds,
            },
            resumed,
        }
    }
}
