//! Elementwise ops, softmax and an Adam step on 1M float32 elements:
//! `cargo bench --bench elementwise`.
//! Throughput is in elements/s. Threads: the ember pool's default, or `EMBER_NUM_THREADS`.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ember::optim;
use ember::{ops, Result, Tensor, Variable};
use std::hint::black_box;
use std::time::Duration;

type Binary = fn(&Tensor, &Tensor) -> Result<Tensor>;
type Unary = fn(&Tensor) -> Result<Tensor>;

const ROWS: usize = 1000;
const COLS: usize = 1000;

fn tensor(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| ((i * 7919 + seed) % 101) as f32 / 50.0 - 1.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements((ROWS * COLS) as u64));
    g
}

/// Binary ops on [1000, 1000]: same shapes, a row vector and a column broadcast.
fn binary(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    let x = tensor(&[ROWS, COLS], 1);
    let cases: [(&str, Tensor, Binary); 4] = [
        (
            "add [1000,1000]+[1000,1000]",
            tensor(&[ROWS, COLS], 2),
            ops::add,
        ),
        ("add [1000,1000]+[1000]", tensor(&[COLS], 3), ops::add),
        (
            "multiply [1000,1000]*[1000,1000]",
            tensor(&[ROWS, COLS], 4),
            ops::multiply,
        ),
        (
            "multiply [1000,1000]*[1000,1]",
            tensor(&[ROWS, 1], 5),
            ops::multiply,
        ),
    ];
    let mut g = group(c, "binary");
    for (name, y, op) in cases {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| op(black_box(&x), black_box(&y)).unwrap())
        });
    }
    g.finish();
}

/// Unary ops on 1M elements.
fn unary(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    let x = tensor(&[ROWS * COLS], 6);
    let cases: [(&str, Unary); 2] = [("relu", ops::relu), ("exp", ops::exp)];
    let mut g = group(c, "unary");
    for (name, op) in cases {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| op(black_box(&x)).unwrap())
        });
    }
    g.finish();
}

/// Softmax and log-softmax over the last axis of [1000, 1000].
fn softmax(c: &mut Criterion) {
    let x = tensor(&[ROWS, COLS], 7);
    let mut g = group(c, "softmax");
    g.bench_function("softmax axis=-1", |b| {
        b.iter(|| ops::softmax(black_box(&x), -1).unwrap())
    });
    g.bench_function("log_softmax axis=-1", |b| {
        b.iter(|| ops::log_softmax(black_box(&x), -1).unwrap())
    });
    g.finish();
}

/// One fused Adam step over 1M parameters (variable, gradient, two slots).
fn adam_step(c: &mut Criterion) {
    let var = Variable::new("w", tensor(&[ROWS, COLS], 8), true);
    let grad = tensor(&[ROWS, COLS], 9);
    let mut adam = optim::get("adam").unwrap();
    let (vars, grads) = (vec![var], vec![grad]);
    let mut g = group(c, "optimizer");
    g.bench_function("adam step 1M params", |b| {
        b.iter(|| adam.apply(black_box(&grads), black_box(&vars)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, binary, unary, softmax, adam_step);
criterion_main!(benches);
