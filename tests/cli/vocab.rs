//! Vocabulary order, min-count and max-vocab, vocab.txt round trip and errors, pruning.

use crate::common::*;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::progress::Progress;
use wembed::vocab::{Vocab, VocabOptions};
use wembed::Error;

#[test]
fn order_is_count_descending_then_bytes() {
    let counts = [
        ("b", 3),
        ("a", 3),
        ("é", 3),
        ("Z", 3),
        ("c", 7),
        ("rare", 1),
    ]
    .map(|(w, c)| (w.to_string(), c));
    let v = Vocab::from_counts(counts.clone(), 2, None);
    assert_eq!(v.words(), ["c", "Z", "a", "b", "é"]);
    assert_eq!(v.counts(), [7, 3, 3, 3, 3]);
    assert_eq!(v.id("a"), Some(2));
    assert_eq!(v.id("rare"), None);
    let v = Vocab::from_counts(counts, 1, Some(3));
    assert_eq!(v.words(), ["c", "Z", "a"]);
}

#[test]
fn save_load_round_trip_with_unicode() {
    let d = tmp();
    let counts = [("東京", 9), ("café", 4), ("🙂", 4), ("x", 1)].map(|(w, c)| (w.to_string(), c));
    let v = Vocab::from_counts(counts, 1, None);
    let path = p(&d, "vocab.txt");
    v.save(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "東京\t9\ncafé\t4\n🙂\t4\nx\t1\n"
    );
    assert_eq!(Vocab::load(&path).unwrap(), v);
}

fn load_err(content: &[u8]) -> String {
    let d = tmp();
    let path = p(&d, "vocab.txt");
    write(&path, content);
    let e = Vocab::load(&path).unwrap_err();
    assert!(
        matches!(e, Error::Format { .. } | Error::BadFile { .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert_eq!(msg.lines().count(), 1);
    assert!(msg.contains("vocab.txt"), "{msg}");
    msg
}

#[test]
fn malformed_vocab_lines_name_the_line() {
    assert!(load_err(b"the\t10\nof 9\n").contains("vocab.txt:2: expected word<TAB>count"));
    assert!(load_err(b"the\t10\nof\tmany\n").contains(":2: count \"many\""));
    assert!(load_err(b"the\t10\nof\t-3\n").contains(":2: count"));
    assert!(load_err(b"the\t10\nof\t9\nthe\t3\n").contains(":3: word \"the\" already on line 1"));
    assert!(load_err(b"a\t1\n\xff\xfe\t2\n").contains(":2: invalid UTF-8"));
    assert!(load_err(b"\t5\n").contains(":1: invalid word"));
    assert!(load_err(b"two words\t5\n").contains(":1: invalid word"));
    assert!(load_err(b"").contains("vocabulary file is empty"));
}

#[test]
fn pruning_under_a_tiny_budget_keeps_frequent_words_exact() {
    // Every line has "the" and "of" plus two words seen nowhere else: the table must prune.
    let d = tmp();
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("the u{i}a of u{i}b\n"));
    }
    write(&p(&d, "c.txt"), text.as_bytes());
    let c = Corpus::open(&[p(&d, "c.txt")], CorpusOptions::default()).unwrap();
    let opts = VocabOptions {
        min_count: 1,
        max_vocab: None,
        memory_budget: 200 * 1024,
    };
    let (v, stats) = Vocab::build(&c, &opts, 2, &Progress::hidden()).unwrap();
    assert!(stats.prunes > 0);
    assert!(stats.types < 40_002, "nothing was pruned: {}", stats.types);
    assert_eq!(v.count(v.id("the").unwrap()), 20_000);
    assert_eq!(v.count(v.id("of").unwrap()), 20_000);
    assert_eq!(stats.read.tokens, 80_000);
    // Without the budget, nothing is lost.
    let (v, stats) = Vocab::build(
        &c,
        &VocabOptions {
            memory_budget: 1 << 30,
            ..opts
        },
        2,
        &Progress::hidden(),
    )
    .unwrap();
    assert_eq!(stats.prunes, 0);
    assert_eq!(v.len(), 40_002);
}
