//! Intrinsic evaluation the standard way: analogies (3CosAdd / 3CosMul over the most frequent
//! words, as word2vec's compute-accuracy and gensim's `evaluate_word_analogies`) and word-pair
//! similarity (Spearman's rho, as gensim's `evaluate_word_pairs`).
//!
//! Both fold case by default like those tools (`Case::Fold`): words are lowercased and, where
//! several rows fold to the same word, the most frequent (first) row stands for it. Queries
//! (`neighbors`, `analogy`) match exactly, as gensim's `most_similar` does (`Case::Exact`).

use crate::error::{Error, Result};
use crate::kernels;
use crate::vectors::Embeddings;
use hashbrown::HashMap;
use rayon::prelude::*;
use std::path::Path;

/// Analogies are answered among this many most frequent words by default, as gensim's
/// `evaluate_word_analogies` and word2vec's `compute-accuracy` do.
pub const RESTRICT: usize = 30_000;

/// How an analogy's answer is chosen (Levy and Goldberg 2014).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// argmax cos(x,b) − cos(x,a) + cos(x,c) (Mikolov et al. 2013).
    #[value(name = "3cosadd", alias = "cosadd")]
    CosAdd,
    /// argmax cos'(x,b)·cos'(x,c) / (cos'(x,a) + ε), cos' = (cos+1)/2 (Levy and Goldberg 2014).
    #[value(name = "3cosmul", alias = "cosmul")]
    CosMul,
}

/// How words are matched against the vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    /// `Apple` is only `Apple`.
    Exact,
    /// `Apple` finds the most frequent row whose lowercase form is `apple`.
    Fold,
}

impl Case {
    fn key(self, w: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Case::Exact => std::borrow::Cow::Borrowed(w),
            Case::Fold => std::borrow::Cow::Owned(w.to_lowercase()),
        }
    }
}

/// Unit-length rows of the most frequent `restrict` words, and an index over them (exact or
/// case-folded).
pub struct UnitVectors<'a> {
    emb: &'a Embeddings,
    unit: Vec<f32>,
    n: usize,
    dim: usize,
    /// Word (lowercased when folding) → its first (most frequent) row.
    index: HashMap<String, usize>,
    /// Row → the row that stands for its word (its own row unless folding merged it).
    canon: Vec<usize>,
    case: Case,
}

impl<'a> UnitVectors<'a> {
    /// Unit rows of `emb` (only the `restrict` most frequent, if given), looked up by `case`.
    pub fn new(emb: &'a Embeddings, restrict: Option<usize>, case: Case) -> Self {
        let n = restrict.map_or(emb.len(), |r| r.min(emb.len()));
        let dim = emb.dim();
        let mut unit = emb.matrix.data()[..n * dim].to_vec();
        unit.par_chunks_mut(dim.max(1)).for_each(kernels::normalize);
        let mut index = HashMap::with_capacity(n);
        let mut canon = Vec::with_capacity(n);
        for (i, w) in emb.words[..n].iter().enumerate() {
            let c = *index.entry(case.key(w).into_owned()).or_insert(i);
            canon.push(c);
        }
        UnitVectors {
            emb,
            unit,
            n,
            dim,
            index,
            canon,
            case,
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The row of `word`, matched as the `Case` says.
    pub fn id(&self, word: &str) -> Option<usize> {
        self.index.get(self.case.key(word).as_ref()).copied()
    }

    /// The word of a row.
    pub fn word(&self, row: usize) -> &str {
        &self.emb.words[row]
    }

    /// Row `i`, of unit length.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.unit[i * self.dim..(i + 1) * self.dim]
    }

    /// The `k` rows nearest to a query vector (cosine), skipping `exclude` (canonical rows).
    pub fn nearest(&self, query: &[f32], k: usize, exclude: &[usize]) -> Vec<(usize, f32)> {
        let mut q = query.to_vec();
        kernels::normalize(&mut q);
        let sims = self.cosines_seq(&q);
        let mut order: Vec<(usize, f32)> = sims
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !exclude.contains(&self.canon[*i]))
            .collect();
        let k = k.min(order.len());
        if k == 0 {
            return Vec::new();
        }
        order.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        order.truncate(k);
        order.sort_by(|a, b| b.1.total_cmp(&a.1));
        order
    }
}

/// Answers of one section of questions.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Score {
    /// Questions answered correctly.
    pub correct: u64,
    /// Questions answered (all four words known).
    pub answered: u64,
    /// Questions in the file.
    pub questions: u64,
}

