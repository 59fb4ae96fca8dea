//! The command line: parses arguments, calls the library, turns errors into one line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::eval::{self, Method};
use wembed::glove::{self, GloveConfig};
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
}

#[derive(Args)]
struct GloveArgs {
    #[command(flatten)]
    input: CorpusArgs,
    /// Model folder to write (input.npy = W, output.npy = W~, bias.npy, vocab.txt, config.json, vectors.bin).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    #[arg(long, alias = "vector-size", default_value_t = 100)]
    dim: usize,
    /// Words on each side, weighted 1/distance (at most 20).
    #[arg(long, alias = "window-size", default_value_t = 10)]
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
    #[arg(long, aliases = ["epochs", "iterations"], default_value_t = 25)]
    iter: usize,
    /// Memory for counting and shuffling, in GiB; past it, sorted runs and chunks go to disk.
    #[arg(long, default_value_t = 4.0)]
    memory: f64,
    /// vectors.bin holds W + W~ (sum, the Stanford tool's -model 2) or W alone (input).
    #[arg(long, default_value = "sum")]
    vectors: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct ExportArgs {
    /// A model folder, or any vectors file `eval` reads.
    model: PathBuf,
    /// word2vec-bin, word2vec-text, glove-text, fasttext-vec, npy or safetensors.
    #[arg(long, short = 'f')]
    format: String,
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: PathBuf,
    /// input (word vectors), output (context vectors) or sum (model folders only).
    #[arg(long, default_value = "input")]
    which: String,
    /// Scale every row to unit length.
    #[arg(long)]
    normalize: bool,
    /// Only the N most frequent words.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// f32 or f16 (npy and safetensors).
    #[arg(long, default_value = "f32")]
    dtype: String,
}

#[derive(Args)]
struct NeighborsArgs {
    vectors: PathBuf,
    #[arg(required = true)]
    words: Vec<String>,
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
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Dimension of the vectors (word2vec -size).
    #[arg(long, alias = "size", default_value_t = 100)]
    dim: usize,
    /// Maximum context distance; each centre word draws its window from 1..=N (word2vec -window, fastText -ws).
    #[arg(long, alias = "ws", default_value_t = 5)]
    window: usize,
    /// Negative samples per positive pair; 0 turns negative sampling off (needs --hs).
    #[arg(long, alias = "neg", default_value_t = 5)]
    negative: usize,
    /// Hierarchical softmax (may be combined with negative sampling, as in word2vec).
    #[arg(long)]
    hs: bool,
    /// Subsampling threshold for frequent words; 0 turns it off (word2vec -sample, fastText -t).
    #[arg(long, alias = "t", default_value_t = 1e-4)]
    sample: f64,
    /// Passes over the corpus (word2vec -iter, fastText -epoch).
    #[arg(long, aliases = ["iter", "epoch"], default_value_t = 5)]
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
    /// 3cosadd or 3cosmul.
    #[arg(long, default_value = "3cosadd")]
    method: String,
    /// Answer analogies among the N most frequent words only (0: all).
    #[arg(long, default_value_t = 30_000)]
    restrict: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
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
    wembed::atomic::install_interrupt_cleanup();
    let result = match cli.command {
        Command::Vocab(a) => vocab(a),
        Command::Synth(a) => synth(a),
        Command::Skipgram(a) => train_word2vec(a, Architecture::SkipGram),
        Command::Cbow(a) => train_word2vec(a, Architecture::Cbow),
        Command::Glove(a) => glove(a),
        Command::Eval(a) => eval(a),
        Command::Export(a) => export(a),
        Command::Neighbors(a) => neighbors(a),
        Command::Analogy(a) => analogy(a),
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
        anyhow::bail!("counting the vocabulary takes a pass of its own and stdin cannot be re-read: save the corpus to a file, or give --vocab");
    }
    let progress = Progress::bytes(quiet, "vocab", corpus.total_bytes(), "tokens");
    let built = Vocab::build(corpus, options, threads, &progress);
    progress.finish();
    let (v, s) = built?;
    Ok((v, Some(s)))
}

fn train_word2vec(a: TrainArgs, arch: Architecture) -> anyhow::Result<()> {
    let corpus = a.input.open()?;
    let mut config = Word2VecConfig::new(arch);
    config.dim = a.dim;
    config.window = a.window;
    config.negative = a.negative;
    config.hs = a.hs;
    config.sample = a.sample;
    config.epochs = a.epochs;
    config.lr = a.lr.unwrap_or(config.lr);
    config.cbow_mean = !a.cbow_sum;
    config.threads = a.input.threads.max(1);
    config.seed = a.seed;
    let vocab_options = VocabOptions {
        min_count: a.min_count,
        max_vocab: a.max_vocab,
        ..VocabOptions::default()
    };
    let quiet = a.input.quiet;
    let (vocab, vocab_stats) = vocab_for_training(
        &corpus,
        a.vocab.as_deref(),
        &vocab_options,
        config.threads,
        quiet,
    )?;
    if !quiet {
        eprintln!(
            "wembed: vocabulary {} words, {} training tokens per epoch",
            vocab.len(),
            vocab.total()
        );
    }
    std::fs::create_dir_all(&a.output).map_err(|e| wembed::Error::io(&a.output, e))?;
    let label = match arch {
        Architecture::SkipGram => "skipgram",
        Architecture::Cbow => "cbow",
    };
    let progress = Progress::words(
        quiet,
        label,
        vocab.total() * config.epochs as u64,
        config.threads,
    );
    let trained = word2vec::train(&corpus, &vocab, &config, &a.output, &progress);
    progress.finish();
    let stats = trained?;
    vocab.save(&a.output.join(model::VOCAB))?;
    model::write_vectors_bin(&a.output, model::Which::Input)?;
    model::write_config(
        &a.output,
        serde_json::json!({
            "trainer": label,
            "hyperparameters": config,
            "corpus": {
                "paths": a.input.corpus,
                "options": corpus.options(),
            },
            "vocab": {
                "options": vocab_options,
                "file": a.vocab,
                "stats": vocab_stats,
                "words": vocab.len(),
                "train_tokens": vocab.total(),
            },
            "training": stats,
        }),
    )?;
    eprintln!(
        "wembed: {label}: {} words in {:.1} s, {:.0} words/s ({:.0} words/s/thread, {} threads) -> {}",
        stats.words,
        stats.seconds,
        stats.words_per_sec,
        stats.words_per_sec / stats.threads as f64,
        stats.threads,
        a.output.display()
    );
    Ok(())
}

fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let method = match a.method.to_ascii_lowercase().as_str() {
        "3cosadd" | "cosadd" => Method::CosAdd,
        "3cosmul" | "cosmul" => Method::CosMul,
        m => anyhow::bail!("unknown --method {m:?} (3cosadd or 3cosmul)"),
    };
    if a.analogy.is_none() && a.similarity.is_empty() {
        anyhow::bail!("nothing to evaluate: give --analogy FILE and/or --similarity FILE");
    }
    let emb = Embeddings::load(&a.vectors)?;
    let mut json = serde_json::Map::new();
    if let Some(q) = &a.analogy {
        let restrict = (a.restrict > 0).then_some(a.restrict);
        let start = std::time::Instant::now();
        let r = eval::analogy(&emb, q, restrict, method)?;
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
        let r = eval::similarity(&emb, f)?;
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
    let format: Format = a.format.parse()?;
    let dtype = match a.dtype.as_str() {
        "f32" => Dtype::F32,
        "f16" => Dtype::F16,
        d => anyhow::bail!("unknown --dtype {d:?} (f32 or f16)"),
    };
    let which = match a.which.as_str() {
        "input" => model::Which::Input,
        "output" => model::Which::Output,
        "sum" => model::Which::Sum,
        w => anyhow::bail!("unknown --which {w:?} (input, output or sum)"),
    };
    let (base, add) = if a.model.is_dir() {
        model::load(&a.model, which)?
    } else if which == model::Which::Input {
        (Embeddings::load(&a.model)?, None)
    } else {
        anyhow::bail!("--which {} needs a model folder", a.which);
    };
    let view = vectors::View::new(&base, add.as_ref(), a.limit, a.normalize)?;
    vectors::export(&view, format, dtype, &a.output)?;
    eprintln!(
        "wembed: exported {} words x {} to {} ({})",
        vectors::Rows::len(&view),
        base.dim(),
        a.output.display(),
        a.format
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

fn neighbors(a: NeighborsArgs) -> anyhow::Result<()> {
    let emb = Embeddings::load(&a.vectors)?;
    let uv = eval::UnitVectors::new(&emb, None);
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
    let emb = Embeddings::load(&a.vectors)?;
    let uv = eval::UnitVectors::new(&emb, None);
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

fn glove(a: GloveArgs) -> anyhow::Result<()> {
    let corpus = a.input.open()?;
    let which = match a.vectors.as_str() {
        "sum" => model::Which::Sum,
        "input" => model::Which::Input,
        v => anyhow::bail!("unknown --vectors {v:?} (sum or input)"),
    };
    if !(a.memory > 0.0 && a.memory.is_finite()) {
        anyhow::bail!("--memory must be a positive number of GiB");
    }
    let config = GloveConfig {
        dim: a.dim,
        window: a.window,
        x_max: a.x_max,
        alpha: a.alpha,
        lr: a.lr,
        iter: a.iter,
        memory: (a.memory * (1u64 << 30) as f64) as usize,
        threads: a.input.threads.max(1),
        seed: a.seed,
        ..GloveConfig::default()
    };
    let quiet = a.input.quiet;
    let vocab_options = VocabOptions {
        min_count: a.min_count,
        max_vocab: a.max_vocab,
        ..VocabOptions::default()
    };
    let start = std::time::Instant::now();
    let (vocab, vocab_stats) = vocab_for_training(
        &corpus,
        a.vocab.as_deref(),
        &vocab_options,
        config.threads,
        quiet,
    )?;
    let vocab_secs = start.elapsed().as_secs_f64();
    if !quiet {
        eprintln!(
            "wembed: vocabulary {} words ({:.1} s)",
            vocab.len(),
            vocab_secs
        );
    }
    std::fs::create_dir_all(&a.output).map_err(|e| wembed::Error::io(&a.output, e))?;
    let count = Progress::bytes(quiet, "cooccur", corpus.total_bytes(), "tokens");
    let train_bar = |total: u64| Progress::words(quiet, "glove", total, config.threads);
    let note = |m: &str| {
        if !quiet {
            eprintln!("wembed: {m}");
        }
    };
    let stats = glove::train(
        &corpus,
        &vocab,
        &config,
        &a.output,
        &glove::Progresses {
            count: &count,
            train: &train_bar,
            note: &note,
        },
    )?;
    vocab.save(&a.output.join(model::VOCAB))?;
    model::write_vectors_bin(&a.output, which)?;
    model::write_config(
        &a.output,
        serde_json::json!({
            "trainer": "glove",
            "hyperparameters": config,
            "vectors_bin": a.vectors,
            "corpus": { "paths": a.input.corpus, "options": corpus.options() },
            "vocab": { "options": vocab_options, "file": a.vocab, "stats": vocab_stats, "words": vocab.len(), "seconds": vocab_secs },
            "training": stats,
        }),
    )?;
    eprintln!(
        "wembed: glove: vocab {vocab_secs:.1} s; {} records",
        stats.records
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
        a.output.display()
    );
    Ok(())
}
