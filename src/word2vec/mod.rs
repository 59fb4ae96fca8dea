//! word2vec: skip-gram and CBOW with negative sampling or hierarchical softmax (Mikolov et al.
//! 2013), trained on Hogwild threads straight into memory-mapped matrices.
//!
//! The behaviour follows the reference C tool where it matters for quality: dynamic windows,
//! frequent-word subsampling with its keep probability, unigram^0.75 negatives, linear learning-rate
//! decay over all epochs' words, input rows uniform in ±0.5/dim and output rows zero.

mod cbow_sums;
mod huffman;
mod tokens;

pub(crate) use huffman::Huffman;

use crate::atomic::{partial_path, remove_stale_temp_dirs, unregister_cleanup, TempDir};
use crate::checkpoint;
use crate::corpus::{Corpus, SentenceSink};
use crate::error::{Error, Result};
use crate::hogwild::SharedMatrix;
use crate::kernels::{self, Sigmoid};
use crate::progress::Progress;
use crate::sampling::{rng, AliasTable, FastRng};
use crate::store::MatrixFile;
use crate::subword::{SubwordTable, Subwords};
use crate::vocab::Vocab;
use rand::{Rng, RngCore};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

/// Which word2vec model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Predict each context word from the centre word.
    SkipGram,
    /// Predict the centre word from its context (the mean of its vectors).
    Cbow,
}

/// Whose defaults a configuration starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Defaults {
    /// wembed's: [`Word2VecConfig::new`].
    #[default]
    Wembed,
    /// The reference C tool's algorithm and defaults: [`Word2VecConfig::word2vec_c`].
    #[value(name = "word2vec")]
    Word2vecC,
}

crate::settings::resumable! {
    /// Hyperparameters, shared by the CLI, the trainer and `config.json`.
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    pub struct Word2VecConfig / Word2VecOverrides {
        /// Skip-gram or CBOW.
        pub architecture: Architecture,
        /// Dimension of the vectors.
        pub dim: usize,
        /// Maximum distance between centre and context word; the effective window of each centre word
        /// is drawn uniformly from 1..=window.
        pub window: usize,
        /// Negative samples per positive pair; 0 disables negative sampling.
        pub negative: usize,
        /// Negatives are drawn from unigram counts raised to this power: word2vec's 0.75 by default.
        /// Lower values draw rare words more often; fastText uses 0.5, which on our benchmark raises
        /// CBOW's wordsim353 Spearman (gensim's `ns_exponent`).
        #[serde(default = "word2vec_exponent")]
        pub ns_exponent: f64,
        /// Hierarchical softmax.
        pub hs: bool,
        /// Subsampling threshold t; 0 disables subsampling.
        pub sample: f64,
        /// Passes over the corpus.
        pub epochs: usize,
        /// Starting learning rate; it decays linearly to lr·1e-4.
        pub lr: f32,
        /// CBOW averages the context vectors (otherwise sums them).
        pub cbow_mean: bool,
        /// Skip-gram: one draw of negatives per centre word, shared by all its context words (Ji et
        /// al. 2016), instead of one draw per (context, centre) pair as word2vec C does. Fewer draws and
        /// fewer rows to fetch per window; off gives the C tool's exact update order.
        #[serde(default)]
        pub shared_negatives: bool,
        /// Keep the corpus as word ids after the first full epoch (in a scratch folder in the model
        /// folder: 4 bytes per token plus about 16 per line) and replay them in the later epochs, instead of
        /// decoding and hashing the text every epoch. The same words in the same order, so the same
        /// vectors; off trades the speed for the disk space.
        #[serde(default = "yes")]
        pub pretokenize: bool,
        /// fastText's subword model (Bojanowski et al. 2017): a word's input vector is the mean of
        /// its own row and the rows its character n-grams hash to, so any word, seen or not, has
        /// one. `None`: whole words only.
        #[serde(default)]
        pub subwords: Option<Subwords>,
        /// Worker threads.
        pub threads: usize,
        /// Seed of the initialisation and sampling (one thread is then bit-reproducible).
        pub seed: u64,
    }
}

impl Default for Word2VecConfig {
    /// Skip-gram's defaults.
    fn default() -> Self {
        Word2VecConfig::new(Architecture::SkipGram)
    }
}

impl Word2VecConfig {
    /// wembed's defaults: word2vec's documented settings (dim 100, window 5, negative 5, sample
    /// 1e-4, lr 0.025 for skip-gram and 0.05 for CBOW) with two changes, each measured on the
    /// quality-per-CPU curves of BENCHMARKS.md:
    /// - 9 epochs, not 5. Subsampling at 1e-4 keeps only about half of an English corpus's
    ///   tokens, so word2vec's 5 passes train on 2.5 corpora of words; finalfrontier counts its
    ///   epochs in kept tokens for that reason (its 5 are about 9 passes). Quality still climbs
    ///   steeply from 5 to 9 passes and flattens after, and 9 of ours cost less CPU than 5 of
    ///   any peer's.
    /// - negatives shared by a centre word's window (skip-gram), which is faster at the same
    ///   quality.
    ///
    /// [`Word2VecConfig::word2vec_c`] gives the C tool's exact algorithm and defaults.
    pub fn new(architecture: Architecture) -> Self {
        Word2VecConfig {
            epochs: 9,
            shared_negatives: true,
            ..Word2VecConfig::word2vec_c(architecture)
        }
    }

    /// The reference C tool's defaults and algorithm (`word2vec -cbow 0|1`): 5 epochs and one
    /// draw of negatives per (context, centre) pair, in the C tool's update order. Pinned bit for
    /// bit (one thread) to what wembed gave for these settings before its defaults changed.
    pub fn word2vec_c(architecture: Architecture) -> Self {
        Word2VecConfig {
            architecture,
            dim: 100,
            window: 5,
            negative: 5,
            ns_exponent: NS_EXPONENT,
            hs: false,
            sample: 1e-4,
            epochs: 5,
            lr: match architecture {
                Architecture::SkipGram => 0.025,
                Architecture::Cbow => 0.05,
            },
            cbow_mean: true,
            shared_negatives: false,
            pretokenize: true,
            subwords: None,
            threads: crate::default_threads(),
            seed: 1,
        }
    }

    /// fastText's subword model (`--subwords`) with fastText's own settings where they differ
    /// from word2vec's: lr 0.05, negatives drawn by count^0.5, one draw per (centre, context)
    /// pair, each context word seeing the centre's vector as fastText's per-pair updates leave
    /// it. Measured on mixed-en (5 epochs, one seed; BENCHMARKS.md): word2vec's settings with
    /// subwords fell 0.03–0.04 short of `fasttext skipgram` on wordsim353 and MEN, fastText's
    /// matched or beat it on all three sets. The epochs stay wembed's, for the reason above.
    pub fn fasttext(architecture: Architecture) -> Self {
        Word2VecConfig {
            lr: 0.05,
            ns_exponent: 0.5,
            shared_negatives: false,
            subwords: Some(Subwords::default()),
            ..Word2VecConfig::new(architecture)
        }
    }

    /// The defaults `defaults` names, for `architecture`.
    pub fn defaults(architecture: Architecture, defaults: Defaults) -> Self {
        match defaults {
            Defaults::Wembed => Word2VecConfig::new(architecture),
            Defaults::Word2vecC => Word2VecConfig::word2vec_c(architecture),
        }
    }

    /// Refuses settings that cannot train, or whose sizes are absurd (a mistyped flag, a corrupt
    /// checkpoint): an error before any work or file, never an allocation that aborts.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, m: &str| Err(Error::setting(name, m));
        if self.dim == 0 {
            return bad("dim", "must be positive");
        }
        if self.window == 0 {
            return bad("window", "must be positive");
        }
        for (name, v, max) in [
            ("dim", self.dim, MAX_DIM),
            ("window", self.window, MAX_WINDOW),
            ("negative", self.negative, MAX_NEGATIVE),
            ("epochs", self.epochs, MAX_EPOCHS),
            ("threads", self.threads, crate::MAX_THREADS),
        ] {
            if v > max {
                return bad(name, &format!("{v} is above the limit of {max}"));
            }
        }
        if self.negative == 0 && !self.hs {
            return bad(
                "hs",
                "is needed when negative is 0: nothing would be trained",
            );
        }
        if self.epochs == 0 {
            return bad("epochs", "must be positive");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", "must be a positive number");
        }
        if !(self.sample >= 0.0 && self.sample.is_finite()) {
            return bad("sample", "must be zero or positive");
        }
        if !(-1.0..=1.0).contains(&self.ns_exponent) {
            return bad("ns_exponent", "must lie in [-1, 1]");
        }
        match self.subwords {
            Some(s) => s.validate(),
            None => Ok(()),
        }
    }
}

