//! `vocab`, `skipgram`, `cbow` and `glove`: the flags, and the library runs they start.

use super::{given, interval, positive, seconds};
use clap::{ArgMatches, Args};
use std::path::PathBuf;
use wembed::corpus::{CorpusOptions, CorpusOptionsOverrides};
use wembed::glove::{GloveConfig, GloveOverrides};
use wembed::run::glove::{Checkpoints, GloveResume, GloveRun};
use wembed::run::word2vec::{Word2VecResume, Word2VecRun, CHECKPOINT_SECS};
use wembed::run::{self, Input, InputOverrides, Which};
use wembed::subword::Subwords;
use wembed::vocab::{VocabOptions, VocabOptionsOverrides};
use wembed::word2vec::{Architecture, Defaults, Word2VecConfig, Word2VecOverrides};

const GIB: f64 = (1u64 << 30) as f64;

/// Where the text comes from and how it is split into words.
#[derive(Args)]
pub struct CorpusArgs {
    /// Text files, folders (read recursively, sorted) or - for stdin; gzip is detected by content.
    #[arg(value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    /// Lowercase every token.
    #[arg(long)]
    lowercase: bool,
    /// With --resume: where the corpus is now, if it moved (checked against the checkpoint's
    /// record of its size and first MiB).
    #[arg(long = "corpus", value_name = "PATH", num_args = 1..)]
    moved_corpus: Vec<PathBuf>,
    /// Worker threads; 0 means all cores (the default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

impl CorpusArgs {
    pub(super) fn threads(&self) -> usize {
        match self.threads {
            0 => wembed::default_threads(),
            n => n,
        }
    }

    fn options(&self) -> CorpusOptions {
        CorpusOptions {
            lowercase: self.lowercase,
            ..CorpusOptions::default()
        }
    }

    /// A fresh run's input.
    pub(super) fn input(
        &self,
        vocab_options: VocabOptions,
        vocab: &Option<PathBuf>,
    ) -> anyhow::Result<Input> {
        if !self.moved_corpus.is_empty() {
            anyhow::bail!("--corpus PATH points a --resume at a moved corpus; a fresh run takes the corpus as its argument");
        }
        Ok(Input {
            corpus: self.corpus.clone(),
            corpus_options: self.options(),
            vocab_options,
            vocab_file: vocab.clone(),
        })
    }

    /// A resumed run's input flags, those typed only.
    fn overrides(
        &self,
        m: &ArgMatches,
        vocab: &VocabOptions,
        file: &Option<PathBuf>,
    ) -> InputOverrides {
        let is = given(m);
        let mut corpus_now = self.corpus.clone();
        corpus_now.extend(self.moved_corpus.iter().cloned());
        InputOverrides {
            corpus: CorpusOptionsOverrides::given(&self.options(), &is),
            vocab: VocabOptionsOverrides::given(vocab, &is),
            vocab_file: file.clone().filter(|_| is("vocab")),
            corpus_now,
        }
    }
}

/// Where a training run writes, and whether it continues one.
#[derive(Args)]
pub struct RunArgs {
    /// Model folder to write (vocab.txt, the matrices as .npy, config.json, vectors.bin).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        required_unless_present = "resume"
    )]
    output: Option<PathBuf>,
    /// Continue the interrupted run in DIR from its last checkpoint, with its settings and corpus.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    resume: Option<PathBuf>,
    /// Replace an existing model folder; the old one stays until the new run has finished.
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Seconds between checkpoints (fractions allowed; 0: none): workers pause at a line end (a
    /// block of records for GloVe, which also checkpoints after its shuffle and every
    /// iteration), the matrices are copied to snapshot files, then checkpoint.json is written.
    #[arg(long, default_value_t = CHECKPOINT_SECS as f64, value_parser = seconds)]
    checkpoint_secs: f64,
}

