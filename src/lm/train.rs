//! Training, evaluation, checkpoints and sampling for the Transformer LM.
//!
//! Every random choice comes from seeded xoshiro streams, one for the weights and one for the data
//! order, so two runs that differ only in their embedding initialisation see the same batches in
//! the same order: the comparison measures the initialisation and nothing else.

use super::data::{LmData, EOS_ID};
use super::init::{self, InitReport, InitScale};
use super::model::{Config, Transformer, PROJECTION, TOKEN_EMBEDDING};
use super::optim::AdamW;
use crate::atomic::{self, TempPath};
use crate::sampling::{rng, FastRng};
use crate::vectors::Embeddings;
use crate::vocab::Vocab;
use crate::{Error, Result};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, RngCore};
use rand_distr::{Distribution, Normal};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The random initialiser's standard deviation (GPT-2's), which `--init-scale std` matches.
pub const INIT_STD: f64 = 0.02;

/// Weights, optimizer moments and training state.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Shape and run record ([`crate::run::lm::LmConfigFile`]).
pub const CONFIG_FILE: &str = "config.json";
/// The LM's vocabulary.
pub const VOCAB_FILE: &str = "vocab.txt";
/// One row per evaluation.
pub const METRICS_FILE: &str = "metrics.csv";
/// Metadata key of the training state inside `model.safetensors`.
const STATE_KEY: &str = "wembed_train_state";

/// Every variable of `varmap` with its name, in name order (HashMap order would make seeded
/// initialisation and the optimiser groups vary from run to run).
fn sorted_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let mut vars: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .expect("varmap lock")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Reads a checkpoint folder's `config.json`.
pub fn read_config(dir: &Path) -> Result<serde_json::Value> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::bad_file(&path, format!("not JSON: {e}")))
}

/// A model with its variables and vocabulary.
pub struct Lm {
    /// Every variable, by name.
    pub varmap: VarMap,
    /// The network.
    pub model: Transformer,
    /// Its tokens, `<unk>` and `<eos>` first.
    pub vocab: Vocab,
    /// Where its tensors live.
    pub device: Device,
}

