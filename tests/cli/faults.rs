//! Faults while writing: an export killed mid-write, interrupted, or stopped by a full disk (a
//! file-size limit) never replaces the previous output, and leaves no temporary file behind when
//! it can clean up (SIGKILL is the one case where nothing can run).

use crate::common::{assert_one_line_error, p, tmp, wembed, write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A model folder big enough that a text export takes a moment: 60,000 words × 200 dimensions.
fn big_model(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let (rows, cols) = (60_000, 200);
    let vocab: String = (0..rows)
        .map(|i| format!("word{i}\t{}\n", rows - i))
        .collect();
    write(&dir.join("vocab.txt"), vocab.as_bytes());
    let data: Vec<f32> = (0..rows * cols)
        .map(|k| (k % 977) as f32 * 0.001 - 0.4)
        .collect();
    let mut bytes = crate::common::npy_header(rows, cols);
    bytes.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    write(&dir.join("input.npy"), &bytes);
}

/// Entries of `dir` whose name marks a temporary file.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

/// Starts an export to `target` (which holds "OLD") and sends `signal` once its temporary file
/// has appeared, that is, mid-write.
fn interrupt_export(model: &Path, target: &Path, signal: &str) {
    write(target, b"OLD");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args([
            "export",
            model.to_str().unwrap(),
            "--format",
            "word2vec-text",
            "-o",
        ])
        .arg(target)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = target.parent().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("export finished ({status}) before it could be interrupted");
        }
        if !leftovers(dir).is_empty() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(30));
    crate::common::send_signal(&child, signal);
    let exit = child.wait().unwrap();
    assert!(
        !exit.success(),
        "{signal}: the export should not have completed"
    );
    assert_eq!(
        std::fs::read(target).unwrap(),
        b"OLD",
        "{signal}: old output replaced"
    );
}

#[test]
fn interrupted_export_keeps_the_old_file() {
    let d = tmp();
    let model = p(&d, "model");
    big_model(&model);
    let out = p(&d, "out");
    std::fs::create_dir_all(&out).unwrap();
    let target = out.join("vectors.txt");

    // SIGKILL: no code runs, so the temporary file stays, but the old output is untouched.
    interrupt_export(&model, &target, "-KILL");
    for name in leftovers(&out) {
        std::fs::remove_file(out.join(name)).unwrap();
    }
    // Ctrl-C (SIGINT) and SIGTERM: the handler removes the temporary file too.
    interrupt_export(&model, &target, "-INT");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    interrupt_export(&model, &target, "-TERM");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));

    // Uninterrupted, the export replaces the file.
    let done = wembed(&[
        "export",
        model.to_str().unwrap(),
        "--format",
        "word2vec-text",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert!(done.status.success());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("60000 200\n"));
}

/// Runs wembed under a file-size limit of `kib` KiB, as a full disk would stop it; SIGXFSZ is
/// ignored so that the write fails with EFBIG instead of killing the process.
fn with_file_limit(kib: u64, args: &[&str]) -> std::process::Output {
    let script = format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"");
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_wembed"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn full_disk_is_a_one_line_error_and_leaves_earlier_outputs() {
    let d = tmp();
    let model = p(&d, "model");
    big_model(&model);
    let target = p(&d, "vectors.bin");
    write(&target, b"OLD");
    // The binary export needs ~48 MB; allow 1 MB.
    let r = with_file_limit(
        1024,
        &[
            "export",
            model.to_str().unwrap(),
            "--format",
            "word2vec-bin",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_one_line_error(&r, "vectors.bin");
    assert_eq!(std::fs::read(&target).unwrap(), b"OLD");
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));

    // Training, with and without checkpoints: the vocabulary fits, the matrices do not.
    let corpus = p(&d, "c.txt");
    assert!(wembed(&[
        "synth",
        "--tokens",
        "200000",
        "-o",
        corpus.to_str().unwrap()
    ])
    .status
    .success());
    for secs in ["0", "300"] {
        let m = p(&d, &format!("m{secs}"));
        let r = with_file_limit(
            64,
            &[
                "skipgram",
                corpus.to_str().unwrap(),
                "-o",
                m.to_str().unwrap(),
                "--dim",
                "300",
                "--checkpoint-secs",
                secs,
                "-q",
            ],
        );
        let err = assert_one_line_error(&r, "input.npy");
        assert_eq!(
            err.matches("os error 27").count(),
            1,
            "cause printed once: {err}"
        );
        // A fresh run that failed before its first checkpoint takes its folder with it.
        assert!(!m.exists(), "the failed run left its folder");
    }

    // GloVe spills and shuffles through temporary files: they go too.
    let g = p(&d, "g");
    let r = with_file_limit(
        256,
        &[
            "glove",
            corpus.to_str().unwrap(),
            "-o",
            g.to_str().unwrap(),
            "--memory",
            "0.001",
            "--iter",
            "1",
            "-q",
        ],
    );
    assert_one_line_error(&r, "");
    let names: Vec<String> = std::fs::read_dir(&g)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "temporary files left: {names:?}"
    );
}

