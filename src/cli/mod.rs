//! The command line over the library: argument structs whose defaults come from the library's
//! configs, one function per command, and one-line errors in the CLI's own spelling of settings.

pub mod compat;
mod lm;
mod query;
mod train;
mod vocab;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

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
    Vocab(vocab::VocabArgs),
    /// Generate the synthetic corpus with planted relations, and its analogy and similarity files.
    Synth(query::SynthArgs),
    /// Train skip-gram word vectors (word2vec -cbow 0) into a model folder.
    Skipgram(train::TrainArgs),
    /// Train CBOW word vectors (word2vec -cbow 1) into a model folder.
    Cbow(train::TrainArgs),
    /// Train GloVe vectors: co-occurrence counting in bounded memory, shuffle, AdaGrad.
    Glove(train::GloveArgs),
    /// Evaluate vectors: analogies (questions-words.txt) and word-pair similarity (wordsim353).
    Eval(query::EvalArgs),
    /// Write a model's vectors in another format (word2vec, GloVe, fastText .vec, npy, safetensors).
    Export(query::ExportArgs),
    /// The nearest words (cosine) to each given word.
    Neighbors(query::NeighborsArgs),
    /// Words that complete "A is to B as C is to ?" (3CosAdd).
    Analogy(query::AnalogyArgs),
    /// Print words' vectors (stdin's words when none is given), unknown words included where the
    /// model has subwords (a fastText .bin).
    Vector(query::VectorArgs),
    /// A small Transformer language model that can start from these vectors.
    #[command(subcommand)]
    Lm(lm::LmCommand),
}

/// Parses the command line, runs the command, and turns an error into one line.
pub fn main() -> ExitCode {
    let args = match compat::translate(std::env::args_os().collect()) {
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
    let leaf = leaf(&matches);
    wembed::atomic::install_interrupt_cleanup();
    wembed::atomic::ignore_file_size_signal();
    wembed::progress::set_log_every(cli.log_every);
    let resumes = resume_command(&cli.command);
    if let Some(c) = resumes {
        wembed::atomic::set_resume_command(&format!("wembed {c} --resume"));
    }
    let result = match cli.command {
        Command::Vocab(a) => vocab::vocab(a),
        Command::Synth(a) => query::synth(a),
        Command::Skipgram(a) => train::word2vec(a, wembed::word2vec::Architecture::SkipGram, &leaf),
        Command::Cbow(a) => train::word2vec(a, wembed::word2vec::Architecture::Cbow, &leaf),
        Command::Glove(a) => train::glove(a, &leaf),
        Command::Eval(a) => query::eval(a),
        Command::Export(a) => query::export(a),
        Command::Neighbors(a) => query::neighbors(a),
        Command::Analogy(a) => query::analogy(a),
        Command::Vector(a) => query::vector(a),
        Command::Lm(c) => lm::run(c, &leaf),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wembed: error: {}", message(&e, resumes));
            ExitCode::FAILURE
        }
    }
}

/// The command that `--resume` continues, for messages.
fn resume_command(c: &Command) -> Option<&'static str> {
    match c {
        Command::Skipgram(_) => Some("skipgram"),
        Command::Cbow(_) => Some("cbow"),
        Command::Glove(_) => Some("glove"),
        Command::Lm(lm::LmCommand::Train(_)) => Some("lm train"),
        _ => None,
    }
}

/// The matches of the innermost subcommand.
fn leaf(m: &ArgMatches) -> ArgMatches {
    match m.subcommand() {
        Some((_, sub)) => leaf(sub),
        None => m.clone(),
    }
}

/// Whether `id` was typed on the command line (not a default).
pub(crate) fn typed(m: &ArgMatches, id: &str) -> bool {
    m.try_get_raw(id).ok().flatten().is_some()
        && m.value_source(id) == Some(ValueSource::CommandLine)
}

/// Whether the flag of config field `field` was typed: the test of which settings a resumed run
/// is given again.
pub(crate) fn given(m: &ArgMatches) -> impl Fn(&str) -> bool + '_ {
    move |field| match field {
        // One setting, four flags.
        "subwords" => ["subwords", "minn", "maxn", "bucket"]
            .iter()
            .any(|id| typed(m, id)),
        f => typed(m, arg_id(f)),
    }
}

/// The flag that sets a config field.
pub(crate) fn flag_of(field: &str) -> String {
    format!("--{}", arg_id(field).replace('_', "-"))
}

