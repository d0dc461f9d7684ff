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
    check_gradients(|v| op(&v[0]), std::slice::from_ref(x), 1e-3, 1e-2).unwrap();
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
            check_gradients(|v| f(&v[0], axis), std::slice::from_ref(&x), 1e-3, 1e-2).unwrap();
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

/// Values in [lo, hi) (exclusive of near-kink points for the given seeds).
fn pos(shape: &[usize], seed: usize) -> Tensor {
    ops::add(
        &ops::abs(&t(shape, seed, 2.0)).unwrap(),
        &Tensor::scalar(0.5),
    )
    .unwrap()
}

#[test]
fn unary_math_matches_references_and_gradients() {
    let x = t(&[3, 5], 11, 3.0);
    check_unary(ops::negative, |v| -v, &x);
    check_unary(ops::abs, f64::abs, &x);
    check_unary(ops::square, |v| v * v, &x);
    check_unary(ops::sin, f64::sin, &x);
    check_unary(ops::cos, f64::cos, &x);
    let p = pos(&[4, 3], 12);
    check_unary(ops::sqrt, f64::sqrt, &p);
    check_unary(ops::log, f64::ln, &p);
    check_unary(ops::reciprocal, |v| 1.0 / v, &p);
    check_unary(ops::log1p, f64::ln_1p, &t(&[7], 13, 0.9));
    check_unary(ops::expm1, f64::exp_m1, &x);
    check_unary(|x| ops::clip(x, -1.0, 2.0), |v| v.clamp(-1.0, 2.0), &x);
    check_unary(|x| ops::power_scalar(x, 3.0), |v| v.powi(3), &x);
    check_unary(|x| ops::power_scalar(x, 2.0), |v| v * v, &x);
    check_unary(|x| ops::power_scalar(x, -1.5), |v| v.powf(-1.5), &p);
    check_unary(|x| ops::power_scalar(x, 0.5), f64::sqrt, &p);
}

