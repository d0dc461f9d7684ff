//! Normalization ops and layers: the fused kernel against a naive f64 reference for every
//! layout and kind (small inputs and large, threaded ones), gradients by finite
//! differences, BatchNormalization's moving statistics and frozen mode, the other layers,
//! SpatialDropout, and errors that name the layer and shapes.
use ember::autograd::{check_gradients, grad, watch};
use ember::nn::layers::*;
use ember::nn::{Context, Layer};
use ember::ops::{self, NormKind};
use ember::{Error, Tensor, Variable};

/// Deterministic values in [-1, 1), none exactly 0, plus `offset`.
fn data(shape: &[usize], seed: usize, offset: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 + 0.25) / 50.5 - 1.0 + offset)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn vals(x: &Tensor) -> Vec<f32> {
    x.to_vec_f32().unwrap()
}

fn close(a: &[f32], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x as f64 - y).abs() <= tol * (1.0 + y.abs()),
            "element {i}: {x} vs {y}"
        );
    }
}

fn value_error(e: Error) -> String {
    match e {
        Error::Value(m) => m,
        other => panic!("expected a ValueError, got {other:?}"),
    }
}

fn run(layer: &dyn Layer, x: &Tensor, training: bool) -> Tensor {
    let mut ctx = Context::new(training);
    layer
        .call(std::slice::from_ref(x), &mut ctx)
        .unwrap()
        .remove(0)
}

/// Row-major keys of each element: its group (indices on the axes not in `reduce`) and its
/// parameter (indices on `params`).
fn keys(shape: &[usize], reduce: &[usize], params: &[usize]) -> Vec<(usize, usize)> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|i| {
            let (mut rem, mut idx) = (i, vec![0; shape.len()]);
            for d in (0..shape.len()).rev() {
                idx[d] = rem % shape[d];
                rem /= shape[d];
            }
            let key =
                |axes: &mut dyn Iterator<Item = usize>| axes.fold(0, |k, d| k * shape[d] + idx[d]);
            (
                key(&mut (0..shape.len()).filter(|d| !reduce.contains(d))),
                key(&mut params.iter().copied()),
            )
        })
        .collect()
}

/// The naive normalization in f64: (output, per-group mean, per-group r).
#[allow(clippy::too_many_arguments)]
fn naive(
    x: &[f32],
    shape: &[usize],
    reduce: &[usize],
    params: &[usize],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    eps: f64,
    kind: NormKind,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = keys(shape, reduce, params);
    let groups = k.iter().map(|k| k.0).max().unwrap() + 1;
    let mut count = vec![0.0; groups];
    let mut sum = vec![0.0; groups];
    for (&(s, _), &v) in k.iter().zip(x) {
        count[s] += 1.0;
        sum[s] += v as f64;
    }
    let mean: Vec<f64> = sum.iter().zip(&count).map(|(s, c)| s / c).collect();
    let mut sq = vec![0.0; groups];
    let centered = matches!(kind, NormKind::Standard | NormKind::RmsScaling);
    for (&(s, _), &v) in k.iter().zip(x) {
        let d = v as f64 - if centered { mean[s] } else { 0.0 };
        sq[s] += d * d;
    }
    let r: Vec<f64> = (0..groups)
        .map(|s| match kind {
            NormKind::L2 => 1.0 / sq[s].sqrt().max(eps),
            _ => 1.0 / (sq[s] / count[s] + eps).sqrt(),
        })
        .collect();
    let out = k
        .iter()
        .zip(x)
        .map(|(&(s, p), &v)| {
            let m = if kind == NormKind::Standard {
                mean[s]
            } else {
                0.0
            };
            let g = gamma.map_or(1.0, |g| g[p] as f64);
            let b = beta.map_or(0.0, |b| b[p] as f64);
            (v as f64 - m) * r[s] * g + b
        })
        .collect();
    (out, mean, r)
}

