//! CBOW with subwords: the window's row sums, kept while the words are in the window.
//!
//! fastText's CBOW pools the rows of every context word (the word's own and a dozen n-grams',
//! scattered over the bucket), and a word stays in the window for up to 2·window centres, each of
//! which reads and writes all its rows again. Here each position's row sum is read once, as the
//! position enters the window; a centre's gradient moves the sum by rows × gradient; and the rows
//! take the accumulated gradient once, as the position leaves. The sums a centre sees include
//! every earlier step of this thread on that position, so the only difference from writing the
//! rows at once is that a row shared by two positions of one window (a common suffix n-gram, a
//! repeated word) shows the other position's steps only once the window has moved past it.
//! Other threads' steps are added to the rows, never overwritten.

use crate::hogwild::SharedMatrix;
use crate::kernels;
use std::ops::Range;

/// Per slot of a ring of 2·window + 1 positions: the sum of the position's rows as this thread's
/// steps have moved it, the sum as it was read, and how many rows it has.
#[derive(Default)]
pub(super) struct WindowSums {
    dim: usize,
    window: usize,
    now: Vec<f32>,
    read: Vec<f32>,
    rows: Vec<usize>,
    /// The next position to load.
    loaded: usize,
    scratch: Vec<f32>,
}

impl WindowSums {
    /// Empty, for a sentence.
    pub(super) fn reset(&mut self, window: usize, dim: usize) {
        let slots = 2 * window + 1;
        (self.dim, self.window, self.loaded) = (dim, window, 0);
        self.now.resize(slots * dim, 0.0);
        self.read.resize(slots * dim, 0.0);
        self.rows.resize(slots, 0);
        self.scratch.resize(dim, 0.0);
    }

