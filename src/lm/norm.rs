//! LayerNorm and bias addition as single operations, forward and backward.
//!
//! candle's differentiable `layer_norm_slow` is nine tensor operations, and every broadcast of a
//! per-column vector (LayerNorm's gain and bias, a linear layer's bias, the learned positions)
//! sums its gradient over the leading dimensions with candle's strided reduction, which profiled
//! at about a tenth of a training step. Here each is one pass forward and one backward; the
//! backward pass of LayerNorm recomputes each row's mean and deviation instead of keeping them.

use super::fused::contiguous_f32;
use crate::kernels::axpy;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};

/// `gain · (x − mean) / sqrt(var + eps) + bias` over the last dimension of `x`, differentiable
/// with respect to all three. On a device other than the CPU it is candle's `layer_norm_slow`.
pub fn layer_norm(x: &Tensor, gain: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return candle_nn::ops::layer_norm_slow(x, gain, bias, eps);
    }
    x.contiguous()?.apply_op3(gain, bias, LayerNorm { eps })
}

/// `x + bias`, the bias repeated over every leading index of `x` (its shape is `x`'s trailing
/// dimensions), differentiable with respect to both.
pub fn add_bias(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return x.broadcast_add(bias);
    }
    x.contiguous()?.apply_op2(&bias.contiguous()?, AddBias)
}

struct LayerNorm {
    eps: f32,
}

struct AddBias;

/// Mean and 1/sqrt(var + eps) of a row.
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// Column sums of a [rows, cols] gradient, as a tensor of `shape`.
fn column_sums(g: &Tensor, cols: usize, shape: &Shape) -> Result<Tensor> {
    let g = g.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    let mut acc = vec![0f32; cols];
    for row in g.chunks_exact(cols) {
        axpy(1.0, row, &mut acc);
    }
    Tensor::from_vec(acc, shape, &candle_core::Device::Cpu)
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "layer-norm-fused"
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
        let op = "layer norm";
        let (x, gain, bias) = (
            contiguous_f32(s1, l1, op)?,
            contiguous_f32(s2, l2, op)?,
            contiguous_f32(s3, l3, op)?,
        );
        let d = gain.len();
        if d == 0 || bias.len() != d || l1.dims().last() != Some(&d) {
            candle_core::bail!(
                "layer norm: gain {d}, bias {} for {:?}",
                bias.len(),
                l1.dims()
            );
        }
        let mut out = vec![0f32; x.len()];
        for (o, row) in out.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
            let (mean, inv) = moments(row, self.eps);
            for j in 0..d {
                o[j] = gain[j] * ((row[j] - mean) * inv) + bias[j];
            }
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gain: &Tensor,
        _bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = gain.elem_count();
        let xs = x.flatten_all()?.to_vec1::<f32>()?;
        let gs = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let gain_v = gain.flatten_all()?.to_vec1::<f32>()?;
        let (mut dx, mut dgain) = (vec![0f32; xs.len()], vec![0f32; d]);
        let mut dxhat = vec![0f32; d];
        for ((o, row), g) in dx
            .chunks_exact_mut(d)
            .zip(xs.chunks_exact(d))
            .zip(gs.chunks_exact(d))
        {
            let (mean, inv) = moments(row, self.eps);
            let (mut m1, mut m2) = (0f32, 0f32);
            for j in 0..d {
                let xhat = (row[j] - mean) * inv;
                dgain[j] += g[j] * xhat;
                dxhat[j] = g[j] * gain_v[j];
                m1 += dxhat[j];
                m2 += dxhat[j] * xhat;
            }
            let (m1, m2) = (m1 / d as f32, m2 / d as f32);
            for j in 0..d {
                let xhat = (row[j] - mean) * inv;
                o[j] = inv * (dxhat[j] - m1 - xhat * m2);
            }
        }
        let dev = x.device();
        let dx = Tensor::from_vec(dx, x.shape(), dev)?;
        let dgain = Tensor::from_vec(dgain, gain.shape(), dev)?;
        let dbias = column_sums(grad, d, gain.shape())?;
        Ok((Some(dx), Some(dgain), Some(dbias)))
    }
}

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "add-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (
            contiguous_f32(s1, l1, "add bias")?,
            contiguous_f32(s2, l2, "add bias")?,
        );
        let dims = l1.dims();
        if b.is_empty() || !dims.ends_with(l2.dims()) {
            candle_core::bail!("add bias: {:?} to {dims:?}", l2.dims());
        }
        let mut out = x.to_vec();
        for row in out.chunks_exact_mut(b.len()) {
            axpy(1.0, b, row);
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let db = column_sums(grad, bias.elem_count(), bias.shape())?;
        Ok((Some(grad.clone()), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn var(shape: &[usize], seed: usize) -> Var {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|k| (((k + seed) * 7919 % 1000) as f32 / 250.0 - 2.0) * (1 + k % 3) as f32)
            .collect();
        Var::from_vec(data, shape, &Device::Cpu).unwrap()
    }

    fn close(name: &str, got: &Tensor, want: &Tensor) {
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        crate::lm::fused::assert_close(name, &flat(got), &flat(want), 1e-4, 0.01);
    }

    /// Values and every gradient equal candle's composed forms, through a weighted sum.
    #[test]
    fn layer_norm_and_bias_match_candles_composed_forms() {
        let (x, gain, bias) = (var(&[3, 5, 16], 1), var(&[16], 2), var(&[16], 3));
        let w = var(&[3, 5, 16], 4).as_tensor().detach();
        let pos = var(&[5, 16], 5);
        let run = |fused: bool| {
            let (x, g, b, p) = (
                x.as_tensor(),
                gain.as_tensor(),
                bias.as_tensor(),
                pos.as_tensor(),
            );
            let y = if fused {
                add_bias(&layer_norm(x, g, b, 1e-5).unwrap(), p).unwrap()
            } else {
                let n = candle_nn::ops::layer_norm_slow(x, g, b, 1e-5).unwrap();
                n.broadcast_add(p).unwrap()
            };
            let grads = (&y * &w).unwrap().sum_all().unwrap().backward().unwrap();
            let gs: Vec<Tensor> = [x, g, b, p]
                .iter()
                .map(|t| grads.get(t).unwrap().clone())
                .collect();
            (y, gs)
        };
        let ((y, gs), (want_y, want_gs)) = (run(true), run(false));
        close("value", &y, &want_y);
        for (name, (a, b)) in ["x", "gain", "bias", "bias added"]
            .iter()
            .zip(gs.iter().zip(&want_gs))
        {
            close(name, a, b);
        }
    }
}
