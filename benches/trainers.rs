//! Training throughput of the hot loops, one thread: word2vec (one epoch) and GloVe (counting,
//! shuffle and three iterations). The numbers to move when changing kernels, sampling, prefetching
//! or the window batching.
//!
//! cargo bench --bench trainers
//!
//! The corpus is the first 2M tokens of `../shared/corpora/mixed-en.txt.gz` (set
//! `WEMBED_BENCH_CORPUS` to use another file), so the matrices have a real vocabulary's size and
//! cache behaviour; without it the bench falls back to the project's synthetic corpus.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::glove::{self, GloveCheckpointing, GloveConfig, Progresses};
use wembed::progress::Progress;
use wembed::synth::{Language, SynthOptions};
use wembed::vocab::{Vocab, VocabOptions};
use wembed::word2vec::{self, Architecture, Checkpointing, Word2VecConfig};

const TOKENS: usize = 2_000_000;

fn sample_corpus(dir: &Path) -> PathBuf {
    let out = dir.join("bench.txt");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    let real = std::env::var_os("WEMBED_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/mixed-en.txt.gz")
        });
    if let Ok(f) = std::fs::File::open(&real) {
        let r = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
        let mut n = 0;
        for line in r.lines() {
            let line = line.unwrap();
            n += line.split_whitespace().count();
            writeln!(w, "{line}").unwrap();
            if n >= TOKENS {
                break;
            }
        }
    } else {
        let lang = Language::new(&SynthOptions::default()).unwrap();
        lang.write_corpus(TOKENS as u64, &mut w).unwrap();
    }
    w.flush().unwrap();
    out
}

fn training(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_corpus(dir.path());
    let corpus = Corpus::open(&[&path], CorpusOptions::default()).unwrap();
    let (vocab, _) =
        Vocab::build(&corpus, &VocabOptions::default(), 1, &Progress::hidden()).unwrap();
    let mut g = c.benchmark_group("word2vec_1thread");
    g.throughput(Throughput::Elements(vocab.total()));
    g.sample_size(10);
    for arch in [Architecture::SkipGram, Architecture::Cbow] {
        let mut config = Word2VecConfig::new(arch);
        config.epochs = 1;
        config.threads = 1;
        let out = dir.path().join(format!("{arch:?}"));
        g.bench_function(format!("{arch:?}").to_lowercase(), |b| {
            b.iter(|| {
                word2vec::train(
                    &corpus,
                    &vocab,
                    &config,
                    &out,
                    &Progress::hidden(),
                    &Checkpointing::default(),
                )
                .unwrap()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("glove_1thread");
    g.throughput(Throughput::Elements(vocab.total()));
    g.sample_size(10);
    let config = GloveConfig {
        iter: 3,
        x_max: 10.0,
        threads: 1,
        ..GloveConfig::default()
    };
    let out = dir.path().join("glove");
    g.bench_function("count_shuffle_3iter", |b| {
        b.iter(|| {
            glove::train(
                &corpus,
                &vocab,
                &config,
                &out,
                &Progresses {
                    count: &Progress::hidden(),
                    train: &|_| Progress::hidden(),
                    note: &|_| {},
                },
                &GloveCheckpointing::default(),
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
