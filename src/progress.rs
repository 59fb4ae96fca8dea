//! Progress on stderr. Workers only touch atomics; indicatif redraws at its own pace, so reporting
//! costs the hot loops nothing measurable.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A progress bar whose position is input bytes (for percent and ETA) and which also counts items
/// (tokens, words) so it can show their rate.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    items: Arc<AtomicU64>,
}

impl Progress {
    /// A progress that never draws, for tests, benches and `--quiet`.
    pub fn hidden() -> Self {
        Progress {
            bar: None,
            items: Arc::new(AtomicU64::new(0)),
        }
    }

    /// `total` is the number of input bytes when it is known (files), `None` for stdin.
    pub fn bytes(quiet: bool, label: &str, total: Option<u64>, item_name: &'static str) -> Self {
        if quiet {
            return Self::hidden();
        }
        let items = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let counter = items.clone();
        let rate = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let n = counter.load(Ordering::Relaxed) as f64;
            let secs = start.elapsed().as_secs_f64().max(1e-3);
            let _ = write!(w, "{} {item_name}/s", human(n / secs));
        };
        let template = match total {
            Some(_) => "{prefix} [{bar:30}] {percent:>3}% {bytes}/{total_bytes} {binary_bytes_per_sec} {rate} ETA {eta}",
            None => "{prefix} {spinner} {bytes} {binary_bytes_per_sec} {rate} {elapsed}",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("rate", rate)
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4));
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            items,
        }
    }

    /// A bar over words trained: percent, words/s per thread, ETA, and the learning rate (set
    /// through [`Progress::set_message`]).
    pub fn words(quiet: bool, label: &str, total_words: u64, threads: usize) -> Self {
        if quiet {
            return Self::hidden();
        }
        let threads = threads.max(1) as f64;
        let rate = move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let secs = s.elapsed().as_secs_f64().max(1e-3);
            let _ = write!(
                w,
                "{} words/s/thread",
                human(s.pos() as f64 / secs / threads)
            );
        };
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {percent:>3}% {rate} lr {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", rate)
        .progress_chars("=> ");
        let bar =
            ProgressBar::with_draw_target(Some(total_words), ProgressDrawTarget::stderr_with_hz(4));
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            items: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn set_message(&self, msg: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
        }
    }

    pub fn inc(&self, bytes: u64, items: u64) {
        self.items.fetch_add(items, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Prints a line above the bar (or plainly when there is none, unless hidden).
    pub fn note(&self, msg: &str) {
        if let Some(bar) = &self.bar {
            bar.println(msg);
        }
    }
}

/// 1234567 -> "1.23M": rates in a bar need three significant digits, not exact counts.
pub fn human(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