/// (shape, normalized axes, parameter axes): batch norm channels last and first, layer
/// norm over the last axis, several axes and a middle axis, group norm's grouped layout
/// (with few and with many positions per group), batch norm over a middle axis of a long
/// batch, a rank-1 input and size-1 axes.
fn layouts() -> Vec<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    vec![
        (vec![4, 3, 2, 5], vec![0, 1, 2], vec![3]),
        (vec![3, 4, 2, 3], vec![0, 2, 3], vec![1]),
        (vec![3, 7], vec![1], vec![1]),
        (vec![2, 3, 4], vec![1, 2], vec![1, 2]),
        (vec![2, 5, 3], vec![1], vec![1]),
        (vec![2, 3, 2, 3], vec![1, 3], vec![2, 3]),
        (vec![2, 9, 2, 3], vec![1, 3], vec![2, 3]),
        (vec![9, 3, 4], vec![0, 2], vec![1]),
        (vec![6], vec![0], vec![0]),
        (vec![3, 1, 4, 1], vec![0, 1, 2], vec![3]),
    ]
}

const KINDS: [NormKind; 4] = [
    NormKind::Standard,
    NormKind::RmsScaling,
    NormKind::Rms,
    NormKind::L2,
];

fn param_tensors(x: &Tensor, params: &[usize], seed: usize) -> (Tensor, Tensor) {
    let dims: Vec<usize> = params.iter().map(|&d| x.shape()[d]).collect();
    (data(&dims, seed, 1.0), data(&dims, seed + 1, 0.0))
}

#[test]
fn fused_forward_matches_naive_for_every_layout_and_kind() {
    for (shape, reduce, params) in layouts() {
        let x = data(&shape, 3, 0.5);
        let (gamma, beta) = param_tensors(&x, &params, 7);
        for kind in KINDS {
            let eps = if kind == NormKind::L2 { 1e-6 } else { 1e-3 };
            let got = ops::normalization(
                "test",
                &x,
                &reduce,
                &params,
                Some(&gamma),
                Some(&beta),
                eps,
                kind,
            )
            .unwrap();
            let (want, mean, _) = naive(
                &vals(&x),
                &shape,
                &reduce,
                &params,
                Some(&vals(&gamma)),
                Some(&vals(&beta)),
                eps as f64,
                kind,
            );
            close(&vals(&got.output), &want, 1e-5);
            if kind == NormKind::Standard {
                close(&vals(&got.mean), &mean, 1e-5);
            }
            // without parameters
            let bare =
                ops::normalization("test", &x, &reduce, &params, None, None, eps, kind).unwrap();
            let (want, _, _) = naive(
                &vals(&x),
                &shape,
                &reduce,
                &params,
                None,
                None,
                eps as f64,
                kind,
            );
            close(&vals(&bare.output), &want, 1e-5);
        }
    }
}

#[test]
fn fused_gradients_match_finite_differences() {
    for (shape, reduce, params) in layouts() {
        let x = data(&shape, 5, 0.3);
        let (gamma, beta) = param_tensors(&x, &params, 11);
        for kind in KINDS {
            check_gradients(
                |v| {
                    Ok(ops::normalization(
                        "test",
                        &v[0],
                        &reduce,
                        &params,
                        Some(&v[1]),
                        Some(&v[2]),
                        1e-3,
                        kind,
                    )?
                    .output)
                },
                &[x.clone(), gamma.clone(), beta.clone()],
                1e-3,
                2e-2,
            )
            .unwrap_or_else(|e| panic!("{shape:?} over {reduce:?}, {kind:?}: {e}"));
        }
    }
}

/// Only the inputs that need a gradient get one, and a frozen gamma still scales `dx`.
#[test]
fn gradients_only_where_needed() {
    let x = watch(&data(&[4, 3], 1, 0.0));
    let gamma = data(&[3], 2, 1.0); // not watched
    let beta = watch(&data(&[3], 3, 0.0));
    let y = ops::normalization(
        "test",
        &x,
        &[0],
        &[1],
        Some(&gamma),
        Some(&beta),
        1e-3,
        NormKind::Standard,
    )
    .unwrap();
    let loss = ops::sum(&y.output, None, false).unwrap();
    let g = grad(&loss, None, &[]).unwrap();
    let gb = &g[&beta.node().unwrap().id()];
    close(&vals(gb), &[4.0, 4.0, 4.0], 1e-6);
    // sum over the batch of a standardized feature does not depend on x
    let gx = &g[&x.node().unwrap().id()];
    assert!(vals(gx).iter().all(|v| v.abs() < 1e-4), "{:?}", vals(gx));
}

