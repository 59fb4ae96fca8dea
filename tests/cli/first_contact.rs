//! A careful user's first hour (issue 13): exports that never touch another file, outputs through
//! links and stdout, model folders that are not overwritten by accident, resumes from anywhere,
//! arguments checked before any work, and the flags word2vec and fastText users type.

use crate::common::*;
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
    // Nor may `wembed vocab` replace the model's word list.
    let r = wembed(&[
        "vocab",
        &synth_corpus(),
        "-q",
        "--min-count",
        "50",
        "-o",
        s(&model.join("vocab.txt")),
    ]);
    assert_one_line_error(&r, "belongs to the model folder");
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
        let r = wembed(&[
            "export",
            s(&model),
            "--format",
            format,
            "--limit",
            "5",
            "-o",
            "-",
        ]);
        let said = String::from_utf8_lossy(&r.stderr).into_owned();
        assert!(said.contains("to stdout ("), "{said}");
        let out = ok(&r);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5 + header as usize, "{format}: {out}");
        if header {
            assert_eq!(lines[0], "5 8");
        }
    }
    let r = wembed(&["export", s(&model), "--format", "npy", "-o", "-"]);
    let err = assert_one_line_error(&r, "name a file");
    assert!(
        err.contains("npy is binary"),
        "the format as users type it: {err}"
    );
    let out = ok(&wembed(&["vocab", &synth_corpus(), "-q", "-o", "-"]));
    let file = d.path().join("v.txt");
    ok(&wembed(&["vocab", &synth_corpus(), "-q", "-o", s(&file)]));
    assert!(
        out == std::fs::read_to_string(&file).unwrap(),
        "stdout differs from the file"
    );
    assert!(!Path::new("-").exists(), "a file named - was written");
}

fn config(model: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(model.join("config.json")).unwrap()).unwrap()
}

#[test]
fn a_fresh_run_never_overwrites_a_model_unless_forced() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    let before = std::fs::read(model.join("input.npy")).unwrap();
    let args = |dim: &'static str| {
        vec![
            "skipgram".to_string(),
            synth_corpus(),
            "-o".into(),
            s(&model).into(),
            "-q".into(),
            "--dim".into(),
            dim.into(),
            "--epochs".into(),
            "1".into(),
        ]
    };
    let run = |a: Vec<String>| wembed(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let err = assert_one_line_error(&run(args("4")), "already exists");
    assert!(err.contains("--resume") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(model.join("input.npy")).unwrap(), before);
    // A forced run that fails keeps the old model as it was.
    let mut failing = args("4");
    failing.extend(["--force".into(), "--min-count".into(), "100000000".into()]);
    assert_one_line_error(&run(failing), "no word occurs");
    assert_eq!(std::fs::read(model.join("input.npy")).unwrap(), before);
    // A forced run replaces the whole folder: no stale file of the old run, no staging folder.
    std::fs::write(model.join("stale.txt"), "old run").unwrap();
    let mut forced = args("4");
    forced.push("--force".into());
    ok(&run(forced));
    assert_eq!(config(&model)["hyperparameters"]["dim"], 4);
    assert!(!model.join("stale.txt").exists());
    assert_eq!(names(d.path()), ["m"], "staging or old folders left");
    assert_eq!(Embeddings::load(&model).unwrap().dim(), 4);
}

