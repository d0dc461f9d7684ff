//! Built-in layers: forward against hand-computed references, backward by finite
//! differences, dropout statistics, train/inference behaviour, and shape errors.
use ember::autograd::{check_gradients, grad, watch};
use ember::nn::activations::{self, Activation as Act};
use ember::nn::constraints::Constraint;
use ember::nn::layers::*;
use ember::nn::regularizers::{penalty, Regularizer};
use ember::nn::{Context, Layer};
use ember::{ops, Error, Tensor, Variable};

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_f32(v.to_vec(), shape).unwrap()
}

/// Deterministic values in [-1, 1), none exactly 0.
fn data(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 + 0.25) / 50.5 - 1.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn run(layer: &dyn Layer, x: &Tensor, training: bool) -> Tensor {
    let mut ctx = Context::new(training);
    layer
        .call(std::slice::from_ref(x), &mut ctx)
        .unwrap()
        .remove(0)
}

fn vals(x: &Tensor) -> Vec<f32> {
    x.to_vec_f32().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "lengths differ: {a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "element {i}: {x} vs {y}\n{a:?}\n{b:?}"
        );
    }
}

fn value_error(e: Error) -> String {
    match e {
        Error::Value(m) => m,
        other => panic!("expected a ValueError, got {other:?}"),
    }
}

fn var(name: &str, x: &Tensor) -> Variable {
    Variable::new(name, x.clone(), true)
}

fn dense(kernel: &Tensor, bias: Option<&Tensor>, act: &str) -> Dense {
    Dense::new(
        "dense",
        var("kernel", kernel),
        bias.map(|b| var("bias", b)),
        activations::get(act).unwrap(),
    )
    .unwrap()
}

// ---------------------------------------------------------------- Dense

#[test]
fn dense_forward_matches_hand_computation() {
    let w = t(&[1., 2., 3., 4., 5., 6.], &[3, 2]);
    let b = t(&[0.5, -1.], &[2]);
    let x = t(&[1., 0., -1., 2., 1., 0.], &[2, 3]);
    // [1,0,-1] @ w = [1-5, 2-6] = [-4,-4]; [2,1,0] @ w = [2+3, 4+4] = [5, 8]
    let y = run(&dense(&w, Some(&b), "linear"), &x, false);
    assert_eq!(y.shape(), &[2, 2]);
    close(&vals(&y), &[-3.5, -5., 5.5, 7.], 1e-6);
    let y = run(&dense(&w, Some(&b), "relu"), &x, false);
    close(&vals(&y), &[0., 0., 5.5, 7.], 1e-6);
    let y = run(&dense(&w, None, "linear"), &x, false);
    close(&vals(&y), &[-4., -4., 5., 8.], 1e-6);
}

#[test]
fn dense_applies_to_the_last_axis_of_rank_3_inputs() {
    let w = data(&[4, 3], 1);
    let b = data(&[3], 2);
    let x = data(&[2, 5, 4], 3);
    let y = run(&dense(&w, Some(&b), "linear"), &x, false);
    assert_eq!(y.shape(), &[2, 5, 3]);
    let (xv, wv, bv) = (vals(&x), vals(&w), vals(&b));
    let mut want = vec![0.0; 30];
    for r in 0..10 {
        for j in 0..3 {
            want[r * 3 + j] = bv[j] + (0..4).map(|k| xv[r * 4 + k] * wv[k * 3 + j]).sum::<f32>();
        }
    }
    close(&vals(&y), &want, 1e-5);
}

#[test]
fn linear_op_gradients() {
    let (x, w, b) = (data(&[3, 4], 1), data(&[4, 2], 2), data(&[2], 3));
    check_gradients(
        |v| linear(&v[0], &v[1], Some(&v[2])),
        &[x.clone(), w.clone(), b],
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |v| linear(&v[0], &v[1], None),
        &[x.clone(), w.clone()],
        1e-2,
        1e-2,
    )
    .unwrap();
    // a transposed (strided) input
    let xt = data(&[4, 3], 4);
    check_gradients(
        |v| linear(&ops::reshape(&v[0], &[4, 3])?, &v[1], None),
        &[xt, data(&[3, 2], 5)],
        1e-2,
        1e-2,
    )
    .unwrap();
}

