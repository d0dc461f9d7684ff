//! Convolutions: forward against references written from the definitions (gather form for
//! convolutions, scatter form for transposed ones), gradients by finite differences for
//! every option that changes the index arithmetic, the layer's shape errors.
use ember::autograd::check_gradients;
use ember::nn::activations;
use ember::nn::layers::{Conv, ConvKind};
use ember::nn::{Context, Layer};
use ember::ops::{self, ConvOptions, Padding};
use ember::{Error, Result, Tensor, Variable};

/// Deterministic values in [-1, 1), none exactly 0.
fn data(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 + 0.25) / 50.5 - 1.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn opts(strides: &[usize], padding: Padding, dilation: &[usize]) -> ConvOptions {
    ConvOptions {
        strides: strides.to_vec(),
        padding,
        dilation: dilation.to_vec(),
    }
}

fn close(got: &Tensor, want: &(Vec<usize>, Vec<f32>)) {
    assert_eq!(got.shape(), &want.0[..], "shapes differ");
    for (i, (a, b)) in got.to_vec_f32().unwrap().iter().zip(&want.1).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "element {i}: {a} vs {b}"
        );
    }
}

/// Row-major index of `idx` in `shape`.
fn flat(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &s)| acc * s + i)
}

/// Every index of `shape`, row-major.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &s in shape {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..s).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}

/// Keras's output size and leading pad of one axis of a convolution.
fn axis(padding: Padding, input: usize, k: usize, s: usize, d: usize) -> (usize, isize) {
    let k_eff = (k - 1) * d + 1;
    match padding {
        Padding::Valid => ((input - k_eff) / s + 1, 0),
        Padding::Same => {
            let out = input.div_ceil(s);
            let total = ((out - 1) * s + k_eff).saturating_sub(input);
            (out, (total / 2) as isize)
        }
        Padding::Causal => (input.div_ceil(s), (k_eff - 1) as isize),
    }
}

/// Grouped convolution by its definition: `y[n, o, f] = sum_{t, c} x[n, o*s + t*d - pad,
/// g*cg + c] * w[t, c, f]` with `g = f / (filters / groups)`.
fn reference_conv(x: &Tensor, w: &Tensor, o: &ConvOptions) -> (Vec<usize>, Vec<f32>) {
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    let r = xs.len() - 2;
    let (cin, cg, filters) = (xs[r + 1], ws[r], ws[r + 1]);
    let fg = filters / (cin / cg);
    let pick = |v: &[usize], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    let dims: Vec<(usize, isize)> = (0..r)
        .map(|i| {
            axis(
                o.padding,
                xs[1 + i],
                ws[i],
                pick(&o.strides, i),
                pick(&o.dilation, i),
            )
        })
        .collect();
    let mut shape = vec![xs[0]];
    shape.extend(dims.iter().map(|d| d.0));
    shape.push(filters);
    let (xd, wd) = (x.to_vec_f32().unwrap(), w.to_vec_f32().unwrap());
    let mut y = vec![0.0; shape.iter().product()];
    for idx in indices(&shape) {
        let (n, f) = (idx[0], idx[r + 1]);
        let mut acc = 0.0;
        for tap in indices(&ws[..r]) {
            let pos: Vec<isize> = (0..r)
                .map(|i| {
                    (idx[1 + i] * pick(&o.strides, i) + tap[i] * pick(&o.dilation, i)) as isize
                        - dims[i].1
                })
                .collect();
            if pos
                .iter()
                .zip(&xs[1..=r])
                .any(|(&p, &s)| p < 0 || p >= s as isize)
            {
                continue;
            }
            for c in 0..cg {
                let mut xi = vec![n];
                xi.extend(pos.iter().map(|&p| p as usize));
                xi.push((f / fg) * cg + c);
                let mut wi = tap.clone();
                wi.extend([c, f]);
                acc += xd[flat(&xi, &xs)] * wd[flat(&wi, &ws)];
            }
        }
        y[flat(&idx, &shape)] = acc;
    }
    (shape, y)
}

