//! Runs described by named settings, as a client outside Rust gives them (the Python package's
//! keyword arguments): every name is a field of the trainer's config, of
//! [`CorpusOptions`](crate::corpus::CorpusOptions) or of [`VocabOptions`](crate::vocab::VocabOptions),
//! so the config structs stay the one source of every default and every name.

use super::glove::{Checkpoints, GloveResume, GloveRun};
use super::word2vec::{Word2VecResume, Word2VecRun, CHECKPOINT_SECS};
use super::{Input, InputOverrides, Observer};
use crate::error::{Error, Result};
use crate::glove::GloveConfig;
use crate::word2vec::{Architecture, Word2VecConfig};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// A fresh run of one of the trainers.
#[derive(Clone, Debug)]
pub enum FreshRun {
    /// Skip-gram or CBOW.
    Word2Vec(Word2VecRun),
    /// GloVe.
    Glove(GloveRun),
}

/// Names that are not fields of a config: how the run is kept rather than what it trains.
const RUN_NAMES: [&str; 4] = ["force", "checkpoint_secs", "vocab_file", "subwords"];

/// `trainer` (`skipgram`, `cbow`, `glove`) on `corpus` into `output`, with `settings` laid over
/// the defaults. `subwords: true` starts from fastText's defaults
/// ([`Word2VecConfig::fasttext`]), an object sets its n-gram fields; `threads: 0` is every
/// core; `checkpoint_secs: 0` turns checkpoints off.
pub fn fresh_run(
    trainer: &str,
    (corpus, output): (Vec<PathBuf>, PathBuf),
    settings: &Map<String, Value>,
    stop: Arc<AtomicBool>,
) -> Result<FreshRun> {
    let mut input = Input::new(corpus);
    let mut rest = settings.clone();
    input.corpus_options = take_fields(input.corpus_options, &mut rest)?;
    input.vocab_options = take_fields(input.vocab_options, &mut rest)?;
    if let Some(v) = rest.remove("vocab_file") {
        input.vocab_file = Some(from_value("vocab_file", v)?);
    }
    let force = match rest.remove("force") {
        Some(v) => from_value("force", v)?,
        None => false,
    };
    let every = checkpoint_every(rest.remove("checkpoint_secs"))?;
    match trainer {
        "skipgram" | "cbow" => {
            let arch = match trainer {
                "cbow" => Architecture::Cbow,
                _ => Architecture::SkipGram,
            };
            let config = word2vec_config(arch, rest)?;
            let mut run = Word2VecRun::new(config, input, output);
            (run.force, run.checkpoint_every, run.stop) = (force, every, Some(stop));
            Ok(FreshRun::Word2Vec(run))
        }
        "glove" => {
            let mut config: GloveConfig = all_fields(GloveConfig::default(), rest)?;
            config.threads = threads(config.threads);
            let mut run = GloveRun::new(config, input, output);
            run.checkpoints = every.map_or(Checkpoints::Off, Checkpoints::Every);
            (run.force, run.stop) = (force, Some(stop));
            Ok(FreshRun::Glove(run))
        }
        other => Err(Error::Invalid(format!(
            "unknown model {other:?}: skipgram, cbow or glove"
        ))),
    }
}

/// The word2vec config: wembed's defaults, or fastText's with `subwords`.
fn word2vec_config(arch: Architecture, mut rest: Map<String, Value>) -> Result<Word2VecConfig> {
    let mut base = Word2VecConfig::new(arch);
    match rest.remove("subwords") {
        None | Some(Value::Bool(false)) | Some(Value::Null) => {}
        Some(Value::Bool(true)) => base = Word2VecConfig::fasttext(arch),
        Some(Value::Object(fields)) => {
            base = Word2VecConfig::fasttext(arch);
            let s = base.subwords.unwrap_or_default();
            base.subwords = Some(all_fields(s, fields)?);
        }
        Some(v) => {
            return Err(Error::setting(
                "subwords",
                format!("is true, false or an object of minn, maxn, bucket, not {v}"),
            ))
        }
    }
    let mut config: Word2VecConfig = all_fields(base, rest)?;
    config.architecture = arch;
    config.threads = threads(config.threads);
    config.validate()?;
    Ok(config)
}

