//! Validation-perplexity curves of several runs in one PNG.
//!
//! Text is drawn with a font compiled into the binary (Ubuntu Light, shipped by egui's
//! `epaint_default_fonts`) through plotters' pure-Rust `ab_glyph` path: no fontconfig, no system
//! fonts, so the plot looks the same on every machine and the build needs only the Rust toolchain.

use crate::atomic::TempPath;
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

const SIZE: (u32, u32) = (960, 600);

/// The family name the chart asks for; bound to the embedded font once per process.
const FONT: &str = "sans-serif";

fn register_font() -> Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
            .is_ok()
    });
    match ok {
        true => Ok(()),
        false => Err(Error::Invalid(
            "the embedded plot font could not be read".into(),
        )),
    }
}

/// One curve: its name and its (step, perplexity) points. A step that appears several times (runs
/// of several seeds, e.g. their `compare.csv` files concatenated) is drawn as the median of its
/// values with a band from their minimum to their maximum.
pub type Series = (String, Vec<(f64, f64)>);

/// Okabe and Ito's colour-blind-safe palette, without its yellow (unreadable on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// A series reduced to one (step, median, min, max) per step, in step order; non-finite values
/// are left out.
struct Summary {
    name: String,
    points: Vec<(f64, f64, f64, f64)>,
}

fn summarise(series: &[Series]) -> Vec<Summary> {
    series
        .iter()
        .map(|(name, pts)| {
            let mut by_step: Vec<(f64, Vec<f64>)> = Vec::new();
            for &(x, y) in pts.iter().filter(|(_, y)| y.is_finite()) {
                match by_step.iter_mut().find(|(s, _)| *s == x) {
                    Some((_, v)) => v.push(y),
                    None => by_step.push((x, vec![y])),
                }
            }
            by_step.sort_by(|a, b| a.0.total_cmp(&b.0));
            let points = by_step
                .into_iter()
                .map(|(x, mut v)| {
                    v.sort_by(f64::total_cmp);
                    let n = v.len();
                    let median = if n % 2 == 1 {
                        v[n / 2]
                    } else {
                        (v[n / 2 - 1] + v[n / 2]) / 2.0
                    };
                    (x, median, v[0], v[n - 1])
                })
                .collect();
            Summary {
                name: name.clone(),
                points,
            }
        })
        .collect()
}

