//! Merge layers: forward against hand-computed values, backward by finite differences,
//! Keras's broadcasting and rank rules, and the shape errors naming the layer.
use ember::autograd::check_gradients;
use ember::nn::layers::{Concatenate, Dot, Merge, MergeOp};
use ember::nn::{Context, Layer};
use ember::{Error, Tensor};

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_f32(v.to_vec(), shape).unwrap()
}

/// Deterministic distinct values in [-1, 1), none exactly 0 (no ties for max/min).
fn data(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i * 37 + seed * 11) % 101) as f32 + 0.25) / 50.5 - 1.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn call(layer: &dyn Layer, xs: &[Tensor]) -> ember::Result<Tensor> {
    Ok(layer.call(xs, &mut Context::new(false))?.remove(0))
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

const OPS: [MergeOp; 6] = [
    MergeOp::Add,
    MergeOp::Subtract,
    MergeOp::Multiply,
    MergeOp::Average,
    MergeOp::Maximum,
    MergeOp::Minimum,
];

#[test]
fn elementwise_merges_match_hand_computation() {
    let a = t(&[1., -2., 3., 4.], &[2, 2]);
    let b = t(&[0.5, 1., -3., 2.], &[2, 2]);
    let c = t(&[2., 2., 2., -1.], &[2, 2]);
    let want: [(MergeOp, Vec<f32>); 6] = [
        (MergeOp::Add, vec![3.5, 1., 2., 5.]),
        (MergeOp::Subtract, vec![0.5, -3., 6., 2.]),
        (MergeOp::Multiply, vec![1., -4., -18., -8.]),
        (MergeOp::Average, vec![3.5 / 3., 1. / 3., 2. / 3., 5. / 3.]),
        (MergeOp::Maximum, vec![2., 2., 3., 4.]),
        (MergeOp::Minimum, vec![0.5, -2., -3., -1.]),
    ];
    for (op, w) in want {
        let ins = if op == MergeOp::Subtract {
            vec![a.clone(), b.clone()]
        } else {
            vec![a.clone(), b.clone(), c.clone()]
        };
        let y = call(&Merge::new("m", op), &ins).unwrap();
        assert_eq!(y.shape(), &[2, 2], "{op:?}");
        close(&vals(&y), &w, 1e-6);
    }
    // one input passes through
    let y = call(&Merge::new("m", MergeOp::Add), std::slice::from_ref(&a)).unwrap();
    close(&vals(&y), &vals(&a), 0.0);
}

#[test]
fn merges_broadcast_and_expand_lower_ranks_after_the_batch_axis() {
    // (2, 3) with (2, 1): broadcast on the last axis
    let a = data(&[2, 3], 1);
    let b = t(&[10., 20.], &[2, 1]);
    let y = call(&Merge::new("add", MergeOp::Add), &[a.clone(), b]).unwrap();
    let av = vals(&a);
    let want: Vec<f32> = (0..6)
        .map(|i| av[i] + if i < 3 { 10. } else { 20. })
        .collect();
    close(&vals(&y), &want, 1e-6);
    // (2, 3) with (2, 4, 3): the first becomes (2, 1, 3)
    let c = data(&[2, 4, 3], 2);
    let y = call(
        &Merge::new("mul", MergeOp::Multiply),
        &[a.clone(), c.clone()],
    )
    .unwrap();
    assert_eq!(y.shape(), &[2, 4, 3]);
    let cv = vals(&c);
    let want: Vec<f32> = (0..24).map(|i| cv[i] * av[(i / 12) * 3 + i % 3]).collect();
    close(&vals(&y), &want, 1e-6);
}

#[test]
fn merge_gradients_match_finite_differences() {
    for op in OPS {
        let layer = Merge::new("m", op);
        let ins = if op == MergeOp::Subtract {
            vec![data(&[3, 4], 1), data(&[3, 1], 2)]
        } else {
            vec![data(&[3, 4], 1), data(&[3, 1], 2), data(&[3, 2, 4], 3)]
        };
        check_gradients(|xs| call(&layer, xs), &ins, 1e-3, 1e-2)
            .unwrap_or_else(|e| panic!("{op:?}: {e}"));
    }
}

#[test]
fn merge_shape_errors_name_the_layer_and_shapes() {
    let e = value_error(
        call(
            &Merge::new("add_1", MergeOp::Add),
            &[data(&[2, 3], 0), data(&[2, 4], 0)],
        )
        .unwrap_err(),
    );
    assert!(
        e.contains("add_1") && e.contains("incompatible") && e.contains("[3]") && e.contains("[4]"),
        "{e}"
    );
    let e = value_error(
        call(
            &Merge::new("max", MergeOp::Maximum),
            &[data(&[2, 3], 0), data(&[5, 3], 0)],
        )
        .unwrap_err(),
    );
    assert!(
        e.contains("max") && e.contains("batch sizes") && e.contains("[5, 3]"),
        "{e}"
    );
    let three = [data(&[2, 3], 0), data(&[2, 3], 1), data(&[2, 3], 2)];
    let e = value_error(call(&Merge::new("sub", MergeOp::Subtract), &three).unwrap_err());
    assert!(e.contains("sub") && e.contains("exactly 2"), "{e}");
    let e = value_error(call(&Merge::new("avg", MergeOp::Average), &[]).unwrap_err());
    assert!(e.contains("avg") && e.contains("at least 1"), "{e}");
    assert!(MergeOp::parse("Average").is_ok() && MergeOp::parse("mean").is_err());
}

#[test]
fn concatenate_joins_any_axis_with_gradients() {
    let a = data(&[2, 3, 4], 1);
    let b = data(&[2, 1, 4], 2);
    let y = call(&Concatenate::new("c", 1), &[a.clone(), b.clone()]).unwrap();
    assert_eq!(y.shape(), &[2, 4, 4]);
    let (av, bv, yv) = (vals(&a), vals(&b), vals(&y));
    close(&yv[..12], &av[..12], 0.0);
    close(&yv[12..16], &bv[..4], 0.0);
    for axis in [-1, 0, 1, 2] {
        let layer = Concatenate::new("c", axis);
        let mut shape_b = [2, 3, 4];
        shape_b[axis.rem_euclid(3) as usize] = 2;
        let ins = [data(&[2, 3, 4], 1), data(&shape_b, 2), data(&shape_b, 3)];
        let y = call(&layer, &ins).unwrap();
        let mut want = [2, 3, 4];
        want[axis.rem_euclid(3) as usize] += 4;
        assert_eq!(y.shape(), &want[..]);
        check_gradients(|xs| call(&layer, xs), &ins, 1e-3, 1e-2).unwrap();
    }
}

#[test]
fn concatenate_errors_name_the_layer_and_shapes() {
    let layer = Concatenate::new("concat_9", -1);
    let e = value_error(call(&layer, &[data(&[2, 3, 4], 0), data(&[2, 2, 4], 0)]).unwrap_err());
    assert!(
        e.contains("concat_9") && e.contains("[2, 3, 4]") && e.contains("[2, 2, 4]"),
        "{e}"
    );
    let e = value_error(call(&layer, &[data(&[2, 3], 0), data(&[2, 3, 1], 0)]).unwrap_err());
    assert!(
        e.contains("concat_9") && e.contains("matching shapes"),
        "{e}"
    );
    let e = value_error(
        call(
            &Concatenate::new("c", 3),
            &[data(&[2, 3], 0), data(&[2, 3], 0)],
        )
        .unwrap_err(),
    );
    assert!(e.contains("out of range"), "{e}");
}

/// numpy's `einsum` for the batch_dot cases below, written out.
fn batch_dot_ref(x: &[f32], y: &[f32], b: usize, p: usize, d: usize, q: usize) -> Vec<f32> {
    // x (b, p, d) and y (b, d, q) in row-major order
    let mut out = vec![0.0; b * p * q];
    for n in 0..b {
        for i in 0..p {
            for j in 0..q {
                out[(n * p + i) * q + j] = (0..d)
                    .map(|k| x[(n * p + i) * d + k] * y[(n * d + k) * q + j])
                    .sum();
            }
        }
    }
    out
}

#[test]
fn dot_matches_batch_dot() {
    // rank 2 x rank 2, axes=1: per-sample inner products, shape (batch, 1)
    let x = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let y = t(&[1., 0., -1., 2., 2., 2.], &[2, 3]);
    let out = call(&Dot::new("dot", [1, 1], false), &[x.clone(), y.clone()]).unwrap();
    assert_eq!(out.shape(), &[2, 1]);
    close(&vals(&out), &[-2., 30.], 1e-6);
    // normalize=True gives the cosine
    let out = call(&Dot::new("dot", [-1, -1], true), &[x, y]).unwrap();
    let cos0 = -2.0 / (14f32.sqrt() * 2f32.sqrt());
    let cos1 = 30.0 / (77f32.sqrt() * 12f32.sqrt());
    close(&vals(&out), &[cos0, cos1], 1e-5);
    // (b, p, d) . (b, q, d) on axes (2, 2) -> (b, p, q)
    let (b, p, d, q) = (2, 3, 4, 5);
    let x = data(&[b, p, d], 1);
    let y = data(&[b, q, d], 2);
    let out = call(&Dot::new("dot", [2, 2], false), &[x.clone(), y.clone()]).unwrap();
    assert_eq!(out.shape(), &[b, p, q]);
    let yv = vals(&y);
    let mut yt = vec![0.0; yv.len()]; // (b, d, q)
    for n in 0..b {
        for j in 0..q {
            for k in 0..d {
                yt[(n * d + k) * q + j] = yv[(n * q + j) * d + k];
            }
        }
    }
    close(
        &vals(&out),
        &batch_dot_ref(&vals(&x), &yt, b, p, d, q),
        1e-5,
    );
    // (b, d) . (b, q, d) on axes (1, 2) -> (b, q)
    let x2 = data(&[b, d], 3);
    let out = call(&Dot::new("dot", [1, 2], false), &[x2.clone(), y.clone()]).unwrap();
    assert_eq!(out.shape(), &[b, q]);
    close(
        &vals(&out),
        &batch_dot_ref(&vals(&x2), &yt, b, 1, d, q),
        1e-5,
    );
    // (b, d, p) . (b, d) on axes (1, 1) -> (b, p)
    let x3 = data(&[b, d, p], 4);
    let out = call(&Dot::new("dot", [1, 1], false), &[x3, x2]).unwrap();
    assert_eq!(out.shape(), &[b, p]);
}

#[test]
fn dot_gradients_match_finite_differences() {
    type Case = ([isize; 2], bool, &'static [usize], &'static [usize]);
    let cases: [Case; 5] = [
        ([1, 1], false, &[3, 4], &[3, 4]),
        ([-1, -1], true, &[3, 4], &[3, 4]),
        ([2, 2], false, &[2, 3, 4], &[2, 5, 4]),
        ([1, 2], true, &[2, 4], &[2, 3, 4]),
        ([1, 1], false, &[2, 4, 3, 2], &[2, 4, 2]),
    ];
    for (axes, normalize, sx, sy) in cases {
        let layer = Dot::new("dot", axes, normalize);
        let ins = [data(sx, 1), data(sy, 2)];
        check_gradients(|xs| call(&layer, xs), &ins, 1e-3, 2e-2)
            .unwrap_or_else(|e| panic!("axes {axes:?} normalize {normalize}: {e}"));
    }
    let out = call(
        &Dot::new("dot", [1, 1], false),
        &[data(&[2, 4, 3, 2], 1), data(&[2, 4, 2], 2)],
    )
    .unwrap();
    assert_eq!(out.shape(), &[2, 3, 2, 2]);
}

#[test]
fn dot_errors_name_the_layer_and_shapes() {
    let layer = Dot::new("dot_3", [1, 1], false);
    let e = value_error(call(&layer, &[data(&[2, 3], 0), data(&[2, 4], 0)]).unwrap_err());
    assert!(
        e.contains("dot_3") && e.contains("3") && e.contains("[2, 4]"),
        "{e}"
    );
    let e = value_error(call(&layer, &[data(&[2, 3], 0)]).unwrap_err());
    assert!(e.contains("dot_3") && e.contains("2 inputs"), "{e}");
    let e = value_error(
        call(
            &Dot::new("d", [0, 0], false),
            &[data(&[2, 3], 0), data(&[2, 3], 0)],
        )
        .unwrap_err(),
    );
    assert!(e.contains("axis 0"), "{e}");
    let e = value_error(
        call(
            &Dot::new("d", [1, 1], false),
            &[data(&[3], 0), data(&[3], 0)],
        )
        .unwrap_err(),
    );
    assert!(e.contains("rank < 2"), "{e}");
    let e = value_error(
        call(
            &Dot::new("d", [4, 1], false),
            &[data(&[2, 3], 0), data(&[2, 3], 0)],
        )
        .unwrap_err(),
    );
    assert!(e.contains("out of range"), "{e}");
}
