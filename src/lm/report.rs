//! The comparison's outputs: a side-by-side perplexity table, a CSV, and the curves to plot.

use super::ArmResult;
use crate::atomic;
use crate::Result;
use std::fmt::Write as _;
use std::path::Path;

/// Validation perplexity per evaluated step (rows) and arm (columns), then, for each arm other
/// than `random`, the first evaluated step at which `random` is at least as good as that arm's
/// final perplexity: how long random initialisation needs to catch up.
pub fn table(results: &[ArmResult]) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:>6}", "step");
    for r in results {
        let _ = write!(out, " {:>12}", r.arm.name);
    }
    out.push('\n');
    let steps: Vec<usize> = results
        .first()
        .map(|r| r.metrics.iter().map(|m| m.step).collect())
        .unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let _ = write!(out, "{step:>6}");
        for r in results {
            match r.metrics.get(i) {
                Some(m) => {
                    let _ = write!(out, " {:>12.2}", m.valid_ppl);
                }
                None => {
                    let _ = write!(out, " {:>12}", "-");
                }
            }
        }
        out.push('\n');
    }
    let _ = write!(out, "{:>6}", "tok/s");
    for r in results {
        let tps = r.metrics.last().map_or(0.0, |m| m.tokens_per_s);
        let _ = write!(out, " {tps:>12.0}");
    }
    out.push('\n');
    if let Some(random) = results.iter().find(|r| r.arm.init.is_none()) {
        for r in results.iter().filter(|r| r.arm.init.is_some()) {
            let Some(target) = r.metrics.last() else {
                continue;
            };
            let caught = random
                .metrics
                .iter()
                .find(|m| m.valid_ppl <= target.valid_ppl)
                .map(|m| m.step);
            let _ = match caught {
                Some(step) => writeln!(
                    out,
                    "random reaches {}'s final perplexity ({:.2}) at step {step}",
                    r.arm.name, target.valid_ppl
                ),
                None => writeln!(
                    out,
                    "random does not reach {}'s final perplexity ({:.2}) within {} steps",
                    r.arm.name, target.valid_ppl, target.step
                ),
            };
        }
    }
    out
}

/// `arm,step,train_loss,valid_loss,valid_ppl,tokens_per_s,seconds`.
pub fn write_csv(path: &Path, results: &[ArmResult]) -> Result<()> {
    atomic::write_file(path, |f| {
        use std::io::Write;
        writeln!(
            f,
            "arm,step,train_loss,valid_loss,valid_ppl,tokens_per_s,seconds"
        )?;
        for r in results {
            for m in &r.metrics {
                writeln!(
                    f,
                    "{},{},{:.5},{:.5},{:.3},{:.1},{:.1}",
                    r.arm.name,
                    m.step,
                    m.train_loss,
                    m.valid_loss,
                    m.valid_ppl,
                    m.tokens_per_s,
                    m.seconds
                )?;
            }
        }
        Ok(())
    })
}

/// (arm, [(step, perplexity)]) for the plot.
pub fn series(results: &[ArmResult]) -> Vec<super::plot::Series> {
    results
        .iter()
        .map(|r| {
            let pts = r
                .metrics
                .iter()
                .map(|m| (m.step as f64, m.valid_ppl))
                .collect();
            (r.arm.name.clone(), pts)
        })
        .collect()
}
