//! Attention layers: forward against loop references (with value, query, key, causal and
//! explicit attention masks), gradients by finite differences (inputs and weights,
//! masked and causal), dropout in training only, and shape errors naming the layer.
use ember::autograd::check_gradients;
use ember::nn::layers::{Attention, MultiHeadAttention, Projection, ScoreMode};
use ember::nn::{Context, Layer};
use ember::{Error, Tensor, Variable};

/// Deterministic values in [-1, 1), none exactly 0.
fn data(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 + 0.25) / 50.5 - 1.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_f32(v.to_vec(), shape).unwrap()
}

fn vals(x: &Tensor) -> Vec<f32> {
    x.to_vec_f32().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
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

fn var(name: &str, x: Tensor) -> Variable {
    Variable::new(name, x, true)
}

fn softmax_row(s: &[f32]) -> Vec<f32> {
    let m = s.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = s.iter().map(|x| (x - m).exp()).collect();
    let z: f32 = e.iter().sum();
    e.iter().map(|x| x / z).collect()
}

/// Keras's Attention by loops: scores, `-1e9` where the value or causal mask is 0,
/// softmax, weights @ value, times the query mask.
#[allow(clippy::too_many_arguments)]
fn attention_ref(
    q: &Tensor,
    v: &Tensor,
    k: &Tensor,
    score: impl Fn(&[f32], &[f32]) -> f32,
    q_mask: Option<&[f32]>,
    v_mask: Option<&[f32]>,
    causal: bool,
) -> (Vec<f32>, Vec<f32>) {
    let (b, tq, d) = (q.shape()[0], q.shape()[1], q.shape()[2]);
    let (tv, dv) = (v.shape()[1], v.shape()[2]);
    let (qd, vd, kd) = (vals(q), vals(v), vals(k));
    let mut out = vec![0.0; b * tq * dv];
    let mut weights = vec![0.0; b * tq * tv];
    for bi in 0..b {
        for i in 0..tq {
            let qi = &qd[(bi * tq + i) * d..(bi * tq + i + 1) * d];
            let s: Vec<f32> = (0..tv)
                .map(|j| {
                    let kj = &kd[(bi * tv + j) * d..(bi * tv + j + 1) * d];
                    let masked = v_mask.is_some_and(|m| m[bi * tv + j] == 0.0) || (causal && j > i);
                    score(qi, kj) - if masked { 1e9 } else { 0.0 }
                })
                .collect();
            let w = softmax_row(&s);
            let qm = q_mask.map_or(1.0, |m| m[bi * tq + i]);
            for j in 0..tv {
                weights[(bi * tq + i) * tv + j] = w[j];
                for c in 0..dv {
                    out[(bi * tq + i) * dv + c] += w[j] * vd[(bi * tv + j) * dv + c] * qm;
                }
            }
        }
    }
    (out, weights)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn run(layer: &dyn Layer, inputs: &[Tensor], masks: &[Option<Tensor>]) -> Vec<Tensor> {
    layer
        .call_masked(inputs, masks, &mut Context::new(false))
        .unwrap()
}

#[test]
fn attention_dot_forward_with_masks_and_causal() {
    let (q, v, k) = (
        data(&[2, 3, 4], 1),
        data(&[2, 5, 3], 2),
        data(&[2, 5, 4], 3),
    );
    let qm = [1., 1., 0., 1., 0., 1.];
    let vm = [1., 0., 1., 1., 0., 1., 1., 1., 1., 0.];
    let masks = [Some(t(&qm, &[2, 3])), Some(t(&vm, &[2, 5]))];
    let scale = 1.7f32;
    let layer = Attention::new(
        "att",
        ScoreMode::Dot,
        Some(var("scale", Tensor::scalar(scale))),
        None,
        0.0,
        None,
    )
    .unwrap();
    for causal in [false, true] {
        let l = layer.with_call_options(causal, true);
        let out = run(&l, &[q.clone(), v.clone(), k.clone()], &masks);
        let (want, w) = attention_ref(
            &q,
            &v,
            &k,
            |a, b| dot(a, b) * scale,
            Some(&qm),
            Some(&vm),
            causal,
        );
        assert_eq!(out[0].shape(), &[2, 3, 3]);
        assert_eq!(out[1].shape(), &[2, 3, 5]);
        close(&vals(&out[0]), &want, 1e-5);
        close(&vals(&out[1]), &w, 1e-5);
        // masked value steps get no weight
        for (i, &x) in vals(&out[1]).iter().enumerate() {
            let (bi, j) = (i / 15, i % 5);
            if vm[bi * 5 + j] == 0.0 {
                assert!(x < 1e-12, "{i}: {x}");
            }
        }
    }
    // no key: the value is the key; no masks, no scores output
    let v2 = data(&[2, 5, 4], 4);
    let out = run(&layer, &[q.clone(), v2.clone()], &[]);
    assert_eq!(out.len(), 1);
    let (want, _) = attention_ref(&q, &v2, &v2, |a, b| dot(a, b) * scale, None, None, false);
    close(&vals(&out[0]), &want, 1e-5);
}

#[test]
fn attention_concat_and_additive_forward() {
    let (q, v) = (data(&[2, 3, 4], 5), data(&[2, 4, 4], 6));
    let vm = [1., 1., 0., 1., 0., 1., 1., 1.];
    let masks = [None, Some(t(&vm, &[2, 4]))];
    let (s, cw) = (0.8f32, 1.3f32);
    let concat = Attention::new(
        "att",
        ScoreMode::Concat,
        Some(var("scale", Tensor::scalar(s))),
        Some(var("concat_score_weight", Tensor::scalar(cw))),
        0.0,
        None,
    )
    .unwrap();
    let out = run(&concat, &[q.clone(), v.clone()], &masks);
    let f = |a: &[f32], b: &[f32]| {
        cw * a
            .iter()
            .zip(b)
            .map(|(x, y)| (s * (x + y)).tanh())
            .sum::<f32>()
    };
    let (want, _) = attention_ref(&q, &v, &v, f, None, Some(&vm), false);
    close(&vals(&out[0]), &want, 1e-5);

    let scale = [0.5f32, -1.0, 2.0, 0.25];
    let additive = Attention::new(
        "add",
        ScoreMode::Additive,
        Some(var("scale", t(&scale, &[4]))),
        None,
        0.0,
        None,
    )
    .unwrap();
    let out = run(&additive, &[q.clone(), v.clone()], &masks);
    let f = |a: &[f32], b: &[f32]| (0..4).map(|c| scale[c] * (a[c] + b[c]).tanh()).sum::<f32>();
    let (want, _) = attention_ref(&q, &v, &v, f, None, Some(&vm), false);
    close(&vals(&out[0]), &want, 1e-5);
    assert_eq!(additive.variables().len(), 1);
    assert_eq!(concat.variables().len(), 2);
}

#[test]
fn attention_gradients_masked_and_causal() {
    let vm = t(&[1., 0., 1., 1., 1., 1., 0., 1.], &[2, 4]);
    let qm = t(&[1., 1., 0., 1., 1., 1.], &[2, 3]);
    let masks = [Some(qm), Some(vm)];
    for (mode, scale, cw) in [
        (ScoreMode::Dot, Some(Tensor::scalar(0.7)), None),
        (
            ScoreMode::Concat,
            Some(Tensor::scalar(0.9)),
            Some(Tensor::scalar(1.1)),
        ),
        (ScoreMode::Additive, Some(t(&[0.5, -0.3, 0.8], &[3])), None),
        (ScoreMode::Dot, None, None),
    ] {
        let layer = Attention::new(
            "att",
            mode,
            scale.clone().map(|s| var("scale", s)),
            cw.clone().map(|w| var("w", w)),
            0.0,
            None,
        )
        .unwrap();
        let mut inputs = vec![
            data(&[2, 3, 3], 7),
            data(&[2, 4, 2], 8),
            data(&[2, 4, 3], 9),
        ];
        inputs.extend(scale.clone());
        inputs.extend(cw.clone());
        for causal in [false, true] {
            let l = layer.with_call_options(causal, false);
            check_gradients(
                |x| {
                    Ok(
                        l.call_with_weights(&x[..3], &masks, &x[3..], &mut Context::new(false))?
                            .remove(0),
                    )
                },
                &inputs,
                1e-3,
                2e-2,
            )
            .unwrap_or_else(|e| panic!("{mode:?} causal={causal}: {e:?}"));
        }
    }
}

fn mha(
    dq: usize,
    dv: usize,
    heads: usize,
    kd: usize,
    vd: usize,
    out: &[usize],
    bias: bool,
) -> MultiHeadAttention {
    let p = |ks: &[usize], bs: &[usize], seed: usize| Projection {
        kernel: var("kernel", data(ks, seed)),
        bias: bias.then(|| var("bias", data(bs, seed + 1))),
    };
    let mut ok = vec![heads, vd];
    ok.extend_from_slice(out);
    MultiHeadAttention::new(
        "mha",
        p(&[dq, heads, kd], &[heads, kd], 10),
        p(&[dv, heads, kd], &[heads, kd], 20),
        p(&[dv, heads, vd], &[heads, vd], 30),
        p(&ok, out, 40),
        0.0,
        None,
    )
    .unwrap()
}

/// `x (n, d) @ kernel (d, m) + bias (m)` by loops.
fn affine(x: &[f32], n: usize, d: usize, w: &[f32], b: Option<&[f32]>) -> Vec<f32> {
    let m = w.len() / d;
    (0..n * m)
        .map(|idx| {
            let (r, c) = (idx / m, idx % m);
            (0..d).map(|i| x[r * d + i] * w[i * m + c]).sum::<f32>() + b.map_or(0.0, |b| b[c])
        })
        .collect()
}

/// Keras's MultiHeadAttention by loops, for rank-3 inputs, key = value; `mask[b][t][s]`.
fn mha_ref(
    layer: &MultiHeadAttention,
    q: &Tensor,
    v: &Tensor,
    mask: impl Fn(usize, usize, usize) -> bool,
) -> (Vec<f32>, Vec<f32>) {
    let w: Vec<Vec<f32>> = layer.variables().iter().map(|v| vals(&v.value())).collect();
    let (b, tq, dq) = (q.shape()[0], q.shape()[1], q.shape()[2]);
    let (s, dv) = (v.shape()[1], v.shape()[2]);
    let (n, kd, vd) = (layer.num_heads(), layer.key_dim(), layer.value_dim());
    let qp = affine(&vals(q), b * tq, dq, &w[0], Some(&w[1]));
    let kp = affine(&vals(v), b * s, dv, &w[2], Some(&w[3]));
    let vp = affine(&vals(v), b * s, dv, &w[4], Some(&w[5]));
    let mut heads = vec![0.0; b * tq * n * vd];
    let mut scores = vec![0.0; b * n * tq * s];
    for bi in 0..b {
        for h in 0..n {
            for i in 0..tq {
                let row: Vec<f32> = (0..s)
                    .map(|j| {
                        let d: f32 = (0..kd)
                            .map(|c| {
                                qp[((bi * tq + i) * n + h) * kd + c]
                                    * kp[((bi * s + j) * n + h) * kd + c]
                            })
                            .sum();
                        d / (kd as f32).sqrt() - if mask(bi, i, j) { 0.0 } else { 1e9 }
                    })
                    .collect();
                let p = softmax_row(&row);
                for j in 0..s {
                    scores[((bi * n + h) * tq + i) * s + j] = p[j];
                    for c in 0..vd {
                        heads[((bi * tq + i) * n + h) * vd + c] +=
                            p[j] * vp[((bi * s + j) * n + h) * vd + c];
                    }
                }
            }
        }
    }
    (affine(&heads, b * tq, n * vd, &w[6], Some(&w[7])), scores)
}

#[test]
fn mha_forward_matches_loops_with_all_masks() {
    let layer = mha(4, 3, 2, 3, 2, &[5], true);
    let (q, v) = (data(&[2, 3, 4], 1), data(&[2, 4, 3], 2));
    let qm = [1., 1., 0., 1., 1., 1.];
    let vm = [1., 0., 1., 1., 1., 1., 1., 0.];
    let am: Vec<f32> = (0..2 * 3 * 4)
        .map(|i| if i % 7 == 3 { 0.0 } else { 1.0 })
        .collect();
    for causal in [false, true] {
        let l = layer.with_call_options(causal, true);
        let out = run(
            &l,
            &[q.clone(), v.clone(), v.clone(), t(&am, &[2, 3, 4])],
            &[Some(t(&qm, &[2, 3])), Some(t(&vm, &[2, 4])), None],
        );
        let (want, scores) = mha_ref(&layer, &q, &v, |b, i, j| {
            qm[b * 3 + i] == 1.0
                && vm[b * 4 + j] == 1.0
                && am[(b * 3 + i) * 4 + j] == 1.0
                && (!causal || j <= i)
        });
        assert_eq!(out[0].shape(), &[2, 3, 5]);
        assert_eq!(out[1].shape(), &[2, 2, 3, 4]);
        close(&vals(&out[0]), &want, 1e-4);
        close(&vals(&out[1]), &scores, 1e-5);
    }
    // a (T, S) attention mask broadcasts over the batch
    let am2 = [1., 0., 1., 1., 0., 1., 1., 1., 1., 1., 0., 1.];
    let out = run(
        &layer,
        &[q.clone(), v.clone(), v.clone(), t(&am2, &[3, 4])],
        &[],
    );
    let (want, _) = mha_ref(&layer, &q, &v, |_, i, j| am2[i * 4 + j] == 1.0);
    close(&vals(&out[0]), &want, 1e-4);
}

#[test]
fn mha_higher_rank_and_output_shape() {
    // query (B, 2, 2, dq): attention over the 4 positions jointly; output_shape (2, 3)
    let layer = mha(3, 3, 2, 2, 2, &[2, 3], false);
    let q = data(&[2, 2, 2, 3], 3);
    let out = run(
        &layer.with_call_options(false, true),
        &[q.clone(), q.clone()],
        &[],
    );
    assert_eq!(out[0].shape(), &[2, 2, 2, 2, 3]);
    assert_eq!(out[1].shape(), &[2, 2, 2, 2, 2, 2]);
    let flat = ember::ops::reshape(&q, &[2, 4, 3]).unwrap();
    let y = run(&layer, &[flat.clone(), flat], &[]);
    close(&vals(&out[0]), &vals(&y[0]), 1e-6);
}

#[test]
fn mha_gradients_masked_and_causal() {
    let layer = mha(3, 2, 2, 2, 3, &[3], true);
    // no row fully masked: float32 rounding of `-1e9 + s` hides such a row's gradient
    // from finite differences (the query mask masks whole rows)
    let masks = [
        None,
        Some(t(&[1., 0., 1., 1., 1., 1., 1., 0.], &[2, 4])),
        Some(t(&[1., 1., 1., 0., 1., 1., 1., 1.], &[2, 4])),
    ];
    let mut inputs = vec![
        data(&[2, 3, 3], 1),
        data(&[2, 4, 2], 2),
        data(&[2, 4, 2], 3),
    ];
    inputs.extend(layer.variables().iter().map(|v| v.value().detach()));
    for causal in [false, true] {
        let l = layer.with_call_options(causal, false);
        check_gradients(
            |x| {
                Ok(
                    l.call_with_weights(&x[..3], &masks, &x[3..], &mut Context::new(false))?
                        .remove(0),
                )
            },
            &inputs,
            1e-3,
            2e-2,
        )
        .unwrap_or_else(|e| panic!("causal={causal}: {e:?}"));
    }
}

#[test]
fn dropout_only_in_training_and_seeded() {
    let layer = Attention::new("att", ScoreMode::Dot, None, None, 0.5, Some(3)).unwrap();
    let l = layer.with_call_options(false, true);
    let (q, v) = (data(&[2, 6, 4], 1), data(&[2, 8, 4], 2));
    let inputs = [q.clone(), v.clone()];
    let eval = l.call(&inputs, &mut Context::new(false)).unwrap();
    let (want, _) = attention_ref(&q, &v, &v, dot, None, None, false);
    close(&vals(&eval[0]), &want, 1e-5);
    let train = l.call(&inputs, &mut Context::new(true)).unwrap();
    let w = vals(&train[1]);
    let zeros = w.iter().filter(|&&x| x == 0.0).count();
    assert!(
        zeros > w.len() / 4 && zeros < 3 * w.len() / 4,
        "{zeros} of {}",
        w.len()
    );
    // kept weights are scaled by 2
    let plain = vals(&eval[1]);
    for (a, b) in w.iter().zip(&plain) {
        assert!(*a == 0.0 || (a - 2.0 * b).abs() < 1e-5);
    }
    let m = mha(4, 4, 2, 2, 2, &[4], true);
    let eval = m.call(&inputs, &mut Context::new(false)).unwrap();
    let again = m.call(&inputs, &mut Context::new(false)).unwrap();
    assert_eq!(vals(&eval[0]), vals(&again[0]));
}

#[test]
fn bad_inputs_name_the_layer_and_shapes() {
    let att = Attention::new("att", ScoreMode::Dot, None, None, 0.0, None).unwrap();
    let mut ctx = Context::new(false);
    let m = value_error(att.call(&[data(&[2, 3, 4], 1)], &mut ctx).unwrap_err());
    assert!(m.contains("att") && m.contains("length 2 or 3"), "{m}");
    let m = value_error(
        att.call(&[data(&[2, 3], 1), data(&[2, 3, 4], 1)], &mut ctx)
            .unwrap_err(),
    );
    assert!(m.contains("rank 3") && m.contains("[2, 3]"), "{m}");
    let m = value_error(
        att.call(&[data(&[2, 3, 4], 1), data(&[3, 3, 4], 1)], &mut ctx)
            .unwrap_err(),
    );
    assert!(m.contains("[2, 3, 4]") && m.contains("[3, 3, 4]"), "{m}");
    let m = value_error(
        att.call(&[data(&[2, 3, 4], 1), data(&[2, 3, 5], 1)], &mut ctx)
            .unwrap_err(),
    );
    assert!(m.contains("[2, 3, 5]"), "{m}");
    let m = value_error(
        att.call_masked(
            &[data(&[2, 3, 4], 1), data(&[2, 5, 4], 1)],
            &[None, Some(Tensor::ones(&[2, 4]))],
            &mut ctx,
        )
        .unwrap_err(),
    );
    assert!(
        m.contains("value mask") && m.contains("[2, 5]") && m.contains("[2, 4]"),
        "{m}"
    );

    let layer = mha(4, 3, 2, 3, 2, &[4], true);
    let m = value_error(
        layer
            .call(&[data(&[2, 3, 5], 1), data(&[2, 4, 3], 2)], &mut ctx)
            .unwrap_err(),
    );
    assert!(
        m.contains("mha") && m.contains("query") && m.contains("[2, 3, 5]"),
        "{m}"
    );
    let m = value_error(
        layer
            .call(&[data(&[2, 3, 4], 1), data(&[3, 4, 3], 2)], &mut ctx)
            .unwrap_err(),
    );
    assert!(m.contains("[3, 4, 3]"), "{m}");
    let m = value_error(
        layer
            .call(&[data(&[2, 4], 1), data(&[2, 4, 3], 2)], &mut ctx)
            .unwrap_err(),
    );
    assert!(m.contains("rank"), "{m}");
    let m = value_error(
        layer
            .call_masked(
                &[data(&[2, 3, 4], 1), data(&[2, 4, 3], 2)],
                &[Some(Tensor::ones(&[2, 4])), None],
                &mut ctx,
            )
            .unwrap_err(),
    );
    assert!(m.contains("query mask") && m.contains("[2, 3]"), "{m}");
    let am = Tensor::ones(&[2, 3, 5]);
    let m = value_error(
        layer
            .call(
                &[
                    data(&[2, 3, 4], 1),
                    data(&[2, 4, 3], 2),
                    data(&[2, 4, 3], 2),
                    am,
                ],
                &mut ctx,
            )
            .unwrap_err(),
    );
    assert!(
        m.contains("attention_mask") && m.contains("[2, 3, 5]") && m.contains("[2, 3, 4]"),
        "{m}"
    );
    // a kernel whose head count does not match the others
    let bad = MultiHeadAttention::new(
        "bad",
        Projection {
            kernel: var("k", data(&[4, 2, 3], 1)),
            bias: None,
        },
        Projection {
            kernel: var("k", data(&[4, 3, 3], 1)),
            bias: None,
        },
        Projection {
            kernel: var("k", data(&[4, 2, 3], 1)),
            bias: None,
        },
        Projection {
            kernel: var("k", data(&[2, 3, 4], 1)),
            bias: None,
        },
        0.0,
        None,
    );
    let m = value_error(bad.err().unwrap());
    assert!(
        m.contains("bad") && m.contains("key kernel") && m.contains("[4, 3, 3]"),
        "{m}"
    );
}

/// As in Keras (float32 `-1e9 + score` rounds to `-1e9`), a query whose every key is
/// masked attends uniformly; partly masked rows give masked keys exactly 0.
#[test]
fn fully_masked_rows_are_uniform() {
    let layer = Attention::new("att", ScoreMode::Dot, None, None, 0.0, None)
        .unwrap()
        .with_call_options(false, true);
    let vm = t(&[0., 0., 0., 1., 0., 1.], &[2, 3]);
    let out = run(
        &layer,
        &[data(&[2, 2, 4], 1), data(&[2, 3, 4], 2)],
        &[None, Some(vm)],
    );
    let w = vals(&out[1]);
    close(&w[..6], &[1. / 3.; 6], 1e-6);
    assert!(w[7] == 0.0 && w[10] == 0.0 && (w[6] + w[8] - 1.0).abs() < 1e-6);
}
