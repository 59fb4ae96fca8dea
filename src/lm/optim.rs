//! AdamW whose state can be saved and restored. candle-nn's `AdamW` keeps its moments private,
//! so a run restarted from a checkpoint would begin with zero moments and a reset bias
//! correction: a different run. This one follows the same update (decoupled weight decay, bias
//! correction), with named moments written beside the weights.

use crate::Result;
use candle_core::{backprop::GradStore, Tensor, Var};
use std::collections::HashMap;

pub struct AdamW {
    vars: Vec<(String, Var, Var, Var)>,
    pub step: usize,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamW {
    pub fn new(vars: Vec<(String, Var)>, lr: f64, weight_decay: f64) -> Result<AdamW> {
        let vars = vars
            .into_iter()
            .map(|(name, v)| {
                let m = Var::zeros(v.shape(), v.dtype(), v.device())?;
                let s = Var::zeros(v.shape(), v.dtype(), v.device())?;
                Ok((name, v, m, s))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(AdamW {
            vars,
            step: 0,
            lr,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay,
        })
    }

    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let scale_m = 1.0 / (1.0 - b1.powi(self.step as i32));
        let scale_v = 1.0 / (1.0 - b2.powi(self.step as i32));
        for (_, theta, m, v) in &self.vars {
            let Some(g) = grads.get(theta.as_tensor()) else {
                continue;
            };
            let next_m = ((m.as_tensor() * b1)? + (g * (1.0 - b1))?)?;
            let next_v = ((v.as_tensor() * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let adjusted = ((&next_m * scale_m)? / ((&next_v * scale_v)?.sqrt()? + self.eps)?)?;
            let decayed = (theta.as_tensor() * (1.0 - self.lr * self.weight_decay))?;
            theta.set(&(decayed - (adjusted * self.lr)?)?)?;
            m.set(&next_m)?;
            v.set(&next_v)?;
        }
        Ok(())
    }

    /// The moments as `PREFIX.m.NAME` / `PREFIX.v.NAME` tensors.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        self.vars
            .iter()
            .flat_map(|(name, _, m, v)| {
                [
                    (format!("{prefix}.m.{name}"), m.as_tensor().clone()),
                    (format!("{prefix}.v.{name}"), v.as_tensor().clone()),
                ]
            })
            .collect()
    }

    /// Restores what `state` wrote; every moment must be there with its variable's shape.
    pub fn load_state(
        &mut self,
        prefix: &str,
        step: usize,
        saved: &HashMap<String, Tensor>,
    ) -> Result<()> {
        for (name, theta, m, v) in &self.vars {
            for (kind, var) in [("m", m), ("v", v)] {
                let key = format!("{prefix}.{kind}.{name}");
                let t = saved
                    .get(&key)
                    .ok_or_else(|| crate::Error::Invalid(format!("optimizer state lacks {key}")))?;
                if t.dims() != theta.dims() {
                    return Err(crate::Error::Invalid(format!(
                        "optimizer state {key} has shape {:?}, expected {:?}",
                        t.dims(),
                        theta.dims()
                    )));
                }
                var.set(t)?;
            }
        }
        self.step = step;
        Ok(())
    }
}
