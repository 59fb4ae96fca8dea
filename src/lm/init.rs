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
    /// The default until the transfer experiment (issue 19) has chosen one by measurement.
    #[default]
    Std,
    /// The vectors' own values.
    None,
}

impl std::str::FromStr for InitScale {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "std" => Ok(InitScale::Std),
            "none" => Ok(InitScale::None),
            _ => Err(Error::setting(
                "init_scale",
                format!("{s}: expected std or none"),
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
    let mut mean = vec![0f64; width];
    for &(_, src) in &pairs {
        for (m, &x) in mean.iter_mut().zip(vectors.row(src)) {
            *m += x as f64;
        }
    }
    let n = pairs.len().max(1) as f64;
    mean.iter_mut().for_each(|m| *m /= n);
    let (mut sq_raw, mut sq_centred) = (0f64, 0f64);
    let raw_mean = mean.iter().sum::<f64>() / width as f64;
    for &(_, src) in &pairs {
        for (&x, &m) in vectors.row(src).iter().zip(&mean) {
            sq_raw += (x as f64 - raw_mean).powi(2);
            sq_centred += (x as f64 - m).powi(2);
        }
    }
    let count = (pairs.len() * width).max(1) as f64;
    let std_before = (sq_raw / count).sqrt();
    let centred_std = (sq_centred / count).sqrt();
    let factor = if centred_std > 0.0 {
        target_std / centred_std
    } else {
        0.0
    };
    for &(row, src) in &pairs {
        let dst = &mut table[row * width..(row + 1) * width];
        for ((d, &x), &m) in dst.iter_mut().zip(vectors.row(src)).zip(&mean) {
            *d = match scale {
                InitScale::Std => ((x as f64 - m) * factor) as f32,
                InitScale::None => x,
            };
        }
    }
    let std_after = match scale {
        InitScale::Std if centred_std > 0.0 => target_std,
        InitScale::Std => 0.0,
        InitScale::None => std_before,
    };
    Ok(InitReport {
        matched: pairs.len(),
        vocab: vocab.len(),
        vector_dim: vectors.dim(),
        std_before,
        std_after,
    })
}
