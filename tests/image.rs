//! Image ops and preprocessing layers: resize against a naive half-pixel reference, affine
//! transforms against exact shifts, rotations and fill modes, gradients by finite
//! differences, train/inference behaviour, seeds, and errors that name the op or layer.
use ember::autograd::check_gradients;
use ember::nn::layers::preprocessing::*;
use ember::nn::{Context, Layer};
use ember::ops::image::{
    affine_transform, crop_images, flip_images, resize, FillMode, Interpolation,
};
use ember::{Error, Tensor, Variable};

use Interpolation::{Bilinear, Nearest};

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
    assert_eq!(a.len(), b.len(), "lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "element {i}: {x} vs {y}"
        );
    }
}

fn run(layer: &dyn Layer, x: &Tensor, training: bool) -> Tensor {
    let mut ctx = Context::new(training);
    layer
        .call(std::slice::from_ref(x), &mut ctx)
        .unwrap()
        .remove(0)
}

fn value_error(e: Error) -> String {
    match e {
        Error::Value(m) => m,
        other => panic!("expected a ValueError, got {other:?}"),
    }
}

fn bilinear() -> Sampling {
    Sampling {
        interpolation: Bilinear,
        fill_mode: FillMode::Constant,
        fill_value: 0.0,
    }
}

/// The naive half-pixel resize of one (h, w, c) image: TF's `resize_bilinear` with
/// `half_pixel_centers` (source clamped to the edge pixels), or floor-based nearest.
fn reference_resize(
    x: &[f32],
    h: usize,
    w: usize,
    c: usize,
    oh: usize,
    ow: usize,
    lin: bool,
) -> Vec<f32> {
    let mut out = Vec::new();
    let src = |o: usize, n: usize, on: usize| (o as f64 + 0.5) * n as f64 / on as f64;
    for oy in 0..oh {
        for ox in 0..ow {
            for ch in 0..c {
                let at = |y: usize, x_: usize| x[(y * w + x_) * c + ch] as f64;
                let v = if lin {
                    let (sy, sx) = (src(oy, h, oh) - 0.5, src(ox, w, ow) - 0.5);
                    let (y0, x0) = (sy.floor(), sx.floor());
                    let (fy, fx) = (sy - y0, sx - x0);
                    let cl = |v: f64, n: usize| v.clamp(0.0, (n - 1) as f64) as usize;
                    let (ya, yb, xa, xb) = (cl(y0, h), cl(y0 + 1.0, h), cl(x0, w), cl(x0 + 1.0, w));
                    (1.0 - fy) * ((1.0 - fx) * at(ya, xa) + fx * at(ya, xb))
                        + fy * ((1.0 - fx) * at(yb, xa) + fx * at(yb, xb))
                } else {
                    let y = (src(oy, h, oh).floor() as usize).min(h - 1);
                    let x_ = (src(ox, w, ow).floor() as usize).min(w - 1);
                    at(y, x_)
                };
                out.push(v as f32);
            }
        }
    }
    out
}

#[test]
fn resize_matches_the_half_pixel_reference() {
    for &(h, w, oh, ow) in &[(4, 5, 7, 9), (9, 7, 4, 3), (5, 5, 5, 8), (3, 8, 6, 2)] {
        for lin in [true, false] {
            let x = data(&[2, h, w, 3], h * w);
            let mode = if lin { Bilinear } else { Nearest };
            let y = resize(&x, oh, ow, mode, false, false, false, 0.0).unwrap();
            assert_eq!(y.shape(), &[2, oh, ow, 3]);
            let xv = vals(&x);
            let mut expect = reference_resize(&xv[..h * w * 3], h, w, 3, oh, ow, lin);
            expect.extend(reference_resize(&xv[h * w * 3..], h, w, 3, oh, ow, lin));
            close(&vals(&y), &expect, 1e-5);
        }
    }
    // a batch large enough for the threaded path, and a single (h, w, c) image
    let x = data(&[8, 40, 30, 3], 1);
    let y = resize(&x, 64, 50, Bilinear, false, false, false, 0.0).unwrap();
    let one = resize(
        &data(&[40, 30, 3], 1),
        64,
        50,
        Bilinear,
        false,
        false,
        false,
        0.0,
    )
    .unwrap();
    assert_eq!(one.shape(), &[64, 50, 3]);
    close(&vals(&y)[..64 * 50 * 3], &vals(&one), 1e-6);
    let xv = vals(&x);
    let last = &xv[7 * 40 * 30 * 3..];
    close(
        &vals(&y)[7 * 64 * 50 * 3..],
        &reference_resize(last, 40, 30, 3, 64, 50, true),
        1e-5,
    );
}

