//! Elementwise math, activations and softmax: forward values against f64 references,
//! finite-difference gradient checks, and error messages.
use ember::autograd::check_gradients;
use ember::{ops, Result, Tensor};

/// Deterministic values in [-scale, scale), never within scale/101 of 0.
fn t(shape: &[usize], seed: usize, scale: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 / 101.0 - 0.5) * 2.0 * scale)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn vals(x: &Tensor) -> Vec<f32> {
    x.to_vec_f32().unwrap()
}

/// Checks `op` against `reference` elementwise (relative tolerance 1e-5) and its gradient
/// by finite differences.
fn check_unary(op: impl Fn(&Tensor) -> Result<Tensor>, reference: impl Fn(f64) -> f64, x: &Tensor) {
    let y = op(x).unwrap();
    assert_eq!(y.shape(), x.shape());
    for (&xv, &yv) in vals(x).iter().zip(&vals(&y)) {
        let r = reference(xv as f64);
        assert!(
            (yv as f64 - r).abs() <= 1e-5 * (1.0 + r.abs()),
            "f({xv}) = {yv}, expected {r}"
        );
    }
    check_gradients(|v| op(&v[0]), &[x.clone()], 1e-3, 1e-2).unwrap();
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[test]
fn activations_match_references_and_gradients() {
    let x = t(&[3, 7], 1, 4.0);
    check_unary(ops::relu, |v| v.max(0.0), &x);
    check_unary(ops::relu6, |v| v.clamp(0.0, 6.0), &t(&[5, 9], 2, 8.0));
    check_unary(
        |x| ops::leaky_relu(x, 0.2),
        |v| if v >= 0.0 { v } else { 0.2 * v },
        &x,
    );
    check_unary(
        |x| ops::elu(x, 1.5),
        |v| if v > 0.0 { v } else { 1.5 * v.exp_m1() },
        &x,
    );
    let (a, s) = (1.673_263_242_354_377_3, 1.050_700_987_355_480_5);
    check_unary(
        ops::selu,
        |v| s * if v > 0.0 { v } else { a * v.exp_m1() },
        &x,
    );
    check_unary(ops::sigmoid, sigmoid64, &x);
    check_unary(
        ops::hard_sigmoid,
        |v| (v + 3.0).clamp(0.0, 6.0) / 6.0,
        &t(&[4, 6], 3, 5.0),
    );
    check_unary(
        ops::hard_silu,
        |v| v * (v + 3.0).clamp(0.0, 6.0) / 6.0,
        &t(&[4, 6], 4, 5.0),
    );
    check_unary(ops::tanh, f64::tanh, &x);
    check_unary(ops::softplus, softplus64, &t(&[2, 9], 5, 30.0));
    check_unary(ops::softsign, |v| v / (1.0 + v.abs()), &x);
    check_unary(ops::silu, |v| v * sigmoid64(v), &x);
    check_unary(ops::mish, |v| v * softplus64(v).tanh(), &x);
    check_unary(ops::exp, f64::exp, &x);
}

#[test]
fn gelu_exact_and_tanh_forms() {
    let x = t(&[4, 5], 6, 4.0);
    // erf via the Taylor series (|x| <= 4 / sqrt 2)
    let erf = |x: f64| {
        let (mut term, mut sum) = (x, x);
        for n in 1..100 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    };
    check_unary(
        |x| ops::gelu(x, false),
        |v| 0.5 * v * (1.0 + erf(v / 2f64.sqrt())),
        &x,
    );
    let k = (2.0 / std::f64::consts::PI).sqrt();
    check_unary(
        |x| ops::gelu(x, true),
        |v| 0.5 * v * (1.0 + (k * (v + 0.044715 * v * v * v)).tanh()),
        &x,
    );
}

#[test]
fn relu_general_form_follows_keras() {
    let x = Tensor::from_f32(vec![-10.0, -5.0, 0.0, 5.0, 10.0], &[5]).unwrap();
    let r = |s, m, th| vals(&ops::relu_with(&x, s, m, th).unwrap());
    assert_eq!(r(0.0, None, 0.0), [0.0, 0.0, 0.0, 5.0, 10.0]);
    assert_eq!(r(0.5, None, 0.0), [-5.0, -2.5, 0.0, 5.0, 10.0]);
    assert_eq!(r(0.0, Some(5.0), 0.0), [0.0, 0.0, 0.0, 5.0, 5.0]);
    assert_eq!(r(0.0, None, 5.0), [0.0, 0.0, 0.0, 0.0, 10.0]);
    assert_eq!(r(0.5, Some(7.0), 2.0), [-6.0, -3.5, -1.0, 5.0, 7.0]);
    for (s, m, th) in [
        (0.1, Some(0.5), 0.3),
        (0.3, None, -0.2),
        (0.0, Some(0.4), 0.0),
    ] {
        check_gradients(
            |v| ops::relu_with(&v[0], s, m, th),
            &[t(&[3, 8], 7, 1.0)],
            1e-3,
            1e-2,
        )
        .unwrap();
    }
}

/// Softmax over `axis` of a row-major [outer, n, inner] array, in f64.
fn softmax_ref(x: &[f32], shape: &[usize], axis: usize, log: bool) -> Vec<f64> {
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let mut out = vec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let idx = |k: usize| o * n * inner + k * inner + i;
            let m = (0..n).map(|k| x[idx(k)] as f64).fold(f64::MIN, f64::max);
            let s: f64 = (0..n).map(|k| (x[idx(k)] as f64 - m).exp()).sum();
            for k in 0..n {
                let z = x[idx(k)] as f64 - m;
                out[idx(k)] = if log { z - s.ln() } else { z.exp() / s };
            }
        }
    }
    out
}

