//! GloVe (Pennington, Socher and Manning 2014) with the behaviour of the Stanford tool: symmetric
//! 1/distance-weighted co-occurrence counts, a shuffle, then AdaGrad on
//! f(X_ij)·(w_i·w~_j + b_i + b~_j − log X_ij)², f(x) = min(1, (x/x_max)^α), on Hogwild threads.
//!
//! Stages and where their data lives: counting (hash tables, sorted runs spilled to a temporary
//! folder when the memory budget is reached), merge + shuffle (chunks within the budget, same
//! folder), training (the shuffled records mapped from disk; W, W~, biases and the AdaGrad sums
//! in memory-mapped `.npy` files of the model folder).

pub mod cooccur;
pub mod shuffle;

use crate::atomic::{partial_path, remove_stale_temp_dirs, unregister_cleanup, TempDir, TempPath};
use crate::checkpoint;
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::hogwild::SharedMatrix;
use crate::kernels;
use crate::progress::Progress;
use crate::sampling::rng;
use crate::store::MatrixFile;
use crate::vocab::Vocab;
use rand::Rng;
use shuffle::Record;
use std::path::Path;
use std::time::Instant;

crate::settings::resumable! {
    /// GloVe's settings, shared by the CLI, the trainer and `config.json`.
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct GloveConfig / GloveOverrides {
        /// Dimension of W and W~.
        pub dim: usize,
        /// Symmetric context window (words on each side), weighted 1/distance.
        pub window: usize,
        /// Counts at or above this get full weight in the cost.
        pub x_max: f64,
        /// Exponent of the weighting below `x_max`.
        pub alpha: f64,
        /// AdaGrad's initial learning rate.
        pub lr: f64,
        /// Training iterations over the shuffled records.
        pub iter: usize,
        /// Budget for counting and shuffling, in bytes.
        pub memory: usize,
        /// Worker threads (counting and training).
        pub threads: usize,
        /// Seed of the initialisation and the shuffle.
        pub seed: u64,
        /// Gradient components are clipped to ±this, as the Stanford tool does.
        pub grad_clip: f64,
    }
}

impl Default for GloveConfig {
    fn default() -> Self {
        GloveConfig {
            dim: 100,
            window: 10,
            x_max: 100.0,
            alpha: 0.75,
            lr: 0.05,
            iter: 25,
            memory: 4 << 30,
            threads: crate::default_threads(),
            seed: 1,
            grad_clip: 100.0,
        }
    }
}

impl GloveConfig {
    /// Refuses settings that cannot train; callers check before any work or file is made.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, m: String| Err(Error::setting(name, m));
        let positive = |x: f64| x > 0.0 && x.is_finite();
        let max_dim = crate::word2vec::MAX_DIM;
        if self.dim == 0 || self.dim > max_dim {
            return bad("dim", format!("must lie in 1..={max_dim}"));
        }
        if self.iter == 0 || self.iter > crate::word2vec::MAX_EPOCHS {
            return bad(
                "iter",
                format!("must lie in 1..={}", crate::word2vec::MAX_EPOCHS),
            );
        }
        if self.threads > crate::MAX_THREADS {
            return bad(
                "threads",
                format!("is above the limit of {}", crate::MAX_THREADS),
            );
        }
        if self.window == 0 || self.window > cooccur::MAX_WINDOW {
            return bad(
                "window",
                format!("must be within 1..={}", cooccur::MAX_WINDOW),
            );
        }
        for (name, v) in [("x_max", self.x_max), ("lr", self.lr)] {
            if !positive(v) {
                return bad(name, "must be a positive number".into());
            }
        }
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return bad("alpha", "must be zero or positive".into());
        }
        if self.memory == 0 {
            return bad("memory", "must be a positive number of GiB".into());
        }
        Ok(())
    }
}

/// Time and peak memory of one stage.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    /// `count`, `merge+shuffle`, `train`.
    pub name: String,
    /// Wall time.
    pub seconds: f64,
    /// Peak resident memory of the process during the stage, when the OS tells it.
    pub peak_rss_mib: Option<f64>,
}

