//! The command line: parses arguments, calls the library, turns errors into one line.

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::eval::{self, Method};
use wembed::glove::{self, GloveConfig};
use wembed::lm;
use wembed::model;
use wembed::progress::Progress;
use wembed::synth::{Language, SynthOptions};
use wembed::vectors::{self, Dtype, Embeddings, Format};
use wembed::vocab::{Vocab, VocabOptions};
use wembed::word2vec::{self, Architecture, Word2VecConfig};

#[derive(Parser)]
#[command(
    name = "wembed",
    version,
    about = "Train word embeddings (word2vec, GloVe) on large corpora"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where stderr is not a terminal (a log file, nohup, slurm, CI), print a progress line
    /// every this many seconds instead of a bar; 0: none.
    #[arg(long, global = true, value_name = "SECS",
          default_value_t = wembed::progress::LOG_EVERY_SECS)]
    log_every: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Count the words of a corpus and write vocab.txt (word<TAB>count, most frequent first).
    Vocab(VocabArgs),
    /// Generate the synthetic corpus with planted relations, and its analogy and similarity files.
    Synth(SynthArgs),
    /// Train skip-gram word vectors (word2vec -cbow 0) into a model folder.
    Skipgram(TrainArgs),
    /// Train CBOW word vectors (word2vec -cbow 1) into a model folder.
    Cbow(TrainArgs),
    /// Train GloVe vectors: co-occurrence counting in bounded memory, shuffle, AdaGrad.
    Glove(GloveArgs),
    /// Evaluate vectors: analogies (questions-words.txt) and word-pair similarity (wordsim353).
    Eval(EvalArgs),
    /// Write a model's vectors in another format (word2vec, GloVe, fastText .vec, npy, safetensors).
    Export(ExportArgs),
    /// The nearest words (cosine) to each given word.
    Neighbors(NeighborsArgs),
    /// Words that complete "A is to B as C is to ?" (3CosAdd).
    Analogy(AnalogyArgs),
    /// A small Transformer language model that can start from these vectors.
    #[command(subcommand)]
    Lm(LmCommand),
}

#[derive(Subcommand)]
enum LmCommand {
    /// Write the train/validation line split as two files (train word vectors on the train half).
    Split(LmSplitArgs),
    /// Train a language model, from random or pretrained token embeddings.
    Train(LmTrainArgs),
    /// Train random and pretrained initialisations side by side; table and PNG of perplexity.
    Compare(LmCompareArgs),
    /// Sample text from a checkpoint.
    Generate(LmGenerateArgs),
    /// Redraw the perplexity curves of a compare.csv.
    Plot(LmPlotArgs),
}

#[derive(Args)]
struct LmPlotArgs {
    /// compare.csv written by `lm compare`.
    csv: PathBuf,
    #[arg(short = 'o', long = "output", value_name = "PNG")]
    output: PathBuf,
    #[arg(long, default_value = "validation perplexity")]
    title: String,
}

#[derive(Args)]
struct LmSplitArgs {
    /// Text files, folders or - for stdin.
    #[arg(required = true, value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    #[arg(long)]
    lowercase: bool,
    /// Every N-th line goes to the validation half.
    #[arg(long, default_value_t = 100)]
    holdout: u64,
    /// Folder for train.txt and valid.txt.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args, Clone)]
struct LmDataArgs {
    /// Training text: files, folders or - for stdin.
    #[arg(long, num_args = 1.., value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    /// Validation text; without it every --holdout-th line of the corpus is held out.
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    #[arg(long, default_value_t = 100)]
    holdout: u64,
    #[arg(long)]
    lowercase: bool,
    /// Most frequent training words kept (plus <unk> and <eos>).
    #[arg(long, default_value_t = 10000, value_parser = positive)]
    vocab_size: usize,
    /// Width of the model [default: the dimension of the --init vectors, else 128].
    #[arg(long, value_parser = positive)]
    dim: Option<usize>,
    #[arg(long, default_value_t = 2, value_parser = positive)]
    layers: usize,
    #[arg(long, default_value_t = 4, value_parser = positive)]
    heads: usize,
    /// Tokens per training window (and learned positions).
    #[arg(long, default_value_t = 64, value_parser = positive)]
    context: usize,
    #[arg(long, default_value_t = 4, value_parser = positive)]
    mlp_ratio: usize,
    /// A separate output matrix instead of the token embedding.
    #[arg(long)]
    untied: bool,
    /// Allow vectors whose dimension differs from --dim, through a learned linear map.
    #[arg(long)]
    project: bool,
    #[arg(long, default_value_t = 2000, value_parser = positive)]
    steps: usize,
    #[arg(long, default_value_t = 32, value_parser = positive)]
    batch: usize,
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    #[arg(long, default_value_t = 100)]
    warmup: usize,
    #[arg(long, default_value_t = 0.1)]
    weight_decay: f64,
    /// Global gradient-norm clip (0: off).
    #[arg(long, default_value_t = 1.0)]
    clip: f64,
    #[arg(long, default_value_t = 200)]
    eval_every: usize,
    /// Validation tokens scored at each evaluation.
    #[arg(long, default_value_t = 32768)]
    valid_tokens: usize,
    /// Seed for the weights and the data order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also checkpoint between evaluations every this many seconds (0: at evaluations only).
    #[arg(long, default_value_t = 300)]
    checkpoint_secs: u64,
    /// Output folder.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
    /// Replace an existing output folder; the old one stays until the new run has finished.
    #[arg(long)]
    force: bool,
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args)]
struct LmTrainArgs {
    #[command(flatten)]
    data: LmDataArgs,
    /// Continue the run whose checkpoint is in DIR, with its settings, data order and optimizer
    /// state.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Vectors in any format `eval` reads, or `random`.
    #[arg(long, default_value = "random")]
    init: String,
    /// std (centre, then scale to the random initialiser's std) or none (raw values).
    #[arg(long, value_enum, default_value_t = lm::InitScale::Std)]
    init_scale: lm::InitScale,
    /// Keep the token embedding fixed for the first K steps.
    #[arg(long, default_value_t = 0, value_name = "K")]
    freeze_steps: usize,
}

#[derive(Args)]
struct LmCompareArgs {
    #[command(flatten)]
    data: LmDataArgs,
    /// Pretrained vectors (any format `eval` reads).
    #[arg(long, required = true)]
    init: PathBuf,
    /// Arms, comma-separated: random, raw, std, std-freeze.
    #[arg(
        long,
        default_value = "random,raw,std,std-freeze",
        value_delimiter = ','
    )]
    arms: Vec<String>,
    /// Steps the std-freeze arm keeps the embedding fixed.
    #[arg(long, default_value_t = 100, value_name = "K")]
    freeze_steps: usize,
}