#[test]
fn softmax_and_log_softmax_any_axis() {
    let x = t(&[3, 4, 5], 8, 3.0);
    for axis in [-1isize, 0, 1, 2] {
        let ax = if axis < 0 { 2 } else { axis as usize };
        for log in [false, true] {
            let f = if log { ops::log_softmax } else { ops::softmax };
            let y = vals(&f(&x, axis).unwrap());
            let r = softmax_ref(&vals(&x), x.shape(), ax, log);
            for (a, b) in y.iter().zip(&r) {
                assert!(
                    (*a as f64 - b).abs() < 1e-5,
                    "axis {axis} log {log}: {a} vs {b}"
                );
            }
            check_gradients(|v| f(&v[0], axis), &[x.clone()], 1e-3, 1e-2).unwrap();
        }
    }
}

#[test]
fn softmax_is_stable_and_parallel_for_large_inputs() {
    // huge logits: no overflow
    let x = Tensor::from_f32(vec![1000.0, 1001.0, -1000.0, 1e30], &[2, 2]).unwrap();
    let y = vals(&ops::softmax(&x, -1).unwrap());
    assert!((y[0] - 0.268_941_43).abs() < 1e-6 && (y[1] - 0.731_058_6).abs() < 1e-6);
    assert_eq!(&y[2..], &[0.0, 1.0]);
    let l = vals(&ops::log_softmax(&x, -1).unwrap());
    assert!((l[0] + 1.313_261_7).abs() < 1e-5 && l[2] == -1e30 && l[3] == 0.0);
    // large enough for the threaded path, on the last and on a middle axis
    for (shape, axis) in [(vec![300usize, 257], 1isize), (vec![40, 129, 9], 1)] {
        let x = t(&shape, 9, 5.0);
        let y = vals(&ops::softmax(&x, axis).unwrap());
        let r = softmax_ref(&vals(&x), &shape, axis as usize, false);
        let err = y
            .iter()
            .zip(&r)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-6, "max error {err}");
    }
}

#[test]
fn activation_errors_name_the_op() {
    let i = Tensor::from_i64(vec![1, 2], &[2]).unwrap();
    let e = ops::gelu(&i, true).unwrap_err().to_string();
    assert!(e.contains("gelu") && e.contains("int64"), "{e}");
    let e = ops::softmax(&t(&[2, 3], 0, 1.0), 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("softmax") && e.contains("axis 2"), "{e}");
    let e = ops::relu_with(&t(&[2], 0, 1.0), 0.0, Some(f32::NAN), 0.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("relu") && e.contains("max_value"), "{e}");
}