/// What a GloVe run did.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct GloveStats {
    /// Non-zero co-occurrence records trained on.
    pub records: u64,
    /// Sorted runs counting spilled to disk.
    pub spilled_runs: usize,
    /// Mean cost per record of each iteration.
    pub cost: Vec<f64>,
    /// Each stage's time and memory.
    pub stages: Vec<Stage>,
}

/// Resets the kernel's peak-RSS mark so the next reading covers one stage (Linux; elsewhere a no-op).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A checkpoint of a GloVe run, written once the shuffled records exist and after every training
/// iteration (the matrices are synced at each iteration's end anyway).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GloveState {
    /// The run's settings.
    pub config: GloveConfig,
    /// Rows of the matrices.
    pub vocab_words: usize,
    /// Records in the shuffled file.
    pub records: u64,
    /// Sorted runs counting spilled to disk.
    pub spilled_runs: usize,
    /// Training iterations finished; the next starts from the matrices on disk.
    pub iter_done: usize,
    /// Mean cost of each finished iteration.
    pub costs: Vec<f64>,
    /// Mid-iteration: records each thread has done of its share of iteration `iter_done + 1`,
    /// and the cost they added (empty at an iteration boundary).
    #[serde(default)]
    pub positions: Vec<u64>,
    #[serde(default)]
    /// Cost each thread had summed when it stopped for the checkpoint.
    pub partial_costs: Vec<f64>,
    /// The generation of the matrix snapshots (`.NAME.ckpt.GEN`) this checkpoint stands for;
    /// `None` in checkpoints made before snapshots, whose partial files are taken as they are.
    #[serde(default)]
    pub snapshot: Option<u64>,
    /// The caller's own record (the CLI keeps the corpus and vocabulary options here).
    pub meta: serde_json::Value,
}

/// Whether to checkpoint, and what to resume from.
#[derive(Clone, Debug, Default)]
pub struct GloveCheckpointing {
    /// Checkpoint at all (after the shuffle and after every iteration).
    pub enabled: bool,
    /// Also checkpoint inside an iteration at this interval.
    pub every: Option<std::time::Duration>,
    /// The checkpoint to continue from.
    pub resume: Option<GloveState>,
    /// The caller's record, kept in the checkpoint as it is.
    pub meta: serde_json::Value,
    /// Once set, training takes a last checkpoint, stops and returns [`Error::Interrupted`]
    /// (counting and shuffling run to their end first).
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Files a checkpointed run keeps under `.NAME.partial` until it finishes.
const PARTIALS: [&str; 7] = [
    "records.bin",
    "input.npy",
    "output.npy",
    "bias.npy",
    "adagrad-input.npy",
    "adagrad-output.npy",
    "adagrad-bias.npy",
];

/// Progress for each stage, supplied by the caller (the CLI draws bars; tests pass hidden ones).
pub struct Progresses<'a> {
    /// Counting's progress over the corpus bytes.
    pub count: &'a Progress,
    /// Makes training's progress, given its total of records.
    pub train: &'a dyn Fn(u64) -> Progress,
    /// Lines of news (records counted, each iteration's cost, checkpoints).
    pub note: &'a (dyn Fn(&str) + Sync),
}

/// Runs counting, shuffle and training into `dir` (`input.npy` = W, `output.npy` = W~,
/// `bias.npy` [V, 2] = (b, b~), and the AdaGrad sums `adagrad-*.npy`). With checkpoints, the
/// shuffled records and the matrices stay as `.NAME.partial` until the end, and `checkpoint.json`
/// lets `resume` continue after the last finished iteration (a run killed before its shuffle
/// finished starts over).
pub fn train(
    corpus: &Corpus,
    vocab: &Vocab,
    config: &GloveConfig,
    dir: &Path,
    progress: &Progresses,
    ck: &GloveCheckpointing,
) -> Result<GloveStats> {
    let wrote = std::sync::atomic::AtomicBool::new(false);
    let result = train_inner((corpus, vocab, config), (dir, progress, ck), &wrote);
    if result.is_err() && ck.resume.is_none() && !wrote.load(std::sync::atomic::Ordering::Relaxed) {
        for name in PARTIALS {
            let _ = std::fs::remove_file(partial_path(&dir.join(name)));
        }
    }
    result
}

