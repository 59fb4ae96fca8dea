//! The LM's training step at the benchmark's shape (V 10k, dim 128, 2 layers, 4 heads, batch
//! 16 × 64), and its output loss alone: candle's composed `cross_entropy` against the fused
//! softmax cross-entropy, forward and backward over the same [256, 10k] logits (a block of the
//! size `Transformer::loss` makes).
//!
//! cargo bench --bench lm

use candle_core::{Device, Tensor, Var};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wembed::lm::{Config, Lm};
use wembed::vocab::Vocab;

const V: usize = 10_000;
const TOKENS: usize = 16 * 64;
const BLOCK: usize = 256;

fn logits() -> Var {
    let data: Vec<f32> = (0..BLOCK * V)
        .map(|k| ((k.wrapping_mul(2654435761) >> 7) % 2000) as f32 / 200.0 - 5.0)
        .collect();
    Var::from_vec(data, (BLOCK, V), &Device::Cpu).unwrap()
}

fn targets(n: usize) -> Tensor {
    let t: Vec<u32> = (0..n as u32).map(|i| i * 7919 % V as u32).collect();
    Tensor::from_vec(t, n, &Device::Cpu).unwrap()
}

fn output_loss(c: &mut Criterion) {
    let (x, t) = (logits(), targets(BLOCK));
    let mut g = c.benchmark_group("lm_output_loss");
    g.sample_size(10)
        .throughput(Throughput::Elements(TOKENS as u64));
    g.bench_function("composed", |b| {
        b.iter(|| {
            let loss = candle_nn::loss::cross_entropy(x.as_tensor(), &t).unwrap();
            loss.backward().unwrap()
        })
    });
    g.bench_function("fused", |b| {
        b.iter(|| {
            let rows = wembed::lm::loss::cross_entropy_rows(x.as_tensor(), &t).unwrap();
            (rows.sum_all().unwrap() / BLOCK as f64)
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
        dim: 128,
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
