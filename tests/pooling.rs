//! Pooling, padding, cropping and upsampling: forward and backward against a naive N-d
//! reference (TensorFlow's padding rules), finite-difference gradient checks for each op
//! and option, the threaded path on a W3-sized input, and errors that name the layer.
use ember::autograd::{check_gradients, grad, watch};
use ember::nn::layers::{Cropping, GlobalPooling, Interpolation, Pooling, UpSampling, ZeroPadding};
use ember::nn::{Context, Layer};
use ember::ops::{self, PoolMode, PoolPadding};
use ember::{Error, Tensor};

/// Distinct values in [-0.5, 0.5) (a permutation of a grid), so maxima have no ties.
fn distinct(shape: &[usize], seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let step = [37, 41, 43, 47, 53]
        .into_iter()
        .cycle()
        .skip(seed % 5)
        .find(|p| n % p != 0)
        .unwrap();
    let v = (0..n)
        .map(|i| ((i * step + seed) % n) as f32 / n as f32 - 0.5)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn vals(x: &Tensor) -> Vec<f32> {
    x.to_vec_f32().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "lengths differ");
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

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |a, (&i, &n)| a * n + i)
}

/// Naive channels-last pooling with TF's padding: the output, its shape, and the input
/// gradient of `sum(y * w)`.
fn reference(
    x: &[f32],
    shape: &[usize],
    pool: &[usize],
    strides: &[usize],
    same: bool,
    max: bool,
    w: &[f32],
) -> (Vec<f32>, Vec<usize>, Vec<f32>) {
    let nd = pool.len();
    let mut out_shape = shape.to_vec();
    let mut pad = vec![0isize; nd];
    for d in 0..nd {
        let n = shape[d + 1];
        out_shape[d + 1] = if same {
            n.div_ceil(strides[d])
        } else {
            (n - pool[d]) / strides[d] + 1
        };
        if same {
            let total = ((out_shape[d + 1] - 1) * strides[d] + pool[d]).saturating_sub(n);
            pad[d] = (total / 2) as isize;
        }
    }
    let n_out: usize = out_shape.iter().product();
    let mut y = vec![0.0; n_out];
    let mut dx = vec![0.0; x.len()];
    for (o, yo) in y.iter_mut().enumerate() {
        let oi = unravel(o, &out_shape);
        let mut members = Vec::new();
        for k in 0..pool.iter().product() {
            let ki = unravel(k, pool);
            let mut ii = oi.clone();
            let inside = (0..nd).all(|d| {
                let v = (oi[d + 1] * strides[d]) as isize - pad[d] + ki[d] as isize;
                ii[d + 1] = v.max(0) as usize;
                v >= 0 && (v as usize) < shape[d + 1]
            });
            if inside {
                members.push(ravel(&ii, shape));
            }
        }
        if max {
            let best = members
                .iter()
                .copied()
                .reduce(|a, b| if x[b] > x[a] { b } else { a })
                .unwrap();
            *yo = x[best];
            dx[best] += w[o];
        } else {
            *yo = members.iter().map(|&m| x[m]).sum::<f32>() / members.len() as f32;
            for &m in &members {
                dx[m] += w[o] / members.len() as f32;
            }
        }
    }
    (y, out_shape, dx)
}

fn padding(same: bool) -> PoolPadding {
    if same {
        PoolPadding::Same
    } else {
        PoolPadding::Valid
    }
}

fn pool_op(
    x: &Tensor,
    max: bool,
    pool: &[usize],
    strides: &[usize],
    same: bool,
    channels_first: bool,
) -> ember::Result<Tensor> {
    let f = if max {
        ops::max_pool
    } else {
        ops::average_pool
    };
    f(x, pool, Some(strides), padding(same), channels_first)
}

/// (input shape, pool_size, strides) cases of every rank, odd sizes included.
fn cases() -> Vec<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    vec![
        (vec![2, 7, 3], vec![2], vec![2]),
        (vec![2, 7, 3], vec![3], vec![1]),
        (vec![1, 8, 2], vec![4], vec![3]),
        (vec![2, 5, 6, 3], vec![2, 2], vec![2, 2]),
        (vec![2, 5, 6, 3], vec![3, 2], vec![1, 3]),
        (vec![1, 7, 7, 2], vec![3, 3], vec![2, 2]),
        (vec![1, 4, 5, 3, 2], vec![2, 2, 2], vec![2, 2, 2]),
        (vec![1, 4, 3, 5, 1], vec![3, 1, 2], vec![1, 2, 2]),
    ]
}