/// L2 normalization of a group whose norm is below epsilon is `x / epsilon`, with that
/// gradient; rms normalization of zeros is zeros.
#[test]
fn l2_clamps_small_norms() {
    let x = Tensor::from_f32(vec![1e-4, -2e-4, 3.0, 4.0], &[2, 2]).unwrap();
    let y = ops::l2_normalize(&x, &[-1], 1e-2).unwrap();
    close(&vals(&y), &[1e-2, -2e-2, 0.6, 0.8], 1e-6);
    check_gradients(|v| ops::l2_normalize(&v[0], &[-1], 1e-2), &[x], 1e-5, 1e-2).unwrap();
    let z = ops::rms_normalization(&Tensor::zeros(&[2, 3]), None, &[-1], 1e-6).unwrap();
    assert_eq!(vals(&z), vec![0.0; 6]);
}

/// Inputs large enough to run in parallel blocks: outputs and gradients against the naive
/// f64 reference, and identical bits at one and at two threads.
#[test]
fn large_inputs_match_naive_at_any_thread_count() {
    let shape = [32, 8, 8, 16]; // 32768 elements
    let x = data(&shape, 9, 2.0);
    let cases: [(&[usize], &[usize]); 4] = [
        (&[0, 1, 2], &[3]),       // batch norm
        (&[3], &[3]),             // layer norm
        (&[1, 2, 3], &[1, 2, 3]), // one group per sample
        (&[1, 3], &[2, 3]),       // groups of a sample's channels
    ];
    for (reduce, params) in cases {
        let (gamma, beta) = param_tensors(&x, params, 4);
        let run = || {
            let (xw, gw, bw) = (watch(&x), watch(&gamma), watch(&beta));
            let y = ops::normalization(
                "test",
                &xw,
                reduce,
                params,
                Some(&gw),
                Some(&bw),
                1e-3,
                NormKind::Standard,
            )
            .unwrap();
            let w = data(&shape, 1, 0.0);
            let loss = ops::sum(&ops::multiply(&y.output, &w).unwrap(), None, false).unwrap();
            let g = grad(&loss, None, &[]).unwrap();
            let get = |t: &Tensor| vals(&g[&t.node().unwrap().id()]);
            (vals(&y.output), get(&xw), get(&gw), get(&bw))
        };
        ember::cpu::pool::set_num_threads(1).unwrap();
        let one = run();
        ember::cpu::pool::set_num_threads(2).unwrap();
        let two = run();
        assert!(one == two, "results differ between 1 and 2 threads");
        let (want, mean, r) = naive(
            &vals(&x),
            &shape,
            reduce,
            params,
            Some(&vals(&gamma)),
            Some(&vals(&beta)),
            1e-3,
            NormKind::Standard,
        );
        close(&one.0, &want, 1e-4);
        // analytic gradients in f64
        let k = keys(&shape, reduce, params);
        let (xv, gv, w) = (vals(&x), vals(&gamma), vals(&data(&shape, 1, 0.0)));
        let groups = mean.len();
        let (mut sg, mut sgx, mut cnt) = (vec![0.0; groups], vec![0.0; groups], vec![0.0; groups]);
        let mut dgamma = vec![0.0; gv.len()];
        let mut dbeta = vec![0.0; gv.len()];
        for (i, &(s, p)) in k.iter().enumerate() {
            let xh = (xv[i] as f64 - mean[s]) * r[s];
            let gh = w[i] as f64 * gv[p] as f64;
            sg[s] += gh;
            sgx[s] += gh * xh;
            cnt[s] += 1.0;
            dgamma[p] += w[i] as f64 * xh;
            dbeta[p] += w[i] as f64;
        }
        let dx: Vec<f64> = k
            .iter()
            .enumerate()
            .map(|(i, &(s, p))| {
                let xh = (xv[i] as f64 - mean[s]) * r[s];
                let gh = w[i] as f64 * gv[p] as f64;
                r[s] * (gh - sg[s] / cnt[s] - xh * sgx[s] / cnt[s])
            })
            .collect();
        close(&one.1, &dx, 1e-3);
        close(&one.2, &dgamma, 1e-3);
        close(&one.3, &dbeta, 1e-3);
    }
}