#[test]
fn resize_crops_or_pads_to_the_aspect_ratio() {
    // 4x8 image to 4x4: the centered 4x4 window, unchanged
    let x = data(&[1, 4, 8, 1], 3);
    let y = resize(&x, 4, 4, Bilinear, false, true, false, 0.0).unwrap();
    let xv = vals(&x);
    let window: Vec<f32> = (0..4)
        .flat_map(|r| xv[r * 8 + 2..r * 8 + 6].to_vec())
        .collect();
    close(&vals(&y), &window, 1e-6);
    // padded to 8x8 with the fill value above and below, then the same size: exact
    let y = resize(&x, 8, 8, Nearest, false, false, true, 7.0).unwrap();
    let yv = vals(&y);
    assert!(yv[..16].iter().chain(&yv[48..]).all(|&v| v == 7.0));
    close(&yv[16..48], &xv, 0.0);
    let e = value_error(resize(&x, 4, 4, Bilinear, false, true, true, 0.0).unwrap_err());
    assert!(e.contains("only one of"), "{e}");
}

#[test]
fn antialias_is_refused_only_when_downsampling() {
    let x = data(&[1, 4, 4, 1], 0);
    let up = resize(&x, 8, 8, Bilinear, true, false, false, 0.0).unwrap();
    close(
        &vals(&up),
        &vals(&resize(&x, 8, 8, Bilinear, false, false, false, 0.0).unwrap()),
        0.0,
    );
    let e = value_error(resize(&x, 2, 8, Bilinear, true, false, false, 0.0).unwrap_err());
    assert!(e.contains("antialias") && e.contains("[1, 4, 4, 1]"), "{e}");
}

#[test]
fn affine_transform_shifts_rotates_and_fills() {
    let x = data(&[1, 5, 6, 2], 5);
    let xv = vals(&x);
    let at = |y: usize, x_: usize, c: usize| xv[(y * 6 + x_) * 2 + c];
    // identity
    let id = t(&[1., 0., 0., 0., 1., 0., 0., 0.], &[8]);
    let y = affine_transform(&x, &id, Bilinear, FillMode::Constant, 0.0).unwrap();
    close(&vals(&y), &xv, 0.0);
    // reads (x - 2, y + 1): shifted right by 2 and up by 1, constant fill
    let shift = t(&[1., 0., -2., 0., 1., 1., 0., 0.], &[1, 8]);
    let y = affine_transform(&x, &shift, Bilinear, FillMode::Constant, 9.0).unwrap();
    let yv = vals(&y);
    for oy in 0..5 {
        for ox in 0..6 {
            for c in 0..2 {
                let v = yv[(oy * 6 + ox) * 2 + c];
                let expect = if ox >= 2 && oy + 1 < 5 {
                    at(oy + 1, ox - 2, c)
                } else {
                    9.0
                };
                assert_eq!(v, expect, "({oy}, {ox}, {c})");
            }
        }
    }
    // half a pixel to the left: the mean of neighbours, fill beyond the edge
    let half = t(&[1., 0., 0.5, 0., 1., 0., 0., 0.], &[8]);
    let y = vals(&affine_transform(&x, &half, Bilinear, FillMode::Constant, 0.0).unwrap());
    assert!((y[0] - 0.5 * (at(0, 0, 0) + at(0, 1, 0))).abs() < 1e-6);
    assert!((y[5 * 2] - 0.5 * at(0, 5, 0)).abs() < 1e-6);
    // fill modes along one row: read x - 3 for x in 0..6 of a 1x4 image [a b c d]
    let row = t(&[1., 2., 3., 4.], &[1, 1, 4, 1]);
    let wide = |mode: FillMode| {
        let tr = t(&[1., 0., -3., 0., 1., 0., 0., 0.], &[8]);
        vals(&affine_transform(&row, &tr, Nearest, mode, -1.0).unwrap())
    };
    assert_eq!(wide(FillMode::Constant), vec![-1., -1., -1., 1.]);
    assert_eq!(wide(FillMode::Nearest), vec![1., 1., 1., 1.]);
    assert_eq!(wide(FillMode::Wrap), vec![2., 3., 4., 1.]);
    assert_eq!(wide(FillMode::Reflect), vec![3., 2., 1., 1.]);
    assert_eq!(wide(FillMode::Mirror), vec![4., 3., 2., 1.]);
    // and past the right edge: read x + 3
    let right = |mode: FillMode| {
        let tr = t(&[1., 0., 3., 0., 1., 0., 0., 0.], &[8]);
        vals(&affine_transform(&row, &tr, Nearest, mode, -1.0).unwrap())
    };
    assert_eq!(right(FillMode::Constant), vec![4., -1., -1., -1.]);
    assert_eq!(right(FillMode::Nearest), vec![4., 4., 4., 4.]);
    assert_eq!(right(FillMode::Wrap), vec![4., 1., 2., 3.]);
    assert_eq!(right(FillMode::Reflect), vec![4., 4., 3., 2.]);
    assert_eq!(right(FillMode::Mirror), vec![4., 3., 2., 1.]);
}

