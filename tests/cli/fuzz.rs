//! A bounded random-input harness (cargo-fuzz needs nightly, which this project does not use):
//! valid files of every format the readers take are mutated at random (bit flips, special bytes,
//! cut, repeated and deleted ranges, digits in headers) and read back. A reader may refuse an
//! input, but never panic; and a header that claims a huge size must be refused, not allocated
//! (an allocation failure would abort this test process).
//!
//! `WEMBED_FUZZ_ITERS` sets the inputs per target (default 300 in the test suite; the numbers in
//! the closing notes come from long runs with larger values).

use crate::common::{gzip, p, tmp, write};
use rand::{Rng, RngCore};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use wembed::corpus::{Corpus, CorpusOptions};
use wembed::progress::Progress;
use wembed::sampling::{rng, FastRng};
use wembed::vectors::{self, Dtype, Embeddings, Format};
use wembed::vocab::{Counter, Vocab};

fn iterations() -> usize {
    std::env::var("WEMBED_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn mutate(seed: &[u8], r: &mut FastRng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..r.random_range(1..=4) {
        let n = b.len().max(1);
        let at = r.random_range(0..n);
        match r.random_range(0..8) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << r.random_range(0..8);
            }
            1 if !b.is_empty() => {
                let specials = [0u8, 0xff, b'\n', b' ', b'\t', b'9', b'-', b'.', 0x80, b'{'];
                let i = at.min(b.len() - 1);
                b[i] = specials[r.random_range(0..specials.len())];
            }
            2 => b.truncate(at),
            3 if at < b.len() => {
                let end = (at + r.random_range(1..64)).min(b.len());
                b.drain(at..end);
            }
            4 if at < b.len() => {
                let end = (at + r.random_range(1..64)).min(b.len());
                let piece = b[at..end].to_vec();
                b.splice(at..at, piece);
            }
            5 => {
                // Digits where headers keep their numbers.
                let digits: Vec<u8> = (0..r.random_range(1..14))
                    .map(|_| b'0' + r.random_range(0..10u8))
                    .collect();
                let at = at.min(b.len()).min(r.random_range(0..128));
                b.splice(at..at, digits);
            }
            6 => {
                let junk: Vec<u8> = (0..r.random_range(1..32))
                    .map(|_| r.next_u32() as u8)
                    .collect();
                b.splice(at.min(b.len())..at.min(b.len()), junk);
            }
            _ => {
                if !b.is_empty() {
                    let i = at.min(b.len() - 1);
                    b[i] = b[i].wrapping_add(r.random_range(1..=255));
                }
            }
        }
    }
    b
}

/// Feeds `iterations()` mutants of the seeds to `read` (true: the input was accepted); reports
/// how many were accepted, so a harness whose mutants are all trivially refused shows itself.
fn fuzz(name: &str, seeds: &[Vec<u8>], path: &Path, read: impl Fn(&Path) -> bool) {
    let mut r = rng(name
        .bytes()
        .fold(7u64, |h, c| h.wrapping_mul(31).wrapping_add(c as u64)));
    let (n, mut accepted) = (iterations(), 0);
    let start = std::time::Instant::now();
    for i in 0..n {
        let input = mutate(&seeds[i % seeds.len()], &mut r);
        write(path, &input);
        match catch_unwind(AssertUnwindSafe(|| read(path))) {
            Ok(ok) => accepted += ok as usize,
            Err(_) => {
                let keep = path.with_extension("crash");
                write(&keep, &input);
                panic!(
                    "{name}: reader panicked on input {i}; saved as {}",
                    keep.display()
                );
            }
        }
    }
    eprintln!(
        "fuzz {name}: {n} inputs, {accepted} accepted, {} refused, {:.1} s",
        n - accepted,
        start.elapsed().as_secs_f64()
    );
    assert!(
        n < 50 || accepted < n,
        "{name}: every mutant accepted: the mutations do nothing"
    );
}

fn small_embeddings() -> Embeddings {
    let words: Vec<String> = ["the", "café", "東京", "🙂", "x", "of"]
        .map(String::from)
        .to_vec();
    let data: Vec<f32> = (0..words.len() * 4)
        .map(|k| k as f32 * 0.25 - 1.5)
        .collect();
    Embeddings {
        counts: Some(vec![9, 7, 5, 3, 2, 1]),
        matrix: vectors::Matrix::Owned { data, cols: 4 },
        words,
    }
}

