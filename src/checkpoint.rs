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
use std::sync::Mutex;
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

/// Runs `work` on this thread while another calls `save` every `every` (never when `None`).
/// The first error of `save` is returned after `work` ends; it does not stop the work, since a
/// failed checkpoint (a full disk) should not throw away the training in memory.
pub fn periodically<R>(
    every: Option<Duration>,
    save: impl Fn() -> Result<()> + Sync,
    work: impl FnOnce() -> R,
) -> (R, Result<()>) {
    let Some(every) = every else {
        return (work(), Ok(()));
    };
    let stop = AtomicBool::new(false);
    let error: Mutex<Option<Error>> = Mutex::new(None);
    let r = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50).min(every));
                if last.elapsed() >= every && !stop.load(Ordering::Relaxed) {
                    if let Err(e) = save() {
                        let mut slot = error.lock().expect("checkpoint error lock");
                        slot.get_or_insert(e);
                    }
                    last = Instant::now();
                }
            }
        });
        // Stops the saver however `work` ends: a panic unwinding through here must not leave
        // the scope waiting for it forever.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&stop);
        work()
    });
    let e = error.into_inner().expect("checkpoint error lock");
    (r, e.map_or(Ok(()), Err))
}
