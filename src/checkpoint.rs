//! Checkpoints: a small state file beside the memory-mapped matrices, written atomically (temporary
//! file, fsync, rename) after the matrices' dirty pages are synced, so that the state never refers
//! to updates the files do not hold. A trainer defines what its state holds; this module writes,
//! reads and times it.

use crate::atomic;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

pub const FILE: &str = "checkpoint.json";

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

pub fn write<T: Serialize>(dir: &Path, state: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(state).expect("checkpoint state serialises");
    atomic::write_file(&path(dir), |f| std::io::Write::write_all(f, &text))
}

/// Reads the state of an interrupted run in `dir`.
pub fn read<T: DeserializeOwned>(dir: &Path) -> Result<T> {
    let p = path(dir);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Invalid(format!(
                "{} holds no {FILE}: nothing to resume (the run finished, or never checkpointed)",
                dir.display()
            )))
        }
        Err(e) => return Err(Error::io(&p, e)),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad_file(&p, format!("corrupt checkpoint: {e}")))
}

/// Removes the state file once the outputs are complete.
pub fn remove(dir: &Path) -> Result<()> {
    match std::fs::remove_file(path(dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path(dir), e)),
        _ => Ok(()),
    }
}

/// Runs `work` on this thread while another calls `save(false)` every `every` (never when
/// `None`). When `stop` is set, the other thread calls `save(true)` once (which should take the
/// last checkpoint and halt the workers) and stops. The first error of `save` is returned after
/// `work` ends; it does not stop the work, since a failed checkpoint (a full disk) should not
/// throw away the training in memory.
pub fn periodically<R>(
    every: Option<Duration>,
    stop: Option<&AtomicBool>,
    save: impl Fn(bool) -> Result<()> + Sync,
    work: impl FnOnce() -> R,
) -> (R, Result<()>) {
    if every.is_none() && stop.is_none() {
        return (work(), Ok(()));
    }
    let done = AtomicBool::new(false);
    let error: Mutex<Option<Error>> = Mutex::new(None);
    let keep = |r: Result<()>| {
        if let Err(e) = r {
            error
                .lock()
                .expect("checkpoint error lock")
                .get_or_insert(e);
        }
    };
    let r = std::thread::scope(|scope| {
        scope.spawn(|| {
            let tick = every.map_or(Duration::from_millis(50), |e| {
                e.min(Duration::from_millis(50))
            });
            let mut last = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    keep(save(true));
                    return;
                }
                let due = every.is_some_and(|e| last.elapsed() >= e);
                if due && !done.load(Ordering::Relaxed) {
                    keep(save(false));
                    last = Instant::now();
                }
            }
        });
        // Stops the saver however `work` ends: a panic unwinding through here must not leave
        // the scope waiting for it forever.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _done = Done(&done);
        work()
    });
    let e = error.into_inner().expect("checkpoint error lock");
    (r, e.map_or(Ok(()), Err))
}

/// A rendezvous that makes a checkpoint a consistent snapshot: the saver asks every worker to
/// stop at its next resumable point (a line end), and saves once all have stopped or finished,
/// each having deposited its state (position, RNG, counters). Workers read one flag per line
/// while no checkpoint is due, so the gate costs the training nothing measurable.
pub struct Gate<S> {
    due: AtomicBool,
    /// Set during a pause that ends the run (a stop was asked for): workers leave at once.
    halted: AtomicBool,
    inner: Mutex<GateInner<S>>,
    cv: Condvar,
}

struct GateInner<S> {
    /// Workers still reading (not finished or failed).
    active: usize,
    parked: usize,
    generation: u64,
    states: Vec<Option<S>>,
}

impl<S: Clone> Gate<S> {
    pub fn new(threads: usize) -> Self {
        Gate {
            due: AtomicBool::new(false),
            halted: AtomicBool::new(false),
            inner: Mutex::new(GateInner {
                active: threads,
                parked: 0,
                generation: 0,
                states: vec![None; threads],
            }),
            cv: Condvar::new(),
        }
    }

    /// Whether the worker should park at this resumable point.
    #[inline]
    pub fn due(&self) -> bool {
        self.due.load(Ordering::Relaxed)
    }

