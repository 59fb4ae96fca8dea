//! The library's one error type. Every variant names the file (and line or byte offset where there is
//! one) so that `main` can print a single line a user can act on.

pub use crate::settings::Conflict;
use std::path::PathBuf;

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, each with what a user needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The io::Error is shown in the message and deliberately not the error's source: main prints the
    // error chain, which would repeat it.
    /// Reading or writing a file failed.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        err: std::io::Error,
    },
    /// A file or folder that is not there.
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    /// A corpus folder without files.
    #[error("{0}: folder holds no files")]
    EmptyFolder(PathBuf),
    /// A corpus file that is not text.
    #[error("{0}: looks like a binary file (NUL byte near the start), not text")]
    Binary(PathBuf),
    /// A gzip file that ends early or is damaged.
    #[error("{path}: corrupt or truncated gzip stream: {err}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        err: std::io::Error,
    },
    /// A corpus without a single token (the corpus's description).
    #[error("corpus is empty: {0} holds no tokens")]
    EmptyCorpus(String),
    /// Pruning left no word.
    #[error("no word occurs at least {min_count} times ({types} types in {tokens} tokens); lower the minimum count")]
    EmptyVocab {
        /// The minimum count applied.
        min_count: u64,
        /// Distinct words seen.
        types: usize,
        /// Tokens seen.
        tokens: u64,
    },
    /// A text file (vectors, vocabulary, questions) with a bad line.
    #[error("{path}:{line}: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Its 1-based line.
        line: u64,
        /// What is wrong with it.
        msg: String,
    },
    /// A file that is not what it claims (a lying header, a corrupt checkpoint).
    #[error("{path}: {msg}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A request that cannot be carried out as given.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A setting outside what can train. `name` is the config field, which a client turns into
    /// its own spelling (a flag, a keyword argument).
    #[error("{name} {msg}")]
    Setting {
        /// The config field.
        name: &'static str,
        /// What is wrong with its value.
        msg: String,
    },
    /// A resumed run was given a setting that differs from its checkpoint's.
    #[error("{} differs from the checkpoint in {} ({} there, {} given); resume with the same settings", .conflict.setting, .dir.display(), .conflict.stored, .conflict.given)]
    Conflict {
        /// The setting and both values.
        conflict: Conflict,
        /// The run's folder.
        dir: PathBuf,
    },
    /// A fresh run was pointed at a folder that holds files already.
    #[error("{} {}: resume the interrupted run, or replace the folder (the old one stays until the new run finishes)", .dir.display(), if *.interrupted { "holds an interrupted run" } else { "already exists and is not empty" })]
    FolderInUse {
        /// The folder.
        dir: PathBuf,
        /// It holds a checkpoint.
        interrupted: bool,
    },
    /// A resumed run's corpus is no longer where the checkpoint says.
    #[error("{err} (the corpus the checkpoint names; if it moved, name where it is now)")]
    CorpusGone {
        /// Why it could not be opened.
        err: Box<Error>,
    },
    /// Counting the vocabulary would use up a corpus that can be read only once.
    #[error("counting the vocabulary takes a pass of its own and stdin can be read only once: give a vocabulary file (made by `wembed vocab`), or save the corpus to a file and name it")]
    StdinTwice,
    /// The run was asked to stop; its folder holds a checkpoint to resume from, if checkpoints
    /// were on.
    #[error("stopped; {} holds the last checkpoint to resume from", .dir.display())]
    Interrupted {
        /// The run's folder.
        dir: PathBuf,
    },
    /// Training produced a non-finite loss.
    #[error("training diverged at step {step} (loss {loss}); lower the learning rate")]
    Diverged {
        /// The step.
        step: usize,
        /// The loss it produced.
        loss: f64,
    },
    /// An error from the tensor library (shape mismatch, bad safetensors file), on one line.
    #[error("model: {0}")]
    Model(String),

    /// A query word without a vector.
    #[error("{word:?} is not in the vocabulary of {}{}", .path.display(), if *.subwords { " and has no n-grams" } else { " (a model trained with --subwords answers for any word)" })]
    UnknownWord {
        /// The word.
        word: String,
        /// The vectors asked.
        path: PathBuf,
        /// Whether the model builds unknown words from n-grams.
        subwords: bool,
    },
}

impl Error {
    /// An I/O error on `path`; a missing file becomes [`Error::NotFound`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path)
        } else {
            Error::Io { path, err: source }
        }
    }

    /// A setting that cannot train.
    pub fn setting(name: &'static str, msg: impl Into<String>) -> Self {
        Error::Setting {
            name,
            msg: msg.into(),
        }
    }

    /// A file that is not what it claims.
    pub fn bad_file(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
