//! Metrics built on confusion-matrix counts at thresholds (Keras's
//! `update_confusion_matrix_variables`): Precision, Recall, AUC, TruePositives, ... and the
//! "X at Y" metrics.
use super::Metric;
use crate::error::Result;
use crate::nn::losses::{f32_values, squeeze_or_expand, EPS};
use crate::ops;
use crate::tensor::{broadcast_shapes, broadcast_strides, contiguous_strides, Tensor};
use crate::value_err;

/// Keras's `NEG_INF`, the default threshold with `top_k`.
pub const NEG_INF: f32 = -1e10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    Roc,
    Pr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Summation {
    Interpolation,
    Minoring,
    Majoring,
}

/// What the counts are turned into.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    TruePositives,
    FalsePositives,
    TrueNegatives,
    FalseNegatives,
    Precision,
    Recall,
    Auc {
        curve: Curve,
        summation: Summation,
        label_weights: Option<Vec<f32>>,
    },
    SensitivityAtSpecificity(f32),
    SpecificityAtSensitivity(f32),
    PrecisionAtRecall(f32),
    RecallAtPrecision(f32),
}

/// Keras's `is_evenly_distributed_thresholds` (`np.allclose` to `i / (n - 1)`).
pub fn evenly_distributed(thresholds: &[f32]) -> bool {
    let n = thresholds.len();
    n >= 3
        && thresholds.iter().enumerate().all(|(i, &t)| {
            let even = i as f64 / (n - 1) as f64;
            (t as f64 - even).abs() <= EPS as f64 + 1e-5 * even.abs()
        })
}

/// `[0, 1/(n-1), ..., 1]` for `n > 1` (`[0.5]` for `n == 1`), as the "X at Y" metrics use.
pub fn linear_thresholds(n: usize) -> Vec<f32> {
    if n == 1 {
        return vec![0.5];
    }
    (0..n).map(|i| (i as f64 / (n - 1) as f64) as f32).collect()
}

/// Confusion counts at each threshold (and label, for multi-label AUC), accumulated over
/// batches with sample weights.
pub struct Confusion {
    name: String,
    output: Output,
    thresholds: Vec<f32>,
    evenly: bool,
    top_k: Option<usize>,
    class_id: Option<usize>,
    from_logits: bool,
    multi_label: bool,
    /// Number of labels: 1 unless multi-label (set by the first batch when not given).
    labels: Option<usize>,
    tp: Vec<f64>,
    fp: Vec<f64>,
    tn: Vec<f64>,
    fn_: Vec<f64>,
}

/// A batch flattened for counting: predictions, labels, optional weights (one per
/// prediction) and the number of labels per row (1 unless multi-label).
struct Batch {
    p: Vec<f32>,
    t: Vec<f32>,
    w: Option<Vec<f32>>,
    labels: usize,
}

/// Options of a confusion metric besides its output.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub top_k: Option<usize>,
    pub class_id: Option<usize>,
    pub from_logits: bool,
    pub multi_label: bool,
    pub num_labels: Option<usize>,
}