impl Score {
    /// Correct among answered (0 when none was answered).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / (self.answered.max(1)) as f64
    }
    /// Answered among all questions.
    pub fn coverage(&self) -> f64 {
        self.answered as f64 / (self.questions.max(1)) as f64
    }
    fn add(&mut self, o: &Score) {
        self.correct += o.correct;
        self.answered += o.answered;
        self.questions += o.questions;
    }
}

/// An analogy evaluation, by section and in sum.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AnalogyReport {
    /// Each `: section` of the file, in file order.
    pub sections: Vec<(String, Score)>,
    /// The sections not marked `gram`.
    pub semantic: Score,
    /// The `gram` sections.
    pub syntactic: Score,
    /// All sections.
    pub total: Score,
    /// Candidate answers were the this-many most frequent words.
    pub restrict: usize,
    /// How answers were chosen.
    pub method: Method,
}

/// Answers every question of a `questions-words.txt` file.
pub fn analogy(
    emb: &Embeddings,
    questions: &Path,
    restrict: Option<usize>,
    method: Method,
    case: Case,
) -> Result<AnalogyReport> {
    let text = std::fs::read(questions).map_err(|e| Error::io(questions, e))?;
    let text = String::from_utf8(text).map_err(|e| {
        Error::bad_file(
            questions,
            format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        )
    })?;
    let uv = UnitVectors::new(emb, restrict, case);
    let (mut sections, known) = read_questions(&text, questions, &uv)?;
    let correct: Vec<bool> = known
        .par_chunks(256)
        .flat_map_iter(|chunk| match method {
            Method::CosAdd => uv.answer_cosadd(chunk),
            Method::CosMul => uv.answer_cosmul(chunk),
        })
        .collect();
    for ((s, _), ok) in known.iter().zip(correct) {
        sections[*s].1.answered += 1;
        sections[*s].1.correct += ok as u64;
    }
    let (mut semantic, mut syntactic, mut total) =
        (Score::default(), Score::default(), Score::default());
    for (name, sc) in &sections {
        if name.starts_with("gram") {
            syntactic.add(sc);
        } else {
            semantic.add(sc);
        }
        total.add(sc);
    }
    Ok(AnalogyReport {
        sections,
        semantic,
        syntactic,
        total,
        restrict: uv.n,
        method,
    })
}

/// A question: its section and the canonical rows of its four words.
type Question = (usize, [usize; 4]);
/// A section's name and score.
type Section = (String, Score);

/// The sections of a questions-words file (with their question counts) and the questions whose
/// four words are all known.
fn read_questions(
    text: &str,
    path: &Path,
    uv: &UnitVectors,
) -> Result<(Vec<Section>, Vec<Question>)> {
    let mut sections: Vec<Section> = Vec::new();
    let mut known: Vec<Question> = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix(':') {
            sections.push((name.trim().to_string(), Score::default()));
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() != 4 {
            return Err(Error::Format {
                path: path.to_path_buf(),
                line: no as u64 + 1,
                msg: format!("expected 4 words, found {}", words.len()),
            });
        }
        if sections.is_empty() {
            sections.push(("(no section)".into(), Score::default()));
        }
        let s = sections.len() - 1;
        sections[s].1.questions += 1;
        let ids: Vec<usize> = words.iter().filter_map(|w| uv.id(w)).collect();
        if let [a, b, c, d] = ids[..] {
            known.push((s, [a, b, c, d]));
        }
    }
    Ok((sections, known))
}

