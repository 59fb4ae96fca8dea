//! Outputs appear under their final name only when complete: they are written to a temporary file
//! beside the target (same filesystem, so the rename is atomic), synced, then renamed. A failure or
//! an early return removes the temporary file and leaves any earlier output untouched.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A temporary path that is deleted on drop unless it was renamed into place.
#[derive(Debug)]
pub struct TempPath {
    tmp: Option<PathBuf>,
    target: PathBuf,
    /// A resumable partial file: kept on drop and on Ctrl-C, because a checkpoint refers to it.
    durable: bool,
}

/// Temporary files and folders to delete if the process is interrupted (Ctrl-C, SIGTERM).
static CLEANUP: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

pub(crate) fn register_cleanup(path: &Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.push(path.to_path_buf());
    }
}

pub(crate) fn unregister_cleanup(path: &Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.retain(|p| p != path);
    }
}

/// The folder of a resumable run and the command that resumes it, for Ctrl-C's message.
static RESUME_HINT: std::sync::Mutex<(Option<PathBuf>, Option<String>)> =
    std::sync::Mutex::new((None, None));

/// Tells the interrupt handler which command resumes a run (a client's own spelling).
pub fn set_resume_command(command: &str) {
    if let Ok(mut h) = RESUME_HINT.lock() {
        h.1 = Some(command.to_string());
    }
}

/// Tells the interrupt handler that `dir` may hold a checkpoint. `fresh`: the run is a fresh one
/// (true: it made the folder), whose files an interrupt before the first checkpoint removes, as a
/// failure would: nothing could resume them.
pub(crate) fn set_run_dir(dir: &Path, fresh: Option<bool>) {
    if let Ok(mut h) = RESUME_HINT.lock() {
        h.0 = Some(dir.to_path_buf());
    }
    if let Ok(mut f) = FRESH_RUN.lock() {
        *f = fresh.map(|made| (dir.to_path_buf(), made));
    }
    PHASE.store(TRAINING, std::sync::atomic::Ordering::SeqCst);
}

/// The folder of the fresh run in progress, and whether the run made it.
static FRESH_RUN: std::sync::Mutex<Option<(PathBuf, bool)>> = std::sync::Mutex::new(None);

/// Where a run is, for the interrupt handler: training; writing out the finished model (from the
/// moment its partial files start being renamed: an interrupt then waits, the work being done);
/// or done (the interrupt came too late to matter).
static PHASE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(TRAINING);
const TRAINING: u8 = 0;
const FINISHING: u8 = 1;
const DONE: u8 = 2;

/// The trainer has finished and starts putting its outputs in place.
pub(crate) fn finishing() {
    PHASE.store(FINISHING, std::sync::atomic::Ordering::SeqCst);
}

/// Marks the end of a run's finishing stretch: `done` when its model is in place, otherwise the
/// run failed and an interrupt cleans up as usual.
pub(crate) fn finished(done: bool) {
    let phase = if done { DONE } else { TRAINING };
    PHASE.store(phase, std::sync::atomic::Ordering::SeqCst);
}

/// Waits out a finishing run; true when its model got in place (nothing to clean up).
fn wait_for_finish() -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    if PHASE.load(SeqCst) == FINISHING {
        eprintln!("\nwembed: interrupted while writing the trained model: finishing it first");
    }
    while PHASE.load(SeqCst) == FINISHING {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    PHASE.load(SeqCst) == DONE
}

/// Removes a fresh run's folder (or, in a folder it did not make, its files): what a run that
/// ends before its first checkpoint leaves could resume nothing.
pub(crate) fn remove_fresh_run(dir: &Path, made: bool) {
    if made {
        let _ = std::fs::remove_dir_all(dir);
    } else if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let _ = match p.is_dir() {
                true => std::fs::remove_dir_all(&p),
                false => std::fs::remove_file(&p),
            };
        }
    }
}