#[test]
fn dense_gradients_reach_inputs_and_weights() {
    let layer = dense(&data(&[4, 3], 1), Some(&data(&[3], 2)), "linear");
    check_gradients(
        |v| Ok(run(&layer, &v[0], false)),
        &[data(&[2, 5, 4], 3)],
        1e-2,
        1e-2,
    )
    .unwrap();
    // d sum(x @ W + b) / dW = x^T @ ones, / db = batch size
    let x = data(&[5, 4], 4);
    let y = run(&layer, &x, true);
    let loss = ops::sum(&y, None, false).unwrap();
    let vars = layer.variables();
    assert_eq!(
        vars.iter().map(|v| v.name()).collect::<Vec<_>>(),
        ["kernel", "bias"]
    );
    let g = grad(&loss, None, &[]).unwrap();
    let gw = vals(&g[&vars[0].id()]);
    let xv = vals(&x);
    let want: Vec<f32> = (0..12)
        .map(|i| (0..5).map(|r| xv[r * 4 + i / 3]).sum())
        .collect();
    close(&gw, &want, 1e-5);
    close(&vals(&g[&vars[1].id()]), &[5., 5., 5.], 1e-6);
}

#[test]
fn dense_rejects_wrong_widths_and_ranks() {
    let layer = dense(&data(&[4, 3], 1), None, "linear");
    let mut ctx = Context::new(false);
    let e = value_error(layer.call(&[data(&[2, 5], 0)], &mut ctx).unwrap_err());
    assert!(
        e.contains("\"dense\"") && e.contains("value 4") && e.contains("[2, 5]"),
        "{e}"
    );
    let e = value_error(layer.call(&[data(&[4], 0)], &mut ctx).unwrap_err());
    assert!(e.contains("dense") && e.contains("min_ndim=2"), "{e}");
    let e = value_error(
        layer
            .call(&[data(&[2, 4], 0), data(&[2, 4], 0)], &mut ctx)
            .unwrap_err(),
    );
    assert!(e.contains("dense") && e.contains("2 input"), "{e}");
    let ints = Tensor::from_i64(vec![1, 2, 3, 4], &[1, 4]).unwrap();
    assert!(matches!(layer.call(&[ints], &mut ctx), Err(Error::Type(_))));
    let e = Dense::new(
        "d",
        var("k", &data(&[4, 3], 0)),
        Some(var("b", &data(&[2], 0))),
        Act::Linear,
    );
    assert!(value_error(e.err().unwrap()).contains("bias"));
}

#[test]
fn dense_regularizers_constraints_and_activity_losses() {
    let w = data(&[3, 2], 1);
    let b = data(&[2], 2);
    let layer = dense(&w, Some(&b), "linear").with_regularizers(
        Some(Regularizer::l2(0.1).unwrap()),
        Some(Regularizer::l1(0.5).unwrap()),
        Some(Regularizer::l1_l2(0.01, 0.02).unwrap()),
    );
    let (wv, bv) = (vals(&w), vals(&b));
    let want =
        0.1 * wv.iter().map(|v| v * v).sum::<f32>() + 0.5 * bv.iter().map(|v| v.abs()).sum::<f32>();
    let reg = layer.regularization().unwrap().unwrap();
    close(&vals(&reg), &[want], 1e-6);
    // the penalty is differentiable with respect to the weights
    let g = grad(&reg, None, &[]).unwrap();
    let gw: Vec<f32> = wv.iter().map(|v| 0.2 * v).collect();
    close(&vals(&g[&layer.variables()[0].id()]), &gw, 1e-5);
    // frozen weights are not regularized (Keras regularizes trainable weights only)
    layer.variables()[0].set_trainable(false);
    let reg = layer.regularization().unwrap().unwrap();
    close(
        &vals(&reg),
        &[0.5 * bv.iter().map(|v| v.abs()).sum::<f32>()],
        1e-6,
    );
    // activity regularization of the output goes to ctx.losses
    let x = data(&[4, 3], 3);
    let mut ctx = Context::new(true);
    let y = layer.call(&[x], &mut ctx).unwrap().remove(0);
    let yv = vals(&y);
    let want = 0.01 * yv.iter().map(|v| v.abs()).sum::<f32>()
        + 0.02 * yv.iter().map(|v| v * v).sum::<f32>();
    assert_eq!(ctx.losses.len(), 1);
    close(&vals(&ctx.losses[0]), &[want], 1e-5);
    // a max-norm kernel constraint caps every column norm
    let big = t(&[3., 0., 4., 0.1, 0., 0.2], &[3, 2]);
    let layer = dense(&big, None, "linear")
        .with_constraints(Some(Constraint::max_norm(2.0, vec![0])), None);
    layer.apply_constraints().unwrap();
    let k = vals(&layer.variables()[0].data());
    let n0 = (k[0] * k[0] + k[2] * k[2] + k[4] * k[4]).sqrt();
    let n1 = (k[1] * k[1] + k[3] * k[3] + k[5] * k[5]).sqrt();
    assert!((n0 - 2.0).abs() < 1e-5, "{n0}");
    close(&[k[1], k[3], k[5]], &[0., 0.1, 0.2], 1e-5);
    assert!(n1 < 2.0);
}

