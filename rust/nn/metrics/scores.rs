//! Per-class score metrics over 2-D inputs: `FBetaScore`/`F1Score` and `R2Score`.
use super::Metric;
use crate::error::Result;
use crate::nn::losses::{f32_values, squeeze_or_expand, EPS};
use crate::tensor::Tensor;
use crate::value_err;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Average {
    None,
    Micro,
    Macro,
    Weighted,
}

/// Checks 2-D inputs of matching shapes; returns the number of columns.
fn columns(op: &str, y_true: &Tensor, y_pred: &Tensor) -> Result<usize> {
    if y_pred.ndim() != 2 || y_true.ndim() != 2 {
        return Err(value_err!(
            "{op} expects 2D inputs with shape (batch_size, output_dim). Received input shapes: \
             y_pred.shape={:?} and y_true.shape={:?}.",
            y_pred.shape(),
            y_true.shape()
        ));
    }
    if y_true.shape() != y_pred.shape() {
        return Err(value_err!(
            "{op}: y_true of shape {:?} does not match y_pred of shape {:?}",
            y_true.shape(),
            y_pred.shape()
        ));
    }
    Ok(y_pred.shape()[1])
}

/// Per-row weights from a sample_weight of shape (), (batch,) or (batch, 1).
fn row_weights(op: &str, w: Option<&Tensor>, rows: usize) -> Result<Vec<f32>> {
    let Some(w) = w else {
        return Ok(vec![1.0; rows]);
    };
    let d = f32_values(w)?;
    match (w.shape(), d.len()) {
        (_, 1) => Ok(vec![d[0]; rows]),
        ([n], _) | ([n, 1], _) if *n == rows => Ok(d.into_owned()),
        _ => Err(value_err!(
            "{op}: sample_weight of shape {:?} does not match a batch of {rows} rows",
            w.shape()
        )),
    }
}

/// Checks that a new batch has as many columns as the state was built with.
fn check_columns(op: &str, state: &mut Vec<f64>, per: usize, cols: usize) -> Result<()> {
    if state.is_empty() {
        state.resize(per, 0.0);
    } else if state.len() != per {
        return Err(value_err!(
            "{op}: y_pred has {cols} columns but the metric was built for {}",
            state.len()
        ));
    }
    Ok(())
}

/// F-beta score from true/false positive and false negative counts per class.
pub struct FBeta {
    name: String,
    average: Average,
    beta: f32,
    threshold: Option<f32>,
    /// tp, fp, fn, support per class (one slot for micro averaging).
    tp: Vec<f64>,
    fp: Vec<f64>,
    fn_: Vec<f64>,
    support: Vec<f64>,
}

impl FBeta {
    pub fn new(name: &str, average: Average, beta: f32, threshold: Option<f32>) -> FBeta {
        FBeta {
            name: name.to_string(),
            average,
            beta,
            threshold,
            tp: Vec::new(),
            fp: Vec::new(),
            fn_: Vec::new(),
            support: Vec::new(),
        }
    }
}

impl Metric for FBeta {
    fn name(&self) -> &str {
        &self.name
    }

    fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let cols = columns(&self.name, y_true, y_pred)?;
        let rows = y_pred.shape()[0];
        let w = row_weights(&self.name, sample_weight, rows)?;
        let per = if self.average == Average::Micro {
            1
        } else {
            cols
        };
        for v in [&mut self.tp, &mut self.fp, &mut self.fn_] {
            check_columns(&self.name, v, per, cols)?;
        }
        check_columns(&self.name, &mut self.support, per, cols)?;
        let (t, p) = (f32_values(y_true)?, f32_values(y_pred)?);
        for r in 0..rows.min(w.len()) {
            let (tr, pr) = (&t[r * cols..(r + 1) * cols], &p[r * cols..(r + 1) * cols]);
            let max = pr.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            for j in 0..cols {
                let pred = match self.threshold {
                    Some(th) => pr[j] > th,
                    None => pr[j] >= max && pr[j].abs() > 1e-9,
                };
                let (pv, tv, wr) = (pred as u8 as f64, tr[j] as f64, w[r] as f64);
                let slot = if per == 1 { 0 } else { j };
                self.tp[slot] += pv * tv * wr;
                self.fp[slot] += pv * (1.0 - tv) * wr;
                self.fn_[slot] += (1.0 - pv) * tv * wr;
                self.support[slot] += tv * wr;
            }
        }
        Ok(())
    }

    fn result(&self) -> Result<Tensor> {
        let eps = EPS as f64;
        let b2 = (self.beta as f64).powi(2);
        let f: Vec<f64> = (0..self.tp.len())
            .map(|j| {
                let precision = self.tp[j] / (self.tp[j] + self.fp[j] + eps);
                let recall = self.tp[j] / (self.tp[j] + self.fn_[j] + eps);
                precision * recall / (b2 * precision + recall + eps) * (1.0 + b2)
            })
            .collect();
        if f.is_empty() {
            return Ok(Tensor::scalar(0.0));
        }
        let v = match self.average {
            Average::None => {
                let n = f.len();
                return Tensor::from_f32(f.into_iter().map(|x| x as f32).collect(), &[n]);
            }
            Average::Micro | Average::Macro => f.iter().sum::<f64>() / f.len() as f64,
            Average::Weighted => {
                let total: f64 = self.support.iter().sum::<f64>() + eps;
                f.iter()
                    .zip(&self.support)
                    .map(|(a, s)| a * s / total)
                    .sum()
            }
        };
        Ok(Tensor::scalar(v as f32))
    }

    fn reset(&mut self) {
        for v in [&mut self.tp, &mut self.fp, &mut self.fn_, &mut self.support] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    None,
    UniformAverage,
    VarianceWeightedAverage,
}

