//! GloVe: exact co-occurrence counts whatever the memory budget and thread count, a shuffle that
//! loses nothing, temporary files cleaned up, and the planted relations learned.

use crate::common::*;
use std::collections::HashMap;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::eval::{self, Method};
use wembed::glove::{self, cooccur, shuffle, GloveConfig, Progresses};
use wembed::progress::Progress;
use wembed::synth::{Language, SynthOptions};
use wembed::vectors::Embeddings;
use wembed::vocab::{Vocab, VocabOptions};

fn synth_file(d: &tempfile::TempDir, seed: u64, tokens: u64) -> std::path::PathBuf {
    let lang = Language::new(&SynthOptions {
        seed,
        ..SynthOptions::default()
    })
    .unwrap();
    let mut text = Vec::new();
    lang.write_corpus(tokens, &mut text).unwrap();
    // Some out-of-vocabulary noise and one-word lines, which must not create pairs.
    text.extend_from_slice(b"zzzrare1 zzzrare2\nlonely\n");
    let path = p(d, "c.txt");
    write(&path, &text);
    path
}

fn counted(
    corpus: &Corpus,
    vocab: &Vocab,
    window: usize,
    memory: usize,
    threads: usize,
    tmp: &std::path::Path,
) -> (Vec<(u32, u32, u64)>, usize, u64) {
    let c = cooccur::count(
        corpus,
        vocab,
        window,
        memory,
        threads,
        tmp,
        &Progress::hidden(),
    )
    .unwrap();
    let (spilled, scale) = (c.spilled_runs, c.scale);
    let mut out = Vec::new();
    c.merge(|i, j, n| {
        out.push((i, j, n));
        Ok(())
    })
    .unwrap();
    (out, spilled, scale)
}

#[test]
fn counts_are_exact_with_spills_and_threads_and_match_a_naive_counter() {
    let d = tmp();
    let path = synth_file(&d, 4, 60_000);
    let corpus = Corpus::open(&[&path], CorpusOptions::default()).unwrap();
    let (vocab, _) = Vocab::build(
        &corpus,
        &VocabOptions {
            min_count: 3,
            ..VocabOptions::default()
        },
        2,
        &Progress::hidden(),
    )
    .unwrap();
    let window = 10;
    let (full, spilled, scale) = counted(&corpus, &vocab, window, 1 << 30, 1, d.path());
    assert_eq!(spilled, 0);
    assert_eq!(scale, 2520);
    // A budget of 200 KB forces dozens of sorted runs on disk.
    for threads in [1, 2, 3] {
        let (tiny, spilled, _) = counted(&corpus, &vocab, window, 200_000, threads, d.path());
        assert!(spilled >= 10, "only {spilled} runs spilled");
        assert!(
            tiny == full,
            "{threads} threads with spills differ from the in-memory count"
        );
    }
    // The naive reference: whole text, in-vocabulary words only, both directions, weight 1/d.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut naive: HashMap<(u32, u32), f64> = HashMap::new();
    for line in text.lines() {
        let ids: Vec<u32> = line
            .split_whitespace()
            .filter_map(|w| vocab.id(w))
            .collect();
        for j in 0..ids.len() {
            for d in 1..=window.min(j) {
                let (a, b) = (ids[j - d], ids[j]);
                *naive.entry((a, b)).or_insert(0.0) += 1.0 / d as f64;
                *naive.entry((b, a)).or_insert(0.0) += 1.0 / d as f64;
            }
        }
    }
    let mut records = 0;
    for &(i, j, n) in &full {
        assert!(i <= j);
        for key in [(i, j), (j, i)] {
            let want = naive[&key];
            // Fixed-point L/d sums are exact; the float reference is within rounding of them.
            assert_eq!((want * scale as f64).round() as u64, n, "pair {key:?}");
        }
        records += if i == j { 1 } else { 2 };
    }
    assert_eq!(records, naive.len(), "record sets differ");
}

