//! Co-occurrence counting in bounded memory.
//!
//! Each thread counts the pairs of its shard in a hash table keyed by the unordered pair
//! (X is symmetric, so storing i ≤ j halves the work). When a table reaches its share of the memory
//! budget it is sorted and written out as a run; at the end all runs are k-way merged.
//!
//! Counts are exact integers: a pair at distance d adds L/d, L = lcm(1..=window), so 1/d weights
//! sum without rounding, in any order, on any number of threads, spilled or not. The value of a
//! record is the integer divided by L.

use crate::corpus::{Corpus, SentenceSink};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::vocab::Vocab;
use hashbrown::HashMap;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Largest window whose weights stay exact in 64-bit fixed point.
pub const MAX_WINDOW: usize = 20;

/// Bytes one table entry may cost at the worst moment: while the table doubles, old and new slot
/// arrays (16 + 1 control byte per slot, at most 8/7 slots per entry) coexist, about 58 bytes;
/// when it spills, the sorted copy adds 16. The table is never preallocated, so a small corpus
/// uses little memory whatever the budget.
const ENTRY_BYTES: usize = 64;

/// lcm(1..=window): the fixed-point scale that makes every 1/d an integer.
pub fn scale(window: usize) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    (1..=window as u64).fold(1, |l, d| l / gcd(l, d) * d)
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    ((lo as u64) << 32) | hi as u64
}

/// One sorted run: in memory (the last table of a thread) or a file of 16-byte records.
enum Run {
    Memory(Vec<(u64, u64)>),
    File(PathBuf),
}

struct Counter<'a> {
    vocab: &'a Vocab,
    weights: Vec<u64>,
    map: HashMap<u64, u64>,
    capacity: usize,
    ids: Vec<u32>,
    runs: Vec<Run>,
    tmp: &'a Path,
    thread: usize,
    error: Option<Error>,
    pairs_added: u64,
}

impl Counter<'_> {
    fn spill(&mut self) {
        let mut run: Vec<(u64, u64)> = self.map.drain().collect();
        run.sort_unstable_by_key(|e| e.0);
        let path = self
            .tmp
            .join(format!("run-{}-{}.bin", self.thread, self.runs.len()));
        match write_run(&path, &run) {
            Ok(()) => self.runs.push(Run::File(path)),
            Err(e) => self.error = Some(e),
        }
    }
}

