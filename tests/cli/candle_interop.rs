//! candle, the Rust consumer: the model folder's `input.npy` and the npy and safetensors exports
//! load with candle's own readers, with the same words in the same order and the same values
//! (exact for f32, exact f16 rounding for f16).

use crate::common::{p, tmp, wembed, write};
use candle_core::{DType, Device, Tensor};
use half::f16;
use wembed::vectors::Embeddings;

/// Accents, CJK and emoji among ordinary words, so word order is checked on multi-byte UTF-8.
const EXTRA: [&str; 8] = [
    "café", "naïve", "東京", "大阪", "🙂", "🚀", "Straße", "ÉCOLE",
];

fn corpus() -> String {
    let mut text = String::new();
    for i in 0..2000usize {
        let mut ws: Vec<String> = (0..8)
            .map(|k| format!("w{}", (i * 7 + k * 13) % 61))
            .collect();
        ws.insert(i % 8, EXTRA[i % EXTRA.len()].to_string());
        text.push_str(&ws.join(" "));
        text.push('\n');
    }
    text
}

fn rows_f32(t: &Tensor) -> Vec<Vec<f32>> {
    t.to_dtype(DType::F32).unwrap().to_vec2::<f32>().unwrap()
}

fn vocab_words(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

/// `want` rounded as the export's dtype rounds it.
fn expected(e: &Embeddings, as_f16: bool) -> Vec<Vec<f32>> {
    (0..e.len())
        .map(|i| {
            e.row(i)
                .iter()
                .map(|&x| if as_f16 { f16::from_f32(x).to_f32() } else { x })
                .collect()
        })
        .collect()
}

#[test]
fn candle_reads_model_folder_npy_and_safetensors_exports() {
    let dir = tmp();
    let text = p(&dir, "corpus.txt");
    write(&text, corpus().as_bytes());
    let model = p(&dir, "model");
    let out = wembed(&[
        "skipgram",
        text.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        "-q",
        "--dim",
        "12",
        "--epochs",
        "1",
        "--min-count",
        "1",
        "--threads",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = Embeddings::load(&model).unwrap();
    assert!(EXTRA.iter().all(|w| ours.words.iter().any(|x| x == w)));
    assert_eq!(ours.dim(), 12);
    let dev = Device::Cpu;

    // The model folder itself: candle reads the trained matrix with no conversion.
    let t = Tensor::read_npy(model.join("input.npy")).unwrap();
    assert_eq!(t.dims(), &[ours.len(), 12]);
    assert_eq!(t.dtype(), DType::F32);
    assert_eq!(rows_f32(&t), expected(&ours, false));
    assert_eq!(vocab_words(&model.join("vocab.txt")), ours.words);

    for (dtype, is_f16, candle_dtype) in [("f32", false, DType::F32), ("f16", true, DType::F16)] {
        // npy: the matrix plus its word list beside it, named after it.
        let npy = p(&dir, &format!("npy-{dtype}/vectors.npy"));
        std::fs::create_dir_all(npy.parent().unwrap()).unwrap();
        let out = wembed(&[
            "export",
            model.to_str().unwrap(),
            "--format",
            "npy",
            "-o",
            npy.to_str().unwrap(),
            "--dtype",
            dtype,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t = Tensor::read_npy(&npy).unwrap();
        assert_eq!(t.dtype(), candle_dtype, "npy {dtype}");
        assert_eq!(rows_f32(&t), expected(&ours, is_f16), "npy {dtype} values");
        assert_eq!(
            vocab_words(&npy.with_file_name("vectors.vocab.txt")),
            ours.words
        );

        // safetensors: a tensor named "embeddings", the vocabulary in the metadata and vocab.txt.
        let st = p(&dir, &format!("st-{dtype}/vectors.safetensors"));
        std::fs::create_dir_all(st.parent().unwrap()).unwrap();
        let out = wembed(&[
            "export",
            model.to_str().unwrap(),
            "--format",
            "safetensors",
            "-o",
            st.to_str().unwrap(),
            "--dtype",
            dtype,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tensors = candle_core::safetensors::load(&st, &dev).unwrap();
        let t = &tensors["embeddings"];
        assert_eq!(t.dtype(), candle_dtype, "safetensors {dtype}");
        assert_eq!(
            rows_f32(t),
            expected(&ours, is_f16),
            "safetensors {dtype} values"
        );
        // The way a candle model takes its weights: a VarBuilder over the file.
        let from_vb = through_var_builder(&st, ours.len(), 12);
        assert_eq!(rows_f32(&from_vb), expected(&ours, is_f16));
        let bytes = std::fs::read(&st).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let vocab: Vec<String> =
            serde_json::from_str(&meta.metadata().as_ref().unwrap()["vocab"]).unwrap();
        assert_eq!(vocab, ours.words);
        assert_eq!(
            vocab_words(&st.with_file_name("vectors.vocab.txt")),
            ours.words
        );
    }
}

/// `VarBuilder::from_mmaped_safetensors` is `unsafe` in candle's API (the file could change under
/// the map), so the test uses the buffered constructor, which parses the same header and bytes.
fn through_var_builder(path: &std::path::Path, rows: usize, dim: usize) -> Tensor {
    let bytes = std::fs::read(path).unwrap();
    let vb =
        candle_nn::VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
    vb.get((rows, dim), "embeddings").unwrap()
}
