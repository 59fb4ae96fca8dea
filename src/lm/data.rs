//! The language model's tokens: a vocabulary of the training split's most frequent words plus
//! `<unk>` and `<eos>`, and the train and validation splits as id streams.
//!
//! The split is by sentence (line): with `holdout` N, every N-th line is validation and is never
//! trained on, and `wembed lm split` writes the same two halves as files so that word vectors can
//! be trained on the train half alone.

use crate::atomic::TempPath;
use crate::corpus::{Corpus, SentenceSink};
use crate::progress::Progress;
use crate::vocab::Vocab;
use crate::{Error, Result};
use hashbrown::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The token of every word outside the vocabulary.
pub const UNK: &str = "<unk>";
/// The token that ends every line.
pub const EOS: &str = "<eos>";
/// Id of [`UNK`].
pub const UNK_ID: u32 = 0;
/// Id of [`EOS`].
pub const EOS_ID: u32 = 1;

/// True when sentence `index` (0-based) belongs to the validation split.
pub fn is_heldout(index: u64, holdout: u64) -> bool {
    holdout > 0 && index % holdout == holdout - 1
}

/// Train and validation id streams, each sentence followed by `<eos>`.
pub struct LmData {
    /// `<unk>`, `<eos>`, then the kept words by frequency.
    pub vocab: Vocab,
    /// The training split as token ids, lines ended by `<eos>`.
    pub train: Vec<u32>,
    /// The validation split, likewise.
    pub valid: Vec<u32>,
    /// Lines in the training split.
    pub train_sentences: u64,
    /// Lines in the validation split.
    pub valid_sentences: u64,
}

/// One pass over the text: every distinct word gets a provisional id in order of appearance, so
/// the corpus is read once (stdin works) and remapped once the vocabulary is known.
struct Collect {
    holdout: u64,
    sentence: u64,
    ids: HashMap<String, u32>,
    words: Vec<String>,
    /// Occurrences in the train split only: the vocabulary must not see validation text.
    counts: Vec<u64>,
    train: Vec<u32>,
    valid: Vec<u32>,
    train_sentences: u64,
    valid_sentences: u64,
}

const PROVISIONAL_EOS: u32 = u32::MAX;
const PROVISIONAL_UNK: u32 = u32::MAX - 1;

impl Collect {
    fn new(holdout: u64) -> Self {
        Collect {
            holdout,
            sentence: 0,
            ids: HashMap::new(),
            words: Vec::new(),
            counts: Vec::new(),
            train: Vec::new(),
            valid: Vec::new(),
            train_sentences: 0,
            valid_sentences: 0,
        }
    }
}

impl SentenceSink for Collect {
    fn sentence(&mut self, tokens: &[&str]) {
        let heldout = is_heldout(self.sentence, self.holdout);
        self.sentence += 1;
        let out = if heldout {
            self.valid_sentences += 1;
            &mut self.valid
        } else {
            self.train_sentences += 1;
            &mut self.train
        };
        for &t in tokens {
            let id = match t {
                // A corpus that already marks unknown words (WikiText) maps onto ours.
                UNK => PROVISIONAL_UNK,
                EOS => PROVISIONAL_EOS,
                _ => match self.ids.get(t) {
                    Some(&id) => id,
                    None => {
                        let id = self.words.len() as u32;
                        self.ids.insert(t.to_string(), id);
                        self.words.push(t.to_string());
                        self.counts.push(0);
                        id
                    }
                },
            };
            if !heldout && id < PROVISIONAL_UNK {
                self.counts[id as usize] += 1;
            }
            out.push(id);
        }
        out.push(PROVISIONAL_EOS);
    }
}

crate::settings::resumable! {
    /// Which text the LM trains and is scored on, and its vocabulary: what a resumed run must
    /// read again to see the same tokens.
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct DataSpec / DataSpecOverrides {
        /// Training text (absolute paths once recorded).
        pub corpus: Vec<std::path::PathBuf>,
        /// Validation text; without it every `holdout`-th line of the corpus is held out.
        #[serde(default)]
        pub valid: Option<std::path::PathBuf>,
        /// Every this-many-th line goes to validation.
        pub holdout: u64,
        /// Lowercase every token.
        #[serde(default)]
        pub lowercase: bool,
        /// Most frequent training words kept (plus `<unk>` and `<eos>`).
        pub vocab_size: usize,
    }
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            corpus: Vec::new(),
            valid: None,
            holdout: 100,
            lowercase: false,
            vocab_size: 10_000,
        }
    }
}