/// Limits far above any useful setting, so that only a mistake meets them.
pub const MAX_DIM: usize = 1 << 16;
/// Widest window.
pub const MAX_WINDOW: usize = 10_000;
/// Most negatives.
pub const MAX_NEGATIVE: usize = 10_000;
/// Most epochs.
pub const MAX_EPOCHS: usize = 100_000;

fn yes() -> bool {
    true
}

/// word2vec's power of the unigram counts for negatives; the CLI's default too.
pub const NS_EXPONENT: f64 = 0.75;

fn word2vec_exponent() -> f64 {
    NS_EXPONENT
}

/// The learning rate after `done` of `total` words: linear decay, floored at lr·1e-4.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    pub start: f32,
    pub total: u64,
}

impl Schedule {
    pub fn lr(&self, done: u64) -> f32 {
        let frac = done as f64 / (self.total as f64 + 1.0);
        let lr = self.start as f64 * (1.0 - frac);
        lr.max(self.start as f64 * 1e-4) as f32
    }
}

/// word2vec's probability of keeping one occurrence of a word of count `c` among `total` tokens:
/// `(sqrt(c/(t·N)) + 1)·(t·N)/c`, capped at 1. `t = 0` keeps everything.
pub(crate) fn keep_probability(count: u64, total: u64, t: f64) -> f64 {
    if t <= 0.0 || count == 0 {
        return 1.0;
    }
    let tn = t * total as f64;
    let c = count as f64;
    (((c / tn).sqrt() + 1.0) * tn / c).min(1.0)
}

/// The negative-sampling distribution: unigram counts raised to `exponent` (0.75 in word2vec).
pub(crate) fn negative_sampler(counts: &[u64], exponent: f64) -> Option<AliasTable> {
    let w: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(exponent)).collect();
    AliasTable::new(&w)
}

/// The effective window of one centre word: uniform in 1..=window.
#[inline]
pub(crate) fn effective_window<R: RngCore>(rng: &mut R, window: usize) -> usize {
    1 + (rng.next_u64() % window as u64) as usize
}

/// What a training run did, for the summary line and `config.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TrainStats {
    /// In-vocabulary words read, over all epochs (before subsampling).
    pub words: u64,
    /// Wall time.
    pub seconds: f64,
    /// Words per second trained by this process.
    pub words_per_sec: f64,
    /// Worker threads.
    pub threads: usize,
    /// Mean training loss of each epoch, per (context, centre) pair: the negative-sampling log
    /// loss −ln σ(u·v) − Σ ln σ(−u·n), plus the hierarchical-softmax path's log loss with `hs`
    /// (for CBOW, per centre word). A resumed epoch counts only the part trained after the resume.
    #[serde(default)]
    pub epoch_loss: Vec<f64>,
    /// Centre words trained (those with a context word), by this process: with `contexts`, the
    /// work behind words/s, from which `benches/flops.py` counts FLOP.
    #[serde(default)]
    pub centres: u64,
    /// Context words of those centres' windows, by this process.
    #[serde(default)]
    pub contexts: u64,
}

/// A checkpoint of a word2vec run (`checkpoint.json` in the model folder).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// The run's settings.
    pub config: Word2VecConfig,
    /// Words in its vocabulary.
    pub vocab_words: usize,
    /// Their summed counts.
    pub vocab_total: u64,
    /// Size of the corpus, to refuse another.
    pub corpus_bytes: Option<u64>,
    /// The epoch under way.
    pub epoch: usize,
    /// Per thread, the corpus offset of the first line not yet trained in this epoch (empty: the
    /// epoch has not started).
    pub positions: Vec<u64>,
    /// Words trained before those positions, over all epochs.
    pub words_done: u64,
    /// Mean loss of each finished epoch.
    #[serde(default)]
    pub epoch_loss: Vec<f64>,
    /// The generation of the matrix snapshots (`.NAME.ckpt.GEN`) this checkpoint stands for;
    /// `None` in checkpoints made before snapshots, whose partial files are taken as they are.
    #[serde(default)]
    pub snapshot: Option<u64>,
    /// Mid-epoch: each thread's state where it stopped for the checkpoint, so that a resumed
    /// thread continues the same random stream with the same counters.
    #[serde(default)]
    pub thread_states: Vec<ThreadState>,
    /// The caller's own record (the CLI keeps the corpus paths and vocabulary options here).
    pub meta: serde_json::Value,
}

impl State {
    /// Refuses a checkpoint that does not belong to this run (other settings, vocabulary or
    /// corpus) or whose fields cannot hold (an epoch past the last, more words than the run has).
    fn check(&self, config: &Word2VecConfig, vocab: &Vocab, corpus: &Corpus) -> Result<()> {
        let st = self;
        if st.config != *config || st.vocab_words != vocab.len() || st.vocab_total != vocab.total()
        {
            return Err(Error::Invalid(
                "the checkpoint was made with other settings or another vocabulary".into(),
            ));
        }
        if st.corpus_bytes != corpus.total_bytes() {
            return Err(Error::Invalid(
                "the corpus changed size since the checkpoint; resume needs the same corpus".into(),
            ));
        }
        let bytes = corpus.total_bytes().unwrap_or(0);
        let total = vocab.total().saturating_mul(config.epochs as u64);
        let positions_ok = (st.positions.is_empty() || st.positions.len() == config.threads)
            && st.positions.iter().all(|&p| p <= bytes)
            && (st.thread_states.is_empty() || st.thread_states.len() == config.threads)
            && st.thread_states.iter().all(|t| {
                t.position <= bytes && t.unreported <= total && t.lr.is_finite() && t.lr >= 0.0
            });
        if st.epoch >= config.epochs
            || st.words_done > total
            || !positions_ok
            || st.epoch_loss.len() > st.epoch
        {
            return Err(Error::Invalid(format!(
            "corrupt checkpoint: epoch {} of {}, {} of {total} words, positions {:?} in a corpus of {bytes} bytes",
            st.epoch, config.epochs, st.words_done, st.positions
        )));
        }
        Ok(())
    }
}

/// One worker thread at a checkpoint.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThreadState {
    /// Corpus offset of its next line.
    pub position: u64,
    /// Its random stream where it stopped.
    pub rng: FastRng,
    /// Words read since it last added its count to the shared total (and refreshed `lr`).
    pub unreported: u64,
    /// Its learning rate.
    pub lr: f32,
    /// Sentences seen, which decides the ones whose loss is measured.
    pub sentences: u64,
}

/// When to checkpoint, and what to resume from.
#[derive(Clone, Debug, Default)]
pub struct Checkpointing {
    /// Interval between checkpoints; `None` with no `resume` means no checkpoints at all (the
    /// matrices then live under temporary names that vanish if the run dies).
    pub every: Option<Duration>,
    /// The checkpoint to continue from.
    pub resume: Option<State>,
    /// The caller's record, kept in the checkpoint as it is.
    pub meta: serde_json::Value,
    /// Once set, the run takes a last checkpoint (where the corpus allows one mid-epoch), stops
    /// and returns [`Error::Interrupted`].
    pub stop: Option<std::sync::Arc<AtomicBool>>,
}

/// Trains into `dir`: `input.npy` (word vectors), `output.npy` (context vectors, with negative
/// sampling) and `hs-nodes.npy` (inner nodes, with hierarchical softmax). The files appear under
/// their names only once training has finished. With checkpoints they are kept meanwhile as
/// `.NAME.partial` and `checkpoint.json` records how far training got, at every interval and at
/// the end of every epoch; only lines of plain files can be resumed mid-epoch (gzip corpora resume
/// at the last epoch boundary).
pub fn train(
    corpus: &Corpus,
    vocab: &Vocab,
    config: &Word2VecConfig,
    dir: &Path,
    progress: &Progress,
    ck: &Checkpointing,
) -> Result<TrainStats> {
    let checkpointed = AtomicBool::new(false);
    let result = train_inner((corpus, vocab, config), (dir, progress, ck), &checkpointed);
    // A fresh run that fails before its first checkpoint leaves nothing anyone could resume.
    if result.is_err() && ck.resume.is_none() && !checkpointed.load(Ordering::Relaxed) {
        for name in MATRICES {
            let _ = std::fs::remove_file(partial_path(&dir.join(name)));
        }
    }
    result
}