#[test]
fn pooling_matches_the_naive_reference_forward_and_backward() {
    for (shape, pool, strides) in cases() {
        for same in [false, true] {
            for max in [true, false] {
                let x = distinct(&shape, 1);
                let xw = watch(&x);
                let y = pool_op(&xw, max, &pool, &strides, same, false).unwrap();
                let wv: Vec<f32> = (0..y.numel()).map(|i| (i % 7) as f32 - 2.5).collect();
                let (want, want_shape, want_dx) =
                    reference(&vals(&x), &shape, &pool, &strides, same, max, &wv);
                let case =
                    format!("{shape:?} pool {pool:?} strides {strides:?} same {same} max {max}");
                assert_eq!(y.shape(), want_shape.as_slice(), "{case}");
                close(&vals(&y), &want, 1e-6);
                let w = Tensor::from_f32(wv, y.shape()).unwrap();
                let loss = ops::sum(&ops::multiply(&y, &w).unwrap(), None, false).unwrap();
                let g = grad(&loss, None, &[]).unwrap();
                close(&vals(&g[&xw.node().unwrap().id()]), &want_dx, 1e-5);
            }
        }
    }
}

#[test]
fn channels_first_is_the_transposed_channels_last_pooling() {
    let x = distinct(&[2, 3, 5, 6], 2); // (batch, channels, h, w)
    let xl = ops::transpose(&x, Some(&[0, 2, 3, 1])).unwrap();
    for max in [true, false] {
        for same in [false, true] {
            let yf = pool_op(&x, max, &[2, 3], &[2, 2], same, true).unwrap();
            let yl = pool_op(&xl, max, &[2, 3], &[2, 2], same, false).unwrap();
            let back = ops::transpose(&yl, Some(&[0, 3, 1, 2])).unwrap();
            assert_eq!(yf.shape(), back.shape());
            assert_eq!(vals(&yf), vals(&back));
        }
    }
}

#[test]
fn keras_documentation_examples() {
    let x = Tensor::from_f32((1..=9).map(|v| v as f32).collect(), &[1, 3, 3, 1]).unwrap();
    let y = ops::max_pool(&x, &[2, 2], Some(&[1, 1]), PoolPadding::Valid, false).unwrap();
    assert_eq!(
        (y.shape(), vals(&y)),
        (&[1, 2, 2, 1][..], vec![5., 6., 8., 9.])
    );
    let y = ops::max_pool(&x, &[2, 2], Some(&[1, 1]), PoolPadding::Same, false).unwrap();
    assert_eq!(vals(&y), vec![5., 6., 6., 8., 9., 9., 8., 9., 9.]);
    let x = Tensor::from_f32((1..=12).map(|v| v as f32).collect(), &[1, 3, 4, 1]).unwrap();
    let y = ops::max_pool(&x, &[2, 2], None, PoolPadding::Valid, false).unwrap();
    assert_eq!((y.shape(), vals(&y)), (&[1, 1, 2, 1][..], vec![6., 8.]));
    // "same" averages divide by the valid elements only: a constant stays constant
    let ones = Tensor::ones(&[1, 5, 5, 2]);
    let y = ops::average_pool(&ones, &[3, 3], Some(&[2, 2]), PoolPadding::Same, false).unwrap();
    assert_eq!(y.shape(), &[1, 3, 3, 2]);
    assert!(vals(&y).iter().all(|&v| (v - 1.0).abs() < 1e-6));
    let x = Tensor::from_f32(vec![1., 2., 3., 4., 5.], &[1, 5, 1]).unwrap();
    let y = ops::average_pool(&x, &[2], None, PoolPadding::Same, false).unwrap();
    assert_eq!(vals(&y), vec![1.5, 3.5, 5.0]);
}

#[test]
fn max_pool_ties_send_the_gradient_to_the_first_maximum() {
    let x = watch(&Tensor::from_f32(vec![1., 3., 3., 3., 0., 3.], &[1, 2, 3, 1]).unwrap());
    let y = ops::max_pool(&x, &[2, 3], None, PoolPadding::Valid, false).unwrap();
    assert_eq!(vals(&y), vec![3.]);
    let g = grad(&y, None, &[]).unwrap();
    assert_eq!(
        vals(&g[&x.node().unwrap().id()]),
        vec![0., 1., 0., 0., 0., 0.]
    );
}

