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

/// Σ x[i] in eight lanes: a vector add per eight elements where one running sum would be a chain
/// of dependent scalar adds as long as `x`.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// The dot products of `h` with each of `rows`, each summed exactly as [`dot`] sums it (the same
/// lanes, the same order, so the same bits). `dot` is one chain of dependent additions as long
/// as the row; interleaving K of them lets the chains run side by side instead of one after
/// another, and each chunk of `h` is loaded once for all K.
#[inline(always)]
pub fn dots<const D: usize, const K: usize>(h: &[f32; D], rows: [&[f32; D]; K]) -> [f32; K] {
    let full = D / LANES * LANES;
    let mut acc = [[0f32; LANES]; K];
    for i in (0..full).step_by(LANES) {
        for (a, row) in acc.iter_mut().zip(&rows) {
            for l in 0..LANES {
                a[l] += h[i + l] * row[i + l];
            }
        }
    }
    let mut out = [0f32; K];
    for ((o, a), row) in out.iter_mut().zip(&acc).zip(&rows) {
        let mut s: f32 = a.iter().sum();
        for i in full..D {
            s += h[i] * row[i];
        }
        *o = s;
    }
    out
}

/// y += a·x.
#[inline(always)]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// y + Σ g·x over `terms`, added in order: each element rounds as successive `axpy` calls round
/// it, but with the dimension known when compiling, the row stays in registers across the terms
/// instead of being loaded and stored once per term.
#[inline(always)]
pub fn sum_terms<'a, const D: usize>(
    mut acc: [f32; D],
    terms: impl Iterator<Item = (f32, &'a [f32; D])>,
) -> [f32; D] {
    for (g, x) in terms {
        for d in 0..D {
            acc[d] += g * x[d];
        }
    }
    acc
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

/// e^x for x ≤ 0 (a softmax's shifted logits), in straight-line arithmetic that vectorizes: libm's
/// `expf` is a call per element, and the LM's output loss takes twenty million of them per step.
/// Cephes' range reduction and degree-5 polynomial: x = n·ln 2 + r with |r| ≤ ln 2 / 2, so
/// e^x = 2^n · p(r), within 2 ulp of `f32::exp` on the whole range. Below −87 the result is the
/// smallest normal float's neighbourhood or 0 (e^−87 ≈ 1.6e-38), which no sum over a row can see.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer without a call to `round`.
    const ROUND: f32 = 12_582_912.0;
    let x = if x < -87.0 { -87.0 } else { x };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn sum_terms_rounds_as_successive_axpys() {
        let mut r = crate::sampling::rng(5);
        let mut draw = || -> [f32; 37] { std::array::from_fn(|_| r.random_range(-1.0..1.0)) };
        let (start, rows) = (draw(), [draw(), draw(), draw()]);
        let gs = [0.3f32, -1.7, 0.01];
        let mut want = start;
        for (g, x) in gs.iter().zip(&rows) {
            axpy(*g, x, &mut want);
        }
        let got = sum_terms(start, gs.iter().copied().zip(&rows));
        assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits));
    }

    #[test]
    fn dots_sum_as_dot_does() {
        let mut r = crate::sampling::rng(6);
        let mut draw = || -> [f32; 37] { std::array::from_fn(|_| r.random_range(-1.0..1.0)) };
        let (h, rows) = (draw(), [draw(), draw(), draw()]);
        let got = dots(&h, [&rows[0], &rows[1], &rows[2]]);
        let want = rows.map(|row| dot(&h, &row));
        assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits));
    }

    #[test]
    fn sum_adds_every_element_and_keeps_non_finite() {
        let x: Vec<f32> = (1..=37).map(|i| i as f32).collect();
        assert_eq!(sum(&x), 703.0);
        assert_eq!(sum(&x[..5]), 15.0);
        assert_eq!(sum(&[]), 0.0);
        for (k, bad) in [(3, f32::NAN), (36, f32::INFINITY)] {
            let mut y = x.clone();
            y[k] = bad;
            assert!(!sum(&y).is_finite(), "{bad} at {k}");
        }
    }

    #[test]
    fn exp_nonpositive_is_within_two_ulp_of_libm() {
        let mut worst = 0u32;
        for i in 0..=2_000_000u32 {
            let x = -(i as f32) * 87.0 / 2_000_000.0;
            let (got, want) = (exp_nonpositive(x), x.exp());
            let ulp = got.to_bits().abs_diff(want.to_bits());
            worst = worst.max(ulp);
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(f32::NEG_INFINITY) < 1e-37);
    }
}
