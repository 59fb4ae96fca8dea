//! A run's text and vocabulary: opened for a fresh run, recorded in its checkpoint, and reopened
//! from that record by a resumed run (from any working directory, or from where the corpus moved).

use super::{Observer, Stage};
use crate::corpus::{Corpus, CorpusOptions, CorpusOptionsOverrides, Fingerprint};
use crate::error::{Conflict, Error, Result};
use crate::vocab::{Vocab, VocabOptions, VocabOptionsOverrides, VocabStats};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where a fresh run's text comes from and how its vocabulary is made.
#[derive(Clone, Debug, Default)]
pub struct Input {
    /// Files, folders (read recursively), or `-` for stdin.
    pub corpus: Vec<PathBuf>,
    /// Tokenisation.
    pub corpus_options: CorpusOptions,
    /// Counting and pruning.
    pub vocab_options: VocabOptions,
    /// A vocabulary file (`word<TAB>count`) to use instead of counting the corpus.
    pub vocab_file: Option<PathBuf>,
}

impl Input {
    /// `corpus` with the default tokenisation and vocabulary.
    pub fn new(corpus: Vec<PathBuf>) -> Input {
        Input {
            corpus,
            ..Input::default()
        }
    }

    /// Opens the corpus and counts (or loads) the vocabulary; the record is what a checkpoint
    /// keeps to reopen them.
    pub(crate) fn open(
        &self,
        threads: usize,
        observer: &dyn Observer,
    ) -> Result<(Corpus, Vocab, Option<VocabStats>, InputRecord)> {
        let corpus = self.corpus()?;
        let (vocab, stats) = match &self.vocab_file {
            Some(path) => (Vocab::load(path)?, None),
            None => {
                if !corpus.rereadable() {
                    return Err(Error::StdinTwice);
                }
                let (v, s) = count(&corpus, &self.vocab_options, threads, observer)?;
                (v, Some(s))
            }
        };
        let record = InputRecord {
            corpus: absolute(&self.corpus),
            corpus_options: corpus.options().clone(),
            vocab_options: self.vocab_options.clone(),
            vocab_file: self.vocab_file.as_deref().map(absolute_one),
            fingerprint: corpus.fingerprint()?,
            replaces: None,
        };
        Ok((corpus, vocab, stats, record))
    }
}

impl Input {
    /// The corpus, opened.
    pub fn corpus(&self) -> Result<Corpus> {
        if self.corpus.is_empty() {
            return Err(Error::Invalid(
                "no corpus given: name files, folders, or - for stdin".into(),
            ));
        }
        Corpus::open(&self.corpus, self.corpus_options.clone())
    }

    /// Counts the vocabulary alone (what `wembed vocab` does).
    pub fn count_vocab(
        &self,
        threads: usize,
        observer: &dyn Observer,
    ) -> Result<(Vocab, VocabStats)> {
        count(&self.corpus()?, &self.vocab_options, threads, observer)
    }
}

/// Counts the vocabulary of `corpus`, with its progress.
fn count(
    corpus: &Corpus,
    options: &VocabOptions,
    threads: usize,
    observer: &dyn Observer,
) -> Result<(Vocab, VocabStats)> {
    let progress = observer.stage(Stage::Bytes {
        label: "vocab",
        total: corpus.total_bytes(),
        item: "tokens",
    });
    let built = Vocab::build(corpus, options, threads, &progress);
    progress.finish();
    built
}

/// What a checkpoint keeps of a run's input, so that a resume needs only the folder: paths are
/// absolute, and the corpus's fingerprint lets the corpus be named again where it moved while a
/// different text is refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputRecord {
    /// Absolute paths of the corpus.
    pub corpus: Vec<PathBuf>,
    /// Tokenisation.
    pub corpus_options: CorpusOptions,
    /// Counting and pruning.
    pub vocab_options: VocabOptions,
    /// The vocabulary file used, if any.
    pub vocab_file: Option<PathBuf>,
    /// Size and head hash of the corpus.
    #[serde(default)]
    pub fingerprint: Option<Fingerprint>,
    /// The model folder a forced run replaces when it finishes.
    #[serde(default)]
    pub replaces: Option<PathBuf>,
}

/// A resumed run's input settings given again, each checked against the record, and where the
/// corpus is now if it moved.
#[derive(Clone, Debug, Default)]
pub struct InputOverrides {
    /// Tokenisation given again.
    pub corpus: CorpusOptionsOverrides,
    /// Vocabulary options given again.
    pub vocab: VocabOptionsOverrides,
    /// A vocabulary file given again.
    pub vocab_file: Option<PathBuf>,
    /// The corpus named again (it may have moved): checked against the record's fingerprint.
    pub corpus_now: Vec<PathBuf>,
}

impl InputRecord {
    /// The record a trainer's checkpoint carries as its caller's metadata.
    pub(crate) fn from_meta(meta: &serde_json::Value, dir: &Path) -> Result<InputRecord> {
        InputRecord::deserialize(meta).map_err(|e| {
            Error::bad_file(
                crate::checkpoint::path(dir),
                format!("corrupt checkpoint: {e}"),
            )
        })
    }

    /// Refuses overrides that disagree with the record, then opens the corpus (where it is now,
    /// if named again) and the folder's vocabulary.
    pub(crate) fn reopen(&mut self, dir: &Path, over: &InputOverrides) -> Result<(Corpus, Vocab)> {
        let conflict = super::conflict_in(dir);
        over.corpus.check(&self.corpus_options).map_err(conflict)?;
        over.vocab.check(&self.vocab_options).map_err(conflict)?;
        if let Some(file) = &over.vocab_file {
            let given = Some(absolute_one(file));
            if given != self.vocab_file {
                return Err(conflict(Conflict {
                    setting: "vocab_file",
                    stored: format!("{:?}", self.vocab_file),
                    given: format!("{given:?}"),
                }));
            }
        }
        let corpus = match over.corpus_now.is_empty() {
            true => Corpus::open(&self.corpus, self.corpus_options.clone())
                .map_err(|e| Error::CorpusGone { err: Box::new(e) })?,
            false => self.moved(dir, &over.corpus_now)?,
        };
        let vocab = Vocab::load(&dir.join(super::folder::VOCAB))?;
        Ok((corpus, vocab))
    }

    /// The corpus at `now`, if it is the text the checkpoint was trained on.
    fn moved(&mut self, dir: &Path, now: &[PathBuf]) -> Result<Corpus> {
        let c = Corpus::open(now, self.corpus_options.clone())?;
        let found = c.fingerprint()?;
        if self.fingerprint.is_some() && found != self.fingerprint {
            return Err(Error::Invalid(format!(
                "{} is not the corpus the checkpoint in {} was trained on (size or first MiB differ)",
                c.describe(),
                dir.display()
            )));
        }
        self.corpus = absolute(now);
        Ok(c)
    }
}

/// An absolute path (stdin's `-` as is); a path that does not exist is kept for `open` to report.
pub(crate) fn absolute_one(p: &Path) -> PathBuf {
    match p.as_os_str() == "-" {
        true => p.to_path_buf(),
        false => std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()),
    }
}

/// [`absolute_one`] of each.
pub(crate) fn absolute(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths.iter().map(|p| absolute_one(p)).collect()
}
