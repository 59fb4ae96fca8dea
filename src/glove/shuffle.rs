//! Shuffling the co-occurrence records within the memory budget, as the Stanford tool does: SGD on
//! records in key order would see one word's pairs in a row, so the order must be random.
//! Records are shuffled in chunks that fit the budget; chunks are then merged by repeatedly taking
//! a share of every chunk proportional to what it has left and shuffling that block again.

use super::cooccur::Cooccurrences;
use crate::error::{Error, Result};
use crate::sampling::rng;
use bytemuck::Zeroable;
use rand::seq::SliceRandom;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// One training example for the ordered pair (i, j): log X_ij and its weight f(X_ij), computed
/// once here rather than in every iteration.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Record {
    /// Row of the word.
    pub i: u32,
    /// Row of the context word.
    pub j: u32,
    /// ln X_ij.
    pub log_x: f32,
    /// f(X_ij), the record's weight in the cost.
    pub weight: f32,
}

/// GloVe's weighting f(x) = min(1, (x/x_max)^alpha).
pub fn weight(x: f64, x_max: f64, alpha: f64) -> f64 {
    if x >= x_max {
        1.0
    } else {
        (x / x_max).powf(alpha)
    }
}

const RECORD: usize = std::mem::size_of::<Record>();

fn write_records(w: &mut impl Write, recs: &[Record]) -> std::io::Result<()> {
    w.write_all(bytemuck::cast_slice(recs))
}

/// Expands the merged pairs into ordered records (both directions), shuffles them within
/// `memory` bytes and writes them to `out`. Returns the number of records.
pub fn shuffle(
    cooc: Cooccurrences,
    (x_max, alpha): (f64, f64),
    memory: usize,
    tmp: &Path,
    seed: u64,
    out: &Path,
) -> Result<u64> {
    // The runs still in memory stay resident while they are merged, so the chunk gets the rest of
    // the budget; it is allocated once, because a growing Vec briefly holds its old and new buffers
    // (1.5x the budget at the last doubling).
    let cap = (memory.saturating_sub(cooc.resident_bytes()) / RECORD).max(1 << 12);
    let cap = cap.min(2 * cooc.max_pairs() as usize + 2);
    let scale = cooc.scale as f64;
    let mut r = rng(seed ^ 0x5u64);
    let mut chunk: Vec<Record> = Vec::with_capacity(cap);
    let mut chunks: Vec<(PathBuf, u64)> = Vec::new();
    let mut total = 0u64;
    let flush = |chunk: &mut Vec<Record>,
                 chunks: &mut Vec<(PathBuf, u64)>,
                 r: &mut crate::sampling::FastRng|
     -> Result<()> {
        chunk.shuffle(r);
        let path = tmp.join(format!("shuf-{}.bin", chunks.len()));
        let f = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        write_records(&mut w, chunk)
            .and_then(|_| w.flush())
            .map_err(|e| Error::io(&path, e))?;
        chunks.push((path, chunk.len() as u64));
        chunk.clear();
        Ok(())
    };
    cooc.merge(|i, j, c| {
        let x = c as f64 / scale;
        let (log_x, weight) = (x.ln() as f32, weight(x, x_max, alpha) as f32);
        chunk.push(Record {
            i,
            j,
            log_x,
            weight,
        });
        total += 1;
        if i != j {
            chunk.push(Record {
                i: j,
                j: i,
                log_x,
                weight,
            });
            total += 1;
        }
        if chunk.len() + 2 > cap {
            flush(&mut chunk, &mut chunks, &mut r)?;
        }
        Ok(())
    })?;
    let file = File::create(out).map_err(|e| Error::io(out, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    if chunks.is_empty() {
        chunk.shuffle(&mut r);
        write_records(&mut w, &chunk).map_err(|e| Error::io(out, e))?;
    } else {
        if !chunk.is_empty() {
            flush(&mut chunk, &mut chunks, &mut r)?;
        }
        drop(chunk);
        let mut readers = Vec::with_capacity(chunks.len());
        for (p, n) in &chunks {
            let f = File::open(p).map_err(|e| Error::io(p, e))?;
            readers.push((BufReader::with_capacity(256 << 10, f), *n, p.clone()));
        }
        let mut left = total;
        let mut block: Vec<Record> = Vec::with_capacity(cap);
        while left > 0 {
            block.clear();
            for (reader, remaining, path) in readers.iter_mut() {
                let take = ((*remaining as u128 * cap as u128).div_ceil(left as u128) as u64)
                    .min(*remaining);
                let start = block.len();
                block.resize(start + take as usize, Record::zeroed());
                reader
                    .read_exact(bytemuck::cast_slice_mut(&mut block[start..]))
                    .map_err(|e| Error::io(path.as_path(), e))?;
                *remaining -= take;
            }
            left -= block.len() as u64;
            block.shuffle(&mut r);
            write_records(&mut w, &block).map_err(|e| Error::io(out, e))?;
        }
        for (p, _) in &chunks {
            let _ = std::fs::remove_file(p);
        }
    }
    w.flush().map_err(|e| Error::io(out, e))?;
    Ok(total)
}