#[derive(Args)]
struct LmGenerateArgs {
    /// Checkpoint folder written by `lm train`.
    checkpoint: PathBuf,
    /// Text to continue (tokenised by whitespace).
    #[arg(long, default_value = "")]
    prompt: String,
    /// Tokens to sample.
    #[arg(short = 'n', long, default_value_t = 50)]
    tokens: usize,
    /// 0 is greedy.
    #[arg(long, default_value_t = 0.8)]
    temperature: f64,
    #[arg(long, default_value_t = 40)]
    top_k: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct GloveArgs {
    #[command(flatten)]
    input: CorpusArgs,
    /// Model folder to write (input.npy = W, output.npy = W~, bias.npy, vocab.txt, config.json, vectors.bin).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "DIR",
        required_unless_present = "resume"
    )]
    output: Option<PathBuf>,
    /// Continue the interrupted run in DIR after its last finished iteration.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    resume: Option<PathBuf>,
    /// Replace an existing model folder; the old one stays until the new run has finished.
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Seconds between checkpoints inside an iteration (fractions allowed); GloVe also
    /// checkpoints once the shuffle is done and after every iteration. 0: never.
    #[arg(long, default_value_t = 300.0, value_parser = seconds)]
    checkpoint_secs: f64,
    #[arg(long, alias = "vector-size", default_value_t = 100, value_parser = positive)]
    dim: usize,
    /// Words on each side, weighted 1/distance (at most 20).
    #[arg(long, alias = "window-size", default_value_t = 10, value_parser = positive)]
    window: usize,
    #[arg(long, default_value_t = 5)]
    min_count: u64,
    #[arg(long, value_name = "N")]
    max_vocab: Option<usize>,
    /// Use this vocab.txt instead of counting the corpus (lets GloVe read stdin in one pass).
    #[arg(long, value_name = "FILE")]
    vocab: Option<PathBuf>,
    #[arg(long, default_value_t = 100.0)]
    x_max: f64,
    #[arg(long, default_value_t = 0.75)]
    alpha: f64,
    /// AdaGrad's initial learning rate (Stanford -eta).
    #[arg(long, alias = "eta", default_value_t = 0.05)]
    lr: f64,
    /// Training iterations.
    #[arg(long, aliases = ["epochs", "iterations"], default_value_t = 25, value_parser = positive)]
    iter: usize,
    /// Memory for counting and shuffling, in GiB; past it, sorted runs and chunks go to disk.
    #[arg(long, default_value_t = 4.0)]
    memory: f64,
    /// vectors.bin holds W + W~ (sum, the Stanford tool's -model 2) or W alone (input).
    #[arg(long, value_enum, default_value_t = model::Which::Sum)]
    vectors: model::Which,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct ExportArgs {
    /// A model folder, or any vectors file `eval` reads.
    model: PathBuf,
    #[arg(long, short = 'f', value_enum)]
    format: Format,
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: PathBuf,
    /// input (word vectors), output (context vectors) or sum (model folders only).
    #[arg(long, value_enum, default_value_t = model::Which::Input)]
    which: model::Which,
    /// Scale every row to unit length.
    #[arg(long)]
    normalize: bool,
    /// Only the N most frequent words.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// f32 or f16 (npy and safetensors).
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    dtype: Dtype,
}

#[derive(Args)]
struct NeighborsArgs {
    vectors: PathBuf,
    #[arg(required = true)]
    words: Vec<String>,
    /// Match words ignoring case (the most frequent row of each folded form answers); by default
    /// `Apple` is only `Apple`, as in gensim.
    #[arg(long)]
    ignore_case: bool,
    /// How many neighbours.
    #[arg(short = 'k', default_value_t = 10)]
    k: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AnalogyArgs {
    vectors: PathBuf,
    a: String,
    b: String,
    c: String,
    /// Match words ignoring case; by default they match exactly, as in gensim.
    #[arg(long)]
    ignore_case: bool,
    #[arg(short = 'k', default_value_t = 10)]
    k: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    input: CorpusArgs,
    /// Model folder to write (input.npy, output.npy, vocab.txt, config.json, vectors.bin).
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
    /// Seconds between checkpoints (fractions allowed): workers pause at a line end, the matrices
    /// are copied to snapshot files, then checkpoint.json is written; 0: none.
    #[arg(long, default_value_t = 300.0, value_parser = seconds)]
    checkpoint_secs: f64,
    /// Dimension of the vectors (word2vec -size).
    #[arg(long, alias = "size", default_value_t = 100, value_parser = positive)]
    dim: usize,
    /// Maximum context distance; each centre word draws its window from 1..=N (word2vec -window, fastText -ws).
    #[arg(long, alias = "ws", default_value_t = 5, value_parser = positive)]
    window: usize,
    /// Negative samples per positive pair; 0 turns negative sampling off (needs --hs).
    #[arg(long, alias = "neg", default_value_t = 5)]
    negative: usize,
    /// Negatives are drawn from unigram counts raised to this power (word2vec 0.75; fastText
    /// uses 0.5, which draws rare words more often; gensim's ns_exponent).
    #[arg(long, default_value_t = word2vec::NS_EXPONENT, allow_negative_numbers = true)]
    ns_exponent: f64,
    /// Hierarchical softmax (may be combined with negative sampling, as in word2vec); word2vec's
    /// `-hs 1` / `-hs 0` spelling works too.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    hs: bool,
    /// Subsampling threshold for frequent words; 0 turns it off (word2vec -sample, fastText -t).
    #[arg(long, short = 't', alias = "t", default_value_t = 1e-4)]
    sample: f64,
    /// Passes over the corpus (word2vec -iter, fastText -epoch).
    #[arg(long, aliases = ["iter", "epoch"], default_value_t = 5, value_parser = positive)]
    epochs: usize,
    /// Starting learning rate (default 0.025 skip-gram, 0.05 CBOW; word2vec -alpha).
    #[arg(long, alias = "alpha")]
    lr: Option<f32>,
    /// Discard words that occur fewer times than this.
    #[arg(long, alias = "minCount", default_value_t = 5)]
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
    /// Decode and hash the text in every epoch instead of keeping it as word ids after the first
    /// (which takes 4 bytes per token in a scratch folder of the model folder); same vectors.
    #[arg(long)]
    reread_text: bool,
    /// Seed of the initialisation and sampling (one thread is then bit-reproducible).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct EvalArgs {
    /// Vectors: a model folder, word2vec binary or text, GloVe text, or .npy with vocab.txt beside it.
    vectors: PathBuf,
    /// Analogy questions in questions-words.txt format.
    #[arg(long, value_name = "FILE")]
    analogy: Option<PathBuf>,
    /// Word-pair files with human scores (wordsim353 style).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    similarity: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Method::CosAdd, ignore_case = true)]
    method: Method,
    /// Answer analogies among the N most frequent words only (0: all).
    #[arg(long, default_value_t = 30_000)]
    restrict: usize,
    /// Match words exactly. By default case is folded, as gensim's evaluate_word_analogies and
    /// evaluate_word_pairs do: questions-words.txt capitalises names (Athens Greece) and
    /// wordsim353 and MEN are lowercase, while most vectors are trained on cased text.
    #[arg(long)]
    case_sensitive: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Where the text comes from and how it is split into words.
#[derive(Args)]
struct CorpusArgs {
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
    quiet: bool,
}

impl CorpusArgs {
    fn threads(&self) -> usize {
        match self.threads {
            0 => wembed::default_threads(),
            n => n,
        }
    }

    /// The corpus named on this command line: the positional paths and `--corpus`.
    fn paths(&self) -> Vec<PathBuf> {
        let mut v = self.corpus.clone();
        v.extend(self.moved_corpus.iter().cloned());
        v
    }

    fn open(&self) -> wembed::Result<Corpus> {
        if !self.moved_corpus.is_empty() {
            return Err(wembed::Error::Invalid(
                "--corpus PATH points a --resume at a moved corpus; a fresh run takes the corpus as its argument".into(),
            ));
        }
        if self.corpus.is_empty() {
            return Err(wembed::Error::Invalid(
                "no corpus given: name files, folders, or - for stdin".into(),
            ));
        }
        Corpus::open(
            &self.corpus,
            CorpusOptions {
                lowercase: self.lowercase,
                ..CorpusOptions::default()
            },
        )
    }
}

#[derive(Args)]
struct VocabArgs {
    #[command(flatten)]
    input: CorpusArgs,
    /// Output vocabulary file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Discard words that occur fewer times than this.
    #[arg(long, default_value_t = 5)]
    min_count: u64,
    /// Keep only the N most frequent words.
    #[arg(long, value_name = "N")]
    max_vocab: Option<usize>,
    /// Memory for the counting tables in MiB; past it, rare words are pruned as word2vec does.
    #[arg(long, default_value_t = 4096, value_name = "MIB")]
    vocab_memory: usize,
}

#[derive(Args)]
struct SynthArgs {
    /// Tokens to generate.
    #[arg(long, default_value_t = 10_000_000)]
    tokens: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Word pairs in each relation family.
    #[arg(long, default_value_t = 30)]
    pairs: usize,
    /// Distinct filler words (Zipf-distributed).
    #[arg(long, default_value_t = 5000)]
    filler: usize,
    /// Corpus output; - for stdout; a name ending in .gz is gzip-compressed.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Also write analogy questions (questions-words.txt format).
    #[arg(long, value_name = "FILE")]
    questions: Option<PathBuf>,
    /// Also write graded word pairs (wordsim353 format).
    #[arg(long, value_name = "FILE")]
    similarity: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = match wembed::compat::translate(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("wembed: error: {msg}");
            return ExitCode::FAILURE;
        }
    };
    // Matches are kept beside the parsed struct: `--resume` needs to know which flags were typed.
    // Negative numbers are values (`--dim -5` is then refused as a value, not taken for a flag).
    let matches = Cli::command()
        .mut_subcommands(|c| {
            c.allow_negative_numbers(true)
                .mut_subcommands(|c| c.allow_negative_numbers(true))
        })
        .try_get_matches_from(args)
        .unwrap_or_else(|e| usage_error(e));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_error(e));
    let sub = matches
        .subcommand()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    wembed::atomic::install_interrupt_cleanup();
    wembed::hogwild::ignore_file_size_signal();
    wembed::progress::set_log_every(cli.log_every);
    let result = match cli.command {
        Command::Vocab(a) => vocab(a),
        Command::Synth(a) => synth(a),
        Command::Skipgram(a) => train_word2vec(a, Architecture::SkipGram, &sub),
        Command::Cbow(a) => train_word2vec(a, Architecture::Cbow, &sub),
        Command::Glove(a) => glove(a, &sub),
        Command::Eval(a) => eval(a),
        Command::Export(a) => export(a),
        Command::Neighbors(a) => neighbors(a),
        Command::Analogy(a) => analogy(a),
        Command::Lm(LmCommand::Split(a)) => lm_split(a),
        Command::Lm(LmCommand::Train(a)) => lm_train(a, &sub_lm(&sub)),
        Command::Lm(LmCommand::Compare(a)) => lm_compare(a),
        Command::Lm(LmCommand::Generate(a)) => lm_generate(a),
        Command::Lm(LmCommand::Plot(a)) => lm::plot::series_from_csv(&a.csv)
            .and_then(|s| lm::plot::perplexity_curves(&a.output, &a.title, &s))
            .map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("wembed: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// A count that must be at least 1 (dimensions, windows, passes), refused while parsing, before
/// any work.
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a whole number of at least 1, not {s:?}")),
    }
}

/// Seconds: zero or a positive finite number (fractions allowed).
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() && x < 1e9 => Ok(x),
        _ => Err(format!(
            "expected a number of seconds (0 or more), not {s:?}"
        )),
    }
}