/// Ticks at 1, 2 and 5 times each power of ten inside the range; where that gives fewer than
/// three (a range of less than a decade or so), at 1, 1.5 and every multiple 2..9 of the powers
/// (1.5, so that a range from just above 100 is not unlabelled up to 200), and failing that at the
/// range's own ends, so that a log axis always has labels.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let within = |mults: &[f64]| {
        let mut ticks = Vec::new();
        let mut p = 10f64.powf(lo.log10().floor());
        while p <= hi {
            ticks.extend(mults.iter().map(|m| p * m).filter(|t| *t >= lo && *t <= hi));
            p *= 10.0;
        }
        ticks
    };
    let coarse = within(&[1.0, 2.0, 5.0]);
    if coarse.len() >= 3 {
        return coarse;
    }
    let fine = within(&[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if fine.len() >= 2 {
        return fine;
    }
    vec![lo, hi]
}

/// Draws one curve per series on a log-scale perplexity axis, renders in memory and writes the
/// PNG atomically. The axis spans the values after the first point of each run: a start far
/// above the rest (raw vectors can start at 10^6) would flatten the curves that matter, so such a
/// point is drawn at the top edge as a triangle labelled with its value.
pub fn perplexity_curves(path: &Path, title: &str, series: &[Series]) -> Result<()> {
    let curves = summarise(series);
    let (mut x_max, mut y_min, mut y_max) = (1f64, f64::INFINITY, 0f64);
    for c in &curves {
        for (k, &(x, _, lo, hi)) in c.points.iter().enumerate() {
            x_max = x_max.max(x);
            y_min = y_min.min(lo);
            if k > 0 || c.points.len() == 1 {
                y_max = y_max.max(hi);
            }
        }
    }
    if !y_max.is_finite() || y_max <= 0.0 {
        return Err(Error::Invalid("no finite perplexity to plot".into()));
    }
    register_font()?;
    let mut buf = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
    let runs = series
        .iter()
        .flat_map(|(_, pts)| {
            let first = pts.first().map(|p| p.0);
            Some(pts.iter().filter(|p| Some(p.0) == first).count())
        })
        .max()
        .unwrap_or(1);
    let title = match runs {
        1 => title.to_string(),
        n => format!("{title}: median of {n} runs, band from min to max"),
    };
    draw(&mut buf, &title, &curves, x_max, y_min * 0.9, y_max * 1.5)
        .map_err(|e| Error::bad_file(path, format!("cannot draw the plot: {e}")))?;
    let tmp = TempPath::for_target(path);
    let file = std::fs::File::create(tmp.path()).map_err(|e| Error::io(path, e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), SIZE.0, SIZE.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let png_error = |e: png::EncodingError| Error::bad_file(path, e.to_string());
    let mut w = enc.write_header().map_err(png_error)?;
    w.write_image_data(&buf).map_err(png_error)?;
    w.finish().map_err(png_error)?;
    tmp.persist()
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw(
    buf: &mut [u8],
    title: &str,
    curves: &[Summary],
    x_max: f64,
    y_lo: f64,
    y_hi: f64,
) -> DrawResult {
    let root = BitMapBackend::with_buffer(buf, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let y_axis = (y_lo..y_hi)
        .log_scale()
        .with_key_points(log_ticks(y_lo, y_hi));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..x_max * 1.02, y_axis)?;
    chart
        .configure_mesh()
        .x_desc("training step")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| thousands(*y))
        .y_desc("validation perplexity (log scale)")
        .label_style((FONT, 15))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;
    let clip = |y: f64| y.min(y_hi);
    for (i, c) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if c.points.iter().any(|p| p.2 < p.3) {
            let upper = c.points.iter().map(|&(x, _, _, hi)| (x, clip(hi)));
            let lower = c.points.iter().rev().map(|&(x, _, lo, _)| (x, clip(lo)));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                color.mix(0.3).filled(),
            )))?;
        }
        let (kept, clipped): (Vec<_>, Vec<_>) = c.points.iter().partition(|p| p.1 <= y_hi);
        // Off-scale values are named in the legend: text beside the marker would sit on the
        // curves, which fall steeply from there.
        let off: Vec<String> = clipped
            .iter()
            .map(|&&(x, m, _, _)| format!("{} at step {x:.0}", thousands(m)))
            .collect();
        let label = match off.is_empty() {
            true => c.name.clone(),
            false => format!("{} (off scale: {})", c.name, off.join(", ")),
        };
        let line: Vec<(f64, f64)> = c.points.iter().map(|&(x, m, _, _)| (x, clip(m))).collect();
        chart
            .draw_series(LineSeries::new(line.iter().copied(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
        chart.draw_series(
            kept.iter()
                .map(|&&(x, m, _, _)| Circle::new((x, m), 4, color.filled())),
        )?;
        chart.draw_series(
            clipped
                .iter()
                .map(|&&(x, _, _, _)| TriangleMarker::new((x, y_hi), 8, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()?;
    root.present()?;
    Ok(())
}

/// A value as an integer with thousands separators (perplexities of 1 to 10^9).
fn thousands(y: f64) -> String {
    let digits = format!("{:.0}", y.max(0.0));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Reads the `arm,step,...,valid_ppl,...` rows of a `compare.csv` back into plot series.
pub fn series_from_csv(path: &Path) -> Result<Vec<Series>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out: Vec<Series> = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || Error::Format {
            path: path.to_path_buf(),
            line: i as u64 + 1,
            msg: "expected arm,step,train_loss,valid_loss,valid_ppl,...".into(),
        };
        if f.len() < 5 {
            return Err(bad());
        }
        let step: f64 = f[1].parse().map_err(|_| bad())?;
        let ppl: f64 = f[4].parse().map_err(|_| bad())?;
        match out.iter_mut().find(|(n, _)| n == f[0]) {
            Some((_, pts)) => pts.push((step, ppl)),
            None => out.push((f[0].to_string(), vec![(step, ppl)])),
        }
    }
    if out.is_empty() {
        return Err(Error::bad_file(path, "no rows to plot"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_steps_become_median_and_range_in_step_order() {
        let series = vec![(
            "a".to_string(),
            vec![
                (10.0, 5.0),
                (0.0, 9.0),
                (10.0, 1.0),
                (10.0, 3.0),
                (0.0, f64::NAN),
                (0.0, 7.0),
            ],
        )];
        let s = summarise(&series);
        assert_eq!(
            s[0].points,
            vec![(0.0, 8.0, 7.0, 9.0), (10.0, 3.0, 1.0, 5.0)]
        );
    }

    #[test]
    fn log_axis_ticks_and_labels_are_readable() {
        assert_eq!(
            log_ticks(150.0, 7_000.0),
            vec![200.0, 500.0, 1_000.0, 2_000.0, 5_000.0]
        );
        assert_eq!(
            log_ticks(150.0, 700.0),
            vec![150.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0]
        );
        assert_eq!(
            log_ticks(102.5, 707.0),
            vec![150.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0]
        );
        assert_eq!(log_ticks(101.0, 180.0), vec![101.0, 180.0]);
        assert_eq!(thousands(977_889.4), "977,889");
        assert_eq!(thousands(6_238.0), "6,238");
        assert_eq!(thousands(155.5), "156");
    }
}
