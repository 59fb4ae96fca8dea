//! wembed's Python binding, `wembed._native`: every call goes to the `wembed` library; this
//! file only converts arguments and results, releases the GIL while the library works, and turns
//! the library's errors (and any panic) into the exceptions of `wembed.errors`.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use wembed::eval::{self, Case, Method};
use wembed::progress::Progress;
use wembed::run::query::Queries;
use wembed::run::{self, named, Observer, Stage};
use wembed::vectors::Format;

/// An error as the name of its class in `wembed.errors` and its one-line message.
#[derive(Clone, Debug)]
struct Failure(&'static str, String);

impl Failure {
    fn new(e: wembed::Error) -> Failure {
        use wembed::Error as E;
        let class = match &e {
            E::NotFound(_) | E::CorpusGone { .. } => "NotFound",
            E::Io { .. } => "FileError",
            E::EmptyFolder(_) | E::Binary(_) | E::Gzip { .. } | E::Format { .. } => "BadFile",
            E::BadFile { .. } => "BadFile",
            E::Invalid(_) | E::Setting { .. } | E::Conflict { .. } | E::StdinTwice => {
                "InvalidArgument"
            }
            E::EmptyCorpus(_) | E::EmptyVocab { .. } => "InvalidArgument",
            E::FolderInUse { .. } => "FolderInUse",
            E::Interrupted { .. } => "Interrupted",
            E::UnknownWord { .. } => "UnknownWord",
            _ => "Error",
        };
        Failure(class, e.to_string())
    }

    fn panic(payload: Box<dyn std::any::Any + Send>) -> Failure {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Failure(
            "Error",
            format!("internal error (please report it): {what}"),
        )
    }

    fn to_py(&self, py: Python<'_>) -> PyErr {
        let class = py
            .import("wembed.errors")
            .and_then(|m| m.getattr(self.0))
            .and_then(|c| Ok(c.downcast_into::<PyType>()?));
        match class {
            Ok(c) => PyErr::from_type(c, self.1.clone()),
            Err(e) => e,
        }
    }
}

/// Runs library work with the GIL released; its error, or a panic, as a Python exception.
fn call<T: Send>(py: Python<'_>, f: impl FnOnce() -> wembed::Result<T> + Send) -> PyResult<T> {
    let r = py.detach(|| match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::new(e)),
        Err(p) => Err(Failure::panic(p)),
    });
    r.map_err(|f| f.to_py(py))
}

/// What a run reports, kept for the Python side to poll: the current stage's counts and the
/// notes since the last poll.
#[derive(Default)]
struct Watch {
    stage: Mutex<Option<(String, Progress)>>,
    notes: Arc<Mutex<Vec<String>>>,
}

