//! Weight constraints (Keras `MaxNorm`, `NonNeg`, `UnitNorm`, `MinMaxNorm`): projections
//! applied to a variable after each optimizer step. Norms are taken over `axis` (Keras's
//! default 0: per output unit of a Dense kernel) and `epsilon` is Keras's 1e-7.
use crate::autograd::Variable;
use crate::cpu::elementwise::{broadcast_map, map};
use crate::cpu::reduce::sum_axes;
use crate::error::Result;
use crate::ops::reduced_shape;
use crate::tensor::{normalize_axes, Tensor};
use crate::value_err;

/// `backend.epsilon()` of Keras.
pub const EPSILON: f32 = 1e-7;

#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// `w * clip(norm, 0, max_value) / (eps + norm)`.
    MaxNorm { max_value: f32, axis: Vec<isize> },
    /// `max(w, 0)`.
    NonNeg,
    /// `w / (eps + norm)`.
    UnitNorm { axis: Vec<isize> },
    /// `w * (rate * clip(norm, min, max) + (1 - rate) * norm) / (eps + norm)`.
    MinMaxNorm {
        min_value: f32,
        max_value: f32,
        rate: f32,
        axis: Vec<isize>,
    },
}

impl Constraint {
    pub fn max_norm(max_value: f32, axis: Vec<isize>) -> Constraint {
        Constraint::MaxNorm { max_value, axis }
    }

    pub fn non_neg() -> Constraint {
        Constraint::NonNeg
    }

    pub fn unit_norm(axis: Vec<isize>) -> Constraint {
        Constraint::UnitNorm { axis }
    }

    pub fn min_max_norm(min_value: f32, max_value: f32, rate: f32, axis: Vec<isize>) -> Constraint {
        Constraint::MinMaxNorm {
            min_value,
            max_value,
            rate,
            axis,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Constraint::MaxNorm { .. } => "MaxNorm",
            Constraint::NonNeg => "NonNeg",
            Constraint::UnitNorm { .. } => "UnitNorm",
            Constraint::MinMaxNorm { .. } => "MinMaxNorm",
        }
    }

    /// The projection of `w` (a new tensor, not recorded).
    pub fn project(&self, w: &Tensor) -> Result<Tensor> {
        w.expect_f32(self.name())?;
        match self {
            Constraint::NonNeg => Tensor::from_f32(map(&w.f32_data()?, |v| v.max(0.0)), w.shape()),
            Constraint::MaxNorm { max_value, axis } => {
                let m = *max_value;
                scale_by_norm(self.name(), w, axis, |n| n.clamp(0.0, m))
            }
            Constraint::UnitNorm { axis } => scale_by_norm(self.name(), w, axis, |_| 1.0),
            Constraint::MinMaxNorm {
                min_value,
                max_value,
                rate,
                axis,
            } => {
                let (lo, hi, r) = (*min_value, *max_value, *rate);
                scale_by_norm(self.name(), w, axis, |n| {
                    r * n.max(lo).min(hi) + (1.0 - r) * n
                })
            }
        }
    }

    /// Projects the variable's value onto the constraint, in place.
    pub fn apply(&self, v: &Variable) -> Result<()> {
        let projected = self.project(&v.data())?;
        v.assign(&projected)
    }
}

/// `w * desired(norm) / (eps + norm)` with `norm` the L2 norm of `w` over `axis`.
fn scale_by_norm(
    op: &str,
    w: &Tensor,
    axis: &[isize],
    desired: impl Fn(f32) -> f32 + Sync + Send,
) -> Result<Tensor> {
    if w.ndim() == 0 {
        return Err(value_err!(
            "{op}: cannot take norms of a scalar weight (shape [])"
        ));
    }
    let axes = normalize_axes(op, Some(axis), w.ndim()).map_err(|_| {
        value_err!(
            "{op}: axis {axis:?} is out of range for a weight of shape {:?}",
            w.shape()
        )
    })?;
    let mask: Vec<bool> = (0..w.ndim()).map(|d| axes.contains(&d)).collect();
    let data = w.f32_data()?;
    let squares = map(&data, |v| v * v);
    let factors = map(&sum_axes(&squares, w.shape(), &mask), |s| {
        let n = s.sqrt();
        desired(n) / (EPSILON + n)
    });
    let factors = Tensor::from_f32(factors, &reduced_shape(w.shape(), &axes, true))?;
    Tensor::from_f32(
        broadcast_map(w, &factors, w.shape(), |v, f| v * f),
        w.shape(),
    )
}
