//! The output layer and its softmax cross-entropy as one operation, forward and backward.
//!
//! candle's `cross_entropy` over `h · Wᵀ` is a matmul, then `log_softmax` and `gather`, built
//! from six tensor operations whose backward passes add as many again, and candle's backward pass
//! adds every gradient into a zeroed tensor of its size: about twenty passes over the [rows, V]
//! logits, most of them allocating a block-sized tensor. At V = 10k that elementwise work cost
//! more than the output layer's matrix products. Here the forward pass computes the logits block
//! by block, reads each row twice (its maximum, then the sum of exponentials) and writes one loss
//! per row; the backward pass turns each block into `g · (softmax − onehot)` in one pass,
//! recovering each row's log-sum-exp from the forward result (`loss + x[target]`), and multiplies
//! it straight into the gradients of `h` and `W`, so no [rows, V] gradient reaches candle's store.
//!
//! Blocks stay under a few MiB: glibc serves every allocation over 32 MiB with a fresh mmap and
//! unmaps it on free, and whole-batch logits (40+ MiB at V=10k) made page faults cost more than
//! the arithmetic (1,987 tokens/s whole, about 4,000 in blocks, before this operation existed).

use super::fused::contiguous_f32;
use crate::kernels::exp_nonpositive;
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::Mutex;

/// Largest logits block built at once (see the module's comment).
const LOGIT_BLOCK_BYTES: usize = 8 << 20;

/// Per-row cross-entropy `logsumexp(l) − l[target]` of the logits `l = h · weightᵀ`, for `h`
/// [rows, dim], `weight` [V, dim] (f32) and `targets` [rows] (u32); differentiable with respect to
/// `h` and `weight`. On a device other than the CPU it is candle's composed form.
pub fn output_loss(h: &Tensor, weight: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let v = weight.dim(0)?;
    output_loss_in_blocks(h, weight, targets, (LOGIT_BLOCK_BYTES / (4 * v)).max(1))
}

fn output_loss_in_blocks(
    h: &Tensor,
    weight: &Tensor,
    targets: &Tensor,
    block_rows: usize,
) -> Result<Tensor> {
    if !h.device().is_cpu() {
        let log_p = candle_nn::ops::log_softmax(&h.matmul(&weight.t()?)?, 1)?;
        return log_p.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?.neg();
    }
    let op = OutputLoss {
        targets: targets.to_vec1::<u32>()?,
        block_rows,
        logits: Mutex::new(Vec::new()),
    };
    h.contiguous()?.apply_op2(&weight.contiguous()?, op)
}

/// The forward pass keeps its logits blocks for the backward pass, which takes them.
struct OutputLoss {
    targets: Vec<u32>,
    block_rows: usize,
    logits: Mutex<Vec<Tensor>>,
}

/// The backward pass: logits, forward losses and their gradient in, the logits' gradient out.
struct SoftmaxCrossEntropyGrad<'a> {
    targets: &'a [u32],
}

/// The [rows, V] f32 data of a contiguous tensor and its two dimensions.
fn matrix<'a>(s: &'a CpuStorage, l: &Layout) -> Result<(&'a [f32], usize, usize)> {
    let (rows, v) = l.shape().dims2()?;
    Ok((contiguous_f32(s, l, "softmax cross-entropy")?, rows, v))
}

/// The f32 data of a contiguous vector of `n` values.
fn vector<'a>(s: &'a CpuStorage, l: &Layout, n: usize) -> Result<&'a [f32]> {
    let x = contiguous_f32(s, l, "softmax cross-entropy")?;
    if x.len() != n {
        candle_core::bail!(
            "softmax cross-entropy: {} values where {n} were expected",
            x.len()
        );
    }
    Ok(x)
}