/// Help and version go out as clap prints them; a usage error becomes one line (with clap's tip,
/// if it has one) and exit status 2.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    // The first paragraph is the message (its indented lines name the arguments); tips follow.
    let mut paragraphs = text.split("\n\n").map(|p| {
        let words: Vec<&str> = p.split_whitespace().collect();
        words.join(" ")
    });
    let first = paragraphs.next().unwrap_or_default();
    let mut line = first.strip_prefix("error: ").unwrap_or(&first).to_string();
    // "use '-- --x'" would pass a mistyped flag as a corpus named --x: not advice to give.
    for tip in paragraphs.filter(|p| p.starts_with("tip:") && !p.contains("as a value")) {
        line.push_str("; ");
        line.push_str(&tip);
    }
    eprintln!("wembed: error: {line}");
    std::process::exit(2);
}

fn vocab(a: VocabArgs) -> anyhow::Result<()> {
    // A model folder's vocab.txt is the row order of its matrices: replacing it breaks the model.
    model::refuse_own_file(&a.output)?;
    let corpus = a.input.open()?;
    let options = VocabOptions {
        min_count: a.min_count,
        max_vocab: a.max_vocab,
        memory_budget: a.vocab_memory.saturating_mul(1 << 20),
    };
    let progress = Progress::bytes(a.input.quiet, "vocab", corpus.total_bytes(), "tokens");
    let built = Vocab::build(&corpus, &options, a.input.threads(), &progress);
    progress.finish();
    let (vocab, stats) = built?;
    vocab.save(&a.output)?;
    let mb = stats.read.bytes as f64 / 1e6;
    let summary = format!(
        "tokens {}  types {}  kept {} (min-count {})  {:.2} s  {:.1} MB/s",
        stats.read.tokens,
        stats.types,
        stats.kept,
        a.min_count,
        stats.seconds,
        mb / stats.seconds.max(1e-9)
    );
    // With `-o -` stdout holds the vocabulary itself.
    match wembed::atomic::is_stdout(&a.output) {
        true => eprintln!("wembed: {summary}"),
        false => println!("{summary}"),
    }
    if stats.read.invalid_utf8 > 0 {
        eprintln!(
            "wembed: note: {} invalid UTF-8 sequences replaced by U+FFFD",
            stats.read.invalid_utf8
        );
    }
    if stats.read.cut_lines > 0 {
        eprintln!(
            "wembed: note: {} long lines cut into sentences of at most {} tokens",
            stats.read.cut_lines,
            wembed::corpus::MAX_SENTENCE_TOKENS
        );
    }
    if stats.prunes > 0 {
        eprintln!(
            "wembed: note: counting tables outgrew --vocab-memory and were pruned {} times; counts up to {} may be low",
            stats.prunes, stats.pruned_below
        );
    }
    Ok(())
}

fn synth(a: SynthArgs) -> anyhow::Result<()> {
    let options = SynthOptions {
        seed: a.seed,
        pairs: a.pairs,
        filler: a.filler,
        ..SynthOptions::default()
    };
    let lang = Language::new(&options)?;
    let start = std::time::Instant::now();
    let written =
        wembed::atomic::write_output(&a.output, |w| lang.write_corpus(a.tokens, w).map(drop))?;
    if let Some(q) = &a.questions {
        wembed::atomic::write_output(q, |w| lang.write_analogies(w).map(drop))?;
    }
    if let Some(s) = &a.similarity {
        wembed::atomic::write_output(s, |w| lang.write_similarity(w).map(drop))?;
    }
    eprintln!(
        "wembed: wrote {} tokens in {:.2} s{}",
        a.tokens,
        start.elapsed().as_secs_f64(),
        if written { "" } else { " to stdout" }
    );
    Ok(())
}

/// The vocabulary from `--vocab`, or counted from the corpus. Counting is a pass of its own, so
/// the corpus must then be readable again for training: stdin is refused before any work.
fn vocab_for_training(
    corpus: &Corpus,
    file: Option<&std::path::Path>,
    options: &VocabOptions,
    threads: usize,
    quiet: bool,
) -> anyhow::Result<(Vocab, Option<wembed::vocab::VocabStats>)> {
    if let Some(path) = file {
        return Ok((Vocab::load(path)?, None));
    }
    if !corpus.rereadable() {
        anyhow::bail!("counting the vocabulary takes a pass of its own and stdin can be read only once: give --vocab FILE (made by `wembed vocab`), or save the corpus to a file and name it");
    }
    let progress = Progress::bytes(quiet, "vocab", corpus.total_bytes(), "tokens");
    let built = Vocab::build(corpus, options, threads, &progress);
    progress.finish();
    let (v, s) = built?;
    Ok((v, Some(s)))
}