#[test]
fn shuffle_within_a_tiny_budget_keeps_every_record() {
    let d = tmp();
    let path = synth_file(&d, 5, 30_000);
    let corpus = Corpus::open(&[&path], CorpusOptions::default()).unwrap();
    let (vocab, _) = Vocab::build(
        &corpus,
        &VocabOptions {
            min_count: 2,
            ..VocabOptions::default()
        },
        1,
        &Progress::hidden(),
    )
    .unwrap();
    let shuffled = |memory: usize, name: &str| -> Vec<shuffle::Record> {
        let c = cooccur::count(
            &corpus,
            &vocab,
            5,
            1 << 30,
            2,
            d.path(),
            &Progress::hidden(),
        )
        .unwrap();
        let out = p(&d, name);
        let n = shuffle::shuffle(c, (100.0, 0.75), memory, d.path(), 7, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let recs: Vec<shuffle::Record> = bytes
            .chunks_exact(16)
            .map(|b| shuffle::Record {
                i: u32::from_le_bytes(b[0..4].try_into().unwrap()),
                j: u32::from_le_bytes(b[4..8].try_into().unwrap()),
                log_x: f32::from_le_bytes(b[8..12].try_into().unwrap()),
                weight: f32::from_le_bytes(b[12..16].try_into().unwrap()),
            })
            .collect();
        assert_eq!(recs.len() as u64, n);
        recs
    };
    let big = shuffled(1 << 30, "big.bin");
    let small = shuffled(64 << 10, "small.bin"); // ~4k records per chunk: many chunks merged
    assert!(big.len() > 20_000);
    let key = |r: &shuffle::Record| (r.i, r.j, r.log_x.to_bits(), r.weight.to_bits());
    let (mut a, mut b): (Vec<_>, Vec<_>) = (
        big.iter().map(key).collect(),
        small.iter().map(key).collect(),
    );
    assert_ne!(
        a, b,
        "two shuffles with different chunking gave the same order"
    );
    // Shuffled: the first records are not in key order.
    assert!(a.windows(2).take(1000).filter(|w| w[0] > w[1]).count() > 300);
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    // log X and f(X) are computed from the exact counts.
    let r = &big[0];
    assert!(r.weight > 0.0 && r.weight <= 1.0 && r.log_x.is_finite());
}

fn run_glove(
    d: &tempfile::TempDir,
    path: &std::path::Path,
    config: &GloveConfig,
) -> wembed::Result<glove::GloveStats> {
    let corpus = Corpus::open(&[path], CorpusOptions::default()).unwrap();
    let (vocab, _) =
        Vocab::build(&corpus, &VocabOptions::default(), 2, &Progress::hidden()).unwrap();
    let hidden = Progress::hidden();
    let model = p(d, "model");
    let stats = glove::train(
        &corpus,
        &vocab,
        config,
        &model,
        &Progresses {
            count: &hidden,
            train: &|_| Progress::hidden(),
            note: &|_| {},
        },
        &glove::GloveCheckpointing::default(),
    )?;
    vocab.save(&model.join("vocab.txt")).unwrap();
    Ok(stats)
}

fn no_temp_left(dir: &std::path::Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

// Chance is 1 in ~6,000. Measured with this setting: 0.48 (10 s on a loaded 2-core machine); at
// dim 100 on the shipped corpus 0.39. The bar fails a broken gradient, weighting or shuffle.
#[test]
fn glove_learns_the_planted_relations_and_cleans_up() {
    let start = std::time::Instant::now();
    let d = tmp();
    let path = synth_file(&d, 8, 1_000_000);
    let config = GloveConfig {
        dim: 50,
        iter: 15,
        threads: 2,
        memory: 4 << 20,
        ..GloveConfig::default()
    };
    let stats = run_glove(&d, &path, &config).unwrap();
    assert!(stats.spilled_runs > 0, "a 4 MiB budget should spill");
    assert!(
        stats.cost.windows(2).all(|w| w[1] < w[0]),
        "cost must fall every iteration: {:?}",
        stats.cost
    );
    no_temp_left(&p(&d, "model"));
    let lang = Language::new(&SynthOptions {
        seed: 8,
        ..SynthOptions::default()
    })
    .unwrap();
    let mut q = Vec::new();
    lang.write_analogies(&mut q).unwrap();
    write(&p(&d, "q.txt"), &q);
    let emb = Embeddings::load(&p(&d, "model")).unwrap();
    let acc = eval::analogy(
        &emb,
        &p(&d, "q.txt"),
        None,
        Method::CosAdd,
        eval::Case::Fold,
    )
    .unwrap()
    .total
    .accuracy();
    eprintln!(
        "glove synth accuracy {acc:.3} in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(acc > 0.25, "accuracy {acc}");
}

#[test]
fn glove_errors_clean_up_too() {
    let d = tmp();
    let path = p(&d, "c.txt");
    // Every word is frequent enough, but no line has two of them: no co-occurrence at all.
    write(&path, "alpha\nbeta\n".repeat(20).as_bytes());
    let e = run_glove(
        &d,
        &path,
        &GloveConfig {
            threads: 1,
            ..GloveConfig::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("no co-occurrences"), "{e}");
    no_temp_left(&p(&d, "model"));
    let e = run_glove(
        &d,
        &path,
        &GloveConfig {
            window: 21,
            ..GloveConfig::default()
        },
    )
    .err()
    .unwrap();
    assert!(
        e.to_string().contains("window must be within 1..=20"),
        "{e}"
    );
}

#[test]
fn glove_command_writes_a_model_folder_and_reads_stdin_with_a_vocab() {
    let d = tmp();
    let m = p(&d, "m");
    let corpus = format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"));
    let r = wembed(&[
        "glove",
        &corpus,
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--dim",
        "8",
        "--iter",
        "2",
        "--memory",
        "0.01",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("count") && err.contains("peak RSS"), "{err}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(m.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["trainer"], "glove");
    assert_eq!(config["training"]["cost"].as_array().unwrap().len(), 2);
    assert!(config["training"]["spilled_runs"].as_u64().unwrap() > 0);
    // vectors.bin is W + W~.
    let bin = Embeddings::load(&m.join("vectors.bin")).unwrap();
    let w = Embeddings::load_npy(&m.join("input.npy"), &m.join("vocab.txt")).unwrap();
    let wt = Embeddings::load_npy(&m.join("output.npy"), &m.join("vocab.txt")).unwrap();
    assert_eq!(bin.words, w.words);
    for i in [0, 17, w.len() - 1] {
        let sum: Vec<f32> = w.row(i).iter().zip(wt.row(i)).map(|(a, b)| a + b).collect();
        assert_eq!(bin.row(i), sum.as_slice());
    }
    // `eval MODEL` scores what vectors.bin holds, not W alone.
    let q = format!("{}/corpora/synth-questions.txt", env!("CARGO_MANIFEST_DIR"));
    let score = |v: &std::path::Path| {
        let r = wembed(&["eval", v.to_str().unwrap(), "--analogy", &q, "--json"]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        j["analogy"]["total"].clone()
    };
    assert_eq!(score(&m), score(&m.join("vectors.bin")));
    let w_only = wembed::run::folder::load(&m, wembed::run::Which::Input)
        .unwrap()
        .0;
    assert_eq!(wembed::run::folder::vectors(&m).unwrap().row(3), bin.row(3));
    assert_ne!(w_only.row(3), bin.row(3));
    no_temp_left(&m);

    // stdin: one pass is enough when the vocabulary is given; without it, a clear error.
    let text = {
        use std::io::Read;
        let mut s = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&corpus).unwrap())
            .read_to_end(&mut s)
            .unwrap();
        s.truncate(200_000);
        s
    };
    let run = |args: &[&str]| wembed_stdin(args, &text);
    let m2 = p(&d, "m2");
    let vocab = m.join("vocab.txt");
    let r = run(&[
        "glove",
        "-",
        "-o",
        m2.to_str().unwrap(),
        "-q",
        "--dim",
        "8",
        "--iter",
        "1",
        "--vocab",
        vocab.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(m2.join("vectors.bin").exists());
    // The hint names what works: --vocab (which the run above used) or a file.
    let m3 = p(&d, "m3");
    let r = run(&["glove", "-", "-o", m3.to_str().unwrap(), "-q"]);
    let err = assert_one_line_error(&r, "stdin can be read only once");
    assert!(err.contains("--vocab FILE"), "{err}");
    assert!(!m3.exists(), "a folder was made before the error");
}