fn write_run(path: &Path, run: &[(u64, u64)]) -> Result<()> {
    let f = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    for (k, c) in run {
        w.write_all(&k.to_le_bytes())
            .and_then(|_| w.write_all(&c.to_le_bytes()))
            .map_err(|e| Error::io(path, e))?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

impl SentenceSink for Counter<'_> {
    fn sentence(&mut self, tokens: &[&str]) {
        if self.error.is_some() {
            return;
        }
        // Out-of-vocabulary words are dropped before windowing, as the Stanford tool does: distance
        // counts kept words.
        self.ids.clear();
        self.ids
            .extend(tokens.iter().filter_map(|t| self.vocab.id(t)));
        let window = self.weights.len() - 1;
        for j in 1..self.ids.len() {
            let w2 = self.ids[j];
            for d in 1..=window.min(j) {
                let w1 = self.ids[j - d];
                // A pair of one word with itself is both (i,j) and (j,i): it counts twice.
                let add = if w1 == w2 {
                    2 * self.weights[d]
                } else {
                    self.weights[d]
                };
                *self.map.entry(key(w1, w2)).or_insert(0) += add;
            }
            self.pairs_added += window.min(j) as u64;
            if self.map.len() >= self.capacity {
                self.spill();
                if self.error.is_some() {
                    return;
                }
            }
        }
    }
}

/// The counted co-occurrences, as sorted runs waiting to be merged.
pub struct Cooccurrences {
    runs: Vec<Run>,
    /// Counts are fixed-point: stored value = weight · scale.
    pub scale: u64,
    /// Sorted runs written to disk because the memory budget was reached.
    pub spilled_runs: usize,
}

/// Counts the corpus's co-occurrences within `window` on `threads` threads, using at most about
/// `memory` bytes for the tables; runs that do not fit go to files in `tmp`.
pub fn count(
    corpus: &Corpus,
    vocab: &Vocab,
    window: usize,
    memory: usize,
    threads: usize,
    tmp: &Path,
    progress: &Progress,
) -> Result<Cooccurrences> {
    if window == 0 || window > MAX_WINDOW {
        return Err(Error::setting(
            "window",
            format!("must be within 1..={MAX_WINDOW}"),
        ));
    }
    let threads = threads.max(1);
    let l = scale(window);
    let weights: Vec<u64> = (0..=window as u64)
        .map(|d| l.checked_div(d).unwrap_or(0))
        .collect();
    let capacity = (memory / threads / ENTRY_BYTES).max(1024);
    let (counters, _) = corpus.for_each_parallel(threads, progress, |t| Counter {
        vocab,
        weights: weights.clone(),
        map: HashMap::new(),
        capacity,
        ids: Vec::new(),
        runs: Vec::new(),
        tmp,
        thread: t,
        error: None,
        pairs_added: 0,
    })?;
    let mut runs = Vec::new();
    for mut c in counters {
        if let Some(e) = c.error.take() {
            return Err(e);
        }
        let mut last: Vec<(u64, u64)> = c.map.drain().collect();
        drop(c.map);
        last.sort_unstable_by_key(|e| e.0);
        runs.append(&mut c.runs);
        runs.push(Run::Memory(last));
    }
    let spilled_runs = runs.iter().filter(|r| matches!(r, Run::File(_))).count();
    Ok(Cooccurrences {
        runs,
        scale: l,
        spilled_runs,
    })
}

/// A run being merged: its next entry and the rest.
enum Cursor {
    Memory(std::vec::IntoIter<(u64, u64)>),
    File(BufReader<File>, PathBuf),
}

impl Cursor {
    fn next(&mut self) -> Result<Option<(u64, u64)>> {
        match self {
            Cursor::Memory(it) => Ok(it.next()),
            Cursor::File(r, path) => {
                let mut b = [0u8; 16];
                match r.read_exact(&mut b) {
                    Ok(()) => Ok(Some((
                        u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
                        u64::from_le_bytes(b[8..].try_into().unwrap_or_default()),
                    ))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(Error::io(path.as_path(), e)),
                }
            }
        }
    }
}

impl Cooccurrences {
    /// Bytes of the runs still held in memory (they stay resident until merged).
    pub fn resident_bytes(&self) -> usize {
        self.runs
            .iter()
            .map(|r| match r {
                Run::Memory(v) => v.len() * 16,
                Run::File(_) => 0,
            })
            .sum()
    }

    /// An upper bound on the distinct pairs: the runs' entries before equal keys are summed.
    pub fn max_pairs(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| match r {
                Run::Memory(v) => v.len() as u64,
                Run::File(p) => std::fs::metadata(p).map_or(0, |m| m.len() / 16),
            })
            .sum()
    }

    /// Merges the runs in key order, summing equal pairs, and calls `f(i, j, count)` once per
    /// unordered pair (i ≤ j) with its exact fixed-point count (value = count / scale).
    pub fn merge(self, mut f: impl FnMut(u32, u32, u64) -> Result<()>) -> Result<()> {
        let mut cursors: Vec<Cursor> = Vec::with_capacity(self.runs.len());
        for r in self.runs {
            cursors.push(match r {
                Run::Memory(v) => Cursor::Memory(v.into_iter()),
                Run::File(p) => {
                    let file = File::open(&p).map_err(|e| Error::io(&p, e))?;
                    Cursor::File(BufReader::with_capacity(256 << 10, file), p)
                }
            });
        }
        let mut heap = BinaryHeap::with_capacity(cursors.len());
        for (k, c) in cursors.iter_mut().enumerate() {
            if let Some((key, n)) = c.next()? {
                heap.push(std::cmp::Reverse((key, k, n)));
            }
        }
        let mut current: Option<(u64, u64)> = None;
        while let Some(std::cmp::Reverse((key, k, n))) = heap.pop() {
            match &mut current {
                Some((ck, cn)) if *ck == key => *cn += n,
                _ => {
                    if let Some((ck, cn)) = current.take() {
                        f((ck >> 32) as u32, ck as u32, cn)?;
                    }
                    current = Some((key, n));
                }
            }
            if let Some((key, n)) = cursors[k].next()? {
                heap.push(std::cmp::Reverse((key, k, n)));
            }
        }
        if let Some((ck, cn)) = current {
            f((ck >> 32) as u32, ck as u32, cn)?;
        }
        Ok(())
    }
}
