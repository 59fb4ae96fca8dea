//! `--threads 1 --seed S` output pinned bit for bit: a refactor (or a change that only observes
//! training, such as the loss it reports) that alters a single bit of the vectors fails here.
//! When a change is meant to alter the vectors, its commit says so and updates these pins.

use crate::common::*;

fn corpus() -> String {
    format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"))
}

/// CRC-32 of each matrix of the model trained by `args` (plus the common flags).
fn digests(args: &[&str], files: &[&str]) -> Vec<String> {
    let d = tmp();
    let m = d.path().join("m");
    let corpus = corpus();
    let mut all = vec![args[0], corpus.as_str(), "-o", m.to_str().unwrap(), "-q"];
    all.extend(["--threads", "1", "--seed", "7"]);
    all.extend(&args[1..]);
    let r = wembed(&all);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(m.join(f)).unwrap();
            format!("{f}:{:08x}", crc32fast::hash(&bytes))
        })
        .collect()
}

/// The subword CBOW run both pins use.
const SUBWORD_CBOW: [&str; 8] = [
    "cbow",
    "--dim",
    "16",
    "--epochs",
    "1",
    "--subwords",
    "--bucket",
    "5000",
];

#[test]
fn single_thread_runs_are_pinned() {
    let both = ["input.npy", "output.npy"];
    let cases: [(&[&str], &[&str]); 8] = [
        (&["skipgram", "--dim", "16", "--epochs", "2"], &both),
        // A dimension the window's updates are compiled for (taken before that path existed).
        (&["skipgram", "--dim", "100", "--epochs", "1"], &both),
        (
            &[
                "skipgram",
                "--dim",
                "16",
                "--epochs",
                "1",
                "--pair-negatives",
            ],
            &both,
        ),
        (
            &[
                "skipgram",
                "--dim",
                "16",
                "--epochs",
                "1",
                "--hs",
                "--negative",
                "0",
            ],
            &["input.npy", "hs-nodes.npy"],
        ),
        (&["cbow", "--dim", "16", "--epochs", "2"], &both),
        (
            &["glove", "--dim", "16", "--iter", "2"],
            &["input.npy", "output.npy", "bias.npy"],
        ),
        (
            &[
                "skipgram",
                "--dim",
                "16",
                "--epochs",
                "1",
                "--subwords",
                "--bucket",
                "5000",
            ],
            &both,
        ),
        (&SUBWORD_CBOW, &both),
    ];
    let mut seen = Vec::new();
    for (args, files) in cases {
        seen.push(format!(
            "{} {}",
            args.join(" "),
            digests(args, files).join(" ")
        ));
    }
    let expected = [
        "skipgram --dim 16 --epochs 2 input.npy:2f97a35c output.npy:4c02c542",
        "skipgram --dim 100 --epochs 1 input.npy:8e594f1c output.npy:d0d19ba9",
        "skipgram --dim 16 --epochs 1 --pair-negatives input.npy:efd32f1f output.npy:634db969",
        "skipgram --dim 16 --epochs 1 --hs --negative 0 input.npy:c9254660 hs-nodes.npy:09095c9e",
        "cbow --dim 16 --epochs 2 input.npy:69a7a052 output.npy:5413599f",
        "glove --dim 16 --iter 2 input.npy:9434f7b7 output.npy:dd38b46c bias.npy:8a2d6ea6",
        "skipgram --dim 16 --epochs 1 --subwords --bucket 5000 input.npy:10d74066 output.npy:e1daab9c",
        "cbow --dim 16 --epochs 1 --subwords --bucket 5000 input.npy:a259dcf2 output.npy:fd3efba9",
    ];
    assert_eq!(seen, expected, "digests changed");
}

/// `--compat word2vec` is the C tool's algorithm and defaults (5 epochs, negatives per pair):
/// pinned to the digests wembed gave for `--epochs 5 --pair-negatives` (skip-gram) and `--epochs
/// 5` (CBOW) before its own defaults moved to 9 epochs and shared negatives. Without the flag the
/// defaults differ, so the digests must too.
#[test]
fn compat_word2vec_is_the_old_algorithm() {
    let both = ["input.npy", "output.npy"];
    let compat = |arch| digests(&[arch, "--dim", "16", "--compat", "word2vec"], &both).join(" ");
    let skipgram = compat("skipgram");
    assert_eq!(skipgram, "input.npy:3b83a1fa output.npy:eb2f680a");
    assert_eq!(compat("cbow"), "input.npy:9cba9b2a output.npy:223a47df");
    let explicit = digests(
        &[
            "skipgram",
            "--dim",
            "16",
            "--epochs",
            "5",
            "--pair-negatives",
        ],
        &both,
    );
    assert_eq!(explicit.join(" "), skipgram);
    let ours = digests(&["skipgram", "--dim", "16", "--epochs", "5"], &both);
    assert_ne!(ours.join(" "), skipgram, "shared negatives are the default");
}

/// The LM's losses (train and validation at each evaluation) for a fixed seed, pinned: columns of
/// time and speed are left out, everything the model computes is in.
#[test]
fn lm_metrics_are_pinned() {
    let d = tmp();
    let out = d.path().join("lm");
    let corpus = corpus();
    let r = wembed(&[
        "lm",
        "train",
        "--corpus",
        &corpus,
        "--vocab-size",
        "300",
        "--dim",
        "16",
        "--layers",
        "1",
        "--heads",
        "2",
        "--context",
        "16",
        "--batch",
        "4",
        "--steps",
        "20",
        "--eval-every",
        "10",
        "--valid-tokens",
        "256",
        "--seed",
        "3",
        "-q",
        "--checkpoint-secs",
        "0",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let losses: String = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join(";");
    let digest = format!("{:08x}", crc32fast::hash(losses.as_bytes()));
    assert_eq!(digest, "ad99db83", "LM losses changed: {losses}");
}

/// `--subwords` takes fastText's lr, exponent and per-pair negatives as its defaults; CBOW with
/// word2vec's exponent typed is pinned too, so that a change to one shows apart from the other.
/// (Its digest moved once since: with the window's row sums, `word2vec::cbow_sums`.)
#[test]
fn subword_cbow_at_word2vecs_exponent_is_pinned() {
    let both = ["input.npy", "output.npy"];
    let args = SUBWORD_CBOW;
    let old = digests(&[&args[..], &["--ns-exponent", "0.75"]].concat(), &both);
    assert_eq!(old.join(" "), "input.npy:310456c6 output.npy:47d854e6");
}
