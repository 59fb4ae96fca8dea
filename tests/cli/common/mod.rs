#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The reference tokenizer: the whole text in memory, split on Unicode whitespace.
pub fn naive_counts(texts: &[&str]) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for t in texts {
        for w in t.split_whitespace() {
            *m.entry(w.to_string()).or_insert(0) += 1;
        }
    }
    m
}

pub fn wembed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(args)
        .output()
        .expect("run wembed")
}

/// Asserts a failed run: exit code 1 (not a panic's 101), one line on stderr, containing `needle`.
pub fn assert_one_line_error(out: &Output, needle: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "expected exit 1, stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("wembed: error: "), "{err}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    err
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn p(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A text of `lines` lines drawn from a small Zipf-ish vocabulary with ragged line lengths, some
/// empty lines, tabs, CRLF endings and non-ASCII words.
pub fn sample_text(lines: usize, seed: u64) -> String {
    let words = [
        "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on",
        "are", "as", "with", "his", "they", "I", "café", "naïve", "東京", "🙂", "Straße",
    ];
    let mut s = String::new();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..lines {
        let n = (next() % 30) as usize;
        for k in 0..n {
            let r = next();
            let idx = ((r % 1000) as f64).sqrt() as usize % words.len();
            s.push_str(words[idx]);
            if (r >> 20) % 7 == 0 {
                s.push_str(&format!("{}", (r >> 30) % 50));
            }
            if k + 1 < n {
                s.push(if (r >> 40) % 11 == 0 { '\t' } else { ' ' });
            }
        }
        s.push_str(if i % 13 == 0 { "\r\n" } else { "\n" });
    }
    s
}

/// Runs wembed with `input` on stdin (written from another thread, so large inputs cannot block).
pub fn wembed_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Runs wembed with `args` and SIGKILLs it as soon as the JSON file `watch` exists and `ready`
/// holds for it, as a crash would stop it; returns that JSON. Panics if the run ends first.
pub fn kill_when<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    watch: &Path,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run wembed");
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the run ended ({status}) before {} was ready",
                watch.display()
            );
        }
        let seen = std::fs::read(watch)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if let Some(v) = seen.filter(|v| ready(v)) {
            child.kill().unwrap(); // SIGKILL: no handler runs, nothing is cleaned up
            child.wait().unwrap();
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(90),
            "{} not ready within 90 s",
            watch.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Waits until `ready` holds, while `child` (a wembed run) is still running: panics if the run
/// ends first or nothing is ready within 90 s.
pub fn wait_while_running(child: &mut std::process::Child, ready: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !ready() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(start.elapsed().as_secs() < 90, "not ready within 90 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The checkpoint a run has written in `dir`, if it reads.
pub fn checkpoint_json(dir: &Path) -> Option<serde_json::Value> {
    std::fs::read(dir.join("checkpoint.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// An NPY v1.0 header for a `rows × cols` f32 matrix, written here independently of the crate's
/// own writer, so that a test can build files (lying ones too) the crate then reads.
pub fn npy_header(rows: usize, cols: usize) -> Vec<u8> {
    let mut dict =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend((dict.len() as u16).to_le_bytes());
    h.extend(dict.as_bytes());
    h
}

/// Sends `signal` (`-INT`, `-TERM`, ...) to `child` with kill(1).
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} failed");
}