/// The scratch folder of the recorded ids: `.word2vec-ids-PID` in the model folder.
const IDS_KIND: &str = "word2vec-ids";

/// Runs one epoch from the recorded ids: thread t replays what thread t recorded.
fn replay_parallel<'a, F>(dir: &Path, threads: usize, make: F) -> Result<Vec<Worker<'a>>>
where
    F: Fn(usize) -> Worker<'a> + Sync,
{
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let make = &make;
                scope.spawn(move || -> Result<Worker<'a>> {
                    let mut w = make(t);
                    tokens::replay(&tokens::thread_file(dir, t), &mut w)?;
                    Ok(w)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

const MATRICES: [&str; 3] = ["input.npy", "output.npy", "hs-nodes.npy"];

fn train_inner(
    (corpus, vocab, config): (&Corpus, &Vocab, &Word2VecConfig),
    (dir, progress, ck): (&Path, &Progress, &Checkpointing),
    wrote_checkpoint: &AtomicBool,
) -> Result<TrainStats> {
    check_inputs(corpus, vocab, config, ck)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let checkpointed = ck.every.is_some() || ck.resume.is_some();
    let (mut input, mut output, mut nodes) = open_matrices(vocab.len(), config, dir, ck)?;
    let shared = Shared::new(
        &mut input,
        &mut output,
        &mut nodes,
        vocab,
        config,
        progress,
        ck,
    )?;
    progress.inc(shared.done.load(Ordering::Relaxed), 0);
    let start = Instant::now();
    let run = Run {
        corpus,
        config,
        dir,
        progress,
        ck,
        shared: &shared,
        threads: config.threads.max(1),
        checkpointed,
        epoch_loss: Mutex::new(
            ck.resume
                .as_ref()
                .map_or(Vec::new(), |s| s.epoch_loss.clone()),
        ),
        generation: AtomicU64::new(ck.resume.as_ref().and_then(|s| s.snapshot).unwrap_or(0)),
        wrote_checkpoint,
    };
    let first_epoch = ck.resume.as_ref().map_or(0, |s| s.epoch);
    // Only a corpus read more than once needs its ids kept.
    remove_stale_temp_dirs(dir, IDS_KIND);
    let mut ids = IdCache {
        dir: match config.pretokenize
            && config.epochs - first_epoch > 1
            && vocab.len() < tokens::MAX_WORDS
        {
            true => Some(TempDir::new(dir, IDS_KIND)?),
            false => None,
        },
        ready: false,
    };
    for epoch in first_epoch..config.epochs {
        run.epoch(epoch, &mut ids)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let words = shared.done.load(Ordering::Relaxed);
    let before = ck.resume.as_ref().map_or(0, |s| s.words_done);
    if words == before {
        // A --vocab none of whose words occur: every token was out of vocabulary.
        return Err(Error::Invalid(
            "no word of the vocabulary occurs in the corpus: nothing was trained".into(),
        ));
    }
    let threads = run.threads;
    let epoch_loss = run.epoch_loss.into_inner().expect("loss lock");
    let work = (
        shared.work.0.load(Ordering::Relaxed),
        shared.work.1.load(Ordering::Relaxed),
    );
    drop(shared);
    crate::atomic::finishing();
    input.finish()?;
    for m in [output, nodes].into_iter().flatten() {
        m.finish()?;
    }
    if checkpointed {
        checkpoint::remove(dir)?;
        for name in MATRICES {
            checkpoint::remove_snapshots(&dir.join(name), None);
        }
    }
    Ok(TrainStats {
        words,
        seconds,
        // A resumed run's rate counts only the words this process trained.
        words_per_sec: (words - before) as f64 / seconds.max(1e-9),
        threads,
        epoch_loss,
        centres: work.0,
        contexts: work.1,
    })
}

/// What must hold before any matrix is made: settings, the checkpoint against them, a corpus
/// that can be read once per epoch, a vocabulary to train.
fn check_inputs(
    corpus: &Corpus,
    vocab: &Vocab,
    config: &Word2VecConfig,
    ck: &Checkpointing,
) -> Result<()> {
    config.validate()?;
    if let Some(st) = &ck.resume {
        st.check(config, vocab, corpus)?;
    }
    if !corpus.rereadable() {
        return Err(Error::Invalid(
            "training reads the corpus once per epoch, and stdin cannot be re-read: save it to a file first".into(),
        ));
    }
    if vocab.len() < 2 {
        return Err(Error::Invalid(
            "the vocabulary needs at least 2 words to train".into(),
        ));
    }
    if input_rows(vocab.len(), config) > u32::MAX as usize {
        return Err(Error::setting(
            "subwords",
            "words and n-gram buckets together need more than 2^32 rows",
        ));
    }
    Ok(())
}

type Matrices = (MatrixFile, Option<MatrixFile>, Option<MatrixFile>);

/// Input, output (negative sampling) and inner-node (hierarchical softmax) matrices: created,
/// under partial names when checkpointed, or reopened from a checkpoint's snapshot.
fn open_matrices(
    v: usize,
    config: &Word2VecConfig,
    dir: &Path,
    ck: &Checkpointing,
) -> Result<Matrices> {
    let dim = config.dim;
    let checkpointed = ck.every.is_some() || ck.resume.is_some();
    let open = |name: &str, rows: usize| -> Result<MatrixFile> {
        let path = dir.join(name);
        match (&ck.resume, checkpointed) {
            (Some(st), _) => {
                if let Some(generation) = st.snapshot {
                    checkpoint::restore_snapshot(&path, generation)?;
                }
                MatrixFile::open_partial(&path, rows, dim)
            }
            (None, true) => MatrixFile::create_partial(&path, rows, dim),
            (None, false) => MatrixFile::create(&path, rows, dim),
        }
    };
    let mut input = open("input.npy", input_rows(v, config))?;
    if ck.resume.is_none() {
        // fastText starts every row, words' and n-grams', uniform in ±1/dim: a word's vector is
        // a mean of some ten rows, which shrinks its spread by about three.
        let half = match config.subwords {
            Some(_) => 1.0 / dim as f32,
            None => 0.5 / dim as f32,
        };
        init_input(input.data_mut(), half, config.seed);
    }
    let output = match config.negative {
        0 => None,
        _ => Some(open("output.npy", v)?),
    };
    let nodes = match config.hs {
        true => Some(open("hs-nodes.npy", v - 1)?),
        false => None,
    };
    Ok((input, output, nodes))
}

impl<'a> Shared<'a> {
    fn new(
        input: &'a mut MatrixFile,
        output: &'a mut Option<MatrixFile>,
        nodes: &'a mut Option<MatrixFile>,
        vocab: &'a Vocab,
        config: &'a Word2VecConfig,
        progress: &'a Progress,
        ck: &Checkpointing,
    ) -> Result<Self> {
        let train_words = vocab.total();
        let keep: Vec<u64> = vocab
            .counts()
            .iter()
            .map(|&c| (keep_probability(c, train_words, config.sample) * 4294967296.0) as u64)
            .collect();
        let negatives = match config.negative {
            0 => None,
            _ => Some(
                negative_sampler(vocab.counts(), config.ns_exponent)
                    .ok_or_else(|| Error::Invalid("empty vocabulary".into()))?,
            ),
        };
        Ok(Shared {
            input: input.shared(),
            output: output.as_mut().map(|m| m.shared()),
            nodes: nodes.as_mut().map(|m| m.shared()),
            vocab,
            keep,
            negatives,
            huffman: config.hs.then(|| Huffman::new(vocab.counts())),
            subwords: config
                .subwords
                .map(|sw| SubwordTable::new(vocab.words(), &sw)),
            sigmoid: Sigmoid::default(),
            config,
            schedule: Schedule {
                start: config.lr,
                total: train_words * config.epochs as u64,
            },
            done: AtomicU64::new(ck.resume.as_ref().map_or(0, |s| s.words_done)),
            loss: Mutex::new((0.0, 0)),
            work: (AtomicU64::new(0), AtomicU64::new(0)),
            progress,
        })
    }
}

/// The corpus as recorded word ids, once an epoch has recorded them.
struct IdCache {
    dir: Option<TempDir>,
    ready: bool,
}

/// A training run between its setup and its end: what every epoch and checkpoint needs.
struct Run<'r, 'a> {
    corpus: &'r Corpus,
    config: &'r Word2VecConfig,
    dir: &'r Path,
    progress: &'r Progress,
    ck: &'r Checkpointing,
    shared: &'r Shared<'a>,
    threads: usize,
    checkpointed: bool,
    epoch_loss: Mutex<Vec<f64>>,
    /// The generation of the last snapshot written.
    generation: AtomicU64,
    wrote_checkpoint: &'r AtomicBool,
}

impl Run<'_, '_> {
    fn state(&self, epoch: usize, positions: Vec<u64>, words_done: u64) -> State {
        State {
            config: self.config.clone(),
            vocab_words: self.shared.vocab.len(),
            vocab_total: self.shared.vocab.total(),
            corpus_bytes: self.corpus.total_bytes(),
            epoch,
            positions,
            words_done,
            epoch_loss: self.epoch_loss.lock().expect("loss lock").clone(),
            snapshot: None,
            thread_states: Vec::new(),
            meta: self.ck.meta.clone(),
        }
    }

    /// Every checkpoint copies the matrices as they are (workers paused) to snapshot files of a
    /// new generation, then names that generation in checkpoint.json, then drops the older one:
    /// the training goes on in the partial files, and a resume starts from the copies.
    fn save(&self, st: State) -> Result<()> {
        let (dir, s) = (self.dir, self.shared);
        let g = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let t = Instant::now();
        let mut bytes = 0;
        let matrices = [Some(&s.input), s.output.as_ref(), s.nodes.as_ref()];
        for (name, m) in MATRICES.iter().zip(matrices) {
            if let Some(m) = m {
                checkpoint::write_snapshot(&dir.join(name), g, m)?;
                bytes += m.rows() * m.cols() * 4;
            }
        }
        checkpoint::write(
            dir,
            &State {
                snapshot: Some(g),
                ..st
            },
        )?;
        for name in MATRICES {
            checkpoint::remove_snapshots(&dir.join(name), Some(g));
        }
        self.progress.note(&format!(
            "wembed: checkpoint {g}: {} MiB of matrices copied in {:.1} s",
            bytes >> 20,
            t.elapsed().as_secs_f64()
        ));
        if !self.wrote_checkpoint.swap(true, Ordering::Relaxed) {
            // From now on the partial files are a resumable state: Ctrl-C must keep them.
            for name in MATRICES {
                unregister_cleanup(&partial_path(&dir.join(name)));
            }
        }
        Ok(())
    }

    /// Thread `t`'s worker for `epoch`: a fresh stream, or the checkpointed thread's.
    fn worker<'w>(
        &'w self,
        epoch: usize,
        t: usize,
        resume: Option<&[u64]>,
        gate: &'w checkpoint::Gate<ThreadState>,
    ) -> Worker<'w> {
        let total_bytes = self.corpus.total_bytes().unwrap_or(0);
        let range_start = total_bytes * t as u64 / self.threads as u64;
        let position = resume.map_or(0, |r| r.get(t).copied().unwrap_or(0));
        let resumed = match &self.ck.resume {
            Some(s) if epoch == s.epoch && s.thread_states.len() == self.threads => {
                s.thread_states.get(t)
            }
            _ => None,
        };
        let mut w = match resumed {
            Some(ts) => Worker::resumed(self.shared, ts),
            // A fresh epoch's stream; checkpoints older than thread states re-seed from the
            // offset.
            None => Worker::new(
                self.shared,
                self.config.seed
                    ^ ((epoch as u64) << 40)
                    ^ ((t as u64 + 1) * 0x9E37_79B9_7F4A_7C15)
                    ^ position.rotate_left(17),
            ),
        };
        w.gate = Some(gate);
        w.thread = t;
        w.next = position.max(range_start);
        w
    }

    /// One pass over the corpus (or its recorded ids), checkpointing every `ck.every` where the
    /// corpus can be resumed mid-epoch, and at its end.
    fn epoch(&self, epoch: usize, ids: &mut IdCache) -> Result<()> {
        let resume: Option<&[u64]> = match &self.ck.resume {
            Some(s) if epoch == s.epoch && !s.positions.is_empty() => Some(&s.positions),
            _ => None,
        };
        // A checkpoint stops every thread at its next line end: the copies of the matrices, the
        // shared word count and each thread's state then belong to one moment.
        let gate: checkpoint::Gate<ThreadState> = checkpoint::Gate::new(self.threads);
        let every = match self.checkpointed && self.corpus.seekable() {
            true => self.ck.every,
            false => None,
        };
        let snapshot = |last: bool| -> Result<()> {
            gate.pause(|states| {
                let positions = states.iter().map(|s| s.position).collect();
                let words = self.shared.done.load(Ordering::Relaxed);
                let saved = match every.is_some() {
                    true => self.save(State {
                        thread_states: states.to_vec(),
                        ..self.state(epoch, positions, words)
                    }),
                    false => Ok(()),
                };
                if last {
                    gate.halt();
                }
                saved
            })
        };
        let make = |t: usize| self.worker(epoch, t, resume, &gate);
        // Replay the ids once a whole epoch has recorded them; record them in the first epoch
        // that reads the whole text (a resumed epoch starts part-way).
        let record = match (&ids.dir, ids.ready, resume) {
            (Some(d), false, None) => Some(d.path()),
            _ => None,
        };
        let stop = self.ck.stop.as_deref();
        let (read, saved) = checkpoint::periodically(every, stop, snapshot, || match &ids.dir {
            Some(d) if ids.ready => replay_parallel(d.path(), self.threads, make),
            _ => self
                .corpus
                .for_each_parallel_from(self.threads, &Progress::hidden(), resume, |t| {
                    let mut w = make(t);
                    w.writer =
                        record.map(|d| tokens::TokenWriter::create(tokens::thread_file(d, t)));
                    w
                })
                .map(|(workers, _)| workers),
        });
        let recorded = record.is_some();
        let read = read?;
        saved?;
        if gate.halted() {
            return Err(Error::Interrupted {
                dir: self.dir.to_path_buf(),
            });
        }
        self.end_epoch(epoch, read, recorded, ids)
    }

    /// After a pass: every worker's count and loss added up, the recorded ids kept (or given
    /// up), the epoch's loss noted, and the checkpoint of the epoch boundary.
    fn end_epoch(
        &self,
        epoch: usize,
        workers: Vec<Worker>,
        recorded: bool,
        ids: &mut IdCache,
    ) -> Result<()> {
        let mut failure = None;
        for mut w in workers {
            w.report();
            if let Some(Err(e)) = w.writer.take().map(|wr| wr.finish()) {
                failure.get_or_insert(e);
            }
        }
        {
            let mut sums = self.shared.loss.lock().expect("loss lock");
            let mean = sums.0 / sums.1.max(1) as f64;
            self.epoch_loss.lock().expect("loss lock").push(mean);
            self.progress.note(&format!(
                "wembed: epoch {}/{}  loss {mean:.4}",
                epoch + 1,
                self.config.epochs
            ));
            *sums = (0.0, 0);
        }
        match (recorded, failure) {
            (true, None) => ids.ready = true,
            (true, Some(e)) => {
                self.progress.note(&format!(
                    "wembed: keeping the corpus as word ids failed ({e}); later epochs read the text"
                ));
                ids.dir = None;
            }
            _ => {}
        }
        if self.checkpointed && epoch + 1 < self.config.epochs {
            let words = self.shared.done.load(Ordering::Relaxed);
            self.save(self.state(epoch + 1, Vec::new(), words))?;
        }
        Ok(())
    }
}

/// Input rows uniform in ±0.5/dim, as word2vec C; seeded, so one thread reproduces bit for bit.
/// Rows of the input matrix: the words', then (with subwords) the n-gram buckets'.
pub fn input_rows(words: usize, config: &Word2VecConfig) -> usize {
    words + config.subwords.map_or(0, |s| s.bucket)
}

fn init_input(data: &mut [f32], half: f32, seed: u64) {
    let mut r = rng(seed ^ 0x1417_u64);
    for x in data {
        *x = r.random_range(-half..half);
    }
}

/// What all worker threads share: the matrices (lock-free), the read-only tables, the word counter.
struct Shared<'a> {
    input: SharedMatrix<'a>,
    output: Option<SharedMatrix<'a>>,
    nodes: Option<SharedMatrix<'a>>,
    vocab: &'a Vocab,
    /// Keep probability ·2^32 per word (≥ 2^32 means always).
    keep: Vec<u64>,
    negatives: Option<AliasTable>,
    huffman: Option<Huffman>,
    /// Each word's input rows, when it has n-grams.
    subwords: Option<SubwordTable>,
    sigmoid: Sigmoid,
    config: &'a Word2VecConfig,
    schedule: Schedule,
    done: AtomicU64,
    /// Loss summed over the current epoch's pairs, and the pairs.
    loss: Mutex<(f64, u64)>,
    /// Centres and context words trained, over all threads (`TrainStats`).
    work: (AtomicU64, AtomicU64),
    progress: &'a Progress,
}

