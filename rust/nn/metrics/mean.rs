//! `Mean`, `Sum` and every metric that averages a per-sample function
//! (`MeanMetricWrapper`, `RootMeanSquaredError`), with Keras's sample-weight rules
//! (`reduce_to_samplewise_values`).
use super::values::Values;
use super::Metric;
use crate::error::Result;
use crate::nn::losses::{f32_values, squeeze_or_expand};
use crate::tensor::{broadcast_shapes, broadcast_strides, contiguous_strides, Tensor};
use crate::value_err;

/// How the accumulated values become the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reducer {
    /// Weighted mean (`Mean`, `MeanMetricWrapper`).
    Mean,
    /// Weighted sum (`Sum`).
    Sum,
    /// Square root of the weighted mean (`RootMeanSquaredError`).
    RootMean,
}

pub struct MeanMetric {
    name: String,
    values: Values,
    reducer: Reducer,
    total: f64,
    count: f64,
}

impl MeanMetric {
    pub fn new(name: &str, values: Values, reducer: Reducer) -> MeanMetric {
        MeanMetric {
            name: name.to_string(),
            values,
            reducer,
            total: 0.0,
            count: 0.0,
        }
    }
}

/// Reduces `x` (row-major, `shape`) over all axes from `from` on: mean or sum of each
/// trailing block.
fn reduce_trailing(x: &[f32], shape: &[usize], from: usize, mean: bool) -> Vec<f32> {
    let block: usize = shape[from..].iter().product();
    if block == 0 {
        return vec![if mean { f32::NAN } else { 0.0 }; shape[..from].iter().product()];
    }
    x.chunks(block)
        .map(|c| {
            let s: f64 = c.iter().map(|&v| v as f64).sum();
            (if mean { s / block as f64 } else { s }) as f32
        })
        .collect()
}

/// `x` (row-major, `shape`) broadcast to `target` (numpy rules, checked by the caller).
fn broadcast(x: &[f32], shape: &[usize], target: &[usize]) -> Vec<f32> {
    if shape == target {
        return x.to_vec();
    }
    let strides = broadcast_strides(shape, &contiguous_strides(shape), target);
    crate::cpu::strided::gather(x, target, &strides, 0)
}

/// Keras's `reduce_to_samplewise_values` followed by `Mean`'s accumulation: returns the sum
/// of the (weighted) per-sample values and the number (or total weight) of samples.
pub fn samplewise(
    op: &str,
    values: &Tensor,
    sample_weight: Option<&Tensor>,
    mean: bool,
) -> Result<(f64, f64)> {
    if values.numel() == 0 {
        return Err(value_err!(
            "{op}: cannot update with empty values of shape {:?}",
            values.shape()
        ));
    }
    let (mut v, mut vshape, weight) = match sample_weight {
        None => (
            f32_values(values)?.into_owned(),
            values.shape().to_vec(),
            None,
        ),
        Some(w) => {
            let (vt, wt) = squeeze_or_expand(values, w, true)?;
            let (wnd, vnd) = (wt.ndim(), vt.ndim());
            let mut v = f32_values(&vt)?.into_owned();
            let mut vshape = vt.shape().to_vec();
            if vnd > wnd {
                v = reduce_trailing(&v, &vshape, wnd, mean);
                vshape.truncate(wnd);
            }
            let fits = broadcast_shapes(op, wt.shape(), &vshape)
                .map(|s| s.as_slice() == vshape.as_slice())
                .unwrap_or(false);
            if !fits {
                return Err(value_err!(
                    "{op}: sample_weight of shape {:?} cannot be broadcast to the values of shape {:?}",
                    w.shape(),
                    values.shape()
                ));
            }
            let mut wb = broadcast(&f32_values(&wt)?, wt.shape(), &vshape);
            for (a, b) in v.iter_mut().zip(&wb) {
                *a *= b;
            }
            if wnd > 1 {
                wb = reduce_trailing(&wb, &vshape, 1, mean);
            }
            (v, vshape, Some(wb))
        }
    };
    if vshape.len() > 1 {
        v = reduce_trailing(&v, &vshape, 1, mean);
        vshape.truncate(1);
    }
    let total: f64 = v.iter().map(|&x| x as f64).sum();
    let count = match weight {
        Some(w) => w.iter().map(|&x| x as f64).sum(),
        None if vshape.is_empty() => 1.0,
        None => vshape[0] as f64,
    };
    Ok((total, count))
}

impl Metric for MeanMetric {
    fn name(&self) -> &str {
        &self.name
    }

    fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let values = self.values.compute(y_true, y_pred)?;
        let (total, count) = samplewise(
            &self.name,
            &values,
            sample_weight,
            self.reducer != Reducer::Sum,
        )?;
        self.total += total;
        self.count += count;
        Ok(())
    }

    fn result(&self) -> Result<Tensor> {
        let mean = if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        };
        Ok(Tensor::scalar(match self.reducer {
            Reducer::Sum => self.total as f32,
            Reducer::Mean => mean as f32,
            Reducer::RootMean => mean.sqrt() as f32,
        }))
    }

    fn reset(&mut self) {
        self.total = 0.0;
        self.count = 0.0;
    }
}
