//! Fused recurrent layers: `cargo bench --bench rnn`. An LSTM and a GRU layer at hidden
//! 128 and 512, batch 64, 50 steps, input 64 (the W4 shape at hidden 128): `forward` is
//! the sequence op alone, `forward_backward` the op plus backward through time with every
//! gradient (inputs, kernels, bias, initial states).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use ember::autograd::{grad, watch};
use ember::cpu::rnn::{Cell, GateFn};
use ember::ops::{self, RnnSpec};
use ember::Tensor;
use std::hint::black_box;
use std::time::Duration;

fn data(shape: &[usize], seed: usize, scale: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| scale * (((i * 7919 + seed) % 101) as f32 / 101.0 - 0.5))
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn rnn(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    let mut group = c.benchmark_group("rnn_b64_t50_in64");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    let (b, t, d) = (64, 50, 64);
    for (label, cell) in [
        ("lstm", Cell::Lstm),
        ("gru", Cell::Gru { reset_after: true }),
    ] {
        for u in [128, 512] {
            let gu = cell.gates() * u;
            let bias_shape: Vec<usize> = if label == "gru" {
                vec![2, gu]
            } else {
                vec![gu]
            };
            let x = data(&[b, t, d], 1, 1.0);
            let w = data(&[d, gu], 2, 0.2);
            let r = data(&[u, gu], 3, 0.1);
            let bias = data(&bias_shape, 4, 0.1);
            let ns = if cell == Cell::Lstm { 2 } else { 1 };
            let init: Vec<Tensor> = (0..ns).map(|_| Tensor::zeros(&[b, u])).collect();
            let spec = RnnSpec {
                cell,
                activation: GateFn::Tanh,
                recurrent_activation: GateFn::Sigmoid,
                go_backwards: false,
            };
            let name = format!("{label}_h{u}");
            group.bench_function(BenchmarkId::new("forward", &name), |bench| {
                bench.iter(|| {
                    ops::rnn(black_box(&x), &w, &r, Some(&bias), &init, None, None, &spec).unwrap()
                })
            });
            let (xl, wl, rl, bl) = (watch(&x), watch(&w), watch(&r), watch(&bias));
            group.bench_function(BenchmarkId::new("forward_backward", &name), |bench| {
                bench.iter(|| {
                    let y = ops::rnn(&xl, &wl, &rl, Some(&bl), &init, None, None, &spec).unwrap();
                    let loss = ops::sum(&y, None, false).unwrap();
                    grad(&loss, None, &[]).unwrap()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, rnn);
criterion_main!(benches);
