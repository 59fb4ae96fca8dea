//! The streaming reader: every token read exactly once whatever the thread count, sentences kept
//! whole, gzip detected by content, long lines cut, invalid UTF-8 counted.

use crate::common::*;
use std::collections::HashMap;
use wembed::corpus::{Corpus, CorpusOptions, SentenceSink};
use wembed::progress::Progress;
use wembed::vocab::{Vocab, VocabOptions};

#[derive(Default)]
struct Collect {
    sentences: Vec<Vec<String>>,
}

impl SentenceSink for Collect {
    fn sentence(&mut self, tokens: &[&str]) {
        self.sentences
            .push(tokens.iter().map(|t| t.to_string()).collect());
    }
}

fn counts_of(corpus: &Corpus, threads: usize) -> HashMap<String, u64> {
    let (sinks, stats) = corpus
        .for_each_parallel(threads, &Progress::hidden(), |_| Collect::default())
        .unwrap();
    let mut m = HashMap::new();
    let mut n = 0;
    for s in sinks {
        for sent in s.sentences {
            for w in sent {
                *m.entry(w).or_insert(0) += 1;
                n += 1;
            }
        }
    }
    assert_eq!(stats.tokens, n);
    m
}

#[test]
fn every_token_once_for_any_thread_count_plain_and_gzip_mixed() {
    let d = tmp();
    let texts: Vec<String> = (0..5)
        .map(|i| sample_text(300 + 97 * i, i as u64))
        .collect();
    // A folder tree: sorted recursive walk, plain and gzip mixed, one file without a final newline.
    write(&p(&d, "c/b/2.txt"), texts[0].as_bytes());
    write(&p(&d, "c/a.txt"), texts[1].trim_end().as_bytes());
    write(&p(&d, "c/z/3.txt"), texts[2].as_bytes());
    let plain_only = p(&d, "c");
    let reference = naive_counts(&[&texts[0], &texts[1], &texts[2]]);
    let corpus = Corpus::open(&[&plain_only], CorpusOptions::default()).unwrap();
    for threads in [1, 2, 3, 4, 7] {
        assert_eq!(
            counts_of(&corpus, threads),
            reference,
            "plain, {threads} threads"
        );
    }
    // gzip named .txt (content decides), and a multi-member gzip stream.
    let mut multi = gzip(texts[3].as_bytes());
    multi.extend(gzip(texts[4].as_bytes()));
    write(&p(&d, "g/x.txt"), &multi);
    let corpus = Corpus::open(&[&plain_only, &p(&d, "g")], CorpusOptions::default()).unwrap();
    let reference = naive_counts(&texts.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    for threads in [1, 2, 5] {
        assert_eq!(
            counts_of(&corpus, threads),
            reference,
            "mixed, {threads} threads"
        );
    }
}

#[test]
fn plain_file_named_gz_is_read_as_text() {
    let d = tmp();
    write(&p(&d, "fake.gz"), b"not compressed at all\n");
    let c = Corpus::open(&[p(&d, "fake.gz")], CorpusOptions::default()).unwrap();
    assert_eq!(counts_of(&c, 2).get("compressed"), Some(&1));
}

#[test]
fn sentences_are_lines_and_never_cross_them() {
    let d = tmp();
    let text = sample_text(2000, 42);
    write(&p(&d, "t.txt"), text.as_bytes());
    let mut expect: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    expect.sort();
    for threads in [1, 3, 8] {
        let c = Corpus::open(&[p(&d, "t.txt")], CorpusOptions::default()).unwrap();
        let (sinks, stats) = c
            .for_each_parallel(threads, &Progress::hidden(), |_| Collect::default())
            .unwrap();
        let mut got: Vec<Vec<String>> = sinks.into_iter().flat_map(|s| s.sentences).collect();
        got.sort();
        assert_eq!(got, expect, "{threads} threads");
        assert_eq!(stats.lines, 2000);
        assert_eq!(stats.bytes, text.len() as u64);
    }
}

#[test]
fn long_lines_are_cut_into_10000_token_sentences() {
    let d = tmp();
    let mut line: Vec<String> = (0..25_000).map(|i| format!("w{}", i % 100)).collect();
    let text = line.join(" ") + "\nshort line\n";
    write(&p(&d, "long.txt"), text.as_bytes());
    let c = Corpus::open(&[p(&d, "long.txt")], CorpusOptions::default()).unwrap();
    let (sinks, stats) = c
        .for_each_parallel(1, &Progress::hidden(), |_| Collect::default())
        .unwrap();
    let lens: Vec<usize> = sinks[0].sentences.iter().map(|s| s.len()).collect();
    assert_eq!(lens, vec![10_000, 10_000, 5_000, 2]);
    assert_eq!(stats.cut_lines, 2);
    line.truncate(10_000);
    assert_eq!(sinks[0].sentences[0], line);
}

#[test]
fn line_without_newlines_is_cut_in_bounded_pieces() {
    // 3 MiB of tokens and no newline: the reader must not hold it as one line.
    let d = tmp();
    let text = "abcdefg ".repeat(3 << 17);
    write(&p(&d, "flat.txt"), text.as_bytes());
    let c = Corpus::open(&[p(&d, "flat.txt")], CorpusOptions::default()).unwrap();
    let counts = counts_of(&c, 2);
    assert_eq!(counts.get("abcdefg"), Some(&(3u64 << 17)));
    assert_eq!(counts.len(), 1, "a token was split at a piece boundary");
}

#[test]
fn lowercase_option_folds_unicode_case() {
    let d = tmp();
    write(
        &p(&d, "c.txt"),
        "The THE the ÉCOLE école Straße\n".as_bytes(),
    );
    let opts = CorpusOptions {
        lowercase: true,
        ..CorpusOptions::default()
    };
    let c = Corpus::open(&[p(&d, "c.txt")], opts).unwrap();
    let m = counts_of(&c, 1);
    assert_eq!(m.get("the"), Some(&3));
    assert_eq!(m.get("école"), Some(&2));
    assert_eq!(m.get("straße"), Some(&1));
    let c = Corpus::open(&[p(&d, "c.txt")], CorpusOptions::default()).unwrap();
    assert_eq!(counts_of(&c, 1).get("the"), Some(&1));
}

#[test]
fn invalid_utf8_is_replaced_and_counted() {
    let d = tmp();
    write(
        &p(&d, "bad.txt"),
        b"good \xff word\nmore \xc3 here \xe2\x82 x\nclean line\n",
    );
    let c = Corpus::open(&[p(&d, "bad.txt")], CorpusOptions::default()).unwrap();
    let (sinks, stats) = c
        .for_each_parallel(2, &Progress::hidden(), |_| Collect::default())
        .unwrap();
    assert_eq!(stats.invalid_utf8, 3);
    let all: Vec<String> = sinks
        .into_iter()
        .flat_map(|s| s.sentences)
        .flatten()
        .collect();
    assert_eq!(all.iter().filter(|w| *w == "\u{FFFD}").count(), 3);
    assert!(all.contains(&"word".to_string()));
}

#[test]
fn vocab_from_folder_with_threads_matches_naive_count() {
    let d = tmp();
    let a = sample_text(3000, 7);
    let b = sample_text(2000, 8);
    write(&p(&d, "f/one.txt"), a.as_bytes());
    write(&p(&d, "f/two.txt.gz"), &gzip(b.as_bytes()));
    let reference = naive_counts(&[&a, &b]);
    let c = Corpus::open(&[p(&d, "f")], CorpusOptions::default()).unwrap();
    for threads in [1, 2, 3] {
        let opts = VocabOptions {
            min_count: 3,
            ..VocabOptions::default()
        };
        let (v, stats) = Vocab::build(&c, &opts, threads, &Progress::hidden()).unwrap();
        assert_eq!(stats.types, reference.len());
        assert_eq!(stats.read.tokens, reference.values().sum::<u64>());
        let mut expect: Vec<(&String, &u64)> = reference.iter().filter(|(_, c)| **c >= 3).collect();
        expect.sort_by(|x, y| y.1.cmp(x.1).then(x.0.as_bytes().cmp(y.0.as_bytes())));
        let got: Vec<(&String, &u64)> = v.words().iter().zip(v.counts()).collect();
        assert_eq!(got, expect, "{threads} threads");
    }
}