impl Observer for Watch {
    fn stage(&self, stage: Stage) -> Progress {
        let (label, total) = match stage {
            Stage::Bytes { label, total, .. } => (label, total),
            Stage::Words { label, total, .. } => (label, Some(total)),
            Stage::Records { label, total } => (label, Some(total)),
            Stage::Steps { label, total } => (label, Some(total)),
        };
        let notes = self.notes.clone();
        let p = Progress::watched(total, Arc::new(move |m: &str| lock(&notes).push(m.into())));
        *lock(&self.stage) = Some((label.to_string(), p.clone()));
        p
    }
    fn note(&self, msg: &str) {
        lock(&self.notes).push(msg.to_string());
    }
    fn warning(&self, msg: &str) {
        lock(&self.notes).push(format!("warning: {msg}"));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type Outcome = Result<String, Failure>;

/// A training run on its own thread: poll it, wait for it, stop it.
#[pyclass(module = "wembed._native")]
struct Job {
    stop: Arc<AtomicBool>,
    watch: Arc<Watch>,
    done: Arc<(Mutex<Option<Outcome>>, Condvar)>,
}

impl Job {
    fn start(
        stop: Arc<AtomicBool>,
        work: impl FnOnce(&dyn Observer) -> wembed::Result<Value> + Send + 'static,
    ) -> Job {
        let watch = Arc::new(Watch::default());
        let done = Arc::new((Mutex::new(None), Condvar::new()));
        let (w, d) = (watch.clone(), done.clone());
        std::thread::spawn(move || {
            let outcome = match catch_unwind(AssertUnwindSafe(|| work(&*w))) {
                Ok(Ok(stats)) => Ok(stats.to_string()),
                Ok(Err(e)) => Err(Failure::new(e)),
                Err(p) => Err(Failure::panic(p)),
            };
            *lock(&d.0) = Some(outcome);
            d.1.notify_all();
        });
        Job { stop, watch, done }
    }
}

#[pymethods]
impl Job {
    /// Waits up to `timeout` seconds (the GIL released); whether the run has ended.
    fn wait(&self, py: Python<'_>, timeout: f64) -> bool {
        let done = self.done.clone();
        let t = Duration::from_secs_f64(timeout.clamp(0.0, 3600.0));
        py.detach(move || {
            let (m, cv) = &*done;
            let g = cv.wait_timeout_while(lock(m), t, |o| o.is_none());
            g.unwrap_or_else(|e| e.into_inner()).0.is_some()
        })
    }

    /// The current stage: (label, position, total or None, items, seconds, message).
    fn progress(&self) -> Option<(String, u64, Option<u64>, u64, f64, String)> {
        let stage = lock(&self.watch.stage);
        let (label, p) = stage.as_ref()?;
        let s = p.state();
        Some((
            label.clone(),
            s.position,
            s.total,
            s.items,
            s.seconds,
            s.message,
        ))
    }

    /// The notes since the last call.
    fn notes(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.watch.notes))
    }

    /// Asks the run to take a last checkpoint and stop.
    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The run's stats as JSON once it has ended; its error as an exception.
    fn result(&self, py: Python<'_>) -> PyResult<String> {
        while !self.wait(py, 3600.0) {}
        let outcome = lock(&self.done.0).clone();
        match outcome {
            Some(Ok(stats)) => Ok(stats),
            Some(Err(f)) => Err(f.to_py(py)),
            None => unreachable!("the wait returns once the outcome is set"),
        }
    }
}

fn settings(json: &str) -> wembed::Result<Map<String, Value>> {
    match serde_json::from_str(json) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(wembed::Error::Invalid(
            "settings must be a JSON object".into(),
        )),
    }
}

/// Starts a fresh run of `model` (skipgram, cbow, glove) on `corpus` into `output`; `settings`
/// is a JSON object of config fields (see `wembed::run::named`).
#[pyfunction]
fn train(
    py: Python<'_>,
    model: String,
    corpus: Vec<PathBuf>,
    output: PathBuf,
    settings_json: String,
) -> PyResult<Job> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let run = call(py, move || {
        named::fresh_run(&model, (corpus, output), &settings(&settings_json)?, s)
    })?;
    Ok(Job::start(stop, move |obs| named::train_fresh(&run, obs)))
}

/// Continues the interrupted run in `output`; `corpus` names the corpus where it moved.
#[pyfunction]
fn resume(output: PathBuf, corpus: Vec<PathBuf>) -> Job {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    Job::start(stop, move |obs| named::resume(output, corpus, s, obs))
}

/// Vectors for queries: a model folder, a fastText `.bin` or any vectors file.
#[pyclass(module = "wembed._native")]
struct Vectors {
    q: Queries,
    path: PathBuf,
}

fn case(insensitive: bool) -> Case {
    match insensitive {
        true => Case::Fold,
        false => Case::Exact,
    }
}

#[pymethods]
impl Vectors {
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Vectors> {
        let p = path.clone();
        let q = call(py, move || Queries::open(&p, &run::Quiet))?;
        Ok(Vectors { q, path })
    }

    fn words(&self) -> Vec<String> {
        self.q.emb.words.clone()
    }

    fn counts(&self) -> Option<Vec<u64>> {
        self.q.emb.counts.clone()
    }

    fn dim(&self) -> usize {
        self.q.emb.dim()
    }

    fn has_subwords(&self) -> bool {
        self.q.subwords().is_some()
    }