/// Installs the Ctrl-C / SIGTERM handler that removes every registered temporary path, then exits
/// with status 130. Outputs already renamed into place are not touched.
pub fn install_interrupt_cleanup() {
    let _ = ctrlc::set_handler(|| {
        if wait_for_finish() {
            // The model is in place; the main thread is about to exit normally.
            loop {
                std::thread::park();
            }
        }
        if let Ok(v) = CLEANUP.lock() {
            for p in v.iter() {
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(p);
                } else {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        let hint = RESUME_HINT
            .lock()
            .ok()
            .and_then(|h| h.0.clone().zip(h.1.clone()));
        match hint {
            Some((dir, command)) if crate::checkpoint::path(&dir).is_file() => eprintln!(
                "\nwembed: interrupted; continue with: {command} {}",
                dir.display()
            ),
            Some(_) => {
                if let Some((dir, made)) = FRESH_RUN.lock().ok().and_then(|f| f.clone()) {
                    remove_fresh_run(&dir, made);
                }
                eprintln!("\nwembed: interrupted before the first checkpoint; its files removed")
            }
            None => eprintln!("\nwembed: interrupted; temporary files removed"),
        }
        std::process::exit(130);
    });
}

impl TempPath {
    /// `.NAME.tmp-PID` beside `target`: hidden, and unique per process so two runs never share it.
    pub fn for_target(target: &Path) -> TempPath {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        register_cleanup(&tmp);
        TempPath {
            tmp: Some(tmp),
            target: target.to_path_buf(),
            durable: false,
        }
    }

    /// `.NAME.partial` beside `target`: a stable name a resumed run can find again, kept on drop,
    /// renamed into place by `persist` like any temporary file. It is still removed on Ctrl-C
    /// until the trainer's first checkpoint calls `unregister_cleanup` on it: before that,
    /// nothing could resume from it.
    pub fn partial(target: &Path) -> TempPath {
        register_cleanup(&partial_path(target));
        TempPath {
            tmp: Some(partial_path(target)),
            target: target.to_path_buf(),
            durable: true,
        }
    }

    /// The temporary file being written.
    pub fn path(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(&self.target)
    }

    /// The name the file gets once it is complete.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the temporary file to the target (after the caller has synced it).
    pub fn persist(mut self) -> Result<()> {
        if let Some(tmp) = self.tmp.take() {
            unregister_cleanup(&tmp);
            if let Err(e) = std::fs::rename(&tmp, &self.target) {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::io(&self.target, e));
            }
            if let Some(dir) = self.target.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                // Makes the rename itself durable; failure to open a folder is not worth an error.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        Ok(())
    }
}

/// Where `TempPath::partial` keeps `target` while it is incomplete.
pub fn partial_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    target.with_file_name(format!(".{name}.partial"))
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.durable {
            return;
        }
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(&tmp);
            unregister_cleanup(&tmp);
        }
    }
}

/// Writes a whole file atomically. A symbolic link is followed, as `cp` does: the new file
/// replaces the link's target and the link stays. Devices, FIFOs and anything under `/dev` or
/// `/proc` (`/dev/stdout`, `/dev/null`) are written directly, since they cannot be replaced by a
/// rename.
pub fn write_file<F>(target: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut File) -> std::io::Result<()>,
{
    let resolved = resolve_links(target);
    let system = |p: &Path| p.starts_with("/dev") || p.starts_with("/proc");
    if is_special(target) || system(target) || system(&resolved) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(target)
            .map_err(|e| Error::io(target, e))?;
        return write(&mut f).map_err(|e| Error::io(target, e));
    }
    let target = resolved.as_path();
    remove_dead_temps(target);
    let tmp = TempPath::for_target(target);
    let mut f = File::create(tmp.path()).map_err(|e| Error::io(target, e))?;
    write(&mut f).map_err(|e| Error::io(target, e))?;
    f.sync_all().map_err(|e| Error::io(target, e))?;
    drop(f);
    tmp.persist()
}

/// The file a chain of symbolic links ends at (which need not exist yet: a dangling link names
/// the file to create). Relative links are relative to the link's own folder. A loop is left to
/// the open that follows, which reports it.
pub fn resolve_links(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        let is_link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        let Some(next) = is_link.then(|| std::fs::read_link(&p).ok()).flatten() else {
            return p;
        };
        p = match p.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
    }
    p
}