impl Lm {
    /// A randomly initialised model: N(0, 0.02) weights, residual output projections scaled down
    /// by sqrt(2·layers) (GPT-2), zero biases, unit LayerNorm gains. Seeded, so reproducible.
    pub fn new(cfg: &Config, vocab: Vocab, seed: u64, device: &Device) -> Result<Lm> {
        cfg.validate()?;
        if vocab.len() != cfg.vocab_size {
            return Err(Error::Invalid(format!(
                "vocabulary has {} words but the config says {}",
                vocab.len(),
                cfg.vocab_size
            )));
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let model = Transformer::new(cfg, vb)?;
        let mut r = rng(seed);
        let vars = sorted_vars(&varmap);
        let residual_std = INIT_STD / (2.0 * cfg.layers.max(1) as f64).sqrt();
        for (name, var) in vars {
            let shape = var.shape().clone();
            let n = shape.elem_count();
            let values: Vec<f32> = if name.ends_with(".bias") {
                vec![0.0; n]
            } else if name.ends_with(".gain") {
                vec![1.0; n]
            } else {
                let std = if name == PROJECTION {
                    1.0 / (cfg.embed_width() as f64).sqrt()
                } else if name.ends_with("attn.proj.weight") || name.ends_with(".out.weight") {
                    residual_std
                } else {
                    INIT_STD
                };
                normal(&mut r, n, std)
            };
            var.set(&Tensor::from_vec(values, shape, device)?)?;
        }
        Ok(Lm {
            varmap,
            model,
            vocab,
            device: device.clone(),
        })
    }

    fn var(&self, name: &str) -> Result<Var> {
        self.varmap
            .data()
            .lock()
            .expect("varmap lock")
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("model has no variable {name}")))
    }

    /// Writes pretrained vectors into the token embedding (see `init::apply`).
    pub fn init_embeddings(
        &mut self,
        vectors: &Embeddings,
        scale: InitScale,
    ) -> Result<InitReport> {
        let var = self.var(TOKEN_EMBEDDING)?;
        let (rows, width) = var.dims2()?;
        let mut table: Vec<f32> = var.flatten_all()?.to_vec1()?;
        let report = init::apply(&mut table, width, &self.vocab, vectors, scale, INIT_STD)?;
        var.set(&Tensor::from_vec(table, (rows, width), &self.device)?)?;
        Ok(report)
    }

    /// The token-embedding table as stored ([V, width]).
    pub fn token_embedding(&self) -> Result<Vec<Vec<f32>>> {
        Ok(self.var(TOKEN_EMBEDDING)?.to_vec2()?)
    }

    /// Mean negative log-likelihood per token over up to `max_tokens` predictions of `ids`, cut
    /// into non-overlapping windows of the model's context.
    pub fn evaluate(&self, ids: &[u32], batch: usize, max_tokens: usize) -> Result<f64> {
        let t = self.model.config().context;
        let windows = (ids.len().saturating_sub(1) / t).min(max_tokens.div_ceil(t).max(1));
        if windows == 0 {
            return Err(Error::Invalid(format!(
                "validation text has {} tokens, fewer than one context of {t}",
                ids.len()
            )));
        }
        let (mut total, mut count) = (0f64, 0usize);
        let starts: Vec<usize> = (0..windows).map(|w| w * t).collect();
        for chunk in starts.chunks(batch.max(1)) {
            let (x, y) = batch_tensors(ids, chunk, t, &self.device)?;
            let loss = self.model.loss(&x, &y)?.to_scalar::<f32>()? as f64;
            total += loss * (chunk.len() * t) as f64;
            count += chunk.len() * t;
        }
        Ok(total / count as f64)
    }

    /// Writes `model.safetensors`, `config.json` and `vocab.txt` into `dir`, each atomically.
    pub fn save(&self, dir: &Path, extra: serde_json::Value) -> Result<()> {
        self.save_checkpoint(dir, extra, Vec::new(), serde_json::Value::Null)
    }

    /// As `save`, with extra tensors (the optimizer's moments) and a training state stored in the
    /// same safetensors file: weights, moments and state are replaced by one rename, so a kill can
    /// never leave them from different steps.
    pub fn save_checkpoint(
        &self,
        dir: &Path,
        extra: serde_json::Value,
        more: Vec<(String, Tensor)>,
        state: serde_json::Value,
    ) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let weights = dir.join(WEIGHTS_FILE);
        let mut tensors: Vec<(String, Tensor)> = sorted_vars(&self.varmap)
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect();
        tensors.extend(more);
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let mut buffers = Vec::with_capacity(tensors.len());
        for (name, t) in &tensors {
            let values: Vec<f32> = t.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?;
            buffers.push((name.as_str(), t.dims().to_vec(), values));
        }
        let views = buffers
            .iter()
            .map(|(n, shape, values)| {
                let bytes: &[u8] = bytemuck::cast_slice(values);
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .map(|v| (*n, v))
                    .map_err(|e| Error::bad_file(&weights, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut meta = std::collections::HashMap::new();
        if !state.is_null() {
            meta.insert(STATE_KEY.to_string(), state.to_string());
        }
        let tmp = TempPath::for_target(&weights);
        safetensors::tensor::serialize_to_file(views, Some(meta), tmp.path())
            .map_err(|e| Error::bad_file(&weights, e.to_string()))?;
        std::fs::File::open(tmp.path())
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&weights, e))?;
        tmp.persist()?;
        let config = serde_json::json!({
            "model": self.model.config(),
            "wembed_version": env!("CARGO_PKG_VERSION"),
            "training": extra,
        });
        let text = serde_json::to_string_pretty(&config).expect("config serialises");
        atomic::write_file(&dir.join(CONFIG_FILE), |f| {
            use std::io::Write;
            f.write_all(text.as_bytes())
        })?;
        self.vocab.save(&dir.join(VOCAB_FILE))
    }

    /// Reads a checkpoint folder written by `save`.
    pub fn load(dir: &Path, device: &Device) -> Result<Lm> {
        let config_path = dir.join(CONFIG_FILE);
        let value = read_config(dir)?;
        let cfg: Config = serde_json::from_value(value["model"].clone())
            .map_err(|e| Error::bad_file(&config_path, format!("bad model config: {e}")))?;
        let vocab = Vocab::load(&dir.join(VOCAB_FILE))?;
        let mut lm = Lm::new(&cfg, vocab, 0, device)?;
        let weights = dir.join(WEIGHTS_FILE);
        if !weights.exists() {
            return Err(Error::NotFound(weights));
        }
        lm.varmap
            .load(&weights)
            .map_err(|e| model_error(&weights, e))?;
        Ok(lm)
    }

    /// Samples `n` tokens after `prompt` (ids), with temperature and top-k truncation.
    pub fn generate(
        &self,
        prompt: &[u32],
        n: usize,
        temperature: f64,
        top_k: usize,
        seed: u64,
    ) -> Result<Vec<u32>> {
        let mut r = rng(seed);
        let ctx = self.model.config().context;
        let mut ids: Vec<u32> = if prompt.is_empty() {
            vec![EOS_ID]
        } else {
            prompt.to_vec()
        };
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let window = &ids[ids.len().saturating_sub(ctx)..];
            let x = Tensor::from_slice(window, (1, window.len()), &self.device)?;
            let logits = self.model.forward(&x)?;
            let last: Vec<f32> = logits.get(window.len() - 1)?.to_vec1()?;
            let next = sample(&last, temperature, top_k, &mut r);
            ids.push(next);
            out.push(next);
        }
        Ok(out)
    }
}