/// Writes a checkpoint; the first one turns the partial files into a resumable state.
type Save<'a> = dyn Fn(&GloveState) -> Result<()> + Sync + 'a;

fn train_inner(
    (corpus, vocab, config): (&Corpus, &Vocab, &GloveConfig),
    (dir, progress, ck): (&Path, &Progresses, &GloveCheckpointing),
    wrote: &std::sync::atomic::AtomicBool,
) -> Result<GloveStats> {
    config.validate()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let save = |state: &GloveState| -> Result<()> {
        checkpoint::write(dir, state)?;
        if !wrote.swap(true, std::sync::atomic::Ordering::Relaxed) {
            // From now on the partial files are a resumable state: Ctrl-C must keep them.
            for name in PARTIALS {
                unregister_cleanup(&partial_path(&dir.join(name)));
            }
        }
        Ok(())
    };
    if let Some(st) = &ck.resume {
        return resume_training(st, vocab, config, dir, progress, ck, &save);
    }
    let tmp = TempDir::new(dir, TMP_KIND)?;
    let mut stages = Stages::default();
    let (shuf, records, spilled_runs) =
        count_and_shuffle(corpus, vocab, config, tmp.path(), progress, &mut stages)?;
    let t = Instant::now();
    if records == 0 {
        return Err(Error::Invalid(
            "no co-occurrences: every sentence has fewer than two known words".into(),
        ));
    }
    let cost = match ck.enabled {
        true => {
            let base = GloveState {
                config: config.clone(),
                vocab_words: vocab.len(),
                records,
                spilled_runs,
                iter_done: 0,
                costs: Vec::new(),
                positions: Vec::new(),
                partial_costs: Vec::new(),
                snapshot: None,
                meta: ck.meta.clone(),
            };
            let stop = ck.stop.as_deref();
            train_checkpointed(&shuf, base, config, dir, progress, ck.every, stop, &save)?
        }
        false => train_mapped(&shuf, records, vocab.len(), config, dir, progress, None)?,
    };
    stages.push("train", t);
    drop(tmp);
    Ok(GloveStats {
        records,
        spilled_runs,
        cost,
        stages: stages.0,
    })
}

/// Each stage's time and peak memory, the mark reset between stages.
#[derive(Default)]
struct Stages(Vec<Stage>);

impl Stages {
    fn push(&mut self, name: &str, start: Instant) {
        self.0.push(Stage {
            name: name.into(),
            seconds: start.elapsed().as_secs_f64(),
            peak_rss_mib: peak_rss_mib(),
        });
        reset_peak();
    }
}

/// Counts co-occurrences and shuffles them into `tmp`: the shuffled file, its records, and the
/// sorted runs counting spilled.
fn count_and_shuffle(
    corpus: &Corpus,
    vocab: &Vocab,
    config: &GloveConfig,
    tmp: &Path,
    progress: &Progresses,
    stages: &mut Stages,
) -> Result<(std::path::PathBuf, u64, usize)> {
    reset_peak();
    let t = Instant::now();
    let cooc = cooccur::count(
        corpus,
        vocab,
        config.window,
        config.memory,
        config.threads,
        tmp,
        progress.count,
    )?;
    progress.count.finish();
    let spilled_runs = cooc.spilled_runs;
    stages.push("count", t);
    let t = Instant::now();
    let shuf = tmp.join("shuffled.bin");
    let records = shuffle::shuffle(
        cooc,
        (config.x_max, config.alpha),
        config.memory,
        tmp,
        config.seed,
        &shuf,
    )?;
    stages.push("merge+shuffle", t);
    (progress.note)(&format!(
        "{records} co-occurrence records ({spilled_runs} runs spilled to disk)"
    ));
    Ok((shuf, records, spilled_runs))
}

