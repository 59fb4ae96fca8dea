//! The single-dash flags of word2vec C, fastText and the Stanford GloVe tools, as their users
//! type them. A flag either does what it does in that tool (it is rewritten to wembed's spelling
//! before parsing) or is refused with a message that names the wembed way; none is left for the
//! argument parser to misread (`-train` as `-t rain`, `--hs 1` as a corpus named `1`).

/// What a foreign flag becomes.
enum Meaning {
    /// The same option under wembed's name.
    Same(&'static str),
    /// No equivalent flag: the message says what to do instead.
    Refuse(&'static str),
}

use std::ffi::OsString;
use Meaning::{Refuse, Same};

const CORPUS: &str = "wembed takes the corpus as an argument: `wembed skipgram FILE -o DIR`";
const OUTPUT: &str = "-o DIR names the model folder (its vectors.bin is word2vec's binary output; `wembed export DIR --format word2vec-text -o FILE` writes text)";
const VOCAB_OUT: &str = "the model folder's vocab.txt is the vocabulary; `wembed vocab CORPUS -o FILE` counts one alone";
const VOCAB_IN: &str = "use --vocab FILE";
const BINARY: &str = "the model folder holds both: vectors.bin (binary) and, through `wembed export`, any text format";

/// word2vec C's and fastText's flags for `skipgram` and `cbow`.
fn word2vec(flag: &str) -> Option<Meaning> {
    Some(match flag {
        "-train" | "-input" => Refuse(CORPUS),
        "-output" => Refuse(OUTPUT),
        "-size" | "-dim" => Same("--dim"),
        "-window" | "-ws" => Same("--window"),
        "-sample" => Same("--sample"),
        "-hs" => Same("--hs"),
        "-negative" | "-neg" => Same("--negative"),
        "-threads" | "-thread" => Same("--threads"),
        "-iter" | "-epoch" => Same("--epochs"),
        "-min-count" | "-minCount" => Same("--min-count"),
        "-alpha" | "-lr" => Same("--lr"),
        "-cbow" => Refuse("the architecture is the command: `wembed cbow` (word2vec -cbow 1) or `wembed skipgram` (-cbow 0)"),
        "-binary" => Refuse(BINARY),
        "-save-vocab" => Refuse(VOCAB_OUT),
        "-read-vocab" => Refuse(VOCAB_IN),
        "-debug" | "-verbose" => Refuse("progress is on by default; --quiet silences it"),
        "-classes" => Refuse("word classes (k-means) are not part of wembed"),
        "-minn" => Same("--minn"),
        "-maxn" => Same("--maxn"),
        "-bucket" => Same("--bucket"),
        "-wordNgrams" => Refuse("word n-grams are for fastText's classifier; wembed trains word vectors"),
        "-loss" => Refuse("use --hs for hierarchical softmax; negative sampling is the default"),
        "-pretrainedVectors" | "-saveOutput" | "-lrUpdateRate" | "-label" => {
            Refuse("this fastText option has no wembed equivalent")
        }
        _ => return None,
    })
}

/// The Stanford tools' flags for `glove` (vocab_count, cooccur, shuffle and glove in one).
fn glove(flag: &str) -> Option<Meaning> {
    Some(match flag {
        "-input-file" | "-corpus" | "-train" | "-input" => Refuse(CORPUS),
        "-save-file" | "-output" => Refuse(OUTPUT),
        "-vector-size" | "-size" | "-dim" => Same("--dim"),
        "-window-size" | "-window" => Same("--window"),
        "-x-max" => Same("--x-max"),
        "-alpha" => Same("--alpha"),
        "-eta" => Same("--lr"),
        "-iter" => Same("--iter"),
        "-threads" | "-num-threads" => Same("--threads"),
        "-memory" => Same("--memory"),
        "-vocab-min-count" | "-min-count" => Same("--min-count"),
        "-max-vocab" => Same("--max-vocab"),
        "-vocab-file" => Refuse(VOCAB_IN),
        "-binary" => Refuse(BINARY),
        "-model" => Refuse("use --vectors sum (the Stanford tool's -model 2) or --vectors input"),
        "-verbose" => Refuse("progress is on by default; --quiet silences it"),
        _ => return None,
    })
}

/// Rewrites `args` (the whole command line, program name first) for the subcommand it names.
/// Stops at `--`. Also joins `--hs 0|1` into `--hs=0|1`, since a bare `--hs` is a switch.
pub fn translate(args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let table: fn(&str) -> Option<Meaning> = match args.get(1).and_then(|a| a.to_str()) {
        Some("skipgram" | "cbow") => word2vec,
        Some("glove") => glove,
        _ => return Ok(args),
    };
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a);
            out.extend(it);
            break;
        }
        let a = match a.to_str().and_then(table) {
            Some(Same(long)) => OsString::from(long),
            Some(Refuse(why)) => {
                return Err(format!(
                    "{} is the spelling of word2vec, fastText or GloVe: {why}",
                    a.to_string_lossy()
                ))
            }
            None => a,
        };
        if a == "--hs" && it.peek().is_some_and(|v| v == "0" || v == "1") {
            let v = it.next().unwrap_or_default();
            out.push(OsString::from(format!("--hs={}", v.to_string_lossy())));
            continue;
        }
        out.push(a);
    }
    Ok(out)
}
