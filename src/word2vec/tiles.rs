//! Skip-gram's window with shared negatives as one small dense problem: contexts × targets
//! logits, then the gradients of both sides, in register tiles (`kernels::dots`,
//! `kernels::axpy_tile`).
//!
//! Product by product, a dot of two 100-float rows is one chain of vector additions (each waits
//! for the last) and an `axpy` loads two rows and stores one for every multiply-add. A tile of
//! 2 contexts × 3 targets keeps six chains going and loads each chunk once for several products.
//! Every element still sees the same additions in the same order as one `dot` or `axpy` per pair,
//! so the results are the untiled loop's, bit for bit.

use crate::hogwild::SharedMatrix;
use crate::kernels::{axpy_tile, dots};

/// Contexts per tile.
const A: usize = 2;
/// Targets per tile.
const B: usize = 3;
/// Contexts per pass over an output row.
const C: usize = 4;

/// `logits[i·k + j]` = input row of `ctx[i]` · output row of `targets[j]`, k = `targets.len()`.
pub(super) fn logits(
    (input, out): (&SharedMatrix, &SharedMatrix),
    ctx: &[u32],
    targets: &[u32],
    logits: &mut [f32],
) {
    fn tile<const P: usize, const Q: usize>(
        (input, out): (&SharedMatrix, &SharedMatrix),
        ctx: &[u32],
        targets: &[u32],
        k: usize,
        logits: &mut [f32],
    ) {
        let h = std::array::from_fn(|p| input.row(ctx[p] as usize));
        let t = std::array::from_fn(|q| out.row(targets[q] as usize));
        let v = dots::<P, Q>(h, t);
        for (p, row) in v.iter().enumerate() {
            logits[p * k..p * k + Q].copy_from_slice(row);
        }
    }
    let k = targets.len();
    for (i, cs) in ctx.chunks(A).enumerate() {
        for (j, ts) in targets.chunks(B).enumerate() {
            let at = &mut logits[i * A * k + j * B..];
            let m = (input, out);
            match (cs.len(), ts.len()) {
                (2, 3) => tile::<2, 3>(m, cs, ts, k, at),
                (2, 2) => tile::<2, 2>(m, cs, ts, k, at),
                (2, _) => tile::<2, 1>(m, cs, ts, k, at),
                (_, 3) => tile::<1, 3>(m, cs, ts, k, at),
                (_, 2) => tile::<1, 2>(m, cs, ts, k, at),
                _ => tile::<1, 1>(m, cs, ts, k, at),
            }
        }
    }
}

/// `grads[i]` (rows of `dim`, zeroed here) = Σ_j g[i·k + j] · output row of `targets[j]`.
pub(super) fn context_grads(out: &SharedMatrix, targets: &[u32], g: &[f32], grads: &mut [f32]) {
    fn tile<const P: usize, const Q: usize>(
        out: &SharedMatrix,
        ts: &[u32],
        g: &[f32],
        k: usize,
        ys: &mut [f32],
    ) {
        let dim = out.cols();
        let x = std::array::from_fn(|q| out.row(ts[q] as usize));
        let gs = std::array::from_fn(|p| std::array::from_fn(|q| g[p * k + q]));
        let mut rows = ys.chunks_exact_mut(dim);
        let y = std::array::from_fn(|_| rows.next().unwrap_or_default());
        axpy_tile::<P, Q>(gs, x, y);
    }
    let (k, dim) = (targets.len(), out.cols());
    grads.fill(0.0);
    for (i, ys) in grads.chunks_mut(A * dim).enumerate() {
        let p = ys.len() / dim;
        for (j, ts) in targets.chunks(B).enumerate() {
            let g = &g[i * A * k + j * B..];
            match (p, ts.len()) {
                (2, 3) => tile::<2, 3>(out, ts, g, k, ys),
                (2, 2) => tile::<2, 2>(out, ts, g, k, ys),
                (2, _) => tile::<2, 1>(out, ts, g, k, ys),
                (_, 3) => tile::<1, 3>(out, ts, g, k, ys),
                (_, 2) => tile::<1, 2>(out, ts, g, k, ys),
                _ => tile::<1, 1>(out, ts, g, k, ys),
            }
        }
    }
}

/// Output row of `targets[j]` += Σ_i g[i·k + j] · input row of `ctx[i]`, one target after
/// another (two draws of one word update its row twice, as untiled).
pub(super) fn update_outputs(
    (input, out): (&SharedMatrix, &SharedMatrix),
    ctx: &[u32],
    targets: &[u32],
    g: &[f32],
) {
    fn tile<const Q: usize>(input: &SharedMatrix, cs: &[u32], g: [f32; Q], row: &mut [f32]) {
        let x = std::array::from_fn(|q| input.row(cs[q] as usize));
        axpy_tile::<1, Q>([g], x, [row]);
    }
    let k = targets.len();
    for (j, &t) in targets.iter().enumerate() {
        for (i, cs) in ctx.chunks(C).enumerate() {
            let gi = |q: usize| g[(i * C + q) * k + j];
            let row = out.row_mut(t as usize);
            match cs.len() {
                4 => tile::<4>(input, cs, std::array::from_fn(gi), row),
                3 => tile::<3>(input, cs, std::array::from_fn(gi), row),
                2 => tile::<2>(input, cs, std::array::from_fn(gi), row),
                _ => tile::<1>(input, cs, std::array::from_fn(gi), row),
            }
        }
    }
}