#[test]
fn pooling_gradients_by_finite_differences() {
    for (shape, pool, strides) in cases() {
        for same in [false, true] {
            for max in [true, false] {
                let x = distinct(&shape, 0);
                check_gradients(
                    |v| pool_op(&v[0], max, &pool, &strides, same, false),
                    &[x],
                    1e-3,
                    1e-2,
                )
                .unwrap_or_else(|e| panic!("{shape:?} {pool:?} {strides:?} {same} {max}: {e}"));
            }
        }
    }
    // channels-first inputs go through the same kernel between two transposes
    for max in [true, false] {
        check_gradients(
            |v| pool_op(&v[0], max, &[2, 2], &[1, 2], true, true),
            &[distinct(&[2, 3, 4, 5], 1)],
            1e-3,
            1e-2,
        )
        .unwrap();
    }
}

#[test]
fn large_inputs_take_the_threaded_path_and_agree() {
    // a W3 pooling: batch 8 of 26x26x32, 2x2
    let shape = [8, 26, 26, 32];
    let x = distinct(&shape, 1);
    for max in [true, false] {
        let xw = watch(&x);
        let y = pool_op(&xw, max, &[2, 2], &[2, 2], false, false).unwrap();
        let wv: Vec<f32> = (0..y.numel()).map(|i| (i % 5) as f32 - 2.0).collect();
        let (want, _, want_dx) = reference(&vals(&x), &shape, &[2, 2], &[2, 2], false, max, &wv);
        close(&vals(&y), &want, 1e-6);
        let w = Tensor::from_f32(wv, y.shape()).unwrap();
        let loss = ops::sum(&ops::multiply(&y, &w).unwrap(), None, false).unwrap();
        let g = grad(&loss, None, &[]).unwrap();
        close(&vals(&g[&xw.node().unwrap().id()]), &want_dx, 1e-5);
        // inference (no argmax kept) gives the same values
        let y2 = pool_op(&x, max, &[2, 2], &[2, 2], false, false).unwrap();
        assert_eq!(vals(&y2), vals(&y));
    }
}

#[test]
fn linear_resize_uses_half_pixel_centers() {
    let x = Tensor::from_f32(vec![1., 2., 3., 4.], &[1, 2, 2, 1]).unwrap();
    let y = ops::resize_linear_axis(&x, 2, 4).unwrap();
    let y = ops::resize_linear_axis(&y, 1, 4).unwrap();
    assert_eq!(y.shape(), &[1, 4, 4, 1]);
    #[rustfmt::skip]
    let want = [
        1.0, 1.25, 1.75, 2.0,
        1.5, 1.75, 2.25, 2.5,
        2.5, 2.75, 3.25, 3.5,
        3.0, 3.25, 3.75, 4.0,
    ];
    close(&vals(&y), &want, 1e-6);
    // downsampling by 2 averages neighbours; 3 -> 5 interpolates at (j + 0.5) * 0.6 - 0.5
    let v = Tensor::from_f32(vec![0., 1., 2., 3.], &[4]).unwrap();
    close(
        &vals(&ops::resize_linear_axis(&v, 0, 2).unwrap()),
        &[0.5, 2.5],
        1e-6,
    );
    let v = Tensor::from_f32(vec![0., 10., 20.], &[3]).unwrap();
    close(
        &vals(&ops::resize_linear_axis(&v, 0, 5).unwrap()),
        &[0., 4., 10., 16., 20.],
        1e-5,
    );
    for (shape, axis, size) in [
        ([2, 3, 4, 2], 1, 7),
        ([2, 3, 4, 2], 2, 8),
        ([2, 3, 4, 2], 1, 2),
    ] {
        check_gradients(
            |v| ops::resize_linear_axis(&v[0], axis, size),
            &[distinct(&shape, 2)],
            1e-3,
            1e-2,
        )
        .unwrap();
    }
    assert!(ops::resize_linear_axis(&v, 1, 4).is_err());
}

fn call(layer: &dyn Layer, x: &Tensor) -> ember::Result<Tensor> {
    layer
        .call(std::slice::from_ref(x), &mut Context::new(false))
        .map(|mut v| v.remove(0))
}

