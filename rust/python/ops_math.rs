//! Bindings of the elementwise math ops, activations, softmax and random ops as
//! `_native.op_*` / `_native.random_*` functions. Inputs are converted once, then the GIL
//! is released around the computation.
use super::tensor::{to_tensor, PyTensor};
use crate::error::Result;
use crate::ops;
use crate::random::Rng;
use crate::tensor::{numel, DType, Tensor};
use crate::value_err;
use pyo3::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng as _, SeedableRng};
use rand_distr::StandardNormal;

/// A float32 tensor from any array-like (ints are converted).
fn float(x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    to_tensor(x, Some("float32"))
}

/// A tensor keeping the array-like's own dtype (float32 or int64).
fn any(x: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    to_tensor(x, None)
}

/// Defines `#[pyfunction]`s over the ops and one `register_*` function adding them all.
/// Each entry: `name(args) => converted inputs => expression`.
macro_rules! bind {
    ($register:ident; $( $name:ident ( $($arg:ident : $ty:ty),* ) [$($t:ident = $conv:ident),*] => $body:expr ;)*) => {
        $(
            #[pyfunction]
            fn $name(py: Python<'_>, $($t: &Bound<'_, PyAny>,)* $($arg: $ty),*) -> PyResult<PyTensor> {
                $(let $t = $conv($t)?;)*
                Ok(PyTensor::new(py.detach(|| -> Result<Tensor> { $body })?))
            }
        )*
        fn $register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $(m.add_function(wrap_pyfunction!($name, m)?)?;)*
            Ok(())
        }
    };
}

bind! { register_unary;
    op_negative() [x = float] => ops::negative(&x);
    op_abs() [x = float] => ops::abs(&x);
    op_square() [x = float] => ops::square(&x);
    op_sqrt() [x = float] => ops::sqrt(&x);
    op_exp() [x = float] => ops::exp(&x);
    op_log() [x = float] => ops::log(&x);
    op_log1p() [x = float] => ops::log1p(&x);
    op_expm1() [x = float] => ops::expm1(&x);
    op_sign() [x = float] => ops::sign(&x);
    op_floor() [x = float] => ops::floor(&x);
    op_ceil() [x = float] => ops::ceil(&x);
    op_round(decimals: i32) [x = float] => ops::round(&x, decimals);
    op_sin() [x = float] => ops::sin(&x);
    op_cos() [x = float] => ops::cos(&x);
    op_reciprocal() [x = float] => ops::reciprocal(&x);
    op_clip(x_min: f32, x_max: f32) [x = float] => ops::clip(&x, x_min, x_max);
    op_power_scalar(p: f32) [x = float] => ops::power_scalar(&x, p);
    op_logical_not() [x = any] => ops::logical_not(&x);
}

bind! { register_binary;
    op_add() [a = float, b = float] => ops::add(&a, &b);
    op_subtract() [a = float, b = float] => ops::subtract(&a, &b);
    op_multiply() [a = float, b = float] => ops::multiply(&a, &b);
    op_divide() [a = float, b = float] => ops::divide(&a, &b);
    op_power() [a = float, b = float] => ops::power(&a, &b);
    op_maximum() [a = float, b = float] => ops::maximum(&a, &b);
    op_minimum() [a = float, b = float] => ops::minimum(&a, &b);
    op_equal() [a = any, b = any] => ops::equal(&a, &b);
    op_not_equal() [a = any, b = any] => ops::not_equal(&a, &b);
    op_less() [a = any, b = any] => ops::less(&a, &b);
    op_less_equal() [a = any, b = any] => ops::less_equal(&a, &b);
    op_greater() [a = any, b = any] => ops::greater(&a, &b);
    op_greater_equal() [a = any, b = any] => ops::greater_equal(&a, &b);
    op_logical_and() [a = any, b = any] => ops::logical_and(&a, &b);
    op_logical_or() [a = any, b = any] => ops::logical_or(&a, &b);
    op_logical_xor() [a = any, b = any] => ops::logical_xor(&a, &b);
    op_where() [c = any, a = any, b = any] => ops::where_(&c, &a, &b);
}

bind! { register_activations;
    op_relu() [x = float] => ops::relu(&x);
    op_relu6() [x = float] => ops::relu6(&x);
    op_relu_with(negative_slope: f32, max_value: Option<f32>, threshold: f32) [x = float]
        => ops::relu_with(&x, negative_slope, max_value, threshold);
    op_leaky_relu(negative_slope: f32) [x = float] => ops::leaky_relu(&x, negative_slope);
    op_elu(alpha: f32) [x = float] => ops::elu(&x, alpha);
    op_selu() [x = float] => ops::selu(&x);
    op_gelu(approximate: bool) [x = float] => ops::gelu(&x, approximate);
    op_sigmoid() [x = float] => ops::sigmoid(&x);
    op_hard_sigmoid() [x = float] => ops::hard_sigmoid(&x);
    op_hard_silu() [x = float] => ops::hard_silu(&x);
    op_tanh() [x = float] => ops::tanh(&x);
    op_softplus() [x = float] => ops::softplus(&x);
    op_softsign() [x = float] => ops::softsign(&x);
    op_silu() [x = float] => ops::silu(&x);
    op_mish() [x = float] => ops::mish(&x);
    op_log_sigmoid() [x = float] => ops::log_sigmoid(&x);
    op_celu(alpha: f32) [x = float] => ops::celu(&x, alpha);
    op_hard_tanh() [x = float] => ops::hard_tanh(&x);
    op_tanh_shrink() [x = float] => ops::tanh_shrink(&x);
    op_soft_shrink(threshold: f32) [x = float] => ops::soft_shrink(&x, threshold);
    op_hard_shrink(threshold: f32) [x = float] => ops::hard_shrink(&x, threshold);
    op_squareplus(b: f32) [x = float] => ops::squareplus(&x, b);
    op_sparse_plus() [x = float] => ops::sparse_plus(&x);
    op_sparse_sigmoid() [x = float] => ops::sparse_sigmoid(&x);
    op_threshold(threshold: f32, default_value: f32) [x = float]
        => ops::threshold(&x, threshold, default_value);
    op_softmax(axis: isize) [x = float] => ops::softmax(&x, axis);
    op_log_softmax(axis: isize) [x = float] => ops::log_softmax(&x, axis);
}