#[test]
fn dense_glorot_initialisation_is_bounded() {
    let a = Dense::glorot("d", 30, 20, Act::Linear).unwrap();
    let ka = vals(&a.variables()[0].data());
    assert_eq!(a.variables()[0].shape(), vec![30, 20]);
    let limit = (6.0f32 / 50.0).sqrt();
    assert!(ka.iter().all(|v| v.abs() <= limit));
    assert!(ka.iter().any(|v| v.abs() > 0.8 * limit));
    assert_eq!(vals(&a.variables()[1].data()), vec![0.0; 20]);
}

// ---------------------------------------------------------------- activations

fn reference(name: &str, x: f32) -> f32 {
    let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
    let softplus = |v: f32| (1.0 + v.exp()).ln();
    let (alpha, scale) = (1.673_263_2_f32, 1.050_701_f32);
    match name {
        "linear" => x,
        "relu" => x.max(0.0),
        "relu6" => x.clamp(0.0, 6.0),
        "leaky_relu" => {
            if x > 0.0 {
                x
            } else {
                0.2 * x
            }
        }
        "elu" => {
            if x > 0.0 {
                x
            } else {
                x.exp() - 1.0
            }
        }
        "selu" => scale * if x > 0.0 { x } else { alpha * (x.exp() - 1.0) },
        "gelu" => 0.5 * x * (1.0 + erf(x / 2f32.sqrt())),
        "sigmoid" => sig(x),
        "hard_sigmoid" => (x / 6.0 + 0.5).clamp(0.0, 1.0),
        "hard_silu" | "hard_swish" => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
        "tanh" => x.tanh(),
        "softplus" => softplus(x),
        "softsign" => x / (1.0 + x.abs()),
        "silu" | "swish" => x * sig(x),
        "mish" => x * softplus(x).tanh(),
        "exponential" => x.exp(),
        other => panic!("no reference for {other}"),
    }
}

/// Abramowitz-Stegun 7.1.26 (error < 1.5e-7).
fn erf(x: f32) -> f32 {
    let (s, x) = (x.signum(), x.abs() as f64);
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let p = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    s * (1.0 - p * (-x * x).exp()) as f32
}

#[test]
fn every_activation_name_matches_its_formula() {
    let xs = t(&[-4., -2.5, -1., -0.3, 0.2, 0.9, 2., 3.5, 7.], &[9]);
    for &name in activations::NAMES {
        if name == "softmax" || name == "log_softmax" {
            continue;
        }
        let y = activations::apply(name, &xs).unwrap();
        let want: Vec<f32> = vals(&xs).iter().map(|&v| reference(name, v)).collect();
        close(&vals(&y), &want, 2e-5);
        assert_eq!(
            activations::get(name).unwrap().apply(&xs).unwrap().shape(),
            &[9]
        );
    }
    let x = t(&[1., 2., 3., 1., 1., 1.], &[2, 3]);
    let y = vals(&activations::apply("softmax", &x).unwrap());
    let e: Vec<f32> = [1f32, 2., 3.].iter().map(|v| v.exp()).collect();
    let s: f32 = e.iter().sum();
    close(
        &y,
        &[e[0] / s, e[1] / s, e[2] / s, 1. / 3., 1. / 3., 1. / 3.],
        1e-6,
    );
    let y = vals(&activations::apply("log_softmax", &x).unwrap());
    close(
        &y[..3],
        &[
            1. - 3. - (s / e[2]).ln(),
            -1. - (s / e[2]).ln(),
            -(s / e[2]).ln(),
        ],
        1e-5,
    );
}

