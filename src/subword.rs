//! fastText's subword units (Bojanowski et al. 2017): a word is `<word>`, and its character
//! n-grams of `minn..=maxn` characters are hashed into `bucket` rows that follow the word rows of
//! the input matrix. The n-grams, the hash (FNV-1a over bytes taken as *signed*, as fastText
//! does for compatibility with the models it shipped) and the row order are fastText 0.9.2's, so
//! that a row index means the same thing in its `.bin` files and in ours.

/// The n-gram settings, under fastText's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subwords {
    /// Shortest n-gram, in characters.
    pub minn: usize,
    /// Longest n-gram, in characters; 0 means no n-grams (a word-only model).
    pub maxn: usize,
    /// Rows the n-grams are hashed into.
    pub bucket: usize,
}

impl Default for Subwords {
    /// fastText's defaults for `skipgram` and `cbow`.
    fn default() -> Self {
        Subwords {
            minn: 3,
            maxn: 6,
            bucket: 2_000_000,
        }
    }
}

/// fastText's hash of an n-gram's bytes.
pub fn hash(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in bytes {
        // fastText's `uint32_t(int8_t(c))`: a byte above 127 is sign-extended.
        h ^= b as i8 as i32 as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}

/// Longest n-gram: fastText has no limit, but past this an n-gram is a whole word.
pub const MAX_N: usize = 64;
/// Most buckets: row ids, words and buckets together, must fit 32 bits.
pub const MAX_BUCKET: usize = 1 << 30;

impl Subwords {
    /// Refuses n-gram settings that cannot be what was meant.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |name: &'static str, m: String| Err(crate::Error::setting(name, m));
        if self.minn == 0 {
            return bad("minn", "must be positive".into());
        }
        if self.maxn < self.minn || self.maxn > MAX_N {
            return bad(
                "maxn",
                format!("must lie in minn..={MAX_N} (minn is {})", self.minn),
            );
        }
        if self.bucket == 0 || self.bucket > MAX_BUCKET {
            return bad("bucket", format!("must lie in 1..={MAX_BUCKET}"));
        }
        Ok(())
    }

    /// Whether words get n-grams at all.
    pub fn enabled(&self) -> bool {
        self.maxn > 0 && self.bucket > 0
    }

    /// Appends the bucket (0..bucket) of each n-gram of `word`, in fastText's order: by start
    /// character, then by length. The single characters `<` and `>` are not n-grams; nothing is
    /// pushed for fastText's end-of-sentence token `</s>`.
    pub fn buckets(&self, word: &str, out: &mut Vec<u32>) {
        self.each(word, |ngram| out.push(hash(ngram) % self.bucket as u32));
    }

    /// The n-grams themselves, for `wembed vector --ngrams` and tests.
    pub fn ngrams(&self, word: &str) -> Vec<String> {
        let mut v = Vec::new();
        self.each(word, |g| v.push(String::from_utf8_lossy(g).into_owned()));
        v
    }

    fn each(&self, word: &str, mut f: impl FnMut(&[u8])) {
        if !self.enabled() || word == EOS {
            return;
        }
        let mut w = Vec::with_capacity(word.len() + 2);
        w.push(b'<');
        w.extend_from_slice(word.as_bytes());
        w.push(b'>');
        // Character boundaries: a UTF-8 continuation byte is 10xxxxxx.
        let starts: Vec<usize> = (0..w.len()).filter(|&i| w[i] & 0xC0 != 0x80).collect();
        for (si, &i) in starts.iter().enumerate() {
            for n in self.minn.max(1)..=self.maxn {
                let end = match (si + n).cmp(&starts.len()) {
                    std::cmp::Ordering::Less => starts[si + n],
                    std::cmp::Ordering::Equal => w.len(),
                    std::cmp::Ordering::Greater => break,
                };
                if n == 1 && (i == 0 || end == w.len()) {
                    continue;
                }
                f(&w[i..end]);
            }
        }
    }
}

/// Each vocabulary word's input rows, computed once: its own row, then its n-grams' rows
/// (`words + bucket`), so training never hashes.
pub(crate) struct SubwordTable {
    starts: Vec<usize>,
    rows: Vec<u32>,
}