/// What a checkpoint keeps for the CLI, so that `--resume DIR` alone restarts the run from any
/// working directory: paths are stored absolute, and the corpus's fingerprint lets `--corpus`
/// point at a moved copy while refusing a different text.
#[derive(serde::Serialize, serde::Deserialize)]
struct ResumeMeta {
    corpus: Vec<PathBuf>,
    corpus_options: CorpusOptions,
    vocab_options: VocabOptions,
    vocab_file: Option<PathBuf>,
    #[serde(default)]
    fingerprint: Option<wembed::corpus::Fingerprint>,
    /// The model folder a `--force` run replaces when it finishes.
    #[serde(default)]
    replaces: Option<PathBuf>,
}

fn absolute_one(p: &PathBuf) -> PathBuf {
    absolute(std::slice::from_ref(p)).remove(0)
}

/// Absolute paths (stdin's `-` as is); a path that does not exist is kept for `open` to report.
fn absolute(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .map(|p| match p.as_os_str() == "-" {
            true => p.clone(),
            false => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
        })
        .collect()
}

fn word2vec_config(a: &TrainArgs, arch: Architecture) -> Word2VecConfig {
    let mut config = Word2VecConfig::new(arch);
    config.dim = a.dim;
    config.window = a.window;
    config.negative = a.negative;
    config.ns_exponent = a.ns_exponent;
    config.hs = a.hs;
    config.sample = a.sample;
    config.epochs = a.epochs;
    config.lr = a.lr.unwrap_or(config.lr);
    config.cbow_mean = !a.cbow_sum;
    config.shared_negatives = !a.pair_negatives;
    config.pretokenize = !a.reread_text;
    config.threads = a.input.threads();
    config.seed = a.seed;
    config
}

/// The matches of `lm`'s own subcommand.
fn sub_lm(m: &ArgMatches) -> ArgMatches {
    m.subcommand().map(|(_, m)| m.clone()).unwrap_or_default()
}

fn typed(m: &ArgMatches, id: &str) -> bool {
    m.try_get_raw(id).ok().flatten().is_some()
        && m.value_source(id) == Some(ValueSource::CommandLine)
}

/// Reopens an interrupted run: its stored settings win, and a flag typed with another value is an
/// error rather than silently ignored or silently applied to half a run.
fn resume_word2vec(
    a: &TrainArgs,
    arch: Architecture,
    m: &ArgMatches,
    dir: &std::path::Path,
) -> anyhow::Result<(Word2VecConfig, Corpus, Vocab, ResumeMeta, word2vec::State)> {
    let state: word2vec::State = wembed::checkpoint::read(dir)?;
    if state.config.architecture != arch {
        let name = serde_json::to_value(state.config.architecture)?;
        let name = name.as_str().unwrap_or_default();
        anyhow::bail!(
            "{} holds a {name} run; resume it with wembed {name} --resume",
            dir.display()
        );
    }
    let stored = serde_json::to_value(&state.config)?;
    let wanted = serde_json::to_value(word2vec_config(a, arch))?;
    let fields = [
        ("dim", "dim"),
        ("window", "window"),
        ("negative", "negative"),
        ("ns_exponent", "ns_exponent"),
        ("hs", "hs"),
        ("sample", "sample"),
        ("epochs", "epochs"),
        ("lr", "lr"),
        ("cbow_sum", "cbow_mean"),
        ("pair_negatives", "shared_negatives"),
        ("reread_text", "pretokenize"),
        ("threads", "threads"),
        ("seed", "seed"),
    ];
    let flags = (&a.input, a.min_count, a.max_vocab, &a.vocab);
    let (corpus, vocab, meta) =
        reopen_input(m, dir, &state.meta, (&stored, &wanted), &fields, flags)?;
    if !a.input.quiet {
        eprintln!(
            "wembed: resuming {} at epoch {} of {}, {} words done",
            dir.display(),
            state.epoch + 1,
            state.config.epochs,
            state.words_done
        );
    }
    Ok((state.config.clone(), corpus, vocab, meta, state))
}

/// word2vec reads its corpus once per epoch: stdin and pipes are refused before any work.
fn refuse_streams(corpus: &[PathBuf]) -> anyhow::Result<()> {
    let stream = |p: &&PathBuf| {
        p.as_os_str() == "-" || std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir())
    };
    if let Some(p) = corpus.iter().find(stream) {
        let what = match p.as_os_str() == "-" {
            true => "stdin".to_string(),
            false => format!("{} (a pipe)", p.display()),
        };
        anyhow::bail!("word2vec reads the corpus once per epoch and {what} can be read only once: save the text to a file (e.g. `... > corpus.txt`) and name that file");
    }
    Ok(())
}

/// A flag typed on the command line of `--resume` whose value differs from the checkpoint's is an
/// error: settings cannot change half-way through a run. `checks` are (arg id, stored, typed).
fn refuse_conflicts<'v>(
    m: &ArgMatches,
    dir: &std::path::Path,
    checks: impl IntoIterator<Item = (&'v str, &'v serde_json::Value, &'v serde_json::Value)>,
) -> anyhow::Result<()> {
    for (id, was, now) in checks {
        if typed(m, id) && was != now {
            anyhow::bail!(
                "--{} conflicts with the checkpoint in {} ({was} there); resume with the same settings",
                id.replace('_', "-"),
                dir.display()
            );
        }
    }
    Ok(())
}

/// The corpus and vocabulary flags of word2vec and GloVe.
type InputFlags<'a> = (&'a CorpusArgs, u64, Option<usize>, &'a Option<PathBuf>);

/// A fresh run's corpus and vocabulary, and the record a checkpoint keeps of them.
fn fresh_input(
    (input, min_count, max_vocab, vocab_file): InputFlags,
    threads: usize,
    replaces: Option<PathBuf>,
) -> anyhow::Result<(Corpus, Vocab, Option<wembed::vocab::VocabStats>, ResumeMeta)> {
    let corpus = input.open()?;
    let vocab_options = VocabOptions {
        min_count,
        max_vocab,
        ..VocabOptions::default()
    };
    let (vocab, stats) = vocab_for_training(
        &corpus,
        vocab_file.as_deref(),
        &vocab_options,
        threads,
        input.quiet,
    )?;
    let meta = ResumeMeta {
        corpus: absolute(&input.corpus),
        corpus_options: corpus.options().clone(),
        vocab_options,
        vocab_file: vocab_file.as_ref().map(absolute_one),
        fingerprint: corpus.fingerprint()?,
        replaces,
    };
    Ok((corpus, vocab, stats, meta))
}

