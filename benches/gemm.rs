//! GEMM kernels: `cargo bench --bench gemm`. Throughput is in FLOP/s (2 m n k per product),
//! shown by criterion as elem/s. Threads: the ember pool's default (all cores), or
//! `EMBER_NUM_THREADS=1 cargo bench --bench gemm` for one.
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ember::cpu::gemm::{sgemm, MatRef};
use ember::{ops, Tensor};
use std::hint::black_box;
use std::time::Duration;

fn data(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + seed) % 101) as f32 / 101.0 - 0.5)
        .collect()
}

fn tensor(shape: &[usize], seed: usize) -> Tensor {
    Tensor::from_f32(data(shape.iter().product(), seed), shape).unwrap()
}

/// One product `c (m x n) = a (m x k) @ b (k x n)`; `ta`/`tb`: the operand is stored
/// transposed (k x m / n x k) and passed as a view, as the backward of a Dense layer does.
fn product(c: &mut Criterion, group: &str, m: usize, k: usize, n: usize, ta: bool, tb: bool) {
    let (a, b) = (data(m * k, 1), data(k * n, 2));
    let mut out = vec![0.0f32; m * n];
    let ma = if ta {
        MatRef::row_major(&a, m).t()
    } else {
        MatRef::row_major(&a, k)
    };
    let mb = if tb {
        MatRef::row_major(&b, k).t()
    } else {
        MatRef::row_major(&b, n)
    };
    let name = format!(
        "{m}x{k}x{n}{}{}",
        if ta { " aT" } else { "" },
        if tb { " bT" } else { "" }
    );
    let mut g = c.benchmark_group(group);
    let secs = (2.0 * (m * n * k) as f64 / 50e9 * 20.0).clamp(0.5, 3.0);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs_f64(secs))
        .throughput(Throughput::Elements(2 * (m * n * k) as u64));
    g.bench_function(BenchmarkId::from_parameter(name), |bench| {
        bench.iter(|| sgemm(m, n, k, ma, mb, black_box(&mut out), n, false))
    });
    g.finish();
}

fn squares(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    for n in [64, 128, 256, 512, 1024, 2048] {
        product(c, "sgemm_square", n, n, n, false, false);
    }
}

/// The products of training the W2 MLP (784 -> 512 -> 256 -> 10, batch 128): forward
/// `x @ w`, backward `g @ w^T` (input gradient) and `x^T @ g` (kernel gradient).
fn mlp_shapes(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    for (fan_in, fan_out) in [(784, 512), (512, 256), (256, 10)] {
        product(c, "sgemm_mlp", 128, fan_in, fan_out, false, false);
        product(c, "sgemm_mlp", 128, fan_out, fan_in, false, true);
        product(c, "sgemm_mlp", fan_in, 128, fan_out, true, false);
    }
}

/// `ops::matmul` on batches: many small products (one per task), a few large ones, and a
/// rank-3 input times a shared matrix (folded into one tall product).
fn batched(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    let mut g = c.benchmark_group("matmul_batched");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    // (batch, m, k, n, whether b is one matrix shared by the batch)
    for (nb, m, k, n, shared) in [
        (256, 32, 32, 32, false),
        (16, 128, 128, 128, false),
        (4, 512, 512, 512, false),
        (32, 50, 64, 128, true),
    ] {
        let a = tensor(&[nb, m, k], 1);
        let b = if shared {
            tensor(&[k, n], 2)
        } else {
            tensor(&[nb, k, n], 2)
        };
        g.throughput(Throughput::Elements(2 * (nb * m * k * n) as u64));
        let name = format!("{:?}@{:?}", a.shape(), b.shape());
        g.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter(|| ops::matmul(black_box(&a), black_box(&b)).unwrap())
        });
    }
    g.finish();
}

/// The per-step products of the W4 LSTM (batch 64, 128 units, 4 gates): forward
/// `h @ recurrent_kernel` and backward `da @ recurrent_kernel^T`, and the same for half the
/// batch (what one of two threads computes when the batch is split between them); then
/// one thread's share of the recurrent kernel's gradient, `h^T @ da` over 32 rows and 50
/// steps, and the same product transposed (`da^T @ h`).
fn rnn_step_shapes(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    for m in [64, 32] {
        product(c, "sgemm_rnn_step", m, 128, 512, false, false);
        product(c, "sgemm_rnn_step", m, 512, 128, false, false);
    }
    product(c, "sgemm_rnn_step", 128, 1600, 512, true, false);
    product(c, "sgemm_rnn_step", 512, 1600, 128, true, false);
}

criterion_group!(benches, squares, mlp_shapes, batched, rnn_step_shapes);
criterion_main!(benches);