#[test]
fn rotation_by_a_quarter_turn_is_rot90() {
    let (h, w) = (5, 5);
    let x = data(&[2, h, w, 1], 2);
    let layer = RandomRotation::new(
        "rot",
        (0.25, 0.25),
        Sampling {
            interpolation: Nearest,
            ..bilinear()
        },
        Some(3),
        false,
    )
    .unwrap();
    let y = vals(&run(&layer, &x, true));
    let xv = vals(&x);
    for b in 0..2 {
        for i in 0..h {
            for j in 0..w {
                // numpy's rot90 (counter-clockwise): out[i][j] = in[j][w - 1 - i]
                assert_eq!(y[b * 25 + i * w + j], xv[b * 25 + j * w + (w - 1 - i)]);
            }
        }
    }
    // and with bilinear interpolation (exact up to rounding of the quarter turn)
    let layer = RandomRotation::new("rot", (0.25, 0.25), bilinear(), None, false).unwrap();
    let y = vals(&run(&layer, &x, true));
    for i in 0..h {
        for j in 0..w {
            assert!((y[i * w + j] - xv[j * w + (w - 1 - i)]).abs() < 1e-5);
        }
    }
}

#[test]
fn image_ops_have_finite_difference_gradients() {
    let x = data(&[2, 3, 4, 2], 1);
    for (oh, ow, mode) in [(5, 7, Bilinear), (2, 3, Bilinear), (5, 3, Nearest)] {
        check_gradients(
            |xs| resize(&xs[0], oh, ow, mode, false, false, false, 0.0),
            std::slice::from_ref(&x),
            1e-2,
            1e-2,
        )
        .unwrap();
    }
    check_gradients(
        |xs| resize(&xs[0], 4, 4, Bilinear, false, false, true, 0.5),
        std::slice::from_ref(&x),
        1e-2,
        1e-2,
    )
    .unwrap();
    let (c, s) = (0.3f32.cos(), 0.3f32.sin());
    let tr = t(
        &[
            c, -s, 0.7, s, c, -0.4, 0., 0., 1.1, 0.2, -0.3, 0.1, 0.9, 0.6, 0., 0.,
        ],
        &[2, 8],
    );
    for mode in [
        FillMode::Constant,
        FillMode::Reflect,
        FillMode::Wrap,
        FillMode::Nearest,
    ] {
        for interp in [Bilinear, Nearest] {
            check_gradients(
                |xs| affine_transform(&xs[0], &tr, interp, mode, 0.25),
                std::slice::from_ref(&x),
                1e-2,
                1e-2,
            )
            .unwrap();
        }
    }
    check_gradients(
        |xs| flip_images(&xs[0], &[(true, false), (true, true)]),
        std::slice::from_ref(&x),
        1e-2,
        1e-2,
    )
    .unwrap();
    check_gradients(
        |xs| crop_images(&xs[0], 1, 1, 2, 2),
        std::slice::from_ref(&x),
        1e-2,
        1e-2,
    )
    .unwrap();
}