#[test]
fn non_differentiable_ops_record_nothing() {
    let x = Tensor::from_f32(vec![-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 1.7], &[8]).unwrap();
    assert_eq!(
        vals(&ops::round(&x, 0).unwrap()),
        [-2.0, -2.0, -0.0, 0.0, 0.0, 2.0, 2.0, 2.0]
    );
    assert_eq!(
        vals(&ops::floor(&x).unwrap()),
        [-3.0, -2.0, -1.0, 0.0, 0.0, 1.0, 2.0, 1.0]
    );
    assert_eq!(
        vals(&ops::ceil(&x).unwrap()),
        [-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, 3.0, 2.0]
    );
    assert_eq!(
        vals(&ops::sign(&x).unwrap()),
        [-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    );
    let y = Tensor::from_f32(vec![1.234, -5.678, 1250.0], &[3]).unwrap();
    assert_eq!(vals(&ops::round(&y, 2).unwrap()), [1.23, -5.68, 1250.0]);
    assert_eq!(vals(&ops::round(&y, -2).unwrap()), [0.0, -0.0, 1200.0]);
    let w = ember::autograd::watch(&x);
    for f in [ops::floor, ops::ceil, ops::sign] {
        assert!(!f(&w).unwrap().requires_grad());
    }
    assert!(!ops::round(&w, 1).unwrap().requires_grad());
    assert!(ops::sign(&Tensor::scalar(f32::NAN))
        .unwrap()
        .item()
        .unwrap()
        .is_nan());
}

#[test]
fn binary_math_with_broadcasting_and_gradients() {
    let (a, b) = (t(&[3, 1, 4], 14, 2.0), t(&[5, 1], 15, 2.0));
    check_gradients(
        |v| ops::maximum(&v[0], &v[1]),
        &[a.clone(), b.clone()],
        1e-3,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |v| ops::minimum(&v[0], &v[1]),
        &[a.clone(), b.clone()],
        1e-3,
        1e-2,
    )
    .unwrap();
    let m = vals(&ops::maximum(&a, &b).unwrap());
    let n = vals(&ops::minimum(&a, &b).unwrap());
    let (av, bv) = (vals(&a), vals(&b));
    for i in 0..3 {
        for (j, &bj) in bv.iter().enumerate() {
            for k in 0..4 {
                let idx = (i * 5 + j) * 4 + k;
                assert_eq!(m[idx], av[i * 4 + k].max(bj));
                assert_eq!(n[idx], av[i * 4 + k].min(bj));
            }
        }
    }
    // power: positive bases, any exponents
    let (base, ex) = (pos(&[2, 3], 16), t(&[3], 17, 1.5));
    check_gradients(
        |v| ops::power(&v[0], &v[1]),
        &[base.clone(), ex.clone()],
        1e-3,
        1e-2,
    )
    .unwrap();
    let p = vals(&ops::power(&base, &ex).unwrap());
    let (bv, ev) = (vals(&base), vals(&ex));
    for (i, &pv) in p.iter().enumerate() {
        let r = (bv[i] as f64).powf(ev[i % 3] as f64);
        assert!((pv as f64 - r).abs() < 1e-5 * (1.0 + r.abs()));
    }
    // 0 ** positive: finite gradient 0 for the exponent
    let z = ember::autograd::watch(&Tensor::from_f32(vec![2.0], &[1]).unwrap());
    let y = ops::power(&Tensor::from_f32(vec![0.0], &[1]).unwrap(), &z).unwrap();
    let g = ember::autograd::grad(&y, None, &[z.node().unwrap().id()]).unwrap();
    assert_eq!(vals(&g[&z.node().unwrap().id()]), [0.0]);
}

#[test]
fn maximum_ties_split_and_nan_propagates() {
    let a = ember::autograd::watch(&Tensor::from_f32(vec![1.0, 2.0], &[2]).unwrap());
    let b = ember::autograd::watch(&Tensor::from_f32(vec![1.0, 3.0], &[2]).unwrap());
    let y = ops::maximum(&a, &b).unwrap();
    let ids = [a.node().unwrap().id(), b.node().unwrap().id()];
    let g = ember::autograd::grad(&y, None, &ids).unwrap();
    assert_eq!(vals(&g[&ids[0]]), [0.5, 0.0]);
    assert_eq!(vals(&g[&ids[1]]), [0.5, 1.0]);
    let nan = Tensor::from_f32(vec![f32::NAN, 1.0], &[2]).unwrap();
    let one = Tensor::from_f32(vec![1.0, f32::NAN], &[2]).unwrap();
    for f in [ops::maximum, ops::minimum] {
        assert!(vals(&f(&nan, &one).unwrap()).iter().all(|v| v.is_nan()));
    }
    let c = vals(&ops::clip(&nan, 0.0, 0.5).unwrap());
    assert!(c[0].is_nan() && c[1] == 0.5);
}

#[test]
fn where_broadcasts_three_ways() {
    let cond = Tensor::from_i64(vec![1, 0, 1], &[3, 1]).unwrap();
    let x = t(&[1, 4], 18, 1.0);
    let y = t(&[3, 4], 19, 1.0);
    let out = ops::where_(&cond, &x, &y).unwrap();
    assert_eq!(out.shape(), &[3, 4]);
    let (o, xv, yv) = (vals(&out), vals(&x), vals(&y));
    for i in 0..3 {
        for j in 0..4 {
            let want = if i != 1 { xv[j] } else { yv[i * 4 + j] };
            assert_eq!(o[i * 4 + j], want);
        }
    }
    check_gradients(
        |v| ops::where_(&v[0], &v[1], &v[2]),
        &[cond.clone(), x.clone(), y.clone()],
        1e-3,
        1e-2,
    )
    .unwrap();
    // float condition, scalar branches, int64 branches
    let fc = Tensor::from_f32(vec![0.0, 2.5, f32::NAN], &[3]).unwrap();
    let r = ops::where_(&fc, &Tensor::scalar(1.0), &Tensor::scalar(-1.0)).unwrap();
    assert_eq!(vals(&r), [-1.0, 1.0, 1.0]);
    let ri = ops::where_(
        &fc,
        &Tensor::from_i64(vec![7], &[]).unwrap(),
        &Tensor::from_i64(vec![1, 2, 3], &[3]).unwrap(),
    )
    .unwrap();
    assert_eq!(ri.i64_data().unwrap().as_ref(), [1, 7, 7]);
    let e = ops::where_(&cond, &t(&[2, 4], 0, 1.0), &y)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("where") && e.contains("[3, 1]") && e.contains("[2, 4]"),
        "{e}"
    );
}