fn threads(n: usize) -> usize {
    match n {
        0 => crate::default_threads(),
        n => n,
    }
}

fn checkpoint_every(v: Option<Value>) -> Result<Option<Duration>> {
    let secs: f64 = match v {
        Some(v) => from_value("checkpoint_secs", v)?,
        None => CHECKPOINT_SECS as f64,
    };
    match secs {
        0.0 => Ok(None),
        s if s > 0.0 && s < 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        s => Err(Error::setting(
            "checkpoint_secs",
            format!("is seconds (0: none), not {s}"),
        )),
    }
}

/// `base` with the settings that name its fields taken out of `rest` and laid over it.
fn take_fields<T: Serialize + DeserializeOwned>(
    base: T,
    rest: &mut Map<String, Value>,
) -> Result<T> {
    let names = field_names(&base)?;
    let mine: Map<String, Value> = names
        .iter()
        .filter_map(|n| rest.remove(n).map(|v| (n.clone(), v)))
        .collect();
    all_fields(base, mine)
}

/// `base` with every setting of `given` laid over it; a name that is not a field is refused.
fn all_fields<T: Serialize + DeserializeOwned>(base: T, given: Map<String, Value>) -> Result<T> {
    let mut fields = match serde_json::to_value(&base) {
        Ok(Value::Object(m)) => m,
        _ => return Err(Error::Invalid("settings are not an object".into())),
    };
    for (name, v) in given {
        if !fields.contains_key(&name) || RUN_NAMES.contains(&name.as_str()) {
            return Err(Error::Invalid(format!("unknown setting {name:?}")));
        }
        fields.insert(name, v);
    }
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| Error::Invalid(format!("settings: {e}")))
}

fn field_names<T: Serialize>(base: &T) -> Result<Vec<String>> {
    match serde_json::to_value(base) {
        Ok(Value::Object(m)) => Ok(m.keys().cloned().collect()),
        _ => Err(Error::Invalid("settings are not an object".into())),
    }
}

fn from_value<T: DeserializeOwned>(name: &'static str, v: Value) -> Result<T> {
    serde_json::from_value(v.clone()).map_err(|_| Error::setting(name, format!("cannot be {v}")))
}

/// Trains a fresh run; returns the stats `config.json` records for it.
pub fn train_fresh(run: &FreshRun, observer: &dyn Observer) -> Result<Value> {
    let stats = match run {
        FreshRun::Word2Vec(r) => serde_json::to_value(super::word2vec::fresh(r, observer)?.stats),
        FreshRun::Glove(r) => serde_json::to_value(super::glove::fresh(r, observer)?.stats),
    };
    stats.map_err(|e| Error::Invalid(format!("stats: {e}")))
}

/// Continues the interrupted run in `dir`, whichever trainer it is; `corpus_now` names the
/// corpus where it moved (empty: where the checkpoint says).
pub fn resume(
    dir: PathBuf,
    corpus_now: Vec<PathBuf>,
    stop: Arc<AtomicBool>,
    observer: &dyn Observer,
) -> Result<Value> {
    let state: Value = crate::checkpoint::read(&dir)?;
    let input = InputOverrides {
        corpus_now,
        ..InputOverrides::default()
    };
    let every = Duration::from_secs(CHECKPOINT_SECS);
    let arch = state["config"]["architecture"].clone();
    let stats = if arch.is_null() {
        let r = GloveResume {
            dir,
            overrides: Default::default(),
            input,
            checkpoints: Checkpoints::Every(every),
            vectors_bin: super::glove::VECTORS_BIN,
            stop: Some(stop),
        };
        serde_json::to_value(super::glove::resume(&r, observer)?.stats)
    } else {
        let r = Word2VecResume {
            dir,
            architecture: from_value("architecture", arch)?,
            overrides: Default::default(),
            input,
            checkpoint_every: Some(every),
            stop: Some(stop),
        };
        serde_json::to_value(super::word2vec::resume(&r, observer)?.stats)
    };
    stats.map_err(|e| Error::Invalid(format!("stats: {e}")))
}