fn model_error(path: &Path, e: candle_core::Error) -> Error {
    Error::bad_file(path, e.to_string())
}

fn normal(r: &mut FastRng, n: usize, std: f64) -> Vec<f32> {
    let d = Normal::new(0.0, std).expect("finite std");
    (0..n).map(|_| d.sample(r) as f32).collect()
}

/// Softmax sampling over the `top_k` largest logits (all when 0), at `temperature` (greedy at 0).
fn sample(logits: &[f32], temperature: f64, top_k: usize, r: &mut FastRng) -> u32 {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_unstable_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if temperature <= 0.0 {
        return order[0] as u32;
    }
    if top_k > 0 {
        order.truncate(top_k);
    }
    let max = logits[order[0]] as f64;
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| ((logits[i] as f64 - max) / temperature).exp())
        .collect();
    let mut u = r.random::<f64>() * weights.iter().sum::<f64>();
    for (&i, w) in order.iter().zip(&weights) {
        if u < *w {
            return i as u32;
        }
        u -= w;
    }
    order[order.len() - 1] as u32
}

/// Inputs [B, T] and next-token targets [B·T] for windows starting at `starts`.
fn batch_tensors(
    ids: &[u32],
    starts: &[usize],
    t: usize,
    dev: &Device,
) -> Result<(Tensor, Tensor)> {
    let mut x = Vec::with_capacity(starts.len() * t);
    let mut y = Vec::with_capacity(starts.len() * t);
    for &s in starts {
        x.extend_from_slice(&ids[s..s + t]);
        y.extend_from_slice(&ids[s + 1..s + t + 1]);
    }
    Ok((
        Tensor::from_vec(x, (starts.len(), t), dev)?,
        Tensor::from_vec(y, starts.len() * t, dev)?,
    ))
}