/// Trains a fresh checkpointed run: the records leave the temporary folder (which Ctrl-C
/// removes) for a stable name first.
#[allow(clippy::too_many_arguments)]
fn train_checkpointed(
    shuf: &Path,
    base: GloveState,
    config: &GloveConfig,
    dir: &Path,
    progress: &Progresses,
    every: Option<std::time::Duration>,
    stop: Option<&std::sync::atomic::AtomicBool>,
    save: &Save,
) -> Result<Vec<f64>> {
    let kept = TempPath::partial(&dir.join("records.bin"));
    std::fs::rename(shuf, kept.path()).map_err(|e| Error::io(kept.path(), e))?;
    let (records, v) = (base.records, base.vocab_words);
    let ck = IterCheckpoint {
        base,
        resume: false,
        every,
        stop,
        save,
    };
    let cost = train_mapped(kept.path(), records, v, config, dir, progress, Some(ck))?;
    finish_partials(dir)?;
    Ok(cost)
}

/// Refuses a checkpoint of other settings, or one whose fields cannot hold.
fn check_state(st: &GloveState, config: &GloveConfig, vocab: &Vocab) -> Result<()> {
    if st.config != *config || st.vocab_words != vocab.len() {
        return Err(Error::Invalid(
            "the checkpoint was made with other settings or another vocabulary".into(),
        ));
    }
    let consistent = st.iter_done <= config.iter
        && st.costs.len() == st.iter_done
        && st.positions.len() == st.partial_costs.len()
        && st.positions.len() <= config.threads
        && st.positions.iter().all(|&p| p <= st.records)
        && st.partial_costs.iter().all(|c| c.is_finite());
    if !consistent {
        return Err(Error::Invalid(format!(
            "corrupt checkpoint: {} of {} iterations done, {} costs, positions {:?} of {} records",
            st.iter_done,
            config.iter,
            st.costs.len(),
            st.positions,
            st.records
        )));
    }
    Ok(())
}

/// Continues training from a checkpoint's records and matrices.
fn resume_training(
    st: &GloveState,
    vocab: &Vocab,
    config: &GloveConfig,
    dir: &Path,
    progress: &Progresses,
    ck: &GloveCheckpointing,
    save: &Save,
) -> Result<GloveStats> {
    check_state(st, config, vocab)?;
    remove_stale_temp_dirs(dir, TMP_KIND);
    let t = Instant::now();
    reset_peak();
    let shuf = partial_path(&dir.join("records.bin"));
    let ck = IterCheckpoint {
        base: st.clone(),
        resume: true,
        every: ck.every,
        stop: ck.stop.as_deref(),
        save,
    };
    let cost = train_mapped(
        &shuf,
        st.records,
        vocab.len(),
        config,
        dir,
        progress,
        Some(ck),
    )?;
    finish_partials(dir)?;
    let mut stages = Stages::default();
    stages.push("train (resumed)", t);
    Ok(GloveStats {
        records: st.records,
        spilled_runs: st.spilled_runs,
        cost,
        stages: stages.0,
    })
}

/// Removes what a finished checkpointed run no longer needs: the records and the state.
fn finish_partials(dir: &Path) -> Result<()> {
    let records = partial_path(&dir.join("records.bin"));
    let _ = std::fs::remove_file(&records);
    unregister_cleanup(&records);
    for name in &PARTIALS[1..] {
        checkpoint::remove_snapshots(&dir.join(name), None);
    }
    checkpoint::remove(dir)
}

