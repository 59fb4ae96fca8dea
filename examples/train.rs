//! The library without the CLI: skip-gram on the synthetic corpus that ships with the crate,
//! stopped after its first checkpoint (as Ctrl-C in a notebook would), resumed, exported as
//! word2vec binary and f16 safetensors, and evaluated on the corpus's planted analogies and
//! graded pairs.
//!
//! `cargo run --release --example train`; `cargo test` runs it too.

use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wembed::eval::{self, Case, Method};
use wembed::run::word2vec::{Word2VecResume, Word2VecRun};
use wembed::run::{self, Input, Silent, Which};
use wembed::vectors::{Dtype, Embeddings, Format, View};
use wembed::word2vec::{Architecture, Word2VecConfig};

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpora");
    let work = tempfile::tempdir()?;
    let model = work.path().join("model");

    // Fresh: a run with checkpoints, and a flag that stops it.
    let config = Word2VecConfig {
        dim: 32,
        epochs: 5,
        threads: 2,
        ..Word2VecConfig::new(Architecture::SkipGram)
    };
    let stop = Arc::new(AtomicBool::new(false));
    let fresh = Word2VecRun {
        checkpoint_every: Some(Duration::from_millis(200)),
        stop: Some(stop.clone()),
        ..Word2VecRun::new(
            config,
            Input::new(vec![root.join("synth-1m.txt.gz")]),
            model.clone(),
        )
    };
    // Stop as soon as a checkpoint exists.
    let ckpt = model.join(run::folder::CHECKPOINT);
    let watcher = std::thread::spawn(move || {
        while !ckpt.exists() {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
    });
    match run::word2vec::fresh(&fresh, &Silent) {
        Err(wembed::Error::Interrupted { dir }) => {
            println!("stopped; checkpoint in {}", dir.display())
        }
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("the run finished before it could be stopped".into()),
    }
    watcher.join().expect("watcher");

    // Resume: the stored settings, nothing given again.
    let resume = Word2VecResume {
        dir: model.clone(),
        architecture: Architecture::SkipGram,
        overrides: Default::default(),
        input: Default::default(),
        checkpoint_every: None,
        stop: None,
    };
    let trained = run::word2vec::resume(&resume, &Silent)?;
    let config = run::folder::read_config(&trained.dir)?;
    println!(
        "trained {} words in {:.1} s (resumed: {}), loss by epoch {:?}",
        trained.stats.words, trained.stats.seconds, config.resumed, trained.stats.epoch_loss
    );

    // Export: word2vec binary and f16 safetensors, from the model folder's word vectors.
    let (vectors, _) = run::folder::load(&trained.dir, Which::Input)?;
    let view = View::new(&vectors, None, None, false)?;
    let bin = work.path().join("vectors.bin");
    let st = work.path().join("vectors.safetensors");
    run::export(&view, Format::Word2VecBin, Dtype::F32, &bin)?;
    run::export(&view, Format::Safetensors, Dtype::F16, &st)?;

    // Evaluate what was exported, as another program would load it.
    let loaded = Embeddings::load(&bin)?;
    let analogies = eval::analogy(
        &loaded,
        &root.join("synth-questions.txt"),
        Some(eval::RESTRICT),
        Method::CosAdd,
        Case::Fold,
    )?;
    let pairs = eval::similarity(&loaded, &root.join("synth-similarity.tsv"), Case::Fold)?;
    let half = Embeddings::load(&st)?;
    println!(
        "analogy {:.1}%, similarity spearman {:.3}; {} words x {} in {} and {}",
        100.0 * analogies.total.accuracy(),
        pairs.spearman,
        half.len(),
        half.dim(),
        bin.display(),
        st.display()
    );
    // The planted relations are easy: vectors that miss them are broken, not merely weak.
    if analogies.total.accuracy() < 0.3 || pairs.spearman < 0.5 {
        return Err("the vectors miss the planted relations".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_trains_stops_resumes_exports_and_evaluates() {
        super::main().unwrap();
    }
}