type Make = Box<dyn Fn() -> Box<dyn Layer>>;

#[test]
fn layers_have_finite_difference_gradients() {
    let x = data(&[2, 4, 5, 2], 4);
    let stats = || {
        (
            t(&[0.5, -1.0], &[1, 1, 1, 2]),
            t(&[4.0, 0.25], &[1, 1, 1, 2]),
        )
    };
    // (case, a fresh layer, training): random layers are seeded, so every fresh layer draws
    // the same transform and the objective is a fixed function of the images
    let cases: Vec<(&str, Make, bool)> = vec![
        (
            "rescaling per channel",
            Box::new(|| {
                Box::new(Rescaling::new("r", t(&[0.5, -2.0], &[2]), t(&[1.0], &[1])).unwrap())
            }),
            false,
        ),
        (
            "rescaling scalar",
            Box::new(|| {
                Box::new(Rescaling::new("r", Tensor::scalar(3.0), Tensor::scalar(-1.0)).unwrap())
            }),
            false,
        ),
        (
            "normalization",
            Box::new(move || {
                let (m, v) = stats();
                Box::new(Normalization::fixed("n", m, v, false, 1e-7).unwrap())
            }),
            false,
        ),
        (
            "normalization inverted",
            Box::new(move || {
                let (m, v) = stats();
                Box::new(Normalization::fixed("n", m, v, true, 1e-7).unwrap())
            }),
            false,
        ),
        (
            "resizing",
            Box::new(|| {
                Box::new(Resizing::new("rs", 3, 7, Bilinear, false, false, 0.0, false).unwrap())
            }),
            false,
        ),
        (
            "resizing cropped, channels first",
            Box::new(|| {
                Box::new(Resizing::new("rs", 3, 3, Bilinear, true, false, 0.0, true).unwrap())
            }),
            false,
        ),
        (
            "center crop",
            Box::new(|| Box::new(CenterCrop::new("cc", 2, 3, false).unwrap())),
            false,
        ),
        (
            "center crop resized",
            Box::new(|| Box::new(CenterCrop::new("cc", 6, 3, false).unwrap())),
            false,
        ),
        (
            "random crop",
            Box::new(|| Box::new(RandomCrop::new("rc", 3, 3, Some(1), false).unwrap())),
            true,
        ),
        (
            "random crop inference",
            Box::new(|| Box::new(RandomCrop::new("rc", 3, 3, Some(1), false).unwrap())),
            false,
        ),
        (
            "random flip",
            Box::new(|| {
                Box::new(RandomFlip::new(
                    "f",
                    FlipMode::HorizontalAndVertical,
                    Some(2),
                    false,
                ))
            }),
            true,
        ),
        (
            "random rotation",
            Box::new(|| {
                Box::new(
                    RandomRotation::new("ro", (-0.1, 0.1), bilinear(), Some(1), false).unwrap(),
                )
            }),
            true,
        ),
        (
            "random translation",
            Box::new(|| {
                Box::new(
                    RandomTranslation::new(
                        "tr",
                        (-0.2, 0.2),
                        (-0.3, 0.3),
                        bilinear(),
                        Some(1),
                        false,
                    )
                    .unwrap(),
                )
            }),
            true,
        ),
        (
            "random zoom",
            Box::new(|| {
                Box::new(
                    RandomZoom::new("z", (-0.3, 0.3), None, bilinear(), Some(1), false).unwrap(),
                )
            }),
            true,
        ),
        (
            "random contrast",
            Box::new(|| {
                Box::new(
                    RandomContrast::new("c", (0.5, 0.5), (-10.0, 10.0), Some(1), false).unwrap(),
                )
            }),
            true,
        ),
        (
            "random brightness",
            Box::new(|| {
                Box::new(RandomBrightness::new("b", (-0.5, 0.5), (-10.0, 10.0), Some(1)).unwrap())
            }),
            true,
        ),
    ];
    for (case, make, training) in &cases {
        let f = |xs: &[Tensor]| -> ember::Result<Tensor> {
            let mut ctx = Context::new(*training);
            Ok(make().call(xs, &mut ctx)?.remove(0))
        };
        check_gradients(f, std::slice::from_ref(&x), 1e-2, 1e-2)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
    }
}

