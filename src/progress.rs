//! Progress on stderr. Workers only touch atomics; indicatif redraws at its own pace, so reporting
//! costs the hot loops nothing measurable. In a terminal progress is a bar; where stderr is not a
//! terminal (nohup, slurm, CI logs) it is a line every `--log-every` seconds, so a log shows how a
//! long run went.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seconds between progress lines when stderr is not a terminal (`--log-every`).
pub const LOG_EVERY_SECS: u64 = 10;

static LOG_EVERY: AtomicU64 = AtomicU64::new(LOG_EVERY_SECS);

/// Sets the interval of progress lines in logs; 0 turns them off.
pub fn set_log_every(secs: u64) {
    LOG_EVERY.store(secs, Ordering::Relaxed);
}

/// What one log line shows besides the label: computed from the bar's state.
type LineFn = dyn Fn(&ProgressBar) -> String + Send + Sync;

/// Prints `label line(bar)` every `--log-every` seconds until the bar is finished or dropped.
/// Only where stderr is not a terminal: there the bar itself draws nothing.
fn spawn_logger(bar: &ProgressBar, label: &str, line: Arc<LineFn>) {
    let every = LOG_EVERY.load(Ordering::Relaxed);
    if every == 0 || std::io::stderr().is_terminal() {
        return;
    }
    let weak = bar.downgrade();
    let label = label.to_string();
    let every = Duration::from_secs(every);
    std::thread::spawn(move || {
        let mut last = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let Some(bar) = weak.upgrade() else { return };
            if bar.is_finished() {
                return;
            }
            if last.elapsed() >= every {
                last = Instant::now();
                eprintln!("wembed: {label} {}", line(&bar));
            }
        }
    });
}

/// "37%" of a bar with a length, "" without one.
fn percent(bar: &ProgressBar) -> String {
    match bar.length() {
        Some(n) if n > 0 => format!("{:.0}%", 100.0 * bar.position() as f64 / n as f64),
        _ => String::new(),
    }
}

fn eta(bar: &ProgressBar) -> String {
    match bar.length() {
        Some(_) => format!(" ETA {}", indicatif::HumanDuration(bar.eta())),
        None => String::new(),
    }
}

/// The message (loss, learning rate...) with a leading space, or nothing.
fn message(bar: &ProgressBar) -> String {
    match bar.message() {
        m if m.is_empty() => String::new(),
        m => format!(" {m}"),
    }
}

/// A snapshot of a [`Progress`].
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Snapshot {
    /// Units done: bytes, words, records or steps.
    pub position: u64,
    /// Units in all, where known.
    pub total: Option<u64>,
    /// Items counted beside bytes (tokens read).
    pub items: u64,
    /// Seconds since the count began.
    pub seconds: f64,
    /// The trainer's message: loss, learning rate, iteration.
    pub message: String,
}

/// A progress bar whose position is input bytes (for percent and ETA) and which also counts items
/// (tokens, words) so it can show their rate.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    items: Arc<AtomicU64>,
    /// Where notes go instead of stderr (a watched progress's client).
    sink: Option<NoteSink>,
}

/// A client's receiver of a run's notes.
pub type NoteSink = Arc<dyn Fn(&str) + Send + Sync>;

impl Progress {
    /// A progress that never draws, for tests, benches and `--quiet`.
    pub fn hidden() -> Self {
        Progress {
            bar: None,
            items: Arc::new(AtomicU64::new(0)),
            sink: None,
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
        let counter = items.clone();
        spawn_logger(
            &bar,
            label,
            Arc::new(move |b: &ProgressBar| {
                let secs = start.elapsed().as_secs_f64().max(1e-3);
                let n = counter.load(Ordering::Relaxed) as f64;
                format!(
                    "{} {} {item_name}/s{}{}",
                    percent(b),
                    human(n / secs),
                    message(b),
                    eta(b)
                )
            }),
        );
        Progress {
            bar: Some(bar),
            items,
            sink: None,
        }
    }

    /// A bar over words trained: percent, words/s per thread, ETA, and what the trainer reports
    /// through [`Progress::set_message`] (the running loss and the learning rate).
    pub fn words(quiet: bool, label: &str, total_words: u64, threads: usize) -> Self {
        Self::counted(quiet, label, total_words, threads, "words/s/thread")
    }

    /// A bar over GloVe's co-occurrence records, all iterations: percent, records/s, ETA, and
    /// the iteration and cost (through [`Progress::set_message`]).
    pub fn records(quiet: bool, label: &str, total_records: u64) -> Self {
        Self::counted(quiet, label, total_records, 1, "records/s")
    }

    /// A bar over optimisation steps (the LM), with the running loss as its message.
    pub fn steps(quiet: bool, label: &str, total_steps: u64) -> Self {
        Self::counted(quiet, label, total_steps, 1, "steps/s")
    }

    /// A bar whose position counts `unit`s (per thread when `threads` > 1).
    fn counted(quiet: bool, label: &str, total: u64, threads: usize, unit: &'static str) -> Self {
        if quiet {
            return Self::hidden();
        }
        let threads = threads.max(1) as f64;
        let rate = move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let secs = s.elapsed().as_secs_f64().max(1e-3);
            let _ = write!(w, "{} {unit}", human(s.pos() as f64 / secs / threads));
        };
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {percent:>3}% {rate} {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", rate)
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        spawn_logger(
            &bar,
            label,
            Arc::new(move |b: &ProgressBar| {
                let secs = b.elapsed().as_secs_f64().max(1e-3);
                let rate = human(b.position() as f64 / secs / threads);
                format!("{} {rate} {unit}{}{}", percent(b), message(b), eta(b))
            }),
        );
        Progress {
            bar: Some(bar),
            items: Arc::new(AtomicU64::new(0)),
            sink: None,
        }
    }

    /// Counts without drawing, for a client that shows progress its own way (the Python
    /// package's bar): read back with [`Progress::state`]; notes go to `notes`.
    pub fn watched(total: Option<u64>, notes: NoteSink) -> Self {
        Progress {
            bar: Some(ProgressBar::with_draw_target(
                total,
                ProgressDrawTarget::hidden(),
            )),
            items: Arc::new(AtomicU64::new(0)),
            sink: Some(notes),
        }
    }

    /// Where the count stands: position, total (if known), items counted, seconds since the
    /// start, and the trainer's message (loss, learning rate).
    pub fn state(&self) -> Snapshot {
        let items = self.items.load(Ordering::Relaxed);
        match &self.bar {
            Some(b) => Snapshot {
                position: b.position(),
                total: b.length(),
                items,
                seconds: b.elapsed().as_secs_f64(),
                message: b.message().to_string(),
            },
            None => Snapshot {
                items,
                ..Snapshot::default()
            },
        }
    }

    /// What the bar shows after its counts (loss, learning rate).
    pub fn set_message(&self, msg: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg);
        }
    }

    /// Counts `bytes` of position and `items` of rate.
    pub fn inc(&self, bytes: u64, items: u64) {
        self.items.fetch_add(items, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// Clears the bar; the log lines stop.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Prints a line above the bar, or plainly where stderr is not a terminal; nothing when
    /// quiet.
    pub fn note(&self, msg: &str) {
        if let Some(sink) = &self.sink {
            return sink(msg);
        }
        match &self.bar {
            Some(bar) if bar.is_hidden() => eprintln!("{msg}"),
            Some(bar) => bar.println(msg),
            None => {}
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
