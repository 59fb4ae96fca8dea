//! A synthetic language with planted structure: the offline default corpus and the ground truth of
//! quality tests.
//!
//! Words are random pseudo-words, so nothing in their spelling gives a relation away. A relation
//! family (country→capital, noun→plural, ...) pairs words (a_i, b_i). Each pair has its own topic
//! words, each family has domain words, and each side of a family has role words. A sentence about
//! a_i puts next to it one role word of side a, one domain word of the family and two topic words
//! of pair i, then filler. So a_i and b_i share their topic contexts, and b_i − a_i is the same
//! role difference for every i: exactly the regularity analogy arithmetic finds.
//!
//! Frequencies are Zipf-like twice over: filler words follow 1/rank, and pairs within a family are
//! drawn with a Zipf law too, so relation words span a range of counts.

use crate::error::{Error, Result};
use crate::sampling::{rng, zipf_weights, AliasTable, FastRng};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashSet;
use std::io::Write;

/// How the synthetic language is drawn.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct SynthOptions {
    /// Seed of everything drawn.
    pub seed: u64,
    /// Pairs per relation family.
    pub pairs: usize,
    /// Distinct filler words.
    pub filler: usize,
    /// Share of sentences that are about a relation word (the rest are filler only).
    pub relation_share: f64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            seed: 1,
            pairs: 30,
            filler: 5000,
            relation_share: 0.6,
        }
    }
}

/// Names of the families, as analogy sections. The `gram` prefix marks syntactic sections, the
/// convention of the Google analogy set.
pub const FAMILIES: [&str; 6] = [
    "country-capital",
    "male-female",
    "currency",
    "gram-noun-plural",
    "gram-verb-past",
    "gram-adjective-comparative",
];

const ROLE_WORDS: usize = 3;
const DOMAIN_WORDS: usize = 3;
const TOPIC_WORDS: usize = 4;

/// A relation family: word pairs that stand in the same relation (country–capital).
pub struct Family {
    /// Its analogy section's name.
    pub name: &'static str,
    /// Its (a, b) pairs.
    pub pairs: Vec<(String, String)>,
    roles: [Vec<String>; 2],
    domain: Vec<String>,
    topics: Vec<Vec<String>>,
    pair_sampler: AliasTable,
}

/// The lexicon and grammar of one seed.
pub struct Language {
    /// The relation families.
    pub families: Vec<Family>,
    /// Filler words, most frequent first.
    pub filler: Vec<String>,
    filler_sampler: AliasTable,
    options: SynthOptions,
}

const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
const VOWELS: &[u8] = b"aeiou";

fn pseudo_word(rng: &mut FastRng, taken: &mut HashSet<String>) -> String {
    loop {
        let syllables = rng.random_range(2..=4);
        let mut w = String::with_capacity(2 * syllables + 1);
        for _ in 0..syllables {
            w.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
            w.push(VOWELS[rng.random_range(0..VOWELS.len())] as char);
        }
        if rng.random_bool(0.3) {
            w.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
        }
        if taken.insert(w.clone()) {
            return w;
        }
    }
}

impl Language {
    /// The language of `options`; refused when the options cannot make one.
    pub fn new(options: &SynthOptions) -> Result<Language> {
        if options.pairs < 2 || options.filler < 1 {
            return Err(Error::Invalid(
                "synth needs at least 2 pairs per family and 1 filler word".into(),
            ));
        }
        if !(0.0..=1.0).contains(&options.relation_share) {
            return Err(Error::Invalid("relation share must be within 0..=1".into()));
        }
        let mut r = rng(options.seed);
        let mut taken = HashSet::new();
        let mut words = |n: usize, r: &mut FastRng| -> Vec<String> {
            (0..n).map(|_| pseudo_word(r, &mut taken)).collect()
        };
        let mut families = Vec::new();
        for name in FAMILIES {
            let a = words(options.pairs, &mut r);
            let b = words(options.pairs, &mut r);
            let roles = [words(ROLE_WORDS, &mut r), words(ROLE_WORDS, &mut r)];
            let domain = words(DOMAIN_WORDS, &mut r);
            let topics = (0..options.pairs)
                .map(|_| words(TOPIC_WORDS, &mut r))
                .collect();
            let pair_sampler = AliasTable::new(&zipf_weights(options.pairs, 0.7, 2.0))
                .ok_or_else(|| Error::Invalid("bad pair weights".into()))?;
            families.push(Family {
                name,
                pairs: a.into_iter().zip(b).collect(),
                roles,
                domain,
                topics,
                pair_sampler,
            });
        }
        let filler = words(options.filler, &mut r);
        let filler_sampler = AliasTable::new(&zipf_weights(options.filler, 1.0, 2.7))
            .ok_or_else(|| Error::Invalid("bad filler weights".into()))?;
        Ok(Language {
            families,
            filler,
            filler_sampler,
            options: options.clone(),
        })
    }