impl RunArgs {
    fn output(&self) -> PathBuf {
        self.output
            .clone()
            .expect("clap requires -o without --resume")
    }
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    input: CorpusArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Dimension of the vectors (word2vec -size).
    #[arg(long, alias = "size", default_value_t = Word2VecConfig::default().dim, value_parser = positive)]
    dim: usize,
    /// Maximum context distance; each centre word draws its window from 1..=N (word2vec -window, fastText -ws).
    #[arg(long, alias = "ws", default_value_t = Word2VecConfig::default().window, value_parser = positive)]
    window: usize,
    /// Negative samples per positive pair; 0 turns negative sampling off (needs --hs).
    #[arg(long, alias = "neg", default_value_t = Word2VecConfig::default().negative)]
    negative: usize,
    #[arg(long, allow_negative_numbers = true, help = ns_exponent_help())]
    ns_exponent: Option<f64>,
    /// Hierarchical softmax (may be combined with negative sampling, as in word2vec); word2vec's
    /// `-hs 1` / `-hs 0` spelling works too.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    hs: bool,
    /// Subsampling threshold for frequent words; 0 turns it off (word2vec -sample, fastText -t).
    #[arg(long, short = 't', alias = "t", default_value_t = Word2VecConfig::default().sample)]
    sample: f64,
    #[arg(long, aliases = ["iter", "epoch"], value_parser = positive, help = epochs_help())]
    epochs: Option<usize>,
    #[arg(long, alias = "alpha", help = lr_help())]
    lr: Option<f32>,
    /// Discard words that occur fewer times than this.
    #[arg(long, alias = "minCount", default_value_t = VocabOptions::default().min_count)]
    min_count: u64,
    /// Keep only the N most frequent words.
    #[arg(long, value_name = "N")]
    max_vocab: Option<usize>,
    /// Use this vocab.txt instead of counting the corpus.
    #[arg(long, value_name = "FILE")]
    vocab: Option<PathBuf>,
    /// CBOW: sum the context vectors instead of averaging them (word2vec -cbow 1 with the mean off).
    #[arg(long)]
    cbow_sum: bool,
    /// Skip-gram: draw negatives per (context, centre) pair as word2vec C does, instead of once
    /// per centre word shared by its whole window (faster, same quality on our benchmark).
    #[arg(long)]
    pair_negatives: bool,
    /// fastText's subword model: a word's vector is the mean of its own row and its character
    /// n-grams' rows, so unknown words get vectors too (fastText's defaults: --minn 3 --maxn 6
    /// --bucket 2000000; giving any of them turns subwords on).
    #[arg(long)]
    subwords: bool,
    /// Shortest character n-gram (fastText -minn).
    #[arg(long, value_name = "N")]
    minn: Option<usize>,
    /// Longest character n-gram (fastText -maxn); 0 turns subwords off, as in fastText.
    #[arg(long, value_name = "N")]
    maxn: Option<usize>,
    /// Rows the n-grams are hashed into (fastText -bucket).
    #[arg(long, value_name = "N")]
    bucket: Option<usize>,
    /// Start from the reference C tool's defaults and algorithm instead of wembed's: 5 epochs and
    /// negatives drawn per pair (flags given beside it still apply).
    #[arg(long, value_enum, value_name = "TOOL", conflicts_with = "resume")]
    compat: Option<Defaults>,
    /// Decode and hash the text in every epoch instead of keeping it as word ids after the first
    /// (which takes 4 bytes per token in a scratch folder of the model folder); same vectors.
    #[arg(long)]
    reread_text: bool,
    /// Seed of the initialisation and sampling (one thread is then bit-reproducible).
    #[arg(long, default_value_t = Word2VecConfig::default().seed)]
    seed: u64,
}

/// `--epochs`' help, with wembed's and word2vec's defaults from the config.
fn epochs_help() -> String {
    let epochs = |d| Word2VecConfig::defaults(Architecture::SkipGram, d).epochs;
    format!(
        "Passes over the corpus [default: {}; {} with --compat word2vec] (word2vec -iter, fastText -epoch)",
        epochs(Defaults::Wembed),
        epochs(Defaults::Word2vecC)
    )
}

/// `--lr`'s help, with each architecture's default from the config.
fn lr_help() -> String {
    let lr = |a| Word2VecConfig::new(a).lr;
    format!(
        "Starting learning rate [default: {} skip-gram, {} CBOW; {} with --subwords, as fastText] (word2vec -alpha)",
        lr(Architecture::SkipGram),
        lr(Architecture::Cbow),
        Word2VecConfig::fasttext(Architecture::SkipGram).lr
    )
}

/// `--ns-exponent`'s help, with the defaults from the config.
fn ns_exponent_help() -> String {
    format!(
        "Negatives are drawn from unigram counts raised to this power [default: {} as word2vec; {} with --subwords, as fastText] (gensim's ns_exponent)",
        Word2VecConfig::default().ns_exponent,
        Word2VecConfig::fasttext(Architecture::SkipGram).ns_exponent
    )
}

