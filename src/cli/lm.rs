//! `lm split|train|compare|generate|plot`: the Transformer LM and its initialisations.

use super::{given, positive};
use clap::{ArgMatches, Args, Subcommand};
use std::path::PathBuf;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::lm::{self, ConfigOverrides, DataSpec, DataSpecOverrides, Shape, TrainOptions};
use wembed::lm::{ArmKind, TrainOptionsOverrides};
use wembed::progress::Progress;
use wembed::run;
use wembed::run::lm::{Init, LmCompare, LmResume, LmRun};

#[derive(Subcommand)]
pub enum LmCommand {
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
pub struct LmPlotArgs {
    /// compare.csv written by `lm compare`.
    csv: PathBuf,
    #[arg(short = 'o', long = "output", value_name = "PNG")]
    output: PathBuf,
    #[arg(long, default_value = "validation perplexity")]
    title: String,
}

#[derive(Args)]
pub struct LmSplitArgs {
    /// Text files, folders or - for stdin.
    #[arg(required = true, value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    #[arg(long)]
    lowercase: bool,
    /// Every N-th line goes to the validation half.
    #[arg(long, default_value_t = DataSpec::default().holdout)]
    holdout: u64,
    /// Folder for train.txt and valid.txt.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args, Clone)]
pub struct LmDataArgs {
    /// Training text: files, folders or - for stdin.
    #[arg(long, num_args = 1.., value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    /// Validation text; without it every --holdout-th line of the corpus is held out.
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    #[arg(long, default_value_t = DataSpec::default().holdout)]
    holdout: u64,
    #[arg(long)]
    lowercase: bool,
    /// Most frequent training words kept (plus <unk> and <eos>).
    #[arg(long, default_value_t = DataSpec::default().vocab_size, value_parser = positive)]
    vocab_size: usize,
    #[arg(long, value_parser = positive, help = format!(
        "Width of the model [default: the dimension of the --init vectors, else {}]",
        lm::model::DEFAULT_DIM
    ))]
    dim: Option<usize>,
    #[arg(long, default_value_t = Shape::default().layers, value_parser = positive)]
    layers: usize,
    #[arg(long, default_value_t = Shape::default().heads, value_parser = positive)]
    heads: usize,
    /// Tokens per training window (and learned positions).
    #[arg(long, default_value_t = Shape::default().context, value_parser = positive)]
    context: usize,
    #[arg(long, default_value_t = Shape::default().mlp_ratio, value_parser = positive)]
    mlp_ratio: usize,
    /// A separate output matrix instead of the token embedding.
    #[arg(long)]
    untied: bool,
    /// Allow vectors whose dimension differs from --dim, through a learned linear map.
    #[arg(long)]
    project: bool,
    #[arg(long, default_value_t = TrainOptions::default().steps, value_parser = positive)]
    steps: usize,
    #[arg(long, default_value_t = TrainOptions::default().batch, value_parser = positive)]
    batch: usize,
    #[arg(long, default_value_t = TrainOptions::default().lr)]
    lr: f64,
    #[arg(long, default_value_t = TrainOptions::default().warmup)]
    warmup: usize,
    #[arg(long, default_value_t = TrainOptions::default().weight_decay)]
    weight_decay: f64,
    /// Global gradient-norm clip (0: off).
    #[arg(long, default_value_t = TrainOptions::default().clip)]
    clip: f64,
    #[arg(long, default_value_t = TrainOptions::default().eval_every)]
    eval_every: usize,
    /// Validation tokens scored at each evaluation.
    #[arg(long, default_value_t = TrainOptions::default().valid_tokens)]
    valid_tokens: usize,
    /// Seed for the weights and the data order.
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    seed: u64,
    /// Also checkpoint between evaluations every this many seconds (0: at evaluations only).
    #[arg(long, default_value_t = TrainOptions::default().checkpoint_secs)]
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
pub struct LmTrainArgs {
    #[command(flatten)]
    data: LmDataArgs,
    /// Continue the run whose checkpoint is in DIR, with its settings, data order and optimizer
    /// state.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Vectors in any format `eval` reads, or `random`.
    #[arg(long, default_value = "random")]
    init: String,
    /// How the vectors are scaled into the embedding; unit, the default, won the transfer
    /// experiment (BENCHMARKS.md).
    #[arg(long, value_enum, default_value_t = lm::InitScale::default())]
    init_scale: lm::InitScale,
    /// Keep the token embedding fixed for the first K steps.
    #[arg(long, default_value_t = TrainOptions::default().freeze_steps, value_name = "K")]
    freeze_steps: usize,
}