/// The argument id of a config field: the field's name, but for the few whose flag says the
/// opposite or says it shorter.
fn arg_id(field: &str) -> &str {
    match field {
        "cbow_mean" => "cbow_sum",
        "shared_negatives" => "pair_negatives",
        "pretokenize" => "reread_text",
        "tied" => "untied",
        "vocab_file" => "vocab",
        "vectors_bin" => "vectors",
        "embed_dim" => "project",
        other => other,
    }
}

/// An error as one line, with the library's setting names spelled as this CLI's flags and the
/// commands that help.
fn message(e: &anyhow::Error, resumes: Option<&str>) -> String {
    use wembed::Error as E;
    let text = match e.downcast_ref::<E>() {
        Some(E::Setting { name, msg }) => format!("{} {msg}", flag_of(name)),
        Some(E::Conflict { conflict, dir }) if conflict.setting == "architecture" => {
            let trainer = match conflict.stored.as_str() {
                "SkipGram" => "skipgram",
                _ => "cbow",
            };
            format!(
                "{} holds a {trainer} run; resume it with `wembed {trainer} --resume {}`",
                dir.display(),
                dir.display()
            )
        }
        Some(E::Conflict { conflict, dir }) => format!(
            "{} conflicts with the checkpoint in {} ({} there); resume with the same settings",
            flag_of(conflict.setting),
            dir.display(),
            conflict.stored
        ),
        Some(E::FolderInUse { dir, interrupted }) => {
            let d = dir.display();
            let what = match interrupted {
                true => "holds an interrupted run",
                false => "already exists and is not empty",
            };
            let resume = resumes.map_or(String::new(), |c| {
                format!("continue an interrupted run with `wembed {c} --resume {d}`, or ")
            });
            format!("{d} {what}: {resume}replace the folder with --force (the old one stays until the new run finishes)")
        }
        Some(E::CorpusGone { err }) => {
            format!("{err} (the corpus the checkpoint names; if it moved, add --corpus PATH)")
        }
        Some(E::Diverged { .. }) => format!("{e}").replace("the learning rate", "--lr"),
        Some(E::StdinTwice) => format!("{e}").replace("a vocabulary file", "--vocab FILE"),
        Some(E::EmptyVocab { .. }) => format!("{e}").replace("the minimum count", "--min-count"),
        _ => format!("{e:#}"),
    };
    text.replace('\n', " ")
}

/// A count that must be at least 1 (dimensions, windows, passes), refused while parsing, before
/// any work.
pub(crate) fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a whole number of at least 1, not {s:?}")),
    }
}

/// Seconds: zero or a positive finite number (fractions allowed).
pub(crate) fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.is_finite() && x < 1e9 => Ok(x),
        _ => Err(format!(
            "expected a number of seconds (0 or more), not {s:?}"
        )),
    }
}

/// `secs` as an interval; 0 is none.
pub(crate) fn interval(secs: f64) -> Option<std::time::Duration> {
    (secs > 0.0).then(|| std::time::Duration::from_secs_f64(secs))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of a resumable config is either set by a flag of the command that resumes it,
    /// or is listed here as having none (so it can never be given again, and never conflict).
    #[test]
    fn every_resumable_setting_has_a_flag_or_is_listed_without_one() {
        let cmd = Cli::command();
        let sub = |path: &[&str]| {
            let mut c = &cmd;
            for p in path {
                c = c.find_subcommand(p).expect("subcommand");
            }
            c.get_arguments()
                .map(|a| a.get_id().to_string())
                .collect::<Vec<_>>()
        };
        let without = [
            "architecture",
            "grad_clip",
            "max_sentence_tokens",
            "memory_budget",
            "vocab_size",
            "embed_dim",
            "checkpoint_secs",
        ];
        let cases: [(&[&str], &[&str]); 7] = [
            (&["skipgram"], wembed::word2vec::Word2VecOverrides::FIELDS),
            (&["glove"], wembed::glove::GloveOverrides::FIELDS),
            (
                &["skipgram"],
                wembed::corpus::CorpusOptionsOverrides::FIELDS,
            ),
            (&["glove"], wembed::vocab::VocabOptionsOverrides::FIELDS),
            (&["lm", "train"], wembed::lm::DataSpecOverrides::FIELDS),
            (&["lm", "train"], wembed::lm::ConfigOverrides::FIELDS),
            (&["lm", "train"], wembed::lm::TrainOptionsOverrides::FIELDS),
        ];
        for (path, fields) in cases {
            let ids = sub(path);
            for f in fields {
                assert!(
                    ids.iter().any(|id| id == arg_id(f)) || without.contains(f),
                    "{f} of {path:?} has no flag"
                );
            }
        }
    }
}
