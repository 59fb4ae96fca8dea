//! fastText's `.bin`: models trained by `fasttext` (apt-get install fasttext; `.ci/run` installs
//! it) read by wembed give `fasttext print-word-vectors`'s vectors, in-vocabulary and not; a `.bin`
//! wembed writes loads in fastText; a damaged one is a one-line error.

use crate::common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use wembed::subword::Subwords;
use wembed::vectors::fasttext::{self, Args, FastTextModel, FastTextParts, Loss, Model};
use wembed::vectors::Embeddings;

pub(crate) fn have_fasttext() -> bool {
    let found = Command::new("fasttext").output().is_ok();
    assert!(
        found || std::env::var_os("CI").is_none(),
        "CI needs fasttext (apt-get install fasttext)"
    );
    if !found {
        eprintln!("fasttext not found (apt-get install fasttext): its checks are skipped");
    }
    found
}

/// The first `lines` lines of the synthetic corpus, as plain text (fastText reads no gzip).
fn corpus_text(dir: &Path, lines: usize) -> std::path::PathBuf {
    let gz = format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let cut: String = text.lines().take(lines).map(|l| format!("{l}\n")).collect();
    let path = dir.join("corpus.txt");
    std::fs::write(&path, cut).unwrap();
    path
}

/// `fasttext print-word-vectors MODEL` on `words`: one vector per word.
pub(crate) fn print_word_vectors(model: &Path, words: &[String]) -> Vec<Vec<f32>> {
    let mut child = Command::new("fasttext")
        .arg("print-word-vectors")
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = words.join("\n") + "\n";
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<f32>> = text
        .lines()
        .map(|l| {
            // The word may hold spaces only if fastText split it; ours do not.
            l.split(' ')
                .skip(1)
                .filter(|s| !s.is_empty())
                .map(|x| x.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), words.len());
    rows
}

/// Agreement within fastText's printing plus 1e-5: it prints 5 significant digits
/// (`setprecision(5)`), so 1.0842 stands for anything in 1.08415..1.08425, and `ours` comes
/// rounded through text as well, so a value on the edge (2.26155 printed by fastText as 2.2615)
/// needs the two roundings together, not the larger one.
pub(crate) fn assert_close(ours: &[f32], theirs: &[f32], word: &str) {
    assert_eq!(ours.len(), theirs.len(), "{word}");
    for (a, b) in ours.iter().zip(theirs) {
        let printed = if *b == 0.0 {
            0.0
        } else {
            0.5 * 10f32.powi(b.abs().log10().floor() as i32 - 4)
        };
        let tol = 1e-5 + printed;
        assert!((a - b).abs() <= tol, "{word}: {a} vs fastText {b}");
    }
}

/// `n` words that are not in `known`: made up, misspelt, inflected, non-ASCII (accents,
/// combining marks, CJK, emoji), one character. Built from the known words, so their n-grams
/// mostly exist in the model, as a user's unknown words do.
pub(crate) fn oov_words(known: &[String], n: usize) -> Vec<String> {
    let fixed = [
        "zzyzx",
        "qwertyuiop",
        "café",
        "naïveté",
        "東京都",
        "🙂🙂",
        "Straße",
        "x",
        "ab",
    ];
    let seen: std::collections::HashSet<&str> = known.iter().map(|w| w.as_str()).collect();
    let variants = |i: usize, w: &str| -> String {
        let tail: String = w.chars().skip(1).collect();
        match i % 8 {
            0 => format!("{w}ing"),
            1 => format!("un{w}"),
            2 => format!("é{tail}"),
            3 => format!("{w}ß"),
            4 => format!("東{w}"),
            5 => format!("{w}🙂"),
            6 => w.chars().rev().collect(),
            _ => format!("{w}e\u{301}"),
        }
    };
    // Each round over the known words adds its number, so a small vocabulary still gives `n`.
    let made = (0..).map(|i| {
        let round = i / (8 * known.len());
        let w = variants(i, &known[i % known.len()]);
        if round == 0 {
            w
        } else {
            format!("{w}{round}")
        }
    });
    let mut out: Vec<String> = Vec::with_capacity(n);
    for w in fixed.iter().map(|w| w.to_string()).chain(made) {
        if out.len() == n {
            break;
        }
        if !seen.contains(w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

#[test]
fn fasttext_models_read_as_fasttext_prints_them() {
    if !have_fasttext() {
        return;
    }
    let d = tmp();
    let text = corpus_text(d.path(), 20_000);
    let prefix = d.path().join("ft");
    let r = Command::new("fasttext")
        .args(["skipgram", "-input"])
        .arg(&text)
        .arg("-output")
        .arg(&prefix)
        .args([
            "-dim",
            "12",
            "-epoch",
            "1",
            "-minCount",
            "5",
            "-minn",
            "2",
            "-maxn",
            "5",
        ])
        .args(["-bucket", "20000", "-thread", "1", "-verbose", "0"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let bin = prefix.with_extension("bin");
    let model = FastTextModel::open(&bin).unwrap();
    assert_eq!(
        model.args.subwords,
        Subwords {
            minn: 2,
            maxn: 5,
            bucket: 20_000
        }
    );
    assert_eq!(
        (model.args.model, model.args.loss, model.dim()),
        (Model::SkipGram, Loss::Ns, 12)
    );
    let mut words: Vec<String> = model.words.iter().take(1000).cloned().collect();
    assert_eq!(
        words.len(),
        1000,
        "the model knows too few words for the check"
    );
    words.extend(oov_words(&model.words, 1000));
    let theirs = print_word_vectors(&bin, &words);
    let mut v = vec![0f32; 12];
    for (w, t) in words.iter().zip(&theirs) {
        model.word_vector(w, &mut v);
        assert_close(&v, t, w);
    }
    // Every wembed command reads it: its dictionary with the vectors fastText's .vec holds.
    let emb = Embeddings::load(&bin).unwrap();
    assert_eq!(emb.words, model.words);
    assert_close(emb.row(7), &theirs[7], &words[7]);
    let e = wembed(&["neighbors", bin.to_str().unwrap(), &words[3], "-k", "3"]);
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
    // `wembed vector` prints what fastText prints, unknown words included.
    let mut args = vec!["vector", bin.to_str().unwrap()];
    args.extend(words.iter().map(|w| w.as_str()));
    let r = wembed(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let printed = String::from_utf8(r.stdout).unwrap();
    assert_eq!(printed.lines().count(), words.len());
    for ((line, w), t) in printed.lines().zip(&words).zip(&theirs) {
        let mut f = line.split(' ');
        assert_eq!(f.next(), Some(w.as_str()));
        let v: Vec<f32> = f.map(|x| x.parse().unwrap()).collect();
        assert_close(&v, t, w);
    }
    // `wembed vector --ngrams` lists the rows `fasttext print-ngrams` lists, in its order.
    for w in words.iter().step_by(40) {
        let theirs = Command::new("fasttext")
            .arg("print-ngrams")
            .arg(&bin)
            .arg(w)
            .output()
            .unwrap();
        assert!(theirs.status.success());
        let ours = wembed(&["vector", bin.to_str().unwrap(), "--ngrams", w]);
        assert!(
            ours.status.success(),
            "{}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let (ours, theirs) = (named_rows(&ours.stdout), named_rows(&theirs.stdout));
        assert!(!theirs.is_empty(), "{w}");
        assert_eq!(ours.len(), theirs.len(), "{w}");
        for ((g, v), (h, t)) in ours.iter().zip(&theirs) {
            assert_eq!(g, h, "{w}");
            assert_close(v, t, g);
        }
    }
}

/// Lines of `name v1 v2 ...`.
fn named_rows(out: &[u8]) -> Vec<(String, Vec<f32>)> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let mut f = l.split(' ').filter(|s| !s.is_empty());
            let name = f.next().unwrap().to_string();
            (name, f.map(|x| x.parse().unwrap()).collect())
        })
        .collect()
}

/// A word-only model answers for its vocabulary; an unknown word is a row of zeros and a warning,
/// and words may come from stdin.
#[test]
fn vector_prints_rows_and_zeros_for_unknown_words() {
    let d = tmp();
    let m = d.path().join("m");
    let corpus = format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"));
    let r = wembed(&[
        "skipgram",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--dim",
        "8",
        "--epochs",
        "1",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let emb = Embeddings::load(&m).unwrap();
    let known = emb.words[5].clone();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wembed"))
        .args(["vector", m.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Invalid UTF-8 is replaced, as everywhere: "\u{FFFD}word" is one more unknown word.
    let mut input = format!("{known} no-such-word\n").into_bytes();
    input.push(0xff);
    input.extend(format!("{known}\n").as_bytes());
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let row = |l: &str| {
        l.split(' ')
            .skip(1)
            .map(|x| x.parse::<f32>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(row(lines[0]), emb.row(5));
    assert!(lines[1].starts_with("no-such-word ") && row(lines[1]).iter().all(|&x| x == 0.0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 word(s)") && err.contains("no subwords"),
        "{err}"
    );
    // A word-only model has no n-grams to list: one line, before stdin is read.
    let r = wembed(&["vector", m.to_str().unwrap(), "--ngrams", &known]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && r.stdout.is_empty(), "{err}");
    assert!(
        err.contains("no n-grams") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// A `.bin` written by wembed loads in fastText and gives the same vectors there as here.
#[test]
fn written_bins_load_in_fasttext() {
    if !have_fasttext() {
        return;
    }
    let d = tmp();
    let words: Vec<String> = ["</s>", "the", "cat", "sat", "on", "mat", "über", "日本"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let counts: Vec<u64> = (0..words.len() as u64).map(|i| 100 - i).collect();
    let (dim, bucket) = (6, 50);
    let noise = |n: usize, salt: u32| -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32 * 2_654_435_761) ^ salt) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    };
    let input = noise((words.len() + bucket) * dim, 7);
    let output = noise(words.len() * dim, 11);
    let args = Args {
        dim,
        ws: 5,
        epoch: 5,
        min_count: 1,
        neg: 5,
        word_ngrams: 1,
        loss: Loss::Ns,
        model: Model::SkipGram,
        subwords: Subwords {
            minn: 3,
            maxn: 6,
            bucket,
        },
        lr_update_rate: 100,
        t: 1e-4,
    };
    let bin = d.path().join("w.bin");
    let parts = FastTextParts {
        args: args.clone(),
        words: &words,
        counts: &counts,
        ntokens: 1000,
        input: &input,
        output: &output,
    };
    fasttext::write(&bin, &parts).unwrap();
    let model = FastTextModel::open(&bin).unwrap();
    assert_eq!(
        (&model.args, &model.words, &model.counts),
        (&args, &words, &counts)
    );
    let mut query = words[1..].to_vec();
    query.extend(oov_words(&words, 200));
    let theirs = print_word_vectors(&bin, &query);
    let mut v = vec![0f32; dim];
    for (w, t) in query.iter().zip(&theirs) {
        model.word_vector(w, &mut v);
        assert_close(&v, t, w);
    }
}

/// Every prefix of a valid `.bin`, and the valid file with its size fields changed, is refused
/// with an error, never a panic or a huge allocation.
#[test]
fn damaged_bins_are_errors() {
    let d = tmp();
    let words: Vec<String> = ["a", "bb", "ccc"].iter().map(|s| s.to_string()).collect();
    let args = Args {
        dim: 4,
        ws: 5,
        epoch: 1,
        min_count: 1,
        neg: 5,
        word_ngrams: 1,
        loss: Loss::Ns,
        model: Model::Cbow,
        subwords: Subwords {
            minn: 1,
            maxn: 2,
            bucket: 5,
        },
        lr_update_rate: 100,
        t: 1e-4,
    };
    let good = d.path().join("good.bin");
    let parts = FastTextParts {
        args,
        words: &words,
        counts: &[3, 2, 1],
        ntokens: 6,
        input: &[0.5; 32],
        output: &[0.25; 12],
    };
    fasttext::write(&good, &parts).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    assert!(FastTextModel::open(&good).is_ok());
    let bad = d.path().join("bad.bin");
    for len in 0..bytes.len() {
        std::fs::write(&bad, &bytes[..len]).unwrap();
        assert!(
            FastTextModel::open(&bad).is_err(),
            "prefix of {len} bytes read"
        );
    }
    // Each 4-byte field of the header and dictionary counts, set to huge and negative values.
    for at in (8..80).step_by(4) {
        for v in [i32::MAX, -1, 1 << 30] {
            let mut b = bytes.clone();
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            std::fs::write(&bad, &b).unwrap();
            if let Ok(m) = FastTextModel::open(&bad) {
                // A field that does not size anything (ws, epoch, ...) may take any value.
                let mut v = vec![0f32; m.dim()];
                m.word_vector("bb", &mut v);
            }
        }
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    std::fs::write(&bad, &trailing).unwrap();
    let e = FastTextModel::open(&bad).err().unwrap().to_string();
    assert!(e.contains("after the output matrix"), "{e}");
    let r = wembed(&[
        "eval",
        bad.to_str().unwrap(),
        "--similarity",
        bad.to_str().unwrap(),
    ]);
    assert_one_line_error(&r, "fastText model");
}
