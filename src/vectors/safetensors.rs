//! safetensors: one tensor `embeddings` [V, dim] (F32 or F16), the words in the metadata under
//! `vocab` (a JSON list) and in `vocab.txt` beside the file, for tools that read neither.

use super::{Dtype, Embeddings, Matrix, Rows};
use crate::error::{Error, Result};
use safetensors::tensor::{Dtype as StDtype, SafeTensors};
use std::path::Path;

/// Name of the tensor that holds the vectors.
pub const TENSOR: &str = "embeddings";

/// A safetensors file starts with the little-endian length of its JSON header, then `{`.
pub fn looks_like(head: &[u8]) -> bool {
    match head.get(..9) {
        Some(&[a, b, c, d, e, f, g, h, brace]) => {
            let n = u64::from_le_bytes([a, b, c, d, e, f, g, h]);
            n > 1 && n < (100 << 20) && brace == 0x7b // an opening brace
        }
        _ => false,
    }
}

/// Writes the file row by row: the crate's serializer takes the whole tensor as one buffer, which
/// would hold a second copy of a matrix that may be larger than RAM. The layout is the format's
/// own (little-endian header length, JSON header padded with spaces to 8 bytes, raw data), and
/// the reader, the `safetensors` crate and Python's `safetensors` check every file written here.
pub fn write(path: &Path, rows: &dyn Rows, dtype: Dtype) -> Result<()> {
    let (name, size) = match dtype {
        Dtype::F32 => ("F32", 4),
        Dtype::F16 => ("F16", 2),
        Dtype::F64 => ("F64", 8),
    };
    let bytes = rows.len() * rows.dim() * size;
    let words: Vec<&str> = (0..rows.len()).map(|i| rows.word(i)).collect();
    let vocab = serde_json::to_string(&words).map_err(|e| Error::Invalid(e.to_string()))?;
    let header = serde_json::json!({
        "__metadata__": { "vocab": vocab, "format": "wembed" },
        TENSOR: { "dtype": name, "shape": [rows.len(), rows.dim()], "data_offsets": [0, bytes] },
    });
    let mut text = serde_json::to_vec(&header).map_err(|e| Error::Invalid(e.to_string()))?;
    text.resize(text.len().div_ceil(8) * 8, b' ');
    crate::atomic::write_file(path, |f| {
        use std::io::Write;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        w.write_all(&(text.len() as u64).to_le_bytes())?;
        w.write_all(&text)?;
        super::npy::write_rows(&mut w, rows, dtype)?;
        w.flush()
    })?;
    super::write_vocab(&super::npy::vocab_path(path), rows)
}

/// Reads vectors written by [`write`] (or any file with one 2-D F32/F16 tensor and the words).
pub fn read(path: &Path) -> Result<Embeddings> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let map = crate::store::map(&file).map_err(|e| Error::io(path, e))?;
    let bad = |m: String| Error::bad_file(path, m);
    let (_, meta) = SafeTensors::read_metadata(&map)
        .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let st = SafeTensors::deserialize(&map)
        .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let (name, v, dim, data) = vectors_tensor(&st, &bad)?;
    let words = words_of(path, &meta, &bad)?;
    if words.len() != v {
        return Err(bad(format!("{v} rows but {} words", words.len())));
    }
    if dim == 0 {
        return Err(bad(format!(
            "tensor {name:?} has shape [{v}, 0]: no values"
        )));
    }
    check_words(&words, &bad)?;
    Ok(Embeddings {
        words,
        counts: None,
        matrix: Matrix::Owned { data, cols: dim },
    })
}

/// The tensor that holds the vectors (`embeddings`, or the only one): name, rows, columns and
/// its values as f32.
fn vectors_tensor(
    st: &SafeTensors,
    bad: &impl Fn(String) -> Error,
) -> Result<(String, usize, usize, Vec<f32>)> {
    let names = st.names();
    let name = if names.contains(&TENSOR) {
        TENSOR.to_string()
    } else if names.len() == 1 {
        names[0].to_string()
    } else {
        return Err(bad(format!("no tensor named {TENSOR:?} among {names:?}")));
    };
    let t = st.tensor(&name).map_err(|e| bad(e.to_string()))?;
    let [v, dim] = t.shape()[..] else {
        return Err(bad(format!(
            "tensor {name:?} has shape {:?}, expected [words, dim]",
            t.shape()
        )));
    };
    let data: Vec<f32> = match t.dtype() {
        StDtype::F32 => t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        StDtype::F16 => t
            .data()
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        StDtype::BF16 => t
            .data()
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        StDtype::F64 => super::f64_le_to_f32(t.data()),
        d => {
            return Err(bad(format!(
                "tensor dtype {d:?} is not F32, F16, BF16 or F64"
            )))
        }
    };
    Ok((name, v, dim, data))
}

/// The words: the metadata's `vocab` list, else the `vocab.txt` beside the file.
fn words_of(
    path: &Path,
    meta: &safetensors::tensor::Metadata,
    bad: &impl Fn(String) -> Error,
) -> Result<Vec<String>> {
    match meta.metadata().as_ref().and_then(|m| m.get("vocab")) {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| bad(format!("metadata 'vocab' is not a JSON list of words: {e}"))),
        None => {
            let vp = super::npy::find_vocab(path);
            Ok(crate::vocab::Vocab::load(&vp)?.words().to_vec())
        }
    }
}

/// The word list becomes a vocab.txt on export, which must read back: no empty words, none twice.
fn check_words(words: &[String], bad: &impl Fn(String) -> Error) -> Result<()> {
    let mut seen = hashbrown::HashSet::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if w.is_empty() || w.contains(['\t', '\n', '\r']) {
            return Err(bad(format!(
                "word {i} of the metadata is empty or holds a tab or line break"
            )));
        }
        if !seen.insert(w.as_str()) {
            return Err(bad(format!("word {w:?} appears twice in the metadata")));
        }
    }
    Ok(())
}
