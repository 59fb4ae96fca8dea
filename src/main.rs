//! The command line: parses arguments, calls the library, turns errors into one line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::progress::Progress;
use wembed::synth::{Language, SynthOptions};
use wembed::vocab::{Vocab, VocabOptions};

#[derive(Parser)]
#[command(
    name = "wembed",
    version,
    about = "Train word embeddings (word2vec, GloVe) on large corpora"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Count the words of a corpus and write vocab.txt (word<TAB>count, most frequent first).
    Vocab(VocabArgs),
    /// Generate the synthetic corpus with planted relations, and its analogy and similarity files.
    Synth(SynthArgs),
}

/// Where the text comes from and how it is split into words.
#[derive(Args)]
struct CorpusArgs {
    /// Text files, folders (read recursively, sorted) or - for stdin; gzip is detected by content.
    #[arg(required = true, value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    /// Lowercase every token.
    #[arg(long)]
    lowercase: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 't', default_value_t = wembed::default_threads())]
    threads: usize,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

impl CorpusArgs {
    fn open(&self) -> wembed::Result<Corpus> {
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Vocab(a) => vocab(a),
        Command::Synth(a) => synth(a),
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

fn vocab(a: VocabArgs) -> anyhow::Result<()> {
    let corpus = a.input.open()?;
    let options = VocabOptions {
        min_count: a.min_count,
        max_vocab: a.max_vocab,
        memory_budget: a.vocab_memory.saturating_mul(1 << 20),
    };
    let progress = Progress::bytes(a.input.quiet, "vocab", corpus.total_bytes(), "tokens");
    let built = Vocab::build(&corpus, &options, a.input.threads, &progress);
    progress.finish();
    let (vocab, stats) = built?;
    vocab.save(&a.output)?;
    let mb = stats.read.bytes as f64 / 1e6;
    println!(
        "tokens {}  types {}  kept {} (min-count {})  {:.2} s  {:.1} MB/s",
        stats.read.tokens,
        stats.types,
        stats.kept,
        a.min_count,
        stats.seconds,
        mb / stats.seconds.max(1e-9)
    );
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