#[test]
fn pooling_layers_run_the_ops_and_check_ranks() {
    let layer = Pooling::new(
        "pool",
        PoolMode::Max,
        &[2, 2],
        None,
        PoolPadding::Valid,
        false,
    )
    .unwrap();
    let x = distinct(&[2, 4, 6, 3], 0);
    let want = ops::max_pool(&x, &[2, 2], None, PoolPadding::Valid, false).unwrap();
    assert_eq!(vals(&call(&layer, &x).unwrap()), vals(&want));
    let e = value_error(call(&layer, &distinct(&[4, 6, 3], 0)).unwrap_err());
    assert!(
        e.contains("\"pool\"") && e.contains("ndim=4") && e.contains("[4, 6, 3]"),
        "{e}"
    );
    let e = value_error(call(&layer, &distinct(&[2, 1, 6, 3], 0)).unwrap_err());
    assert!(
        e.contains("MaxPooling2D layer \"pool\"")
            && e.contains("[2, 1, 6, 3]")
            && e.contains("pool_size=[2, 2]"),
        "{e}"
    );
    // channels-first errors show the caller's shape, not the transposed one
    let e = ops::max_pool(
        &distinct(&[1, 3, 1, 5], 0),
        &[2, 2],
        None,
        PoolPadding::Valid,
        true,
    );
    let e = value_error(e.unwrap_err());
    assert!(e.contains("max_pool") && e.contains("[1, 3, 1, 5]"), "{e}");
    // where a maximum lies is kept as a float32 ordinal: windows are limited to 2^24 elements
    let huge = Tensor::zeros(&[1, 4097, 4096, 1]);
    let e = ops::max_pool(&huge, &[4097, 4096], None, PoolPadding::Valid, false);
    assert!(value_error(e.unwrap_err()).contains("too large"));
    let ints = Tensor::from_i64(vec![1; 8], &[1, 2, 2, 2]).unwrap();
    assert!(matches!(call(&layer, &ints), Err(Error::Type(_))));
    let e = Pooling::new(
        "p",
        PoolMode::Average,
        &[2, 0],
        None,
        PoolPadding::Same,
        false,
    )
    .err()
    .unwrap();
    assert!(value_error(e).contains("AveragePooling2D layer \"p\""));
    let e = Pooling::new(
        "p",
        PoolMode::Max,
        &[2],
        Some(&[0]),
        PoolPadding::Same,
        false,
    )
    .err()
    .unwrap();
    assert!(value_error(e).contains("strides"));
    assert!(PoolPadding::parse("max_pool", "SAME").unwrap() == PoolPadding::Same);
    assert!(value_error(PoolPadding::parse("max_pool", "full").unwrap_err()).contains("full"));
}

#[test]
fn global_pooling_reduces_the_spatial_axes() {
    let x = distinct(&[2, 3, 4, 5], 1);
    let xv = vals(&x);
    let layer = GlobalPooling::new("gap", PoolMode::Average, 2, false, false);
    let y = call(&layer, &x).unwrap();
    assert_eq!(y.shape(), &[2, 5]);
    let mut want = vec![0.0; 10];
    for (i, v) in xv.iter().enumerate() {
        want[(i / 60) * 5 + i % 5] += v / 12.0;
    }
    close(&vals(&y), &want, 1e-5);
    let layer = GlobalPooling::new("gmp", PoolMode::Max, 2, true, true);
    let y = call(&layer, &x).unwrap();
    assert_eq!(y.shape(), &[2, 3, 1, 1]);
    let want: Vec<f32> = xv
        .chunks(20)
        .map(|c| c.iter().cloned().fold(f32::MIN, f32::max))
        .collect();
    assert_eq!(vals(&y), want);
    check_gradients(
        |v| call(&layer, &v[0]),
        std::slice::from_ref(&x),
        1e-3,
        1e-2,
    )
    .unwrap();
    let layer = GlobalPooling::new("gap1", PoolMode::Average, 1, false, true);
    check_gradients(
        |v| call(&layer, &v[0]),
        &[distinct(&[2, 5, 3], 0)],
        1e-3,
        1e-2,
    )
    .unwrap();
    let e = value_error(call(&layer, &x).unwrap_err());
    assert!(e.contains("gap1") && e.contains("ndim=3"), "{e}");
}