    /// Before centre `pos` of `n`: the position no window reaches any more leaves, and those the
    /// widest window of `pos` reaches enter. `rows(c)` = the input rows of position `c`.
    #[inline(always)]
    pub(super) fn advance<'r>(
        &mut self,
        pos: usize,
        n: usize,
        rows: impl Fn(usize) -> &'r [u32],
        input: &SharedMatrix,
    ) {
        if pos > self.window {
            let c = pos - self.window - 1;
            self.flush(c, rows(c), input);
        }
        while self.loaded < n && self.loaded <= pos + self.window {
            // The rows lie anywhere in a matrix of millions of rows: start loading the next
            // position's while this one is summed.
            if self.loaded + 1 < n {
                for &r in rows(self.loaded + 1) {
                    input.prefetch(r as usize);
                }
            }
            self.load(self.loaded, rows(self.loaded), input);
            self.loaded += 1;
        }
    }

    /// After the sentence's last centre: every position still held leaves.
    #[inline(always)]
    pub(super) fn finish<'r>(
        &mut self,
        n: usize,
        rows: impl Fn(usize) -> &'r [u32],
        input: &SharedMatrix,
    ) {
        for c in n.saturating_sub(self.window + 1)..self.loaded.min(n) {
            self.flush(c, rows(c), input);
        }
    }

    #[inline(always)]
    fn slot(&self, c: usize) -> Range<usize> {
        let k = c % self.rows.len();
        k * self.dim..(k + 1) * self.dim
    }

    #[inline(always)]
    fn load(&mut self, c: usize, rows: &[u32], input: &SharedMatrix) {
        let at = self.slot(c);
        let now = &mut self.now[at.clone()];
        now.fill(0.0);
        for &r in rows {
            kernels::axpy(1.0, input.row(r as usize), now);
        }
        self.read[at].copy_from_slice(now);
        let slots = self.rows.len();
        self.rows[c % slots] = rows.len();
    }

    /// `h` = the sum over the positions of `range` but `centre`; returns the rows it stands for.
    #[inline(always)]
    pub(super) fn window_sum(&self, range: Range<usize>, centre: usize, h: &mut [f32]) -> usize {
        h.fill(0.0);
        let mut count = 0;
        for c in range.filter(|&c| c != centre) {
            kernels::axpy(1.0, &self.now[self.slot(c)], h);
            count += self.rows[c % self.rows.len()];
        }
        count
    }

    /// Every row of the positions of `range` but `centre` takes `grad`: each position's sum moves
    /// by its rows × `grad`.
    #[inline(always)]
    pub(super) fn step(&mut self, range: Range<usize>, centre: usize, grad: &[f32]) {
        for c in range.filter(|&c| c != centre) {
            let k = self.rows[c % self.rows.len()] as f32;
            let at = self.slot(c);
            kernels::axpy(k, grad, &mut self.now[at]);
        }
    }

    /// Position `c` leaves: its rows take the steps its sum took, shared equally among them.
    #[inline(always)]
    fn flush(&mut self, c: usize, rows: &[u32], input: &SharedMatrix) {
        let at = self.slot(c);
        let k = rows.len().max(1) as f32;
        let (now, read) = (&self.now[at.clone()], &self.read[at]);
        for ((d, &x), &y) in self.scratch.iter_mut().zip(now).zip(read) {
            *d = (x - y) / k;
        }
        for &r in rows {
            kernels::axpy(1.0, &self.scratch, input.row_mut(r as usize));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MatrixFile;

    /// A gradient that depends on the window's sum, as the real one does.
    fn grad(h: &[f32], pos: usize) -> Vec<f32> {
        h.iter()
            .enumerate()
            .map(|(d, x)| 0.01 * (pos + d) as f32 - 0.05 * x)
            .collect()
    }

    /// With no row shared between positions, the sums see exactly what rows written at once
    /// would: the matrices after a sentence agree with the direct algorithm's to rounding.
    #[test]
    fn sums_match_writing_the_rows_at_once_when_no_row_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        let (n, window, dim, per) = (23, 3, 5, 4);
        let rows: Vec<Vec<u32>> = (0..n)
            .map(|c| (0..per).map(|k| (c * per + k) as u32).collect())
            .collect();
        let init = |m: &mut MatrixFile| {
            for (i, x) in m.data_mut().iter_mut().enumerate() {
                *x = ((i * 7919) % 101) as f32 / 101.0 - 0.5;
            }
        };
        let mut direct = MatrixFile::create(&dir.path().join("a.npy"), n * per, dim).unwrap();
        let mut summed = MatrixFile::create(&dir.path().join("b.npy"), n * per, dim).unwrap();
        init(&mut direct);
        init(&mut summed);
        let b_of = |pos: usize| 1 + (pos * 5) % window;
        {
            let m = direct.shared();
            let mut h = vec![0.0; dim];
            for pos in 0..n {
                let b = b_of(pos);
                let bag: Vec<u32> = (pos.saturating_sub(b)..(pos + b + 1).min(n))
                    .filter(|&c| c != pos)
                    .flat_map(|c| rows[c].clone())
                    .collect();
                h.fill(0.0);
                for &r in &bag {
                    kernels::axpy(1.0, m.row(r as usize), &mut h);
                }
                let g = grad(&h, pos);
                for &r in &bag {
                    kernels::axpy(1.0, &g, m.row_mut(r as usize));
                }
            }
        }
        {
            let m = summed.shared();
            let mut sums = WindowSums::default();
            sums.reset(window, dim);
            let mut h = vec![0.0; dim];
            let rows_of = |c: usize| rows[c].as_slice();
            for pos in 0..n {
                sums.advance(pos, n, rows_of, &m);
                let b = b_of(pos);
                let range = pos.saturating_sub(b)..(pos + b + 1).min(n);
                let count = sums.window_sum(range.clone(), pos, &mut h);
                assert_eq!(count, (range.len() - 1) * per);
                let g = grad(&h, pos);
                sums.step(range, pos, &g);
            }
            sums.finish(n, rows_of, &m);
        }
        let (a, b) = (direct.shared(), summed.shared());
        for r in 0..n * per {
            for (x, y) in a.row(r).iter().zip(b.row(r)) {
                assert!((x - y).abs() < 1e-5, "row {r}: {x} against {y}");
            }
        }
        // Every row moved: the test is not comparing two untouched matrices.
        init(&mut direct);
        let before = direct.shared();
        assert!((0..n * per).all(|r| before.row(r) != b.row(r)));
    }
}