/// Maps the shuffled records and trains on them.
#[allow(clippy::too_many_arguments)]
fn train_mapped(
    path: &Path,
    records: u64,
    v: usize,
    config: &GloveConfig,
    dir: &Path,
    progress: &Progresses,
    ck: Option<IterCheckpoint>,
) -> Result<Vec<f64>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let map = crate::store::map(&file).map_err(|e| Error::io(path, e))?;
    let recs: &[Record] = bytemuck::try_cast_slice(&map[..])
        .map_err(|e| Error::bad_file(path, format!("record file: {e:?}")))?;
    if recs.len() as u64 != records {
        return Err(Error::bad_file(
            path,
            format!("{} records, the checkpoint says {records}", recs.len()),
        ));
    }
    // A record that names a row outside the matrices (a corrupt or foreign file) is refused
    // before training, never met by a worker as an out-of-bounds row.
    if let Some(k) = recs.iter().position(|r| {
        r.i as usize >= v
            || r.j as usize >= v
            || !r.log_x.is_finite()
            || !r.weight.is_finite()
            || r.weight < 0.0
    }) {
        return Err(Error::bad_file(
            path,
            format!(
                "record {k} is corrupt (rows beyond the vocabulary of {v}, or not a finite count)"
            ),
        ));
    }
    train_records(recs, (v, config), (dir, progress), ck)
}

/// Checkpointing inside training: the state to extend, whether it is a resumption, and where
/// each new state goes.
struct IterCheckpoint<'a> {
    base: GloveState,
    resume: bool,
    every: Option<std::time::Duration>,
    stop: Option<&'a std::sync::atomic::AtomicBool>,
    save: &'a Save<'a>,
}

/// Trains on the records, `config.iter` passes over `v` rows, checkpointing as `ck` says.
fn train_records(
    recs: &[Record],
    (v, config): (usize, &GloveConfig),
    (dir, progress): (&Path, &Progresses),
    ck: Option<IterCheckpoint>,
) -> Result<Vec<f64>> {
    let mut files = GloveFiles::open(v, config, dir, ck.as_ref())?;
    let resume = ck.as_ref().is_some_and(|c| c.resume);
    let (first, mut costs) = match &ck {
        Some(c) => (c.base.iter_done, c.base.costs.clone()),
        None => (0, Vec::with_capacity(config.iter)),
    };
    // Every checkpoint copies the six matrices as they are (workers paused at a block boundary)
    // to snapshots of a new generation, names it in checkpoint.json, then drops the older one.
    let generation =
        std::sync::atomic::AtomicU64::new(ck.as_ref().and_then(|c| c.base.snapshot).unwrap_or(0));
    let snap = |st: GloveState, m: &Mats| -> Result<()> {
        let Some(c) = &ck else { return Ok(()) };
        let g = generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let (t, mut bytes) = (Instant::now(), 0);
        for (name, mat) in PARTIALS[1..].iter().zip(m.all()) {
            checkpoint::write_snapshot(&dir.join(name), g, mat)?;
            bytes += mat.rows() * mat.cols() * 4;
        }
        (c.save)(&GloveState {
            snapshot: Some(g),
            ..st
        })?;
        for name in &PARTIALS[1..] {
            checkpoint::remove_snapshots(&dir.join(name), Some(g));
        }
        (progress.note)(&format!(
            "checkpoint {g}: {} MiB of matrices copied in {:.1} s",
            bytes >> 20,
            t.elapsed().as_secs_f64()
        ));
        Ok(())
    };
    if let (Some(c), false) = (&ck, resume) {
        snap(c.base.clone(), &files.shared())?;
    }
    let bar = (progress.train)(recs.len() as u64 * config.iter as u64);
    bar.inc(recs.len() as u64 * first as u64, 0);
    for it in first..config.iter {
        let m = files.shared();
        let pass = Pass {
            dir,
            recs,
            it,
            resumed: ck.as_ref().filter(|c| c.resume && it == first),
            config,
            bar: &bar,
        };
        let snapshot = |positions: Vec<u64>, partial_costs: Vec<f64>| match &ck {
            Some(c) => snap(
                GloveState {
                    iter_done: it,
                    costs: costs.clone(),
                    positions,
                    partial_costs,
                    ..c.base.clone()
                },
                &m,
            ),
            None => Ok(()),
        };
        let (every, stop) = ck.as_ref().map_or((None, None), |c| (c.every, c.stop));
        let cost = pass.run(&m, (every, stop), &snapshot)?;
        bar.set_message(format!("iter {}/{} cost {cost:.6}", it + 1, config.iter));
        (progress.note)(&format!("iter {:>3}  cost {cost:.6}", it + 1));
        costs.push(cost);
        // A checkpoint at the end of every iteration.
        if let Some(c) = &ck {
            let st = GloveState {
                iter_done: it + 1,
                costs: costs.clone(),
                positions: Vec::new(),
                partial_costs: Vec::new(),
                ..c.base.clone()
            };
            snap(st, &m)?;
        }
    }
    bar.finish();
    crate::atomic::finishing();
    files.finish()?;
    Ok(costs)
}

