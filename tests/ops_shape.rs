//! Reductions, shape ops and indexing: values against hand-computed references, views
//! sharing storage, finite-difference gradient checks, and errors naming op and shapes.
use ember::autograd::{check_gradients, grad, watch};
use ember::ops::{self, Extreme, Index, PadMode, Split};
use ember::{Error, Tensor};
use std::sync::Arc;

/// Distinct, well-spread values (no ties) so max/min gradients are defined.
fn t(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| (((i + seed) * 7919 % 101) as f32 / 101.0 - 0.5) * 2.0 + i as f32 * 1e-3)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn arange(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_f32((0..n).map(|v| v as f32).collect(), shape).unwrap()
}

fn ints(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_i64(v.to_vec(), shape).unwrap()
}

fn vals(x: &Tensor) -> Vec<f32> {
    x.to_vec_f32().unwrap()
}

fn same_storage(a: &Tensor, b: &Tensor) -> bool {
    Arc::ptr_eq(a.storage(), b.storage())
}

fn check(f: impl Fn(&[Tensor]) -> ember::Result<Tensor>, inputs: &[Tensor]) {
    check_gradients(f, inputs, 1e-2, 2e-2).unwrap();
}

fn err(r: ember::Result<impl std::fmt::Debug>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn reductions_match_references() {
    let x = arange(&[2, 3, 4]);
    let s = ops::sum(&x, Some(&[0, 2]), false).unwrap();
    assert_eq!(s.shape(), &[3]);
    assert_eq!(vals(&s), vec![60., 92., 124.]);
    let m = ops::mean(&x, Some(&[-1]), true).unwrap();
    assert_eq!(m.shape(), &[2, 3, 1]);
    assert_eq!(vals(&m), vec![1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
    assert_eq!(
        vals(&ops::max(&x, Some(&[1]), false).unwrap()),
        vec![8., 9., 10., 11., 20., 21., 22., 23.]
    );
    assert_eq!(vals(&ops::min(&x, None, false).unwrap()), vec![0.]);
    let p = ops::prod(&arange(&[2, 3]), Some(&[1]), false).unwrap();
    assert_eq!(vals(&p), vec![0., 60.]);
    let v = ops::var(&arange(&[2, 3]), Some(&[1]), false).unwrap();
    assert!((vals(&v)[0] - 2.0 / 3.0).abs() < 1e-6);
    let sd = ops::std(&arange(&[4]), None, false).unwrap();
    assert!((vals(&sd)[0] - 1.25f32.sqrt()).abs() < 1e-6);
    let l = ops::logsumexp(
        &Tensor::from_f32(vec![1000., 1000., -1e30], &[3]).unwrap(),
        None,
        false,
    )
    .unwrap();
    assert!((vals(&l)[0] - (1000.0 + 2f32.ln())).abs() < 1e-3);
    let all_neg_inf = Tensor::from_f32(vec![f32::NEG_INFINITY; 2], &[2]).unwrap();
    assert_eq!(
        vals(&ops::logsumexp(&all_neg_inf, None, false).unwrap()),
        vec![f32::NEG_INFINITY]
    );
    // NaN propagates through max, as numpy
    let nan = Tensor::from_f32(vec![1., f32::NAN, 3.], &[3]).unwrap();
    assert!(vals(&ops::max(&nan, None, false).unwrap())[0].is_nan());
    // reductions over a transposed view
    let xt = ops::transpose(&x, None).unwrap();
    let want = ops::transpose(&ops::sum(&x, Some(&[0]), false).unwrap(), None).unwrap();
    assert_eq!(
        vals(&ops::sum(&xt, Some(&[2]), false).unwrap()),
        vals(&want)
    );
}

#[test]
fn initial_and_empty_selections() {
    let x = arange(&[2, 3]);
    let m = ops::extremum(&x, Some(&[1]), false, Some(3.5), Extreme::Max).unwrap();
    assert_eq!(vals(&m), vec![3.5, 5.]);
    let empty = Tensor::zeros(&[0, 3]);
    let e = err(ops::max(&empty, Some(&[0]), false));
    assert!(e.contains("max") && e.contains("[0, 3]"), "{e}");
    assert_eq!(ops::max(&empty, Some(&[1]), false).unwrap().shape(), &[0]);
    let m = ops::extremum(&empty, Some(&[0]), false, Some(-1.0), Extreme::Min).unwrap();
    assert_eq!(vals(&m), vec![-1.0; 3]);
    assert_eq!(
        vals(&ops::sum(&empty, Some(&[0]), false).unwrap()),
        vec![0.; 3]
    );
    assert_eq!(vals(&ops::prod(&empty, None, false).unwrap()), vec![1.]);
    assert!(vals(&ops::mean(&empty, None, false).unwrap())[0].is_nan());
}

#[test]
fn large_reductions_use_the_pool_and_agree() {
    let (a, b) = (301, 257);
    let x = t(&[a, b], 3);
    let xd = vals(&x);
    let s0 = vals(&ops::sum(&x, Some(&[0]), false).unwrap());
    let s1 = vals(&ops::max(&x, Some(&[1]), false).unwrap());
    for j in 0..b {
        let want: f32 = (0..a).map(|i| xd[i * b + j]).sum();
        assert!(
            (s0[j] - want).abs() < 1e-5 * want.abs().max(1.0),
            "{j}: {} vs {want}",
            s0[j]
        );
    }
    for i in 0..a {
        let want = xd[i * b..(i + 1) * b]
            .iter()
            .cloned()
            .fold(f32::MIN, f32::max);
        assert_eq!(s1[i], want);
    }
    let total: f64 = xd.iter().map(|&v| v as f64).sum();
    let got = vals(&ops::sum(&x, None, false).unwrap())[0] as f64;
    assert!((got - total).abs() < 1e-5 * total.abs(), "{got} vs {total}");
}

#[test]
fn arg_reductions() {
    let x = Tensor::from_f32(vec![1., 5., 5., 0., 7., -1.], &[2, 3]).unwrap();
    let a = ops::argmax(&x, Some(1), false).unwrap();
    assert_eq!(a.i64_data().unwrap().to_vec(), vec![1, 1]);
    assert_eq!(
        ops::argmin(&x, Some(0), true)
            .unwrap()
            .i64_data()
            .unwrap()
            .to_vec(),
        vec![1, 0, 1]
    );
    assert_eq!(ops::argmin(&x, Some(0), true).unwrap().shape(), &[1, 3]);
    let a = ops::argmax(&x, None, true).unwrap();
    assert_eq!((a.shape(), a.i64_data().unwrap()[0]), (&[1usize, 1][..], 4));
    let xt = ops::transpose(&x, None).unwrap();
    assert_eq!(
        ops::argmax(&xt, Some(0), false)
            .unwrap()
            .i64_data()
            .unwrap()
            .to_vec(),
        vec![1, 1]
    );
    let nan = Tensor::from_f32(vec![1., f32::NAN, 3., f32::NAN], &[4]).unwrap();
    assert_eq!(
        ops::argmax(&nan, None, false).unwrap().i64_data().unwrap()[0],
        1
    );
    let e = err(ops::argmax(&Tensor::zeros(&[2, 0]), Some(1), false));
    assert!(e.contains("argmax") && e.contains("[2, 0]"), "{e}");
}

#[test]
fn any_and_all() {
    let x = Tensor::from_f32(vec![0., 2., 0., 0.], &[2, 2]).unwrap();
    assert_eq!(
        ops::any(&x, Some(&[1]), false)
            .unwrap()
            .i64_data()
            .unwrap()
            .to_vec(),
        vec![1, 0]
    );
    assert_eq!(
        ops::all(&x, None, false)
            .unwrap()
            .i64_data()
            .unwrap()
            .to_vec(),
        vec![0]
    );
    let i = ints(&[1, 3, 0, 2], &[2, 2]);
    assert_eq!(
        ops::all(&i, Some(&[0]), true)
            .unwrap()
            .i64_data()
            .unwrap()
            .to_vec(),
        vec![0, 1]
    );
}

#[test]
fn reduction_gradients() {
    let x = t(&[3, 4, 5], 1);
    for axes in [
        None,
        Some(&[1isize][..]),
        Some(&[0, 2][..]),
        Some(&[-1][..]),
    ] {
        check(|v| ops::sum(&v[0], axes, false), std::slice::from_ref(&x));
        check(|v| ops::mean(&v[0], axes, true), std::slice::from_ref(&x));
        check(|v| ops::max(&v[0], axes, false), std::slice::from_ref(&x));
        check(|v| ops::min(&v[0], axes, true), std::slice::from_ref(&x));
        check(|v| ops::prod(&v[0], axes, false), &[t(&[3, 2, 3], 4)]);
        check(|v| ops::var(&v[0], axes, false), std::slice::from_ref(&x));
        check(|v| ops::std(&v[0], axes, true), std::slice::from_ref(&x));
        check(
            |v| ops::logsumexp(&v[0], axes, false),
            std::slice::from_ref(&x),
        );
    }
    // non-contiguous input
    check(
        |v| ops::var(&ops::transpose(&v[0], None)?, Some(&[0]), false),
        &[t(&[4, 3], 2)],
    );
}

#[test]
fn max_ties_split_the_gradient() {
    let x = watch(&Tensor::from_f32(vec![3., 1., 3., 2., 2., 0.], &[2, 3]).unwrap());
    let y = ops::max(&x, Some(&[1]), false).unwrap();
    let g = grad(&y, None, &[]).unwrap();
    let gx = g.get(&x.node().unwrap().id()).unwrap();
    assert_eq!(vals(gx), vec![0.5, 0., 0.5, 0.5, 0.5, 0.]);
    // prod with a zero is exact
    let x = watch(&Tensor::from_f32(vec![2., 0., 3.], &[3]).unwrap());
    let y = ops::prod(&x, None, false).unwrap();
    let g = grad(&y, None, &[]).unwrap();
    assert_eq!(
        vals(g.get(&x.node().unwrap().id()).unwrap()),
        vec![0., 6., 0.]
    );
}

#[test]
fn views_share_storage() {
    let x = arange(&[2, 3, 4]);
    let r = ops::reshape(&x, &[6, 4]).unwrap();
    assert!(same_storage(&x, &r));
    let tr = ops::transpose(&x, Some(&[2, 0, 1])).unwrap();
    assert!(same_storage(&x, &tr));
    assert_eq!(tr.shape(), &[4, 2, 3]);
    assert_eq!(vals(&tr)[..6], [0., 4., 8., 12., 16., 20.]);
    // splitting the leading axis of a transposed view needs no copy
    let r2 = ops::reshape(&tr, &[2, 2, 6]).unwrap();
    assert!(same_storage(&x, &r2));
    assert_eq!(vals(&r2), vals(&tr));
    // merging axes 0 and 1 of the input, still adjacent in the view, needs no copy
    let r3 = ops::reshape(&tr, &[4, 6]).unwrap();
    assert!(same_storage(&x, &r3));
    assert_eq!(vals(&r3), vals(&tr));
    // merging the moved axis with the others does
    let r4 = ops::reshape(&tr, &[24]).unwrap();
    assert!(!same_storage(&x, &r4));
    assert_eq!(vals(&r4), vals(&tr));
    let e = ops::expand_dims(&tr, &[0, -1]).unwrap();
    assert!(same_storage(&x, &e));
    assert_eq!(e.shape(), &[1, 4, 2, 3, 1]);
    assert_eq!(ops::squeeze(&e, None).unwrap().shape(), &[4, 2, 3]);
    assert_eq!(
        ops::squeeze(&e, Some(&[-1])).unwrap().shape(),
        &[1, 4, 2, 3]
    );
    let b = ops::broadcast_to(&arange(&[3, 1]), &[2, 3, 4]).unwrap();
    assert_eq!(b.strides()[0], 0);
    assert_eq!(vals(&b)[..8], [0., 0., 0., 0., 1., 1., 1., 1.]);
    let pieces = ops::split(&x, &Split::Sections(2), 2).unwrap();
    assert!(pieces
        .iter()
        .all(|p| same_storage(&x, p) && p.shape() == [2, 3, 2]));
    assert_eq!(vals(&pieces[1])[..4], [2., 3., 6., 7.]);
    let s = ops::slice(&x, &[1, 1, 0], &[1, -1, 2]).unwrap();
    assert!(same_storage(&x, &s));
    assert_eq!(vals(&s), vec![16., 17., 20., 21.]);
    assert_eq!(ops::flatten(&tr).unwrap().shape(), &[24]);
    assert_eq!(ops::reshape_infer(&x, &[-1, 4]).unwrap().shape(), &[6, 4]);
    let m = ops::moveaxis(&x, &[0], &[-1]).unwrap();
    assert_eq!(m.shape(), &[3, 4, 2]);
    assert_eq!(ops::swapaxes(&x, 0, 2).unwrap().shape(), &[4, 3, 2]);
}

#[test]
fn copying_shape_ops() {
    let a = arange(&[2, 2]);
    let b = Tensor::from_f32(vec![9., 8.], &[2, 1]).unwrap();
    let c = ops::concatenate(&[a.clone(), b.clone()], -1).unwrap();
    assert_eq!(
        (c.shape(), vals(&c)),
        (&[2usize, 3][..], vec![0., 1., 9., 2., 3., 8.])
    );
    let s = ops::stack(&[a.clone(), a.clone()], 1).unwrap();
    assert_eq!(
        (s.shape(), vals(&s)),
        (&[2usize, 2, 2][..], vec![0., 1., 0., 1., 2., 3., 2., 3.])
    );
    let tl = ops::tile(&Tensor::from_f32(vec![1., 2.], &[2]).unwrap(), &[2, 2]).unwrap();
    assert_eq!(
        (tl.shape(), vals(&tl)),
        (&[2usize, 4][..], vec![1., 2., 1., 2., 1., 2., 1., 2.])
    );
    let r = ops::repeat(&a, &[2], Some(0)).unwrap();
    assert_eq!(vals(&r), vec![0., 1., 0., 1., 2., 3., 2., 3.]);
    let r = ops::repeat(&a, &[0, 1, 2, 1], None).unwrap();
    assert_eq!(vals(&r), vec![1., 2., 2., 3.]);
    let p = ops::pad(
        &Tensor::from_f32(vec![1., 2., 3.], &[3]).unwrap(),
        &[(2, 4)],
        PadMode::Reflect,
        0.0,
    )
    .unwrap();
    assert_eq!(vals(&p), vec![3., 2., 1., 2., 3., 2., 1., 2., 3.]);
    let p = ops::pad(&a, &[(1, 0), (0, 1)], PadMode::Constant, 7.0).unwrap();
    assert_eq!(vals(&p), vec![7., 7., 7., 0., 1., 7., 2., 3., 7.]);
    let f = ops::flip(&a, Some(&[1])).unwrap();
    assert_eq!(vals(&f), vec![1., 0., 3., 2.]);
    // int64 tensors go through the same copies
    let i = ints(&[1, 2, 3, 4], &[2, 2]);
    let c = ops::concatenate(&[i.clone(), i.clone()], 0).unwrap();
    assert_eq!(c.i64_data().unwrap().to_vec(), vec![1, 2, 3, 4, 1, 2, 3, 4]);
    assert_eq!(
        ops::tile(&i, &[1, 2]).unwrap().i64_data().unwrap().to_vec(),
        vec![1, 2, 1, 2, 3, 4, 3, 4]
    );
}

#[test]
fn shape_op_gradients() {
    let x = t(&[2, 3, 4], 5);
    check(
        |v| ops::reshape_infer(&v[0], &[4, -1]),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::reshape(&ops::transpose(&v[0], None)?, &[12, 2]),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::transpose(&v[0], Some(&[1, -1, 0])),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::moveaxis(&v[0], &[0, 1], &[2, 0]),
        std::slice::from_ref(&x),
    );
    check(|v| ops::expand_dims(&v[0], &[1]), std::slice::from_ref(&x));
    check(|v| ops::squeeze(&v[0], None), &[t(&[1, 3, 1], 1)]);
    check(|v| ops::broadcast_to(&v[0], &[2, 3, 4]), &[t(&[3, 1], 2)]);
    check(
        |v| ops::flatten(&ops::swapaxes(&v[0], 0, 1)?),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::concatenate(&[v[0].clone(), v[1].clone()], 1),
        &[x.clone(), t(&[2, 2, 4], 3)],
    );
    check(
        |v| ops::stack(&[v[0].clone(), v[1].clone()], -1),
        &[t(&[2, 3], 1), t(&[2, 3], 2)],
    );
    check(
        |v| ops::slice(&v[0], &[0, 1, 1], &[2, 2, -1]),
        std::slice::from_ref(&x),
    );
    check(|v| ops::tile(&v[0], &[2, 1, 3]), &[t(&[3, 2], 7)]);
    check(
        |v| ops::repeat(&v[0], &[1, 3, 0], Some(1)),
        &[t(&[2, 3], 8)],
    );
    check(|v| ops::repeat(&v[0], &[2], None), &[t(&[2, 3], 8)]);
    check(|v| ops::flip(&v[0], None), std::slice::from_ref(&x));
    for mode in [
        PadMode::Constant,
        PadMode::Edge,
        PadMode::Reflect,
        PadMode::Symmetric,
        PadMode::Wrap,
    ] {
        check(
            |v| ops::pad(&v[0], &[(1, 3), (2, 0)], mode, 0.5),
            &[t(&[2, 3], 9)],
        );
    }
    // every split piece feeds the loss
    check(
        |v| {
            let p = ops::split(&v[0], &Split::Indices(vec![1, -1]), 1)?;
            let w: Vec<Tensor> = p
                .iter()
                .enumerate()
                .map(|(i, q)| ops::scale(q, i as f32 + 1.0))
                .collect::<ember::Result<_>>()?;
            ops::concatenate(&w, 1)
        },
        std::slice::from_ref(&x),
    );
}

#[test]
fn take_and_gathers() {
    let x = arange(&[3, 4]);
    let y = ops::take(&x, &ints(&[2, -3, 2], &[3]), Some(0)).unwrap();
    assert_eq!(y.shape(), &[3, 4]);
    assert_eq!(vals(&y)[..5], [8., 9., 10., 11., 0.]);
    let y = ops::take(&x, &ints(&[0, 3, 1, 1], &[2, 2]), Some(-1)).unwrap();
    assert_eq!(y.shape(), &[3, 2, 2]);
    assert_eq!(vals(&y)[..4], [0., 3., 1., 1.]);
    let y = ops::take(&x, &ints(&[11, 0], &[2]), None).unwrap();
    assert_eq!(vals(&y), vec![11., 0.]);
    let e = ops::take(&x, &ints(&[4], &[1]), Some(1)).unwrap_err();
    assert!(matches!(e, Error::Index(_)));
    let e = e.to_string();
    assert!(
        e.contains("take") && e.contains("index 4") && e.contains("size 4"),
        "{e}"
    );
    let e = err(ops::take(&x, &Tensor::zeros(&[1]), Some(0)));
    assert!(e.contains("take") && e.contains("int64"), "{e}");

    let idx = ints(&[3, 0, 1, 1, 2, 0], &[3, 2]);
    let y = ops::take_along_axis(&x, &idx, Some(1)).unwrap();
    assert_eq!(vals(&y), vec![3., 0., 5., 5., 10., 8.]);
    // broadcasting of a size-1 indices axis
    let y = ops::take_along_axis(&x, &ints(&[1, 2, 0, 0], &[1, 4]), Some(0)).unwrap();
    assert_eq!(vals(&y), vec![4., 9., 2., 3.]);
    let e = err(ops::take_along_axis(&x, &ints(&[0], &[1]), Some(0)));
    assert!(e.contains("take_along_axis") && e.contains("[3, 4]"), "{e}");

    let oh = ops::one_hot(&ints(&[0, 2, 5, -1], &[4]), 3, -1).unwrap();
    assert_eq!(oh.shape(), &[4, 3]);
    assert_eq!(
        vals(&oh),
        vec![1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 0., 0.]
    );
    let oh = ops::one_hot(&ints(&[1, 0], &[2]), 2, 0).unwrap();
    assert_eq!(vals(&oh), vec![0., 1., 1., 0.]);
}

#[test]
fn gather_gradients() {
    let x = t(&[3, 4], 11);
    check(
        |v| ops::take(&v[0], &ints(&[2, 0, 2, -1], &[2, 2]), Some(0)),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::take(&ops::transpose(&v[0], None)?, &ints(&[1, 1], &[2]), Some(1)),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::take(&v[0], &ints(&[5, 5, 0], &[3]), None),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::take_along_axis(&v[0], &ints(&[3, 0, 3, 1, 2, 0], &[3, 2]), Some(1)),
        std::slice::from_ref(&x),
    );
    check(
        |v| ops::take_along_axis(&v[0], &ints(&[2, 2, 0, 1], &[1, 4]), Some(0)),
        std::slice::from_ref(&x),
    );
}

fn sl(a: Option<isize>, b: Option<isize>, c: Option<isize>) -> Index {
    Index::slice(a, b, c)
}

#[test]
fn basic_indexing() {
    let x = arange(&[3, 4, 5]);
    let y = ops::getitem(&x, &[Index::Int(-1), sl(Some(1), None, Some(2))]).unwrap();
    assert!(same_storage(&x, &y));
    assert_eq!(y.shape(), &[2, 5]);
    assert_eq!(vals(&y)[..3], [45., 46., 47.]);
    let y = ops::getitem(&x, &[Index::Ellipsis, Index::NewAxis, Index::Int(0)]).unwrap();
    assert_eq!(y.shape(), &[3, 4, 1]);
    assert_eq!(vals(&y)[..3], [0., 5., 10.]);
    let y = ops::getitem(
        &x,
        &[Index::Int(0), Index::Int(0), sl(None, None, Some(-2))],
    )
    .unwrap();
    assert_eq!(vals(&y), vec![4., 2., 0.]);
    let y = ops::getitem(&x, &[sl(Some(-1), Some(-4), Some(-1))]).unwrap();
    assert_eq!(y.shape(), &[3, 4, 5]);
    assert_eq!(vals(&y)[0], 40.);
    let y = ops::getitem(&x, &[sl(Some(5), Some(1), None)]).unwrap();
    assert_eq!(y.shape(), &[0, 4, 5]);
    let e = ops::getitem(&x, &[Index::Int(3)]).unwrap_err();
    assert!(
        matches!(e, Error::Index(_)) && e.to_string().contains("size 3"),
        "{e}"
    );
    let e = err(ops::getitem(
        &x,
        &[Index::Int(0), Index::Int(0), Index::Int(0), Index::Int(0)],
    ));
    assert!(e.contains("too many indices"), "{e}");
    let e = err(ops::getitem(&x, &[sl(None, None, Some(0))]));
    assert!(e.contains("step"), "{e}");
}

#[test]
fn array_indexing_places_dimensions_as_numpy() {
    let x = arange(&[2, 3, 4]);
    let idx = ints(&[0, 2], &[2]);
    // adjacent to the integer: in place
    let y = ops::getitem(
        &x,
        &[
            sl(None, None, None),
            Index::Int(1),
            Index::Array(idx.clone()),
        ],
    )
    .unwrap();
    assert_eq!(y.shape(), &[2, 2]);
    assert_eq!(vals(&y), vec![4., 6., 16., 18.]);
    // separated by a slice: the array's dimension goes first
    let y = ops::getitem(
        &x,
        &[
            Index::Int(1),
            sl(None, None, None),
            Index::Array(idx.clone()),
        ],
    )
    .unwrap();
    assert_eq!(y.shape(), &[2, 3]);
    assert_eq!(vals(&y), vec![12., 16., 20., 14., 18., 22.]);
    let y = ops::getitem(&x, &[Index::Array(ints(&[1, 0, 1], &[3]))]).unwrap();
    assert_eq!(y.shape(), &[3, 3, 4]);
    let e = err(ops::getitem(
        &x,
        &[Index::Array(idx.clone()), Index::Array(idx)],
    ));
    assert!(e.contains("one integer-array"), "{e}");
}

#[test]
fn indexing_gradients() {
    let x = t(&[3, 4, 5], 13);
    check(
        |v| ops::getitem(&v[0], &[Index::Int(1), sl(None, None, Some(2))]),
        std::slice::from_ref(&x),
    );
    check(
        |v| {
            ops::getitem(
                &v[0],
                &[
                    Index::Ellipsis,
                    sl(Some(-1), Some(0), Some(-2)),
                    Index::NewAxis,
                ],
            )
        },
        std::slice::from_ref(&x),
    );
    check(
        |v| {
            ops::getitem(
                &v[0],
                &[
                    Index::Int(-1),
                    sl(None, None, None),
                    Index::Array(ints(&[4, 4, 0], &[3])),
                ],
            )
        },
        std::slice::from_ref(&x),
    );
    check(
        |v| {
            ops::getitem(
                &ops::transpose(&v[0], None)?,
                &[sl(Some(1), None, None), Index::Int(2)],
            )
        },
        std::slice::from_ref(&x),
    );
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let x = arange(&[2, 3]);
    let cases = [
        (err(ops::reshape_infer(&x, &[4, -1])), "reshape", "[2, 3]"),
        (err(ops::transpose(&x, Some(&[0]))), "transpose", "[2, 3]"),
        (
            err(ops::transpose(&x, Some(&[0, 0]))),
            "transpose",
            "[2, 3]",
        ),
        (err(ops::squeeze(&x, Some(&[0]))), "squeeze", "[2, 3]"),
        (
            err(ops::broadcast_to(&x, &[3, 3])),
            "broadcast_to",
            "[3, 3]",
        ),
        (
            err(ops::concatenate(&[x.clone(), arange(&[3, 3])], 1)),
            "concatenate",
            "[3, 3]",
        ),
        (
            err(ops::stack(&[x.clone(), arange(&[3, 2])], 0)),
            "stack",
            "[3, 2]",
        ),
        (
            err(ops::split(&x, &Split::Sections(2), 1)),
            "split",
            "[2, 3]",
        ),
        (err(ops::repeat(&x, &[1, 2], Some(1))), "repeat", "[2, 3]"),
        (
            err(ops::pad(&x, &[(1, 1)], PadMode::Constant, 0.0)),
            "pad",
            "[2, 3]",
        ),
        (
            err(ops::pad(
                &Tensor::zeros(&[0, 2]),
                &[(1, 1), (0, 0)],
                PadMode::Edge,
                0.0,
            )),
            "pad",
            "[0, 2]",
        ),
        (err(ops::slice(&x, &[1, 0], &[2, 3])), "slice", "[2, 3]"),
        (err(ops::sum(&x, Some(&[2]), false)), "sum", "2"),
        (
            err(ops::mean(&x, Some(&[0, -2]), false)),
            "mean",
            "repeated",
        ),
    ];
    for (e, op, what) in cases {
        assert!(e.contains(op) && e.contains(what), "{e}");
    }
    assert!(PadMode::parse("median")
        .unwrap_err()
        .to_string()
        .contains("pad"));
    let e = err(ops::concatenate(&[x.clone(), ints(&[1, 2, 3], &[1, 3])], 0));
    assert!(e.contains("concatenate") && e.contains("int64"), "{e}");
}

/// Sizes and steps at the edge of the integer range give errors or correct results, never
/// overflow panics.
#[test]
fn extreme_sizes_and_steps() {
    let x = arange(&[3, 4]);
    let y = ops::getitem(&x, &[sl(None, None, Some(isize::MAX))]).unwrap();
    assert_eq!(vals(&y), vec![0., 1., 2., 3.]);
    let y = ops::getitem(
        &x,
        &[
            Index::Int(0),
            sl(Some(isize::MIN), Some(isize::MAX), Some(isize::MIN)),
        ],
    )
    .unwrap();
    assert_eq!(y.shape(), &[0]);
    let y = ops::getitem(&x, &[Index::Int(0), sl(None, None, Some(isize::MIN))]).unwrap();
    assert_eq!(vals(&y), vec![3.]);
    let huge = usize::MAX / 2;
    let cases = [
        (err(ops::reshape(&x, &[huge, 4, 0, 3])), "reshape"),
        (err(ops::tile(&x, &[huge, 3])), "tile"),
        (err(ops::repeat(&x, &[huge, huge, 1, 1], Some(1))), "repeat"),
        (
            err(ops::pad(
                &x,
                &[(huge, huge), (0, 0)],
                PadMode::Constant,
                0.0,
            )),
            "pad",
        ),
        (err(ops::broadcast_to(&x, &[huge, 3, 4])), "broadcast_to"),
        (err(ops::one_hot(&ints(&[1], &[1]), huge, -1)), "one_hot"),
    ];
    for (e, op) in cases {
        assert!(e.contains(op) && e.contains("too large"), "{e}");
    }
}
