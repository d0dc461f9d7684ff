//! Fused recurrent layers: `cargo bench --bench rnn`. An LSTM and a GRU layer at hidden
//! 128 and 512, batch 64, 50 steps, input 64 (the W4 shape at hidden 128): `forward` is
//! the sequence op alone, `forward_backward` the op plus backward through time with every
//! gradient (inputs, kernels, bias, initial states). `gates` times the LSTM gate kernels
//! alone on one step of 64 rows at hidden 128 (no GEMM), in rows per second.
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ember::autograd::{grad, watch};
use ember::cpu::rnn::{Backward, Cell, Forward, GateFn};
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

fn values(n: usize, seed: usize, scale: f32) -> Vec<f32> {
    data(&[n], seed, scale).to_vec_f32().unwrap()
}

fn gates(c: &mut Criterion) {
    let (rows, u) = (64, 128);
    let mut group = c.benchmark_group("lstm_gates_b64_h128");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(rows as u64));
    let arch = pulp::Arch::new();
    let (xw, rz, bias) = (
        values(rows * 4 * u, 1, 4.0),
        values(rows * 4 * u, 2, 4.0),
        values(4 * u, 3, 1.0),
    );
    let (h_prev, c_prev) = (values(rows * u, 4, 1.0), values(rows * u, 5, 1.0));
    let mut saved = vec![0.0; rows * 4 * u];
    let (mut h, mut cs, mut eff) = (
        vec![0.0; rows * u],
        vec![0.0; rows * u],
        vec![0.0; rows * u],
    );
    group.bench_function("forward", |bench| {
        bench.iter(|| {
            for i in 0..rows {
                arch.dispatch(Forward {
                    cell: Cell::Lstm,
                    act: GateFn::Tanh,
                    ract: GateFn::Sigmoid,
                    m: 1.0,
                    xw: &xw[i * 4 * u..(i + 1) * 4 * u],
                    bias: &bias,
                    rz: &rz[i * 4 * u..(i + 1) * 4 * u],
                    rbias: &[],
                    h_prev: &h_prev[i * u..(i + 1) * u],
                    c_prev: &c_prev[i * u..(i + 1) * u],
                    saved: &mut saved[i * 4 * u..(i + 1) * 4 * u],
                    h: &mut h[i * u..(i + 1) * u],
                    c: &mut cs[i * u..(i + 1) * u],
                    eff_next: &mut eff[i * u..(i + 1) * u],
                    rmask: None,
                });
            }
        })
    });
    let g_out = values(rows * u, 6, 1.0);
    let (mut dh, mut dc, mut da) = (
        vec![0.0; rows * u],
        values(rows * u, 7, 1.0),
        vec![0.0; rows * 4 * u],
    );
    let (mut deff, mut pass, mut tmp) = (
        vec![0.0; rows * u],
        vec![0.0; rows * u],
        vec![0.0; rows * u],
    );
    group.bench_function("backward", |bench| {
        bench.iter(|| {
            for i in 0..rows {
                let unit = i * u..(i + 1) * u;
                arch.dispatch(Backward {
                    cell: Cell::Lstm,
                    act: GateFn::Tanh,
                    ract: GateFn::Sigmoid,
                    m: 1.0,
                    g_out: &g_out[unit.clone()],
                    rmask: None,
                    dh: &mut dh[unit.clone()],
                    dc: &mut dc[unit.clone()],
                    saved: &saved[i * 4 * u..(i + 1) * 4 * u],
                    h: &h[unit.clone()],
                    h_prev: &[],
                    c: &cs[unit.clone()],
                    c_prev: &c_prev[unit.clone()],
                    da: &mut da[i * 4 * u..(i + 1) * 4 * u],
                    deff: &mut deff[unit.clone()],
                    pass: &mut pass[unit.clone()],
                    tmp: &mut tmp[unit],
                });
            }
        })
    });
    group.finish();
}

criterion_group!(benches, rnn, gates);
criterion_main!(benches);