/// One iteration over the records, on `config.threads` threads, each over its share.
struct Pass<'a> {
    dir: &'a Path,
    recs: &'a [Record],
    it: usize,
    /// The checkpoint this iteration continues, if it was interrupted.
    resumed: Option<&'a IterCheckpoint<'a>>,
    config: &'a GloveConfig,
    bar: &'a Progress,
}

/// Takes a mid-iteration checkpoint from each thread's (records done, cost).
type Snapshot<'a> = dyn Fn(Vec<u64>, Vec<f64>) -> Result<()> + Sync + 'a;

impl Pass<'_> {
    /// Trains the iteration and returns its mean cost per record; checkpoints every `every`.
    fn run(
        &self,
        m: &Mats,
        (every, stop): (
            Option<std::time::Duration>,
            Option<&std::sync::atomic::AtomicBool>,
        ),
        snapshot: &Snapshot,
    ) -> Result<f64> {
        let (recs, config) = (self.recs, self.config);
        let per = recs.len().div_ceil(config.threads.max(1));
        let parts = recs.len().div_ceil(per.max(1));
        let resumed = self.resumed.filter(|c| c.base.positions.len() == parts);
        // Each thread publishes (records done of its share, cost so far) after every block.
        let marks: Vec<std::sync::Mutex<(u64, f64)>> = (0..parts)
            .map(|t| {
                std::sync::Mutex::new(resumed.map_or((0, 0.0), |c| {
                    let cost = c.base.partial_costs.get(t).copied().unwrap_or(0.0);
                    (c.base.positions[t], cost)
                }))
            })
            .collect();
        if let Some(c) = resumed {
            self.bar.inc(c.base.positions.iter().sum(), 0);
        }
        // A checkpoint stops every thread at its next block boundary, so that the copies of the
        // matrices and each thread's (records done, cost) belong to one moment.
        let gate: checkpoint::Gate<(u64, f64)> = checkpoint::Gate::new(parts);
        let save = |last: bool| -> Result<()> {
            gate.pause(|states| {
                let saved = snapshot(
                    states.iter().map(|s| s.0).collect(),
                    states.iter().map(|s| s.1).collect(),
                );
                if last {
                    gate.halt();
                }
                saved
            })
        };
        let iteration = format!("iter {}/{}", self.it + 1, config.iter);
        self.bar.set_message(iteration.clone());
        // The bar shows the iteration's running cost per record, from every thread's mark.
        let running = || {
            let (mut n, mut sum) = (0u64, 0f64);
            for mark in &marks {
                let (d, c) = *mark.lock().expect("position lock");
                (n, sum) = (n + d, sum + c);
            }
            self.bar
                .set_message(format!("{iteration} cost {:.6}", sum / n.max(1) as f64));
        };
        let (cost, saved): (f64, Result<()>) = checkpoint::periodically(every, stop, save, || {
            std::thread::scope(|s| {
                let hs: Vec<_> = recs
                    .chunks(per)
                    .enumerate()
                    .map(|(t, part)| {
                        let (mark, running, gate) = (&marks[t], &running, &gate);
                        s.spawn(move || self.share(t, part, m, mark, gate, running))
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .sum()
            })
        });
        saved?;
        if gate.halted() {
            return Err(Error::Interrupted {
                dir: self.dir.to_path_buf(),
            });
        }
        Ok(cost / recs.len() as f64)
    }

    /// Thread `t`'s share of the records, from where its mark says it stands.
    fn share(
        &self,
        t: usize,
        part: &[Record],
        m: &Mats,
        mark: &std::sync::Mutex<(u64, f64)>,
        gate: &checkpoint::Gate<(u64, f64)>,
        running: &(dyn Fn() + Sync),
    ) -> f64 {
        let dim = self.config.dim;
        let (start, mut cost) = *mark.lock().expect("position lock");
        let mut member = checkpoint::Member::new(gate, t, (start, cost));
        let mut done = start as usize;
        let (mut u1, mut u2) = (vec![0f32; dim], vec![0f32; dim]);
        for block in part[done.min(part.len())..].chunks(1 << 16) {
            if gate.halted() {
                break;
            }
            cost += update(block, m, self.config, &mut u1, &mut u2);
            done += block.len();
            *mark.lock().expect("position lock") = (done as u64, cost);
            self.bar.inc(block.len() as u64, 0);
            if t == 0 {
                running();
            }
            member.stop_point((done as u64, cost));
        }
        cost
    }
}

/// W, W~, the biases and their AdaGrad sums: the files of `PARTIALS[1..]`, in that order.
struct GloveFiles {
    w: MatrixFile,
    wt: MatrixFile,
    b: MatrixFile,
    gw: MatrixFile,
    gwt: MatrixFile,
    gb: MatrixFile,
}

impl GloveFiles {
    /// Created (under partial names when checkpointed) and initialised, or reopened from a
    /// checkpoint's snapshot.
    fn open(
        v: usize,
        config: &GloveConfig,
        dir: &Path,
        ck: Option<&IterCheckpoint>,
    ) -> Result<Self> {
        let open = |name: &str, cols: usize| -> Result<MatrixFile> {
            let path = dir.join(name);
            match ck {
                Some(c) if c.resume => {
                    if let Some(generation) = c.base.snapshot {
                        checkpoint::restore_snapshot(&path, generation)?;
                    }
                    MatrixFile::open_partial(&path, v, cols)
                }
                Some(_) => MatrixFile::create_partial(&path, v, cols),
                None => MatrixFile::create(&path, v, cols),
            }
        };
        let dim = config.dim;
        let mut files = GloveFiles {
            w: open(PARTIALS[1], dim)?,
            wt: open(PARTIALS[2], dim)?,
            b: open(PARTIALS[3], 2)?,
            gw: open(PARTIALS[4], dim)?,
            gwt: open(PARTIALS[5], dim)?,
            gb: open(PARTIALS[6], 2)?,
        };
        if !ck.is_some_and(|c| c.resume) {
            files.init(config);
        }
        Ok(files)
    }

    /// As the Stanford tool: weights and biases uniform in ±0.5/dim, AdaGrad sums 1.
    fn init(&mut self, config: &GloveConfig) {
        let mut r = rng(config.seed ^ 0x6107e);
        let half = 0.5 / config.dim as f32;
        for mat in [&mut self.w, &mut self.wt, &mut self.b] {
            for x in mat.data_mut() {
                *x = r.random_range(-half..half);
            }
        }
        for mat in [&mut self.gw, &mut self.gwt, &mut self.gb] {
            mat.data_mut().fill(1.0);
        }
    }

    fn shared(&mut self) -> Mats<'_> {
        Mats {
            w: self.w.shared(),
            wt: self.wt.shared(),
            b: self.b.shared(),
            gw: self.gw.shared(),
            gwt: self.gwt.shared(),
            gb: self.gb.shared(),
        }
    }

    fn finish(self) -> Result<()> {
        for m in [self.w, self.wt, self.b, self.gw, self.gwt, self.gb] {
            m.finish()?;
        }
        Ok(())
    }
}

