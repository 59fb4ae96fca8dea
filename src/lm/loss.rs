//! Softmax cross-entropy over a block of logits as one operation, forward and backward.
//!
//! candle's `cross_entropy` is `log_softmax` then `gather`, built from six tensor operations whose
//! backward passes add as many again: about twenty passes over the [rows, V] logits, most of them
//! allocating a block-sized tensor. At V = 10k that elementwise work cost more than the output
//! layer's matrix products. Here the forward pass reads each row twice (its maximum, then the sum
//! of exponentials) and writes one loss per row; the backward pass writes `g · (softmax − onehot)`
//! in one pass, recovering each row's log-sum-exp from the forward result (`loss + x[target]`),
//! so nothing of size [rows, V] is kept but the logits themselves.

use crate::kernels::exp_nonpositive;
use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Per-row cross-entropy `logsumexp(x) − x[target]` of `logits` [rows, V] (f32) against
/// `targets` [rows] (u32), differentiable with respect to the logits. On a device other than the
/// CPU it is candle's composed form.
pub fn cross_entropy_rows(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if !logits.device().is_cpu() {
        let log_p = candle_nn::ops::log_softmax(logits, 1)?;
        return log_p.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?.neg();
    }
    let targets = targets.to_vec1::<u32>()?;
    logits.apply_op1(SoftmaxCrossEntropy { targets })
}

struct SoftmaxCrossEntropy {
    targets: Vec<u32>,
}

/// The backward pass: logits, forward losses and their gradient in, the logits' gradient out.
struct SoftmaxCrossEntropyGrad<'a> {
    targets: &'a [u32],
}

/// The [rows, V] f32 data of a contiguous tensor and its two dimensions.
fn matrix<'a>(s: &'a CpuStorage, l: &Layout) -> Result<(&'a [f32], usize, usize)> {
    let (rows, v) = l.shape().dims2()?;
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("softmax cross-entropy needs contiguous logits");
    };
    Ok((&s.as_slice::<f32>()?[start..end], rows, v))
}

/// The f32 data of a contiguous vector of `n` values.
fn vector<'a>(s: &'a CpuStorage, l: &Layout, n: usize) -> Result<&'a [f32]> {
    match l.contiguous_offsets() {
        Some((start, end)) if end - start == n => Ok(&s.as_slice::<f32>()?[start..end]),
        _ => candle_core::bail!("softmax cross-entropy: expected a contiguous vector of {n}"),
    }
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

impl CustomOp1 for SoftmaxCrossEntropy {
    fn name(&self) -> &'static str {
        "softmax-cross-entropy"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, rows, v) = matrix(s, l)?;
        check_targets(&self.targets, rows, v)?;
        let losses: Vec<f32> = x
            .par_chunks(v)
            .zip(self.targets.par_iter())
            .map(|(row, &t)| log_sum_exp(row) - row[t as usize])
            .collect();
        Ok((CpuStorage::F32(losses), Shape::from(rows)))
    }

    fn bwd(&self, logits: &Tensor, res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let grad = SoftmaxCrossEntropyGrad {
            targets: &self.targets,
        };
        let g = logits.apply_op3_no_bwd(&res.contiguous()?, &grad_res.contiguous()?, &grad)?;
        Ok(Some(g))
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
    use candle_core::{Device, Var};

    /// Loss and gradient equal candle's composed cross-entropy on logits with a wide spread.
    #[test]
    fn matches_candles_cross_entropy_and_its_gradient() {
        let dev = Device::Cpu;
        let (rows, v) = (7, 300);
        let data: Vec<f32> = (0..rows * v)
            .map(|k| ((k * 7919 % 1000) as f32 / 100.0 - 5.0) * (1 + k % 3) as f32)
            .collect();
        let targets = Tensor::new(&[0u32, 299, 5, 17, 150, 3, 42], &dev).unwrap();
        let weights = Tensor::new(&[1f32, 2., 0.5, 3., 1., 0., 4.], &dev).unwrap();
        let run = |fused: bool| {
            let x = Var::from_vec(data.clone(), (rows, v), &dev).unwrap();
            let per_row = if fused {
                cross_entropy_rows(x.as_tensor(), &targets).unwrap()
            } else {
                let lp = candle_nn::ops::log_softmax(x.as_tensor(), 1).unwrap();
                let picked = lp.gather(&targets.unsqueeze(1).unwrap(), 1).unwrap();
                picked.squeeze(1).unwrap().neg().unwrap()
            };
            let total = (per_row.clone() * &weights).unwrap().sum_all().unwrap();
            let g = total.backward().unwrap().remove(x.as_tensor()).unwrap();
            (
                per_row.to_vec1::<f32>().unwrap(),
                g.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            )
        };
        let (loss, grad) = run(true);
        let (want_loss, want_grad) = run(false);
        for (a, b) in loss.iter().zip(&want_loss) {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                "loss {a} against {b}"
            );
        }
        for (a, b) in grad.iter().zip(&want_grad) {
            assert!((a - b).abs() <= 1e-5, "gradient {a} against {b}");
        }
        assert!(
            grad.iter().any(|g| g.abs() > 0.1),
            "a gradient worth comparing"
        );
    }

    #[test]
    fn a_target_outside_the_vocabulary_is_an_error() {
        let x = Tensor::zeros((2, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
        let t = Tensor::new(&[1u32, 4], &Device::Cpu).unwrap();
        assert!(cross_entropy_rows(&x, &t).is_err());
    }
}