/// Starts a run in `cwd` and SIGKILLs it once its checkpoint has an epoch done.
fn kill_after_an_epoch(cwd: &Path, args: &[&str], model: &Path) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(args)
        .current_dir(cwd)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_while_running(&mut child, || {
        checkpoint_json(model).is_some_and(|v| v["epoch"].as_u64() >= Some(1))
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn resume_works_from_any_folder_and_follows_a_moved_corpus() {
    let d = tmp();
    let a = d.path().join("a");
    std::fs::create_dir(&a).unwrap();
    std::fs::copy(synth_corpus(), a.join("c.txt.gz")).unwrap();
    let train = [
        "skipgram",
        "c.txt.gz",
        "-o",
        "m",
        "-q",
        "--dim",
        "64",
        "--epochs",
        "6",
        "--threads",
        "1",
    ];
    kill_after_an_epoch(&a, &train, &a.join("m"));
    // The corpus moves; another corpus is refused.
    let b = d.path().join("b");
    std::fs::create_dir(&b).unwrap();
    std::fs::rename(a.join("c.txt.gz"), b.join("moved.gz")).unwrap();
    let other = b.join("other.gz");
    ok(&wembed(&[
        "synth",
        "--tokens",
        "100000",
        "--seed",
        "9",
        "-o",
        s(&other),
    ]));
    let resume = |extra: &[&str]| {
        let mut args = vec!["skipgram", "--resume", "a/m", "-q"];
        args.extend(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
            .args(&args)
            .current_dir(d.path())
            .output()
            .unwrap()
    };
    assert_one_line_error(&resume(&[]), "--corpus PATH");
    assert_one_line_error(&resume(&["--corpus", "b/other.gz"]), "is not the corpus");
    ok(&resume(&["--corpus", "b/moved.gz"]));
    let c = config(&a.join("m"));
    assert_eq!(c["resumed"], true);
    let stored = c["corpus"]["paths"][0].as_str().unwrap().to_string();
    assert!(
        Path::new(&stored).is_absolute() && stored.ends_with("b/moved.gz"),
        "{stored}"
    );
}

#[test]
fn bad_arguments_are_refused_before_any_work_or_file() {
    let d = tmp();
    let model = d.path().join("m");
    let corpus = synth_corpus();
    for bad in [
        &["--dim", "0"][..],
        &["--dim", "-5"],
        &["--window", "0"],
        &["--epochs", "0"],
        &["--negative", "0"],
        &["--lr", "-1"],
    ] {
        let mut args = vec!["skipgram", corpus.as_str(), "-o", s(&model), "-q"];
        args.extend(bad);
        let r = wembed(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{bad:?} accepted");
        assert_eq!(err.lines().count(), 1, "{bad:?}: {err}");
        assert!(err.starts_with("wembed: error: "), "{bad:?}: {err}");
        assert!(!err.contains("-- -5"), "clap's tip: {err}");
        assert!(!model.exists(), "{bad:?} left a folder behind");
    }
    for bad in [&["--dim", "0"][..], &["--window", "25"], &["--iter", "0"]] {
        let mut args = vec!["glove", corpus.as_str(), "-o", s(&model), "-q"];
        args.extend(bad);
        let r = wembed(&args);
        assert!(!r.status.success(), "glove {bad:?} accepted");
        assert!(!model.exists(), "glove {bad:?} left a folder behind");
    }
    // --threads 0 means all cores.
    ok(&wembed(&[
        "skipgram",
        &corpus,
        "-o",
        s(&model),
        "-q",
        "--dim",
        "8",
        "--epochs",
        "1",
        "--threads",
        "0",
    ]));
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(config(&model)["hyperparameters"]["threads"], cores);
}

#[test]
fn word2vec_and_fasttext_flags_mean_what_they_mean_there() {
    let d = tmp();
    let corpus = synth_corpus();
    let err = assert_one_line_error(
        &wembed(&["skipgram", "-train", &corpus, "-output", "y"]),
        "-train",
    );
    assert!(err.contains("wembed skipgram FILE -o DIR"), "{err}");
    assert_one_line_error(&wembed(&["skipgram", &corpus, "-cbow", "1"]), "wembed cbow");
    // word2vec C's spellings, single dash, with `-hs 1` and `-t` as fastText's sample.
    let m = d.path().join("c");
    ok(&wembed(&[
        "skipgram",
        &corpus,
        "-o",
        s(&m),
        "-q",
        "-size",
        "12",
        "-window",
        "3",
        "-negative",
        "2",
        "-hs",
        "1",
        "-iter",
        "1",
        "-min-count",
        "3",
        "-alpha",
        "0.01",
        "-threads",
        "1",
        "-t",
        "1e-3",
    ]));
    let h = &config(&m)["hyperparameters"];
    assert_eq!(
        (
            h["dim"].as_u64(),
            h["window"].as_u64(),
            h["negative"].as_u64()
        ),
        (Some(12), Some(3), Some(2))
    );
    assert_eq!(h["hs"], true);
    assert_eq!(h["epochs"], 1);
    assert_eq!(h["threads"], 1);
    assert_eq!(h["sample"].as_f64(), Some(1e-3));
    assert!((h["lr"].as_f64().unwrap() - 0.01).abs() < 1e-6);
    assert_eq!(config(&m)["vocab"]["options"]["min_count"], 3);
    // fastText's, and --hs 0 / --hs 1 with a space.
    let f = d.path().join("f");
    ok(&wembed(&[
        "cbow",
        &corpus,
        "-o",
        s(&f),
        "-q",
        "-dim",
        "10",
        "-ws",
        "2",
        "-epoch",
        "1",
        "-minCount",
        "4",
        "-neg",
        "3",
        "--hs",
        "0",
    ]));
    let h = &config(&f)["hyperparameters"];
    assert_eq!(
        (h["dim"].as_u64(), h["window"].as_u64()),
        (Some(10), Some(2))
    );
    assert_eq!(h["hs"], false);
    assert_eq!(config(&f)["vocab"]["options"]["min_count"], 4);
}

#[test]
fn a_vocabulary_is_not_a_vectors_file() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    let q = format!(
        "{}/corpora/synth-similarity.tsv",
        env!("CARGO_MANIFEST_DIR")
    );
    for cmd in [
        vec!["eval", "VOCAB", "--similarity", q.as_str()],
        vec!["neighbors", "VOCAB", "gafefor"],
        vec!["export", "VOCAB", "--format", "npy", "-o", "x.npy"],
    ] {
        let vocab = model.join("vocab.txt");
        let args: Vec<&str> = cmd
            .iter()
            .map(|a| if *a == "VOCAB" { s(&vocab) } else { a })
            .collect();
        assert_one_line_error(&wembed(&args), "a vocabulary (word<TAB>count), not vectors");
    }
}

#[test]
fn the_lm_takes_its_width_from_the_vectors_and_logs_no_nan() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    let corpus = synth_corpus();
    let run = |out: &str, extra: &[&str]| {
        let out = d.path().join(out);
        let mut args = vec![
            "lm",
            "train",
            "--corpus",
            &corpus,
            "--init",
            s(&model),
            "--vocab-size",
            "200",
            "--layers",
            "1",
            "--heads",
            "2",
            "--context",
            "16",
            "--batch",
            "4",
            "--steps",
            "6",
            "--eval-every",
            "3",
            "--valid-tokens",
            "256",
            "--checkpoint-secs",
            "0",
        ];
        args.extend(extra);
        args.extend(["-o", out.to_str().unwrap()]);
        (wembed(&args), out)
    };
    let (r, out) = run("lm", &[]);
    ok(&r);
    let log = String::from_utf8_lossy(&r.stderr);
    assert!(!log.contains("NaN"), "{log}");
    assert!(log.contains("train loss"), "{log}");
    assert_eq!(config(&out)["model"]["dim"], 8, "width of the vectors");
    // The folder now holds a run: a second one is refused unless forced.
    let (r, _) = run("lm", &[]);
    assert_one_line_error(&r, "wembed lm train --resume");
    let (r, _) = run("lm", &["--force"]);
    ok(&r);
    // An explicit --dim that differs still needs --project.
    let (r, _) = run("lm2", &["--dim", "16"]);
    assert_one_line_error(&r, "--project");
}

/// stderr is a pipe here, as in nohup, slurm or CI logs: progress comes as periodic lines that
/// show the rate, the ETA and the loss (GloVe: records/s, iteration and cost).
#[test]
fn a_logged_run_shows_progress_and_loss() {
    let d = tmp();
    let corpus = synth_corpus();
    let m = d.path().join("sg");
    let r = wembed(&[
        "skipgram",
        &corpus,
        "-o",
        s(&m),
        "--dim",
        "100",
        "--epochs",
        "5",
        "--threads",
        "1",
        "--log-every",
        "1",
    ]);
    let log = ok_log(&r);
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("words/s/thread") && !l.contains(" -> "))
        .collect();
    assert!(!lines.is_empty(), "no progress line: {log}");
    for l in &lines {
        assert!(
            l.contains('%') && l.contains("loss ") && l.contains("ETA"),
            "{l}"
        );
    }
    let summary = log.lines().last().unwrap();
    assert!(summary.contains("loss "), "{summary}");
    let losses: Vec<f64> = config(&m)["training"]["epoch_loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(losses.len(), 5, "{losses:?}");
    assert!(
        losses.iter().all(|l| l.is_finite() && *l > 0.0),
        "{losses:?}"
    );
    assert!(losses[4] < losses[0], "the loss did not fall: {losses:?}");

    let g = d.path().join("g");
    let r = wembed(&[
        "glove",
        &corpus,
        "-o",
        s(&g),
        "--dim",
        "50",
        "--iter",
        "6",
        "--threads",
        "1",
        "--log-every",
        "1",
    ]);
    let log = ok_log(&r);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("records/s")).collect();
    assert!(!lines.is_empty(), "no progress line: {log}");
    // A line drawn as an iteration starts shows the iteration before any cost of its own.
    assert!(lines.iter().any(|l| l.contains(" cost ")), "{log}");
    for l in &lines {
        assert!(l.contains(" iter ") && !l.contains("lr"), "{l}");
    }
    // --quiet: nothing but the summary.
    let r = wembed(&[
        "skipgram",
        &corpus,
        "-o",
        s(&d.path().join("q")),
        "-q",
        "--dim",
        "8",
        "--epochs",
        "1",
        "--log-every",
        "1",
    ]);
    assert_eq!(ok_log(&r).lines().count(), 1);
}

fn ok_log(r: &std::process::Output) -> String {
    ok(r);
    String::from_utf8_lossy(&r.stderr).into_owned()
}

#[test]
fn ctrl_c_names_the_resume_command() {
    let d = tmp();
    let m = d.path().join("m");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args([
            "skipgram",
            &synth_corpus(),
            "-o",
            s(&m),
            "-q",
            "--dim",
            "64",
            "--epochs",
            "8",
            "--threads",
            "1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_while_running(&mut child, || m.join("checkpoint.json").exists());
    crate::common::send_signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    let wanted = format!("wembed skipgram --resume {}", m.display());
    assert!(err.contains(&wanted), "{err}");
    ok(&wembed(&["skipgram", "--resume", s(&m), "-q"]));
}

#[test]
fn a_killed_forced_run_keeps_the_old_model_and_its_resume_replaces_it() {
    let d = tmp();
    let model = small_model(d.path(), "m");
    let before = std::fs::read(model.join("input.npy")).unwrap();
    let staging = d.path().join(".m.new");
    let corpus = synth_corpus();
    let args = [
        "skipgram",
        &corpus,
        "-o",
        s(&model),
        "-q",
        "--force",
        "--dim",
        "64",
        "--epochs",
        "6",
        "--threads",
        "1",
    ];
    kill_after_an_epoch(d.path(), &args, &staging);
    assert_eq!(std::fs::read(model.join("input.npy")).unwrap(), before);
    ok(&wembed(&["skipgram", "--resume", s(&staging), "-q"]));
    assert_eq!(config(&model)["hyperparameters"]["dim"], 64);
    assert_eq!(names(d.path()), ["m"], "staging folder left");
}

#[test]
fn a_killed_forced_lm_run_resumes_into_the_folder_it_replaces() {
    let d = tmp();
    let corpus = synth_corpus();
    let lm = d.path().join("lm");
    let staging = d.path().join(".lm.new");
    let args = |steps: &str, force: bool| {
        let mut a = vec![
            "lm",
            "train",
            "--corpus",
            &corpus,
            "--vocab-size",
            "200",
            "--dim",
            "16",
            "--layers",
            "1",
            "--heads",
            "2",
            "--context",
            "8",
            "--batch",
            "4",
            "--eval-every",
            "20",
            "--valid-tokens",
            "64",
            "-q",
            "--checkpoint-secs",
            "0",
            "--steps",
            steps,
            "-o",
            s(&lm),
        ];
        if force {
            a.push("--force");
        }
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    let first: Vec<String> = args("4", false);
    ok(&wembed(
        &first.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let forced = args("1500", true);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(&forced)
        .spawn()
        .unwrap();
    wait_while_running(&mut child, || staging.join("model.safetensors").exists());
    std::thread::sleep(std::time::Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        config(&lm)["training"]["options"]["steps"],
        4,
        "old model kept"
    );
    let resume = [
        "lm",
        "train",
        "--resume",
        s(&staging),
        "-q",
        "--steps",
        "1500",
    ];
    ok(&wembed(&resume));
    assert_eq!(config(&lm)["training"]["options"]["steps"], 1500);
    assert!(!staging.exists());
}