/// How many records ahead `update` prefetches rows: enough to cover a memory latency with the
/// work of the records in between, few enough that the lines are still in cache when used.
const PREFETCH_AHEAD: usize = 4;

/// The scratch folder of counting and shuffling: `.glove-tmp-PID` in the model folder.
const TMP_KIND: &str = "glove-tmp";

struct Mats<'a> {
    w: SharedMatrix<'a>,
    wt: SharedMatrix<'a>,
    b: SharedMatrix<'a>,
    gw: SharedMatrix<'a>,
    gwt: SharedMatrix<'a>,
    gb: SharedMatrix<'a>,
}

impl<'a> Mats<'a> {
    fn all(&self) -> [&SharedMatrix<'a>; 6] {
        [&self.w, &self.wt, &self.b, &self.gw, &self.gwt, &self.gb]
    }
}

/// AdaGrad on a block of records; returns the block's cost (sum of ½·f·diff²). `u1`, `u2` are
/// scratch rows: all updates of a record are computed first and applied only if all are finite,
/// as the Stanford tool does, which also keeps the inner loops branch-free (vectorised). Compiled
/// once per instruction set and picked at run time: AVX2 does eight square roots and divisions at
/// once where SSE2 does four.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn update<'a>(
    recs: &[Record],
    m: &Mats<'a>,
    c: &GloveConfig,
    u1: &mut [f32],
    u2: &mut [f32],
) -> f64 {
    let mut cost = 0.0;
    let clip = c.grad_clip as f32;
    let lr = c.lr as f32;
    for (k, rec) in recs.iter().enumerate() {
        // Shuffled records touch rows at random: start loading a later record's rows now.
        if let Some(ahead) = recs.get(k + PREFETCH_AHEAD) {
            let (i, j) = (ahead.i as usize, ahead.j as usize);
            m.w.prefetch(i);
            m.gw.prefetch(i);
            m.wt.prefetch(j);
            m.gwt.prefetch(j);
            m.b.prefetch(i);
            m.gb.prefetch(i);
            m.b.prefetch(j);
            m.gb.prefetch(j);
        }
        let (i, j) = (rec.i as usize, rec.j as usize);
        let wi = m.w.row_mut(i);
        let wj = m.wt.row_mut(j);
        let diff = kernels::dot(wi, wj) + m.b.row(i)[0] + m.b.row(j)[1] - rec.log_x;
        let fdiff = rec.weight * diff;
        if !fdiff.is_finite() {
            continue;
        }
        cost += 0.5 * (fdiff * diff) as f64;
        let gi = m.gw.row_mut(i);
        let gj = m.gwt.row_mut(j);
        for k in 0..wi.len().min(u1.len()) {
            // Clipped before the learning rate, as the Stanford tool clips.
            let t1 = (fdiff * wj[k]).max(-clip).min(clip) * lr;
            let t2 = (fdiff * wi[k]).max(-clip).min(clip) * lr;
            u1[k] = t1 / gi[k].sqrt();
            u2[k] = t2 / gj[k].sqrt();
            gi[k] += t1 * t1;
            gj[k] += t2 * t2;
        }
        // Only finiteness is asked of this sum. Each step is at most clip·lr (the squared sums
        // start at 1), far from where 2·dim of them could overflow, so the lanes' order gives
        // the answer a running sum gives, without its chain of 2·dim dependent adds per record.
        let check: f32 = kernels::sum(u1) + kernels::sum(u2);
        if check.is_finite() {
            kernels::axpy(-1.0, u1, wi);
            kernels::axpy(-1.0, u2, wj);
        }
        // The biases take AdaGrad steps without the learning rate, as in the Stanford tool: from
        // AdaGrad's initial sum of 1 their first steps are the whole gradient, so they soak up the
        // scale of log X at once and leave the vectors to model the rest.
        let g = fdiff;
        let bi = &mut m.gb.row_mut(i)[0];
        let ui = g / bi.sqrt();
        *bi += g * g;
        if ui.is_finite() {
            m.b.row_mut(i)[0] -= ui;
        }
        let bj = &mut m.gb.row_mut(j)[1];
        let uj = g / bj.sqrt();
        *bj += g * g;
        if uj.is_finite() {
            m.b.row_mut(j)[1] -= uj;
        }
    }
    cost
}