crate::settings::resumable! {
    /// How to train: the optimiser, the schedule and what to measure.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct TrainOptions / TrainOptionsOverrides {
        /// Optimisation steps.
        pub steps: usize,
        /// Windows per batch.
        pub batch: usize,
        /// Peak learning rate.
        pub lr: f64,
        /// Linear warm-up steps, then cosine decay to a tenth of `lr`.
        pub warmup: usize,
        /// AdamW decay on weight matrices (not on embeddings, positions, biases or gains).
        pub weight_decay: f64,
        /// Global gradient-norm clip (0: none).
        pub clip: f64,
        /// Evaluate every this many steps (0: at the start and the end only).
        pub eval_every: usize,
        /// Validation predictions per evaluation (a prefix of the validation split).
        pub valid_tokens: usize,
        /// The token embedding (and the tied output layer with it) stays fixed for this many steps,
        /// so the rest of the network adapts to pretrained vectors before it may move them.
        pub freeze_steps: usize,
        /// Seed of the data order (the weights have their own, in `Lm::new`).
        pub seed: u64,
        /// Also checkpoint between evaluations once this many seconds have passed (0: only at
        /// evaluations).
        #[serde(default)]
        pub checkpoint_secs: u64,
    }
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            steps: 2000,
            batch: 32,
            lr: 3e-3,
            warmup: 100,
            weight_decay: 0.1,
            clip: 1.0,
            eval_every: 200,
            valid_tokens: 32768,
            freeze_steps: 0,
            seed: 1,
            checkpoint_secs: 300,
        }
    }
}

/// Batches larger than this are refused: the activations of one step would not fit any machine.
pub const MAX_BATCH: usize = 1 << 16;

impl TrainOptions {
    /// Refuses options that cannot train (or that a corrupt state file could hold).
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, m: String| Err(Error::setting(name, m));
        if self.steps == 0 {
            return bad("steps", "must be at least 1".into());
        }
        if self.batch == 0 || self.batch > MAX_BATCH {
            return bad("batch", format!("must lie in 1..={MAX_BATCH}"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", "must be a positive number".into());
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("weight_decay", "must be zero or positive".into());
        }
        if !(self.clip >= 0.0 && self.clip.is_finite()) {
            return bad("clip", "must be zero or positive".into());
        }
        if self.valid_tokens == 0 {
            return bad("valid_tokens", "must be at least 1".into());
        }
        Ok(())
    }
}

/// Where training stood at a checkpoint: enough, with the weights and the optimizer's moments
/// saved beside it, to continue as if never stopped (the data order is replayed from its seed).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Steps taken.
    pub step: usize,
    /// Steps taken by each optimiser group (embedding, decayed matrices, the rest).
    pub optimizer_steps: [usize; 3],
    /// Seconds spent in steps (evaluations excluded), for tokens/s.
    pub train_time: f64,
    /// Every evaluation so far.
    pub metrics: Vec<MetricRecord>,
    /// Training loss summed since the last evaluation.
    pub loss_sum: f64,
    /// Steps in that sum.
    pub loss_n: usize,
}

/// A `Metric` as JSON can hold it (no NaN).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MetricRecord {
    /// Step of the evaluation.
    pub step: usize,
    /// Mean training loss since the previous one (none at step 0).
    pub train_loss: Option<f64>,
    /// Validation cross-entropy (nats per token).
    pub valid_loss: f64,
    /// Training tokens per second of step time.
    pub tokens_per_s: f64,
    /// Wall time since the run began.
    pub seconds: f64,
}

impl From<&Metric> for MetricRecord {
    fn from(m: &Metric) -> Self {
        MetricRecord {
            step: m.step,
            train_loss: m.train_loss.is_finite().then_some(m.train_loss),
            valid_loss: m.valid_loss,
            tokens_per_s: m.tokens_per_s,
            seconds: m.seconds,
        }
    }
}

impl From<&MetricRecord> for Metric {
    fn from(m: &MetricRecord) -> Self {
        Metric {
            step: m.step,
            train_loss: m.train_loss.unwrap_or(f64::NAN),
            valid_loss: m.valid_loss,
            valid_ppl: m.valid_loss.exp(),
            tokens_per_s: m.tokens_per_s,
            seconds: m.seconds,
        }
    }
}

/// A checkpoint to continue from: its state and the optimizer's saved moments.
pub struct Resume {
    /// Where training stood.
    pub state: TrainState,
    /// Every tensor of the checkpoint (weights and moments).
    pub tensors: std::collections::HashMap<String, Tensor>,
}

