//! Pretrained initialisation of the token embedding from any vectors the readers load.
//!
//! Rows are matched by exact word; unmatched words keep their random rows. The default rescale
//! exists because raw word2vec/GloVe entries are an order of magnitude larger than a Transformer's
//! initialiser (std 0.02), and with a tied output layer that makes the first logits enormous;
//! Kim, Balasubramanian and Kang (2024) found raw vectors train worse than random and standardised
//! ones better.

use crate::vectors::Embeddings;
use crate::vocab::Vocab;
use crate::{Error, Result};

/// How pretrained vectors are scaled into the token embedding.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum InitScale {
    /// Centre each dimension over the matched rows, divide by the overall standard deviation,
    /// multiply by the random initialiser's: the geometry (cosines up to the common shift) stays,
    /// the scale becomes the one the rest of the network was initialised for.
    Std,
    /// The vectors' own values.
    None,
    /// Centre each dimension, then scale each row to length 1: the geometry as `Std` keeps it,
    /// at a scale (entries about 1/sqrt(dim), 4.4x the initialiser's at dim 128) that AdamW's
    /// steps of about lr per entry take longer to wash out, without raw vectors' enormous first
    /// logits. Rows lose their norms, which in word2vec/GloVe vectors mostly track frequency.
    /// The default: it had the lowest validation perplexity of random, raw, std and unit on every
    /// seed of the transfer experiment, at 100k and 1M training tokens (BENCHMARKS.md, issue 19).
    #[default]
    Unit,
}

impl std::str::FromStr for InitScale {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "std" => Ok(InitScale::Std),
            "none" => Ok(InitScale::None),
            "unit" => Ok(InitScale::Unit),
            _ => Err(Error::setting(
                "init_scale",
                format!("{s}: expected std, none or unit"),
            )),
        }
    }
}

/// What a pretrained initialisation did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InitReport {
    /// Vocabulary words that had a vector.
    pub matched: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Dimension of the vectors.
    pub vector_dim: usize,
    /// Standard deviation of the matched rows' entries before and after the rescale.
    pub std_before: f64,
    /// Their std after (the rescale's target under `std`).
    pub std_after: f64,
}

/// Vectors must have the token embedding's width (which `--project` sets to theirs).
pub fn check_dim(vector_dim: usize, width: usize) -> Result<()> {
    if vector_dim != width {
        return Err(Error::setting(
            "project",
            format!(
                "is needed: the vectors have dimension {vector_dim} but the model's token embedding has {width} \
                 (learn a linear map, or make the model {vector_dim} wide)"
            ),
        ));
    }
    Ok(())
}

/// Replaces the rows of `table` ([vocab × width], row-major, holding the random initialisation)
/// whose word has a vector. `target_std` is the random initialiser's standard deviation.
pub fn apply(
    table: &mut [f32],
    width: usize,
    vocab: &Vocab,
    vectors: &Embeddings,
    scale: InitScale,
    target_std: f64,
) -> Result<InitReport> {
    check_dim(vectors.dim(), width)?;
    let index: hashbrown::HashMap<&str, usize> = vectors
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i))
        .collect();
    let pairs: Vec<(usize, usize)> = vocab
        .words()
        .iter()
        .enumerate()
        .filter_map(|(row, w)| index.get(w.as_str()).map(|&src| (row, src)))
        .collect();
    let stats = Centring::of(vectors, &pairs, width);
    let factor = if stats.centred_std > 0.0 {
        target_std / stats.centred_std
    } else {
        0.0
    };
    let mut sq_after = 0f64;
    for &(row, src) in &pairs {
        let dst = &mut table[row * width..(row + 1) * width];
        let centred = vectors
            .row(src)
            .iter()
            .zip(&stats.mean)
            .map(|(&x, &m)| x as f64 - m);
        let row_factor = match scale {
            InitScale::Unit => {
                let norm = centred.clone().map(|d| d * d).sum::<f64>().sqrt();
                if norm > 0.0 {
                    1.0 / norm
                } else {
                    0.0
                }
            }
            _ => factor,
        };
        for ((d, &x), c) in dst.iter_mut().zip(vectors.row(src)).zip(centred) {
            *d = match scale {
                InitScale::Std | InitScale::Unit => (c * row_factor) as f32,
                InitScale::None => x,
            };
            sq_after += (*d as f64).powi(2);
        }
    }
    let std_before = stats.std_before;
    let std_after = match scale {
        InitScale::Std if stats.centred_std > 0.0 => target_std,
        InitScale::Std => 0.0,
        InitScale::None => std_before,
        InitScale::Unit => (sq_after / ((pairs.len() * width).max(1) as f64)).sqrt(),
    };
    Ok(InitReport {
        matched: pairs.len(),
        vocab: vocab.len(),
        vector_dim: vectors.dim(),
        std_before,
        std_after,
    })
}

/// The matched rows' per-dimension mean and spreads, in f64.
struct Centring {
    mean: Vec<f64>,
    /// Std of all entries around their common mean (what the rows look like as they are).
    std_before: f64,
    /// Std of all entries around their dimension's mean (what centring leaves).
    centred_std: f64,
}

impl Centring {
    fn of(vectors: &Embeddings, pairs: &[(usize, usize)], width: usize) -> Centring {
        let mut mean = vec![0f64; width];
        for &(_, src) in pairs {
            for (m, &x) in mean.iter_mut().zip(vectors.row(src)) {
                *m += x as f64;
            }
        }
        let n = pairs.len().max(1) as f64;
        mean.iter_mut().for_each(|m| *m /= n);
        let (mut sq_raw, mut sq_centred) = (0f64, 0f64);
        let raw_mean = mean.iter().sum::<f64>() / width as f64;
        for &(_, src) in pairs {
            for (&x, &m) in vectors.row(src).iter().zip(&mean) {
                sq_raw += (x as f64 - raw_mean).powi(2);
                sq_centred += (x as f64 - m).powi(2);
            }
        }
        let count = (pairs.len() * width).max(1) as f64;
        Centring {
            mean,
            std_before: (sq_raw / count).sqrt(),
            centred_std: (sq_centred / count).sqrt(),
        }
    }
}
