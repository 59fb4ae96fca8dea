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
//! only here are the two put together.

use crate::error::{Error, Result};
use crate::vectors::{word2vec, Embeddings};
use std::path::Path;

pub const CONFIG: &str = "config.json";
pub const VOCAB: &str = "vocab.txt";
pub const INPUT: &str = "input.npy";
pub const VECTORS_BIN: &str = "vectors.bin";

/// Writes `config.json` atomically, with the crate version added.
pub fn write_config(dir: &Path, mut value: serde_json::Value) -> Result<()> {
    if let Some(obj) = value.as_object_mut() {
        obj.insert("wembed_version".into(), env!("CARGO_PKG_VERSION").into());
    }
    let text = serde_json::to_string_pretty(&value)
        .map_err(|e| Error::Invalid(format!("config.json: {e}")))?;
    crate::atomic::write_file(&dir.join(CONFIG), |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")
    })
}

/// Writes `vectors.bin` (word2vec binary) from the folder's matrices: `input.npy` for word2vec,
/// `input.npy + output.npy` for GloVe (the Stanford tool's `-model 2`).
pub fn write_vectors_bin(dir: &Path, which: Which) -> Result<()> {
    let (base, add) = load(dir, which)?;
    let view = crate::vectors::View::new(&base, add.as_ref(), None, false)?;
    word2vec::write_binary(&dir.join(VECTORS_BIN), &view)
}

pub const OUTPUT: &str = "output.npy";

/// Which matrix of a model folder to use: word vectors, context vectors, or their sum (GloVe's
/// W + W~, and sometimes better for word2vec too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Input,
    Output,
    Sum,
}

/// The matrices `which` asks for: the first to read rows from, the second (for `Sum`) to add.
pub fn load(dir: &Path, which: Which) -> Result<(Embeddings, Option<Embeddings>)> {
    let vocab = dir.join(VOCAB);
    let open = |name: &str| -> Result<Embeddings> {
        let path = dir.join(name);
        if !path.exists() {
            return Err(Error::bad_file(dir, format!("model folder has no {name}")));
        }
        Embeddings::load_npy(&path, &vocab)
    };
    Ok(match which {
        Which::Input => (open(INPUT)?, None),
        Which::Output => (open(OUTPUT)?, None),
        Which::Sum => (open(INPUT)?, Some(open(OUTPUT)?)),
    })
}
