//! The synthetic language: deterministic, exact length, Zipf-like, and its relations really are in
//! the contexts (checked with plain co-occurrence counts, no trainer involved).

use std::collections::HashMap;
use std::io::Read;
use wembed::synth::{Language, SynthOptions, FAMILIES};

fn corpus(seed: u64, tokens: u64) -> String {
    let lang = Language::new(&SynthOptions {
        seed,
        ..SynthOptions::default()
    })
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(lang.write_corpus(tokens, &mut out).unwrap(), tokens);
    String::from_utf8(out).unwrap()
}

#[test]
fn deterministic_per_seed_and_exact_length() {
    let a = corpus(7, 123_457);
    assert_eq!(a, corpus(7, 123_457));
    assert_ne!(a, corpus(8, 123_457));
    assert_eq!(a.split_whitespace().count(), 123_457);
    assert!(a.lines().all(|l| !l.trim().is_empty()));
}

#[test]
fn shipped_default_corpus_is_the_generators_output() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut gz = flate2::read::GzDecoder::new(
        std::fs::File::open(format!("{root}/corpora/synth-1m.txt.gz")).unwrap(),
    );
    let mut shipped = String::new();
    gz.read_to_string(&mut shipped).unwrap();
    assert!(
        shipped == corpus(1, 1_000_000),
        "corpora/synth-1m.txt.gz is stale: regenerate it (corpora/README.md)"
    );
    let lang = Language::new(&SynthOptions::default()).unwrap();
    let mut q = Vec::new();
    lang.write_analogies(&mut q).unwrap();
    assert_eq!(
        std::fs::read(format!("{root}/corpora/synth-questions.txt")).unwrap(),
        q
    );
    let mut s = Vec::new();
    lang.write_similarity(&mut s).unwrap();
    assert_eq!(
        std::fs::read(format!("{root}/corpora/synth-similarity.tsv")).unwrap(),
        s
    );
}

#[test]
fn analogy_and_similarity_files_cover_the_corpus_vocabulary() {
    let text = corpus(1, 1_000_000);
    let counts = crate::common::naive_counts(&[&text]);
    let lang = Language::new(&SynthOptions::default()).unwrap();
    let mut q = Vec::new();
    let n = lang.write_analogies(&mut q).unwrap();
    let q = String::from_utf8(q).unwrap();
    let pairs = SynthOptions::default().pairs;
    assert_eq!(n, FAMILIES.len() * pairs * (pairs - 1));
    assert_eq!(
        q.lines().filter(|l| l.starts_with(": ")).count(),
        FAMILIES.len()
    );
    for line in q.lines().filter(|l| !l.starts_with(':')) {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 4);
        for w in words {
            assert!(
                counts.get(w).copied().unwrap_or(0) >= 5,
                "{w} is rare in 1M tokens"
            );
        }
    }
    let mut s = Vec::new();
    lang.write_similarity(&mut s).unwrap();
    let s = String::from_utf8(s).unwrap();
    let rows: Vec<&str> = s.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(rows.len() >= 100);
    for r in rows {
        let f: Vec<&str> = r.split('\t').collect();
        assert_eq!(f.len(), 3);
        assert!(counts.contains_key(f[0]) && counts.contains_key(f[1]));
        let score: f64 = f[2].parse().unwrap();
        assert!((0.0..=10.0).contains(&score));
    }
}

#[test]
fn frequencies_are_zipf_like() {
    let text = corpus(3, 2_000_000);
    let mut counts: Vec<u64> = crate::common::naive_counts(&[&text])
        .into_values()
        .collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    // Log-log slope of count against rank over ranks 10..1000: Zipf's law puts it near -1.
    let (x1, x2) = (10f64, 1000f64);
    let slope = ((counts[999] as f64).ln() - (counts[9] as f64).ln()) / (x2.ln() - x1.ln());
    assert!((-1.3..=-0.6).contains(&slope), "slope {slope}");
}

/// Context-count vectors within ±4 tokens on the same line.
fn context_vectors(text: &str, targets: &[&str]) -> HashMap<String, HashMap<String, f64>> {
    let mut out: HashMap<String, HashMap<String, f64>> = targets
        .iter()
        .map(|t| (t.to_string(), HashMap::new()))
        .collect();
    for line in text.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        for (i, t) in w.iter().enumerate() {
            if let Some(v) = out.get_mut(*t) {
                let lo = i.saturating_sub(4);
                for (j, c) in w.iter().enumerate().take((i + 5).min(w.len())).skip(lo) {
                    if j != i {
                        *v.entry(c.to_string()).or_insert(0.0) += 1.0;
                    }
                }
            }
        }
    }
    out
}

fn cos(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a
        .iter()
        .map(|(k, x)| x * b.get(k).copied().unwrap_or(0.0))
        .sum();
    let n = |v: &HashMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    dot / (n(a) * n(b)).max(1e-12)
}

#[test]
fn relations_are_planted_in_the_contexts() {
    let text = corpus(5, 3_000_000);
    let lang = Language::new(&SynthOptions {
        seed: 5,
        ..SynthOptions::default()
    })
    .unwrap();
    let words: Vec<&str> = lang
        .families
        .iter()
        .flat_map(|f| f.pairs.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]))
        .collect();
    let ctx = context_vectors(&text, &words);
    let (mut partner_closest, mut total) = (0, 0);
    for fam in &lang.families {
        for (i, (a, b)) in fam.pairs.iter().enumerate() {
            let own = cos(&ctx[a], &ctx[b]);
            let best_other = fam
                .pairs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, bj))| cos(&ctx[a], &ctx[bj]))
                .fold(f64::MIN, f64::max);
            total += 1;
            if own > best_other {
                partner_closest += 1;
            }
        }
    }
    // a_i's partner b_i is its most similar word of the other side for nearly every pair.
    assert!(
        partner_closest as f64 >= 0.95 * total as f64,
        "{partner_closest}/{total}"
    );
    // Words from different families share no planted context: clearly less similar.
    let f0 = &lang.families[0].pairs[0].0;
    let f1 = &lang.families[1].pairs[0].0;
    let f0b = &lang.families[0].pairs[0].1;
    assert!(cos(&ctx[f0], &ctx[f1]) < 0.5 * cos(&ctx[f0], &ctx[f0b]));
}