#[test]
fn unknown_activation_lists_the_known_ones() {
    let e = value_error(activations::get("relux").unwrap_err());
    assert!(
        e.contains("relux") && e.contains("leaky_relu") && e.contains("softmax"),
        "{e}"
    );
    assert!(Activation::named("a", "nope").is_err());
}

#[test]
fn activation_layers_forward() {
    let x = t(&[-10., -5., 0., 5., 10.], &[1, 5]);
    // Keras's own examples
    let relu = Activation::relu("r", Some(10.), 0.5, 0.).unwrap();
    close(
        &vals(&run(&relu, &x, false)),
        &[-5., -2.5, 0., 5., 10.],
        1e-6,
    );
    let relu = Activation::relu("r", Some(5.), 0., 0.).unwrap();
    close(&vals(&run(&relu, &x, false)), &[0., 0., 0., 5., 5.], 1e-6);
    let relu = Activation::relu("r", None, 0., 5.).unwrap();
    close(&vals(&run(&relu, &x, false)), &[0., 0., 0., 0., 10.], 1e-6);
    let leaky = Activation::leaky_relu("l", 0.3).unwrap();
    close(
        &vals(&run(&leaky, &x, false)),
        &[-3., -1.5, 0., 5., 10.],
        1e-6,
    );
    let elu = Activation::elu("e", 0.5);
    let e5 = 0.5 * ((-5f32).exp() - 1.0);
    let e10 = 0.5 * ((-10f32).exp() - 1.0);
    close(&vals(&run(&elu, &x, false)), &[e10, e5, 0., 5., 10.], 1e-6);
    let act = Activation::named("a", "tanh").unwrap();
    close(
        &vals(&run(&act, &x, false)),
        &vals(&x).iter().map(|v| v.tanh()).collect::<Vec<_>>(),
        1e-6,
    );
    // Keras's argument checks
    assert!(Activation::relu("r", Some(-1.), 0., 0.).is_err());
    assert!(Activation::relu("r", None, -0.1, 0.).is_err());
    assert!(Activation::leaky_relu("l", -0.1).is_err());
}

#[test]
fn activation_layer_gradients() {
    let x = data(&[3, 4], 7);
    for act in [
        Activation::named("a", "tanh").unwrap(),
        Activation::leaky_relu("l", 0.3).unwrap(),
        Activation::elu("e", 0.7),
        Activation::named("s", "softmax").unwrap(),
    ] {
        check_gradients(
            |v| Ok(run(&act, &v[0], false)),
            std::slice::from_ref(&x),
            1e-3,
            1e-2,
        )
        .unwrap();
    }
}