impl TrainArgs {
    fn config(&self, arch: Architecture) -> Word2VecConfig {
        let defaults = match (self.compat, self.subwords()) {
            (None, Some(_)) => Word2VecConfig::fasttext(arch),
            (compat, _) => Word2VecConfig::defaults(arch, compat.unwrap_or_default()),
        };
        Word2VecConfig {
            architecture: arch,
            dim: self.dim,
            window: self.window,
            negative: self.negative,
            ns_exponent: self.ns_exponent.unwrap_or(defaults.ns_exponent),
            hs: self.hs,
            sample: self.sample,
            epochs: self.epochs.unwrap_or(defaults.epochs),
            lr: self.lr.unwrap_or(defaults.lr),
            cbow_mean: !self.cbow_sum,
            shared_negatives: defaults.shared_negatives && !self.pair_negatives,
            pretokenize: !self.reread_text,
            subwords: self.subwords(),
            threads: self.input.threads(),
            seed: self.seed,
        }
    }

    /// `--subwords`, or any of its three settings (fastText's defaults for the others); `--maxn
    /// 0` is fastText's way of saying none.
    fn subwords(&self) -> Option<Subwords> {
        let any = self.minn.is_some() || self.maxn.is_some() || self.bucket.is_some();
        if !(self.subwords || any) || self.maxn == Some(0) {
            return None;
        }
        let d = Subwords::default();
        Some(Subwords {
            minn: self.minn.unwrap_or(d.minn),
            maxn: self.maxn.unwrap_or(d.maxn),
            bucket: self.bucket.unwrap_or(d.bucket),
        })
    }

    fn vocab_options(&self) -> VocabOptions {
        VocabOptions {
            min_count: self.min_count,
            max_vocab: self.max_vocab,
            ..VocabOptions::default()
        }
    }
}

#[derive(Args)]
pub struct GloveArgs {
    #[command(flatten)]
    input: CorpusArgs,
    #[command(flatten)]
    run: RunArgs,
    #[arg(long, alias = "vector-size", default_value_t = GloveConfig::default().dim, value_parser = positive)]
    dim: usize,
    /// Words on each side, weighted 1/distance (at most 20).
    #[arg(long, alias = "window-size", default_value_t = GloveConfig::default().window, value_parser = positive)]
    window: usize,
    #[arg(long, default_value_t = VocabOptions::default().min_count)]
    min_count: u64,
    #[arg(long, value_name = "N")]
    max_vocab: Option<usize>,
    /// Use this vocab.txt instead of counting the corpus (lets GloVe read stdin in one pass).
    #[arg(long, value_name = "FILE")]
    vocab: Option<PathBuf>,
    #[arg(long, default_value_t = GloveConfig::default().x_max)]
    x_max: f64,
    #[arg(long, default_value_t = GloveConfig::default().alpha)]
    alpha: f64,
    /// AdaGrad's initial learning rate (Stanford -eta).
    #[arg(long, alias = "eta", default_value_t = GloveConfig::default().lr)]
    lr: f64,
    /// Training iterations.
    #[arg(long, aliases = ["epochs", "iterations"], default_value_t = GloveConfig::default().iter, value_parser = positive)]
    iter: usize,
    /// Memory for counting and shuffling, in GiB; past it, sorted runs and chunks go to disk.
    #[arg(long, default_value_t = GloveConfig::default().memory as f64 / GIB, value_parser = gib)]
    memory: f64,
    /// vectors.bin holds W + W~ (sum, the Stanford tool's -model 2) or W alone (input).
    #[arg(long, value_enum, default_value_t = wembed::run::glove::VECTORS_BIN)]
    vectors: Which,
    #[arg(long, default_value_t = GloveConfig::default().seed)]
    seed: u64,
}

/// GiB: a positive finite number.
fn gib(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() && x < 1e9 => Ok(x),
        _ => Err(format!("expected a positive number of GiB, not {s:?}")),
    }
}

impl GloveArgs {
    fn config(&self) -> GloveConfig {
        GloveConfig {
            dim: self.dim,
            window: self.window,
            x_max: self.x_max,
            alpha: self.alpha,
            lr: self.lr,
            iter: self.iter,
            memory: (self.memory * GIB) as usize,
            threads: self.input.threads(),
            seed: self.seed,
            ..GloveConfig::default()
        }
    }

    fn vocab_options(&self) -> VocabOptions {
        VocabOptions {
            min_count: self.min_count,
            max_vocab: self.max_vocab,
            ..VocabOptions::default()
        }
    }

    fn checkpoints(&self) -> Checkpoints {
        interval(self.run.checkpoint_secs).map_or(Checkpoints::Off, Checkpoints::Every)
    }
}