#[test]
fn output_under_a_file_is_a_one_line_error() {
    // Running as root, permissions do not stop writes; a path through a regular file does.
    let d = tmp();
    write(&p(&d, "c.txt"), b"a b c a b c a b c a b c a b c\n");
    write(&p(&d, "file"), b"x");
    let r = wembed(&[
        "skipgram",
        p(&d, "c.txt").to_str().unwrap(),
        "--min-count",
        "1",
        "-o",
        p(&d, "file/model").to_str().unwrap(),
        "-q",
    ]);
    assert_one_line_error(&r, "file/model");
}

/// A second run into a folder another run is training in is refused, naming the first's PID.
#[test]
fn a_model_folder_is_locked_for_the_whole_run() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("m");
    let corpus = format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"));
    let m_str = m.to_str().unwrap();
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args([
            "skipgram",
            &corpus,
            "-o",
            m_str,
            "-q",
            "--dim",
            "64",
            "--epochs",
            "8",
            "--threads",
            "1",
        ])
        .spawn()
        .unwrap();
    crate::common::wait_while_running(&mut first, || m.join("checkpoint.json").exists());
    let pid = format!("PID {}", first.id());
    let resume = wembed(&["skipgram", "--resume", m_str, "-q"]);
    let err = assert_one_line_error(&resume, "in use by another wembed run");
    assert!(err.contains(&pid), "{err}");
    let forced = wembed(&[
        "skipgram", &corpus, "-o", m_str, "-q", "--force", "--dim", "8", "--epochs", "1",
    ]);
    assert_one_line_error(&forced, &pid);
    let status = first.wait().unwrap();
    assert!(status.success(), "the first run was disturbed: {status}");
    let names: Vec<String> = std::fs::read_dir(&m)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");
    assert!(wembed::vectors::Embeddings::load(&m).unwrap().dim() == 64);
}

/// A small tmpfs when this machine lets us mount one (root in a sandbox that allows it).
fn small_tmpfs(dir: &Path, mib: u64) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Unmount<'a>(&'a Path);
impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

/// Matrices too big for the disk: the space is reserved before training, so a full disk is a
/// one-line error (not SIGBUS mid-run) and the failed fresh run leaves nothing behind.
#[test]
fn matrices_that_do_not_fit_fail_before_training_without_leftovers() {
    let d = tmp();
    let corpus = format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"));
    let small = p(&d, "small");
    let mounted = small_tmpfs(&small, 20);
    let _unmount = mounted.then(|| Unmount(&small));
    for trainer in [
        &["skipgram", "--epochs", "1"][..],
        &["cbow", "--epochs", "1"],
        &["glove", "--iter", "1"],
    ] {
        let m = small.join(format!("m-{}", trainer[0]));
        let mut args = vec![
            trainer[0],
            &corpus,
            "-o",
            m.to_str().unwrap(),
            "-q",
            "--dim",
            "600",
        ];
        args.extend(&trainer[1..]);
        let r = match mounted {
            true => wembed(&args),
            false => with_file_limit(20 << 10, &args),
        };
        assert_ne!(r.status.code(), Some(135), "SIGBUS");
        let err = assert_one_line_error(
            &r,
            if mounted {
                "No space left"
            } else {
                "File too large"
            },
        );
        assert!(
            !m.exists(),
            "{err}: the failed run left {:?}",
            leftovers(&m)
        );
    }
}