impl SubwordTable {
    pub(crate) fn new(words: &[String], s: &Subwords) -> SubwordTable {
        let mut starts = Vec::with_capacity(words.len() + 1);
        let mut rows = Vec::new();
        let mut buckets = Vec::new();
        starts.push(0);
        for (i, w) in words.iter().enumerate() {
            rows.push(i as u32);
            buckets.clear();
            s.buckets(w, &mut buckets);
            rows.extend(buckets.iter().map(|&b| (words.len() + b as usize) as u32));
            starts.push(rows.len());
        }
        SubwordTable { starts, rows }
    }

    /// The input rows of word `w`.
    #[inline]
    pub(crate) fn rows(&self, w: u32) -> &[u32] {
        &self.rows[self.starts[w as usize]..self.starts[w as usize + 1]]
    }
}

/// A word's vector from input rows, as fastText builds it: the mean of the word's own row (when
/// `known`) and its n-grams' rows (after `nwords` word rows). `add_row(r, acc)` adds row `r`.
/// Returns how many rows were averaged (0: the vector is zero).
pub fn word_vector(
    s: &Subwords,
    (word, known): (&str, Option<usize>),
    nwords: usize,
    add_row: impl Fn(usize, &mut [f32]),
    out: &mut [f32],
) -> usize {
    out.fill(0.0);
    let mut n = 0;
    if let Some(i) = known {
        add_row(i, out);
        n += 1;
    }
    let mut buckets = Vec::new();
    s.buckets(word, &mut buckets);
    for &b in &buckets {
        add_row(nwords + b as usize, out);
    }
    n += buckets.len();
    if n > 0 {
        // fastText scales by the f64 reciprocal, rounded to f32.
        let scale = (1.0 / n as f64) as f32;
        out.iter_mut().for_each(|x| *x *= scale);
    }
    n
}

/// The rows a word's vector averages, each with its name, as `fasttext print-ngrams` lists
/// them: the word itself when `known`, then each n-gram with its bucket's row. Shows which
/// pieces an out-of-vocabulary vector is made of.
pub fn ngram_vectors(
    s: &Subwords,
    (word, known): (&str, Option<usize>),
    nwords: usize,
    add_row: impl Fn(usize, &mut [f32]),
    dim: usize,
) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    let mut row = |name: String, r: usize| {
        let mut v = vec![0f32; dim];
        add_row(r, &mut v);
        out.push((name, v));
    };
    if let Some(i) = known {
        row(word.to_string(), i);
    }
    let mut buckets = Vec::new();
    s.buckets(word, &mut buckets);
    for (g, b) in s.ngrams(word).into_iter().zip(buckets) {
        row(g, nwords + b as usize);
    }
    out
}

/// fastText's end-of-sentence token: in its dictionaries, never given n-grams.
pub const EOS: &str = "</s>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_are_fasttexts() {
        let s = Subwords {
            minn: 3,
            maxn: 4,
            bucket: 100,
        };
        assert_eq!(
            s.ngrams("where"),
            ["<wh", "<whe", "whe", "wher", "her", "here", "ere", "ere>", "re>"]
        );
        // Characters, not bytes: "é" is one.
        assert_eq!(
            Subwords {
                minn: 2,
                maxn: 2,
                bucket: 9
            }
            .ngrams("né"),
            ["<n", "né", "é>"]
        );
        let one = Subwords {
            minn: 1,
            maxn: 1,
            bucket: 9,
        };
        assert_eq!(
            one.ngrams("ab"),
            ["a", "b"],
            "< and > alone are not n-grams"
        );
        assert!(s.ngrams(EOS).is_empty());
        assert!(Subwords { maxn: 0, ..s }.ngrams("where").is_empty());
    }

    #[test]
    fn hash_is_fnv1a_over_signed_bytes() {
        // FNV-1a of the empty string and of "a" (ASCII: signedness does not matter).
        assert_eq!(hash(b""), 2_166_136_261);
        assert_eq!(hash(b"a"), 0xe40c_292c);
        // A byte above 127 is sign-extended before the xor: 0xC3 becomes 0xFFFFFFC3.
        let signed = (2_166_136_261u32 ^ 0xFFFF_FFC3).wrapping_mul(16_777_619);
        assert_eq!(hash(&[0xC3]), signed);
        assert_ne!(
            hash(&[0xC3]),
            (2_166_136_261u32 ^ 0xC3).wrapping_mul(16_777_619)
        );
    }
}