/// Transposed convolution by scattering: each input value times the kernel lands at
/// `i*s + t*d` of the full output `(i - 1) * s + k_eff`, which is then cropped (or
/// extended with zeros) to Keras's window: the first `k_eff - 1 - left_pad` positions
/// dropped, `left_pad` being Keras's JAX padding.
fn reference_transpose(
    x: &Tensor,
    w: &Tensor,
    o: &ConvOptions,
    output_padding: Option<&[usize]>,
) -> (Vec<usize>, Vec<f32>) {
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    let r = xs.len() - 2;
    let filters = ws[r];
    let pick = |v: &[usize], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    // (output size, crop at the front) per axis
    let dims: Vec<(usize, usize)> = (0..r)
        .map(|i| {
            let (s, d, input) = (pick(&o.strides, i), pick(&o.dilation, i), xs[1 + i]);
            let k = (ws[i] - 1) * d + 1;
            let op = output_padding.map(|p| pick(p, i));
            let (out, left) = if o.padding == Padding::Same {
                let (out, pad_len) = match op {
                    None => (input * s, s + k - 2),
                    Some(op) => ((input - 1) * s + k % 2 + op, k + k % 2 - 2 + op),
                };
                (out, (pad_len / 2 + pad_len % 2).min(k - 1))
            } else {
                ((input - 1) * s + k + op.unwrap_or(k.max(s) - k), k - 1)
            };
            (out, k - 1 - left)
        })
        .collect();
    let mut shape = vec![xs[0]];
    shape.extend(dims.iter().map(|d| d.0));
    shape.push(filters);
    let (xd, wd) = (x.to_vec_f32().unwrap(), w.to_vec_f32().unwrap());
    let mut y = vec![0.0; shape.iter().product()];
    for xi in indices(&xs) {
        for tap in indices(&ws[..r]) {
            let mut yi = vec![xi[0]];
            let mut inside = true;
            for i in 0..r {
                let p = (xi[1 + i] * pick(&o.strides, i) + tap[i] * pick(&o.dilation, i)) as isize
                    - dims[i].1 as isize;
                inside &= p >= 0 && p < dims[i].0 as isize;
                yi.push(p.max(0) as usize);
            }
            if !inside {
                continue;
            }
            for f in 0..filters {
                let mut wi = tap.clone();
                wi.extend([f, xi[r + 1]]);
                yi.push(f);
                y[flat(&yi, &shape)] += xd[flat(&xi, &xs)] * wd[flat(&wi, &ws)];
                yi.pop();
            }
        }
    }
    (shape, y)
}

/// (input shape, kernel shape, options) covering strides, dilation, the three paddings,
/// groups, ranks 1 to 3, one-channel inputs (the direct kernels) and 1x1 kernels.
fn conv_cases() -> Vec<(Vec<usize>, Vec<usize>, ConvOptions)> {
    use Padding::*;
    vec![
        (vec![2, 9, 3], vec![3, 3, 4], opts(&[1], Valid, &[1])),
        (vec![2, 9, 3], vec![3, 3, 2], opts(&[2], Same, &[1])),
        (vec![2, 9, 2], vec![3, 2, 3], opts(&[1], Causal, &[2])),
        (vec![2, 10, 2], vec![2, 2, 2], opts(&[3], Causal, &[1])),
        (vec![2, 6, 5, 3], vec![3, 3, 3, 4], opts(&[1], Same, &[1])),
        (
            vec![2, 7, 6, 2],
            vec![3, 2, 2, 3],
            opts(&[2, 1], Valid, &[1]),
        ),
        (
            vec![1, 8, 7, 2],
            vec![3, 3, 2, 2],
            opts(&[1], Same, &[2, 3]),
        ),
        (vec![2, 6, 6, 4], vec![3, 3, 2, 6], opts(&[2], Same, &[1])), // 2 groups
        (vec![2, 6, 5, 4], vec![2, 2, 1, 4], opts(&[1], Valid, &[1])), // 4 groups: direct
        (vec![2, 7, 7, 1], vec![3, 3, 1, 5], opts(&[2], Same, &[1])), // one channel: direct
        (vec![2, 5, 4, 3], vec![1, 1, 3, 4], opts(&[1], Valid, &[1])), // pointwise
        (
            vec![1, 4, 5, 4, 2],
            vec![2, 3, 2, 2, 3],
            opts(&[1, 2, 1], Same, &[1]),
        ),
        (
            vec![1, 5, 4, 4, 2],
            vec![2, 2, 2, 1, 4],
            opts(&[2], Valid, &[1]),
        ),
    ]
}

