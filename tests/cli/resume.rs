//! Checkpoint and resume: a word2vec run killed with SIGKILL part-way continues from its last
//! checkpoint to the same total of words and the same quality as an uninterrupted run.

use crate::common::{assert_one_line_error, kill_when, p, tmp, wembed};
use std::path::Path;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Analogy accuracy of a model folder's word vectors W (`input.npy`): what these checks were
/// calibrated on (a GloVe folder's own vectors, which `eval MODEL` scores, are W + W~).
fn accuracy(model: &Path, questions: &Path) -> f64 {
    let w = model.join("input.npy");
    let out = wembed(&[
        "eval",
        w.to_str().unwrap(),
        "--analogy",
        questions.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &j["analogy"]["total"];
    t["correct"].as_f64().unwrap() / t["answered"].as_f64().unwrap()
}

#[test]
fn killed_run_resumes_to_the_same_words_and_quality() {
    let d = tmp();
    let (corpus, questions) = (p(&d, "c.txt"), p(&d, "q.txt"));
    let out = wembed(&[
        "synth",
        "--tokens",
        "3000000",
        "--seed",
        "4",
        "-o",
        corpus.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    // 15 negatives make each epoch last long enough (over a second) for a mid-epoch checkpoint.
    let settings = [
        "--dim",
        "32",
        "--negative",
        "15",
        "--epochs",
        "6",
        "--threads",
        "2",
        "--seed",
        "2",
        "-q",
    ];
    let c = corpus.to_str().unwrap();

    let full = p(&d, "full");
    let mut args = vec!["skipgram", c, "-o", full.to_str().unwrap()];
    args.extend(settings);
    let out = wembed(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Start the same run with a checkpoint every second; SIGKILL it once a mid-epoch checkpoint
    // (one with corpus positions) is on disk.
    let model = p(&d, "killed");
    let mut args = vec![
        "skipgram",
        c,
        "-o",
        model.to_str().unwrap(),
        "--checkpoint-secs",
        "1",
    ];
    args.extend(settings);
    let state_path = model.join("checkpoint.json");
    let killed_state = kill_when(&args, &state_path, |st| {
        st["positions"].as_array().is_some_and(|p| !p.is_empty())
    });
    assert!(
        !model.join("input.npy").exists(),
        "no final file before the run completes"
    );
    assert!(model.join(".input.npy.partial").exists());
    assert!(model.join(".output.npy.partial").exists());
    let done_at_kill = killed_state["words_done"].as_u64().unwrap();

    // A conflicting flag is refused; so is a folder with nothing to resume.
    let conflict = wembed(&[
        "skipgram",
        "--resume",
        model.to_str().unwrap(),
        "--dim",
        "64",
        "-q",
    ]);
    assert_one_line_error(&conflict, "--dim");
    let nothing = wembed(&["skipgram", "--resume", full.to_str().unwrap(), "-q"]);
    assert_one_line_error(&nothing, "nothing to resume");
    let wrong = wembed(&["cbow", "--resume", model.to_str().unwrap(), "-q"]);
    assert_one_line_error(&wrong, "skipgram");

    // The same value as stored is not a conflict.
    let out = wembed(&[
        "skipgram",
        "--resume",
        model.to_str().unwrap(),
        "--dim",
        "32",
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !state_path.exists(),
        "checkpoint.json is removed once the outputs are complete"
    );
    assert!(!model.join(".input.npy.partial").exists());
    assert!(model.join("vectors.bin").exists());

    let (cfg_full, cfg_resumed) = (
        json(&full.join("config.json")),
        json(&model.join("config.json")),
    );
    let vocab_total = cfg_full["vocab"]["train_tokens"].as_u64().unwrap();
    let words_full = cfg_full["training"]["words"].as_u64().unwrap();
    let words_resumed = cfg_resumed["training"]["words"].as_u64().unwrap();
    assert_eq!(words_full, vocab_total * 6);
    assert_eq!(words_resumed, words_full, "killed at {done_at_kill} words");
    assert!(done_at_kill > 0 && done_at_kill < words_full);
    assert_eq!(cfg_resumed["resumed"], true);

    let (acc_full, acc_resumed) = (accuracy(&full, &questions), accuracy(&model, &questions));
    assert!(acc_full > 0.5, "uninterrupted accuracy {acc_full}");
    assert!(
        (acc_full - acc_resumed).abs() < 0.08,
        "resumed {acc_resumed} vs uninterrupted {acc_full}"
    );
}

#[test]
fn checkpointing_does_not_change_a_reproducible_run() {
    let d = tmp();
    let corpus = p(&d, "c.txt");
    assert!(wembed(&[
        "synth",
        "--tokens",
        "300000",
        "-o",
        corpus.to_str().unwrap()
    ])
    .status
    .success());
    let run = |name: &str, secs: &str| {
        let dir = p(&d, name);
        let out = wembed(&[
            "skipgram",
            corpus.to_str().unwrap(),
            "-o",
            dir.to_str().unwrap(),
            "--threads",
            "1",
            "--seed",
            "9",
            "--dim",
            "16",
            "--epochs",
            "2",
            "--checkpoint-secs",
            secs,
            "-q",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            std::fs::read(dir.join("input.npy")).unwrap(),
            std::fs::read(dir.join("output.npy")).unwrap(),
        )
    };
    let (a, b, c) = (run("a", "0"), run("b", "0"), run("c", "1"));
    assert!(
        a == b,
        "--threads 1 --seed 9 must give bit-identical matrices"
    );
    assert!(a == c, "checkpointing must not change the result");
}

#[test]
fn killed_glove_run_resumes_after_its_last_iteration() {
    let d = tmp();
    let (corpus, questions) = (p(&d, "c.txt"), p(&d, "q.txt"));
    let out = wembed(&[
        "synth",
        "--tokens",
        "1000000",
        "--seed",
        "8",
        "-o",
        corpus.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let c = corpus.to_str().unwrap();
    let settings = ["--dim", "50", "--iter", "15", "--threads", "2", "-q"];

    let full = p(&d, "full");
    let mut args = vec!["glove", c, "-o", full.to_str().unwrap()];
    args.extend(settings);
    assert!(wembed(&args).status.success());

    let model = p(&d, "killed");
    let mut args = vec!["glove", c, "-o", model.to_str().unwrap()];
    args.extend(settings);
    let state_path = model.join("checkpoint.json");
    let state = kill_when(&args, &state_path, |st| st["iter_done"].as_u64() >= Some(3));
    let iter_at_kill = state["iter_done"].as_u64().unwrap();
    assert!(iter_at_kill < 15);
    assert!(model.join(".records.bin.partial").exists());
    assert!(!model.join("input.npy").exists());
    let conflict = wembed(&[
        "glove",
        "--resume",
        model.to_str().unwrap(),
        "--iter",
        "10",
        "-q",
    ]);
    assert_one_line_error(&conflict, "--iter");

    let out = wembed(&["glove", "--resume", model.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!state_path.exists());
    let leftovers: Vec<String> = std::fs::read_dir(&model)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let cfg = json(&model.join("config.json"));
    assert_eq!(cfg["training"]["cost"].as_array().unwrap().len(), 15);
    let cfg_full = json(&full.join("config.json"));
    assert_eq!(cfg["training"]["records"], cfg_full["training"]["records"]);
    let (acc_full, acc_resumed) = (accuracy(&full, &questions), accuracy(&model, &questions));
    assert!(acc_full > 0.25, "uninterrupted accuracy {acc_full}");
    assert!(
        (acc_full - acc_resumed).abs() < 0.1,
        "resumed {acc_resumed} vs uninterrupted {acc_full} (killed after iteration {iter_at_kill})"
    );
}

#[test]
fn glove_resumes_from_inside_an_iteration() {
    let d = tmp();
    let corpus = p(&d, "c.txt");
    assert!(wembed(&[
        "synth",
        "--tokens",
        "4000000",
        "--seed",
        "6",
        "-o",
        corpus.to_str().unwrap()
    ])
    .status
    .success());
    let model = p(&d, "m");
    let args = [
        "glove",
        corpus.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        // Wide enough that one iteration outlasts the one-second checkpoint interval.
        "--dim",
        "200",
        "--iter",
        "3",
        "--threads",
        "2",
        "--checkpoint-secs",
        "1",
        "-q",
    ];
    let state = kill_when(&args, &model.join("checkpoint.json"), |st| {
        st["positions"].as_array().is_some_and(|p| !p.is_empty())
    });
    let done: u64 = state["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(done > 0 && done < state["records"].as_u64().unwrap());
    let out = wembed(&["glove", "--resume", model.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("records into the next"), "{err}");
    let cfg = json(&model.join("config.json"));
    let costs = cfg["training"]["cost"].as_array().unwrap();
    assert_eq!(costs.len(), 3);
    let c: Vec<f64> = costs.iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(
        c.iter().all(|x| x.is_finite() && *x > 0.0) && c[2] < c[0],
        "{c:?}"
    );
}

/// Starts `args` and SIGKILLs it a random few milliseconds after its checkpoint reaches
/// snapshot generation `generation`; false if the run finished first.
fn kill_after_snapshot(args: &[String], model: &Path, generation: u64, extra_ms: u64) -> bool {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if crate::common::checkpoint_json(model)
            .is_some_and(|v| v["snapshot"].as_u64() >= Some(generation))
        {
            std::thread::sleep(std::time::Duration::from_millis(extra_ms));
            let _ = child.kill();
            let status = child.wait().unwrap();
            return !status.success();
        }
        assert!(start.elapsed().as_secs() < 60, "no checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn matrices(model: &Path) -> Vec<Vec<u8>> {
    ["input.npy", "output.npy", "bias.npy", "hs-nodes.npy"]
        .iter()
        .filter_map(|f| std::fs::read(model.join(f)).ok())
        .collect()
}

/// A --threads 1 run SIGKILLed at random moments (mid-epoch and mid-iteration included)
/// resumes to the same bytes as the run never interrupted: skip-gram, CBOW and GloVe.
#[test]
fn resumes_after_kills_at_random_moments_are_bit_identical() {
    let d = tmp();
    let corpus = p(&d, "c.txt");
    assert!(wembed(&[
        "synth",
        "--tokens",
        "400000",
        "--seed",
        "3",
        "-o",
        corpus.to_str().unwrap()
    ])
    .status
    .success());
    let c = corpus.to_str().unwrap().to_string();
    let runs: [(&str, Vec<&str>); 4] = [
        ("skipgram", vec!["--dim", "32", "--epochs", "3"]),
        ("cbow", vec!["--dim", "32", "--epochs", "3"]),
        ("glove", vec!["--dim", "16", "--iter", "10"]),
        (
            "skipgram",
            vec![
                "--dim",
                "16",
                "--epochs",
                "3",
                "--subwords",
                "--bucket",
                "5000",
            ],
        ),
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut kills = 0;
    for (run, (trainer, extra)) in runs.iter().enumerate() {
        let args = |out: &Path, every: &str| -> Vec<String> {
            let mut a = vec![trainer.to_string(), c.clone(), "-o".into()];
            a.push(out.to_str().unwrap().into());
            for s in [
                "-q",
                "--threads",
                "1",
                "--seed",
                "5",
                "--checkpoint-secs",
                every,
            ] {
                a.push(s.into());
            }
            a.extend(extra.iter().map(|s| s.to_string()));
            a
        };
        let reference = p(&d, &format!("{run}-{trainer}-ref"));
        let r = wembed(
            &args(&reference, "0")
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let want = matrices(&reference);
        for point in 0..8u64 {
            let k = p(&d, &format!("{run}-{trainer}-{point}"));
            let generation = 1 + random(6);
            if !kill_after_snapshot(&args(&k, "0.03"), &k, generation, random(25)) {
                continue;
            }
            kills += 1;
            let r = wembed(&[trainer, "--resume", k.to_str().unwrap(), "-q"]);
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
            assert!(
                matrices(&k) == want,
                "{trainer}: resume after a kill past snapshot {generation} differs"
            );
            std::fs::remove_dir_all(&k).unwrap();
        }
    }
    assert!(
        kills >= 20,
        "only {kills} runs were killed before they finished"
    );
}

/// Through the library: a run stopped by its stop flag right after its first mid-run checkpoint
/// resumes to the bytes of the run never stopped (skip-gram and GloVe, one thread).
#[test]
fn a_stopped_library_run_resumes_to_the_uninterrupted_bytes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use wembed::run::glove::{Checkpoints, GloveResume, GloveRun};
    use wembed::run::word2vec::{Word2VecResume, Word2VecRun};
    use wembed::run::{Input, Silent};
    let d = tmp();
    let corpus = p(&d, "c.txt");
    let lang = wembed::synth::Language::new(&wembed::synth::SynthOptions::default()).unwrap();
    let mut text = Vec::new();
    lang.write_corpus(400_000, &mut text).unwrap();
    std::fs::write(&corpus, text).unwrap();
    let input = Input::new(vec![corpus.clone()]);
    // Sets the flag once the folder holds a checkpoint.
    let stop_at_checkpoint = |dir: &Path| {
        let flag = Arc::new(AtomicBool::new(false));
        let (f, ckpt) = (flag.clone(), dir.join("checkpoint.json"));
        let watcher = std::thread::spawn(move || {
            while !ckpt.exists() {
                std::thread::sleep(Duration::from_millis(2));
            }
            f.store(true, Ordering::Relaxed);
        });
        (flag, watcher)
    };
    let every = Some(Duration::from_millis(30));

    let config = wembed::word2vec::Word2VecConfig {
        dim: 32,
        epochs: 3,
        threads: 1,
        seed: 5,
        ..Default::default()
    };
    let reference = p(&d, "sg-ref");
    let run = |out: &Path| Word2VecRun::new(config.clone(), input.clone(), out.to_path_buf());
    wembed::run::word2vec::fresh(
        &Word2VecRun {
            checkpoint_every: None,
            ..run(&reference)
        },
        &Silent,
    )
    .unwrap();
    let k = p(&d, "sg-stopped");
    let (flag, watcher) = stop_at_checkpoint(&k);
    let stopped = Word2VecRun {
        checkpoint_every: every,
        stop: Some(flag),
        ..run(&k)
    };
    let e = wembed::run::word2vec::fresh(&stopped, &Silent).unwrap_err();
    assert!(matches!(e, wembed::Error::Interrupted { .. }), "{e}");
    watcher.join().unwrap();
    let resume = Word2VecResume {
        dir: k.clone(),
        architecture: config.architecture,
        overrides: Default::default(),
        input: Default::default(),
        checkpoint_every: every,
        stop: None,
    };
    wembed::run::word2vec::resume(&resume, &Silent)
        .unwrap_or_else(|e| panic!("skip-gram resume: {e}"));
    assert_eq!(
        matrices(&reference),
        matrices(&k),
        "skip-gram differs after stop and resume"
    );

    let config = wembed::glove::GloveConfig {
        dim: 16,
        iter: 8,
        threads: 1,
        seed: 5,
        ..Default::default()
    };
    let run = |out: &Path| GloveRun::new(config.clone(), input.clone(), out.to_path_buf());
    let reference = p(&d, "glove-ref");
    wembed::run::glove::fresh(
        &GloveRun {
            checkpoints: Checkpoints::Off,
            ..run(&reference)
        },
        &Silent,
    )
    .unwrap();
    let k = p(&d, "glove-stopped");
    let (flag, watcher) = stop_at_checkpoint(&k);
    let stopped = GloveRun {
        checkpoints: Checkpoints::Every(Duration::from_millis(30)),
        stop: Some(flag),
        ..run(&k)
    };
    let e = wembed::run::glove::fresh(&stopped, &Silent).unwrap_err();
    assert!(matches!(e, wembed::Error::Interrupted { .. }), "{e}");
    watcher.join().unwrap();
    let resume = GloveResume {
        dir: k.clone(),
        overrides: Default::default(),
        input: Default::default(),
        checkpoints: Checkpoints::Off,
        vectors_bin: wembed::run::glove::VECTORS_BIN,
        stop: None,
    };
    wembed::run::glove::resume(&resume, &Silent).unwrap_or_else(|e| panic!("GloVe resume: {e}"));
    assert_eq!(
        matrices(&reference),
        matrices(&k),
        "GloVe differs after stop and resume"
    );
}