impl UnitVectors<'_> {
    /// 3CosAdd on a batch of questions: whether each one's answer is its fourth word.
    fn answer_cosadd(&self, chunk: &[Question]) -> Vec<bool> {
        let dim = self.dim;
        let mut qs = vec![0f32; chunk.len() * dim];
        for (q, (_, [a, b, c, _])) in qs.chunks_exact_mut(dim).zip(chunk) {
            let (ra, rb, rc) = (self.row(*a), self.row(*b), self.row(*c));
            for (k, x) in q.iter_mut().enumerate() {
                *x = rb[k] - ra[k] + rc[k];
            }
        }
        let sims = self.cosines_seq(&qs);
        sims.chunks_exact(self.n)
            .zip(chunk)
            .map(|(s, (_, [a, b, c, d]))| self.best(s, &[*a, *b, *c]) == Some(*d))
            .collect()
    }

    /// 3CosMul on a batch of questions.
    fn answer_cosmul(&self, chunk: &[Question]) -> Vec<bool> {
        let (dim, n) = (self.dim, self.n);
        let mut qs = vec![0f32; chunk.len() * 3 * dim];
        for (q, (_, [a, b, c, _])) in qs.chunks_exact_mut(3 * dim).zip(chunk) {
            q[..dim].copy_from_slice(self.row(*a));
            q[dim..2 * dim].copy_from_slice(self.row(*b));
            q[2 * dim..].copy_from_slice(self.row(*c));
        }
        let sims = self.cosines_seq(&qs);
        let mut comb = vec![0f32; n];
        let mut answers = Vec::with_capacity(chunk.len());
        for (s, (_, [a, b, c, d])) in sims.chunks_exact(3 * n).zip(chunk) {
            let (sa, rest) = s.split_at(n);
            let (sb, sc) = rest.split_at(n);
            for j in 0..n {
                let f = |x: f32| (x + 1.0) / 2.0;
                comb[j] = f(sb[j]) * f(sc[j]) / (f(sa[j]) + 1e-3);
            }
            answers.push(self.best(&comb, &[*a, *b, *c]) == Some(*d));
        }
        answers
    }
}

impl UnitVectors<'_> {
    /// Cosines of each query (rows of `queries`) with every row: [queries × n], row-major. Queries
    /// go in blocks so each matrix row is loaded once per block, not once per query. Runs on the
    /// calling thread: callers parallelise over query batches.
    fn cosines_seq(&self, queries: &[f32]) -> Vec<f32> {
        let q = queries.len() / self.dim.max(1);
        let mut out = vec![0f32; q * self.n];
        const BLOCK: usize = 32;
        for (out, qs) in out
            .chunks_mut(BLOCK * self.n)
            .zip(queries.chunks(BLOCK * self.dim))
        {
            for j in 0..self.n {
                let r = self.row(j);
                for (k, qv) in qs.chunks_exact(self.dim).enumerate() {
                    out[k * self.n + j] = kernels::dot(qv, r);
                }
            }
        }
        out
    }

    /// The canonical row with the highest score whose word is none of the question's words.
    fn best(&self, scores: &[f32], exclude: &[usize]) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        for (j, &s) in scores.iter().enumerate() {
            if exclude.contains(&self.canon[j]) {
                continue;
            }
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((j, s));
            }
        }
        best.map(|(j, _)| self.canon[j])
    }
}

/// A word-pair similarity evaluation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SimilarityReport {
    /// Pairs in the file.
    pub pairs: usize,
    /// Pairs whose two words have vectors.
    pub used: usize,
    /// Pairs with a word without a vector (left out, as gensim does).
    pub oov: usize,
    /// Spearman's rank correlation of cosines with the human scores.
    pub spearman: f64,
    /// Pearson's correlation of the same.
    pub pearson: f64,
}

/// Correlation of cosine similarity with human scores in a `word1 word2 score` file (tab or
/// space separated, `#` comments). Pairs with an unknown word are skipped and counted.
pub fn similarity(emb: &Embeddings, pairs: &Path, case: Case) -> Result<SimilarityReport> {
    let text = std::fs::read_to_string(pairs).map_err(|e| Error::io(pairs, e))?;
    let uv = UnitVectors::new(emb, None, case);
    let (mut gold, mut pred) = (Vec::new(), Vec::new());
    let mut total = 0;
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(['\t', ' ']).filter(|s| !s.is_empty()).collect();
        let bad = |msg: String| Error::Format {
            path: pairs.to_path_buf(),
            line: no as u64 + 1,
            msg,
        };
        if f.len() < 3 {
            return Err(bad("expected word1 word2 score".into()));
        }
        let score: f64 = f[2]
            .parse()
            .map_err(|_| bad(format!("score {:?} is not a number", f[2])))?;
        total += 1;
        if let (Some(a), Some(b)) = (uv.id(f[0]), uv.id(f[1])) {
            gold.push(score);
            pred.push(kernels::dot(uv.row(a), uv.row(b)) as f64);
        }
    }
    Ok(SimilarityReport {
        pairs: total,
        used: gold.len(),
        oov: total - gold.len(),
        spearman: pearson(&ranks(&gold), &ranks(&pred)),
        pearson: pearson(&gold, &pred),
    })
}

/// Ranks from 1, ties given their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation; 0 when either side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return f64::NAN;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}