/// Reads the training state and every tensor of a checkpoint folder.
pub(crate) fn read_resume(dir: &Path, device: &Device) -> Result<Resume> {
    let weights = dir.join(WEIGHTS_FILE);
    let bytes = std::fs::read(&weights).map_err(|e| Error::io(&weights, e))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::bad_file(&weights, format!("not a valid safetensors file: {e}")))?;
    let text = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get(STATE_KEY))
        .ok_or_else(|| Error::bad_file(&weights, "holds no training state to resume from"))?;
    let state: TrainState = serde_json::from_str(text)
        .map_err(|e| Error::bad_file(&weights, format!("corrupt training state: {e}")))?;
    let tensors = candle_core::safetensors::load_buffer(&bytes, device)
        .map_err(|e| Error::bad_file(&weights, e.to_string()))?;
    Ok(Resume { state, tensors })
}

/// One row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Metric {
    /// Steps taken.
    pub step: usize,
    /// Mean training loss since the previous row (NaN at step 0).
    pub train_loss: f64,
    /// Validation cross-entropy (nats per token).
    pub valid_loss: f64,
    /// Its exponential.
    pub valid_ppl: f64,
    /// Training tokens per second of step time.
    pub tokens_per_s: f64,
    /// Wall time since the run began.
    pub seconds: f64,
}

fn lr_at(step: usize, o: &TrainOptions) -> f64 {
    if step < o.warmup {
        return o.lr * (step + 1) as f64 / o.warmup as f64;
    }
    let span = o.steps.saturating_sub(o.warmup).max(1) as f64;
    let p = ((step - o.warmup) as f64 / span).min(1.0);
    o.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
}

/// Where training writes: the checkpoint folder and a line per evaluation for the caller.
pub struct Sink<'a> {
    /// The checkpoint folder; none: nothing is saved.
    pub dir: Option<PathBuf>,
    /// The caller's record, stored in `config.json` with the step and options added.
    pub extra: serde_json::Value,
    /// Called with each evaluation.
    pub on_metric: &'a mut dyn FnMut(&Metric),
    /// Steps done, with the running cross-entropy since the last evaluation as its message.
    pub progress: Option<&'a crate::progress::Progress>,
    /// Once set, training saves a checkpoint at the next step, stops and returns
    /// [`Error::Interrupted`].
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
}

/// Trains `lm` on `data.train`, evaluating on `data.valid` at step 0, every `eval_every` steps and
/// at the end; saves the checkpoint and `metrics.csv` at each evaluation when `sink.dir` is set.
/// With `resume`, continues from that checkpoint's step with its optimizer state and data order.
pub fn train(
    lm: &Lm,
    data: &LmData,
    o: &TrainOptions,
    sink: Sink,
    resume: Option<Resume>,
) -> Result<Vec<Metric>> {
    super::keep_freed_memory();
    let t = lm.model.config().context;
    if data.train.len() < t + 2 {
        return Err(Error::Invalid(format!(
            "training text has {} tokens, fewer than one context of {t}",
            data.train.len()
        )));
    }
    o.validate()?;
    if let Some(r) = &resume {
        check_state(&r.state, o)?;
    }
    let (opts, all) = optimizers(lm, o)?;
    let mut run = Loop {
        lm,
        data,
        o,
        sink,
        opts,
        all,
        data_rng: rng(o.seed ^ 0x5eed_da7a),
        metrics: Vec::new(),
        loss: (0.0, 0),
        train_time: 0.0,
        start: Instant::now(),
        elapsed_before: 0.0,
    };
    let first = match &resume {
        Some(r) => run.restore(r)?,
        None => {
            run.record(0)?;
            run.save(0)?;
            0
        }
    };
    if let Some(p) = run.sink.progress {
        p.inc(first as u64, 0);
    }
    let mut last_save = Instant::now();
    for step in first..o.steps {
        if run
            .sink
            .stop
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
        {
            run.save(step)?;
            return Err(Error::Interrupted {
                dir: run.sink.dir.clone().unwrap_or_default(),
            });
        }
        run.step(step)?;
        let done = step + 1;
        let evaluate = done == o.steps || (o.eval_every > 0 && done % o.eval_every == 0);
        if evaluate {
            run.record(done)?;
        }
        let due = o.checkpoint_secs > 0 && last_save.elapsed().as_secs() >= o.checkpoint_secs;
        if evaluate || due {
            run.save(done)?;
            last_save = Instant::now();
        }
    }
    Ok(run.metrics)
}