/// Words a thread trains before it publishes its count and refreshes its learning rate, as in C.
const REPORT_EVERY: u64 = 10_000;

struct Worker<'a> {
    s: &'a Shared<'a>,
    rng: FastRng,
    /// The sentence's in-vocabulary ids, then (`ids`) those that survive subsampling.
    all: Vec<u32>,
    ids: Vec<u32>,
    /// Where the first full epoch records the ids for the later ones.
    writer: Option<tokens::TokenWriter>,
    /// Skip-gram window batch: context ids, target ids (centre then negatives), the gradients of
    /// their logits (contexts × targets) and of the context rows (contexts × dim).
    ctx: Vec<u32>,
    targets: Vec<u32>,
    /// The next window's targets, drawn one window early so their rows are in cache when needed.
    ahead: Vec<u32>,
    grads: Vec<f32>,
    ctx_grads: Vec<f32>,
    neu1: Vec<f32>,
    neu1e: Vec<f32>,
    /// Skip-gram with subwords, per-pair negatives: the centre's vector as fastText sees it at
    /// the current context word (its mean, moved by the steps of the window so far).
    online: Vec<f32>,
    /// CBOW with subwords: the window's row sums.
    sums: cbow_sums::WindowSums,
    unreported: u64,
    lr: f32,
    /// Loss and (context, centre) pairs since the last report, over the sentences sampled for
    /// it (see `LOSS_EVERY`).
    loss: f64,
    pairs: u64,
    /// Centres and context words since the last report.
    centres: u64,
    contexts: u64,
    sentences: u64,
    /// Where this thread stops for checkpoints, as thread number `thread`.
    gate: Option<&'a checkpoint::Gate<ThreadState>>,
    thread: usize,
    /// Corpus offset of the next line.
    next: u64,
}

