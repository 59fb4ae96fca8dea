//! Faults while writing: an export killed mid-write, interrupted, or stopped by a full disk (a
//! file-size limit) never replaces the previous output, and leaves no temporary file behind when
//! it can clean up (SIGKILL is the one case where nothing can run).

mod common;

use common::{assert_one_line_error, p, tmp, wembed, write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wembed::store::MatrixFile;

/// A model folder big enough that a text export takes a moment: 60,000 words × 200 dimensions.
fn big_model(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let (rows, cols) = (60_000, 200);
    let vocab: String = (0..rows)
        .map(|i| format!("word{i}\t{}\n", rows - i))
        .collect();
    write(&dir.join("vocab.txt"), vocab.as_bytes());
    let mut m = MatrixFile::create(&dir.join("input.npy"), rows, cols).unwrap();
    for (k, x) in m.data_mut().iter_mut().enumerate() {
        *x = (k % 977) as f32 * 0.001 - 0.4;
    }
    m.finish().unwrap();
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
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
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
    let start = std::time::Instant::now();
    while !m.join("checkpoint.json").exists() {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended early"
        );
        assert!(start.elapsed().as_secs() < 90);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
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