#[test]
fn random_layers_are_the_identity_at_inference() {
    // Seeded, so the training-mode draws are fixed (unseeded, a flip of 3 images skips
    // all of them one time in eight).
    let x = data(&[3, 6, 5, 2], 7);
    let layers: Vec<Box<dyn Layer>> = vec![
        Box::new(RandomFlip::new("f", FlipMode::Horizontal, Some(1), false)),
        Box::new(RandomRotation::new("ro", (-0.5, 0.5), bilinear(), Some(2), false).unwrap()),
        Box::new(
            RandomTranslation::new("tr", (-0.5, 0.5), (-0.5, 0.5), bilinear(), Some(3), false)
                .unwrap(),
        ),
        Box::new(
            RandomZoom::new("z", (-0.5, 0.5), Some((0.1, 0.2)), bilinear(), Some(4), false).unwrap(),
        ),
        Box::new(RandomContrast::new("c", (0.5, 0.5), (0.0, 1.0), Some(5), false).unwrap()),
        Box::new(RandomBrightness::new("b", (-0.5, 0.5), (0.0, 1.0), Some(6)).unwrap()),
    ];
    for layer in &layers {
        assert_eq!(
            vals(&run(layer.as_ref(), &x, false)),
            vals(&x),
            "{}",
            layer.name()
        );
        assert_ne!(
            vals(&run(layer.as_ref(), &x, true)),
            vals(&x),
            "{}",
            layer.name()
        );
    }
}

#[test]
fn random_crop_crops_in_training_and_center_resizes_at_inference() {
    let x = data(&[2, 6, 8, 1], 1);
    let xv = vals(&x);
    let layer = RandomCrop::new("rc", 4, 4, Some(5), false).unwrap();
    let y = vals(&run(&layer, &x, true));
    // some window of the first image, the same window in the second
    let found = (0..=2)
        .flat_map(|top| (0..=4).map(move |left| (top, left)))
        .find(|&(top, left)| {
            (0..4).all(|r| (0..4).all(|c| y[r * 4 + c] == xv[(top + r) * 8 + left + c]))
        });
    let (top, left) = found.expect("a 4x4 window of the input");
    for r in 0..4 {
        for c in 0..4 {
            assert_eq!(y[16 + r * 4 + c], xv[48 + (top + r) * 8 + left + c]);
        }
    }
    // inference: the centered 6x6 window resized to 4x4
    let y = run(&layer, &x, false);
    let center = crop_images(&x, 0, 1, 6, 6).unwrap();
    let expect = resize(&center, 4, 4, Bilinear, false, false, false, 0.0).unwrap();
    close(&vals(&y), &vals(&expect), 1e-6);
}

#[test]
fn seeded_layers_repeat_their_draws() {
    let x = data(&[4, 6, 6, 3], 2);
    let a = RandomRotation::new("a", (-0.3, 0.3), bilinear(), Some(42), false).unwrap();
    let b = RandomRotation::new("b", (-0.3, 0.3), bilinear(), Some(42), false).unwrap();
    let (ya, yb) = (vals(&run(&a, &x, true)), vals(&run(&b, &x, true)));
    assert_eq!(ya, yb);
    assert_ne!(
        ya,
        vals(&run(&a, &x, true)),
        "a seed generator advances across calls"
    );
}