fn no_nan(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

impl Confusion {
    /// `thresholds` must be sorted ascending for AUC.
    pub fn new(name: &str, output: Output, thresholds: Vec<f32>, opts: Options) -> Confusion {
        let evenly = evenly_distributed(&thresholds)
            || (thresholds.len() >= 3
                && thresholds[0] < 0.0
                && *thresholds.last().unwrap() > 1.0
                && {
                    let inner = &thresholds[1..thresholds.len() - 1];
                    let mut all = vec![0.0];
                    all.extend_from_slice(inner);
                    all.push(1.0);
                    evenly_distributed(&all)
                });
        let labels = if opts.multi_label {
            opts.num_labels
        } else {
            Some(1)
        };
        let mut c = Confusion {
            name: name.to_string(),
            output,
            thresholds,
            evenly,
            top_k: opts.top_k,
            class_id: opts.class_id,
            from_logits: opts.from_logits,
            multi_label: opts.multi_label,
            labels,
            tp: Vec::new(),
            fp: Vec::new(),
            tn: Vec::new(),
            fn_: Vec::new(),
        };
        c.reset();
        c
    }

    pub fn thresholds(&self) -> &[f32] {
        &self.thresholds
    }

    fn size(&self) -> usize {
        self.thresholds.len() * self.labels.unwrap_or(0)
    }

    /// Predictions, labels and weights flattened over the batch, after Keras's rank
    /// alignment, `top_k` filtering and `class_id` selection.
    fn prepare(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Batch> {
        let op = self.name.as_str();
        if y_pred.numel() == 0 {
            return Err(value_err!(
                "{op}: y_pred of shape {:?} is empty",
                y_pred.shape()
            ));
        }
        let (yp, yt) = squeeze_or_expand(y_pred, y_true, true)?;
        let sw = match sample_weight {
            None => None,
            Some(w) => {
                let mut s = w.shape().to_vec();
                s.push(1);
                Some(squeeze_or_expand(&yt, &ops::reshape(w, &s)?, false)?.1)
            }
        };
        let mut shape = yp.shape().to_vec();
        let mut p = f32_values(&yp)?.into_owned();
        let mut t = f32_values(&yt)?.into_owned();
        if yt.shape() != shape.as_slice() {
            return Err(value_err!(
                "{op}: y_true of shape {:?} does not match y_pred of shape {:?}",
                y_true.shape(),
                y_pred.shape()
            ));
        }
        if self.from_logits {
            p.iter_mut()
                .for_each(|v| *v = crate::nn::losses::sigmoid(*v));
        }
        let last = *shape.last().unwrap_or(&1);
        if let Some(k) = self.top_k {
            for row in p.chunks_mut(last.max(1)) {
                let mut idx: Vec<usize> = (0..row.len()).collect();
                idx.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
                let mut keep = vec![false; row.len()];
                idx.iter().take(k).for_each(|&i| keep[i] = true);
                for (v, k) in row.iter_mut().zip(keep) {
                    if !k {
                        *v = NEG_INF;
                    }
                }
            }
        }
        let mut w = match &sw {
            None => None,
            Some(w) => {
                let fits = broadcast_shapes(op, w.shape(), &shape)
                    .map(|s| s.as_slice() == shape.as_slice())
                    .unwrap_or(false);
                if !fits {
                    return Err(value_err!(
                        "{op}: sample_weight of shape {:?} cannot be broadcast to y_pred of shape {:?}",
                        sample_weight.map(|s| s.shape().to_vec()).unwrap_or_default(),
                        y_pred.shape()
                    ));
                }
                let strides = broadcast_strides(w.shape(), &contiguous_strides(w.shape()), &shape);
                Some(crate::cpu::strided::gather(
                    &f32_values(w)?,
                    &shape,
                    &strides,
                    0,
                ))
            }
        };
        if let Some(c) = self.class_id {
            if shape.len() < 2 {
                return Err(value_err!(
                    "{op}: when class_id is provided, y_pred must be a 2D array with shape \
                     (num_samples, num_classes), found shape: {shape:?}"
                ));
            }
            if c >= last {
                return Err(value_err!(
                    "{op}: class_id {c} is out of range for y_pred with {last} classes (shape {shape:?})"
                ));
            }
            let pick = |x: &[f32]| x.iter().skip(c).step_by(last).copied().collect::<Vec<_>>();
            p = pick(&p);
            t = pick(&t);
            w = w.as_deref().map(pick);
            *shape.last_mut().unwrap() = 1;
        }
        let labels = if self.multi_label {
            if shape.len() != 2 {
                return Err(value_err!(
                    "{op}: `y_pred` must have rank 2 when `multi_label=True`. Found rank {}. \
                     Full shape received for `y_pred`: {shape:?}",
                    shape.len()
                ));
            }
            shape[1]
        } else {
            1
        };
        Ok(Batch { p, t, w, labels })
    }

    fn accumulate(&mut self, p: &[f32], t: &[f32], w: Option<&[f32]>, label_w: Option<&[f32]>) {
        let nt = self.thresholds.len();
        let nl = self.labels.unwrap_or(1);
        let weight = |e: usize| {
            let sw = w.map_or(1.0, |w| w[e]) as f64;
            let lw = label_w.map_or(1.0, |lw| lw[e % lw.len()]) as f64;
            sw * lw
        };
        if self.evenly {
            // Keras's bucket method: the bucket of p is ceil(p * (n - 1)) - 1, then reverse
            // cumulative sums give the counts of p > threshold
            let with_eps = self.thresholds[0] < 0.0 || self.thresholds[nt - 1] > 1.0;
            let mut tp_b = vec![0.0f64; nt * nl];
            let mut fp_b = vec![0.0f64; nt * nl];
            let mut pos = vec![0.0f64; nl];
            let mut neg = vec![0.0f64; nl];
            for (e, (&pe, &te)) in p.iter().zip(t).enumerate() {
                let l = e % nl;
                let wt = weight(e);
                let is_pos = te != 0.0;
                if is_pos {
                    pos[l] += wt;
                } else {
                    neg[l] += wt;
                }
                if pe.is_nan() {
                    continue;
                }
                let mut b = (pe.clamp(0.0, 1.0) * (nt - 1) as f32).ceil() as i64 - 1;
                if with_eps {
                    b = b.max(0);
                }
                if b < 0 || b as usize >= nt {
                    continue;
                }
                let slot = b as usize * nl + l;
                if is_pos {
                    tp_b[slot] += wt;
                } else {
                    fp_b[slot] += wt;
                }
            }
            for l in 0..nl {
                let (mut ctp, mut cfp) = (0.0, 0.0);
                for i in (0..nt).rev() {
                    ctp += tp_b[i * nl + l];
                    cfp += fp_b[i * nl + l];
                    self.tp[i * nl + l] += ctp;
                    self.fp[i * nl + l] += cfp;
                    self.fn_[i * nl + l] += pos[l] - ctp;
                    self.tn[i * nl + l] += neg[l] - cfp;
                }
            }
        } else {
            for (e, (&pe, &te)) in p.iter().zip(t).enumerate() {
                let l = e % nl;
                let wt = weight(e);
                let is_pos = te != 0.0;
                for (i, &thr) in self.thresholds.iter().enumerate() {
                    let slot = i * nl + l;
                    match (is_pos, pe > thr) {
                        (true, true) => self.tp[slot] += wt,
                        (true, false) => self.fn_[slot] += wt,
                        (false, true) => self.fp[slot] += wt,
                        (false, false) => self.tn[slot] += wt,
                    }
                }
            }
        }
    }

    fn ratio(a: &[f64], b: &[f64]) -> Vec<f64> {
        a.iter().zip(b).map(|(&x, &y)| no_nan(x, x + y)).collect()
    }

    /// One value per threshold, as a scalar when there is a single threshold.
    fn per_threshold(v: Vec<f64>) -> Result<Tensor> {
        let v: Vec<f32> = v.into_iter().map(|x| x as f32).collect();
        if v.len() == 1 {
            Ok(Tensor::scalar(v[0]))
        } else {
            let n = v.len();
            Tensor::from_f32(v, &[n])
        }
    }

    /// Keras's `AUC.result()` for label `l` (counts at stride `nl`).
    fn auc_of(&self, l: usize, curve: Curve, summation: Summation) -> f64 {
        let nl = self.labels.unwrap_or(1);
        let nt = self.thresholds.len();
        let at = |v: &[f64], i: usize| v[i * nl + l];
        if curve == Curve::Pr && summation == Summation::Interpolation {
            // Davis & Goadrich interpolation of the PR curve
            let mut auc = 0.0;
            for i in 0..nt - 1 {
                let dtp = at(&self.tp, i) - at(&self.tp, i + 1);
                let p0 = at(&self.tp, i) + at(&self.fp, i);
                let p1 = at(&self.tp, i + 1) + at(&self.fp, i + 1);
                let dp = p0 - p1;
                let slope = no_nan(dtp, dp.max(0.0));
                let intercept = at(&self.tp, i + 1) - slope * p1;
                let ratio = if p0 > 0.0 && p1 > 0.0 {
                    no_nan(p0, p1.max(0.0))
                } else {
                    1.0
                };
                auc += no_nan(
                    slope * (dtp + intercept * ratio.ln()),
                    (at(&self.tp, i + 1) + at(&self.fn_, i + 1)).max(0.0),
                );
            }
            return auc;
        }
        let point = |i: usize| -> (f64, f64) {
            let recall = no_nan(at(&self.tp, i), at(&self.tp, i) + at(&self.fn_, i));
            match curve {
                Curve::Roc => (
                    no_nan(at(&self.fp, i), at(&self.fp, i) + at(&self.tn, i)),
                    recall,
                ),
                Curve::Pr => (
                    recall,
                    no_nan(at(&self.tp, i), at(&self.tp, i) + at(&self.fp, i)),
                ),
            }
        };
        (0..nt - 1)
            .map(|i| {
                let ((x0, y0), (x1, y1)) = (point(i), point(i + 1));
                let h = match summation {
                    Summation::Interpolation => (y0 + y1) / 2.0,
                    Summation::Minoring => y0.min(y1),
                    Summation::Majoring => y0.max(y1),
                };
                (x0 - x1) * h
            })
            .sum()
    }

    /// The best `dependent` value over thresholds where `constrained >= value` (0 if none).
    fn max_under(constrained: &[f64], dependent: &[f64], value: f32) -> f64 {
        constrained
            .iter()
            .zip(dependent)
            .filter(|(&c, _)| c >= value as f64)
            .map(|(_, &d)| d)
            .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))))
            .map_or(0.0, |m| m.max(0.0))
    }
}

