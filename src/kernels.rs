//! The arithmetic of the inner loops, alone so each can be benched and replaced by itself.
//!
//! `dot` and `axpy` keep eight independent partial sums / lanes: float addition is not associative,
//! so without them the compiler must add one element at a time; with them it emits vector code.
//! They are `inline(always)` so that they take the instruction set of the function they land in:
//! the trainers' hot loops are compiled once per instruction set (AVX2, baseline) and chosen at run
//! time, and the fixed eight lanes give the same sums, bit for bit, in every version.

const LANES: usize = 8;

/// Σ a[i]·b[i]. Panics in debug builds if the lengths differ.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// y += a·x.
#[inline(always)]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// x *= a.
#[inline(always)]
pub fn scale(a: f32, x: &mut [f32]) {
    for xi in x {
        *xi *= a;
    }
}

/// Scales a row to unit length (left as is when it is all zeros).
pub fn normalize(x: &mut [f32]) {
    let n = dot(x, x).sqrt();
    if n > 0.0 {
        scale(1.0 / n, x);
    }
}

/// The logistic function tabulated on [-MAX_EXP, MAX_EXP] as word2vec does: beyond that range the
/// gradient is within 0.25% of its limit and the C tool clips it there.
pub struct Sigmoid {
    table: Vec<f32>,
    /// −ln σ(x) on the same grid: the log loss of a logit, for reporting only.
    neg_log: Vec<f32>,
}

pub const MAX_EXP: f32 = 6.0;
const TABLE_SIZE: usize = 1024;

impl Default for Sigmoid {
    fn default() -> Self {
        let x = |i: usize| (i as f32 / TABLE_SIZE as f32 * 2.0 - 1.0) * MAX_EXP;
        let table = (0..=TABLE_SIZE)
            .map(|i| 1.0 / (1.0 + (-x(i)).exp()))
            .collect();
        let neg_log = (0..=TABLE_SIZE)
            .map(|i| (-(x(i) as f64)).exp().ln_1p() as f32)
            .collect();
        Sigmoid { table, neg_log }
    }
}

impl Sigmoid {
    /// σ(x), clamped to σ(±MAX_EXP) outside the table.
    #[inline(always)]
    pub fn get(&self, x: f32) -> f32 {
        if x >= MAX_EXP {
            self.table[TABLE_SIZE]
        } else if x <= -MAX_EXP {
            self.table[0]
        } else {
            let i = ((x + MAX_EXP) * (TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
            self.table[i.min(TABLE_SIZE)]
        }
    }

    /// −ln σ(x): the loss of a logit whose label is 1 (pass −x for label 0). Beyond the table
    /// it is σ's tail, ln(1+e^−x) ≈ −x below −MAX_EXP and ≈ its edge value above.
    #[inline(always)]
    pub fn loss(&self, x: f32) -> f32 {
        if x >= MAX_EXP {
            self.neg_log[TABLE_SIZE]
        } else if x <= -MAX_EXP {
            -x
        } else {
            let i = ((x + MAX_EXP) * (TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
            self.neg_log[i.min(TABLE_SIZE)]
        }
    }
}