impl<'a> Worker<'a> {
    fn new(s: &'a Shared<'a>, seed: u64) -> Self {
        let dim = s.config.dim;
        Worker {
            s,
            rng: rng(seed),
            all: Vec::with_capacity(1024),
            ids: Vec::with_capacity(1024),
            writer: None,
            ctx: Vec::with_capacity(2 * s.config.window),
            targets: Vec::with_capacity(1 + s.config.negative),
            ahead: Vec::with_capacity(1 + s.config.negative),
            grads: Vec::with_capacity(2 * s.config.window * (1 + s.config.negative)),
            ctx_grads: vec![0.0; 2 * s.config.window * dim],
            neu1: vec![0.0; dim],
            neu1e: vec![0.0; dim],
            online: vec![0.0; dim],
            sums: cbow_sums::WindowSums::default(),
            unreported: 0,
            lr: s.schedule.lr(s.done.load(Ordering::Relaxed)),
            loss: 0.0,
            pairs: 0,
            centres: 0,
            contexts: 0,
            sentences: 0,
            gate: None,
            thread: 0,
            next: 0,
        }
    }

    /// A worker that continues a checkpointed thread's stream.
    fn resumed(s: &'a Shared<'a>, ts: &ThreadState) -> Self {
        let mut w = Worker::new(s, 0);
        w.rng = ts.rng.clone();
        w.unreported = ts.unreported;
        w.lr = ts.lr;
        w.sentences = ts.sentences;
        w
    }

    fn thread_state(&self) -> ThreadState {
        ThreadState {
            position: self.next,
            rng: self.rng.clone(),
            unreported: self.unreported,
            lr: self.lr,
            sentences: self.sentences,
        }
    }

    /// Leaves the checkpoint gate for good: the thread's share is read (or it failed).
    fn leave(&mut self) {
        if let Some(g) = self.gate.take() {
            g.leave(self.thread, self.thread_state());
        }
    }

    fn report(&mut self) {
        if self.unreported > 0 {
            self.s.done.fetch_add(self.unreported, Ordering::Relaxed);
            self.s.progress.inc(self.unreported, 0);
        }
        self.s.work.0.fetch_add(self.centres, Ordering::Relaxed);
        self.s.work.1.fetch_add(self.contexts, Ordering::Relaxed);
        (self.centres, self.contexts) = (0, 0);
        self.publish_loss();
    }

    /// One centre trained with `contexts` context words (`TrainStats::centres`, `contexts`).
    #[inline(always)]
    fn count_window(&mut self, contexts: usize) {
        self.centres += 1;
        self.contexts += contexts as u64;
    }

    /// Adds this thread's loss to the epoch's; returns the epoch's running mean.
    fn publish_loss(&mut self) -> f64 {
        let mut sums = self.s.loss.lock().expect("loss lock");
        sums.0 += self.loss;
        sums.1 += self.pairs;
        (self.loss, self.pairs) = (0.0, 0);
        sums.0 / sums.1.max(1) as f64
    }

    fn refresh(&mut self) {
        let done = self.s.done.fetch_add(self.unreported, Ordering::Relaxed) + self.unreported;
        self.s.progress.inc(self.unreported, 0);
        self.unreported = 0;
        self.lr = self.s.schedule.lr(done);
        let mean = self.publish_loss();
        self.s
            .progress
            .set_message(format!("loss {mean:.4} lr {:.6}", self.lr));
    }

    /// One (input row, target word) update: the hierarchical-softmax path of `target` and/or
    /// the negatives `prepare_targets` drew for it, accumulating the input row's gradient in
    /// `neu1e`.
    #[inline(always)]
    fn update_output<const LOSS: bool>(&mut self, h: &[f32], target: u32) {
        let s = self.s;
        let lr = self.lr;
        if LOSS {
            self.pairs += 1;
        }
        if let (Some(hf), Some(nodes)) = (&s.huffman, &s.nodes) {
            let t = target as usize;
            for (&point, &code) in hf.points[t].iter().zip(&hf.codes[t]) {
                let row = nodes.row_mut(point as usize);
                let f = kernels::dot(h, row);
                if LOSS {
                    // Label 1 − code: the loss of f for code 0, of −f for code 1.
                    self.loss += s.sigmoid.loss(if code == 0 { f } else { -f }) as f64;
                }
                if f <= -kernels::MAX_EXP || f >= kernels::MAX_EXP {
                    continue;
                }
                let g = (1.0 - code as f32 - s.sigmoid.get(f)) * lr;
                kernels::axpy(g, row, &mut self.neu1e);
                kernels::axpy(g, h, row);
            }
        }
        if let Some(out) = &s.output {
            for (d, &word) in self.targets.iter().enumerate() {
                let label = if d == 0 { 1.0 } else { 0.0 };
                let row = out.row_mut(word as usize);
                let f = kernels::dot(h, row);
                if LOSS {
                    self.loss += s.sigmoid.loss(if d == 0 { f } else { -f }) as f64;
                }
                let g = (label - s.sigmoid.get(f)) * lr;
                kernels::axpy(g, row, &mut self.neu1e);
                kernels::axpy(g, h, row);
            }
        }
    }

