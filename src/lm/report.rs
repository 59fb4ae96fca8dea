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

/// One paragraph computed from the results: which arm ends with the lowest validation
/// perplexity, by how much it beats the next one, where each arm was at its best (an arm whose
/// best is before its last evaluation has started to overfit), and when random initialisation
/// catches up with the winner, if it does.
pub fn verdict(results: &[ArmResult]) -> String {
    let finals: Vec<(&ArmResult, &super::Metric)> = results
        .iter()
        .filter_map(|r| r.metrics.last().map(|m| (r, m)))
        .filter(|(_, m)| m.valid_ppl.is_finite())
        .collect();
    let Some(&(winner, wm)) = finals
        .iter()
        .min_by(|a, b| a.1.valid_ppl.total_cmp(&b.1.valid_ppl))
    else {
        return "No arm has a finite final perplexity, so there is no verdict.".into();
    };
    let mut out = format!(
        "{} wins: validation perplexity {:.2} at step {}",
        winner.arm.name, wm.valid_ppl, wm.step
    );
    let runner = finals
        .iter()
        .filter(|(r, _)| !std::ptr::eq(*r, winner))
        .min_by(|a, b| a.1.valid_ppl.total_cmp(&b.1.valid_ppl));
    if let Some((r, m)) = runner {
        let _ = write!(
            out,
            ", {:.1}% below {} ({:.2})",
            100.0 * (1.0 - wm.valid_ppl / m.valid_ppl),
            r.arm.name,
            m.valid_ppl
        );
    }
    out.push('.');
    for (r, last) in &finals {
        let best = r
            .metrics
            .iter()
            .filter(|m| m.valid_ppl.is_finite())
            .min_by(|a, b| a.valid_ppl.total_cmp(&b.valid_ppl));
        if let Some(b) = best.filter(|b| b.step < last.step) {
            let _ = write!(
                out,
                " {} was best at step {} ({:.2}) and rose to {:.2} by step {}: it overfits.",
                r.arm.name, b.step, b.valid_ppl, last.valid_ppl, last.step
            );
        }
    }
    if let Some(random) = results
        .iter()
        .find(|r| r.arm.init.is_none() && !std::ptr::eq(*r, winner))
    {
        let _ = match random.metrics.iter().find(|m| m.valid_ppl <= wm.valid_ppl) {
            Some(m) => write!(
                out,
                " {} reaches the winner's final perplexity at step {}.",
                random.arm.name, m.step
            ),
            None => write!(
                out,
                " {} does not reach it within {} steps (it ends at {:.2}).",
                random.arm.name,
                random.metrics.last().map_or(0, |m| m.step),
                random.metrics.last().map_or(f64::NAN, |m| m.valid_ppl)
            ),
        };
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
