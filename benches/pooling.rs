//! Pooling kernels on the W3 CNN shapes (../shared/bench/WORKLOADS.md): 2x2 max and average
//! pooling of batch 64 at 26x26x32 (after the first conv) and 11x11x64 (after the second).
//! `cargo bench --bench pooling`; throughput is input elements per second. Each shape is
//! timed as inference (no gradient kept), training forward (max pooling keeps the argmax)
//! and backward (the input gradient from an output gradient).
//! Threads: the ember pool's default, or `EMBER_NUM_THREADS=2 cargo bench --bench pooling`.
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ember::autograd::{grad, watch};
use ember::ops::{self, PoolPadding};
use ember::{NoGrad, Tensor};
use std::hint::black_box;
use std::time::Duration;

fn tensor(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| ((i * 7919 + seed) % 101) as f32 / 101.0 - 0.5)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn pool(x: &Tensor, max: bool) -> Tensor {
    let f = if max {
        ops::max_pool
    } else {
        ops::average_pool
    };
    f(x, &[2, 2], None, PoolPadding::Valid, false).unwrap()
}

fn shapes(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    for shape in [[64, 26, 26, 32], [64, 11, 11, 64]] {
        let x = tensor(&shape, 1);
        let name = format!("{}x{}x{}x{}", shape[0], shape[1], shape[2], shape[3]);
        for max in [true, false] {
            let kind = if max { "max_pool2x2" } else { "avg_pool2x2" };
            let mut g = c.benchmark_group(kind);
            g.sample_size(20)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(2))
                .throughput(Throughput::Elements(x.numel() as u64));
            g.bench_function(BenchmarkId::new("inference", &name), |b| {
                let _ng = NoGrad::new();
                b.iter(|| pool(black_box(&x), max))
            });
            let xw = watch(&x);
            g.bench_function(BenchmarkId::new("training forward", &name), |b| {
                b.iter(|| pool(black_box(&xw), max))
            });
            let y = pool(&xw, max);
            let seed = tensor(y.shape(), 2);
            g.bench_function(BenchmarkId::new("backward", &name), |b| {
                b.iter(|| grad(black_box(&y), Some(&seed), &[]).unwrap())
            });
            g.finish();
        }
    }
}

criterion_group!(benches, shapes);
criterion_main!(benches);