#[test]
fn batch_normalization_op_matches_formula_and_gradients() {
    let x = data(&[3, 4, 2], 2, 0.0);
    let mean = data(&[4], 3, 0.0);
    let var = data(&[4], 4, 1.5); // positive
    let offset = data(&[4], 5, 0.0);
    let scale = data(&[4], 6, 1.0);
    let y =
        ops::batch_normalization(&x, &mean, &var, 1, Some(&offset), Some(&scale), 1e-3).unwrap();
    let (xv, m, v, o, s) = (
        vals(&x),
        vals(&mean),
        vals(&var),
        vals(&offset),
        vals(&scale),
    );
    let want: Vec<f64> = (0..24)
        .map(|i| {
            let c = (i / 2) % 4;
            (xv[i] as f64 - m[c] as f64) / (v[c] as f64 + 1e-3).sqrt() * s[c] as f64 + o[c] as f64
        })
        .collect();
    close(&vals(&y), &want, 1e-5);
    check_gradients(
        |t| ops::batch_normalization(&t[0], &t[1], &t[2], 1, Some(&t[3]), Some(&t[4]), 1e-3),
        &[x.clone(), mean.clone(), var.clone(), offset, scale],
        1e-3,
        2e-2,
    )
    .unwrap();
    check_gradients(
        |t| ops::batch_normalization(&t[0], &t[1], &t[2], -1, None, None, 1e-3),
        &[data(&[5, 4], 1, 0.0), mean, var],
        1e-3,
        2e-2,
    )
    .unwrap();
    let e = ops::batch_normalization(
        &x,
        &data(&[3], 0, 0.0),
        &data(&[4], 0, 1.5),
        1,
        None,
        None,
        1e-3,
    )
    .unwrap_err();
    let m = value_error(e);
    assert!(
        m.contains("batch_normalization") && m.contains("mean") && m.contains("[3]"),
        "{m}"
    );
}

#[test]
fn moments_match_numpy_and_differentiate() {
    let x = data(&[3, 4, 5], 1, 1.0);
    let (m, v) = ops::moments(&x, &[0, 2], false).unwrap();
    assert_eq!((m.shape(), v.shape()), (&[4][..], &[4][..]));
    let xv = vals(&x);
    for j in 0..4 {
        let col: Vec<f64> = (0..3)
            .flat_map(|i| (0..5).map(move |k| (i * 4 + j) * 5 + k))
            .map(|i| xv[i] as f64)
            .collect();
        let mean = col.iter().sum::<f64>() / 15.0;
        let var = col.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 15.0;
        close(&vals(&m)[j..j + 1], &[mean], 1e-5);
        close(&vals(&v)[j..j + 1], &[var], 1e-5);
    }
    let (mk, _) = ops::moments(&x, &[-1], true).unwrap();
    assert_eq!(mk.shape(), &[3, 4, 1]);
    check_gradients(
        |t| {
            let (m, v) = ops::moments(&t[0], &[0, 2], true)?;
            ops::add(&ops::scale(&m, 2.0)?, &v)
        },
        &[x],
        1e-3,
        1e-2,
    )
    .unwrap();
    assert!(ops::moments(&data(&[2, 2], 0, 0.0), &[2], false).is_err());
}