#[test]
fn contrast_and_brightness_follow_the_keras_formulas() {
    let x = data(&[2, 3, 3, 2], 9);
    let xv = vals(&x);
    // factor (0, 0) for contrast: f = 1 exactly, so only the clip acts
    let c = RandomContrast::new("c", (0.0, 0.0), (-0.5, 0.5), None, false).unwrap();
    let y = vals(&run(&c, &x, true));
    close(
        &y,
        &xv.iter().map(|v| v.clamp(-0.5, 0.5)).collect::<Vec<_>>(),
        1e-6,
    );
    // factor (1, 1) draws f in [0, 2]; every pixel of both channels follows the formula
    let c = RandomContrast::new("c", (1.0, 1.0), (-100.0, 100.0), Some(3), false).unwrap();
    let y = vals(&run(&c, &x, true));
    for b in 0..2 {
        let img = &xv[b * 18..(b + 1) * 18];
        let out = &y[b * 18..(b + 1) * 18];
        let mean = |ch: usize| (0..9).map(|p| img[p * 2 + ch]).sum::<f32>() / 9.0;
        // the drawn factor, by least squares over the first channel
        let (num, den) = (0..9).fold((0.0, 0.0), |(n, d), p| {
            let dx = img[p * 2] - mean(0);
            (n + (out[p * 2] - mean(0)) * dx, d + dx * dx)
        });
        let f = num / den;
        assert!((0.0..=2.0).contains(&f));
        for p in 0..9 {
            for ch in 0..2 {
                let expect = (img[p * 2 + ch] - mean(ch)) * f + mean(ch);
                assert!((out[p * 2 + ch] - expect).abs() < 1e-4);
            }
        }
    }
    // brightness: one shift per image, a fraction of the range width
    let bright = RandomBrightness::new("b", (-0.25, 0.25), (10.0, -10.0), Some(1)).unwrap();
    let y = vals(&run(&bright, &x, true));
    for b in 0..2 {
        let d = y[b * 18] - xv[b * 18];
        assert!(d.abs() <= 5.0 + 1e-5);
        for p in 0..18 {
            assert!((y[b * 18 + p] - xv[b * 18 + p] - d).abs() < 1e-5);
        }
    }
}

#[test]
fn normalization_uses_the_current_weights() {
    let mean = Variable::new("mean", Tensor::zeros(&[2]), false);
    let var = Variable::new("variance", Tensor::ones(&[2]), false);
    let count = Variable::new("count", Tensor::scalar(0.0), false);
    let layer = Normalization::adapted(
        "n",
        mean.clone(),
        var.clone(),
        count,
        vec![1, 1, 2],
        false,
        1e-7,
    )
    .unwrap();
    let x = data(&[3, 4, 2], 0);
    close(&vals(&run(&layer, &x, false)), &vals(&x), 0.0);
    mean.assign(&t(&[1.0, -1.0], &[2])).unwrap();
    var.assign(&t(&[4.0, 0.0], &[2])).unwrap();
    let y = vals(&run(&layer, &x, false));
    let xv = vals(&x);
    for i in 0..xv.len() {
        let expect = if i % 2 == 0 {
            (xv[i] - 1.0) / 2.0
        } else {
            (xv[i] + 1.0) / 1e-7
        };
        close(&[y[i]], &[expect], 1e-5);
    }
    assert_eq!(layer.variables().len(), 3);
    let e = value_error(
        layer
            .call(&[data(&[3, 4, 3], 0)], &mut Context::new(false))
            .unwrap_err(),
    );
    assert!(e.contains("\"n\"") && e.contains("[3, 4, 3]"), "{e}");
}