/// True for an existing target that is not a regular file (a device such as /dev/null, a FIFO).
pub fn is_special(target: &Path) -> bool {
    std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// True for the `-` that names stdout.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes a text output: to stdout for `-`, otherwise atomically to the path. Returns false when
/// it went to stdout.
pub fn write_text<F>(path: &Path, write: F) -> Result<bool>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    if is_stdout(path) {
        let stdout = std::io::stdout();
        let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
        write(&mut w)
            .and_then(|_| w.flush())
            .map_err(|e| Error::io("<stdout>", e))?;
        return Ok(false);
    }
    write_file(path, |f| {
        let mut w = BufWriter::with_capacity(1 << 20, f);
        write(&mut w)?;
        w.flush()
    })?;
    Ok(true)
}

/// As [`write_text`], and gzip-compressed when the name ends in `.gz`.
pub fn write_output<F>(path: &Path, write: F) -> Result<bool>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    if path.extension().is_none_or(|e| e != "gz") {
        return write_text(path, write);
    }
    write_text(path, |w| {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
        write(&mut gz)?;
        gz.finish().map(drop)
    })
}

/// A scratch folder `.KIND-PID` inside `parent`, removed when dropped (on success, on error and on
/// unwinding); Ctrl-C is handled by the cleanup registry above.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh `.KIND-PID` folder in `parent`, removed on drop and by Ctrl-C.
    pub fn new(parent: &Path, kind: &str) -> Result<TempDir> {
        let p = parent.join(format!(".{kind}-{}", std::process::id()));
        std::fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        register_cleanup(&p);
        Ok(TempDir(p))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        unregister_cleanup(&self.0);
    }
}

/// A killed run cannot remove its `.KIND-PID` folders; the run that resumes in the same model
/// folder does.
pub fn remove_stale_temp_dirs(dir: &Path, kind: &str) {
    let prefix = format!(".{kind}-");
    let own = format!("{prefix}{}", std::process::id());
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name != own {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// The PID at the end of a scratch name (`.NAME.tmp-PID`, `.KIND-PID`), if it has one.
fn scratch_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, pid) = name.rsplit_once('-')?;
    pid.parse().ok()
}

/// Whether a process is running (Linux: it has a /proc entry). Without /proc, every process
/// counts as running, so nothing is removed on a guess.
pub fn is_running(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the scratch files and folders in `dir` (names `.…-PID`) of processes that no longer
/// run: what a killed run could not clean up. Returns what it removed, for the caller to say.
pub fn remove_dead_scratch(dir: &Path) -> Vec<PathBuf> {
    remove_dead(dir, |_| true)
}

/// The dead-PID scratch entries of `dir` whose names pass `keep`, removed.
fn remove_dead(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let dead = scratch_pid(&name).is_some_and(|pid| !is_running(pid));
        if !dead || !keep(&name) {
            continue;
        }
        let p = e.path();
        let gone = match p.is_dir() {
            true => std::fs::remove_dir_all(&p),
            false => std::fs::remove_file(&p),
        };
        if gone.is_ok() {
            removed.push(p);
        }
    }
    removed
}

/// Before writing `target`: the temporary files of earlier writes to it that were killed
/// (`.NAME.tmp-PID` of a dead PID) are removed, and said so.
fn remove_dead_temps(target: &Path) {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{name}.tmp-");
    for p in remove_dead(dir, |n| n.starts_with(&prefix)) {
        eprintln!("wembed: removed {}, left by a killed run", p.display());
    }
}

/// Makes a write past `ulimit -f` fail with EFBIG, which wembed reports as a one-line error with
/// nothing half-written left, instead of the default SIGXFSZ that kills the process silently.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting SIGXFSZ's disposition to SIG_IGN installs no handler code; it only tells
    // the kernel to return EFBIG from the write instead of sending the signal.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