fn check_targets(targets: &[u32], rows: usize, v: usize) -> Result<()> {
    if targets.len() != rows {
        candle_core::bail!("{} targets for {rows} rows of logits", targets.len());
    }
    if let Some(t) = targets.iter().find(|&&t| t as usize >= v) {
        candle_core::bail!("target {t} outside a vocabulary of {v}");
    }
    Ok(())
}

const LANES: usize = 16;

/// `log Σ exp(x)`, shifted by the maximum so that no term overflows. Sixteen lanes, so that the
/// maximum and the sum vectorize (float sums are not reassociated by the compiler).
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn log_sum_exp(row: &[f32]) -> f32 {
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    let mut m = [f32::NEG_INFINITY; LANES];
    for c in chunks.clone() {
        for k in 0..LANES {
            m[k] = if c[k] > m[k] { c[k] } else { m[k] };
        }
    }
    let max = m
        .iter()
        .chain(rest)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let mut acc = [0f32; LANES];
    for c in chunks {
        for k in 0..LANES {
            acc[k] += exp_nonpositive(c[k] - max);
        }
    }
    let sum: f32 =
        acc.iter().sum::<f32>() + rest.iter().map(|&x| exp_nonpositive(x - max)).sum::<f32>();
    max + sum.ln()
}

/// `out = g · exp(x − lse)`: the softmax of a row, times its loss's gradient.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn scaled_softmax(row: &[f32], lse: f32, g: f32, out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(row) {
        *o = g * exp_nonpositive(x - lse);
    }
}

impl OutputLoss {
    /// The logits of rows `start..start + len` of `h`: one matrix product by candle's CPU backend.
    fn logits(
        &self,
        h: (&CpuStorage, &Layout),
        w: (&CpuStorage, &Layout),
        start: usize,
        len: usize,
    ) -> Result<Vec<f32>> {
        let (_, dim) = h.1.shape().dims2()?;
        let (v, _) = w.1.shape().dims2()?;
        let rows = h.1.narrow(0, start, len)?;
        let wt = w.1.transpose(0, 1)?;
        match h.0.matmul(w.0, (1, len, v, dim), &rows, &wt)? {
            CpuStorage::F32(l) => Ok(l),
            _ => candle_core::bail!("output loss: f32 logits expected"),
        }
    }
}

impl CustomOp2 for OutputLoss {
    fn name(&self) -> &'static str {
        "output-softmax-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let ((n, dim), (v, wdim)) = (l1.shape().dims2()?, l2.shape().dims2()?);
        if dim != wdim {
            candle_core::bail!("output loss: hidden width {dim}, output matrix width {wdim}");
        }
        check_targets(&self.targets, n, v)?;
        let mut losses = Vec::with_capacity(n);
        let mut kept = Vec::new();
        for start in (0..n).step_by(self.block_rows) {
            let len = self.block_rows.min(n - start);
            let logits = self.logits((s1, l1), (s2, l2), start, len)?;
            let t = &self.targets[start..start + len];
            let block: Vec<f32> = logits
                .par_chunks(v)
                .zip(t.par_iter())
                .map(|(row, &t)| log_sum_exp(row) - row[t as usize])
                .collect();
            losses.extend(block);
            kept.push(Tensor::from_vec(logits, (len, v), &Device::Cpu)?);
        }
        *self.logits.lock().unwrap_or_else(|e| e.into_inner()) = kept;
        Ok((CpuStorage::F32(losses), Shape::from(n)))
    }

    fn bwd(
        &self,
        h: &Tensor,
        w: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let blocks = std::mem::take(&mut *self.logits.lock().unwrap_or_else(|e| e.into_inner()));
        if blocks.is_empty() {
            candle_core::bail!("output loss: backward pass without its forward pass's logits");
        }
        let (res, grad_res) = (res.contiguous()?, grad_res.contiguous()?);
        let (mut grad_h, mut grad_w) = (Vec::with_capacity(blocks.len()), None::<Tensor>);
        let mut start = 0;
        for logits in blocks {
            let len = logits.dim(0)?;
            let grad = SoftmaxCrossEntropyGrad {
                targets: &self.targets[start..start + len],
            };
            let g = logits.apply_op3_no_bwd(
                &res.narrow(0, start, len)?,
                &grad_res.narrow(0, start, len)?,
                &grad,
            )?;
            grad_h.push(g.matmul(w)?);
            let gw = g.t()?.matmul(&h.narrow(0, start, len)?)?;
            grad_w = Some(match grad_w {
                Some(acc) => (acc + gw)?,
                None => gw,
            });
            start += len;
        }
        Ok((Some(Tensor::cat(&grad_h, 0)?), grad_w))
    }
}

