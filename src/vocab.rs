//! Vocabulary: counting on all threads, pruning under a memory budget, frequency order, `vocab.txt`.

use crate::corpus::{Corpus, ReadStats, SentenceSink};
use crate::error::{Error, Result};
use crate::progress::Progress;
use hashbrown::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

/// Rough bytes one table entry costs beyond its word's bytes (the boxed string, the count, the
/// hash table's slot and control byte, the allocator's rounding). Used only to decide when to prune.
const ENTRY_OVERHEAD: usize = 64;

crate::settings::resumable! {
    /// How the vocabulary is counted and pruned.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct VocabOptions / VocabOptionsOverrides {
        /// Words seen fewer times are dropped.
        pub min_count: u64,
        /// Keep at most this many of the most frequent words.
        pub max_vocab: Option<usize>,
        /// Bytes the counting tables may use in all; past it rare words are pruned (word2vec's ReduceVocab).
        pub memory_budget: usize,
    }
}

impl Default for VocabOptions {
    fn default() -> Self {
        VocabOptions {
            min_count: 5,
            max_vocab: None,
            memory_budget: 4 << 30,
        }
    }
}

/// Words in frequency order (count descending, ties by word bytes), with their counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, u32>,
}

/// What counting saw, for the summary line and for `config.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct VocabStats {
    /// What the reader saw.
    pub read: ReadStats,
    /// Distinct words seen (after pruning, if any happened).
    pub types: usize,
    /// Words kept after min-count and max-vocab.
    pub kept: usize,
    /// Tokens of the kept words.
    pub kept_tokens: u64,
    /// How many times a table was pruned; when non-zero, counts of rare words are lower bounds.
    pub prunes: u64,
    /// Highest count a pruning dropped (words at or below it may be undercounted).
    pub pruned_below: u64,
    /// Wall time of counting.
    pub seconds: f64,
}

/// One thread's counting table.
pub struct Counter {
    map: HashMap<Box<str>, u64>,
    bytes: usize,
    budget: usize,
    min_reduce: u64,
    prunes: u64,
}

impl Counter {
    /// A counter whose tables may use `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Counter {
            map: HashMap::new(),
            bytes: 0,
            budget: budget.max(1),
            min_reduce: 1,
            prunes: 0,
        }
    }

    /// Counts `n` more of `word`.
    pub fn add(&mut self, word: &str, n: u64) {
        if let Some(c) = self.map.get_mut(word) {
            *c += n;
            return;
        }
        self.map.insert(word.into(), n);
        self.bytes += word.len() + ENTRY_OVERHEAD;
        while self.bytes > self.budget && !self.map.is_empty() {
            self.reduce();
        }
    }

    /// Drops every word seen at most `min_reduce` times and raises the bar for next time, as
    /// word2vec's ReduceVocab does: a word that survives has been seen more often than any
    /// word dropped so far.
    fn reduce(&mut self) {
        let bar = self.min_reduce;
        self.map.retain(|_, c| *c > bar);
        self.bytes = self.map.keys().map(|w| w.len() + ENTRY_OVERHEAD).sum();
        self.min_reduce += 1;
        self.prunes += 1;
    }
}

impl SentenceSink for Counter {
    fn sentence(&mut self, tokens: &[&str]) {
        for t in tokens {
            self.add(t, 1);
        }
    }
}