    /// The float32 `.npy` file the rows are mapped from, if they are: numpy maps it too.
    fn mapped_file(&self) -> Option<PathBuf> {
        self.q.emb.matrix.mapped_file().map(|p| p.to_path_buf())
    }

    /// Every row, float32 little-endian, row-major.
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let data = self.q.emb.matrix.data();
        PyBytes::new(py, bytes_of(&data[..self.q.emb.len() * self.q.emb.dim()]))
    }

    /// A word's vector (built from its n-grams when unknown), float32 bytes, and whether the
    /// vocabulary holds it.
    fn vector<'py>(&self, py: Python<'py>, word: &str) -> PyResult<(Bound<'py, PyBytes>, bool)> {
        use wembed::vectors::lookup::Found;
        let mut v = vec![0f32; self.q.emb.dim()];
        let found = match self.q.subwords() {
            Some(l) => l.vector(word, &mut v),
            // Word-only rows: the Python side looks known words up itself, so this scan is rare.
            None => match self.q.emb.words.iter().position(|w| w == word) {
                Some(i) => {
                    v.copy_from_slice(self.q.emb.row(i));
                    Found::Known
                }
                None => Found::Unknown,
            },
        };
        match found {
            Found::Known | Found::Subwords => {
                Ok((PyBytes::new(py, bytes_of(&v)), found == Found::Known))
            }
            Found::Unknown => Err(Failure::new(wembed::Error::UnknownWord {
                word: word.to_string(),
                path: self.path.clone(),
                subwords: self.has_subwords(),
            })
            .to_py(py)),
        }
    }

    #[pyo3(signature = (positive, negative, topn, restrict=None))]
    fn most_similar(
        &self,
        py: Python<'_>,
        positive: Vec<String>,
        negative: Vec<String>,
        topn: usize,
        restrict: Option<usize>,
    ) -> PyResult<Vec<(String, f32)>> {
        call(py, || {
            let uv = eval::UnitVectors::new(&self.q.emb, restrict, Case::Exact);
            self.q.most_similar(&uv, (&positive, &negative), topn)
        })
    }

    fn similarity(&self, py: Python<'_>, a: String, b: String) -> PyResult<f32> {
        call(py, || {
            let uv = eval::UnitVectors::new(&self.q.emb, None, Case::Exact);
            self.q.similarity(&uv, &a, &b)
        })
    }

    /// An analogy file's report as JSON (`wembed eval`'s).
    fn evaluate_analogies(
        &self,
        py: Python<'_>,
        path: PathBuf,
        restrict: usize,
        case_insensitive: bool,
    ) -> PyResult<String> {
        call(py, || {
            let c = case(case_insensitive);
            let r = eval::analogy(&self.q.emb, &path, Some(restrict), Method::CosAdd, c)?;
            Ok(serde_json::to_string(&r).unwrap_or_default())
        })
    }

    /// A word-pair file's report as JSON (`wembed eval`'s).
    fn evaluate_pairs(
        &self,
        py: Python<'_>,
        path: PathBuf,
        case_insensitive: bool,
    ) -> PyResult<String> {
        call(py, || {
            let r = eval::similarity(&self.q.emb, &path, case(case_insensitive))?;
            Ok(serde_json::to_string(&r).unwrap_or_default())
        })
    }

    /// Writes the vectors in `format` (`wembed export`'s names); a model folder's fastText
    /// `.bin` keeps its n-grams.
    fn save(&self, py: Python<'_>, path: PathBuf, format: String) -> PyResult<()> {
        call(py, || {
            let f: Format = format.parse()?;
            if f == Format::FastTextBin && run::folder::is_model_folder(&self.path) {
                return run::export_fasttext(&self.path, &path);
            }
            run::export(&self.q.emb, f, wembed::vectors::Dtype::F32, &path)
        })
    }
}

/// Rows as the bytes numpy reads as little-endian float32 (`<f4`).
fn bytes_of(v: &[f32]) -> &[u8] {
    bytemuck::cast_slice(v)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(resume, m)?)?;
    m.add_class::<Job>()?;
    m.add_class::<Vectors>()?;
    Ok(())
}