fn exported(dir: &Path, format: Format, dtype: Dtype, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    vectors::export(&small_embeddings(), format, dtype, &path).unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn vector_readers_survive_mutated_files() {
    let d = tmp();
    let seeds_dir = p(&d, "seeds");
    std::fs::create_dir_all(&seeds_dir).unwrap();
    let load = |path: &Path| Embeddings::load(path).is_ok();
    let text = exported(&seeds_dir, Format::Word2VecText, Dtype::F32, "v.txt");
    let glove = exported(&seeds_dir, Format::GloveText, Dtype::F32, "g.txt");
    let bin = exported(&seeds_dir, Format::Word2VecBin, Dtype::F32, "v.bin");
    fuzz("word2vec-text", &[text, glove], &p(&d, "t.txt"), load);
    fuzz(
        "word2vec-bin",
        std::slice::from_ref(&bin),
        &p(&d, "b.bin"),
        load,
    );
    let st32 = exported(&seeds_dir, Format::Safetensors, Dtype::F32, "a.safetensors");
    let st16 = exported(&seeds_dir, Format::Safetensors, Dtype::F16, "b.safetensors");
    fuzz("safetensors", &[st32, st16], &p(&d, "s.safetensors"), load);
    // npy with a valid vocab.txt beside it (the reader needs both).
    let npy_dir = p(&d, "npy");
    std::fs::create_dir_all(&npy_dir).unwrap();
    let n32 = exported(&npy_dir, Format::Npy, Dtype::F32, "a.npy");
    let n16 = exported(&npy_dir, Format::Npy, Dtype::F16, "a.npy");
    fuzz("npy", &[n32, n16], &npy_dir.join("a.npy"), load);
}

/// fastText `.bin` files, word-only and with n-gram rows, read as vectors and as a model that
/// builds vectors for unknown words.
#[test]
fn fasttext_bins_survive_mutation() {
    let d = tmp();
    let words_only = exported(d.path(), Format::FastTextBin, Dtype::F32, "w.bin");
    let m = p(&d, "m");
    let corpus = format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"));
    let args = [
        "skipgram",
        corpus.as_str(),
        "-o",
        m.to_str().unwrap(),
        "-q",
        "--subwords",
    ];
    let small = [
        "--bucket",
        "300",
        "--dim",
        "4",
        "--epochs",
        "1",
        "--min-count",
        "50",
    ];
    let r = crate::common::wembed(&[&args[..], &small[..]].concat());
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let bin = p(&d, "s.bin");
    wembed::run::export_fasttext(&m, &bin).unwrap();
    let with_ngrams = std::fs::read(&bin).unwrap();
    let read = |path: &Path| {
        let loaded = Embeddings::load(path).is_ok();
        let model = vectors::fasttext::FastTextModel::open(path).map(|model| {
            let mut v = vec![0f32; model.dim()];
            model.word_vector("unseenword", &mut v);
            model.word_vector("ü", &mut v);
        });
        loaded && model.is_ok()
    };
    fuzz(
        "fasttext-bin",
        &[words_only, with_ngrams],
        &p(&d, "f.bin"),
        read,
    );
}

#[test]
fn vocab_reader_survives_mutated_files() {
    let d = tmp();
    let seed = "the\t9\ncafé\t7\n東京\t5\n🙂\t3\nx\t2\n"
        .as_bytes()
        .to_vec();
    fuzz("vocab", &[seed], &p(&d, "vocab.txt"), |path| {
        Vocab::load(path).is_ok()
    });
}

#[test]
fn corpus_reader_survives_mutated_text_and_gzip() {
    let d = tmp();
    let text = crate::common::sample_text(40, 3).into_bytes();
    let gz = gzip(&text);
    let read = |path: &Path| {
        Corpus::open(&[path], CorpusOptions::default())
            .and_then(|c| c.for_each_parallel(2, &Progress::hidden(), |_| Counter::new(1 << 20)))
            .is_ok()
    };
    fuzz("corpus-text", &[text], &p(&d, "c.txt"), read);
    fuzz("corpus-gzip", &[gz], &p(&d, "c.gz"), read);
}

#[test]
fn headers_claiming_huge_sizes_are_refused_without_allocating() {
    let d = tmp();
    let path = p(&d, "huge.txt");
    write(&path, b"1000000000000 100\nthe 0.1 0.2\n");
    let e = Embeddings::load(&path).err().expect("refused").to_string();
    assert!(e.contains("huge.txt"), "{e}");
    write(&path, b"1000 1000000000000\nthe 0.1 0.2\n");
    assert!(Embeddings::load(&path).is_err());
    let bin = p(&d, "huge.bin");
    let mut b = b"1000000000000 300\n".to_vec();
    b.extend_from_slice(b"the ");
    b.extend_from_slice(&[0u8; 1200]);
    write(&bin, &b);
    assert!(Embeddings::load(&bin).is_err());
    let npy_dir = p(&d, "npy");
    std::fs::create_dir_all(&npy_dir).unwrap();
    write(&npy_dir.join("vocab.txt"), b"the\t1\n");
    let mut npy = crate::common::npy_header(1_000_000_000_000, 100);
    npy.extend_from_slice(&[0u8; 400]);
    write(&npy_dir.join("a.npy"), &npy);
    assert!(Embeddings::load(&npy_dir.join("a.npy")).is_err());
    let st = p(&d, "huge.safetensors");
    let header =
        br#"{"embeddings":{"dtype":"F32","shape":[1000000000000,100],"data_offsets":[0,400]}}"#;
    let mut s = (header.len() as u64).to_le_bytes().to_vec();
    s.extend_from_slice(header);
    s.extend_from_slice(&[0u8; 400]);
    write(&st, &s);
    assert!(Embeddings::load(&st).is_err());
}

/// A file whose header lies about a size the file does not hold on disk (a sparse file), a path
/// that is an endless stream, a FIFO, a matrix of dimension 0, word lists that would not read
/// back: each is an error, in this process, without an allocation that aborts.
#[test]
fn lying_sparse_files_streams_and_empty_shapes_are_refused() {
    let d = tmp();
    // `printf '500000000000 1\n' > s.bin; truncate -s 1T s.bin`, binary and text.
    for (name, head) in [
        ("s.bin", &b"500000000000 1\n"[..]),
        ("s.txt", b"500000000000 1\na 1\n"),
    ] {
        let path = p(&d, name);
        write(&path, head);
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        if f.set_len(1 << 40).is_err() {
            f.set_len(1 << 34).unwrap();
        }
        let e = Embeddings::load(&path)
            .err()
            .expect("sparse lie refused")
            .to_string();
        assert!(e.contains("more than the file"), "{e}");
    }
    // A headerless "text" file that is one endless line of NULs (a sparse 64 GiB hole).
    let hole = p(&d, "hole.txt");
    write(&hole, b"a");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&hole)
        .unwrap()
        .set_len(1 << 36)
        .unwrap();
    let e = Embeddings::load(&hole)
        .err()
        .expect("endless line refused")
        .to_string();
    assert!(e.contains("line longer than"), "{e}");
    // /dev/zero through a link, and a FIFO.
    let zero = p(&d, "zero.vec");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let e = Embeddings::load(&zero).err().unwrap().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let fifo = p(&d, "fifo.vec");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let e = Embeddings::load(&fifo).err().unwrap().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    // safetensors of shape [3, 0], and word lists with an empty or a repeated word.
    let st = |name: &str, shape: &str, len: usize, vocab: &str| {
        let header = format!(
            r#"{{"__metadata__":{{"vocab":"{vocab}"}},"embeddings":{{"dtype":"F32","shape":{shape},"data_offsets":[0,{len}]}}}}"#
        );
        let mut s = (header.len() as u64).to_le_bytes().to_vec();
        s.extend_from_slice(header.as_bytes());
        s.extend(vec![0u8; len]);
        let path = p(&d, name);
        write(&path, &s);
        Embeddings::load(&path).err().expect("refused").to_string()
    };
    let abc = r#"[\"a\",\"b\",\"c\"]"#;
    assert!(st("dim0.safetensors", "[3,0]", 0, abc).contains("shape [3, 0]"));
    let dup = r#"[\"a\",\"b\",\"a\"]"#;
    assert!(st("dup.safetensors", "[3,1]", 12, dup).contains("appears twice"));
    let empty = r#"[\"a\",\"\",\"c\"]"#;
    assert!(st("empty.safetensors", "[3,1]", 12, empty).contains("empty"));
    // A word2vec text file of dimension 0 is refused by its header check.
    let z = p(&d, "z.txt");
    write(&z, b"2 0\na\nb\n");
    assert!(Embeddings::load(&z).is_err());
}