#[test]
fn bad_input_names_the_layer_or_op() {
    let flip = RandomFlip::new("my_flip", FlipMode::Vertical, None, false);
    let e = value_error(
        flip.call(&[data(&[4, 5], 0)], &mut Context::new(true))
            .unwrap_err(),
    );
    assert!(
        e.contains("RandomFlip layer \"my_flip\"") && e.contains("[4, 5]"),
        "{e}"
    );
    let e = value_error(
        RandomRotation::new("r", (-1.5, 1.5), bilinear(), None, false)
            .err()
            .unwrap(),
    );
    assert!(e.contains("RandomRotation") && e.contains("factor"), "{e}");
    let e = value_error(
        RandomZoom::new("z", (0.1, 0.2), Some((0.5, 2.0)), bilinear(), None, false)
            .err()
            .unwrap(),
    );
    assert!(e.contains("width_factor"), "{e}");
    let e = value_error(
        RandomContrast::new("c", (-0.1, 0.2), (0.0, 1.0), None, false)
            .err()
            .unwrap(),
    );
    assert!(e.contains("RandomContrast"), "{e}");
    let e = value_error(
        RandomBrightness::new("b", (0.0, 1.5), (0.0, 1.0), None)
            .err()
            .unwrap(),
    );
    assert!(e.contains("RandomBrightness"), "{e}");
    let e = value_error(Interpolation::parse("Resizing", "bicubic").unwrap_err());
    assert!(e.contains("Resizing") && e.contains("bicubic"), "{e}");
    let e = value_error(FillMode::parse("RandomZoom", "edge").unwrap_err());
    assert!(e.contains("fill_mode") && e.contains("edge"), "{e}");
    let e = value_error(FlipMode::parse("RandomFlip", "diagonal").unwrap_err());
    assert!(e.contains("diagonal"), "{e}");
    let x = data(&[2, 4, 4, 1], 0);
    let e = value_error(crop_images(&x, 1, 0, 4, 4).unwrap_err());
    assert!(
        e.contains("does not fit") && e.contains("[2, 4, 4, 1]"),
        "{e}"
    );
    let e = value_error(resize(&x, 0, 3, Bilinear, false, false, false, 0.0).unwrap_err());
    assert!(e.contains("positive"), "{e}");
    let e =
        value_error(resize(&x, usize::MAX / 2, 4, Bilinear, false, false, false, 0.0).unwrap_err());
    assert!(e.contains("too large"), "{e}");
    let e = value_error(
        resize(&data(&[4, 4], 0), 2, 2, Bilinear, false, false, false, 0.0).unwrap_err(),
    );
    assert!(e.contains("rank 3") && e.contains("[4, 4]"), "{e}");
    let e = value_error(
        affine_transform(&x, &t(&[1.; 6], &[6]), Bilinear, FillMode::Constant, 0.0).unwrap_err(),
    );
    assert!(e.contains("transform") && e.contains("[6]"), "{e}");
    let e = value_error(
        affine_transform(&x, &data(&[3, 8], 0), Bilinear, FillMode::Constant, 0.0).unwrap_err(),
    );
    assert!(e.contains("3 transforms"), "{e}");
    assert!(Resizing::new("rs", 0, 4, Bilinear, false, false, 0.0, false).is_err());
    assert!(CenterCrop::new("cc", 3, 0, false).is_err());
    let e = value_error(
        Normalization::fixed("n", Tensor::zeros(&[2]), Tensor::zeros(&[3]), false, 1e-7)
            .err()
            .unwrap(),
    );
    assert!(e.contains("same shape"), "{e}");
}

#[test]
fn channels_first_layers_match_channels_last() {
    let x = data(&[2, 5, 6, 3], 3);
    let nchw = ember::ops::transpose(&x, Some(&[0, 3, 1, 2])).unwrap();
    let last = Resizing::new("a", 4, 9, Bilinear, false, false, 0.0, false).unwrap();
    let first = Resizing::new("b", 4, 9, Bilinear, false, false, 0.0, true).unwrap();
    let y = run(&first, &nchw, false);
    assert_eq!(y.shape(), &[2, 3, 4, 9]);
    let back = ember::ops::transpose(&y, Some(&[0, 2, 3, 1])).unwrap();
    close(&vals(&back), &vals(&run(&last, &x, false)), 1e-6);
    // a single (c, h, w) image
    let one = CenterCrop::new("c", 3, 3, true).unwrap();
    let y = run(
        &one,
        &ember::ops::transpose(&data(&[5, 6, 3], 1), Some(&[2, 0, 1])).unwrap(),
        false,
    );
    assert_eq!(y.shape(), &[3, 3, 3]);
}
