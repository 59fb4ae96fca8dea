//! Language-model runs: one model from random or pretrained embeddings (fresh or resumed), and
//! the comparison of initialisations side by side.

use super::folder::ModelDir;
use super::input::{absolute, absolute_one};
use super::{Observer, Stage};
use crate::corpus::{Corpus, CorpusOptions};
use crate::error::{Error, Result};
use crate::lm::{self, Arm, Config, ConfigOverrides, DataSpec, DataSpecOverrides, InitReport};
use crate::lm::{InitScale, LmData, Metric, Shape, TrainOptions, TrainOptionsOverrides};
use crate::vectors::Embeddings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// How the token embedding starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// The random initialiser.
    Random,
    /// Pretrained vectors (any format `Embeddings::load` reads), rescaled by `scale`.
    Vectors {
        /// The vectors file or model folder.
        path: PathBuf,
        /// How they are rescaled.
        scale: InitScale,
    },
}

/// A fresh LM run.
#[derive(Clone, Debug)]
pub struct LmRun {
    /// The text.
    pub data: DataSpec,
    /// The network.
    pub shape: Shape,
    /// The optimiser, schedule and measurements.
    pub options: TrainOptions,
    /// How the embedding starts.
    pub init: Init,
    /// The checkpoint folder to write.
    pub output: PathBuf,
    /// Replace an existing folder (once the new run has finished).
    pub force: bool,
    /// Once set, the run saves a checkpoint at its next step and stops.
    pub stop: Option<Arc<AtomicBool>>,
}

/// An interrupted LM run to continue; settings given again must match the checkpoint's.
#[derive(Clone, Debug, Default)]
pub struct LmResume {
    /// The checkpoint folder.
    pub dir: PathBuf,
    /// Data settings given again.
    pub data: DataSpecOverrides,
    /// Network settings given again.
    pub model: ConfigOverrides,
    /// Training settings given again.
    pub options: TrainOptionsOverrides,
    /// Once set, the run saves a checkpoint at its next step and stops.
    pub stop: Option<Arc<AtomicBool>>,
}

/// `config.json` of an LM checkpoint folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LmConfigFile {
    /// The network's shape.
    pub model: Config,
    /// The crate version that wrote it.
    #[serde(default)]
    pub wembed_version: String,
    /// How the run was set up, and where it stands.
    pub training: LmRecord,
}

/// What an LM checkpoint records about its run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LmRecord {
    /// `random`, or the vectors' path.
    pub init: String,
    /// The rescale of pretrained vectors.
    pub init_scale: InitScale,
    /// What the pretrained initialisation matched.
    #[serde(default)]
    pub init_report: Option<InitReport>,
    /// The text, with absolute paths.
    pub data: DataSpec,
    /// The folder a forced run replaces when it finishes.
    #[serde(default)]
    pub replaces: Option<PathBuf>,
    /// Steps done at the checkpoint.
    #[serde(default)]
    pub step: usize,
    /// Training settings.
    pub options: TrainOptions,
}

/// What a finished LM run hands back.
pub struct LmTrained {
    /// The checkpoint folder.
    pub dir: PathBuf,
    /// One row per evaluation.
    pub metrics: Vec<Metric>,
}

/// Loads vectors, noting NaN or infinite values (which some tools write and which poison every
/// cosine they touch).
///
/// A model folder gives the vectors its `vectors.bin` holds ([`super::folder::vectors`]).
pub fn load_vectors(path: &Path, observer: &dyn Observer) -> Result<Embeddings> {
    let e = match super::folder::is_model_folder(path) {
        true => super::folder::vectors(path)?,
        false => Embeddings::load(path)?,
    };
    let bad = e.nonfinite();
    if bad > 0 {
        observer.warning(&format!(
            "warning: {}: {bad} values are NaN or infinite",
            path.display()
        ));
    }
    Ok(e)
}

/// Reads the text a spec names into token ids and a vocabulary.
pub fn prepare(spec: &DataSpec, observer: &dyn Observer) -> Result<LmData> {
    if spec.corpus.is_empty() {
        return Err(Error::setting(
            "corpus",
            "is needed: no training text given",
        ));
    }
    let options = CorpusOptions {
        lowercase: spec.lowercase,
        ..CorpusOptions::default()
    };
    let corpus = Corpus::open(&spec.corpus, options.clone())?;
    let valid = match &spec.valid {
        Some(v) => Some(Corpus::open(std::slice::from_ref(v), options)?),
        None => None,
    };
    let progress = observer.stage(Stage::Bytes {
        label: "lm data",
        total: corpus.total_bytes(),
        item: "tokens",
    });
    let data = lm::data::prepare(
        &corpus,
        valid.as_ref(),
        spec.holdout,
        spec.vocab_size,
        &progress,
    );
    progress.finish();
    let data = data?;
    observer.note(&format!(
        "lm data: {} training tokens ({} lines), {} validation tokens ({} lines), vocabulary {}",
        data.train.len(),
        data.train_sentences,
        data.valid.len(),
        data.valid_sentences,
        data.vocab.len()
    ));
    Ok(data)
}

