//! Sampling from discrete distributions in O(1): Vose's alias method, and the crate's fast RNG.
//!
//! word2vec C fills a 10^8-entry table for negative sampling; an alias table gives the exact
//! distribution in two arrays of vocabulary size and one random number per draw.

use rand::RngCore;

/// The crate's RNG: xoshiro256++ is fast, small, and its output is fixed by its definition, so a
/// seed means the same stream on every version of every dependency.
pub type FastRng = rand_xoshiro::Xoshiro256PlusPlus;

/// The crate's seeded random stream.
pub fn rng(seed: u64) -> FastRng {
    use rand::SeedableRng;
    FastRng::seed_from_u64(seed)
}

/// Walker's alias method: O(1) draws from a fixed discrete distribution.
#[derive(Clone, Debug)]
pub struct AliasTable {
    /// Per column: the probability (scaled to u32) of keeping it rather than taking its alias,
    /// and the alias. Side by side so that a draw reads one cache line, not two.
    cols: Vec<(u32, u32)>,
}

impl AliasTable {
    /// Builds a table from non-negative weights; returns `None` when they are empty, not finite, or
    /// all zero.
    pub fn new(weights: &[f64]) -> Option<AliasTable> {
        let n = weights.len();
        if n == 0 || n > u32::MAX as usize {
            return None;
        }
        let sum: f64 = weights.iter().sum();
        if !sum.is_finite() || sum <= 0.0 || weights.iter().any(|w| w.is_nan() || *w < 0.0) {
            return None;
        }
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / sum).collect();
        let mut keep = vec![u32::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            keep[s] = (scaled[s] * u32::MAX as f64) as u32;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left has probability 1 up to rounding.
        for i in small.into_iter().chain(large) {
            keep[i] = u32::MAX;
        }
        let cols = keep.into_iter().zip(alias).collect();
        Some(AliasTable { cols })
    }

    /// Outcomes.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// One draw from one 64-bit random number: the high half picks a column, the low half decides
    /// between it and its alias.
    #[inline]
    pub fn sample_with(&self, r: u64) -> usize {
        let col = (((r >> 32) * self.cols.len() as u64) >> 32) as usize;
        let (keep, alias) = self.cols[col];
        // A select, not a branch: which way a draw goes is a coin flip to the branch predictor.
        let take = ((r as u32) < keep) | (keep == u32::MAX);
        [alias as usize, col][take as usize]
    }

    #[inline]
    /// One draw: an index with probability proportional to its weight.
    pub fn sample<R: RngCore>(&self, rng: &mut R) -> usize {
        self.sample_with(rng.next_u64())
    }
}

/// Weights 1/(rank+offset)^s for a Zipf–Mandelbrot law over `n` items.
pub fn zipf_weights(n: usize, s: f64, offset: f64) -> Vec<f64> {
    (0..n)
        .map(|k| 1.0 / (k as f64 + 1.0 + offset).powf(s))
        .collect()
}

/// Pearson's χ² of `seen` counts against `weights` (normalised): the tests' measure of whether a
/// sampler draws what it should.
#[cfg(test)]
pub(crate) fn chi_square(weights: &[f64], seen: &[u64]) -> f64 {
    let sum: f64 = weights.iter().sum();
    let n: u64 = seen.iter().sum();
    weights
        .iter()
        .zip(seen)
        .map(|(wi, &o)| {
            let e = wi / sum * n as f64;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_table_matches_its_distribution() {
        let w = zipf_weights(50, 1.0, 1.0);
        let table = AliasTable::new(&w).unwrap();
        let mut r = rng(99);
        let n = 500_000;
        let mut seen = vec![0u64; w.len()];
        for _ in 0..n {
            seen[table.sample(&mut r)] += 1;
        }
        let chi2 = chi_square(&w, &seen);
        // 49 degrees of freedom: mean 49, sd ~10; 100 is beyond p = 1e-5.
        assert!(chi2 < 100.0, "chi2 {chi2}");
        assert!(AliasTable::new(&[]).is_none());
        assert!(AliasTable::new(&[0.0, 0.0]).is_none());
        assert!(AliasTable::new(&[1.0, f64::NAN]).is_none());
        let one = AliasTable::new(&[0.0, 3.0, 0.0]).unwrap();
        assert!((0..1000).all(|_| one.sample(&mut r) == 1));
    }
}