/// A resumed run's corpus and vocabulary, from its checkpoint, after refusing typed flags that
/// disagree with the stored settings (`fields`: arg id, config field) or with the stored input.
/// A corpus named again (`--corpus PATH` or as an argument) replaces the stored path if its size
/// and first MiB match the checkpoint's record.
fn reopen_input(
    m: &ArgMatches,
    dir: &std::path::Path,
    meta: &serde_json::Value,
    (stored, wanted): (&serde_json::Value, &serde_json::Value),
    fields: &[(&str, &str)],
    flags: InputFlags,
) -> anyhow::Result<(Corpus, Vocab, ResumeMeta)> {
    let mut meta: ResumeMeta = serde_json::from_value(meta.clone()).map_err(|e| {
        wembed::Error::bad_file(
            wembed::checkpoint::path(dir),
            format!("corrupt checkpoint: {e}"),
        )
    })?;
    refuse_conflicts(
        m,
        dir,
        fields.iter().map(|&(id, f)| (id, &stored[f], &wanted[f])),
    )?;
    let typed_now = serde_json::json!({
        "lowercase": flags.0.lowercase,
        "min_count": flags.1,
        "max_vocab": flags.2,
        "vocab": flags.3.as_ref().map(absolute_one),
    });
    let was = serde_json::json!({
        "lowercase": meta.corpus_options.lowercase,
        "min_count": meta.vocab_options.min_count,
        "max_vocab": meta.vocab_options.max_vocab,
        "vocab": meta.vocab_file,
    });
    refuse_conflicts(
        m,
        dir,
        ["lowercase", "min_count", "max_vocab", "vocab"].map(|id| (id, &was[id], &typed_now[id])),
    )?;
    let named = flags.0.paths();
    let corpus = match named.is_empty() {
        true => Corpus::open(&meta.corpus, meta.corpus_options.clone()).map_err(|e| {
            anyhow::anyhow!("{e} (the corpus the checkpoint names; if it moved, add --corpus PATH)")
        })?,
        false => {
            let c = Corpus::open(&named, meta.corpus_options.clone())?;
            let found = c.fingerprint()?;
            if meta.fingerprint.is_some() && found != meta.fingerprint {
                anyhow::bail!(
                    "{} is not the corpus the checkpoint in {} was trained on (size or first MiB differ)",
                    c.describe(),
                    dir.display()
                );
            }
            meta.corpus = absolute(&named);
            c
        }
    };
    let vocab = Vocab::load(&dir.join(model::VOCAB))?;
    Ok((corpus, vocab, meta))
}

fn train_word2vec(a: TrainArgs, arch: Architecture, m: &ArgMatches) -> anyhow::Result<()> {
    let quiet = a.input.quiet;
    let label = match arch {
        Architecture::SkipGram => "skipgram",
        Architecture::Cbow => "cbow",
    };
    let every =
        (a.checkpoint_secs > 0.0).then(|| std::time::Duration::from_secs_f64(a.checkpoint_secs));
    let (config, corpus, vocab, vocab_stats, meta, resume, dest) = match &a.resume {
        Some(dir) => {
            let (config, corpus, vocab, meta, state) = resume_word2vec(&a, arch, m, dir)?;
            let dest = model::Destination::resumed(dir, meta.replaces.clone());
            (config, corpus, vocab, None, meta, Some(state), dest)
        }
        None => {
            let output = a.output.clone().expect("clap requires -o without --resume");
            let config = word2vec_config(&a, arch);
            config.validate()?;
            refuse_streams(&a.input.corpus)?;
            let dest = model::Destination::fresh(&output, a.force, Some(label))?;
            let flags = (&a.input, a.min_count, a.max_vocab, &a.vocab);
            let (corpus, vocab, vocab_stats, meta) =
                fresh_input(flags, config.threads, dest.replaces.clone())?;
            (config, corpus, vocab, vocab_stats, meta, None, dest)
        }
    };
    let output = dest.dir.clone();
    if !quiet {
        eprintln!(
            "wembed: vocabulary {} words, {} training tokens per epoch",
            vocab.len(),
            vocab.total()
        );
    }
    let fresh_run = resume.is_none().then(|| dest.fresh_run());
    let locks = dest.lock(resume.is_none())?;
    wembed::atomic::set_interrupt_hint(&output, &format!("wembed {label} --resume"));
    // Saved first: a checkpoint's rows are this file's words, and a resumed run reads it back.
    vocab.save(&output.join(model::VOCAB))?;
    let ck = word2vec::Checkpointing {
        every,
        resume,
        meta: serde_json::to_value(&meta)?,
    };
    let progress = Progress::words(
        quiet,
        label,
        vocab.total() * config.epochs as u64,
        config.threads,
    );
    let trained = word2vec::train(&corpus, &vocab, &config, &output, &progress, &ck);
    progress.finish();
    let stats = trained?;
    model::write_vectors_bin(&output, model::Which::Input)?;
    model::write_config(
        &output,
        serde_json::json!({
            "trainer": label,
            "hyperparameters": config,
            "corpus": {
                "paths": meta.corpus,
                "options": corpus.options(),
            },
            "vocab": {
                "options": meta.vocab_options,
                "file": meta.vocab_file,
                "stats": vocab_stats,
                "words": vocab.len(),
                "train_tokens": vocab.total(),
            },
            "training": stats,
            "resumed": ck.resume.is_some(),
        }),
    )?;
    drop(locks);
    if let Some(f) = fresh_run {
        f.keep();
    }
    dest.commit()?;
    let loss = stats
        .epoch_loss
        .last()
        .map_or(String::new(), |l| format!(", loss {l:.4}"));
    eprintln!(
        "wembed: {label}: {} words in {:.1} s{loss}, {:.0} words/s ({:.0} words/s/thread, {} threads) -> {}",
        stats.words,
        stats.seconds,
        stats.words_per_sec,
        stats.words_per_sec / stats.threads as f64,
        stats.threads,
        dest.target().display()
    );
    Ok(())
}

fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let method = a.method;
    if a.analogy.is_none() && a.similarity.is_empty() {
        anyhow::bail!("nothing to evaluate: give --analogy FILE and/or --similarity FILE");
    }
    let emb = load_vectors(&a.vectors)?;
    let case = match a.case_sensitive {
        true => eval::Case::Exact,
        false => eval::Case::Fold,
    };
    let mut json = serde_json::Map::new();
    if let Some(q) = &a.analogy {
        let restrict = (a.restrict > 0).then_some(a.restrict);
        let start = std::time::Instant::now();
        let r = eval::analogy(&emb, q, restrict, method, case)?;
        if a.json {
            json.insert("analogy".into(), serde_json::to_value(&r)?);
        } else {
            println!(
                "analogy {} ({:?}, top {} words, {:.1} s)",
                q.display(),
                method,
                r.restrict,
                start.elapsed().as_secs_f64()
            );
            for (name, s) in &r.sections {
                println!(
                    "  {name:<32} {:>6.2}%  {:>5}/{:<5} answered of {}",
                    100.0 * s.accuracy(),
                    s.correct,
                    s.answered,
                    s.questions
                );
            }
            for (name, s) in [
                ("semantic", &r.semantic),
                ("syntactic", &r.syntactic),
                ("total", &r.total),
            ] {
                println!(
                    "  {name:<32} {:>6.2}%  {:>5}/{:<5} answered, coverage {:.1}%",
                    100.0 * s.accuracy(),
                    s.correct,
                    s.answered,
                    100.0 * s.coverage()
                );
            }
        }
    }
    let mut sims = Vec::new();
    for f in &a.similarity {
        let r = eval::similarity(&emb, f, case)?;
        if !a.json {
            println!(
                "similarity {}  spearman {:.4}  pearson {:.4}  pairs {}/{} ({} with unknown words)",
                f.display(),
                r.spearman,
                r.pearson,
                r.used,
                r.pairs,
                r.oov
            );
        }
        sims.push(serde_json::json!({"file": f, "report": r}));
    }
    if a.json {
        json.insert("similarity".into(), sims.into());
        println!("{}", serde_json::Value::Object(json));
    }
    Ok(())
}