impl Vocab {
    /// Keeps words with at least `min_count` occurrences, the `max_vocab` most frequent of them.
    pub fn from_counts<I: IntoIterator<Item = (String, u64)>>(
        counts: I,
        min_count: u64,
        max_vocab: Option<usize>,
    ) -> Vocab {
        let mut entries: Vec<(String, u64)> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count)
            .collect();
        entries.sort_unstable_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
        });
        if let Some(m) = max_vocab {
            entries.truncate(m);
        }
        Self::from_ordered(entries)
    }

    /// Keeps the given order (callers that need special entries first, such as the LM's `<unk>`).
    /// Words must be distinct.
    pub fn from_ordered(entries: Vec<(String, u64)>) -> Vocab {
        let mut words = Vec::with_capacity(entries.len());
        let mut counts = Vec::with_capacity(entries.len());
        let mut index = HashMap::with_capacity(entries.len());
        for (i, (w, c)) in entries.into_iter().enumerate() {
            index.insert(w.clone(), i as u32);
            words.push(w);
            counts.push(c);
        }
        Vocab {
            words,
            counts,
            index,
        }
    }

    /// Counts the corpus on `threads` threads and builds the vocabulary.
    pub fn build(
        corpus: &Corpus,
        options: &VocabOptions,
        threads: usize,
        progress: &Progress,
    ) -> Result<(Vocab, VocabStats)> {
        let start = Instant::now();
        let threads = threads.max(1);
        let per_thread = options.memory_budget / threads;
        let (counters, read) =
            corpus.for_each_parallel(threads, progress, |_| Counter::new(per_thread))?;
        if read.tokens == 0 {
            return Err(Error::EmptyCorpus(corpus.describe()));
        }
        let prunes: u64 = counters.iter().map(|c| c.prunes).sum();
        let pruned_below = counters
            .iter()
            .filter(|c| c.prunes > 0)
            .map(|c| c.min_reduce - 1)
            .max()
            .unwrap_or(0);
        let mut counters = counters.into_iter();
        let mut merged = counters.next().map(|c| c.map).unwrap_or_default();
        for c in counters {
            merged.reserve(c.map.len());
            for (w, n) in c.map {
                *merged.entry(w).or_insert(0) += n;
            }
        }
        let types = merged.len();
        let vocab = Vocab::from_counts(
            merged.into_iter().map(|(w, c)| (w.into_string(), c)),
            options.min_count,
            options.max_vocab,
        );
        if vocab.is_empty() {
            return Err(Error::EmptyVocab {
                min_count: options.min_count,
                types,
                tokens: read.tokens,
            });
        }
        let stats = VocabStats {
            kept: vocab.len(),
            kept_tokens: vocab.counts.iter().sum(),
            types,
            read,
            prunes,
            pruned_below,
            seconds: start.elapsed().as_secs_f64(),
        };
        Ok((vocab, stats))
    }

    /// Words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Their counts.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The word of an id.
    pub fn word(&self, id: u32) -> &str {
        &self.words[id as usize]
    }

    /// The count of an id.
    pub fn count(&self, id: u32) -> u64 {
        self.counts[id as usize]
    }

    /// The id of a word.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Sum of the counts of the words kept.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Writes `word<TAB>count` lines, most frequent first, through a temporary file renamed at the end.
    /// Writes `word<TAB>count` lines atomically; `-` is stdout.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::atomic::write_text(path, |w| {
            for (word, count) in self.words.iter().zip(&self.counts) {
                writeln!(w, "{word}\t{count}")?;
            }
            Ok(())
        })
        .map(drop)
    }

    /// Reads `vocab.txt`, keeping its line order; any malformed line is an error naming its line.
    pub fn load(path: &Path) -> Result<Vocab> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut r = BufReader::new(file);
        let mut entries: Vec<(String, u64)> = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        let bad = |line: u64, msg: String| Error::Format {
            path: path.to_path_buf(),
            line,
            msg,
        };
        loop {
            buf.clear();
            let n = r
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = std::str::from_utf8(raw).map_err(|e| {
                bad(
                    line_no,
                    format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                )
            })?;
            let (word, count) = line
                .split_once('\t')
                .ok_or_else(|| bad(line_no, "expected word<TAB>count".into()))?;
            if word.is_empty() || word.chars().any(char::is_whitespace) {
                return Err(bad(line_no, format!("invalid word {word:?}")));
            }
            let count: u64 = count.trim().parse().map_err(|_| {
                bad(
                    line_no,
                    format!("count {count:?} is not a non-negative integer"),
                )
            })?;
            if let Some(prev) = seen.insert(word.to_string(), line_no) {
                return Err(bad(
                    line_no,
                    format!("word {word:?} already on line {prev}"),
                ));
            }
            entries.push((word.to_string(), count));
        }
        if entries.is_empty() {
            return Err(Error::bad_file(path, "vocabulary file is empty"));
        }
        // File order is the row order of the matrices beside it: keep it as written.
        Ok(Self::from_ordered(entries))
    }
}
