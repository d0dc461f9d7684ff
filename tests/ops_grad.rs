//! Finite-difference gradient checks of the core ops.
use ember::autograd::check_gradients;
use ember::{ops, Tensor};

fn t(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 / 101.0 - 0.5) * 2.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

#[test]
fn arithmetic_with_broadcasting() {
    let (a, b) = (t(&[3, 4], 1), t(&[4], 2));
    check_gradients(
        |x| ops::add(&x[0], &x[1]),
        &[a.clone(), b.clone()],
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |x| ops::subtract(&x[0], &x[1]),
        &[a.clone(), b.clone()],
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |x| ops::multiply(&x[0], &x[1]),
        &[a.clone(), b.clone()],
        1e-2,
        1e-2,
    )
    .unwrap();
    let pos = ops::add(&ops::multiply(&b, &b).unwrap(), &Tensor::scalar(0.5)).unwrap();
    check_gradients(|x| ops::divide(&x[0], &x[1]), &[a, pos], 1e-3, 1e-2).unwrap();
}

#[test]
fn matmul_batched_and_vector() {
    check_gradients(
        |x| ops::matmul(&x[0], &x[1]),
        &[t(&[2, 3, 4], 3), t(&[4, 5], 4)],
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |x| ops::matmul(&x[0], &x[1]),
        &[t(&[4], 5), t(&[4, 2], 6)],
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |x| ops::matmul(&x[0], &x[1]),
        &[t(&[3, 4], 7), t(&[4], 8)],
        1e-2,
        1e-2,
    )
    .unwrap();
}

#[test]
fn sum_and_unary() {
    check_gradients(
        |x| ops::sum(&x[0], Some(&[0, 2]), true),
        &[t(&[2, 3, 4], 9)],
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(|x| ops::exp(&x[0]), &[t(&[5], 10)], 1e-3, 1e-2).unwrap();
    check_gradients(
        |x| ops::reshape(&ops::relu(&x[0])?, &[6]),
        &[t(&[2, 3], 11)],
        1e-3,
        1e-2,
    )
    .unwrap();
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let e = ops::matmul(&t(&[2, 3], 0), &t(&[4, 5], 0))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("matmul") && e.contains("[2, 3]") && e.contains("[4, 5]"),
        "{e}"
    );
    let e = ops::add(&t(&[2, 3], 0), &t(&[4], 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("add") && e.contains("[2, 3]"), "{e}");
}
