//! `vocab`: count a corpus's words.

use super::train::CorpusArgs;
use clap::Args;
use std::path::PathBuf;
use wembed::run::{self, Input};
use wembed::vocab::VocabOptions;

#[derive(Args)]
pub struct VocabArgs {
    #[command(flatten)]
    input: CorpusArgs,
    /// Output vocabulary file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Discard words that occur fewer times than this.
    #[arg(long, default_value_t = VocabOptions::default().min_count)]
    min_count: u64,
    /// Keep only the N most frequent words.
    #[arg(long, value_name = "N")]
    max_vocab: Option<usize>,
    /// Memory for the counting tables in MiB; past it, rare words are pruned as word2vec does.
    #[arg(long, default_value_t = VocabOptions::default().memory_budget >> 20, value_name = "MIB")]
    vocab_memory: usize,
}

pub fn vocab(a: VocabArgs) -> anyhow::Result<()> {
    // A model folder's vocab.txt is the row order of its matrices: replacing it breaks the model.
    run::folder::refuse_own_file(&a.output)?;
    let options = VocabOptions {
        min_count: a.min_count,
        max_vocab: a.max_vocab,
        memory_budget: a.vocab_memory.saturating_mul(1 << 20),
    };
    let input = Input {
        vocab_options: options,
        ..a.input.input(VocabOptions::default(), &None)?
    };
    let observer = run::observer(a.input.quiet);
    let (vocab, stats) = input.count_vocab(a.input.threads(), observer)?;
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
