//! GELU (tanh form, as candle's `gelu`) as one operation, forward and backward.
//!
//! candle's backward pass for `gelu` is eleven tensor operations (two `powf`, a `tanh`, sums and
//! products), each a pass over the MLP's [tokens, 4·dim] activations with its own allocation, and
//! its `tanh` is a libm call per element. Here both directions are one pass each, in arithmetic
//! that vectorizes; the backward pass recomputes the `tanh` from the input instead of keeping it.

use super::fused::contiguous_f32;
use crate::kernels::exp_nonpositive;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// √(2/π), as candle's constant.
const K: f32 = 0.797_884_6;
const C: f32 = 0.044_715;
/// Elements per parallel task: large enough that a task outweighs its scheduling.
const CHUNK: usize = 1 << 14;

/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, differentiable. On a device other than the CPU
/// it is candle's own `gelu`.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return x.gelu();
    }
    x.contiguous()?.apply_op1(Gelu)
}

struct Gelu;
struct GeluGrad;

/// tanh through e^(−2|u|) ≤ 1, so that the shared exponential applies; absolute error below 1e-7.
#[inline(always)]
fn tanh(u: f32) -> f32 {
    let e = exp_nonpositive(-2.0 * u.abs());
    ((1.0 - e) / (1.0 + e)).copysign(u)
}

#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn forward(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = 0.5 * v * (1.0 + tanh(K * v * (1.0 + C * v * v)));
    }
}

/// `out = g · d gelu(x) / dx`.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn backward(x: &[f32], g: &[f32], out: &mut [f32]) {
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(g) {
        let t = tanh(K * v * (1.0 + C * v * v));
        let du = K * (1.0 + 3.0 * C * v * v);
        *o = g * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du);
    }
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-fused"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s, l, "gelu")?;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| forward(x, o));
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&grad.contiguous()?, &GeluGrad)?))
    }
}

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "gelu-fused-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, g) = (
            contiguous_f32(s1, l1, "gelu")?,
            contiguous_f32(s2, l2, "gelu")?,
        );
        if x.len() != g.len() {
            candle_core::bail!("gelu gradient of {} values for {}", g.len(), x.len());
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|(o, (x, g))| backward(x, g, o));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Values and gradients equal candle's `gelu` over [−10, 10], through a weighted sum.
    #[test]
    fn matches_candles_gelu_and_its_gradient() {
        let dev = Device::Cpu;
        let n = 40_001;
        let data: Vec<f32> = (0..n)
            .map(|i| -10.0 + 20.0 * i as f32 / (n - 1) as f32)
            .collect();
        let w: Vec<f32> = (0..n).map(|i| 1.0 + (i % 7) as f32).collect();
        let w = Tensor::from_vec(w, (1, n), &dev).unwrap();
        let run = |fused: bool| {
            let x = Var::from_vec(data.clone(), (1, n), &dev).unwrap();
            let y = if fused {
                gelu(x.as_tensor())
            } else {
                x.as_tensor().gelu()
            }
            .unwrap();
            let total = (&y * &w).unwrap().sum_all().unwrap();
            let g = total.backward().unwrap().remove(x.as_tensor()).unwrap();
            (
                y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                g.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            )
        };
        let ((y, g), (want_y, want_g)) = (run(true), run(false));
        super::super::fused::assert_close("gelu", &y, &want_y, 1e-6, 1.0);
        super::super::fused::assert_close("gradient", &g, &want_g, 1e-5, 1.0);
    }
}
