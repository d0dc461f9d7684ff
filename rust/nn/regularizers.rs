//! Weight and activity penalties (Keras `L1`, `L2`, `L1L2`):
//! `l1 * sum(|x|) + l2 * sum(x^2)`, computed in one pass and recorded as one op.
use crate::autograd::record;
use crate::cpu::elementwise::map;
use crate::cpu::pool::{self, PAR_MIN_ELEMS};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;
use pulp::Arch;
use rayon::prelude::*;

/// An elastic-net penalty; `L1(a)` is `{l1: a, l2: 0}`, `L2(b)` is `{l1: 0, l2: b}`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regularizer {
    pub l1: f32,
    pub l2: f32,
}

impl Regularizer {
    /// Both factors must be finite and non-negative (Keras `validate_float_arg`).
    pub fn new(l1: f32, l2: f32) -> Result<Regularizer> {
        for (name, v) in [("l1", l1), ("l2", l2)] {
            if !v.is_finite() || v < 0.0 {
                return Err(value_err!(
                    "Invalid value for argument {name}: expected a non-negative float. Received: {name}={v}"
                ));
            }
        }
        Ok(Regularizer { l1, l2 })
    }

    pub fn l1(l1: f32) -> Result<Regularizer> {
        Regularizer::new(l1, 0.0)
    }

    pub fn l2(l2: f32) -> Result<Regularizer> {
        Regularizer::new(0.0, l2)
    }

    pub fn l1_l2(l1: f32, l2: f32) -> Result<Regularizer> {
        Regularizer::new(l1, l2)
    }

    /// The penalty of `x` as a scalar tensor (differentiable).
    pub fn penalty(&self, x: &Tensor) -> Result<Tensor> {
        penalty(x, self.l1, self.l2)
    }
}

/// `(sum |x|, sum x^2)` with 16 independent accumulators per chunk, chunks in parallel.
fn abs_and_square_sums(x: &[f32]) -> (f32, f32) {
    let chunk = |c: &[f32]| -> (f32, f32) {
        Arch::new().dispatch(
            #[inline(always)]
            || {
                let (mut a, mut s) = ([0.0f32; 16], [0.0f32; 16]);
                let mut it = c.chunks_exact(16);
                for v in &mut it {
                    for i in 0..16 {
                        a[i] += v[i].abs();
                        s[i] += v[i] * v[i];
                    }
                }
                let (mut ra, mut rs) = (a.iter().sum::<f32>(), s.iter().sum::<f32>());
                for &v in it.remainder() {
                    ra += v.abs();
                    rs += v * v;
                }
                (ra, rs)
            },
        )
    };
    if x.len() < PAR_MIN_ELEMS {
        return chunk(x);
    }
    pool::install(|| {
        x.par_chunks(1 << 14)
            .map(chunk)
            .reduce(|| (0.0, 0.0), |p, q| (p.0 + q.0, p.1 + q.1))
    })
}

/// `l1 * sum(|x|) + l2 * sum(x^2)` as a scalar; the gradient is
/// `g * (l1 * sign(x) + 2 * l2 * x)` (sign(0) = 0, as the gradient of `abs`).
pub fn penalty(x: &Tensor, l1: f32, l2: f32) -> Result<Tensor> {
    x.expect_f32("regularizer")?;
    let data = x.f32_data()?;
    let (sa, ss) = abs_and_square_sums(&data);
    let mut v = 0.0;
    if l1 != 0.0 {
        v += l1 * sa;
    }
    if l2 != 0.0 {
        v += l2 * ss;
    }
    let out = Tensor::scalar(v);
    Ok(record("regularizer", &[x], out, || {
        let x = x.detach();
        move |g: &Tensor| {
            let g = g.item()?;
            let (a, b) = (g * l1, 2.0 * g * l2);
            let d = map(&x.f32_data()?, |v| {
                let s = if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                a * s + b * v
            });
            Ok(vec![Some(Tensor::from_f32(d, x.shape())?)])
        }
    }))
}