#[test]
fn layer_rms_and_group_ops_follow_keras() {
    let x = data(&[2, 3, 4], 3, 0.5);
    let xv = vals(&x);
    // rms_scaling: x / sqrt(var + eps) * gamma, the mean not subtracted
    let gamma = data(&[4], 1, 1.0);
    let y = ops::layer_normalization(&x, Some(&gamma), Some(&gamma), &[-1], 1e-3, true).unwrap();
    let (want, _, _) = naive(
        &xv,
        &[2, 3, 4],
        &[2],
        &[2],
        Some(&vals(&gamma)),
        None,
        1e-3,
        NormKind::RmsScaling,
    );
    close(&vals(&y), &want, 1e-5);
    // rms_normalization with a scale over the trailing axes (fused) or broadcast
    let s = data(&[3, 4], 2, 1.0);
    let y = ops::rms_normalization(&x, Some(&s), &[1, 2], 1e-6).unwrap();
    let (want, _, _) = naive(
        &xv,
        &[2, 3, 4],
        &[1, 2],
        &[1, 2],
        Some(&vals(&s)),
        None,
        1e-6,
        NormKind::Rms,
    );
    close(&vals(&y), &want, 1e-5);
    let s1 = Tensor::from_f32(vec![2.0], &[1]).unwrap();
    let y = ops::rms_normalization(&x, Some(&s1), &[-1], 1e-6).unwrap();
    let (want, _, _) = naive(&xv, &[2, 3, 4], &[2], &[], None, None, 1e-6, NormKind::Rms);
    close(
        &vals(&y),
        &want.iter().map(|v| 2.0 * v).collect::<Vec<_>>(),
        1e-5,
    );
    // group normalization = normalization of the grouped layout
    let x = data(&[2, 3, 6], 4, 0.0);
    let (gamma, beta) = (data(&[6], 5, 1.0), data(&[6], 6, 0.0));
    let y = ops::group_normalization(&x, 3, -1, Some(&gamma), Some(&beta), 1e-3).unwrap();
    let (want, _, _) = naive(
        &vals(&x),
        &[2, 3, 3, 2],
        &[1, 3],
        &[2, 3],
        Some(&vals(&gamma)),
        Some(&vals(&beta)),
        1e-3,
        NormKind::Standard,
    );
    close(&vals(&y), &want, 1e-5);
    check_gradients(
        |t| ops::group_normalization(&t[0], 3, 2, Some(&t[1]), Some(&t[2]), 1e-3),
        &[x.clone(), gamma, beta],
        1e-3,
        2e-2,
    )
    .unwrap();
    let m = value_error(ops::group_normalization(&x, 4, -1, None, None, 1e-3).unwrap_err());
    assert!(
        m.contains("(4)") && m.contains("(6)") && m.contains("[2, 3, 6]"),
        "{m}"
    );
}

// ---------------------------------------------------------------- layers

fn var(name: &str, t: Tensor, trainable: bool) -> Variable {
    Variable::new(name, t, trainable)
}

fn batch_norm(c: usize, axis: usize, ndim: usize, momentum: f32) -> BatchNormalization {
    BatchNormalization::new(
        "bn",
        axis,
        ndim,
        momentum,
        1e-3,
        Some(var("gamma", data(&[c], 1, 1.0), true)),
        Some(var("beta", data(&[c], 2, 0.0), true)),
        var("moving_mean", Tensor::zeros(&[c]), false),
        var("moving_variance", Tensor::ones(&[c]), false),
    )
    .unwrap()
}

#[test]
fn batch_norm_training_updates_moving_statistics() {
    let bn = batch_norm(3, 1, 3, 0.9);
    let names: Vec<String> = bn
        .variables()
        .iter()
        .map(|v| v.name().to_string())
        .collect();
    assert_eq!(names, ["gamma", "beta", "moving_mean", "moving_variance"]);
    let (mut mm, mut mv) = (vec![0.0f64; 3], vec![1.0f64; 3]);
    for step in 0..3 {
        let x = data(&[4, 3, 5], step, step as f32);
        let y = run(&bn, &x, true);
        let (want, mean, r) = naive(
            &vals(&x),
            &[4, 3, 5],
            &[0, 2],
            &[1],
            Some(&vals(&data(&[3], 1, 1.0))),
            Some(&vals(&data(&[3], 2, 0.0))),
            1e-3,
            NormKind::Standard,
        );
        close(&vals(&y), &want, 1e-5);
        for c in 0..3 {
            let var = 1.0 / (r[c] * r[c]) - 1e-3;
            mm[c] = mm[c] * 0.9 + mean[c] * 0.1;
            mv[c] = mv[c] * 0.9 + var * 0.1;
        }
        let v = bn.variables();
        close(&vals(&v[2].data()), &mm, 1e-5);
        close(&vals(&v[3].data()), &mv, 1e-4);
    }
    // inference uses the moving statistics and changes nothing
    let x = data(&[2, 3, 5], 7, 0.0);
    let y = run(&bn, &x, false);
    let (g, b) = (vals(&data(&[3], 1, 1.0)), vals(&data(&[3], 2, 0.0)));
    let want: Vec<f64> = vals(&x)
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (i / 5) % 3;
            (v as f64 - mm[c]) / (mv[c] + 1e-3).sqrt() * g[c] as f64 + b[c] as f64
        })
        .collect();
    close(&vals(&y), &want, 1e-4);
    close(&vals(&bn.variables()[2].data()), &mm, 1e-5);
}