impl Metric for Confusion {
    fn name(&self) -> &str {
        &self.name
    }

    fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let Batch { p, t, w, labels } = self.prepare(y_true, y_pred, sample_weight)?;
        match self.labels {
            None => {
                self.labels = Some(labels);
                self.reset();
            }
            Some(n) if n != labels => {
                return Err(value_err!(
                    "{}: y_pred has {labels} labels but the metric was built for {n}",
                    self.name
                ))
            }
            _ => {}
        }
        let label_w = match &self.output {
            Output::Auc {
                label_weights: Some(lw),
                ..
            } if !self.multi_label => {
                let last = *y_pred.shape().last().unwrap_or(&1);
                if lw.len() != last {
                    return Err(value_err!(
                        "{}: label_weights has {} values but y_pred has {last} labels",
                        self.name,
                        lw.len()
                    ));
                }
                Some(lw.clone())
            }
            _ => None,
        };
        self.accumulate(&p, &t, w.as_deref(), label_w.as_deref());
        Ok(())
    }

    fn result(&self) -> Result<Tensor> {
        let sens = || Self::ratio(&self.tp, &self.fn_);
        let spec = || Self::ratio(&self.tn, &self.fp);
        let prec = || Self::ratio(&self.tp, &self.fp);
        match &self.output {
            Output::TruePositives => Self::per_threshold(self.tp.clone()),
            Output::FalsePositives => Self::per_threshold(self.fp.clone()),
            Output::TrueNegatives => Self::per_threshold(self.tn.clone()),
            Output::FalseNegatives => Self::per_threshold(self.fn_.clone()),
            Output::Precision => Self::per_threshold(prec()),
            Output::Recall => Self::per_threshold(sens()),
            Output::SensitivityAtSpecificity(v) => {
                Ok(Tensor::scalar(Self::max_under(&spec(), &sens(), *v) as f32))
            }
            Output::SpecificityAtSensitivity(v) => {
                Ok(Tensor::scalar(Self::max_under(&sens(), &spec(), *v) as f32))
            }
            Output::PrecisionAtRecall(v) => {
                Ok(Tensor::scalar(Self::max_under(&sens(), &prec(), *v) as f32))
            }
            Output::RecallAtPrecision(v) => {
                Ok(Tensor::scalar(Self::max_under(&prec(), &sens(), *v) as f32))
            }
            Output::Auc {
                curve,
                summation,
                label_weights,
            } => {
                let Some(nl) = self.labels else {
                    return Ok(Tensor::scalar(0.0));
                };
                let per: Vec<f64> = (0..nl)
                    .map(|l| self.auc_of(l, *curve, *summation))
                    .collect();
                let v = match (self.multi_label, label_weights) {
                    (true, Some(lw)) => no_nan(
                        per.iter().zip(lw).map(|(a, &w)| a * w as f64).sum(),
                        lw.iter().map(|&w| w as f64).sum(),
                    ),
                    _ => per.iter().sum::<f64>() / nl as f64,
                };
                Ok(Tensor::scalar(v as f32))
            }
        }
    }

    fn reset(&mut self) {
        let n = self.size();
        for v in [&mut self.tp, &mut self.fp, &mut self.tn, &mut self.fn_] {
            v.clear();
            v.resize(n, 0.0);
        }
    }
}