#[test]
fn prelu_learns_a_slope_per_feature() {
    let alpha = var("alpha", &t(&[0.1, 0.5, 2.0], &[1, 3]));
    let layer = PReLU::new(
        "prelu",
        alpha.clone(),
        Some(Regularizer::l2(1.0).unwrap()),
        Some(Constraint::non_neg()),
    );
    let x = t(
        &[-1., -2., -3., 1., 2., 3., -1., 0.5, -0.5, 4., -4., 2.],
        &[2, 2, 3],
    );
    let y = run(&layer, &x, false);
    close(
        &vals(&y),
        &[-0.1, -1., -6., 1., 2., 3., -0.1, 0.5, -1., 4., -2., 2.],
        1e-6,
    );
    check_gradients(
        |v| Ok(run(&layer, &v[0], false)),
        &[data(&[2, 2, 3], 1)],
        1e-3,
        1e-2,
    )
    .unwrap();
    // d sum(y) / d alpha = sum of min(x, 0) over the shared positions
    let g = grad(
        &ops::sum(&run(&layer, &x, true), None, false).unwrap(),
        None,
        &[],
    )
    .unwrap();
    close(&vals(&g[&alpha.id()]), &[-2., -6., -3.5], 1e-6);
    close(
        &vals(&layer.regularization().unwrap().unwrap()),
        &[0.01 + 0.25 + 4.0],
        1e-6,
    );
    alpha.assign(&t(&[-1., 0.5, 2.], &[1, 3])).unwrap();
    layer.apply_constraints().unwrap();
    assert_eq!(vals(&alpha.data()), vec![0., 0.5, 2.]);
    let mut ctx = Context::new(false);
    let e = value_error(layer.call(&[data(&[2, 2, 4], 0)], &mut ctx).unwrap_err());
    assert!(e.contains("prelu") && e.contains("[2, 2, 4]"), "{e}");
    assert!(layer.call(&[data(&[2, 3], 0)], &mut ctx).is_err());
}

#[test]
fn softmax_over_one_or_several_axes() {
    let x = data(&[2, 3, 4], 5);
    let xv = vals(&x);
    let one = run(&Softmax::new("s", vec![1]).unwrap(), &x, false);
    for b in 0..2 {
        for k in 0..4 {
            let idx: Vec<usize> = (0..3).map(|j| b * 12 + j * 4 + k).collect();
            let s: f32 = idx.iter().map(|&i| xv[i].exp()).sum();
            for &i in &idx {
                assert!((vals(&one)[i] - xv[i].exp() / s).abs() < 1e-6);
            }
        }
    }
    let layer = Softmax::new("s", vec![1, -1]).unwrap();
    let both = vals(&run(&layer, &x, false));
    for b in 0..2 {
        let s: f32 = xv[b * 12..b * 12 + 12].iter().map(|v| v.exp()).sum();
        let want: Vec<f32> = xv[b * 12..b * 12 + 12]
            .iter()
            .map(|v| v.exp() / s)
            .collect();
        close(&both[b * 12..b * 12 + 12], &want, 1e-5);
    }
    check_gradients(
        |v| Ok(run(&layer, &v[0], false)),
        std::slice::from_ref(&x),
        1e-3,
        1e-2,
    )
    .unwrap();
    let mut ctx = Context::new(false);
    assert!(value_error(
        Softmax::new("s", vec![3])
            .unwrap()
            .call(&[x], &mut ctx)
            .unwrap_err()
    )
    .contains("axis 3"));
}

// ---------------------------------------------------------------- dropout and noise

