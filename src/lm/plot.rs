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

/// One curve: its name and its (step, perplexity) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Draws one line per `(name, [(step, perplexity)])` on a log-scale perplexity axis, renders in
/// memory and writes the PNG atomically. The axis spans the values after the first point of each
/// run: a start far above the rest (raw vectors can start at 10^9) is drawn at the top edge, so
/// that it does not flatten the curves that matter.
pub fn perplexity_curves(path: &Path, title: &str, series: &[Series]) -> Result<()> {
    let (mut x_max, mut y_min, mut y_max) = (1f64, f64::INFINITY, 0f64);
    for (_, pts) in series {
        for (k, &(x, y)) in pts.iter().enumerate() {
            if !y.is_finite() {
                continue;
            }
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            if k > 0 || pts.len() == 1 {
                y_max = y_max.max(y);
            }
        }
    }
    if !y_max.is_finite() || y_max <= 0.0 {
        return Err(Error::Invalid("no finite perplexity to plot".into()));
    }
    let y_max = y_max * 1.5;
    let clamped: Vec<Series> = series
        .iter()
        .map(|(n, pts)| {
            (
                n.clone(),
                pts.iter().map(|&(x, y)| (x, y.min(y_max))).collect(),
            )
        })
        .collect();
    let series = &clamped[..];
    register_font()?;
    let mut buf = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
    draw(&mut buf, title, series, x_max, y_min * 0.9, y_max)
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

fn draw(
    buf: &mut [u8],
    title: &str,
    series: &[Series],
    x_max: f64,
    y_min: f64,
    y_max: f64,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(buf, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x_max, (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("training step")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("validation perplexity")
        .draw()?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied().filter(|(_, y)| y.is_finite()),
                color.stroke_width(2),
            ))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
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