#[derive(Args)]
pub struct LmCompareArgs {
    #[command(flatten)]
    data: LmDataArgs,
    /// Pretrained vectors (any format `eval` reads).
    #[arg(long, required = true)]
    init: PathBuf,
    /// Arms, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',',
          default_values_t = [ArmKind::Random, ArmKind::Raw, ArmKind::Std, ArmKind::Unit])]
    arms: Vec<ArmKind>,
    /// Steps the std-freeze arm keeps the embedding fixed.
    #[arg(long, default_value_t = lm::STD_FREEZE_STEPS, value_name = "K")]
    freeze_steps: usize,
}

#[derive(Args)]
pub struct LmGenerateArgs {
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

impl LmDataArgs {
    fn output(&self) -> anyhow::Result<PathBuf> {
        self.output
            .clone()
            .ok_or_else(|| anyhow::anyhow!("an output folder is needed: -o DIR"))
    }

    fn spec(&self) -> DataSpec {
        DataSpec {
            corpus: self.corpus.clone(),
            valid: self.valid.clone(),
            holdout: self.holdout,
            lowercase: self.lowercase,
            vocab_size: self.vocab_size,
        }
    }

    fn shape(&self) -> Shape {
        Shape {
            dim: self.dim,
            layers: self.layers,
            heads: self.heads,
            context: self.context,
            mlp_ratio: self.mlp_ratio,
            tied: !self.untied,
            project: self.project,
        }
    }

    fn options(&self, freeze_steps: usize) -> TrainOptions {
        TrainOptions {
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

pub fn run(c: LmCommand, m: &ArgMatches) -> anyhow::Result<()> {
    match c {
        LmCommand::Split(a) => split(a),
        LmCommand::Train(a) => train(a, m),
        LmCommand::Compare(a) => compare(a),
        LmCommand::Generate(a) => generate(a),
        LmCommand::Plot(a) => Ok(lm::plot::series_from_csv(&a.csv)
            .and_then(|s| lm::plot::perplexity_curves(&a.output, &a.title, &s))?),
    }
}

fn split(a: LmSplitArgs) -> anyhow::Result<()> {
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

fn train(a: LmTrainArgs, m: &ArgMatches) -> anyhow::Result<()> {
    let observer = run::observer(a.data.quiet);
    let d = &a.data;
    let trained = match &a.resume {
        Some(dir) => {
            // The model's vocabulary size is the data's outcome, and the checkpoint interval may
            // change between processes: neither is a setting given again.
            let model_given = |f: &str| f != "vocab_size" && given(m)(f);
            let options_given = |f: &str| f != "checkpoint_secs" && given(m)(f);
            let r = LmResume {
                dir: dir.clone(),
                data: DataSpecOverrides::given(&d.spec(), given(m)),
                model: ConfigOverrides::given(&d.shape().config(0, None), model_given),
                options: TrainOptionsOverrides::given(&d.options(a.freeze_steps), options_given),
                stop: None,
            };
            run::lm::resume(&r, observer)?
        }
        None => {
            let init = match a.init.as_str() {
                "random" => Init::Random,
                path => Init::Vectors {
                    path: path.into(),
                    scale: a.init_scale,
                },
            };
            let run = LmRun {
                data: d.spec(),
                shape: d.shape(),
                options: d.options(a.freeze_steps),
                init,
                output: d.output()?,
                force: d.force,
                stop: None,
            };
            run::lm::fresh(&run, observer)?
        }
    };
    // A fresh run always evaluates at step 0; a resumed one whose checkpoint lists no evaluation
    // (a corrupt state) has nothing to report.
    let Some(last) = trained.metrics.last() else {
        anyhow::bail!("the run recorded no evaluation: its checkpoint's training state is corrupt");
    };
    let train_loss = match last.train_loss.is_finite() {
        true => format!(", train loss {:.4}", last.train_loss),
        false => String::new(),
    };
    println!(
        "validation perplexity {:.2}{train_loss} after {} steps ({:.0} tokens/s) -> {}",
        last.valid_ppl,
        last.step,
        last.tokens_per_s,
        trained.dir.display()
    );
    Ok(())
}

fn compare(a: LmCompareArgs) -> anyhow::Result<()> {
    let c = LmCompare {
        data: a.data.spec(),
        shape: a.data.shape(),
        options: a.data.options(0),
        vectors: a.init.clone(),
        arms: a
            .arms
            .iter()
            .map(|&k| lm::Arm::new(k, a.freeze_steps))
            .collect(),
        output: a.data.output()?,
        force: a.data.force,
    };
    let done = run::lm::compare(&c, run::observer(a.data.quiet))?;
    print!("{}", lm::report::table(&done.results));
    println!("\n{}\n", lm::report::verdict(&done.results));
    let d = done.dir.display();
    println!("-> {d}/compare.csv (per arm and evaluation), {d}/perplexity.png (the curves)");
    Ok(())
}

fn generate(a: LmGenerateArgs) -> anyhow::Result<()> {
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