/// Refuses a training state that cannot belong to a run of these options.
fn check_state(st: &TrainState, o: &TrainOptions) -> Result<()> {
    if st.step > o.steps || st.optimizer_steps.iter().any(|&n| n > st.step) {
        return Err(Error::Invalid(format!(
            "the training state claims step {} (optimizer steps {:?}) of a {}-step run: corrupt checkpoint",
            st.step, st.optimizer_steps, o.steps
        )));
    }
    Ok(())
}

/// The optimiser groups' names in a checkpoint.
const GROUPS: [&str; 3] = ["opt.embed", "opt.decay", "opt.plain"];

/// One optimiser per group (the token embedding, the decayed weight matrices, the rest), and
/// every variable: weight decay applies to the weight matrices only, and a group that is not
/// stepped is frozen.
fn optimizers(lm: &Lm, o: &TrainOptions) -> Result<([AdamW; 3], Vec<Var>)> {
    let (mut embed, mut decay, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    let named = sorted_vars(&lm.varmap);
    for (name, var) in &named {
        let entry = (name.clone(), var.clone());
        if name == TOKEN_EMBEDDING {
            embed.push(entry);
        } else if var.rank() == 2 && name != "pos.weight" {
            decay.push(entry);
        } else {
            plain.push(entry);
        }
    }
    let opts = [
        AdamW::new(embed, o.lr, 0.0)?,
        AdamW::new(decay, o.lr, o.weight_decay)?,
        AdamW::new(plain, o.lr, 0.0)?,
    ];
    Ok((opts, named.into_iter().map(|(_, v)| v).collect()))
}

/// The training loop's state between steps.
struct Loop<'a, 's> {
    lm: &'a Lm,
    data: &'a LmData,
    o: &'a TrainOptions,
    sink: Sink<'s>,
    opts: [AdamW; 3],
    all: Vec<Var>,
    data_rng: FastRng,
    metrics: Vec<Metric>,
    /// Training loss summed since the last evaluation, and the steps summed.
    loss: (f64, usize),
    train_time: f64,
    start: Instant,
    /// Seconds the run had taken before a resume.
    elapsed_before: f64,
}

impl Loop<'_, '_> {
    /// Takes a checkpoint's optimizer state, data order and metrics; returns its step.
    fn restore(&mut self, r: &Resume) -> Result<usize> {
        for (opt, (group, &steps)) in self
            .opts
            .iter_mut()
            .zip(GROUPS.iter().zip(&r.state.optimizer_steps))
        {
            opt.load_state(group, steps, &r.tensors)?;
        }
        // The same batches as an uninterrupted run: replay the draws of the steps already taken.
        for _ in 0..r.state.step * self.o.batch {
            self.data_rng.next_u64();
        }
        self.metrics = r.state.metrics.iter().map(Metric::from).collect();
        self.loss = (r.state.loss_sum, r.state.loss_n);
        self.train_time = r.state.train_time;
        self.elapsed_before = self.metrics.last().map_or(0.0, |m| m.seconds);
        Ok(r.state.step)
    }

    /// One optimisation step on a batch of random windows.
    fn step(&mut self, step: usize) -> Result<()> {
        let (o, t) = (self.o, self.lm.model.config().context);
        let step_start = Instant::now();
        let max_start = self.data.train.len() - t - 1;
        let starts: Vec<usize> = (0..o.batch)
            .map(|_| (self.data_rng.next_u64() % max_start as u64) as usize)
            .collect();
        let (x, y) = batch_tensors(&self.data.train, &starts, t, &self.lm.device)?;
        let loss = self.lm.model.loss(&x, &y)?;
        let loss_value = loss.to_scalar::<f32>()? as f64;
        if !loss_value.is_finite() {
            return Err(Error::Diverged {
                step,
                loss: loss_value,
            });
        }
        let mut grads = loss.backward()?;
        if o.clip > 0.0 {
            clip_gradients(&mut grads, &self.all, o.clip)?;
        }
        let lr = lr_at(step, o);
        for opt in self.opts.iter_mut() {
            opt.lr = lr;
        }
        let [embed_opt, decay_opt, plain_opt] = &mut self.opts;
        if step >= o.freeze_steps {
            embed_opt.step(&grads)?;
        }
        decay_opt.step(&grads)?;
        plain_opt.step(&grads)?;
        self.train_time += step_start.elapsed().as_secs_f64();
        self.loss = (self.loss.0 + loss_value, self.loss.1 + 1);
        if let Some(p) = self.sink.progress {
            p.inc(1, 0);
            p.set_message(format!("loss {:.4}", self.loss.0 / self.loss.1 as f64));
        }
        Ok(())
    }

    /// Evaluates on the validation split and adds the row to the metrics.
    fn record(&mut self, step: usize) -> Result<()> {
        let (o, t) = (self.o, self.lm.model.config().context);
        let valid_loss = self
            .lm
            .evaluate(&self.data.valid, o.batch, o.valid_tokens)?;
        let (sum, n) = self.loss;
        let m = Metric {
            step,
            train_loss: if n > 0 { sum / n as f64 } else { f64::NAN },
            valid_loss,
            valid_ppl: valid_loss.exp(),
            tokens_per_s: if self.train_time > 0.0 {
                (step * o.batch * t) as f64 / self.train_time
            } else {
                0.0
            },
            seconds: self.elapsed_before + self.start.elapsed().as_secs_f64(),
        };
        self.loss = (0.0, 0);
        (self.sink.on_metric)(&m);
        self.metrics.push(m);
        Ok(())
    }

    /// Writes the checkpoint (weights, moments and state in one file) and `metrics.csv`.
    fn save(&self, step: usize) -> Result<()> {
        let Some(dir) = &self.sink.dir else {
            return Ok(());
        };
        let mut extra = self.sink.extra.clone();
        extra["step"] = step.into();
        extra["options"] = serde_json::to_value(self.o).expect("options serialise");
        let opts = &self.opts;
        let state = TrainState {
            step,
            optimizer_steps: [opts[0].step, opts[1].step, opts[2].step],
            train_time: self.train_time,
            metrics: self.metrics.iter().map(MetricRecord::from).collect(),
            loss_sum: self.loss.0,
            loss_n: self.loss.1,
        };
        let moments = opts
            .iter()
            .zip(GROUPS)
            .flat_map(|(opt, g)| opt.state(g))
            .collect();
        let state = serde_json::to_value(&state).expect("state serialises");
        self.lm.save_checkpoint(dir, extra, moments, state)?;
        write_metrics(&dir.join(METRICS_FILE), &self.metrics)
    }
}

fn clip_gradients(
    grads: &mut candle_core::backprop::GradStore,
    vars: &[Var],
    max: f64,
) -> Result<()> {
    let mut sq = 0f64;
    for v in vars {
        if let Some(g) = grads.get(v.as_tensor()) {
            sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
        }
    }
    let norm = sq.sqrt();
    if norm > max {
        let factor = max / norm;
        for v in vars {
            if let Some(g) = grads.remove(v.as_tensor()) {
                grads.insert(v.as_tensor(), (g * factor)?);
            }
        }
    }
    Ok(())
}

/// `step,train_loss,valid_loss,valid_ppl,tokens_per_s,seconds`, rewritten whole each time.
pub fn write_metrics(path: &Path, metrics: &[Metric]) -> Result<()> {
    atomic::write_file(path, |f| {
        use std::io::Write;
        writeln!(
            f,
            "step,train_loss,valid_loss,valid_ppl,tokens_per_s,seconds"
        )?;
        for m in metrics {
            writeln!(
                f,
                "{},{:.5},{:.5},{:.3},{:.1},{:.1}",
                m.step, m.train_loss, m.valid_loss, m.valid_ppl, m.tokens_per_s, m.seconds
            )?;
        }
        Ok(())
    })
}
