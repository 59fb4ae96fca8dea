//! What the LM's fused candle operations (`loss`, `gelu`, `norm`) share: reading a contiguous
//! f32 input, and in tests, comparing against candle's composed forms.

use candle_core::{CpuStorage, Layout, Result};

/// The f32 values of a contiguous input of operation `op`; a strided one is an error (callers
/// make their inputs contiguous first).
pub(crate) fn contiguous_f32<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&s.as_slice::<f32>()?[start..end]),
        None => candle_core::bail!("{op}: a contiguous f32 input expected"),
    }
}

/// Asserts `got` equals `want` within `rel` (relative, absolute below 1) and that some value is
/// larger than `signal`, so that the comparison is not between two near-zero vectors.
#[cfg(test)]
pub(crate) fn assert_close(name: &str, got: &[f32], want: &[f32], rel: f32, signal: f32) {
    assert_eq!(got.len(), want.len(), "{name}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rel * b.abs().max(1.0),
            "{name}[{i}]: {a} against {b}"
        );
    }
    assert!(
        got.iter().any(|g| g.abs() > signal),
        "{name}: nothing worth comparing"
    );
}
