//! `Normalization`: `(x - mean) / max(sqrt(variance), epsilon)`, or its inverse.
use super::super::{incompatible, single_input};
use super::label;
use crate::autograd::Variable;
use crate::cpu::elementwise::map;
use crate::error::Result;
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;

/// Where the statistics live: the weights `adapt()` fills, or constants given up front.
enum Stats {
    Adapted {
        mean: Variable,
        variance: Variable,
        count: Variable,
    },
    /// `(mean, variance)`
    Fixed(Box<(Tensor, Tensor)>),
}

/// `keras.layers.Normalization(axis=-1, mean=None, variance=None, invert=False)`. The
/// statistics have the kept axes' sizes and broadcast over `shape` (the input rank, 1 on
/// the reduced axes). With `invert`, computes `mean + x * max(sqrt(variance), epsilon)`.
pub struct Normalization {
    name: String,
    stats: Stats,
    shape: Vec<usize>,
    invert: bool,
    epsilon: f32,
}

impl Normalization {
    /// Normalization by the `mean` and `variance` weights (Keras's `adapt` case; `count`
    /// is kept for Keras's weight list only).
    pub fn adapted(
        name: &str,
        mean: Variable,
        variance: Variable,
        count: Variable,
        shape: Vec<usize>,
        invert: bool,
        epsilon: f32,
    ) -> Result<Normalization> {
        let n: usize = shape.iter().product();
        let numel = |v: &Variable| v.shape().iter().product::<usize>();
        if numel(&mean) != n || numel(&variance) != n {
            return Err(value_err!(
                "{}: mean {:?} and variance {:?} do not fit the broadcast shape {shape:?}",
                label("Normalization", name),
                mean.shape(),
                variance.shape()
            ));
        }
        let stats = Stats::Adapted {
            mean,
            variance,
            count,
        };
        Ok(Normalization {
            name: name.to_string(),
            stats,
            shape,
            invert,
            epsilon,
        })
    }

    /// Normalization by constant statistics, both already of the broadcast shape.
    pub fn fixed(
        name: &str,
        mean: Tensor,
        variance: Tensor,
        invert: bool,
        epsilon: f32,
    ) -> Result<Normalization> {
        let who = label("Normalization", name);
        mean.expect_f32(&who)?;
        variance.expect_f32(&who)?;
        if mean.shape() != variance.shape() {
            return Err(value_err!(
                "{who}: `mean` and `variance` must have the same shape. Received: mean shape {:?} and variance shape {:?}",
                mean.shape(),
                variance.shape()
            ));
        }
        Ok(Normalization {
            name: name.to_string(),
            shape: mean.shape().to_vec(),
            stats: Stats::Fixed(Box::new((mean.detach(), variance.detach()))),
            invert,
            epsilon,
        })
    }
}

impl Layer for Normalization {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let x = single_input(&self.name, inputs)?;
        x.expect_f32(&label("Normalization", &self.name))?;
        let fits = x.ndim() == self.shape.len()
            && x.shape()
                .iter()
                .zip(&self.shape)
                .all(|(&d, &s)| s == 1 || d == s);
        if !fits {
            return Err(incompatible(
                &self.name,
                format!(
                    "rank {} with the normalized axes of sizes {:?} (1: reduced)",
                    self.shape.len(),
                    self.shape
                ),
                x.shape(),
            ));
        }
        let (mean, variance) = match &self.stats {
            Stats::Adapted { mean, variance, .. } => (
                ops::reshape(&mean.data(), &self.shape)?,
                ops::reshape(&variance.data(), &self.shape)?,
            ),
            Stats::Fixed(stats) => stats.as_ref().clone(),
        };
        let eps = self.epsilon;
        let std = map(&variance.f32_data()?, |v| v.sqrt().max(eps));
        let std = Tensor::from_f32(std, &self.shape)?;
        let y = if self.invert {
            ops::add(&mean, &ops::multiply(x, &std)?)?
        } else {
            ops::divide(&ops::subtract(x, &mean)?, &std)?
        };
        Ok(vec![y])
    }

    fn variables(&self) -> Vec<crate::Variable> {
        match &self.stats {
            Stats::Adapted {
                mean,
                variance,
                count,
            } => vec![mean.clone(), variance.clone(), count.clone()],
            Stats::Fixed(_) => Vec::new(),
        }
    }
}