#[test]
fn comparisons_and_logic_give_int64() {
    let a = Tensor::from_f32(vec![1.0, 2.0, 3.0, f32::NAN], &[4]).unwrap();
    let b = Tensor::scalar(2.0);
    let c = |f: fn(&Tensor, &Tensor) -> Result<Tensor>| {
        let r = f(&a, &b).unwrap();
        assert_eq!(r.dtype(), ember::DType::I64);
        r.i64_data().unwrap().into_owned()
    };
    assert_eq!(c(ops::equal), [0, 1, 0, 0]);
    assert_eq!(c(ops::not_equal), [1, 0, 1, 1]);
    assert_eq!(c(ops::less), [1, 0, 0, 0]);
    assert_eq!(c(ops::less_equal), [1, 1, 0, 0]);
    assert_eq!(c(ops::greater), [0, 0, 1, 0]);
    assert_eq!(c(ops::greater_equal), [0, 1, 1, 0]);
    // int64 vs int64 compares exactly; mixed promotes to float32
    let big = Tensor::from_i64(vec![1 << 40, (1 << 40) + 1], &[2]).unwrap();
    let r = ops::equal(&big, &Tensor::from_i64(vec![1 << 40], &[1]).unwrap()).unwrap();
    assert_eq!(r.i64_data().unwrap().as_ref(), [1, 0]);
    let r = ops::less(
        &Tensor::from_i64(vec![1, 2, 3], &[3]).unwrap(),
        &Tensor::scalar(2.5),
    )
    .unwrap();
    assert_eq!(r.i64_data().unwrap().as_ref(), [1, 1, 0]);
    // broadcasting: [2, 1] vs [3]
    let col = Tensor::from_f32(vec![1.0, 3.0], &[2, 1]).unwrap();
    let row = Tensor::from_f32(vec![0.0, 2.0, 4.0], &[3]).unwrap();
    let r = ops::greater(&col, &row).unwrap();
    assert_eq!(r.shape(), &[2, 3]);
    assert_eq!(r.i64_data().unwrap().as_ref(), [1, 0, 0, 1, 1, 0]);
    let p = Tensor::from_i64(vec![0, 1, 0, 1], &[4]).unwrap();
    let q = Tensor::from_f32(vec![0.0, 0.0, 2.0, -1.0], &[4]).unwrap();
    let l = |r: Result<Tensor>| r.unwrap().i64_data().unwrap().into_owned();
    assert_eq!(l(ops::logical_and(&p, &q)), [0, 0, 0, 1]);
    assert_eq!(l(ops::logical_or(&p, &q)), [0, 1, 1, 1]);
    assert_eq!(l(ops::logical_xor(&p, &q)), [0, 1, 1, 0]);
    assert_eq!(l(ops::logical_not(&q)), [1, 1, 0, 0]);
    let w = ember::autograd::watch(&a);
    assert!(!ops::less(&w, &b).unwrap().requires_grad());
}