fn export(a: ExportArgs) -> anyhow::Result<()> {
    let (format, dtype, which) = (a.format, a.dtype, a.which);
    let (base, add) = if a.model.is_dir() {
        model::load(&a.model, which)?
    } else if which == model::Which::Input {
        (load_vectors(&a.model)?, None)
    } else {
        anyhow::bail!("--which {which:?} needs a model folder");
    };
    let view = vectors::View::new(&base, add.as_ref(), a.limit, a.normalize)?;
    vectors::export(&view, format, dtype, &a.output)?;
    eprintln!(
        "wembed: exported {} words x {} to {} ({})",
        vectors::Rows::len(&view),
        base.dim(),
        a.output.display(),
        clap::ValueEnum::to_possible_value(&format)
            .map_or("?".into(), |v| v.get_name().to_string())
    );
    Ok(())
}

fn print_neighbours(
    title: &str,
    found: &[(String, f32)],
    json: bool,
    out: &mut Vec<serde_json::Value>,
) {
    if json {
        out.push(serde_json::json!({"query": title, "neighbors": found.iter().map(|(w, s)| serde_json::json!({"word": w, "cosine": s})).collect::<Vec<_>>()}));
    } else {
        println!("{title}");
        for (w, s) in found {
            println!("  {s:.4}  {w}");
        }
    }
}

/// Loads vectors in any format, warning about NaN or infinite values (which some tools write and
/// which poison every cosine they touch).
fn load_vectors(path: &std::path::Path) -> wembed::Result<Embeddings> {
    let e = Embeddings::load(path)?;
    let bad = e.nonfinite();
    if bad > 0 {
        eprintln!(
            "wembed: warning: {}: {bad} values are NaN or infinite",
            path.display()
        );
    }
    Ok(e)
}

fn query_case(ignore_case: bool) -> eval::Case {
    match ignore_case {
        true => eval::Case::Fold,
        false => eval::Case::Exact,
    }
}

fn neighbors(a: NeighborsArgs) -> anyhow::Result<()> {
    let emb = load_vectors(&a.vectors)?;
    let uv = eval::UnitVectors::new(&emb, None, query_case(a.ignore_case));
    let mut out = Vec::new();
    for w in &a.words {
        let id = uv.id(w).ok_or_else(|| {
            anyhow::anyhow!("{w:?} is not in the vocabulary of {}", a.vectors.display())
        })?;
        let found: Vec<(String, f32)> = uv
            .nearest(uv.row(id), a.k, &[id])
            .into_iter()
            .map(|(i, s)| (uv.word(i).to_string(), s))
            .collect();
        print_neighbours(w, &found, a.json, &mut out);
    }
    if a.json {
        println!("{}", serde_json::Value::from(out));
    }
    Ok(())
}

fn analogy(a: AnalogyArgs) -> anyhow::Result<()> {
    let emb = load_vectors(&a.vectors)?;
    let uv = eval::UnitVectors::new(&emb, None, query_case(a.ignore_case));
    let id = |w: &str| {
        uv.id(w).ok_or_else(|| {
            anyhow::anyhow!("{w:?} is not in the vocabulary of {}", a.vectors.display())
        })
    };
    let (ia, ib, ic) = (id(&a.a)?, id(&a.b)?, id(&a.c)?);
    let q: Vec<f32> = (0..emb.dim())
        .map(|k| uv.row(ib)[k] - uv.row(ia)[k] + uv.row(ic)[k])
        .collect();
    let found: Vec<(String, f32)> = uv
        .nearest(&q, a.k, &[ia, ib, ic])
        .into_iter()
        .map(|(i, s)| (uv.word(i).to_string(), s))
        .collect();
    let mut out = Vec::new();
    print_neighbours(
        &format!("{} : {} :: {} : ?", a.a, a.b, a.c),
        &found,
        a.json,
        &mut out,
    );
    if a.json {
        println!("{}", serde_json::Value::from(out));
    }
    Ok(())
}

fn glove_config(a: &GloveArgs) -> GloveConfig {
    GloveConfig {
        dim: a.dim,
        window: a.window,
        x_max: a.x_max,
        alpha: a.alpha,
        lr: a.lr,
        iter: a.iter,
        memory: (a.memory * (1u64 << 30) as f64) as usize,
        threads: a.input.threads(),
        seed: a.seed,
        ..GloveConfig::default()
    }
}