#[test]
fn zero_padding_and_cropping() {
    let x = distinct(&[2, 3, 4, 2], 0);
    let pad = ZeroPadding::new("zp", vec![(1, 2), (0, 1)], false).unwrap();
    let y = call(&pad, &x).unwrap();
    assert_eq!(y.shape(), &[2, 6, 5, 2]);
    let (xv, yv) = (vals(&x), vals(&y));
    for (i, &v) in yv.iter().enumerate() {
        let [b, h, w, c] = unravel(i, &[2, 6, 5, 2])[..] else {
            unreachable!()
        };
        let want = if (1..4).contains(&h) && w < 4 {
            xv[ravel(&[b, h - 1, w, c], &[2, 3, 4, 2])]
        } else {
            0.0
        };
        assert_eq!(v, want);
    }
    check_gradients(|v| call(&pad, &v[0]), std::slice::from_ref(&x), 1e-3, 1e-2).unwrap();
    // channels_first pads the last two axes
    let padf = ZeroPadding::new("zpf", vec![(1, 0), (2, 2)], true).unwrap();
    assert_eq!(call(&padf, &x).unwrap().shape(), &[2, 3, 5, 6]);

    let crop = Cropping::new("crop", vec![(1, 0), (1, 2)], false).unwrap();
    let y = call(&crop, &x).unwrap();
    assert_eq!(y.shape(), &[2, 2, 1, 2]);
    let want: Vec<f32> = (0..8)
        .map(|i| {
            let [b, h, w, c] = unravel(i, &[2, 2, 1, 2])[..] else {
                unreachable!()
            };
            xv[ravel(&[b, h + 1, w + 1, c], &[2, 3, 4, 2])]
        })
        .collect();
    assert_eq!(vals(&y), want);
    check_gradients(|v| call(&crop, &v[0]), std::slice::from_ref(&x), 1e-3, 1e-2).unwrap();
    let cropf = Cropping::new("cropf", vec![(0, 2), (1, 0)], true).unwrap();
    assert_eq!(call(&cropf, &x).unwrap().shape(), &[2, 3, 2, 1]);
    let crop1 = Cropping::new("crop1", vec![(1, 1)], false).unwrap();
    assert_eq!(
        call(&crop1, &distinct(&[2, 5, 3], 0)).unwrap().shape(),
        &[2, 3, 3]
    );

    let too_much = Cropping::new("crop", vec![(2, 1), (0, 0)], false).unwrap();
    let e = value_error(call(&too_much, &x).unwrap_err());
    assert!(
        e.contains("Cropping2D layer \"crop\"")
            && e.contains("[2, 3, 4, 2]")
            && e.contains("(2, 1)"),
        "{e}"
    );
    let e = value_error(call(&pad, &distinct(&[2, 3, 4], 0)).unwrap_err());
    assert!(e.contains("zp") && e.contains("ndim=4"), "{e}");
}

#[test]
fn up_sampling_nearest_and_bilinear() {
    let x = distinct(&[2, 3, 2, 3], 0);
    let xv = vals(&x);
    let up = UpSampling::new("up", vec![2, 3], Interpolation::Nearest, false).unwrap();
    let y = call(&up, &x).unwrap();
    assert_eq!(y.shape(), &[2, 6, 6, 3]);
    for (i, &v) in vals(&y).iter().enumerate() {
        let [b, h, w, c] = unravel(i, &[2, 6, 6, 3])[..] else {
            unreachable!()
        };
        assert_eq!(v, xv[ravel(&[b, h / 2, w / 3, c], &[2, 3, 2, 3])]);
    }
    check_gradients(|v| call(&up, &v[0]), std::slice::from_ref(&x), 1e-3, 1e-2).unwrap();
    let up1 = UpSampling::new("up1", vec![3], Interpolation::Nearest, false).unwrap();
    assert_eq!(
        call(&up1, &distinct(&[2, 4, 3], 0)).unwrap().shape(),
        &[2, 12, 3]
    );
    let up3 = UpSampling::new("up3", vec![2, 1, 2], Interpolation::Nearest, true).unwrap();
    let x3 = distinct(&[1, 2, 2, 3, 2], 0);
    assert_eq!(call(&up3, &x3).unwrap().shape(), &[1, 2, 4, 3, 4]);
    check_gradients(|v| call(&up3, &v[0]), &[x3], 1e-3, 1e-2).unwrap();

    let bi = UpSampling::new("bi", vec![2, 2], Interpolation::Bilinear, false).unwrap();
    let sq = Tensor::from_f32(vec![1., 2., 3., 4.], &[1, 2, 2, 1]).unwrap();
    let y = call(&bi, &sq).unwrap();
    close(
        &vals(&y),
        &[
            1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0,
        ],
        1e-6,
    );
    let bif = UpSampling::new("bif", vec![3, 2], Interpolation::Bilinear, true).unwrap();
    let xf = distinct(&[2, 2, 3, 2], 1);
    assert_eq!(call(&bif, &xf).unwrap().shape(), &[2, 2, 9, 4]);
    check_gradients(|v| call(&bif, &v[0]), &[xf], 1e-3, 1e-2).unwrap();

    assert!(UpSampling::new("u", vec![2, 0], Interpolation::Nearest, false).is_err());
    let e = value_error(call(&up, &distinct(&[2, 3, 2], 0)).unwrap_err());
    assert!(e.contains("\"up\"") && e.contains("ndim=4"), "{e}");
}