pub fn word2vec(a: TrainArgs, arch: Architecture, m: &ArgMatches) -> anyhow::Result<()> {
    let observer = run::observer(a.input.quiet);
    let every = interval(a.run.checkpoint_secs);
    let config = a.config(arch);
    let trained = match &a.run.resume {
        Some(dir) => {
            let r = Word2VecResume {
                dir: dir.clone(),
                architecture: arch,
                overrides: Word2VecOverrides::given(&config, given(m)),
                input: a.input.overrides(m, &a.vocab_options(), &a.vocab),
                checkpoint_every: every,
                stop: None,
            };
            run::word2vec::resume(&r, observer)?
        }
        None => {
            let run = Word2VecRun {
                config,
                input: a.input.input(a.vocab_options(), &a.vocab)?,
                output: a.run.output(),
                force: a.run.force,
                checkpoint_every: every,
                stop: None,
            };
            run::word2vec::fresh(&run, observer)?
        }
    };
    let s = &trained.stats;
    let loss = s
        .epoch_loss
        .last()
        .map_or(String::new(), |l| format!(", loss {l:.4}"));
    eprintln!(
        "wembed: {}: {} words in {:.1} s{loss}, {:.0} words/s ({:.0} words/s/thread, {} threads) -> {}",
        run::word2vec::trainer_name(arch),
        s.words,
        s.seconds,
        s.words_per_sec,
        s.words_per_sec / s.threads as f64,
        s.threads,
        trained.dir.display()
    );
    Ok(())
}

pub fn glove(a: GloveArgs, m: &ArgMatches) -> anyhow::Result<()> {
    let observer = run::observer(a.input.quiet);
    let start = std::time::Instant::now();
    let trained = match &a.run.resume {
        Some(dir) => {
            let r = GloveResume {
                dir: dir.clone(),
                overrides: GloveOverrides::given(&a.config(), given(m)),
                input: a.input.overrides(m, &a.vocab_options(), &a.vocab),
                checkpoints: a.checkpoints(),
                vectors_bin: a.vectors,
                stop: None,
            };
            run::glove::resume(&r, observer)?
        }
        None => {
            let run = GloveRun {
                config: a.config(),
                input: a.input.input(a.vocab_options(), &a.vocab)?,
                output: a.run.output(),
                force: a.run.force,
                checkpoints: a.checkpoints(),
                vectors_bin: a.vectors,
                stop: None,
            };
            run::glove::fresh(&run, observer)?
        }
    };
    let stats = &trained.stats;
    eprintln!(
        "wembed: glove: vocab {:.1} s; {} records; final cost {}",
        trained.vocab_seconds,
        stats.records,
        stats.cost.last().map_or("-".into(), |c| format!("{c:.6}"))
    );
    for s in &stats.stages {
        eprintln!(
            "wembed: glove: {:<14} {:>7.1} s  peak RSS {}",
            s.name,
            s.seconds,
            s.peak_rss_mib.map_or("?".into(), |m| format!("{m:.0} MiB"))
        );
    }
    eprintln!(
        "wembed: glove: total {:.1} s -> {}",
        start.elapsed().as_secs_f64(),
        trained.dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Cli, Command};
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Word2VecConfig {
        let all = [&["wembed", "skipgram", "c.txt", "-o", "m"], args].concat();
        match Cli::try_parse_from(all).unwrap().command {
            Command::Skipgram(a) => a.config(Architecture::SkipGram),
            _ => unreachable!("parsed skipgram"),
        }
    }

    /// The flags' defaults are the config's, and `--compat word2vec` swaps in the C tool's under
    /// the flags that are given.
    #[test]
    fn compat_starts_from_the_c_tools_defaults() {
        let sg = Architecture::SkipGram;
        assert_eq!(
            config(&["--threads", "1"]),
            Word2VecConfig {
                threads: 1,
                ..Word2VecConfig::new(sg)
            }
        );
        let c = config(&["--compat", "word2vec", "--threads", "1"]);
        assert_eq!(
            c,
            Word2VecConfig {
                threads: 1,
                ..Word2VecConfig::word2vec_c(sg)
            }
        );
        let c = config(&["--compat", "word2vec", "--epochs", "3", "--lr", "0.1"]);
        assert_eq!((c.epochs, c.lr, c.shared_negatives), (3, 0.1, false));
        assert_ne!(
            Word2VecConfig::new(sg).epochs,
            Word2VecConfig::word2vec_c(sg).epochs
        );
    }
}