#[test]
fn frozen_batch_norm_runs_in_inference_mode() {
    let bn = batch_norm(2, 1, 2, 0.5);
    let x = data(&[6, 2], 3, 4.0);
    let inference = run(&bn, &x, false);
    bn.set_trainable(false);
    let frozen = run(&bn, &x, true);
    assert_eq!(vals(&frozen), vals(&inference));
    assert_eq!(vals(&bn.variables()[2].data()), vec![0.0, 0.0]);
    bn.set_trainable(true);
    let trained = run(&bn, &x, true);
    assert_ne!(vals(&trained), vals(&inference));
    assert_ne!(vals(&bn.variables()[2].data()), vec![0.0, 0.0]);
}

/// Gradients through the layer in both modes: `dx` by finite differences, and gamma's and
/// beta's (the variables' leaves) equal to the op's.
#[test]
fn batch_norm_layer_gradients() {
    let bn = batch_norm(2, 3, 4, 0.99);
    let x = data(&[3, 2, 2, 2], 4, 0.0);
    for training in [true, false] {
        bn.set_trainable(true);
        check_gradients(
            |v| {
                // the moving statistics must not change between evaluations
                bn.set_trainable(training);
                Ok(bn
                    .call(std::slice::from_ref(&v[0]), &mut Context::new(true))?
                    .remove(0))
            },
            std::slice::from_ref(&x),
            1e-3,
            2e-2,
        )
        .unwrap();
    }
    bn.set_trainable(true);
    let vars = bn.variables();
    let y = run(&bn, &x, true);
    let g = grad(
        &ops::sum(&ops::square(&y).unwrap(), None, false).unwrap(),
        None,
        &[],
    )
    .unwrap();
    let (gw, bw) = (watch(&vars[0].data()), watch(&vars[1].data()));
    let y2 = ops::normalization(
        "t",
        &x,
        &[0, 1, 2],
        &[3],
        Some(&gw),
        Some(&bw),
        1e-3,
        NormKind::Standard,
    )
    .unwrap()
    .output;
    let g2 = grad(
        &ops::sum(&ops::square(&y2).unwrap(), None, false).unwrap(),
        None,
        &[],
    )
    .unwrap();
    for (v, w) in [(&vars[0], &gw), (&vars[1], &bw)] {
        assert_eq!(vals(&g[&v.id()]), vals(&g2[&w.node().unwrap().id()]));
    }
}