    /// `ctx` = the ids within `b` of position `pos`, the centre excluded.
    #[inline(always)]
    fn gather_contexts(&mut self, pos: usize, b: usize) {
        let n = self.ids.len();
        self.ctx.clear();
        for c in pos.saturating_sub(b)..(pos + b + 1).min(n) {
            if c != pos {
                self.ctx.push(self.ids[c]);
            }
        }
    }

    /// Draws the negatives of `target` (when negative sampling is on) ahead of their use.
    #[inline(always)]
    fn prepare_targets(&mut self, target: u32) {
        let s = self.s;
        if let (Some(neg), Some(out)) = (&s.negatives, &s.output) {
            let negative = s.config.negative;
            draw_targets(
                &mut self.rng,
                neg,
                out,
                (target, negative),
                &mut self.targets,
            );
        }
    }

    /// Skip-gram with shared negatives: for one centre word the window is a small dense problem,
    /// contexts × (centre + negatives) logits, and every gradient is computed from the rows as they
    /// were before the window's updates (as a mini-batch; word2vec C does the same per pair).
    #[inline(always)]
    fn skipgram_shared<const LOSS: bool>(&mut self) {
        let s = self.s;
        let (Some(neg), Some(out)) = (&s.negatives, &s.output) else {
            return;
        };
        let (dim, negative) = (s.config.dim, s.config.negative);
        let n = self.ids.len();
        for pos in 0..n {
            let b = effective_window(&mut self.rng, s.config.window);
            let centre = self.ids[pos];
            if pos + 1 < n {
                out.prefetch(self.ids[pos + 1] as usize);
            }
            self.gather_contexts(pos, b);
            if self.ctx.is_empty() {
                continue;
            }
            self.count_window(self.ctx.len());
            // This window's targets were drawn (and prefetched) one window ahead.
            if pos == 0 {
                draw_targets(
                    &mut self.rng,
                    neg,
                    out,
                    (centre, negative),
                    &mut self.targets,
                );
            } else {
                std::mem::swap(&mut self.targets, &mut self.ahead);
            }
            if pos + 1 < n {
                let next = (self.ids[pos + 1], negative);
                draw_targets(&mut self.rng, neg, out, next, &mut self.ahead);
            }
            if LOSS {
                self.pairs += self.ctx.len() as u64;
            }
            // The dimensions people train most, at their full speed; any other row by row.
            match dim {
                50 => self.window_fixed::<LOSS, 50>(),
                100 => self.window_fixed::<LOSS, 100>(),
                128 => self.window_fixed::<LOSS, 128>(),
                200 => self.window_fixed::<LOSS, 200>(),
                300 => self.window_fixed::<LOSS, 300>(),
                _ => {
                    self.window_grads::<LOSS>();
                    self.apply_window_rows();
                }
            }
        }
    }

    /// One window with rows of a dimension fixed at compile time: the dot products unroll whole
    /// and run side by side, and the updates keep rows in registers.
    #[inline(always)]
    fn window_fixed<const LOSS: bool, const D: usize>(&mut self) {
        self.window_grads_fixed::<LOSS, D>();
        self.apply_window::<D>();
    }

    /// `window_grads` for rows of a dimension fixed at compile time: a context row's dot products
    /// with the targets are taken three at a time (six spilled the accumulators, two and four were
    /// slower), bit for bit `dot`'s.
    #[inline(always)]
    fn window_grads_fixed<const LOSS: bool, const D: usize>(&mut self) {
        const GROUP: usize = 3;
        let s = self.s;
        let Some(out) = &s.output else { return };
        let (lr, sigmoid) = (self.lr, &s.sigmoid);
        let row = |t: u32| fixed::<D>(out.row(t as usize));
        self.grads.clear();
        for &c in &self.ctx {
            let h = fixed::<D>(s.input.row(c as usize));
            let mut j = 0;
            // `logit_grad` inline by hand: called here it made this loop 27% slower (its
            // codegen, measured alternated at one thread), though it computes the same.
            let mut record = |f: f32| {
                if LOSS {
                    self.loss += sigmoid.loss(if j == 0 { f } else { -f }) as f64;
                }
                let label = if j == 0 { 1.0 } else { 0.0 };
                self.grads.push((label - sigmoid.get(f)) * lr);
                j += 1;
            };
            let groups = self.targets.chunks_exact(GROUP);
            let rest = groups.remainder();
            for g in groups {
                let rows: [&[f32; D]; GROUP] = std::array::from_fn(|i| row(g[i]));
                kernels::dots(h, rows).into_iter().for_each(&mut record);
            }
            for &t in rest {
                record(kernels::dot(h, row(t)));
            }
        }
    }

    /// `grads` = the gradients of the window's logits (contexts × targets), each from one `dot`
    /// of a context's input row and a target's output row.
    #[inline(always)]
    fn window_grads<const LOSS: bool>(&mut self) {
        let s = self.s;
        let Some(out) = &s.output else { return };
        let (lr, sigmoid) = (self.lr, &s.sigmoid);
        self.grads.clear();
        for &c in &self.ctx {
            let h = s.input.row(c as usize);
            for (j, &t) in self.targets.iter().enumerate() {
                let f = kernels::dot(h, out.row(t as usize));
                let g = logit_grad::<LOSS>(sigmoid, lr, j == 0, f, &mut self.loss);
                self.grads.push(g);
            }
        }
    }

    /// The window's updates from its logits' gradients `grads` (contexts × targets), with rows of
    /// a dimension fixed at compile time: each context's gradient and each target's row are
    /// summed in registers over the window's terms. Bit for bit `apply_window_rows`.
    #[inline(always)]
    fn apply_window<const D: usize>(&mut self) {
        let s = self.s;
        let Some(out) = &s.output else { return };
        let k = self.targets.len();
        let (grads, m) = (&self.grads, self.ctx.len());
        let ctx_grads = &mut self.ctx_grads[..m * D];
        for (i, e) in ctx_grads.chunks_exact_mut(D).enumerate() {
            let terms = self.targets.iter().enumerate();
            let terms = terms.map(|(j, &t)| (grads[i * k + j], fixed(out.row(t as usize))));
            e.copy_from_slice(&kernels::sum_terms([0.0; D], terms));
        }
        for (j, &t) in self.targets.iter().enumerate() {
            let o: &mut [f32; D] = fixed_mut(out.row_mut(t as usize));
            let terms = self.ctx.iter().enumerate();
            let terms = terms.map(|(i, &c)| (grads[i * k + j], fixed(s.input.row(c as usize))));
            *o = kernels::sum_terms(*o, terms);
        }
        for (&c, e) in self.ctx.iter().zip(ctx_grads.chunks_exact(D)) {
            kernels::axpy(1.0, e, s.input.row_mut(c as usize));
        }
    }

    /// The window's updates a row at a time, for any dimension.
    #[inline(always)]
    fn apply_window_rows(&mut self) {
        let s = self.s;
        let Some(out) = &s.output else { return };
        let (k, dim) = (self.targets.len(), s.config.dim);
        let m = self.ctx.len();
        let ctx_grads = &mut self.ctx_grads[..m * dim];
        ctx_grads.fill(0.0);
        for (i, e) in ctx_grads.chunks_exact_mut(dim).enumerate() {
            for (j, &t) in self.targets.iter().enumerate() {
                kernels::axpy(self.grads[i * k + j], out.row(t as usize), e);
            }
        }
        for (j, &t) in self.targets.iter().enumerate() {
            let o = out.row_mut(t as usize);
            for (i, &c) in self.ctx.iter().enumerate() {
                kernels::axpy(self.grads[i * k + j], s.input.row(c as usize), o);
            }
        }
        for (&c, e) in self.ctx.iter().zip(ctx_grads.chunks_exact(dim)) {
            kernels::axpy(1.0, e, s.input.row_mut(c as usize));
        }
    }

