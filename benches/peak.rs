//! What this machine can do at most: f32 FMA throughput and memory bandwidth, on one thread and
//! on every thread, so that a trainer's achieved GFLOP/s can be read as a share of the peak
//! (BENCHMARKS.md, issue 20). Prints one table.
//!
//! cargo bench --bench peak
//!
//! FMA: independent accumulator chains, enough of them to cover the instruction's latency on both
//! FMA units, over data that stays in registers. Bandwidth: a read-only sum over a buffer far
//! larger than the caches, and a copy (read + write), each thread on its own slice.

use std::time::Instant;

/// Vector accumulators: latency (4–5 cycles) × FMA units (2) needs about ten independent chains.
const CHAINS: usize = 12;
/// f32 lanes of an AVX2 register, for the bandwidth loops.
const LANES: usize = 8;

/// `N` independent FMA lanes (`CHAINS` registers of `N / CHAINS` lanes each). One flat array, not
/// an array of registers: LLVM keeps a flat `[f32; 192]` in twelve AVX-512 registers but spills
/// `[[f32; 16]; 12]` to memory (measured: 2 GFLOP/s against 104).
#[inline(always)]
fn fma_chains<const N: usize>(iters: u64, seed: f32) -> f32 {
    let mut acc = [seed; N];
    let (a, b) = ([0.999_999_f32; N], [1e-7_f32; N]);
    for _ in 0..iters {
        for l in 0..N {
            acc[l] = acc[l].mul_add(a[l], b[l]);
        }
    }
    acc.iter().sum()
}

#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn fma_avx2(iters: u64, seed: f32) -> f32 {
    fma_chains::<{ CHAINS * 8 }>(iters, seed)
}

/// The peak of the widest registers the CPU has, whether or not the trainers use them (they do
/// not: an AVX-512 build of their hot loops was no faster, BENCHMARKS.md).
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma"
))]
fn fma_avx512(iters: u64, seed: f32) -> f32 {
    fma_chains::<{ CHAINS * 16 }>(iters, seed)
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The register width an FMA loop fills.
#[derive(Clone, Copy)]
enum Width {
    Avx2,
    Avx512,
}

impl Width {
    fn lanes(self) -> usize {
        match self {
            Width::Avx2 => 8,
            Width::Avx512 => 16,
        }
    }

    fn run(self, iters: u64, seed: f32) -> f32 {
        match self {
            Width::Avx2 => fma_avx2(iters, seed),
            Width::Avx512 => fma_avx512(iters, seed),
        }
    }
}

/// FLOP per second of `threads` threads running the FMA loop of `width` at once.
fn fma_flops(threads: usize, width: Width) -> f64 {
    let iters = 200_000_000 / CHAINS as u64;
    let t = Instant::now();
    let sink: f32 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|k| s.spawn(move || width.run(iters, k as f32)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    });
    std::hint::black_box(sink);
    let flop = 2.0 * (iters * (CHAINS * width.lanes()) as u64 * threads as u64) as f64;
    flop / t.elapsed().as_secs_f64()
}

#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; 4 * LANES];
    for c in x.chunks_exact(4 * LANES) {
        for l in 0..4 * LANES {
            acc[l] += c[l];
        }
    }
    acc.iter().sum()
}

/// Bytes per second: `copy` false reads each slice once; true copies it into a second buffer.
fn bandwidth(threads: usize, copy: bool) -> f64 {
    let per = (1usize << 30) / 4 / threads;
    let mut src = vec![1f32; per * threads];
    let mut dst = vec![0f32; if copy { per * threads } else { 0 }];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        std::thread::scope(|s| {
            if copy {
                for (a, b) in src.chunks(per).zip(dst.chunks_mut(per)) {
                    s.spawn(move || b.copy_from_slice(a));
                }
            } else {
                for a in src.chunks(per) {
                    s.spawn(move || std::hint::black_box(sum(a)));
                }
            }
        });
        best = best.min(t.elapsed().as_secs_f64());
        src[0] += 1.0;
    }
    let bytes = (per * threads * 4) as f64 * if copy { 2.0 } else { 1.0 };
    bytes / best
}

fn main() {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "| threads | FMA GFLOP/s (f32, AVX2) | FMA GFLOP/s (f32, AVX-512) | read GB/s | copy GB/s (read + write) |"
    );
    println!("|---|---|---|---|---|");
    for threads in [1, all]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let best = |width| {
            (0..3)
                .map(|_| fma_flops(threads, width))
                .fold(0.0, f64::max)
        };
        let wide = match has_avx512() {
            true => format!("{:.1}", best(Width::Avx512) / 1e9),
            false => "n/a".into(),
        };
        println!(
            "| {threads} | {:.1} | {wide} | {:.1} | {:.1} |",
            best(Width::Avx2) / 1e9,
            bandwidth(threads, false) / 1e9,
            bandwidth(threads, true) / 1e9
        );
    }
}