#[test]
fn dropout_statistics_and_modes() {
    let x = Tensor::ones(&[200, 500]);
    let layer = Dropout::new("dropout", 0.3, None, None).unwrap();
    assert_eq!(vals(&run(&layer, &x, false)), vals(&x));
    let y = vals(&run(&layer, &x, true));
    let zeros = y.iter().filter(|&&v| v == 0.0).count() as f32 / y.len() as f32;
    assert!((zeros - 0.3).abs() < 0.01, "dropped fraction {zeros}");
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
    let mean = y.iter().sum::<f32>() / y.len() as f32;
    assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
    // the gradient is the mask
    let xs = watch(&data(&[50, 40], 2));
    let y = run(&layer, &xs, true);
    let g = grad(
        &ops::sum(&y, None, false).unwrap(),
        None,
        &[xs.node().unwrap().id()],
    )
    .unwrap();
    let (yv, xv, gv) = (vals(&y), vals(&xs), vals(&g[&xs.node().unwrap().id()]));
    for i in 0..yv.len() {
        close(&[yv[i]], &[xv[i] * gv[i]], 1e-5);
    }
    // rate 0 and 1
    assert_eq!(
        vals(&run(&Dropout::new("d", 0.0, None, None).unwrap(), &x, true)),
        vals(&x)
    );
    assert!(
        vals(&run(&Dropout::new("d", 1.0, None, None).unwrap(), &x, true))
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(value_error(Dropout::new("d", 1.5, None, None).err().unwrap()).contains("rate"));
}

#[test]
fn dropout_seed_and_noise_shape() {
    let x = Tensor::ones(&[8, 6, 10]);
    let a = Dropout::new("a", 0.5, None, Some(7)).unwrap();
    let b = Dropout::new("b", 0.5, None, Some(7)).unwrap();
    let (ya, yb) = (vals(&run(&a, &x, true)), vals(&run(&b, &x, true)));
    assert_eq!(ya, yb);
    assert_ne!(
        ya,
        vals(&run(&a, &x, true)),
        "a seeded layer draws a new mask each call"
    );
    let layer = Dropout::new("d", 0.5, Some(vec![None, Some(1), Some(10)]), None).unwrap();
    let y = vals(&run(&layer, &x, true));
    for bi in 0..8 {
        for j in 1..6 {
            assert_eq!(
                y[bi * 60 + j * 10..bi * 60 + j * 10 + 10],
                y[bi * 60..bi * 60 + 10]
            );
        }
    }
    let bad = Dropout::new("d", 0.5, Some(vec![None, Some(3), None]), None).unwrap();
    let mut ctx = Context::new(true);
    let e = value_error(bad.call(&[x], &mut ctx).unwrap_err());
    assert!(e.contains("noise_shape") && e.contains("[8, 6, 10]"), "{e}");
}

fn mean_std(v: &[f32]) -> (f32, f32) {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
    (m as f32, var.sqrt() as f32)
}

/// Standard normal inputs.
fn normal_input(n: usize) -> Tensor {
    let noise = GaussianNoise::new("n", 1.0, None).unwrap();
    run(&noise, &Tensor::zeros(&[n]), true)
}

#[test]
fn gaussian_noise_and_dropout_statistics() {
    let x = Tensor::ones(&[100_000]);
    let noise = GaussianNoise::new("gn", 0.5, None).unwrap();
    assert_eq!(vals(&run(&noise, &x, false)), vals(&x));
    let (m, s) = mean_std(&vals(&run(&noise, &x, true)));
    assert!((m - 1.0).abs() < 0.01 && (s - 0.5).abs() < 0.01, "{m} {s}");
    let gd = GaussianDropout::new("gd", 0.2, Some(3)).unwrap();
    assert_eq!(vals(&run(&gd, &x, false)), vals(&x));
    let (m, s) = mean_std(&vals(&run(&gd, &x, true)));
    assert!((m - 1.0).abs() < 0.01 && (s - 0.5).abs() < 0.01, "{m} {s}"); // sqrt(0.2 / 0.8) = 0.5
    assert!(GaussianNoise::new("gn", 2.0, None).is_err());
    check_gradients(|v| Ok(run(&gd, &v[0], false)), &[data(&[5], 1)], 1e-3, 1e-2).unwrap();
}

#[test]
fn alpha_dropout_keeps_mean_and_variance() {
    let x = normal_input(200_000);
    let (m0, s0) = mean_std(&vals(&x));
    assert!(m0.abs() < 0.01 && (s0 - 1.0).abs() < 0.01);
    let layer = AlphaDropout::new("ad", 0.2, None, Some(5)).unwrap();
    assert_eq!(vals(&run(&layer, &x, false)), vals(&x));
    let y = vals(&run(&layer, &x, true));
    let (m, s) = mean_std(&y);
    assert!(m.abs() < 0.02 && (s - 1.0).abs() < 0.02, "mean {m} std {s}");
    // dropped units all take the same value a * alpha_p + b
    let alpha_p = -1.673_263_2_f32 * 1.050_701;
    let a = ((1.0 - 0.2) * (1.0 + 0.2 * alpha_p * alpha_p)).powf(-0.5);
    let dropped = a * alpha_p - a * alpha_p * 0.2;
    let frac = y.iter().filter(|&&v| (v - dropped).abs() < 1e-6).count() as f32 / y.len() as f32;
    assert!((frac - 0.2).abs() < 0.01, "{frac}");
}

#[test]
fn activity_regularization_adds_its_penalty() {
    let layer = ActivityRegularization::new("ar", 0.2, 0.3).unwrap();
    let x = t(&[2.0], &[1, 1]);
    let mut ctx = Context::new(false);
    let y = layer.call(std::slice::from_ref(&x), &mut ctx).unwrap();
    assert_eq!(vals(&y[0]), vec![2.0]);
    close(&vals(&ctx.losses[0]), &[4. * 0.3 + 2. * 0.2], 1e-6);
    assert!(ActivityRegularization::new("ar", -1.0, 0.0).is_err());
}

// ---------------------------------------------------------------- reshaping

#[test]
fn flatten_reshape_permute_repeat_identity_forward() {
    let x = data(&[2, 3, 4], 1);
    let xv = vals(&x);
    let f = run(&Flatten::new("f", false), &x, false);
    assert_eq!((f.shape(), vals(&f)), (&[2usize, 12][..], xv.clone()));
    assert_eq!(
        run(&Flatten::new("f", false), &data(&[5], 0), false).shape(),
        &[5, 1]
    );
    // channels_first: (batch, channels, width) is read as channels-last (batch, width, channels)
    let f = vals(&run(&Flatten::new("f", true), &x, false));
    assert_eq!(f[..4], [xv[0], xv[4], xv[8], xv[1]]);
    let r = run(&Reshape::new("r", vec![-1, 2]).unwrap(), &x, false);
    assert_eq!((r.shape(), vals(&r)), (&[2usize, 6, 2][..], xv.clone()));
    let p = run(&Permute::new("p", vec![2, 1]).unwrap(), &x, false);
    assert_eq!(p.shape(), &[2, 4, 3]);
    let pv = vals(&p);
    for b in 0..2 {
        for i in 0..4 {
            for j in 0..3 {
                assert_eq!(pv[b * 12 + i * 3 + j], xv[b * 12 + j * 4 + i]);
            }
        }
    }
    let v = data(&[2, 3], 2);
    let r = run(&RepeatVector::new("rv", 4), &v, false);
    assert_eq!(r.shape(), &[2, 4, 3]);
    let (rv, vv) = (vals(&r), vals(&v));
    for b in 0..2 {
        for k in 0..4 {
            assert_eq!(rv[b * 12 + k * 3..b * 12 + k * 3 + 3], vv[b * 3..b * 3 + 3]);
        }
    }
    let mut ctx = Context::new(false);
    let id = Identity::new("id")
        .call(&[x.clone(), v.clone()], &mut ctx)
        .unwrap();
    assert_eq!((vals(&id[0]), vals(&id[1])), (xv, vv));
}

#[test]
fn reshaping_gradients() {
    let x = data(&[2, 3, 4], 3);
    let layers: Vec<Box<dyn Layer>> = vec![
        Box::new(Flatten::new("f", true)),
        Box::new(Reshape::new("r", vec![4, -1]).unwrap()),
        Box::new(Permute::new("p", vec![2, 1]).unwrap()),
    ];
    for layer in &layers {
        check_gradients(
            |v| Ok(run(layer.as_ref(), &v[0], false)),
            std::slice::from_ref(&x),
            1e-2,
            1e-2,
        )
        .unwrap();
    }
    let rv = RepeatVector::new("rv", 3);
    check_gradients(
        |v| Ok(run(&rv, &v[0], false)),
        &[data(&[2, 4], 1)],
        1e-2,
        1e-2,
    )
    .unwrap();
}

#[test]
fn reshaping_shape_errors() {
    let mut ctx = Context::new(false);
    let x = data(&[2, 3, 4], 1);
    let e = value_error(
        Reshape::new("reshape", vec![5])
            .unwrap()
            .call(std::slice::from_ref(&x), &mut ctx)
            .unwrap_err(),
    );
    assert!(
        e.contains("reshape") && e.contains("[5]") && e.contains("[3, 4]"),
        "{e}"
    );
    assert!(Reshape::new("r", vec![-1, -1]).is_err());
    let e = value_error(
        Permute::new("permute", vec![1, 2, 3])
            .unwrap()
            .call(std::slice::from_ref(&x), &mut ctx)
            .unwrap_err(),
    );
    assert!(
        e.contains("permute") && e.contains("ndim=4") && e.contains("[2, 3, 4]"),
        "{e}"
    );
    assert!(Permute::new("p", vec![0, 1]).is_err());
    let e = value_error(RepeatVector::new("rv", 2).call(&[x], &mut ctx).unwrap_err());
    assert!(e.contains("rv") && e.contains("ndim=2"), "{e}");
}

// ---------------------------------------------------------------- regularizers and constraints

#[test]
fn penalties_match_keras_formulas() {
    let x = t(&[1., -2., 3., -0.5], &[2, 2]);
    close(&vals(&penalty(&x, 0.1, 0.0).unwrap()), &[0.65], 1e-6);
    close(&vals(&penalty(&x, 0.0, 0.2).unwrap()), &[0.2 * 14.25], 1e-6);
    close(
        &vals(&Regularizer::l1_l2(0.1, 0.2).unwrap().penalty(&x).unwrap()),
        &[0.65 + 2.85],
        1e-6,
    );
    // Keras's doc example: L2(2.) of ones(5, 5) is 50
    close(
        &vals(&penalty(&Tensor::ones(&[5, 5]), 0.0, 2.0).unwrap()),
        &[50.0],
        1e-6,
    );
    // a large input takes the parallel path
    let big = Tensor::full(&[300_000], -0.5);
    close(
        &vals(&penalty(&big, 1.0, 1.0).unwrap()),
        &[300_000.0 * 0.75],
        1e-4,
    );
    check_gradients(
        |v| penalty(&v[0], 0.3, 0.7),
        &[data(&[3, 5], 2)],
        1e-3,
        1e-2,
    )
    .unwrap();
    assert!(value_error(Regularizer::new(-0.1, 0.0).unwrap_err()).contains("l1"));
    assert!(Regularizer::l2(f32::NAN).is_err());
}

#[test]
fn constraints_match_keras_formulas() {
    let eps = 1e-7f32;
    let w = t(&[3., -1., 4., 2., 0., -2.], &[3, 2]); // column norms 5 and 3
    let scale = |w: &[f32], f: [f32; 2]| -> Vec<f32> {
        w.iter().enumerate().map(|(i, v)| v * f[i % 2]).collect()
    };
    let wv = vals(&w);
    let got = vals(&Constraint::max_norm(4.0, vec![0]).project(&w).unwrap());
    close(
        &got,
        &scale(&wv, [4.0 / (eps + 5.0), 3.0 / (eps + 3.0)]),
        1e-6,
    );
    let got = vals(&Constraint::unit_norm(vec![0]).project(&w).unwrap());
    close(
        &got,
        &scale(&wv, [1.0 / (eps + 5.0), 1.0 / (eps + 3.0)]),
        1e-6,
    );
    let got = vals(
        &Constraint::min_max_norm(3.5, 4.0, 0.5, vec![0])
            .project(&w)
            .unwrap(),
    );
    let want = [
        (0.5 * 4.0 + 0.5 * 5.0) / (eps + 5.0),
        (0.5 * 3.5 + 0.5 * 3.0) / (eps + 3.0),
    ];
    close(&got, &scale(&wv, want), 1e-6);
    assert_eq!(
        vals(&Constraint::non_neg().project(&w).unwrap()),
        vec![3., 0., 4., 2., 0., 0.]
    );
    // axis 1: row norms; several axes: one norm over all
    let rows = vals(&Constraint::unit_norm(vec![1]).project(&w).unwrap());
    let n0 = 10f32.sqrt();
    close(&rows[..2], &[3. / n0, -1. / n0], 1e-6);
    let all = vals(&Constraint::unit_norm(vec![0, 1]).project(&w).unwrap());
    close(&all[..1], &[3. / 34f32.sqrt()], 1e-6);
    // applied in place to a variable
    let v = var("kernel", &w);
    Constraint::max_norm(1.0, vec![0]).apply(&v).unwrap();
    let d = vals(&v.data());
    close(
        &[(d[0] * d[0] + d[2] * d[2] + d[4] * d[4]).sqrt()],
        &[1.0],
        1e-5,
    );
    let e = value_error(Constraint::max_norm(1.0, vec![2]).project(&w).unwrap_err());
    assert!(e.contains("MaxNorm") && e.contains("[3, 2]"), "{e}");
}