#[test]
fn layer_group_and_unit_layers() {
    let x = data(&[2, 3, 4], 1, 0.5);
    let gamma = data(&[3, 4], 2, 1.0);
    let beta = data(&[3, 4], 3, 0.0);
    let ln = LayerNormalization::new(
        "ln",
        vec![-2, -1],
        1e-3,
        false,
        Some(var("gamma", gamma.clone(), true)),
        Some(var("beta", beta.clone(), true)),
    )
    .unwrap();
    let (want, _, _) = naive(
        &vals(&x),
        &[2, 3, 4],
        &[1, 2],
        &[1, 2],
        Some(&vals(&gamma)),
        Some(&vals(&beta)),
        1e-3,
        NormKind::Standard,
    );
    close(&vals(&run(&ln, &x, true)), &want, 1e-5);
    let m = value_error(
        ln.call(&[data(&[2, 4, 3], 0, 0.0)], &mut Context::new(false))
            .unwrap_err(),
    );
    assert!(
        m.contains("\"ln\"") && m.contains("[2, 4, 3]") && m.contains("[3, 4]"),
        "{m}"
    );
    let m = value_error(
        ln.call(&[data(&[4], 0, 0.0)], &mut Context::new(false))
            .unwrap_err(),
    );
    assert!(
        m.contains("\"ln\"") && m.contains("out of bounds") && m.contains("[4]"),
        "{m}"
    );

    let gn = GroupNormalization::new("gn", 2, -1, 1e-3, 4, None, None).unwrap();
    let (want, _, _) = naive(
        &vals(&x),
        &[2, 3, 2, 2],
        &[1, 3],
        &[],
        None,
        None,
        1e-3,
        NormKind::Standard,
    );
    close(&vals(&run(&gn, &x, false)), &want, 1e-5);
    let m = value_error(
        gn.call(&[data(&[2, 3, 6], 0, 0.0)], &mut Context::new(false))
            .unwrap_err(),
    );
    assert!(
        m.contains("\"gn\"") && m.contains("[2, 3, 6]") && m.contains("value 4"),
        "{m}"
    );
    let m = value_error(
        GroupNormalization::new("gn", 3, -1, 1e-3, 4, None, None)
            .err()
            .unwrap(),
    );
    assert!(m.contains("(3)") && m.contains("(4)"), "{m}");

    let un = UnitNormalization::new("un", vec![1]).unwrap();
    let y = vals(&run(&un, &x, false));
    for i in 0..2 {
        for k in 0..4 {
            let norm: f32 = (0..3).map(|j| y[(i * 3 + j) * 4 + k].powi(2)).sum();
            assert!((norm - 1.0).abs() < 1e-5);
        }
    }
    let m = value_error(
        un.call(&[data(&[3], 0, 0.0)], &mut Context::new(false))
            .unwrap_err(),
    );
    assert!(m.contains("\"un\"") && m.contains("[3]"), "{m}");
}

#[test]
fn batch_norm_rejects_other_inputs() {
    let bn = batch_norm(3, 2, 3, 0.99);
    let m = value_error(
        bn.call(&[data(&[2, 2, 4], 0, 0.0)], &mut Context::new(true))
            .unwrap_err(),
    );
    assert!(
        m.contains("\"bn\"")
            && m.contains("axis 2")
            && m.contains("value 3")
            && m.contains("[2, 2, 4]"),
        "{m}"
    );
    let m = value_error(
        bn.call(&[data(&[2, 3], 0, 0.0)], &mut Context::new(true))
            .unwrap_err(),
    );
    assert!(m.contains("ndim=3") && m.contains("[2, 3]"), "{m}");
    assert!(BatchNormalization::new(
        "bn",
        3,
        3,
        0.99,
        1e-3,
        None,
        None,
        var("m", Tensor::zeros(&[3]), false),
        var("v", Tensor::ones(&[3]), false)
    )
    .is_err());
}

#[test]
fn spatial_dropout_drops_whole_channels() {
    let sd = SpatialDropout::new("sd", 4, 0.5, false, Some(3)).unwrap();
    let x = Tensor::ones(&[8, 5, 5, 16]);
    assert_eq!(vals(&run(&sd, &x, false)), vals(&x));
    let y = vals(&run(&sd, &x, true));
    let mut dropped = 0;
    for n in 0..8 {
        for c in 0..16 {
            let first = y[n * 400 + c];
            assert!(
                first == 0.0 || first == 2.0,
                "kept values are scaled by 1/(1-rate)"
            );
            dropped += (first == 0.0) as usize;
            for p in 0..25 {
                assert_eq!(y[n * 400 + p * 16 + c], first, "one draw per channel");
            }
        }
    }
    assert!(
        (30..=98).contains(&dropped),
        "{dropped} of 128 channels dropped"
    );
    // channels_first: the channel axis is 1
    let sd = SpatialDropout::new("sd1", 3, 0.5, true, Some(4)).unwrap();
    let y = vals(&run(&sd, &Tensor::ones(&[4, 6, 10]), true));
    for row in y.chunks(10) {
        assert!(row.iter().all(|&v| v == row[0]));
    }
    let m = value_error(
        sd.call(&[Tensor::ones(&[4, 6])], &mut Context::new(true))
            .unwrap_err(),
    );
    assert!(
        m.contains("\"sd1\"") && m.contains("ndim=3") && m.contains("[4, 6]"),
        "{m}"
    );
    assert!(SpatialDropout::new("sd", 4, 1.5, false, None).is_err());
}
