//! Training with subwords (`--subwords`, fastText's model): the folder's layout, vectors for
//! unknown words, and the same vectors in fastText and gensim after `export --format fasttext-bin`.

use crate::common::*;
use std::path::Path;
use wembed::vectors::lookup::Found;
use wembed::vectors::Embeddings;

fn corpus() -> String {
    format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"))
}

/// A small subword model: 16 dimensions, 20,000 buckets, n-grams of 2 to 4 characters.
fn train(arch: &str, m: &Path, extra: &[&str]) {
    let c = corpus();
    let mut args = vec![arch, c.as_str(), "-o", m.to_str().unwrap(), "-q"];
    args.extend(["--dim", "16", "--epochs", "1", "--minn", "2", "--maxn", "4"]);
    args.extend(["--bucket", "20000", "--threads", "2"]);
    args.extend(extra);
    let r = wembed(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

fn npy_rows(path: &Path) -> usize {
    let m = wembed::vectors::npy::read(path).unwrap();
    m.data().len() / m.cols()
}

#[test]
fn subword_folders_hold_word_and_ngram_rows_and_answer_for_any_word() {
    for arch in ["skipgram", "cbow"] {
        let d = tmp();
        let m = d.path().join("m");
        train(arch, &m, &[]);
        let emb = Embeddings::load(&m).unwrap();
        let v = emb.len();
        assert_eq!(npy_rows(&m.join("input.npy")), v + 20_000, "{arch}");
        assert_eq!(npy_rows(&m.join("output.npy")), v, "{arch}");
        // vectors.bin holds what eval scores: each word's mean of its rows.
        let bin = Embeddings::load(&m.join("vectors.bin")).unwrap();
        assert_eq!(bin.words, emb.words);
        assert_eq!(bin.row(3), emb.row(3));
        let sv = wembed::run::folder::subword_vectors(&m).unwrap().unwrap();
        let lookup = wembed::vectors::lookup::Lookup::Subwords(Box::new(sv));
        let mut x = vec![0f32; 16];
        assert_eq!(lookup.vector(&emb.words[3], &mut x), Found::Known);
        assert_eq!(x, emb.row(3));
        // An unknown word is built from its n-grams; one too short for any gets nothing.
        let unknown = format!("{}x", emb.words[3]);
        assert_eq!(lookup.vector(&unknown, &mut x), Found::Subwords);
        assert!(x.iter().any(|&a| a != 0.0));
        let r = wembed(&["neighbors", m.to_str().unwrap(), &unknown, "-k", "3"]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(String::from_utf8_lossy(&r.stdout).contains("from its n-grams"));
        let r = wembed(&["vector", m.to_str().unwrap(), &unknown]);
        assert!(
            r.status.success() && r.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
}

/// Unknown n-gram settings are one-line errors naming the flag.
#[test]
fn bad_ngram_settings_are_refused() {
    let d = tmp();
    let m = d.path().join("m");
    let c = corpus();
    for (flags, needle) in [
        (&["--minn", "5", "--maxn", "3"][..], "--maxn"),
        (&["--subwords", "--bucket", "0"][..], "--bucket"),
        (&["--minn", "0", "--maxn", "3"][..], "--minn"),
    ] {
        let mut args = vec!["skipgram", c.as_str(), "-o", m.to_str().unwrap(), "-q"];
        args.extend(flags);
        assert_one_line_error(&wembed(&args), needle);
        assert!(!m.exists(), "{flags:?} left a folder");
    }
}

/// A subword folder exported as fastText's `.bin` gives the same vectors in fastText, in gensim
/// and in `wembed vector`, for known and unknown words.
#[test]
fn fasttext_bin_exports_agree_with_fasttext_and_gensim() {
    let d = tmp();
    let m = d.path().join("m");
    train("skipgram", &m, &[]);
    let bin = d.path().join("m.bin");
    let r = wembed(&[
        "export",
        m.to_str().unwrap(),
        "-f",
        "fasttext-bin",
        "-o",
        bin.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let emb = Embeddings::load(&m).unwrap();
    // 1,000 known words and 1,000 unknown ones, non-ASCII among them.
    let mut words: Vec<String> = emb.words.iter().take(1000).cloned().collect();
    assert_eq!(words.len(), 1000);
    words.extend(crate::fasttext::oov_words(&emb.words, 1000));
    let ours = |model: &Path| -> Vec<Vec<f32>> {
        let mut args = vec!["vector", model.to_str().unwrap()];
        args.extend(words.iter().map(|w| w.as_str()));
        let r = wembed(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        String::from_utf8(r.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split(' ').skip(1).map(|x| x.parse().unwrap()).collect())
            .collect()
    };
    let folder = ours(&m);
    assert_eq!(folder, ours(&bin), "the folder and its .bin disagree");
    let ngrams = |model: &Path| {
        let mut args = vec!["vector", "--ngrams", model.to_str().unwrap()];
        args.extend(words.iter().step_by(100).map(|w| w.as_str()));
        let r = wembed(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        r.stdout
    };
    let listed = ngrams(&m);
    assert!(String::from_utf8_lossy(&listed).lines().count() > 20);
    assert_eq!(
        listed,
        ngrams(&bin),
        "the folder's n-gram rows and its .bin's differ"
    );
    let script = r#"
import sys
from gensim.models.fasttext import load_facebook_model
m = load_facebook_model(sys.argv[1])
for w in sys.stdin.read().split("\n"):
    if w:
        print(" ".join(repr(float(x)) for x in m.wv[w]))
"#;
    let out = python(script, &[bin.to_str().unwrap()], &words.join("\n"));
    for ((line, w), f) in out.lines().zip(&words).zip(&folder) {
        let g: Vec<f32> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        for (a, b) in g.iter().zip(f) {
            assert!((a - b).abs() <= 1e-5, "{w}: gensim {a} vs wembed {b}");
        }
    }
    if crate::fasttext::have_fasttext() {
        let theirs = crate::fasttext::print_word_vectors(&bin, &words);
        for ((w, t), f) in words.iter().zip(&theirs).zip(&folder) {
            crate::fasttext::assert_close(f, t, w);
        }
    }
}

/// Runs `python3 -c script args` with `stdin`; its stdout.
fn python(script: &str, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the interop tests");
    let input = stdin.to_string();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