/// Coefficient of determination, per output column, optionally adjusted.
pub struct R2 {
    name: String,
    aggregation: Aggregation,
    num_regressors: usize,
    sum: Vec<f64>,
    squared_sum: Vec<f64>,
    residual: Vec<f64>,
    count: Vec<f64>,
    num_samples: f64,
}

impl R2 {
    pub fn new(name: &str, aggregation: Aggregation, num_regressors: usize) -> R2 {
        R2 {
            name: name.to_string(),
            aggregation,
            num_regressors,
            sum: Vec::new(),
            squared_sum: Vec::new(),
            residual: Vec::new(),
            count: Vec::new(),
            num_samples: 0.0,
        }
    }
}

impl Metric for R2 {
    fn name(&self) -> &str {
        &self.name
    }

    fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let (yt, yp) = squeeze_or_expand(y_true, y_pred, true)?;
        let cols = columns(&self.name, &yt, &yp)?;
        let rows = yp.shape()[0];
        for v in [&mut self.sum, &mut self.squared_sum, &mut self.residual] {
            check_columns(&self.name, v, cols, cols)?;
        }
        check_columns(&self.name, &mut self.count, cols, cols)?;
        // weights of shape (), (batch,), (batch, 1) or (batch, cols)
        let w: Vec<f32> = match sample_weight {
            Some(w) if w.shape() == yt.shape() => f32_values(w)?.into_owned(),
            other => row_weights(&self.name, other, rows)?
                .into_iter()
                .flat_map(|x| std::iter::repeat(x).take(cols))
                .collect(),
        };
        let (t, p) = (f32_values(&yt)?, f32_values(&yp)?);
        for (e, ((&tv, &pv), &wv)) in t.iter().zip(p.iter()).zip(&w).enumerate() {
            let (tv, pv, wv, j) = (tv as f64, pv as f64, wv as f64, e % cols);
            self.sum[j] += tv * wv;
            self.squared_sum[j] += tv * tv * wv;
            self.residual[j] += (tv - pv) * (tv - pv) * wv;
            self.count[j] += wv;
        }
        self.num_samples += yt.numel() as f64;
        Ok(())
    }

    fn result(&self) -> Result<Tensor> {
        let cols = self.sum.len();
        if cols == 0 {
            return Ok(Tensor::scalar(0.0));
        }
        let totals: Vec<f64> = (0..cols)
            .map(|j| self.squared_sum[j] - self.sum[j] * (self.sum[j] / self.count[j]))
            .collect();
        let raw: Vec<f64> = (0..cols)
            .map(|j| {
                let r = 1.0 - self.residual[j] / totals[j];
                if r.is_infinite() {
                    0.0
                } else {
                    r
                }
            })
            .collect();
        let score = match self.aggregation {
            Aggregation::None => {
                return Tensor::from_f32(raw.into_iter().map(|x| x as f32).collect(), &[cols]);
            }
            Aggregation::UniformAverage => raw.iter().sum::<f64>() / cols as f64,
            Aggregation::VarianceWeightedAverage => {
                raw.iter().zip(&totals).map(|(r, t)| r * t).sum::<f64>()
                    / totals.iter().sum::<f64>()
            }
        };
        let (n, p) = (self.num_samples, self.num_regressors as f64);
        // the adjusted score needs more samples than regressors + 1 (else Keras falls back)
        let score = if p != 0.0 && p < n - 1.0 {
            1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        } else {
            score
        };
        Ok(Tensor::scalar(score as f32))
    }

    fn reset(&mut self) {
        for v in [
            &mut self.sum,
            &mut self.squared_sum,
            &mut self.residual,
            &mut self.count,
        ] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
        self.num_samples = 0.0;
    }
}