impl CustomOp3 for SoftmaxCrossEntropyGrad<'_> {
    fn name(&self) -> &'static str {
        "softmax-cross-entropy-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, rows, v) = matrix(s1, l1)?;
        let losses = vector(s2, l2, rows)?;
        let grads = vector(s3, l3, rows)?;
        check_targets(self.targets, rows, v)?;
        let mut out = vec![0f32; rows * v];
        out.par_chunks_mut(v)
            .zip(x.par_chunks(v))
            .enumerate()
            .for_each(|(i, (o, row))| {
                let t = self.targets[i] as usize;
                let lse = losses[i] + row[t];
                scaled_softmax(row, lse, grads[i], o);
                o[t] -= grads[i];
            });
        Ok((CpuStorage::F32(out), Shape::from((rows, v))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    fn spread(n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|k| ((k * 7919 % 1000) as f32 / 500.0 - 1.0) * scale * (1 + k % 3) as f32)
            .collect()
    }

    /// Losses and the gradients of `h` and `W` equal candle's composed cross-entropy over
    /// `h · Wᵀ`, with blocks of 3 rows over 7 (the last one short) and a weighted sum of the rows.
    #[test]
    fn matches_candles_cross_entropy_and_its_gradients() {
        let dev = Device::Cpu;
        let (rows, v, dim) = (7, 300, 8);
        let targets = Tensor::new(&[0u32, 299, 5, 17, 150, 3, 42], &dev).unwrap();
        let weights = Tensor::new(&[1f32, 2., 0.5, 3., 1., 0., 4.], &dev).unwrap();
        let run = |fused: bool| {
            let h = Var::from_vec(spread(rows * dim, 2.0), (rows, dim), &dev).unwrap();
            let w = Var::from_vec(spread(v * dim, 1.5), (v, dim), &dev).unwrap();
            let per_row = if fused {
                output_loss_in_blocks(h.as_tensor(), w.as_tensor(), &targets, 3).unwrap()
            } else {
                let logits = h.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap();
                let lp = candle_nn::ops::log_softmax(&logits, 1).unwrap();
                let picked = lp.gather(&targets.unsqueeze(1).unwrap(), 1).unwrap();
                picked.squeeze(1).unwrap().neg().unwrap()
            };
            let total = (per_row.clone() * &weights).unwrap().sum_all().unwrap();
            let mut grads = total.backward().unwrap();
            let flat = |t: Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let gh = flat(grads.remove(h.as_tensor()).unwrap());
            let gw = flat(grads.remove(w.as_tensor()).unwrap());
            (per_row.to_vec1::<f32>().unwrap(), gh, gw)
        };
        let (loss, gh, gw) = run(true);
        let (want_loss, want_gh, want_gw) = run(false);
        let close = crate::lm::fused::assert_close;
        close("loss", &loss, &want_loss, 1e-4, 0.1);
        close("gradient of h", &gh, &want_gh, 1e-4, 0.1);
        close("gradient of W", &gw, &want_gw, 1e-4, 0.1);
    }

    #[test]
    fn a_target_outside_the_vocabulary_is_an_error() {
        let h = Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let w = Tensor::zeros((4, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let t = Tensor::new(&[1u32, 4], &Device::Cpu).unwrap();
        assert!(output_loss(&h, &w, &t).is_err());
    }
}