    #[inline(always)]
    fn skipgram<const LOSS: bool>(&mut self) {
        let s = self.s;
        if s.config.shared_negatives && s.huffman.is_none() {
            return self.skipgram_shared::<LOSS>();
        }
        let n = self.ids.len();
        for pos in 0..n {
            let b = effective_window(&mut self.rng, s.config.window);
            let centre = self.ids[pos];
            let (lo, hi) = (pos.saturating_sub(b), (pos + b + 1).min(n));
            if hi - lo > 1 {
                self.count_window(hi - lo - 1);
            }
            for c in lo..hi {
                if c == pos {
                    continue;
                }
                let context = self.ids[c] as usize;
                self.prepare_targets(centre);
                self.neu1e.fill(0.0);
                let h = s.input.row_mut(context);
                self.update_output::<LOSS>(h, centre);
                kernels::axpy(1.0, &self.neu1e, h);
            }
        }
    }

    #[inline(always)]
    fn cbow<const LOSS: bool>(&mut self) {
        let s = self.s;
        let n = self.ids.len();
        for pos in 0..n {
            let b = effective_window(&mut self.rng, s.config.window);
            let (lo, hi) = (pos.saturating_sub(b), (pos + b + 1).min(n));
            // Drawn first so that the rows load while the context is summed.
            self.prepare_targets(self.ids[pos]);
            let mut neu1 = std::mem::take(&mut self.neu1);
            neu1.fill(0.0);
            let mut cw = 0;
            for c in lo..hi {
                if c != pos {
                    kernels::axpy(1.0, s.input.row(self.ids[c] as usize), &mut neu1);
                    cw += 1;
                }
            }
            if cw > 0 {
                self.count_window(cw);
                if s.config.cbow_mean {
                    kernels::scale(1.0 / cw as f32, &mut neu1);
                }
                self.neu1e.fill(0.0);
                self.update_output::<LOSS>(&neu1, self.ids[pos]);
                for c in lo..hi {
                    if c != pos {
                        kernels::axpy(1.0, &self.neu1e, s.input.row_mut(self.ids[c] as usize));
                    }
                }
            }
            self.neu1 = neu1;
        }
    }
}

/// fastText's subword model, trained a window at a time.
impl Worker<'_> {
    /// Skip-gram with subwords. As in fastText the centre word is the input: its vector, the
    /// mean of its rows, is built once per window (fastText rebuilds it for every context word)
    /// and predicts each context word; its gradient, summed over the window, goes to each of its
    /// rows once. With shared negatives one draw serves the whole window. With per-pair
    /// negatives each context word sees the vector fastText would rebuild after the previous
    /// pair's update: every row took the same step, so the mean moved by exactly that step.
    #[inline(always)]
    fn skipgram_subwords<const LOSS: bool>(&mut self) {
        let s = self.s;
        let Some(table) = &s.subwords else { return };
        let n = self.ids.len();
        let mut h = std::mem::take(&mut self.neu1);
        for pos in 0..n {
            let b = effective_window(&mut self.rng, s.config.window);
            self.gather_contexts(pos, b);
            if self.ctx.is_empty() {
                continue;
            }
            self.count_window(self.ctx.len());
            // The n-gram rows lie anywhere in a matrix of millions of rows: start loading the
            // next centre word's while this one trains.
            if let Some(&next) = self.ids.get(pos + 1) {
                for &r in table.rows(next) {
                    s.input.prefetch(r as usize);
                }
            }
            let rows = table.rows(self.ids[pos]);
            mean_of_rows(&s.input, rows, &mut h);
            self.neu1e.fill(0.0);
            if s.config.shared_negatives && s.huffman.is_none() {
                self.window_outputs::<LOSS>(&h);
            } else {
                let mut online = std::mem::take(&mut self.online);
                for i in 0..self.ctx.len() {
                    let context = self.ctx[i];
                    online.copy_from_slice(&h);
                    kernels::axpy(1.0, &self.neu1e, &mut online);
                    self.prepare_targets(context);
                    self.update_output::<LOSS>(&online, context);
                }
                self.online = online;
            }
            for &r in rows {
                kernels::axpy(1.0, &self.neu1e, s.input.row_mut(r as usize));
            }
        }
        self.neu1 = h;
    }

    /// One input vector `h` against the window: every context word as a positive, then
    /// `negative` draws (never a context word) shared by the window. Each shared draw stands for
    /// one draw per context word, so its gradient is weighted by their number: the balance of
    /// positives and negatives is the per-pair objective's.
    #[inline(always)]
    fn window_outputs<const LOSS: bool>(&mut self, h: &[f32]) {
        let s = self.s;
        let (Some(neg), Some(out)) = (&s.negatives, &s.output) else {
            return;
        };
        let lr = self.lr;
        let m = self.ctx.len();
        if LOSS {
            self.pairs += m as u64;
        }
        for &c in &self.ctx {
            let row = out.row_mut(c as usize);
            let f = kernels::dot(h, row);
            if LOSS {
                self.loss += s.sigmoid.loss(f) as f64;
            }
            let g = (1.0 - s.sigmoid.get(f)) * lr;
            kernels::axpy(g, row, &mut self.neu1e);
            kernels::axpy(g, h, row);
        }
        for _ in 0..s.config.negative {
            let mut t = neg.sample(&mut self.rng) as u32;
            // A tiny vocabulary may be all context: give up redrawing after a few tries.
            for _ in 0..8 {
                if !self.ctx.contains(&t) {
                    break;
                }
                t = neg.sample(&mut self.rng) as u32;
            }
            let row = out.row_mut(t as usize);
            let f = kernels::dot(h, row);
            if LOSS {
                self.loss += m as f64 * s.sigmoid.loss(-f) as f64;
            }
            let g = -s.sigmoid.get(f) * lr * m as f32;
            kernels::axpy(g, row, &mut self.neu1e);
            kernels::axpy(g, h, row);
        }
    }

    /// CBOW with subwords, as fastText: the rows of every context word (its own and its
    /// n-grams') pooled into one bag, whose mean predicts the centre word; the gradient goes to
    /// every row of the bag. Each position's row sum is kept while it is in the window
    /// (`cbow_sums`), so its rows are read once and written once.
    #[inline(always)]
    fn cbow_subwords<const LOSS: bool>(&mut self) {
        let s = self.s;
        let Some(table) = &s.subwords else { return };
        let (n, window) = (self.ids.len(), s.config.window);
        let mut h = std::mem::take(&mut self.neu1);
        let mut sums = std::mem::take(&mut self.sums);
        sums.reset(window, s.config.dim);
        let ids = std::mem::take(&mut self.ids);
        let rows = |c: usize| table.rows(ids[c]);
        for (pos, &centre) in ids.iter().enumerate() {
            sums.advance(pos, n, rows, &s.input);
            let b = effective_window(&mut self.rng, window);
            self.prepare_targets(centre);
            let (lo, hi) = (pos.saturating_sub(b), (pos + b + 1).min(n));
            let count = sums.window_sum(lo..hi, pos, &mut h);
            if count == 0 {
                continue;
            }
            self.count_window(hi - lo - 1);
            if s.config.cbow_mean {
                kernels::scale(1.0 / count as f32, &mut h);
            }
            self.neu1e.fill(0.0);
            self.update_output::<LOSS>(&h, centre);
            sums.step(lo..hi, pos, &self.neu1e);
        }
        sums.finish(n, rows, &s.input);
        self.ids = ids;
        self.neu1 = h;
        self.sums = sums;
    }
}

/// The gradient of one window logit `f` (label 1 for the centre, 0 for a negative), adding its
/// loss to `loss` when measured.
#[inline(always)]
fn logit_grad<const LOSS: bool>(
    sigmoid: &kernels::Sigmoid,
    lr: f32,
    centre: bool,
    f: f32,
    loss: &mut f64,
) -> f32 {
    if LOSS {
        *loss += sigmoid.loss(if centre { f } else { -f }) as f64;
    }
    let label = if centre { 1.0 } else { 0.0 };
    (label - sigmoid.get(f)) * lr
}

/// A row as an array of the dimension the caller was compiled for; only called where `dim == D`,
/// which every row's length is.
#[inline(always)]
fn fixed<const D: usize>(row: &[f32]) -> &[f32; D] {
    row.try_into().expect("rows are dim long")
}

#[inline(always)]
fn fixed_mut<const D: usize>(row: &mut [f32]) -> &mut [f32; D] {
    row.try_into().expect("rows are dim long")
}

