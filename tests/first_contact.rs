//! A careful user's first hour (issue 13): exports that never touch another file, outputs through
//! links and stdout, model folders that are not overwritten by accident, resumes from anywhere,
//! arguments checked before any work, and the flags word2vec and fastText users type.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use wembed::vectors::Embeddings;

fn synth_corpus() -> String {
    format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"))
}

/// A small skip-gram model (one epoch, dim 8) in `dir/name`.
fn small_model(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    let r = wembed(&[
        "skipgram",
        &synth_corpus(),
        "-o",
        model.to_str().unwrap(),
        "-q",
        "--dim",
        "8",
        "--epochs",
        "1",
        "--threads",
        "2",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    model
}

fn ok(r: &std::process::Output) -> String {
    assert!(
        r.status.success(),
        "exit {:?}: {}",
        r.status.code(),
        String::from_utf8_lossy(&r.stderr)
    );
    String::from_utf8_lossy(&r.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn export_into_a_model_folder_keeps_its_vocabulary() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    let before = std::fs::read(model.join("vocab.txt")).unwrap();
    for (format, name) in [("npy", "top.npy"), ("safetensors", "top.safetensors")] {
        let out = model.join(name);
        ok(&wembed(&[
            "export",
            s(&model),
            "--format",
            format,
            "--limit",
            "100",
            "-o",
            s(&out),
        ]));
        assert_eq!(std::fs::read(model.join("vocab.txt")).unwrap(), before);
        let e = Embeddings::load(&out).unwrap();
        assert_eq!(e.len(), 100, "{format}");
        let words = std::fs::read_to_string(model.join("top.vocab.txt")).unwrap();
        assert_eq!(words.lines().count(), 100);
    }
    // The model itself still evaluates.
    let q = format!("{}/corpora/synth-questions.txt", env!("CARGO_MANIFEST_DIR"));
    ok(&wembed(&["eval", s(&model), "--analogy", &q]));
    // Its own files are refused as export targets.
    for name in ["vocab.txt", "input.npy", "vectors.bin", "config.json"] {
        let r = wembed(&[
            "export",
            s(&model),
            "--format",
            "word2vec-text",
            "-o",
            s(&model.join(name)),
        ]);
        assert_one_line_error(&r, "belongs to the model folder");
    }
    assert_eq!(std::fs::read(model.join("vocab.txt")).unwrap(), before);
}

#[test]
fn output_through_a_symlink_replaces_the_target_not_the_link() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    let real = d.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("v.txt"), "old").unwrap();
    // A relative link, as `ln -s real/v.txt link.txt` makes it.
    std::os::unix::fs::symlink("real/v.txt", d.path().join("link.txt")).unwrap();
    let link = d.path().join("link.txt");
    ok(&wembed(&[
        "export",
        s(&model),
        "--format",
        "word2vec-text",
        "-o",
        s(&link),
    ]));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(real.join("v.txt")).unwrap();
    assert!(
        text.lines().count() > 100,
        "target not rewritten: {text:.40}"
    );
    assert_eq!(names(&real), ["v.txt"], "no temporary file left");
    // A dangling link names the file to create.
    std::os::unix::fs::symlink("real/new.txt", d.path().join("dangling")).unwrap();
    let r = wembed(&[
        "vocab",
        &synth_corpus(),
        "-q",
        "-o",
        s(&d.path().join("dangling")),
    ]);
    ok(&r);
    assert!(real.join("new.txt").is_file());
}

#[test]
fn dev_stdout_is_written_not_replaced() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    // Through a link of our own, so that a regression replaces the link, not /dev/stdout.
    let link = d.path().join("out");
    std::os::unix::fs::symlink("/dev/stdout", &link).unwrap();
    let captured = d.path().join("captured.txt");
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args([
            "export",
            s(&model),
            "--format",
            "glove-text",
            "--limit",
            "3",
            "-o",
            s(&link),
        ])
        .stdout(std::fs::File::create(&captured).unwrap())
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&captured).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn dash_is_stdout_for_text_formats_and_vocab() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    for (format, header) in [
        ("word2vec-text", true),
        ("fasttext-vec", true),
        ("glove-text", false),
    ] {
        let out = ok(&wembed(&[
            "export",
            s(&model),
            "--format",
            format,
            "--limit",
            "5",
            "-o",
            "-",
        ]));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5 + header as usize, "{format}: {out}");
        if header {
            assert_eq!(lines[0], "5 8");
        }
    }
    let r = wembed(&["export", s(&model), "--format", "npy", "-o", "-"]);
    assert_one_line_error(&r, "name a file");
    let out = ok(&wembed(&["vocab", &synth_corpus(), "-q", "-o", "-"]));
    let file = d.path().join("v.txt");
    ok(&wembed(&["vocab", &synth_corpus(), "-q", "-o", s(&file)]));
    assert!(
        out == std::fs::read_to_string(&file).unwrap(),
        "stdout differs from the file"
    );
    assert!(!Path::new("-").exists(), "a file named - was written");
}
