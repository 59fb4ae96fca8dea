//! Throughput of the floor-1 pieces every trainer pays for: reading and counting a corpus (plain
//! and gzip, 1 and 2 threads) and drawing from the alias table.
//!
//! cargo bench --bench reader

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::progress::Progress;
use wembed::sampling::{rng, zipf_weights, AliasTable};
use wembed::synth::{Language, SynthOptions};
use wembed::vocab::{Vocab, VocabOptions};

fn reading(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let lang = Language::new(&SynthOptions::default()).unwrap();
    let mut text = Vec::new();
    lang.write_corpus(2_000_000, &mut text).unwrap();
    let plain = dir.path().join("c.txt");
    std::fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("c.txt.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&text).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();

    let mut g = c.benchmark_group("vocab_count");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(10);
    for (name, path) in [("plain", &plain), ("gzip", &gz)] {
        let corpus = Corpus::open(&[path], CorpusOptions::default()).unwrap();
        for threads in [1, 2] {
            g.bench_function(format!("{name}/{threads}t"), |b| {
                b.iter(|| {
                    Vocab::build(
                        &corpus,
                        &VocabOptions::default(),
                        threads,
                        &Progress::hidden(),
                    )
                    .unwrap()
                })
            });
        }
    }
    g.finish();
}

fn alias(c: &mut Criterion) {
    let table = AliasTable::new(&zipf_weights(100_000, 0.75, 0.0)).unwrap();
    let mut r = rng(1);
    let mut g = c.benchmark_group("alias");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("sample_1000_of_100k", |b| {
        b.iter(|| (0..1000).map(|_| table.sample(&mut r)).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, reading, alias);
criterion_main!(benches);