/// Refuses vectors and settings that cannot train, before the data pass and any folder.
fn check_setup(shape: &Shape, options: &TrainOptions, vectors: Option<&Embeddings>) -> Result<()> {
    let dim = vectors.map(|v| v.dim());
    if let Some(d) = dim {
        lm::init::check_dim(d, shape.config(0, dim).embed_width())?;
    }
    shape.config(1, dim).validate()?;
    options.validate()
}

/// Trains a fresh LM into its checkpoint folder.
pub fn fresh(run: &LmRun, observer: &dyn Observer) -> Result<LmTrained> {
    let vectors = match &run.init {
        Init::Random => None,
        Init::Vectors { path, .. } => Some(load_vectors(path, observer)?),
    };
    check_setup(&run.shape, &run.options, vectors.as_ref())?;
    let dest = ModelDir::fresh(&run.output, run.force, observer)?;
    let data = prepare(&run.data, observer)?;
    let cfg = run
        .shape
        .config(data.vocab.len(), vectors.as_ref().map(|v| v.dim()));
    let device = lm::device();
    let mut model = lm::Lm::new(&cfg, data.vocab.clone(), run.options.seed, &device)?;
    let (init, init_scale, init_report) = match (&run.init, &vectors) {
        (Init::Vectors { path, scale }, Some(v)) => {
            let r = model.init_embeddings(v, *scale)?;
            note_init(observer, "init", &r);
            (path.display().to_string(), *scale, Some(r))
        }
        _ => ("random".to_string(), InitScale::Std, None),
    };
    let record = LmRecord {
        init,
        init_scale,
        init_report,
        data: DataSpec {
            corpus: absolute(&run.data.corpus),
            valid: run.data.valid.as_deref().map(absolute_one),
            ..run.data.clone()
        },
        replaces: dest.replaces.clone(),
        step: 0,
        options: run.options.clone(),
    };
    train(
        &model,
        &data,
        &record,
        &dest,
        (observer, run.stop.as_deref()),
        None,
    )
}

/// Continues an LM run from its checkpoint: stored settings, the same data (read again and
/// checked against the stored vocabulary), weights, optimizer moments and data order.
pub fn resume(r: &LmResume, observer: &dyn Observer) -> Result<LmTrained> {
    let dir = &r.dir;
    let stored = read_config(dir)?;
    let record = stored.training;
    let conflict = super::conflict_in(dir);
    r.options.check(&record.options).map_err(conflict)?;
    r.model.check(&stored.model).map_err(conflict)?;
    // Paths given again are compared as the checkpoint records them: absolute.
    let data = DataSpecOverrides {
        corpus: r.data.corpus.as_deref().map(absolute),
        valid: r.data.valid.clone().map(|v| v.as_deref().map(absolute_one)),
        ..r.data.clone()
    };
    data.check(&record.data).map_err(conflict)?;
    let device = lm::device();
    let model = lm::Lm::load(dir, &device)?;
    let resume = lm::train::read_resume(dir, &device)?;
    let data = prepare(&record.data, observer)?;
    if data.vocab.words() != model.vocab.words() {
        return Err(Error::Invalid(
            "the training text no longer gives the checkpoint's vocabulary: resume needs the same corpus".into(),
        ));
    }
    observer.note(&format!(
        "lm: resuming {} at step {} of {}",
        dir.display(),
        resume.state.step,
        record.options.steps
    ));
    let dest = ModelDir::resumed(dir, record.replaces.clone());
    train(
        &model,
        &data,
        &record,
        &dest,
        (observer, r.stop.as_deref()),
        Some(resume),
    )
}

/// An LM checkpoint folder's `config.json`, typed.
pub fn read_config(dir: &Path) -> Result<LmConfigFile> {
    let path = dir.join(lm::train::CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::bad_file(&path, format!("not a resumable LM checkpoint: {e}")))
}

/// The evaluation line shown while training.
pub fn metric_line(label: &str, steps: usize, m: &Metric) -> String {
    // No training loss before the first step: the field is left out rather than NaN.
    let loss = match m.train_loss.is_finite() {
        true => format!("  train loss {:.4}", m.train_loss),
        false => String::new(),
    };
    format!(
        "lm {label}: step {}/{steps}{loss}  valid ppl {:.2}  {:.0} tokens/s  {:.0} s",
        m.step, m.valid_ppl, m.tokens_per_s, m.seconds
    )
}