/// The generator for one draw: fixed by an explicit seed, else the next of the global
/// sequence (`ember.utils.set_random_seed`).
fn generator(seed: Option<u64>) -> Rng {
    match seed {
        Some(s) => Rng::seed_from_u64(s),
        None => crate::random::rng(),
    }
}

bind! { register_random;
    random_normal(shape: Vec<usize>, mean: f32, stddev: f32, seed: Option<u64>) [] => {
        let mut r = generator(seed);
        let v = (0..numel(&shape))
            .map(|_| mean + stddev * r.sample::<f32, _>(StandardNormal))
            .collect();
        Tensor::from_f32(v, &shape)
    };
    random_uniform(shape: Vec<usize>, minval: f32, maxval: f32, seed: Option<u64>) [] => {
        let mut r = generator(seed);
        let v = (0..numel(&shape))
            .map(|_| minval + (maxval - minval) * r.random::<f32>())
            .collect();
        Tensor::from_f32(v, &shape)
    };
    random_truncated_normal(shape: Vec<usize>, mean: f32, stddev: f32, seed: Option<u64>) [] => {
        // redraw values more than two standard deviations out (as Keras / TF)
        let mut r = generator(seed);
        let v = (0..numel(&shape))
            .map(|_| loop {
                let z: f32 = r.sample(StandardNormal);
                if z.abs() <= 2.0 {
                    break mean + stddev * z;
                }
            })
            .collect();
        Tensor::from_f32(v, &shape)
    };
    random_randint(shape: Vec<usize>, minval: i64, maxval: i64, seed: Option<u64>) [] => {
        if minval >= maxval {
            return Err(value_err!(
                "randint: minval ({minval}) must be less than maxval ({maxval})"
            ));
        }
        let mut r = generator(seed);
        let v = (0..numel(&shape)).map(|_| r.random_range(minval..maxval)).collect();
        Tensor::from_i64(v, &shape)
    };
    random_dropout(rate: f32, noise_shape: Option<Vec<usize>>, seed: Option<u64>) [x = float] => {
        dropout(&x, rate, noise_shape, seed)
    };
    random_shuffle(axis: isize, seed: Option<u64>) [x = any] => shuffle(&x, axis, seed);
}

/// Zeroes each value (or each slice of `noise_shape`, broadcast) with probability `rate`
/// and scales the rest by 1 / (1 - rate). Differentiable in `x`.
fn dropout(
    x: &Tensor,
    rate: f32,
    noise_shape: Option<Vec<usize>>,
    seed: Option<u64>,
) -> Result<Tensor> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(value_err!("dropout: rate must be in [0, 1], got {rate}"));
    }
    let shape = noise_shape.unwrap_or_else(|| x.shape().to_vec());
    let fits = crate::tensor::broadcast_shapes("dropout", &shape, x.shape())
        .is_ok_and(|s| s.as_slice() == x.shape());
    if !fits {
        return Err(value_err!(
            "dropout: noise_shape {:?} does not broadcast to the input shape {:?}",
            shape,
            x.shape()
        ));
    }
    let scale = if rate < 1.0 { 1.0 / (1.0 - rate) } else { 0.0 };
    let mut r = generator(seed);
    let mask: Vec<f32> = (0..numel(&shape))
        .map(|_| {
            if r.random::<f32>() >= rate {
                scale
            } else {
                0.0
            }
        })
        .collect();
    ops::multiply(x, &Tensor::from_f32(mask, &shape)?)
}

/// Permutes `x` along `axis` (float32 or int64); records nothing.
fn shuffle(x: &Tensor, axis: isize, seed: Option<u64>) -> Result<Tensor> {
    let ax = crate::tensor::normalize_axis("shuffle", axis, x.ndim())?;
    let n = x.shape()[ax];
    let inner: usize = x.shape()[ax + 1..].iter().product();
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut generator(seed));
    fn permute<T: Copy>(v: &[T], n: usize, inner: usize, perm: &[usize]) -> Vec<T> {
        let mut out = Vec::with_capacity(v.len());
        for block in v.chunks_exact((n * inner).max(1)) {
            for &p in perm {
                out.extend_from_slice(&block[p * inner..(p + 1) * inner]);
            }
        }
        out
    }
    Ok(match x.dtype() {
        DType::F32 => Tensor::from_f32(permute(&x.f32_data()?, n, inner, &perm), x.shape())?,
        DType::I64 => Tensor::from_i64(permute(&x.i64_data()?, n, inner, &perm), x.shape())?,
    })
}

/// The next seed of the global sequence (for `ember.random.SeedGenerator(seed=None)`).
#[pyfunction]
fn random_next_seed() -> u64 {
    crate::random::next_seed()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    register_unary(m)?;
    register_binary(m)?;
    register_activations(m)?;
    register_random(m)?;
    m.add_function(wrap_pyfunction!(random_next_seed, m)?)?;
    Ok(())
}