    /// Streams exactly `tokens` tokens, one sentence per line, to `out`. The text depends only on the
    /// options and `tokens` (a shorter corpus is not a prefix of a longer one only in its last line).
    pub fn write_corpus<W: Write + ?Sized>(
        &self,
        tokens: u64,
        out: &mut W,
    ) -> std::io::Result<u64> {
        let mut r = rng(self.options.seed ^ 0x5eed_5eed_5eed_5eed);
        let mut written = 0u64;
        let mut sentence: Vec<&str> = Vec::with_capacity(32);
        let mut line = String::with_capacity(256);
        while written < tokens {
            self.sentence(&mut r, &mut sentence);
            let take = sentence.len().min((tokens - written) as usize);
            line.clear();
            for (k, w) in sentence[..take].iter().enumerate() {
                if k > 0 {
                    line.push(' ');
                }
                line.push_str(w);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written += take as u64;
        }
        Ok(written)
    }

    fn filler_word(&self, r: &mut FastRng) -> &str {
        &self.filler[self.filler_sampler.sample(r)]
    }

    fn sentence<'a>(&'a self, r: &mut FastRng, out: &mut Vec<&'a str>) {
        out.clear();
        let len = r.random_range(6..=14);
        if !r.random_bool(self.options.relation_share) {
            for _ in 0..len {
                out.push(self.filler_word(r));
            }
            return;
        }
        let fam = &self.families[r.random_range(0..self.families.len())];
        let i = fam.pair_sampler.sample(r);
        let side = r.random_range(0..2usize);
        let target = if side == 0 {
            &fam.pairs[i].0
        } else {
            &fam.pairs[i].1
        };
        let topics = &fam.topics[i];
        let t1 = r.random_range(0..topics.len());
        let t2 = (t1 + r.random_range(1..topics.len())) % topics.len();
        let mut core: [&str; 5] = [
            target,
            &fam.roles[side][r.random_range(0..ROLE_WORDS)],
            &fam.domain[r.random_range(0..DOMAIN_WORDS)],
            &topics[t1],
            &topics[t2],
        ];
        core.shuffle(r);
        let before = r.random_range(0..=len - core.len());
        for _ in 0..before {
            out.push(self.filler_word(r));
        }
        out.extend_from_slice(&core);
        while out.len() < len {
            out.push(self.filler_word(r));
        }
    }

    /// Analogy questions in `questions-words.txt` format: for each family every ordered pair of pairs.
    pub fn write_analogies<W: Write + ?Sized>(&self, out: &mut W) -> std::io::Result<usize> {
        let mut n = 0;
        for fam in &self.families {
            writeln!(out, ": {}", fam.name)?;
            for (i, (a, b)) in fam.pairs.iter().enumerate() {
                for (j, (c, d)) in fam.pairs.iter().enumerate() {
                    if i != j {
                        writeln!(out, "{a} {b} {c} {d}")?;
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Word pairs with a graded similarity (0–10), wordsim353 style. The grade is how many context
    /// kinds the two words share: same pair (domain and topics) 9, same family and side (domain and
    /// role) 6, same family other side 3, different families 1.
    pub fn write_similarity<W: Write + ?Sized>(&self, out: &mut W) -> std::io::Result<usize> {
        let mut r = rng(self.options.seed ^ 0x0051_3000);
        writeln!(
            out,
            "# wembed synth similarity pairs, seed {}",
            self.options.seed
        )?;
        writeln!(out, "# word1\tword2\tscore")?;
        let per_kind = 40;
        let mut n = 0;
        let pick = |r: &mut FastRng| -> (usize, usize, usize) {
            let f = r.random_range(0..self.families.len());
            (
                f,
                r.random_range(0..self.options.pairs),
                r.random_range(0..2),
            )
        };
        let word = |f: usize, i: usize, s: usize| -> &str {
            let p = &self.families[f].pairs[i];
            if s == 0 {
                &p.0
            } else {
                &p.1
            }
        };
        let other = |r: &mut FastRng, i: usize| {
            (i + r.random_range(1..self.options.pairs)) % self.options.pairs
        };
        for kind in 0..4 {
            for _ in 0..per_kind {
                let (f, i, s) = pick(&mut r);
                let (w2, score) = match kind {
                    0 => (word(f, i, 1 - s), 9),
                    1 => (word(f, other(&mut r, i), s), 6),
                    2 => (word(f, other(&mut r, i), 1 - s), 3),
                    _ => {
                        let g = (f + r.random_range(1..self.families.len())) % self.families.len();
                        (
                            word(
                                g,
                                r.random_range(0..self.options.pairs),
                                r.random_range(0..2),
                            ),
                            1,
                        )
                    }
                };
                writeln!(out, "{}\t{}\t{}", word(f, i, s), w2, score)?;
                n += 1;
            }
        }
        Ok(n)
    }
}