#[test]
fn conv_forward_matches_the_definition() {
    for (xs, ws, o) in conv_cases() {
        let (x, w) = (data(&xs, 1), data(&ws, 2));
        close(
            &ops::conv(&x, &w, None, &o).unwrap(),
            &reference_conv(&x, &w, &o),
        );
        // the fused bias
        let f = ws[ws.len() - 1];
        let b = data(&[f], 3);
        let (shape, mut want) = reference_conv(&x, &w, &o);
        for (i, v) in want.iter_mut().enumerate() {
            *v += b.to_vec_f32().unwrap()[i % f];
        }
        close(&ops::conv(&x, &w, Some(&b), &o).unwrap(), &(shape, want));
    }
}

#[test]
fn conv_gradients_match_finite_differences() {
    for (xs, ws, o) in conv_cases() {
        let f = ws[ws.len() - 1];
        let inputs = [data(&xs, 4), data(&ws, 5), data(&[f], 6)];
        check_gradients(
            |t| ops::conv(&t[0], &t[1], Some(&t[2]), &o),
            &inputs,
            1e-2,
            1e-2,
        )
        .unwrap_or_else(|e| panic!("{xs:?} {ws:?} {o:?}: {e}"));
    }
}

#[test]
fn large_batches_run_on_threads_and_agree() {
    // big enough to split over the pool (forward rows, backward samples)
    for (xs, ws) in [
        (vec![9, 12, 12, 8], vec![3, 3, 8, 16]),
        (vec![9, 14, 14, 1], vec![3, 3, 1, 16]),
    ] {
        let o = opts(&[1], Padding::Same, &[1]);
        let (x, w) = (data(&xs, 7), data(&ws, 8));
        close(
            &ops::conv(&x, &w, None, &o).unwrap(),
            &reference_conv(&x, &w, &o),
        );
        // gradients of sum(conv * g) against the reference's adjoint relations
        let xw = ember::autograd::watch(&x);
        let ww = ember::autograd::watch(&w);
        let y = ops::conv(&xw, &ww, None, &o).unwrap();
        let g = data(y.shape(), 9);
        let loss = ops::sum(&ops::multiply(&y, &g).unwrap(), None, false).unwrap();
        let ids = [xw.node().unwrap().id(), ww.node().unwrap().id()];
        let grads = ember::autograd::grad(&loss, None, &ids).unwrap();
        let dot = |a: &Tensor, b: &Tensor| -> f64 {
            let (a, b) = (a.to_vec_f32().unwrap(), b.to_vec_f32().unwrap());
            a.iter().zip(&b).map(|(&p, &q)| p as f64 * q as f64).sum()
        };
        let want = dot(&y, &g);
        for (id, v) in ids.iter().zip([&x, &w]) {
            let got = dot(&grads[id], v);
            assert!(
                (got - want).abs() < 1e-3 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }
}

/// Input shape, kernel shape, options and output_padding of a transposed convolution.
type TransposeCase = (Vec<usize>, Vec<usize>, ConvOptions, Option<Vec<usize>>);

fn transpose_cases() -> Vec<TransposeCase> {
    use Padding::*;
    vec![
        (vec![2, 4, 3], vec![3, 2, 3], opts(&[2], Valid, &[1]), None),
        (vec![2, 4, 3], vec![3, 2, 3], opts(&[2], Same, &[1]), None),
        (
            vec![2, 4, 3],
            vec![2, 2, 3],
            opts(&[3], Valid, &[1]),
            Some(vec![1]),
        ),
        (
            vec![2, 4, 2],
            vec![3, 3, 2],
            opts(&[3], Same, &[1]),
            Some(vec![2]),
        ),
        (vec![2, 5, 2], vec![3, 2, 2], opts(&[1], Same, &[2]), None),
        (
            vec![2, 3, 4, 2],
            vec![3, 3, 2, 2],
            opts(&[2], Same, &[1]),
            None,
        ),
        (
            vec![1, 3, 3, 2],
            vec![2, 3, 3, 2],
            opts(&[2, 3], Valid, &[1]),
            Some(vec![1, 0]),
        ),
        (
            vec![2, 3, 3, 2],
            vec![4, 4, 2, 2],
            opts(&[2], Same, &[1]),
            Some(vec![1]),
        ),
        (
            vec![1, 2, 3, 2, 2],
            vec![2, 2, 2, 3, 2],
            opts(&[2], Same, &[1]),
            None,
        ),
    ]
}

#[test]
fn conv_transpose_matches_the_scatter_definition_and_keras_shapes() {
    for (xs, ws, o, op) in transpose_cases() {
        let (x, w) = (data(&xs, 1), data(&ws, 2));
        let got = ops::conv_transpose(&x, &w, None, &o, op.as_deref()).unwrap();
        close(&got, &reference_transpose(&x, &w, &o, op.as_deref()));
    }
    // keras.layers.Conv2DTranspose(32, 2, 2) on (4, 10, 8, 128) gives (4, 20, 16, 32)
    let x = Tensor::zeros(&[4, 10, 8, 128]);
    let w = Tensor::zeros(&[2, 2, 32, 128]);
    let y = ops::conv_transpose(&x, &w, None, &opts(&[2], Padding::Valid, &[1]), None).unwrap();
    assert_eq!(y.shape(), &[4, 20, 16, 32]);
    // kernel 3 stride 2: valid gives (i-1)*2+3, same gives 2i
    let x = Tensor::zeros(&[1, 5, 1]);
    let w = Tensor::zeros(&[3, 1, 1]);
    for (pad, want) in [(Padding::Valid, 11), (Padding::Same, 10)] {
        let y = ops::conv_transpose(&x, &w, None, &opts(&[2], pad, &[1]), None).unwrap();
        assert_eq!(y.shape(), &[1, want, 1]);
    }
}

#[test]
fn conv_transpose_gradients_match_finite_differences() {
    for (xs, ws, o, op) in transpose_cases() {
        let f = ws[ws.len() - 2];
        let inputs = [data(&xs, 3), data(&ws, 4), data(&[f], 5)];
        check_gradients(
            |t| ops::conv_transpose(&t[0], &t[1], Some(&t[2]), &o, op.as_deref()),
            &inputs,
            1e-2,
            1e-2,
        )
        .unwrap_or_else(|e| panic!("{xs:?} {ws:?} {o:?} {op:?}: {e}"));
    }
}

/// Depthwise convolution by its definition: channel c, filter m -> output c*dm + m.
fn reference_depthwise(x: &Tensor, w: &Tensor, o: &ConvOptions) -> (Vec<usize>, Vec<f32>) {
    // a grouped convolution with one channel per group has the same definition
    let ws = w.shape();
    let r = ws.len() - 2;
    let mut grouped = ws[..r].to_vec();
    grouped.extend([1, ws[r] * ws[r + 1]]);
    let w1 = Tensor::from_f32(w.to_vec_f32().unwrap(), &grouped).unwrap();
    reference_conv(x, &w1, o)
}

#[test]
fn depthwise_and_separable_match_references_and_finite_differences() {
    use Padding::*;
    let cases = [
        (vec![2, 6, 5, 3], vec![3, 3, 3, 1], opts(&[1], Same, &[1])),
        (vec![2, 7, 6, 2], vec![3, 2, 2, 3], opts(&[2], Valid, &[1])),
        (vec![2, 9, 3], vec![3, 3, 2], opts(&[1], Same, &[2])),
    ];
    for (xs, ws, o) in cases {
        let (x, w) = (data(&xs, 1), data(&ws, 2));
        let got = ops::depthwise_conv(&x, &w, None, &o).unwrap();
        close(&got, &reference_depthwise(&x, &w, &o));
        let mid = ws[ws.len() - 2] * ws[ws.len() - 1];
        let b = data(&[mid], 3);
        check_gradients(
            |t| ops::depthwise_conv(&t[0], &t[1], Some(&t[2]), &o),
            &[x.clone(), w.clone(), b],
            1e-2,
            1e-2,
        )
        .unwrap();
        // separable: the depthwise result through a pointwise kernel
        let mut ps = vec![1; xs.len() - 2];
        ps.extend([mid, 4]);
        let p = data(&ps, 4);
        let sep = ops::separable_conv(&x, &w, &p, None, &o).unwrap();
        let want = reference_conv(
            &Tensor::from_f32(got.to_vec_f32().unwrap(), got.shape()).unwrap(),
            &p,
            &ConvOptions::default(),
        );
        close(&sep, &want);
        check_gradients(
            |t| ops::separable_conv(&t[0], &t[1], &t[2], Some(&t[3]), &o),
            &[x, w, p, data(&[4], 5)],
            1e-2,
            1e-2,
        )
        .unwrap();
    }
}

fn value_error(r: Result<Tensor>) -> String {
    match r {
        Err(Error::Value(m)) => m,
        other => panic!("expected a ValueError, got {other:?}"),
    }
}

#[test]
fn ops_refuse_bad_shapes_with_messages() {
    let o = ConvOptions::default();
    let w = data(&[3, 3, 2, 4], 1);
    let m = value_error(ops::conv(&data(&[2, 5, 5], 0), &w, None, &o));
    assert!(m.contains("rank") && m.contains("[2, 5, 5]"), "{m}");
    let m = value_error(ops::conv(&data(&[2, 2, 5, 2], 0), &w, None, &o));
    assert!(
        m.contains("larger than the inputs") && m.contains("[2, 2, 5, 2]"),
        "{m}"
    );
    let m = value_error(ops::conv(&data(&[2, 5, 5, 3], 0), &w, None, &o));
    assert!(
        m.contains("3 channels") && m.contains("2 input channels"),
        "{m}"
    );
    let w6 = data(&[3, 3, 2, 5], 1);
    let m = value_error(ops::conv(&data(&[2, 5, 5, 4], 0), &w6, None, &o));
    assert!(m.contains("2 groups") && m.contains("5 filters"), "{m}");
    let m = value_error(ops::conv(
        &data(&[2, 5, 5, 2], 0),
        &w,
        Some(&data(&[3], 0)),
        &o,
    ));
    assert!(m.contains("bias"), "{m}");
    let bad = opts(&[1, 2, 3], Padding::Valid, &[1]);
    let m = value_error(ops::conv(&data(&[2, 5, 5, 2], 0), &w, None, &bad));
    assert!(m.contains("strides"), "{m}");
    let causal = opts(&[1], Padding::Causal, &[1]);
    let m = value_error(ops::conv(&data(&[2, 5, 5, 2], 0), &w, None, &causal));
    assert!(m.contains("causal"), "{m}");
    let m = value_error(ops::depthwise_conv(&data(&[2, 5, 5, 3], 0), &w, None, &o));
    assert!(m.contains("depthwise_conv"), "{m}");
    let m = value_error(ops::conv_transpose(
        &data(&[2, 5, 5, 3], 0),
        &w,
        None,
        &o,
        None,
    ));
    assert!(
        m.contains("conv_transpose") && m.contains("3 input channels"),
        "{m}"
    );
    assert!(Padding::parse("conv", "full").is_err());
    assert_eq!(Padding::parse("conv", "SAME").unwrap(), Padding::Same);
}

fn layer(kind: ConvKind, kernel: &[usize], bias: Option<usize>, o: ConvOptions) -> Result<Conv> {
    Conv::new(
        "conv",
        kind,
        o,
        Variable::new("kernel", data(kernel, 1), true),
        None,
        bias.map(|n| Variable::new("bias", data(&[n], 2), true)),
        activations::get("relu")?,
    )
}

fn call(l: &Conv, x: &Tensor) -> Result<Tensor> {
    let mut ctx = Context::new(false);
    Ok(l.call(std::slice::from_ref(x), &mut ctx)?.remove(0))
}

#[test]
fn the_layer_applies_bias_and_activation_and_names_itself_in_errors() {
    let o = opts(&[1], Padding::Same, &[1]);
    let l = layer(
        ConvKind::Conv { groups: 1 },
        &[3, 3, 2, 4],
        Some(4),
        o.clone(),
    )
    .unwrap();
    assert_eq!(l.class_name(), "Conv2D");
    let x = data(&[2, 5, 5, 2], 3);
    let y = call(&l, &x).unwrap();
    let b = data(&[4], 2);
    let want = ops::relu(&ops::conv(&x, &data(&[3, 3, 2, 4], 1), Some(&b), &o).unwrap()).unwrap();
    close(&y, &(want.shape().to_vec(), want.to_vec_f32().unwrap()));
    let msg = |r: Result<Tensor>| match r {
        Err(Error::Value(m)) => m,
        other => panic!("expected a ValueError, got {other:?}"),
    };
    let m = msg(call(&l, &data(&[2, 5, 2], 0)));
    assert!(
        m.contains("\"conv\"") && m.contains("ndim=4") && m.contains("[2, 5, 2]"),
        "{m}"
    );
    let m = msg(call(&l, &data(&[2, 5, 5, 3], 0)));
    assert!(
        m.contains("\"conv\"") && m.contains("value 2") && m.contains("[2, 5, 5, 3]"),
        "{m}"
    );
    let valid = layer(
        ConvKind::Conv { groups: 1 },
        &[3, 3, 2, 4],
        None,
        ConvOptions::default(),
    )
    .unwrap();
    let m = msg(call(&valid, &data(&[2, 2, 9, 2], 0)));
    assert!(
        m.starts_with("Conv2D layer \"conv\"") && m.contains("larger than"),
        "{m}"
    );
    // weights that do not fit together
    let bad = layer(ConvKind::Conv { groups: 3 }, &[3, 3, 2, 4], None, o.clone());
    assert!(matches!(bad, Err(Error::Value(m)) if m.contains("divisible by the number of groups")));
    let bad = layer(
        ConvKind::Conv { groups: 1 },
        &[3, 3, 2, 4],
        Some(3),
        o.clone(),
    );
    assert!(matches!(bad, Err(Error::Value(m)) if m.contains("bias")));
    let causal = opts(&[1], Padding::Causal, &[1]);
    let bad = layer(ConvKind::Depthwise, &[3, 2, 1], None, causal);
    assert!(matches!(bad, Err(Error::Value(m)) if m.contains("causal")));
}

#[test]
fn channels_first_transposes_around_the_kernel() {
    let o = opts(&[2], Padding::Same, &[1]);
    let l = layer(ConvKind::Conv { groups: 1 }, &[3, 3, 2, 4], Some(4), o)
        .unwrap()
        .channels_first(true);
    let x = data(&[2, 5, 6, 2], 3);
    let want = call(
        &layer(
            ConvKind::Conv { groups: 1 },
            &[3, 3, 2, 4],
            Some(4),
            opts(&[2], Padding::Same, &[1]),
        )
        .unwrap(),
        &x,
    )
    .unwrap();
    let xf = ops::channels_last_to_first(&x).unwrap().contiguous_data();
    let y = call(&l, &xf).unwrap();
    assert_eq!(y.shape(), &[2, 4, 3, 3]);
    let back = ops::channels_first_to_last(&y).unwrap().contiguous_data();
    close(&back, &(want.shape().to_vec(), want.to_vec_f32().unwrap()));
}