/// Reads `train` (and `valid`, if given; otherwise every `holdout`-th line of `train` is held
/// out) and keeps the `vocab_size` most frequent training words.
pub fn prepare(
    train: &Corpus,
    valid: Option<&Corpus>,
    holdout: u64,
    vocab_size: usize,
    progress: &Progress,
) -> Result<LmData> {
    let holdout = if valid.is_some() { 0 } else { holdout };
    if valid.is_none() && holdout < 2 {
        return Err(Error::setting(
            "holdout",
            "must be at least 2 when no validation corpus is given",
        ));
    }
    // One reader thread keeps sentences in corpus order, which the line split depends on.
    let (mut sinks, _) = train.for_each_parallel(1, progress, |_| Collect::new(holdout))?;
    let mut c = sinks.pop().expect("one sink per thread");
    if c.train_sentences == 0 {
        return Err(Error::EmptyCorpus(train.describe()));
    }
    let entries = c
        .words
        .iter()
        .cloned()
        .zip(c.counts.iter().copied())
        .filter(|&(_, n)| n > 0);
    let top = Vocab::from_counts(entries, 1, Some(vocab_size));
    let unk = c.train.iter().filter(|&&id| id != PROVISIONAL_EOS).count() as u64
        - top.counts().iter().sum::<u64>();
    let mut ordered = vec![(UNK.to_string(), unk), (EOS.to_string(), c.train_sentences)];
    ordered.extend(
        top.words()
            .iter()
            .cloned()
            .zip(top.counts().iter().copied()),
    );
    let vocab = Vocab::from_ordered(ordered);
    let map: Vec<u32> = c
        .words
        .iter()
        .map(|w| vocab.id(w).unwrap_or(UNK_ID))
        .collect();
    let remap = |ids: &mut Vec<u32>| {
        for id in ids.iter_mut() {
            *id = match *id {
                PROVISIONAL_EOS => EOS_ID,
                PROVISIONAL_UNK => UNK_ID,
                i => map[i as usize],
            };
        }
    };
    remap(&mut c.train);
    let (valid_ids, valid_sentences) = match valid {
        None => {
            remap(&mut c.valid);
            (c.valid, c.valid_sentences)
        }
        Some(v) => {
            let ids = encode(v, &vocab, progress)?;
            let n = ids.iter().filter(|&&i| i == EOS_ID).count() as u64;
            (ids, n)
        }
    };
    if valid_ids.is_empty() {
        return Err(Error::Invalid(
            "the validation split is empty: give a longer corpus or hold out more lines".into(),
        ));
    }
    Ok(LmData {
        vocab,
        train: c.train,
        valid: valid_ids,
        train_sentences: c.train_sentences,
        valid_sentences,
    })
}

struct Encode<'a> {
    vocab: &'a Vocab,
    ids: Vec<u32>,
}

impl SentenceSink for Encode<'_> {
    fn sentence(&mut self, tokens: &[&str]) {
        for t in tokens {
            self.ids.push(self.vocab.id(t).unwrap_or(UNK_ID));
        }
        self.ids.push(EOS_ID);
    }
}

/// A corpus as ids of an existing LM vocabulary (unknown words become `<unk>`), in order.
pub fn encode(corpus: &Corpus, vocab: &Vocab, progress: &Progress) -> Result<Vec<u32>> {
    let (mut sinks, _) = corpus.for_each_parallel(1, progress, |_| Encode {
        vocab,
        ids: Vec::new(),
    })?;
    Ok(sinks.pop().map(|s| s.ids).unwrap_or_default())
}

struct SplitWriter {
    holdout: u64,
    sentence: u64,
    train: BufWriter<File>,
    valid: BufWriter<File>,
    counts: [u64; 2],
    error: Option<std::io::Error>,
}

impl SentenceSink for SplitWriter {
    fn sentence(&mut self, tokens: &[&str]) {
        if self.error.is_some() {
            return;
        }
        let heldout = is_heldout(self.sentence, self.holdout);
        self.sentence += 1;
        self.counts[heldout as usize] += 1;
        let out = if heldout {
            &mut self.valid
        } else {
            &mut self.train
        };
        let line = tokens.join(" ");
        if let Err(e) = writeln!(out, "{line}") {
            self.error = Some(e);
        }
    }
}

/// Writes the two halves of the line split as text (tokens joined by one space, one sentence per
/// line), both under temporary names renamed only when both are complete. Returns the sentence
/// counts (train, validation).
pub fn split(
    corpus: &Corpus,
    holdout: u64,
    train: &Path,
    valid: &Path,
    progress: &Progress,
) -> Result<(u64, u64)> {
    if holdout < 2 {
        return Err(Error::setting("holdout", "must be at least 2"));
    }
    let (train_tmp, valid_tmp) = (TempPath::for_target(train), TempPath::for_target(valid));
    let create = |t: &TempPath| {
        File::create(t.path())
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| Error::io(t.target(), e))
    };
    // The sink factory may be called once per thread; with one thread it takes the writers once.
    let writers = std::sync::Mutex::new(Some((create(&train_tmp)?, create(&valid_tmp)?)));
    let (mut sinks, _) = corpus.for_each_parallel(1, progress, |_| {
        let (train, valid) = writers
            .lock()
            .expect("writers lock")
            .take()
            .expect("one reader thread");
        SplitWriter {
            holdout,
            sentence: 0,
            train,
            valid,
            counts: [0; 2],
            error: None,
        }
    })?;
    let sink = sinks.pop().expect("one sink per thread");
    if let Some(e) = sink.error {
        return Err(Error::io(train, e));
    }
    if sink.counts[0] == 0 {
        return Err(Error::EmptyCorpus(corpus.describe()));
    }
    for (w, t) in [(sink.train, &train_tmp), (sink.valid, &valid_tmp)] {
        let f = w
            .into_inner()
            .map_err(|e| Error::io(t.target(), e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(t.target(), e))?;
    }
    train_tmp.persist()?;
    valid_tmp.persist()?;
    Ok((sink.counts[0], sink.counts[1]))
}