    /// Whether a stop ended the run: workers skip what is left of their share.
    #[inline]
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::Relaxed)
    }

    /// Ends the run at this pause; call it from inside [`Gate::pause`]'s `save`, so that no
    /// worker trains past the checkpoint just taken.
    pub fn halt(&self) {
        self.halted.store(true, Ordering::Relaxed);
    }

    /// A worker deposits its state and waits until the checkpoint has been taken.
    pub fn park(&self, thread: usize, state: S) {
        let mut g = self.inner.lock().expect("gate lock");
        g.states[thread] = Some(state);
        g.parked += 1;
        self.cv.notify_all();
        let generation = g.generation;
        while g.generation == generation {
            g = self.cv.wait(g).expect("gate lock");
        }
    }

    /// A worker leaves for good (its share is read, or it failed), with its final state.
    pub fn leave(&self, thread: usize, state: S) {
        let mut g = self.inner.lock().expect("gate lock");
        g.states[thread] = Some(state);
        g.active -= 1;
        self.cv.notify_all();
    }

    /// Stops every worker at its next resumable point, runs `save` on their states while they
    /// wait, then lets them go on.
    pub fn pause<R>(&self, save: impl FnOnce(&[S]) -> R) -> R {
        self.due.store(true, Ordering::Relaxed);
        let mut g = self.inner.lock().expect("gate lock");
        while g.parked < g.active {
            g = self.cv.wait(g).expect("gate lock");
        }
        let states: Vec<S> = g.states.iter().flatten().cloned().collect();
        let r = save(&states);
        self.due.store(false, Ordering::Relaxed);
        g.parked = 0;
        g.generation += 1;
        self.cv.notify_all();
        r
    }
}

/// A worker's membership of a [`Gate`]: it stops at each `stop_point` a checkpoint is due, and
/// leaves the gate when dropped, however the worker ends (a panic included), so a checkpoint
/// never waits for a thread that is gone.
pub struct Member<'g, S: Clone> {
    gate: &'g Gate<S>,
    thread: usize,
    state: S,
}

impl<'g, S: Clone> Member<'g, S> {
    pub fn new(gate: &'g Gate<S>, thread: usize, state: S) -> Self {
        Member {
            gate,
            thread,
            state,
        }
    }

    /// A resumable point with this state: parks here if a checkpoint is due.
    #[inline]
    pub fn stop_point(&mut self, state: S) {
        self.state = state;
        if self.gate.due() {
            self.gate.park(self.thread, self.state.clone());
        }
    }
}

impl<S: Clone> Drop for Member<'_, S> {
    fn drop(&mut self) {
        self.gate.leave(self.thread, self.state.clone());
    }
}

/// The snapshot of matrix `target` taken by checkpoint `generation`: `.NAME.ckpt.GEN`.
pub fn snapshot_path(target: &Path, generation: u64) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(".{name}.ckpt.{generation}"))
}

/// Writes a copy of a mapped matrix as it is now (its writers paused) for checkpoint
/// `generation`, through a temporary file, fsync and rename.
pub fn write_snapshot(
    target: &Path,
    generation: u64,
    m: &crate::hogwild::SharedMatrix,
) -> Result<()> {
    let path = snapshot_path(target, generation);
    atomic::write_file(&path, |f| {
        use std::io::Write;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        w.write_all(&crate::store::npy_header(m.rows(), m.cols()))?;
        for i in 0..m.rows() {
            w.write_all(bytemuck::cast_slice(m.row(i)))?;
        }
        w.flush()
    })
}

/// Puts checkpoint `generation`'s copy of `target` back as its partial file, which may hold
/// updates made after the checkpoint by the run that died.
pub fn restore_snapshot(target: &Path, generation: u64) -> Result<()> {
    let from = snapshot_path(target, generation);
    let to = atomic::partial_path(target);
    std::fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
    std::fs::File::options()
        .write(true)
        .open(&to)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(&to, e))
}

/// Removes the snapshots of `target` but that of `keep`.
pub fn remove_snapshots(target: &Path, keep: Option<u64>) {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.ckpt.");
    let dir = target.parent().unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(generation) = n.strip_prefix(&prefix).and_then(|g| g.parse::<u64>().ok()) else {
            continue;
        };
        if Some(generation) != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
