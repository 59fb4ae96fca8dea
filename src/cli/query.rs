//! `eval`, `export`, `neighbors`, `analogy` and `synth`: reading and writing vectors.

use clap::Args;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use wembed::eval::{self, Method};
use wembed::run::query::Queries;
use wembed::run::{self, Which};
use wembed::synth::{Language, SynthOptions};
use wembed::vectors::lookup::{Found, Lookup};
use wembed::vectors::{self, Dtype, Embeddings, Format};

/// Neighbours shown by `neighbors` and `analogy`.
const NEAREST: usize = 10;

#[derive(Args)]
pub struct ExportArgs {
    /// A model folder, or any vectors file `eval` reads.
    model: PathBuf,
    #[arg(long, short = 'f', value_enum)]
    format: Format,
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: PathBuf,
    /// input (word vectors), output (context vectors) or sum (model folders only).
    #[arg(long, value_enum, default_value_t = Which::Input)]
    which: Which,
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
pub struct NeighborsArgs {
    vectors: PathBuf,
    #[arg(required = true)]
    words: Vec<String>,
    #[command(flatten)]
    show: Show,
}

/// How `neighbors` and `analogy` match words and show what they find.
#[derive(Args)]
pub struct Show {
    /// Match words ignoring case (the most frequent row of each folded form answers); by default
    /// `Apple` is only `Apple`, as in gensim.
    #[arg(long)]
    ignore_case: bool,
    /// How many neighbours.
    #[arg(short = 'k', default_value_t = NEAREST)]
    k: usize,
    /// Print JSON instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AnalogyArgs {
    vectors: PathBuf,
    a: String,
    b: String,
    c: String,
    #[command(flatten)]
    show: Show,
}

#[derive(Args)]
pub struct EvalArgs {
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
    #[arg(long, default_value_t = eval::RESTRICT)]
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

#[derive(Args)]
pub struct SynthArgs {
    /// Tokens to generate.
    #[arg(long, default_value_t = 10_000_000)]
    tokens: u64,
    #[arg(long, default_value_t = SynthOptions::default().seed)]
    seed: u64,
    /// Word pairs in each relation family.
    #[arg(long, default_value_t = SynthOptions::default().pairs)]
    pairs: usize,
    /// Distinct filler words (Zipf-distributed).
    #[arg(long, default_value_t = SynthOptions::default().filler)]
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

pub fn synth(a: SynthArgs) -> anyhow::Result<()> {
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

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
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

pub fn export(a: ExportArgs) -> anyhow::Result<()> {
    let (format, dtype, which) = (a.format, a.dtype, a.which);
    if format == Format::FastTextBin && a.model.is_dir() {
        return export_fasttext(&a);
    }
    let (base, add) = if a.model.is_dir() {
        run::folder::load(&a.model, which)?
    } else if which == Which::Input {
        (load_vectors(&a.model)?, None)
    } else {
        anyhow::bail!("--which {which:?} needs a model folder");
    };
    let view = vectors::View::new(&base, add.as_ref(), a.limit, a.normalize)?;
    run::export(&view, format, dtype, &a.output)?;
    let to = match wembed::atomic::is_stdout(&a.output) {
        true => "stdout".into(),
        false => a.output.display().to_string(),
    };
    eprintln!(
        "wembed: exported {} words x {} to {to} ({})",
        vectors::Rows::len(&view),
        base.dim(),
        format.name()
    );
    Ok(())
}

/// A model folder as fastText's `.bin`: the whole model, so the row choices do not apply.
fn export_fasttext(a: &ExportArgs) -> anyhow::Result<()> {
    if a.limit.is_some() || a.normalize || a.which != Which::Input || a.dtype != Dtype::F32 {
        anyhow::bail!("--format fasttext-bin writes the whole model: --limit, --normalize, --which and --dtype do not apply");
    }
    run::export_fasttext(&a.model, &a.output)?;
    eprintln!(
        "wembed: exported {} as a fastText model to {}",
        a.model.display(),
        a.output.display()
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

fn load_vectors(path: &std::path::Path) -> wembed::Result<Embeddings> {
    run::lm::load_vectors(path, &run::Bars)
}

fn query_case(ignore_case: bool) -> eval::Case {
    match ignore_case {
        true => eval::Case::Fold,
        false => eval::Case::Exact,
    }
}

pub fn neighbors(a: NeighborsArgs) -> anyhow::Result<()> {
    let q = Queries::open(&a.vectors, &run::Bars)?;
    let uv = eval::UnitVectors::new(&q.emb, None, query_case(a.show.ignore_case));
    let mut out = Vec::new();
    for w in &a.words {
        let (v, id) = q.unit(&uv, w)?;
        let found: Vec<(String, f32)> = uv
            .nearest(&v, a.show.k, id.as_slice())
            .into_iter()
            .map(|(i, s)| (uv.word(i).to_string(), s))
            .collect();
        let title = match id {
            Some(_) => w.clone(),
            None => format!("{w} (not in the vocabulary: from its n-grams)"),
        };
        print_neighbours(&title, &found, a.show.json, &mut out);
    }
    if a.show.json {
        println!("{}", serde_json::Value::from(out));
    }
    Ok(())
}

pub fn analogy(a: AnalogyArgs) -> anyhow::Result<()> {
    let q = Queries::open(&a.vectors, &run::Bars)?;
    let uv = eval::UnitVectors::new(&q.emb, None, query_case(a.show.ignore_case));
    let (va, ia) = q.unit(&uv, &a.a)?;
    let (vb, ib) = q.unit(&uv, &a.b)?;
    let (vc, ic) = q.unit(&uv, &a.c)?;
    let query: Vec<f32> = (0..q.emb.dim()).map(|k| vb[k] - va[k] + vc[k]).collect();
    let exclude: Vec<usize> = [ia, ib, ic].into_iter().flatten().collect();
    let found: Vec<(String, f32)> = uv
        .nearest(&query, a.show.k, &exclude)
        .into_iter()
        .map(|(i, s)| (uv.word(i).to_string(), s))
        .collect();
    let mut out = Vec::new();
    print_neighbours(
        &format!("{} : {} :: {} : ?", a.a, a.b, a.c),
        &found,
        a.show.json,
        &mut out,
    );
    if a.show.json {
        println!("{}", serde_json::Value::from(out));
    }
    Ok(())
}

#[derive(Args)]
pub struct VectorArgs {
    /// A model folder, a fastText .bin, or any vectors file `eval` reads.
    model: PathBuf,
    /// Words to print; none: the words of stdin, one line of output per word (as `fasttext
    /// print-word-vectors`).
    words: Vec<String>,
    /// Print the rows each word's vector averages instead, one line each, named: the word
    /// itself when it is in the vocabulary, then its n-grams (as `fasttext print-ngrams`).
    #[arg(long)]
    ngrams: bool,
}

fn lookup(path: &std::path::Path) -> wembed::Result<Lookup> {
    run::query::lookup(path, &run::Bars)
}

pub fn vector(a: VectorArgs) -> anyhow::Result<()> {
    let lookup = lookup(&a.model)?;
    if a.ngrams && !lookup.has_subwords() {
        anyhow::bail!(
            "{}: no n-grams (--ngrams needs a model trained with --subwords or a fastText .bin)",
            a.model.display()
        );
    }
    let mut v = vec![0f32; lookup.dim()];
    let mut unknown = 0u64;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let line = |name: &str, v: &[f32], out: &mut dyn Write| -> std::io::Result<()> {
        write!(out, "{name}")?;
        for x in v {
            write!(out, " {x}")?;
        }
        writeln!(out)
    };
    let mut print = |w: &str, out: &mut dyn Write| -> std::io::Result<()> {
        if a.ngrams {
            let rows = lookup.ngram_vectors(w).unwrap_or_default();
            unknown += rows.is_empty() as u64;
            return rows.iter().try_for_each(|(g, v)| line(g, v, out));
        }
        if lookup.vector(w, &mut v) == Found::Unknown {
            unknown += 1;
        }
        line(w, &v, out)
    };
    let written = if a.words.is_empty() {
        // Flushed line by line, so that a program that feeds words one at a time gets answers.
        let mut stdin = std::io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            if stdin.read_until(b'\n', &mut line)? == 0 {
                break Ok(());
            }
            let text = String::from_utf8_lossy(&line);
            let r = text
                .split_whitespace()
                .try_for_each(|w| print(w, &mut out))
                .and_then(|()| out.flush());
            if r.is_err() {
                break r;
            }
        }
    } else {
        a.words
            .iter()
            .try_for_each(|w| print(w, &mut out))
            .and_then(|()| out.flush())
    };
    match written {
        // `wembed vector m | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        r => r?,
    }
    if unknown > 0 {
        let why = match lookup.has_subwords() {
            true => "not in the vocabulary and without n-grams",
            false => "not in the vocabulary, and the model has no subwords",
        };
        let shown = if a.ngrams {
            "no rows"
        } else {
            "printed as zeros"
        };
        eprintln!("wembed: {unknown} word(s) {why}: {shown}");
    }
    Ok(())
}