#[test]
fn binary_errors_name_the_op_and_both_shapes() {
    let (a, b) = (t(&[2, 3], 0, 1.0), t(&[4], 0, 1.0));
    type Op = fn(&Tensor, &Tensor) -> Result<Tensor>;
    let all: [(&str, Op); 11] = [
        ("power", ops::power),
        ("maximum", ops::maximum),
        ("minimum", ops::minimum),
        ("equal", ops::equal),
        ("not_equal", ops::not_equal),
        ("less", ops::less),
        ("less_equal", ops::less_equal),
        ("greater", ops::greater),
        ("greater_equal", ops::greater_equal),
        ("logical_and", ops::logical_and),
        ("logical_or", ops::logical_or),
    ];
    for (name, f) in all {
        let e = f(&a, &b).unwrap_err().to_string();
        assert!(
            e.contains(name) && e.contains("[2, 3]") && e.contains("[4]"),
            "{e}"
        );
    }
    let i = Tensor::from_i64(vec![1, 2], &[2]).unwrap();
    for (name, r) in [
        ("sqrt", ops::sqrt(&i)),
        ("clip", ops::clip(&i, 0.0, 1.0)),
        ("floor", ops::floor(&i)),
    ] {
        let e = r.unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("int64"), "{e}");
    }
}

#[test]
fn extra_keras_activations() {
    let x = t(&[4, 7], 20, 3.0);
    check_unary(ops::log_sigmoid, |v| -softplus64(-v), &x);
    check_unary(
        |x| ops::celu(x, 2.0),
        |v| {
            if v >= 0.0 {
                v
            } else {
                2.0 * (v / 2.0).exp_m1()
            }
        },
        &x,
    );
    check_unary(ops::hard_tanh, |v| v.clamp(-1.0, 1.0), &x);
    check_unary(ops::tanh_shrink, |v| v - v.tanh(), &x);
    check_unary(
        |x| ops::soft_shrink(x, 0.5),
        |v| {
            if v > 0.5 {
                v - 0.5
            } else if v < -0.5 {
                v + 0.5
            } else {
                0.0
            }
        },
        &x,
    );
    check_unary(
        |x| ops::hard_shrink(x, 0.5),
        |v| if v.abs() > 0.5 { v } else { 0.0 },
        &x,
    );
    check_unary(
        |x| ops::squareplus(x, 4.0),
        |v| 0.5 * (v + (v * v + 4.0).sqrt()),
        &x,
    );
    check_unary(
        ops::sparse_plus,
        |v| {
            if v <= -1.0 {
                0.0
            } else if v >= 1.0 {
                v
            } else {
                0.25 * (v + 1.0).powi(2)
            }
        },
        &x,
    );
    check_unary(
        ops::sparse_sigmoid,
        |v| (0.5 * (v + 1.0)).clamp(0.0, 1.0),
        &x,
    );
    check_unary(
        |x| ops::threshold(x, 0.7, -2.0),
        |v| if v > 0.7 { v } else { -2.0 },
        &x,
    );
    assert!(ops::celu(&x, 0.0).unwrap_err().to_string().contains("celu"));
    assert!(ops::squareplus(&x, -1.0)
        .unwrap_err()
        .to_string()
        .contains("squareplus"));
}

#[test]
fn activations_propagate_nan() {
    let x = Tensor::from_f32(vec![f32::NAN, -1.0, 2.0], &[3]).unwrap();
    for (name, y) in [
        ("relu", ops::relu(&x)),
        ("relu6", ops::relu6(&x)),
        ("leaky_relu", ops::leaky_relu(&x, 0.2)),
        ("relu_with", ops::relu_with(&x, 0.1, Some(1.0), 0.5)),
        ("elu", ops::elu(&x, 1.0)),
        ("sigmoid", ops::sigmoid(&x)),
        ("hard_sigmoid", ops::hard_sigmoid(&x)),
    ] {
        assert!(
            y.unwrap().to_vec_f32().unwrap()[0].is_nan(),
            "{name} swallowed NaN"
        );
    }
}