fn corpus_1m() -> String {
    format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"))
}

/// Sizes no machine could hold are refused before any work, as one line.
#[test]
fn absurd_sizes_are_refused_before_any_work() {
    let d = tmp();
    let m = p(&d, "m");
    let corpus = corpus_1m();
    for bad in [
        &["--negative", "4294967296"][..],
        &["--dim", "4294967296"],
        &["--window", "99999999"],
    ] {
        let mut args = vec!["skipgram", corpus.as_str(), "-o", m.to_str().unwrap(), "-q"];
        args.extend(bad);
        let r = wembed(&args);
        assert_eq!(
            r.status.code(),
            Some(1),
            "{bad:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&r.stderr).lines().count(), 1);
        assert!(!m.exists(), "{bad:?}");
    }
    let lm = |extra: &[&str]| {
        let mut args = vec!["lm", "train", "--corpus", corpus.as_str(), "-q", "-o"];
        args.push(m.to_str().unwrap());
        args.extend(extra);
        wembed(&args)
    };
    for bad in [
        &["--context", "0"][..],
        &["--context", "4294967296"],
        &["--dim", "4294967296"],
        &["--batch", "4294967296"],
        &["--mlp-ratio", "4294967296"],
        &["--heads", "1", "--dim", "1000000"],
    ] {
        let r = lm(bad);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(matches!(r.status.code(), Some(1 | 2)), "{bad:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(!m.exists(), "{bad:?}");
    }
}

/// Vectors with NaN or infinite values load, with a warning that counts them.
#[test]
fn nonfinite_values_are_counted_in_a_warning() {
    let d = tmp();
    let v = p(&d, "v.txt");
    write(&v, b"3 2\na NaN 1\nb 1 inf\nc 1 2\n");
    let r = wembed(&["neighbors", v.to_str().unwrap(), "c"]);
    assert!(r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("warning") && err.contains("2 values are NaN or infinite"),
        "{err}"
    );
}

/// A checkpoint edited to lie about its run is refused, not trusted.
#[test]
fn corrupt_checkpoints_are_refused() {
    let d = tmp();
    let m = p(&d, "m");
    let corpus = corpus_1m();
    let args = [
        "skipgram",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--dim",
        "64",
        "--epochs",
        "6",
        "--threads",
        "1",
    ];
    let ck = m.join("checkpoint.json");
    let state = crate::common::kill_when(&args, &ck, |v| v["epoch"].as_u64() >= Some(1));
    for (field, value) in [
        ("epoch", serde_json::json!(1000)),
        ("words_done", serde_json::json!(u64::MAX)),
        ("positions", serde_json::json!([1u64 << 60])),
    ] {
        let mut bad = state.clone();
        bad[field] = value;
        write(&ck, serde_json::to_string(&bad).unwrap().as_bytes());
        let r = wembed(&["skipgram", "--resume", m.to_str().unwrap(), "-q"]);
        assert_one_line_error(&r, "corrupt checkpoint");
    }
    let mut bad = state.clone();
    bad["config"]["negative"] = serde_json::json!(2147483648u64);
    write(&ck, serde_json::to_string(&bad).unwrap().as_bytes());
    let r = wembed(&["skipgram", "--resume", m.to_str().unwrap(), "-q"]);
    assert_one_line_error(&r, "--negative 2147483648 is above the limit");
}

/// An LM checkpoint whose config or training state lies is refused, not trusted (no capacity
/// overflow, no endless replay of 10^15 steps).
#[test]
fn corrupt_lm_checkpoints_are_refused() {
    let d = tmp();
    let lm = p(&d, "lm");
    let corpus = corpus_1m();
    let r = wembed(&[
        "lm",
        "train",
        "--corpus",
        &corpus,
        "--vocab-size",
        "100",
        "--dim",
        "16",
        "--layers",
        "1",
        "--heads",
        "2",
        "--context",
        "8",
        "--batch",
        "2",
        "--steps",
        "4",
        "--eval-every",
        "2",
        "--valid-tokens",
        "64",
        "-q",
        "-o",
        lm.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let copy = |name: &str| {
        let to = p(&d, name);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(&lm).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
        to
    };
    // config.json claims a context of 2^64 - 1.
    let big = copy("big");
    let cfg_path = big.join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    cfg["model"]["context"] = serde_json::json!(u64::MAX);
    write(&cfg_path, serde_json::to_string(&cfg).unwrap().as_bytes());
    let r = wembed(&["lm", "generate", big.to_str().unwrap(), "-n", "3"]);
    assert_one_line_error(&r, "--context");
    // The training state claims step 10^15.
    let far = copy("far");
    let weights = far.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut md = meta.metadata().clone().unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&md["wembed_train_state"]).unwrap();
    state["step"] = serde_json::json!(1_000_000_000_000_000u64);
    md.insert("wembed_train_state".into(), state.to_string());
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    safetensors::serialize_to_file(st.tensors(), Some(md), &weights).unwrap();
    let r = wembed(&["lm", "train", "--resume", far.to_str().unwrap(), "-q"]);
    assert_one_line_error(&r, "corrupt checkpoint");
}

/// The PID of a process that has ended.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// What a killed run could not remove is removed by the next run that meets it, which says so:
/// an export's `.OUT.tmp-PID`, and a training folder's scratch and debris from before its first
/// checkpoint.
#[test]
fn leftovers_of_killed_runs_are_removed_by_the_next_run() {
    let d = tmp();
    let corpus = corpus_1m();
    let v = p(&d, "v.txt");
    write(&v, b"2 2\na 1 2\nb 2 1\n");
    let pid = dead_pid();
    let stale = p(&d, &format!(".out.txt.tmp-{pid}"));
    write(&stale, &vec![0u8; 1 << 20]);
    let live = p(&d, &format!(".out.txt.tmp-{}", std::process::id()));
    write(&live, b"a running process's file");
    let r = wembed(&[
        "export",
        v.to_str().unwrap(),
        "--format",
        "word2vec-text",
        "-o",
        p(&d, "out.txt").to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!stale.exists(), "stale temp file kept");
    assert!(live.exists(), "a live process's file was removed");
    assert!(String::from_utf8_lossy(&r.stderr).contains("left by a killed run"));
    // A GloVe run killed while counting: scratch folder, vocabulary, PID file, no checkpoint.
    let m = p(&d, "m");
    std::fs::create_dir_all(m.join(format!(".glove-tmp-{pid}"))).unwrap();
    write(
        &m.join(format!(".glove-tmp-{pid}/run-0.bin")),
        &vec![0u8; 1 << 20],
    );
    write(&m.join("vocab.txt"), b"a\t5\n");
    write(&m.join(".wembed-run"), format!("{pid}\n").as_bytes());
    let r = wembed(&[
        "glove",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--dim",
        "8",
        "--iter",
        "1",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("left by a killed run") && err.contains("before its first checkpoint"),
        "{err}"
    );
    let names: Vec<String> = std::fs::read_dir(&m)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");
    // A vocab.txt alone (no dead run's PID file) is the user's: the folder is refused, not cleared.
    let u = p(&d, "u");
    write(&u.join("vocab.txt"), b"a\t5\n");
    let r = wembed(&[
        "glove",
        &corpus,
        "-o",
        u.to_str().unwrap(),
        "-q",
        "--dim",
        "8",
        "--iter",
        "1",
    ]);
    assert_one_line_error(&r, "already exists");
    assert!(u.join("vocab.txt").exists());
}

/// The smaller promises: NaN settings, a vocabulary foreign to the corpus, `ulimit -f` without a
/// trap, and gzip's trailing zero padding.
#[test]
fn smaller_faults_are_errors_or_handled() {
    let d = tmp();
    let corpus = corpus_1m();
    let m = p(&d, "m");
    for bad in [
        &["--lr", "NaN"][..],
        &["--lr", "inf"],
        &["--alpha", "NaN"],
        &["--x-max", "-1"],
    ] {
        let mut args = vec!["glove", corpus.as_str(), "-o", m.to_str().unwrap(), "-q"];
        args.extend(bad);
        assert_one_line_error(&wembed(&args), "");
        assert!(!m.exists(), "{bad:?}");
    }
    let foreign = p(&d, "foreign.txt");
    write(&foreign, b"zzzz\t100\nyyyy\t50\n");
    let r = wembed(&[
        "skipgram",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--vocab",
        foreign.to_str().unwrap(),
        "--epochs",
        "1",
    ]);
    assert_one_line_error(&r, "no word of the vocabulary occurs");
    assert!(!m.exists());
    // ulimit -f with SIGXFSZ at its default: the write fails with a message, no silent death.
    let script = "ulimit -f 64; exec \"$0\" \"$@\"";
    let r = Command::new("bash")
        .args(["-c", script, env!("CARGO_BIN_EXE_wembed")])
        .args([
            "skipgram",
            &corpus,
            "-o",
            m.to_str().unwrap(),
            "-q",
            "--dim",
            "300",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&r, "File too large");
    // Zero padding after the last gzip member, which gzip -d accepts.
    let padded = p(&d, "padded.gz");
    let mut bytes = std::fs::read(&corpus).unwrap();
    bytes.extend(vec![0u8; 4096]);
    write(&padded, &bytes);
    let (a, b) = (p(&d, "a.txt"), p(&d, "b.txt"));
    assert!(wembed(&["vocab", &corpus, "-q", "-o", a.to_str().unwrap()])
        .status
        .success());
    let r = wembed(&[
        "vocab",
        padded.to_str().unwrap(),
        "-q",
        "-o",
        b.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// A record naming a row beyond the vocabulary (a corrupt `.records.bin.partial`) is refused
/// before training: no worker panics on it and nothing waits forever.
#[test]
fn corrupt_glove_records_are_refused_not_a_hang() {
    let d = tmp();
    let m = p(&d, "m");
    let corpus = corpus_1m();
    let args = [
        "glove",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--dim",
        "64",
        "--iter",
        "40",
        "--threads",
        "2",
        "--checkpoint-secs",
        "0.2",
    ];
    crate::common::kill_when(&args, &m.join("checkpoint.json"), |v| {
        v["iter_done"].as_u64() >= Some(1)
    });
    let records = m.join(".records.bin.partial");
    let mut bytes = std::fs::read(&records).unwrap();
    bytes[..4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    write(&records, &bytes);
    let r = wembed(&["glove", "--resume", m.to_str().unwrap(), "-q"]);
    assert_one_line_error(&r, "record 0 is corrupt");
}

/// A fresh run that stops before its first checkpoint leaves nothing, however it stops: Ctrl-C
/// (or SIGTERM), a PID file the disk will not take, an LM that diverges. Each of these once left
/// the folder behind with a vocabulary or a useless model in it.
#[test]
fn early_ends_of_fresh_runs_leave_no_folder() {
    let d = tmp();
    let corpus = corpus_1m();
    for signal in ["-INT", "-TERM"] {
        let m = p(&d, "m");
        let mut child = Command::new(env!("CARGO_BIN_EXE_wembed"))
            .args(["skipgram", &corpus, "-o", m.to_str().unwrap(), "-q"])
            .args(["--epochs", "20", "--threads", "1", "--checkpoint-secs", "0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        crate::common::wait_while_running(&mut child, || m.join("vocab.txt").exists());
        std::thread::sleep(Duration::from_millis(300));
        crate::common::send_signal(&child, signal);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{signal}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("before the first checkpoint"), "{err}");
        assert!(
            !m.exists(),
            "{signal} left {:?}",
            std::fs::read_dir(&m).map(|r| r.count())
        );
    }
    let m = p(&d, "pid");
    let r = with_file_limit(0, &["skipgram", &corpus, "-o", m.to_str().unwrap(), "-q"]);
    assert_one_line_error(&r, ".wembed-run");
    assert!(!m.exists(), "the PID file's failed write left the folder");
    let m = p(&d, "lm");
    let r = wembed(&[
        "lm",
        "train",
        "--corpus",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--steps",
        "50",
        "--dim",
        "16",
        "--layers",
        "1",
        "--heads",
        "2",
        "--context",
        "16",
        "--lr",
        "1e308",
    ]);
    assert_one_line_error(&r, "diverged");
    assert!(!m.exists(), "a diverged fresh LM run left its folder");
}
