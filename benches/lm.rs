//! The LM's training step at the benchmark's shape (V 10k, dim 128, 2 layers, 4 heads, batch
//! 16 × 64), and its output layer alone (h [1024, 128] times a [10k, 128] matrix, then softmax
//! cross-entropy, forward and backward): candle's composed form, whole-batch, against the fused
//! operation of `wembed::lm::loss`.
//!
//! cargo bench --bench lm

use candle_core::{Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wembed::lm::{Config, Lm};
use wembed::vocab::Vocab;

const V: usize = 10_000;
const DIM: usize = 128;
const TOKENS: usize = 16 * 64;

fn var(rows: usize, cols: usize, scale: f32) -> Var {
    let data: Vec<f32> = (0..rows * cols)
        .map(|k| (((k.wrapping_mul(2654435761) >> 7) % 2000) as f32 / 1000.0 - 1.0) * scale)
        .collect();
    Var::from_vec(data, (rows, cols), &Device::Cpu).unwrap()
}

fn targets(n: usize) -> Tensor {
    let t: Vec<u32> = (0..n as u32).map(|i| i * 7919 % V as u32).collect();
    Tensor::from_vec(t, n, &Device::Cpu).unwrap()
}

fn output_loss(c: &mut Criterion) {
    let (h, w, t) = (var(TOKENS, DIM, 1.0), var(V, DIM, 0.1), targets(TOKENS));
    let mut g = c.benchmark_group("lm_output_loss");
    g.sample_size(20)
        .throughput(Throughput::Elements(TOKENS as u64));
    g.bench_function("composed", |b| {
        b.iter(|| {
            let logits = h.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap();
            let loss = candle_nn::loss::cross_entropy(&logits, &t).unwrap();
            loss.backward().unwrap()
        })
    });
    g.bench_function("fused", |b| {
        b.iter(|| {
            let rows = wembed::lm::loss::output_loss(h.as_tensor(), w.as_tensor(), &t).unwrap();
            (rows.sum_all().unwrap() / TOKENS as f64)
                .unwrap()
                .backward()
                .unwrap()
        })
    });
    g.finish();
}

fn training_step(c: &mut Criterion) {
    let words: Vec<(String, u64)> = (0..V).map(|i| (format!("w{i}"), (V - i) as u64)).collect();
    let vocab = Vocab::from_ordered(words);
    let cfg = Config {
        vocab_size: V,
        dim: DIM,
        layers: 2,
        heads: 4,
        context: 64,
        mlp_ratio: 4,
        tied: true,
        embed_dim: None,
    };
    let lm = Lm::new(&cfg, vocab, 1, &Device::Cpu).unwrap();
    let t = targets(TOKENS);
    let ids = t.reshape((16, 64)).unwrap();
    let mut g = c.benchmark_group("lm_step");
    g.sample_size(10)
        .throughput(Throughput::Elements(TOKENS as u64));
    g.bench_function("forward_backward", |b| {
        b.iter(|| lm.model.loss(&ids, &t).unwrap().backward().unwrap())
    });
    g.finish();
}

criterion_group!(benches, output_loss, training_step);
criterion_main!(benches);
