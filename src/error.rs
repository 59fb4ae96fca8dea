//! The library's one error type. Every variant names the file (and line or byte offset where there is
//! one) so that `main` can print a single line a user can act on.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The io::Error is shown in the message and deliberately not the error's source: main prints the
    // error chain, which would repeat it.
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    #[error("{0}: folder holds no files")]
    EmptyFolder(PathBuf),
    #[error("{0}: looks like a binary file (NUL byte near the start), not text")]
    Binary(PathBuf),
    #[error("{path}: corrupt or truncated gzip stream: {err}")]
    Gzip { path: PathBuf, err: std::io::Error },
    #[error("corpus is empty: {0} holds no tokens")]
    EmptyCorpus(String),
    #[error("no word occurs at least {min_count} times ({types} types in {tokens} tokens); lower --min-count")]
    EmptyVocab {
        min_count: u64,
        types: usize,
        tokens: u64,
    },
    #[error("{path}:{line}: {msg}")]
    Format {
        path: PathBuf,
        line: u64,
        msg: String,
    },
    #[error("{path}: {msg}")]
    BadFile { path: PathBuf, msg: String },
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// An error from the tensor library (shape mismatch, bad safetensors file), on one line.
    #[error("model: {0}")]
    Model(String),
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Model(e.to_string().lines().next().unwrap_or_default().to_string())
    }
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path)
        } else {
            Error::Io { path, err: source }
        }
    }

    pub fn bad_file(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
