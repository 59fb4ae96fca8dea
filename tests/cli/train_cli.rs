//! The corpus-to-vectors command as a user runs it, and the vector readers' errors.

use crate::common::*;
use wembed::vectors::Embeddings;
use wembed::vocab::Vocab;

fn synth_corpus() -> String {
    format!("{}/corpora/synth-1m.txt.gz", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn skipgram_writes_a_complete_model_folder() {
    let d = tmp();
    let model = p(&d, "model");
    let m = model.to_str().unwrap();
    let corpus = synth_corpus();
    let r = wembed(&[
        "skipgram",
        &corpus,
        "-o",
        m,
        "-q",
        "--dim",
        "24",
        "--epochs",
        "1",
        "--threads",
        "2",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary = String::from_utf8_lossy(&r.stderr);
    assert!(summary.contains("words/s"), "{summary}");
    let mut names: Vec<String> = std::fs::read_dir(&model)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "config.json",
            "input.npy",
            "output.npy",
            "vectors.bin",
            "vocab.txt"
        ]
    );

    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["trainer"], "skipgram");
    assert_eq!(config["hyperparameters"]["dim"], 24);
    assert_eq!(config["hyperparameters"]["window"], 5);
    assert_eq!(
        config["hyperparameters"]["lr"].as_f64().unwrap() as f32,
        0.025
    );
    assert_eq!(config["vocab"]["stats"]["read"]["tokens"], 1_000_000);
    assert_eq!(config["wembed_version"], env!("CARGO_PKG_VERSION"));
    let vocab = Vocab::load(&model.join("vocab.txt")).unwrap();
    assert_eq!(config["training"]["words"].as_u64().unwrap(), vocab.total());

    // vectors.bin holds exactly input.npy, row for row.
    let npy = Embeddings::load(&model).unwrap();
    let bin = Embeddings::load(&model.join("vectors.bin")).unwrap();
    assert_eq!(npy.words, bin.words);
    assert_eq!(npy.words, vocab.words());
    assert_eq!(npy.matrix.data(), bin.matrix.data());
    assert!(npy.matrix.data().iter().all(|x| x.is_finite()));

    // numpy maps the folder's matrix as is.
    let script = "import numpy as np, sys\n\
a = np.load(sys.argv[1] + '/input.npy', mmap_mode='r')\n\
words = [l.split('\\t')[0] for l in open(sys.argv[1] + '/vocab.txt', encoding='utf-8')]\n\
assert a.shape == (len(words), 24) and a.dtype == np.float32, a.shape\n\
o = np.load(sys.argv[1] + '/output.npy', mmap_mode='r')\n\
assert o.shape == a.shape and np.abs(o).sum() > 0\n\
print(float(a[0, 0]))";
    let out = std::process::Command::new("python3")
        .args(["-c", script, m])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: f32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(first, npy.row(0)[0]);
}

#[test]
fn training_refuses_bad_settings_and_stdin() {
    let d = tmp();
    let m = p(&d, "m");
    let m = m.to_str().unwrap();
    let corpus = synth_corpus();
    assert_one_line_error(
        &wembed(&["skipgram", &corpus, "-o", m, "-q", "--negative", "0"]),
        "--hs is needed when negative is 0",
    );
    let r = wembed(&["cbow", &corpus, "-o", m, "-q", "--dim", "0"]);
    assert_eq!(r.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("'--dim <DIM>': must be at least 1"), "{err}");
    let vocab = p(&d, "v.txt");
    write(&vocab, b"a\t10\nb\t5\n");
    let r = wembed(&[
        "skipgram",
        "-",
        "-o",
        m,
        "-q",
        "--vocab",
        vocab.to_str().unwrap(),
    ]);
    let err = assert_one_line_error(&r, "stdin can be read only once");
    assert!(err.contains("save the text to a file"), "{err}");
    assert!(
        !err.contains("--vocab"),
        "the hint must not suggest --vocab: {err}"
    );
}

fn read_err(bytes: &[u8]) -> String {
    let d = tmp();
    let path = p(&d, "vec.txt");
    write(&path, bytes);
    let e = Embeddings::load(&path)
        .err()
        .expect("must fail")
        .to_string();
    assert_eq!(e.lines().count(), 1);
    assert!(e.contains("vec.txt"), "{e}");
    e
}

#[test]
fn malformed_vector_files_are_one_line_errors() {
    assert!(read_err(b"2 3\na 1 2 3\nb 1 2\n").contains(":3: expected 3 values, found 2"));
    assert!(read_err(b"2 3\na 1 2 3\nb 1 x 3\n").contains(":3: value 2 (\"x\") is not a number"));
    assert!(read_err(b"3 1\na 1\nb 2\n").contains("header claims 3 rows, file has 2"));
    assert!(read_err(b"3 3\na 1 2 3\nb 1 2 3\n").contains("more than the file"));
    assert!(read_err(b"1000000000000 300\na 1 2 3\n").contains("more than the file"));
    assert!(read_err(b"a 1 2\nb 1\n").contains(":2: expected 2 values, found 1"));
    assert!(read_err(b"a 1 2\n\xff 1 2\n").contains(":2: invalid UTF-8"));
    // Binary: truncated vector, and a word with invalid UTF-8.
    let mut bin = b"2 4\nabcd ".to_vec();
    bin.extend([0u8; 16]);
    bin.extend(b"\ncdef ");
    bin.extend([0u8; 7]);
    assert!(read_err(&bin).contains("truncated: vector of entry 2 of 2 is short"));
    let mut bin = b"1 4\n\xff\xfe ".to_vec();
    bin.extend([0u8; 16]);
    assert!(read_err(&bin).contains("not valid UTF-8"));
}

#[test]
fn every_format_round_trips_unicode_words() {
    use wembed::vectors::{export, Dtype, Format, Matrix};
    let d = tmp();
    let words: Vec<String> = ["the", "café", "東京", "🙂"].map(String::from).to_vec();
    let data: Vec<f32> = (0..12).map(|i| i as f32 / 7.0 - 0.5).collect();
    let e = Embeddings {
        words: words.clone(),
        counts: Some(vec![9, 5, 5, 1]),
        matrix: Matrix::Owned {
            data: data.clone(),
            cols: 3,
        },
    };
    let f16: Vec<f32> = data
        .iter()
        .map(|x| half::f16::from_f32(*x).to_f32())
        .collect();
    let cases = [
        ("a/v.bin", Format::Word2VecBin, Dtype::F32, &data),
        ("b/v.txt", Format::Word2VecText, Dtype::F32, &data),
        ("c/v.vec", Format::FastTextVec, Dtype::F32, &data),
        ("d/v.glove", Format::GloveText, Dtype::F32, &data),
        ("e/v.npy", Format::Npy, Dtype::F32, &data),
        ("f/v.npy", Format::Npy, Dtype::F16, &f16),
        ("g/v.safetensors", Format::Safetensors, Dtype::F32, &data),
        ("h/v.safetensors", Format::Safetensors, Dtype::F16, &f16),
    ];
    for (name, format, dtype, want) in cases {
        let path = p(&d, name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        export(&e, format, dtype, &path).unwrap();
        let back = Embeddings::load(&path).unwrap();
        assert_eq!(back.words, words, "{name}");
        assert_eq!(back.matrix.data(), want.as_slice(), "{name}");
    }
    let err = export(&e, Format::Word2VecBin, Dtype::F16, &p(&d, "x.bin"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("f16 and f64 are for npy and safetensors"),
        "{err}"
    );
}