fn note_init(observer: &dyn Observer, label: &str, r: &InitReport) {
    observer.note(&format!(
        "lm {label}: {} of {} words have a vector (dim {}); entry std {:.4} -> {:.4}",
        r.matched, r.vocab, r.vector_dim, r.std_before, r.std_after
    ));
}

fn train(
    model: &lm::Lm,
    data: &LmData,
    record: &LmRecord,
    dest: &ModelDir,
    (observer, stop): (&dyn Observer, Option<&AtomicBool>),
    resume: Option<lm::train::Resume>,
) -> Result<LmTrained> {
    let options = &record.options;
    let steps = options.steps;
    let locks = dest.lock(resume.is_none())?;
    let fresh_run = resume.is_none().then(|| dest.fresh_run());
    let bar = observer.stage(Stage::Steps {
        label: "lm",
        total: steps as u64,
    });
    let mut on_metric =
        |m: &Metric| bar.note(&format!("wembed: {}", metric_line("train", steps, m)));
    let extra =
        serde_json::to_value(record).map_err(|e| Error::Invalid(format!("LM record: {e}")))?;
    let metrics = lm::train::train(
        model,
        data,
        options,
        lm::train::Sink {
            dir: Some(dest.dir.clone()),
            extra,
            on_metric: &mut on_metric,
            progress: Some(&bar),
            stop,
        },
        resume,
    );
    bar.finish();
    // A fresh run that diverged leaves nothing: resumed, its checkpoint would diverge again bit
    // for bit. Any other failure keeps the folder, resumable from its last checkpoint.
    if let Some(f) = fresh_run.filter(|_| !matches!(metrics, Err(Error::Diverged { .. }))) {
        f.keep();
    }
    let metrics = metrics?;
    drop(locks);
    dest.commit()?;
    Ok(LmTrained {
        dir: dest.target().to_path_buf(),
        metrics,
    })
}

/// Pretrained vectors against random initialisation, arm by arm, from the same weights and
/// batches.
#[derive(Clone, Debug)]
pub struct LmCompare {
    /// The text.
    pub data: DataSpec,
    /// The network.
    pub shape: Shape,
    /// Training settings shared by every arm.
    pub options: TrainOptions,
    /// The pretrained vectors.
    pub vectors: PathBuf,
    /// The arms, in order.
    pub arms: Vec<Arm>,
    /// The output folder: an arm per subfolder, `compare.csv` and `perplexity.png`.
    pub output: PathBuf,
    /// Replace an existing folder.
    pub force: bool,
}

/// What a comparison hands back.
pub struct Compared {
    /// The output folder.
    pub dir: PathBuf,
    /// The model every arm trained.
    pub config: Config,
    /// Each arm's metrics.
    pub results: Vec<lm::ArmResult>,
}

/// Trains every arm, then writes the table, `compare.csv` and `perplexity.png`.
pub fn compare(c: &LmCompare, observer: &dyn Observer) -> Result<Compared> {
    let vectors = load_vectors(&c.vectors, observer)?;
    check_setup(&c.shape, &c.options, Some(&vectors))?;
    let dest = ModelDir::fresh(&c.output, c.force, observer)?;
    let locks = dest.lock(true)?;
    let data = prepare(&c.data, observer)?;
    let cfg = c.shape.config(data.vocab.len(), Some(vectors.dim()));
    let steps = c.options.steps;
    let mut on_event = |e: lm::Event| match e {
        lm::Event::Init(arm, r) => note_init(observer, &arm.name, r),
        lm::Event::Metric(arm, m) => observer.note(&metric_line(&arm.name, steps, m)),
    };
    let (out, seed) = (&dest.dir, c.options.seed);
    let results = lm::compare(
        &cfg,
        &data,
        &vectors,
        &c.arms,
        &c.options,
        seed,
        out,
        &mut on_event,
    )?;
    lm::report::write_csv(&out.join("compare.csv"), &results)?;
    let title = format!(
        "validation perplexity (dim {}, layers {}, vocabulary {})",
        cfg.dim, cfg.layers, cfg.vocab_size
    );
    let png = out.join("perplexity.png");
    lm::plot::perplexity_curves(&png, &title, &lm::report::series(&results))?;
    drop(locks);
    dest.commit()?;
    Ok(Compared {
        dir: dest.target().to_path_buf(),
        config: cfg,
        results,
    })
}
