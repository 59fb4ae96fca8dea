//! `.npy` exports (float32 or float16) with `vocab.txt` beside them, and their reader.

use super::{Dtype, Matrix, Rows};
use crate::error::{Error, Result};
use crate::store::{npy_header_typed, parse_npy_header, NpyMatrix};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The word list of an `.npy` or safetensors export: named after it (`top.npy` ->
/// `top.vocab.txt`), so that an export never writes over another file, a model folder's own
/// `vocab.txt` least of all.
pub fn vocab_path(npy: &Path) -> PathBuf {
    let stem = npy.file_stem().unwrap_or_default().to_string_lossy();
    npy.with_file_name(format!("{stem}.vocab.txt"))
}

/// Where the words of `npy` are: the file named after it, else the `vocab.txt` of the folder
/// (a model folder's matrices, and exports of wembed before 0.1.1).
pub fn find_vocab(npy: &Path) -> PathBuf {
    let own = vocab_path(npy);
    match own.exists() {
        true => own,
        false => npy.with_file_name("vocab.txt"),
    }
}

/// Writes the matrix to `path` and the words to [`vocab_path`] beside it.
pub fn write(path: &Path, rows: &dyn Rows, dtype: Dtype) -> Result<()> {
    let dt = dtype;
    crate::atomic::write_file(path, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        w.write_all(&npy_header_typed(rows.len(), rows.dim(), dt))?;
        write_rows(&mut w, rows, dtype)?;
        w.flush()
    })?;
    super::write_vocab(&vocab_path(path), rows)
}

/// Raw little-endian rows, as npy and safetensors both lay them out.
pub(crate) fn write_rows(w: &mut dyn Write, rows: &dyn Rows, dtype: Dtype) -> std::io::Result<()> {
    let mut row = vec![0f32; rows.dim()];
    let mut bytes = Vec::with_capacity(rows.dim() * 4);
    for i in 0..rows.len() {
        rows.row_into(i, &mut row);
        bytes.clear();
        match dtype {
            Dtype::F32 => row
                .iter()
                .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes())),
            Dtype::F16 => row
                .iter()
                .for_each(|x| bytes.extend_from_slice(&half::f16::from_f32(*x).to_le_bytes())),
            Dtype::F64 => row
                .iter()
                .for_each(|x| bytes.extend_from_slice(&(*x as f64).to_le_bytes())),
        }
        w.write_all(&bytes)?;
    }
    Ok(())
}

/// Reads an `.npy` matrix: float32 is mapped, float16 and float64 (numpy's default) converted
/// to float32.
pub fn read(path: &Path) -> Result<Matrix> {
    let bytes_head = {
        use std::io::Read;
        let mut h = Vec::new();
        std::fs::File::open(path)
            .map_err(|e| Error::io(path, e))?
            .take(1 << 16)
            .read_to_end(&mut h)
            .map_err(|e| Error::io(path, e))?;
        h
    };
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    let layout = parse_npy_header(&bytes_head, len).map_err(|m| Error::bad_file(path, m))?;
    let convert: fn(&[u8]) -> Vec<f32> = match layout.dtype {
        Dtype::F32 => return Ok(Matrix::Mapped(NpyMatrix::open(path)?)),
        Dtype::F16 => |raw| {
            raw.chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect()
        },
        Dtype::F64 => super::f64_le_to_f32,
    };
    let all = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(Matrix::Owned {
        data: convert(&all[layout.offset..]),
        cols: layout.cols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy saves float64 unless told otherwise: such a file reads as its values in f32.
    #[test]
    fn float64_npy_reads_as_float32() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("v.npy");
        let values = [0.1f64, -2.5, 3.25e-3, 1e10, 0.0, -0.0];
        let mut bytes = npy_header_typed(3, 2, Dtype::F64);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&path, &bytes).unwrap();
        match read(&path).unwrap() {
            Matrix::Owned { data, cols } => {
                assert_eq!(cols, 2);
                let want: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                assert_eq!(data, want);
            }
            Matrix::Mapped(_) => panic!("a float64 file cannot be mapped as float32"),
        }
        // A file one element short is refused by its header check.
        std::fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
        assert!(read(&path).is_err());
    }
}
