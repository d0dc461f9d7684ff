//! Convolution kernels: `cargo bench --bench conv`. 3x3 kernels over batches of 64 at 1, 32
//! and 64 input channels (the W3 CNN's two layers, 28x28x1 -> 32 and 13x13x32 -> 64, and a
//! 14x14x64 -> 64 "same" layer, and a depthwise 28x28x32 one); throughput in FLOP/s (2 per multiply-add), shown by
//! criterion as elem/s. `forward`: y = conv(x, w) + b. `backward`: the input, kernel and bias
//! gradients in one pass; `backward_weights`: kernel and bias only (a first layer's).
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ember::cpu::conv::{conv_backward, conv_forward, BackwardInputs};
use ember::cpu::im2col::ConvGeom;
use std::hint::black_box;
use std::time::Duration;

fn data(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + seed) % 101) as f32 / 101.0 - 0.5)
        .collect()
}

/// A 2-d 3x3 convolution, stride 1, "valid" or "same" padding; `groups == cin` is depthwise.
fn geom(batch: usize, size: usize, cin: usize, cout: usize, same: bool, groups: usize) -> ConvGeom {
    let (out, pad) = if same { (size, 1) } else { (size - 2, 0) };
    ConvGeom {
        batch,
        input: [1, size, size],
        output: [1, out, out],
        kernel: [1, 3, 3],
        stride: [1; 3],
        dilation: [1; 3],
        pad: [0, pad, pad],
        in_channels: cin,
        out_channels: cout,
        groups,
    }
}

fn conv2d(c: &mut Criterion) {
    ember::cpu::pool::keep_freed_memory();
    let mut group = c.benchmark_group("conv2d_3x3");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for (size, cin, cout, same, groups) in [
        (28, 1, 32, false, 1),
        (13, 32, 64, false, 1),
        (14, 64, 64, true, 1),
        (28, 32, 32, true, 32),
    ] {
        let g = geom(64, size, cin, cout, same, groups);
        let (x, w, b) = (data(g.x_len(), 1), data(g.w_len(), 2), data(cout, 3));
        let gy = data(g.y_len(), 4);
        let kind = if groups > 1 { " depthwise" } else { "" };
        let name = format!("64x{size}x{size}x{cin}->{cout}{kind}");
        group.throughput(Throughput::Elements(2 * g.flops() as u64));
        group.bench_function(BenchmarkId::new("forward", &name), |bench| {
            bench.iter(|| conv_forward(&g, black_box(&x), black_box(&w), Some(&b)))
        });
        let all = BackwardInputs {
            x: Some(&x),
            w: Some(&w),
            bias: true,
            x_init: None,
        };
        group.throughput(Throughput::Elements(4 * g.flops() as u64));
        group.bench_function(BenchmarkId::new("backward", &name), |bench| {
            bench.iter(|| conv_backward(&g, black_box(&gy), all))
        });
        let weights = BackwardInputs { w: None, ..all };
        group.throughput(Throughput::Elements(2 * g.flops() as u64));
        group.bench_function(BenchmarkId::new("backward_weights", &name), |bench| {
            bench.iter(|| conv_backward(&g, black_box(&gy), weights))
        });
    }
    group.finish();
}

criterion_group!(benches, conv2d);
criterion_main!(benches);