/// `out` = the mean of the input rows `rows`.
#[inline(always)]
fn mean_of_rows(input: &SharedMatrix, rows: &[u32], out: &mut [f32]) {
    out.fill(0.0);
    for &r in rows {
        kernels::axpy(1.0, input.row(r as usize), out);
    }
    kernels::scale(1.0 / rows.len() as f32, out);
}

/// Fills `into` with the centre word, then `negative` draws that are never the centre, each
/// prefetched so its row is in cache by the time it is used.
#[inline(always)]
fn draw_targets(
    rng: &mut FastRng,
    neg: &AliasTable,
    out: &SharedMatrix,
    (centre, negative): (u32, usize),
    into: &mut Vec<u32>,
) {
    into.clear();
    into.push(centre);
    for _ in 0..negative {
        let mut w = neg.sample(rng) as u32;
        while w == centre {
            w = neg.sample(rng) as u32;
        }
        out.prefetch(w as usize);
        into.push(w);
    }
}

/// The hot loop of one sentence, compiled once per instruction set and picked at run time, so the
/// kernels inlined into it use AVX2 where the CPU has it while the binary still runs everywhere.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn train_sentence<'a>(w: &mut Worker<'a>, loss: bool) {
    use Architecture::{Cbow, SkipGram};
    match (w.s.config.architecture, w.s.subwords.is_some(), loss) {
        (SkipGram, false, false) => w.skipgram::<false>(),
        (SkipGram, false, true) => w.skipgram::<true>(),
        (SkipGram, true, false) => w.skipgram_subwords::<false>(),
        (SkipGram, true, true) => w.skipgram_subwords::<true>(),
        (Cbow, false, false) => w.cbow::<false>(),
        (Cbow, false, true) => w.cbow::<true>(),
        (Cbow, true, false) => w.cbow_subwords::<false>(),
        (Cbow, true, true) => w.cbow_subwords::<true>(),
    }
}

/// One sentence in this many has its loss computed (the others are trained by a copy of the loop
/// without it): plenty for a running mean, at an eighth of the cost of computing it everywhere.
const LOSS_EVERY: u64 = 8;

impl Worker<'_> {
    /// Subsamples one sentence of in-vocabulary ids and trains on it.
    fn learn(&mut self, words: &[u32]) {
        let s = self.s;
        self.ids.clear();
        for &id in words {
            self.unreported += 1;
            if s.keep[id as usize] > (self.rng.next_u32() as u64) {
                self.ids.push(id);
            }
        }
        if self.unreported >= REPORT_EVERY {
            self.refresh();
        }
        let sampled = self.sentences % LOSS_EVERY == 0;
        self.sentences += 1;
        train_sentence(self, sampled);
    }

    /// A line ended: the thread can stop here for a checkpoint.
    fn mark(&mut self, next: u64) {
        self.next = next;
        if let Some(g) = self.gate {
            if g.due() {
                g.park(self.thread, self.thread_state());
            }
        }
    }
}

impl Drop for Worker<'_> {
    /// A worker that fails or unwinds must still leave the gate, or a checkpoint would wait
    /// for it forever.
    fn drop(&mut self) {
        self.leave();
    }
}

impl SentenceSink for Worker<'_> {
    fn sentence(&mut self, tokens: &[&str]) {
        let vocab = self.s.vocab;
        let mut all = std::mem::take(&mut self.all);
        all.clear();
        all.extend(tokens.iter().filter_map(|t| vocab.id(t)));
        if let Some(w) = &mut self.writer {
            w.sentence(&all);
        }
        self.learn(&all);
        self.all = all;
    }

    fn line_end(&mut self, next: u64) {
        if let Some(w) = &mut self.writer {
            w.line_end(next);
        }
        self.mark(next);
    }

    fn finish(&mut self) {
        self.leave();
    }

    fn stopped(&self) -> bool {
        self.gate.is_some_and(|g| g.halted())
    }
}

impl tokens::Replay for Worker<'_> {
    fn sentence(&mut self, ids: &[u32]) {
        self.learn(ids);
    }

    fn line_end(&mut self, next: u64) {
        self.mark(next);
    }

    fn finish(&mut self) {
        self.leave();
    }

    fn stopped(&self) -> bool {
        self.gate.is_some_and(|g| g.halted())
    }
}

/// The sampling and schedule of word2vec C, pinned.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng;

    #[test]
    fn subsampling_keep_probability_is_word2vecs() {
        // t·N = 1e-4 · 1e6 = 100. A word seen 10,000 times: (sqrt(100) + 1) · 100/10000 = 0.11.
        assert!((keep_probability(10_000, 1_000_000, 1e-4) - 0.11).abs() < 1e-12);
        // At c = t·N: (1 + 1) · 1 = 2, capped at 1; rare words are always kept.
        assert_eq!(keep_probability(100, 1_000_000, 1e-4), 1.0);
        assert_eq!(keep_probability(3, 1_000_000, 1e-4), 1.0);
        // c = 400: (sqrt(4) + 1) · 100/400 = 0.75.
        assert!((keep_probability(400, 1_000_000, 1e-4) - 0.75).abs() < 1e-12);
        // t = 0 switches subsampling off.
        assert_eq!(keep_probability(10_000, 1_000_000, 0.0), 1.0);
    }

    #[test]
    fn negatives_follow_unigram_to_the_chosen_power() {
        let counts: Vec<u64> = vec![10_000, 4_000, 2_500, 900, 300, 120, 50, 9, 5, 1];
        let powers = |e: f64| -> Vec<f64> { counts.iter().map(|&c| (c as f64).powf(e)).collect() };
        // How often each word is drawn in `n` draws from the table built with `exponent`.
        let draw = |exponent: f64, seed: u64, n: usize| {
            let table = negative_sampler(&counts, exponent).unwrap();
            let mut seen = vec![0u64; counts.len()];
            let mut r = rng(seed);
            for _ in 0..n {
                seen[table.sample(&mut r)] += 1;
            }
            seen
        };
        // word2vec's 0.75 (the default) and fastText's 0.5 (`--ns-exponent 0.5`).
        for exponent in [Word2VecConfig::new(Architecture::Cbow).ns_exponent, 0.5] {
            let n = 1_000_000;
            let seen = draw(exponent, 5, n);
            let chi2 = crate::sampling::chi_square(&powers(exponent), &seen);
            // 9 degrees of freedom: the 99.99th percentile is 33.7.
            assert!(
                chi2 < 33.7,
                "exponent {exponent}: chi2 {chi2}, seen {seen:?}"
            );
            // And it is not plain unigram: the rarest word is drawn far more often than 1/N_tokens.
            let unigram_share = 1.0 / counts.iter().sum::<u64>() as f64;
            assert!(seen[9] as f64 / n as f64 > 3.0 * unigram_share);
        }
        assert_eq!(
            Word2VecConfig::new(Architecture::SkipGram).ns_exponent,
            0.75
        );
        // The exponent is really applied: draws under 0.5 are far from the 0.75 distribution.
        assert!(crate::sampling::chi_square(&powers(0.75), &draw(0.5, 6, 100_000)) > 1000.0);
    }

    #[test]
    fn learning_rate_decays_linearly_to_a_floor() {
        let s = Schedule {
            start: 0.025,
            total: 1_000_000,
        };
        assert_eq!(s.lr(0), 0.025);
        assert!((s.lr(500_000) - 0.0125).abs() < 1e-6);
        assert!((s.lr(900_000) - 0.0025).abs() < 1e-6);
        assert!((s.lr(1_000_000) - 0.025e-4).abs() < 1e-9);
        assert!((s.lr(5_000_000) - 0.025e-4).abs() < 1e-9);
        let mut prev = f32::MAX;
        for k in 0..=100 {
            let lr = s.lr(k * 10_000);
            assert!(lr <= prev);
            prev = lr;
        }
    }

    #[test]
    fn window_is_uniform_in_one_to_window() {
        let mut r = rng(3);
        let mut seen = [0u64; 6];
        for _ in 0..600_000 {
            let b = effective_window(&mut r, 5);
            assert!((1..=5).contains(&b));
            seen[b] += 1;
        }
        assert_eq!(seen[0], 0);
        for &c in &seen[1..] {
            assert!((c as f64 - 120_000.0).abs() < 2_000.0, "{seen:?}");
        }
    }
}