fn print_glove_stages(vocab_secs: f64, stats: &glove::GloveStats) {
    eprintln!(
        "wembed: glove: vocab {vocab_secs:.1} s; {} records; final cost {}",
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
}

/// Reopens an interrupted GloVe run, refusing typed flags that disagree with its checkpoint.
fn resume_glove(
    a: &GloveArgs,
    m: &ArgMatches,
    dir: &std::path::Path,
) -> anyhow::Result<(glove::GloveState, Corpus, Vocab, ResumeMeta)> {
    let state: glove::GloveState = wembed::checkpoint::read(dir)?;
    let stored = serde_json::to_value(&state.config)?;
    let wanted = serde_json::to_value(glove_config(a))?;
    let fields = [
        ("dim", "dim"),
        ("window", "window"),
        ("x_max", "x_max"),
        ("alpha", "alpha"),
        ("lr", "lr"),
        ("iter", "iter"),
        ("memory", "memory"),
        ("threads", "threads"),
        ("seed", "seed"),
    ];
    let flags = (&a.input, a.min_count, a.max_vocab, &a.vocab);
    let (corpus, vocab, meta) =
        reopen_input(m, dir, &state.meta, (&stored, &wanted), &fields, flags)?;
    if !a.input.quiet {
        let mid: u64 = state.positions.iter().sum();
        let into = match mid {
            0 => String::new(),
            _ => format!(", {mid} of {} records into the next", state.records),
        };
        eprintln!(
            "wembed: resuming {} after iteration {} of {}{into}",
            dir.display(),
            state.iter_done,
            state.config.iter,
        );
    }
    Ok((state, corpus, vocab, meta))
}

fn glove(a: GloveArgs, m: &ArgMatches) -> anyhow::Result<()> {
    let which = a.vectors;
    if which == model::Which::Output {
        anyhow::bail!("--vectors is sum (W + W~) or input (W alone)");
    }
    if !(a.memory > 0.0 && a.memory.is_finite()) {
        anyhow::bail!("--memory must be a positive number of GiB");
    }
    let quiet = a.input.quiet;
    let start = std::time::Instant::now();
    let (config, corpus, vocab, vocab_stats, meta, resume, dest) = match &a.resume {
        Some(dir) => {
            let (state, corpus, vocab, meta) = resume_glove(&a, m, dir)?;
            let dest = model::Destination::resumed(dir, meta.replaces.clone());
            let config = state.config.clone();
            (config, corpus, vocab, None, meta, Some(state), dest)
        }
        None => {
            let output = a.output.clone().expect("clap requires -o without --resume");
            let config = glove_config(&a);
            config.validate()?;
            let dest = model::Destination::fresh(&output, a.force, Some("glove"))?;
            let flags = (&a.input, a.min_count, a.max_vocab, &a.vocab);
            let (corpus, vocab, vocab_stats, meta) =
                fresh_input(flags, config.threads, dest.replaces.clone())?;
            (config, corpus, vocab, vocab_stats, meta, None, dest)
        }
    };
    let output = dest.dir.clone();
    let vocab_secs = start.elapsed().as_secs_f64();
    if !quiet {
        eprintln!(
            "wembed: vocabulary {} words ({:.1} s)",
            vocab.len(),
            vocab_secs
        );
    }
    let fresh_run = resume.is_none().then(|| dest.fresh_run());
    let locks = dest.lock(resume.is_none())?;
    wembed::atomic::set_interrupt_hint(&output, "wembed glove --resume");
    // Saved first: a resumed run reads it back.
    vocab.save(&output.join(model::VOCAB))?;
    let ck = glove::GloveCheckpointing {
        enabled: a.checkpoint_secs > 0.0,
        every: (a.checkpoint_secs > 0.0)
            .then(|| std::time::Duration::from_secs_f64(a.checkpoint_secs)),
        resume,
        meta: serde_json::to_value(&meta)?,
    };
    let count = Progress::bytes(quiet, "cooccur", corpus.total_bytes(), "tokens");
    let train_bar = |total: u64| Progress::records(quiet, "glove", total);
    let note = |m: &str| {
        if !quiet {
            eprintln!("wembed: {m}");
        }
    };
    let stats = glove::train(
        &corpus,
        &vocab,
        &config,
        &output,
        &glove::Progresses {
            count: &count,
            train: &train_bar,
            note: &note,
        },
        &ck,
    )?;
    model::write_vectors_bin(&output, which)?;
    model::write_config(
        &output,
        serde_json::json!({
            "trainer": "glove",
            "hyperparameters": config,
            "vectors_bin": a.vectors,
            "corpus": { "paths": meta.corpus, "options": corpus.options() },
            "vocab": { "options": meta.vocab_options, "file": meta.vocab_file, "stats": vocab_stats, "words": vocab.len(), "seconds": vocab_secs },
            "training": stats,
            "resumed": ck.resume.is_some(),
        }),
    )?;
    print_glove_stages(vocab_secs, &stats);
    drop(locks);
    if let Some(f) = fresh_run {
        f.keep();
    }
    dest.commit()?;
    eprintln!(
        "wembed: glove: total {:.1} s -> {}",
        start.elapsed().as_secs_f64(),
        dest.target().display()
    );
    Ok(())
}

fn lm_split(a: LmSplitArgs) -> anyhow::Result<()> {
    let options = CorpusOptions {
        lowercase: a.lowercase,
        ..CorpusOptions::default()
    };
    let corpus = Corpus::open(&a.corpus, options)?;
    std::fs::create_dir_all(&a.output).map_err(|e| wembed::Error::io(&a.output, e))?;
    let progress = Progress::bytes(a.quiet, "split", corpus.total_bytes(), "tokens");
    let (train, valid) = (a.output.join("train.txt"), a.output.join("valid.txt"));
    let counts = lm::data::split(&corpus, a.holdout, &train, &valid, &progress);
    progress.finish();
    let (nt, nv) = counts?;
    println!(
        "{nt} lines -> {}, {nv} lines -> {}",
        train.display(),
        valid.display()
    );
    Ok(())
}

impl LmDataArgs {
    /// The output folder, refused if it holds another run (unless `--force`).
    fn destination(&self, command: Option<&str>) -> anyhow::Result<model::Destination> {
        let output = self
            .output
            .clone()
            .ok_or_else(|| anyhow::anyhow!("an output folder is needed: -o DIR"))?;
        Ok(model::Destination::fresh(&output, self.force, command)?)
    }

    /// What `--resume` needs to read the same data again.
    fn record(&self) -> serde_json::Value {
        serde_json::json!({
            "corpus": absolute(&self.corpus),
            "valid": self.valid.as_ref().map(absolute_one),
            "holdout": self.holdout,
            "lowercase": self.lowercase,
            "vocab_size": self.vocab_size,
        })
    }

    fn prepare(&self) -> anyhow::Result<lm::LmData> {
        if self.corpus.is_empty() {
            anyhow::bail!("no training text given: --corpus FILE...");
        }
        let options = CorpusOptions {
            lowercase: self.lowercase,
            ..CorpusOptions::default()
        };
        let corpus = Corpus::open(&self.corpus, options.clone())?;
        let valid = match &self.valid {
            Some(v) => Some(Corpus::open(std::slice::from_ref(v), options)?),
            None => None,
        };
        let progress = Progress::bytes(self.quiet, "lm data", corpus.total_bytes(), "tokens");
        let data = lm::data::prepare(
            &corpus,
            valid.as_ref(),
            self.holdout,
            self.vocab_size,
            &progress,
        );
        progress.finish();
        let data = data?;
        if !self.quiet {
            eprintln!(
                "wembed: lm data: {} training tokens ({} lines), {} validation tokens ({} lines), vocabulary {}",
                data.train.len(),
                data.train_sentences,
                data.valid.len(),
                data.valid_sentences,
                data.vocab.len()
            );
        }
        Ok(data)
    }

    /// The model's shape. Its width follows the pretrained vectors unless `--dim` is given (or
    /// `--project` asks for a map from the vectors' width to another).
    fn config(&self, vocab_size: usize, vectors: Option<&Embeddings>) -> lm::Config {
        let dim = match (self.dim, vectors) {
            (Some(d), _) => d,
            (None, Some(v)) if !self.project => v.dim(),
            _ => lm::model::DEFAULT_DIM,
        };
        let embed_dim = match vectors {
            Some(v) if self.project && v.dim() != dim => Some(v.dim()),
            _ => None,
        };
        lm::Config {
            vocab_size,
            dim,
            layers: self.layers,
            heads: self.heads,
            context: self.context,
            mlp_ratio: self.mlp_ratio,
            tied: !self.untied,
            embed_dim,
        }
    }

    fn options(&self, freeze_steps: usize) -> lm::TrainOptions {
        lm::TrainOptions {
            steps: self.steps,
            batch: self.batch,
            lr: self.lr,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            clip: self.clip,
            eval_every: self.eval_every,
            valid_tokens: self.valid_tokens,
            freeze_steps,
            seed: self.seed,
            checkpoint_secs: self.checkpoint_secs,
        }
    }
}

fn metric_line(label: &str, steps: usize, m: &lm::Metric) -> String {
    // No training loss before the first step: the field is left out rather than NaN.
    let loss = match m.train_loss.is_finite() {
        true => format!("  train loss {:.4}", m.train_loss),
        false => String::new(),
    };
    format!(
        "wembed: lm {label}: step {}/{steps}{loss}  valid ppl {:.2}  {:.0} tokens/s  {:.0} s",
        m.step, m.valid_ppl, m.tokens_per_s, m.seconds
    )
}

fn print_metric(quiet: bool, label: &str, steps: usize, m: &lm::Metric) {
    if !quiet {
        eprintln!("{}", metric_line(label, steps, m));
    }
}

fn print_init(quiet: bool, label: &str, r: &lm::InitReport) {
    if !quiet {
        eprintln!(
            "wembed: lm {label}: {} of {} words have a vector (dim {}); entry std {:.4} -> {:.4}",
            r.matched, r.vocab, r.vector_dim, r.std_before, r.std_after
        );
    }
}

fn lm_train(a: LmTrainArgs, m: &ArgMatches) -> anyhow::Result<()> {
    if let Some(dir) = &a.resume {
        return lm_resume(&a, m, dir);
    }
    let scale = a.init_scale;
    let vectors = match a.init.as_str() {
        "random" => None,
        path => Some(load_vectors(std::path::Path::new(path))?),
    };
    if let Some(v) = &vectors {
        let width = a.data.config(0, Some(v)).embed_width();
        lm::init::check_dim(v.dim(), width)?;
    }
    // Shapes and options are checked before the data pass and before any folder is made.
    a.data.config(1, vectors.as_ref()).validate()?;
    a.data.options(a.freeze_steps).validate()?;
    let dest = a.data.destination(Some("lm train"))?;
    let data = a.data.prepare()?;
    let cfg = a.data.config(data.vocab.len(), vectors.as_ref());
    let device = lm::device();
    let mut model = lm::Lm::new(&cfg, data.vocab.clone(), a.data.seed, &device)?;
    let init = match &vectors {
        Some(v) => {
            let r = model.init_embeddings(v, scale)?;
            print_init(a.data.quiet, "init", &r);
            Some(r)
        }
        None => None,
    };
    let options = a.data.options(a.freeze_steps);
    let extra = serde_json::json!({
        "init": a.init, "init_scale": scale, "init_report": init, "data": a.data.record(),
        // A --force run replaces this folder when it finishes, resumed or not.
        "replaces": dest.replaces,
    });
    run_lm_training(&model, &data, &options, &dest, extra, a.data.quiet, None)
}

fn run_lm_training(
    model: &lm::Lm,
    data: &lm::LmData,
    options: &lm::TrainOptions,
    dest: &model::Destination,
    extra: serde_json::Value,
    quiet: bool,
    resume: Option<lm::train::Resume>,
) -> anyhow::Result<()> {
    let steps = options.steps;
    let locks = dest.lock(resume.is_none())?;
    let bar = Progress::steps(quiet, "lm", steps as u64);
    let mut on_metric = |m: &lm::Metric| bar.note(&metric_line("train", steps, m));
    let metrics = lm::train::train(
        model,
        data,
        options,
        lm::train::Sink {
            dir: Some(dest.dir.clone()),
            extra,
            on_metric: &mut on_metric,
            progress: Some(&bar),
        },
        resume,
    );
    bar.finish();
    let metrics = metrics?;
    let last = metrics.last().expect("at least the step-0 evaluation");
    drop(locks);
    dest.commit()?;
    let train_loss = match last.train_loss.is_finite() {
        true => format!(", train loss {:.4}", last.train_loss),
        false => String::new(),
    };
    println!(
        "validation perplexity {:.2}{train_loss} after {} steps ({:.0} tokens/s) -> {}",
        last.valid_ppl,
        last.step,
        last.tokens_per_s,
        dest.target().display()
    );
    Ok(())
}

/// Continues an LM run from its checkpoint: stored settings, the same data (re-read and checked
/// against the stored vocabulary), weights, optimizer moments and data order.
fn lm_resume(a: &LmTrainArgs, m: &ArgMatches, dir: &std::path::Path) -> anyhow::Result<()> {
    let cfg_path = dir.join(lm::train::CONFIG_FILE);
    let stored = lm::train::read_config(dir)?;
    let training = stored["training"].clone();
    let corrupt = |what: &str| wembed::Error::bad_file(&cfg_path, format!("no usable {what}"));
    let options: lm::TrainOptions =
        serde_json::from_value(training["options"].clone()).map_err(|_| corrupt("options"))?;
    let rec = &training["data"];
    let mut data_args = a.data.clone();
    data_args.corpus =
        serde_json::from_value(rec["corpus"].clone()).map_err(|_| corrupt("data.corpus"))?;
    data_args.valid = serde_json::from_value(rec["valid"].clone()).unwrap_or(None);
    data_args.holdout = rec["holdout"]
        .as_u64()
        .ok_or_else(|| corrupt("data.holdout"))?;
    data_args.lowercase = rec["lowercase"].as_bool().unwrap_or(false);
    data_args.vocab_size = rec["vocab_size"]
        .as_u64()
        .ok_or_else(|| corrupt("data.vocab_size"))? as usize;
    // Typed flags must agree with the checkpoint.
    let wanted_options = serde_json::to_value(a.data.options(a.freeze_steps))?;
    let stored_options = serde_json::to_value(&options)?;
    let wanted_model = serde_json::to_value(a.data.config(0, None))?;
    let wanted_data = a.data.record();
    let mut checks: Vec<(&str, &serde_json::Value, &serde_json::Value)> = Vec::new();
    for id in [
        "steps",
        "batch",
        "lr",
        "warmup",
        "weight_decay",
        "clip",
        "eval_every",
        "valid_tokens",
        "seed",
        "freeze_steps",
    ] {
        checks.push((id, &stored_options[id], &wanted_options[id]));
    }
    for id in ["dim", "layers", "heads", "context", "mlp_ratio"] {
        checks.push((id, &stored["model"][id], &wanted_model[id]));
    }
    checks.push(("untied", &stored["model"]["tied"], &wanted_model["tied"]));
    for id in ["corpus", "valid", "holdout", "lowercase", "vocab_size"] {
        checks.push((id, &rec[id], &wanted_data[id]));
    }
    refuse_conflicts(m, dir, checks)?;
    let device = lm::device();
    let model = lm::Lm::load(dir, &device)?;
    let resume = lm::train::read_resume(dir, &device)?;
    let data = data_args.prepare()?;
    if data.vocab.words() != model.vocab.words() {
        anyhow::bail!(
            "the training text no longer gives the checkpoint's vocabulary: resume needs the same corpus"
        );
    }
    if !a.data.quiet {
        eprintln!(
            "wembed: lm: resuming {} at step {} of {}",
            dir.display(),
            resume.state.step,
            options.steps
        );
    }
    let replaces = serde_json::from_value(training["replaces"].clone()).unwrap_or(None);
    let dest = model::Destination::resumed(dir, replaces);
    run_lm_training(
        &model,
        &data,
        &options,
        &dest,
        training,
        a.data.quiet,
        Some(resume),
    )
}

fn lm_compare(a: LmCompareArgs) -> anyhow::Result<()> {
    let arms = a
        .arms
        .iter()
        .map(|n| lm::Arm::parse(n, a.freeze_steps))
        .collect::<wembed::Result<Vec<_>>>()?;
    let vectors = load_vectors(&a.init)?;
    let width = a.data.config(0, Some(&vectors)).embed_width();
    lm::init::check_dim(vectors.dim(), width)?;
    a.data.config(1, Some(&vectors)).validate()?;
    a.data.options(0).validate()?;
    let dest = a.data.destination(None)?;
    let output = dest.dir.clone();
    let locks = dest.lock(true)?;
    let data = a.data.prepare()?;
    let cfg = a.data.config(data.vocab.len(), Some(&vectors));
    let options = a.data.options(0);
    let (quiet, steps) = (a.data.quiet, options.steps);
    let mut on_event = |e: lm::Event| match e {
        lm::Event::Init(arm, r) => print_init(quiet, &arm.name, r),
        lm::Event::Metric(arm, m) => print_metric(quiet, &arm.name, steps, m),
    };
    let results = lm::compare(
        &cfg,
        &data,
        &vectors,
        &arms,
        &options,
        a.data.seed,
        &output,
        &mut on_event,
    )?;
    let table = lm::report::table(&results);
    print!("{table}");
    lm::report::write_csv(&output.join("compare.csv"), &results)?;
    let png = output.join("perplexity.png");
    let title = format!(
        "validation perplexity (dim {}, layers {}, vocabulary {})",
        cfg.dim, cfg.layers, cfg.vocab_size
    );
    lm::plot::perplexity_curves(&png, &title, &lm::report::series(&results))?;
    drop(locks);
    dest.commit()?;
    println!(
        "-> {}, compare.csv, perplexity.png",
        dest.target().display()
    );
    Ok(())
}

fn lm_generate(a: LmGenerateArgs) -> anyhow::Result<()> {
    let model = lm::Lm::load(&a.checkpoint, &lm::device())?;
    let prompt: Vec<u32> = a
        .prompt
        .split_whitespace()
        .map(|w| model.vocab.id(w).unwrap_or(lm::data::UNK_ID))
        .collect();
    let ids = model.generate(&prompt, a.tokens, a.temperature, a.top_k, a.seed)?;
    let mut text = a.prompt.clone();
    for id in ids {
        if id == lm::data::EOS_ID {
            text.push('\n');
        } else {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push(' ');
            }
            text.push_str(model.vocab.word(id));
        }
    }
    println!("{text}");
    Ok(())
}
