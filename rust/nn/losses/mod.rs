//! Losses with Keras 3's semantics and reductions.
//!
//! Every built-in loss is one `Kind` computed by one fused kernel (`kernel::lane_loss`):
//! the per-sample values and their gradient with respect to `y_pred` come out of a single
//! pass. `compute` applies sample weights and the reduction, as `keras.losses.Loss.__call__`.
mod config;
mod functions;
mod kernel;
mod reduction;

pub use config::{Args, Config, Param};
pub use functions::{sigmoid, EPS};
pub use reduction::{reduce_weighted, squeeze_or_expand};

pub(crate) use kernel::f32_values;

use crate::error::Result;
use crate::ops;
use crate::tensor::{normalize_axis, DType, Tensor};
use crate::value_err;
use functions::elem;
use kernel::{lane_loss, Lanes};

/// How per-sample losses become the scalar that is minimised (Keras names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Weighted sum divided by the number of loss values (Keras's default).
    SumOverBatchSize,
    Sum,
    /// Per-sample values are returned.
    None,
    /// The same as `SumOverBatchSize` (Keras 3 names both).
    Mean,
    /// Weighted sum divided by the sum of the sample weights.
    MeanWithSampleWeight,
}

impl Reduction {
    /// Parses Keras's names ("sum_over_batch_size", "sum", "none", "mean",
    /// "mean_with_sample_weight"); `None` from Python arrives as "none".
    pub fn parse(s: &str) -> Result<Reduction> {
        Ok(match s {
            "sum_over_batch_size" => Reduction::SumOverBatchSize,
            "sum" => Reduction::Sum,
            "none" => Reduction::None,
            "mean" => Reduction::Mean,
            "mean_with_sample_weight" => Reduction::MeanWithSampleWeight,
            other => {
                return Err(value_err!(
                    "Invalid value for argument `reduction`. Expected one of \
                     'sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none' or None. \
                     Received: reduction={other:?}"
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Reduction::SumOverBatchSize => "sum_over_batch_size",
            Reduction::Sum => "sum",
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::MeanWithSampleWeight => "mean_with_sample_weight",
        }
    }
}

pub trait Loss: Send + Sync {
    fn name(&self) -> &str;
    /// Per-sample loss values (the loss function reduced over the last axis, as in Keras).
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    fn reduction(&self) -> Reduction;

    /// Per-sample values and, for losses that ignore some samples (sparse categorical
    /// crossentropy with `ignore_class`), the mask of the samples that count (1/0).
    fn call_masked(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        Ok((self.call(y_true, y_pred)?, None))
    }
}

/// The loss applied to a batch: per-sample values, sample weights (broadcast as Keras
/// does), then the loss's reduction. A scalar unless the reduction is `None`.
pub fn compute(
    loss: &dyn Loss,
    y_true: &Tensor,
    y_pred: &Tensor,
    sample_weight: Option<&Tensor>,
) -> Result<Tensor> {
    compute_masked(loss, y_true, y_pred, sample_weight, None)
}

/// `compute` for a `y_pred` that carries a Keras mask (shaped like its leading axes):
/// as `keras.losses.Loss.__call__`, the mask (and'ed with the loss's own) weighs the
/// per-sample values, and the mean reductions divide by the number of unmasked values.
pub fn compute_masked(
    loss: &dyn Loss,
    y_true: &Tensor,
    y_pred: &Tensor,
    sample_weight: Option<&Tensor>,
    pred_mask: Option<&Tensor>,
) -> Result<Tensor> {
    let (values, mask) = loss.call_masked(y_true, y_pred)?;
    let mask = match (pred_mask, mask) {
        (Some(p), Some(m)) => Some(ops::multiply(&p.detach(), &m)?),
        (Some(p), None) => Some(p.detach()),
        (None, m) => m,
    };
    reduce_weighted(&values, sample_weight, mask.as_ref(), loss.reduction())
}

/// A built-in loss function and its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber {
        delta: f32,
    },
    LogCosh,
    Poisson,
    KLDivergence,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    CosineSimilarity {
        axis: isize,
    },
    BinaryCrossentropy {
        from_logits: bool,
        label_smoothing: f32,
        axis: isize,
    },
    BinaryFocalCrossentropy {
        apply_class_balancing: bool,
        alpha: f32,
        gamma: f32,
        from_logits: bool,
        label_smoothing: f32,
        axis: isize,
    },
    CategoricalCrossentropy {
        from_logits: bool,
        label_smoothing: f32,
        axis: isize,
    },
    CategoricalFocalCrossentropy {
        /// One weight for all classes, or one per class.
        alpha: Vec<f32>,
        gamma: f32,
        from_logits: bool,
        label_smoothing: f32,
        axis: isize,
    },
    SparseCategoricalCrossentropy {
        from_logits: bool,
        ignore_class: Option<i64>,
        axis: isize,
    },
}

/// Keras class names of the built-in losses, with their function names.
pub const CLASSES: &[(&str, &str)] = &[
    ("MeanSquaredError", "mean_squared_error"),
    ("MeanAbsoluteError", "mean_absolute_error"),
    (
        "MeanAbsolutePercentageError",
        "mean_absolute_percentage_error",
    ),
    (
        "MeanSquaredLogarithmicError",
        "mean_squared_logarithmic_error",
    ),
    ("Huber", "huber"),
    ("LogCosh", "log_cosh"),
    ("Poisson", "poisson"),
    ("KLDivergence", "kl_divergence"),
    ("Hinge", "hinge"),
    ("SquaredHinge", "squared_hinge"),
    ("CategoricalHinge", "categorical_hinge"),
    ("CosineSimilarity", "cosine_similarity"),
    ("BinaryCrossentropy", "binary_crossentropy"),
    ("BinaryFocalCrossentropy", "binary_focal_crossentropy"),
    ("CategoricalCrossentropy", "categorical_crossentropy"),
    (
        "CategoricalFocalCrossentropy",
        "categorical_focal_crossentropy",
    ),
    (
        "SparseCategoricalCrossentropy",
        "sparse_categorical_crossentropy",
    ),
];

/// Keras's short aliases of loss functions.
const ALIASES: &[(&str, &str)] = &[
    ("mse", "mean_squared_error"),
    ("MSE", "mean_squared_error"),
    ("mae", "mean_absolute_error"),
    ("MAE", "mean_absolute_error"),
    ("mape", "mean_absolute_percentage_error"),
    ("MAPE", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"),
    ("MSLE", "mean_squared_logarithmic_error"),
    ("kld", "kl_divergence"),
    ("KLD", "kl_divergence"),
    ("kullback_leibler_divergence", "kl_divergence"),
    ("bce", "binary_crossentropy"),
    ("BCE", "binary_crossentropy"),
    ("logcosh", "log_cosh"),
    ("huber_loss", "huber"),
];

/// The Keras class name for a loss identifier: a class name, a function name or an alias.
pub fn class_name(identifier: &str) -> Option<&'static str> {
    let f = ALIASES
        .iter()
        .find(|(a, _)| *a == identifier)
        .map_or(identifier, |(_, f)| f);
    CLASSES
        .iter()
        .find(|(c, n)| *c == f || *n == f)
        .map(|(c, _)| *c)
}

impl Kind {
    /// The Keras class name (`"BinaryCrossentropy"`).
    pub fn class_name(&self) -> &'static str {
        CLASSES[self.index()].0
    }

    /// The Keras function name (`"binary_crossentropy"`), also the default loss name.
    pub fn function_name(&self) -> &'static str {
        CLASSES[self.index()].1
    }

    fn index(&self) -> usize {
        match self {
            Kind::MeanSquaredError => 0,
            Kind::MeanAbsoluteError => 1,
            Kind::MeanAbsolutePercentageError => 2,
            Kind::MeanSquaredLogarithmicError => 3,
            Kind::Huber { .. } => 4,
            Kind::LogCosh => 5,
            Kind::Poisson => 6,
            Kind::KLDivergence => 7,
            Kind::Hinge => 8,
            Kind::SquaredHinge => 9,
            Kind::CategoricalHinge => 10,
            Kind::CosineSimilarity { .. } => 11,
            Kind::BinaryCrossentropy { .. } => 12,
            Kind::BinaryFocalCrossentropy { .. } => 13,
            Kind::CategoricalCrossentropy { .. } => 14,
            Kind::CategoricalFocalCrossentropy { .. } => 15,
            Kind::SparseCategoricalCrossentropy { .. } => 16,
        }
    }

    /// Builds a kind from a loss identifier (class name, function name or alias) and the
    /// loss's arguments. `extra` names keys the caller handles itself (name, reduction...).
    pub fn from_config(identifier: &str, config: &Config, extra: &[&str]) -> Result<Kind> {
        let cls = class_name(identifier).ok_or_else(|| {
            value_err!(
                "Could not interpret loss identifier: {identifier:?} (known losses: {})",
                CLASSES
                    .iter()
                    .map(|(c, f)| format!("{c}/{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let own: &[&str] = match cls {
            "Huber" => &["delta"],
            "CosineSimilarity" => &["axis"],
            "BinaryCrossentropy" | "CategoricalCrossentropy" => {
                &["from_logits", "label_smoothing", "axis"]
            }
            "BinaryFocalCrossentropy" => &[
                "apply_class_balancing",
                "alpha",
                "gamma",
                "from_logits",
                "label_smoothing",
                "axis",
            ],
            "CategoricalFocalCrossentropy" => {
                &["alpha", "gamma", "from_logits", "label_smoothing", "axis"]
            }
            "SparseCategoricalCrossentropy" => &["from_logits", "ignore_class", "axis"],
            _ => &[],
        };
        let known: Vec<&str> = own.iter().chain(extra).copied().collect();
        let a = Args::new(cls, config, &known)?;
        let axis = a.i64_or("axis", -1)? as isize;
        let from_logits = a.bool_or("from_logits", false)?;
        let smoothing = || -> Result<f32> {
            let v = a.f64_or("label_smoothing", 0.0)?;
            Ok(a.in_range("label_smoothing", v, 0.0, 1.0)? as f32)
        };
        Ok(match cls {
            "MeanSquaredError" => Kind::MeanSquaredError,
            "MeanAbsoluteError" => Kind::MeanAbsoluteError,
            "MeanAbsolutePercentageError" => Kind::MeanAbsolutePercentageError,
            "MeanSquaredLogarithmicError" => Kind::MeanSquaredLogarithmicError,
            "Huber" => Kind::Huber {
                delta: a.f64_or("delta", 1.0)? as f32,
            },
            "LogCosh" => Kind::LogCosh,
            "Poisson" => Kind::Poisson,
            "KLDivergence" => Kind::KLDivergence,
            "Hinge" => Kind::Hinge,
            "SquaredHinge" => Kind::SquaredHinge,
            "CategoricalHinge" => Kind::CategoricalHinge,
            "CosineSimilarity" => Kind::CosineSimilarity { axis },
            "BinaryCrossentropy" => Kind::BinaryCrossentropy {
                from_logits,
                label_smoothing: smoothing()?,
                axis,
            },
            "BinaryFocalCrossentropy" => Kind::BinaryFocalCrossentropy {
                apply_class_balancing: a.bool_or("apply_class_balancing", false)?,
                alpha: a.f64_or("alpha", 0.25)? as f32,
                gamma: a.f64_or("gamma", 2.0)? as f32,
                from_logits,
                label_smoothing: smoothing()?,
                axis,
            },
            "CategoricalCrossentropy" => Kind::CategoricalCrossentropy {
                from_logits,
                label_smoothing: smoothing()?,
                axis,
            },
            "CategoricalFocalCrossentropy" => Kind::CategoricalFocalCrossentropy {
                alpha: a
                    .opt_list("alpha")?
                    .unwrap_or_else(|| vec![0.25])
                    .into_iter()
                    .map(|v| v as f32)
                    .collect(),
                gamma: a.f64_or("gamma", 2.0)? as f32,
                from_logits,
                label_smoothing: smoothing()?,
                axis,
            },
            "SparseCategoricalCrossentropy" => Kind::SparseCategoricalCrossentropy {
                from_logits,
                ignore_class: a.opt_i64("ignore_class")?,
                axis,
            },
            _ => unreachable!("every class name is matched"),
        })
    }

    /// The loss function: per-sample values (y_pred reduced over the loss's axis) and,
    /// for sparse categorical crossentropy with `ignore_class`, the mask of counted samples.
    pub fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let op = self.function_name();
        let y_pred = if y_pred.dtype() == DType::I64 {
            ops::cast(y_pred, DType::F32)?
        } else {
            y_pred.clone()
        };
        if y_pred.ndim() == 0 || y_pred.numel() == 0 {
            return Err(value_err!(
                "{op}: y_pred must be a non-empty tensor of rank >= 1, got shape {:?}",
                y_pred.shape()
            ));
        }
        if let Kind::SparseCategoricalCrossentropy {
            from_logits,
            ignore_class,
            axis,
        } = self
        {
            return sparse(op, y_true, &y_pred, *from_logits, *ignore_class, *axis);
        }
        let (y_true, y_pred) = squeeze_or_expand(y_true, &y_pred, true)?;
        if y_true.shape() != y_pred.shape() {
            let hint = match self {
                Kind::CategoricalCrossentropy { .. }
                | Kind::CategoricalFocalCrossentropy { .. }
                    if y_true.ndim() + 1 == y_pred.ndim() =>
                {
                    "; for integer class ids use sparse_categorical_crossentropy"
                }
                _ => "",
            };
            return Err(value_err!(
                "{op}: y_true of shape {:?} does not match y_pred of shape {:?}{hint}",
                y_true.shape(),
                y_pred.shape()
            ));
        }
        let axis_arg = match self {
            Kind::CosineSimilarity { axis }
            | Kind::BinaryCrossentropy { axis, .. }
            | Kind::BinaryFocalCrossentropy { axis, .. }
            | Kind::CategoricalCrossentropy { axis, .. }
            | Kind::CategoricalFocalCrossentropy { axis, .. } => *axis,
            _ => -1,
        };
        let axis = normalize_axis(op, axis_arg, y_pred.ndim())?;
        let lanes = Lanes::new(y_pred.shape(), axis);
        let n = lanes.n;
        let mut t = lanes.gather(f32_values(&y_true)?).into_owned();
        let p = lanes.gather(y_pred.f32_data()?);
        let lane = |l: usize| l * n..(l + 1) * n;
        // labels preprocessed once for the whole batch, as Keras does
        match self {
            Kind::Hinge | Kind::SquaredHinge if t.iter().all(|&v| v == 0.0 || v == 1.0) => {
                t.iter_mut().for_each(|v| *v = 2.0 * *v - 1.0)
            }
            Kind::BinaryCrossentropy {
                label_smoothing: ls,
                ..
            }
            | Kind::BinaryFocalCrossentropy {
                label_smoothing: ls,
                ..
            } if *ls != 0.0 => t.iter_mut().for_each(|v| *v = *v * (1.0 - ls) + 0.5 * ls),
            Kind::CategoricalCrossentropy {
                label_smoothing: ls,
                ..
            }
            | Kind::CategoricalFocalCrossentropy {
                label_smoothing: ls,
                ..
            } if *ls != 0.0 => {
                let c = n as f32;
                t.iter_mut().for_each(|v| *v = *v * (1.0 - ls) + ls / c)
            }
            _ => {}
        }
        let t = &t[..];
        let (yp, p) = (&y_pred, &p[..]);
        let values = match self {
            Kind::MeanSquaredError => elementwise(op, yp, axis, p, t, true, elem::squared_error),
            Kind::MeanAbsoluteError => elementwise(op, yp, axis, p, t, true, elem::absolute_error),
            Kind::MeanAbsolutePercentageError => {
                elementwise(op, yp, axis, p, t, true, elem::absolute_percentage_error)
            }
            Kind::MeanSquaredLogarithmicError => {
                elementwise(op, yp, axis, p, t, true, elem::squared_log_error)
            }
            Kind::LogCosh => elementwise(op, yp, axis, p, t, true, elem::log_cosh),
            Kind::Poisson => elementwise(op, yp, axis, p, t, true, elem::poisson),
            Kind::KLDivergence => elementwise(op, yp, axis, p, t, false, elem::kl_divergence),
            Kind::Hinge => elementwise(op, yp, axis, p, t, true, elem::hinge),
            Kind::SquaredHinge => elementwise(op, yp, axis, p, t, true, elem::squared_hinge),
            Kind::Huber { delta } => elementwise(op, yp, axis, p, t, true, elem::huber(*delta)),
            Kind::BinaryCrossentropy {
                from_logits: true, ..
            } => elementwise(op, yp, axis, p, t, true, elem::bce_logit),
            Kind::BinaryCrossentropy { .. } => {
                elementwise(op, yp, axis, p, t, true, elem::bce_prob)
            }
            Kind::BinaryFocalCrossentropy {
                apply_class_balancing,
                alpha,
                gamma,
                from_logits,
                ..
            } => elementwise(
                op,
                yp,
                axis,
                p,
                t,
                true,
                elem::binary_focal(
                    apply_class_balancing.then_some(*alpha),
                    *gamma,
                    *from_logits,
                ),
            ),
            Kind::CategoricalCrossentropy { from_logits, .. } => {
                let fl = *from_logits;
                lane_loss(op, yp, axis, p, move |l, p, g| {
                    functions::categorical_crossentropy(&t[lane(l)], p, g, fl)
                })
            }
            Kind::CategoricalFocalCrossentropy {
                alpha,
                gamma,
                from_logits,
                ..
            } => {
                if alpha.len() != 1 && alpha.len() != n {
                    return Err(value_err!(
                        "{op}: alpha has {} values but y_pred has {n} classes (shape {:?})",
                        alpha.len(),
                        y_pred.shape()
                    ));
                }
                let (gamma, fl) = (*gamma, *from_logits);
                lane_loss(op, &y_pred, axis, p, move |l, p, g| {
                    functions::categorical_focal(&t[lane(l)], p, g, alpha, gamma, fl)
                })
            }
            Kind::CosineSimilarity { .. } => lane_loss(op, &y_pred, axis, p, move |l, p, g| {
                functions::negative_cosine(&t[lane(l)], p, g)
            }),
            Kind::CategoricalHinge => lane_loss(op, &y_pred, axis, p, move |l, p, g| {
                functions::categorical_hinge(&t[lane(l)], p, g)
            }),
            Kind::SparseCategoricalCrossentropy { .. } => unreachable!("handled above"),
        }?;
        Ok((values, None))
    }
}

/// A loss that is the mean (or sum) over a lane of an elementwise rule `f(t, p)`.
fn elementwise(
    op: &'static str,
    y_pred: &Tensor,
    axis: usize,
    p: &[f32],
    t: &[f32],
    mean: bool,
    f: impl Fn(f32, f32) -> (f32, f32) + Copy + Sync + Send,
) -> Result<Tensor> {
    let n = Lanes::new(y_pred.shape(), axis).n;
    lane_loss(op, y_pred, axis, p, move |l, p, g| {
        functions::reduce_lane(&t[l * n..(l + 1) * n], p, g, mean, f)
    })
}

/// Sparse categorical crossentropy: integer (or integral float) labels, one per lane.
fn sparse(
    op: &'static str,
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: isize,
) -> Result<(Tensor, Option<Tensor>)> {
    let mut y_true = y_true.clone();
    if y_true.ndim() == y_pred.ndim() && y_true.shape().last() == Some(&1) {
        let s = &y_true.shape()[..y_true.ndim() - 1].to_vec();
        y_true = ops::reshape(&y_true, s)?;
    }
    let axis = normalize_axis(op, axis, y_pred.ndim())?;
    let mut expected = y_pred.shape().to_vec();
    let n = expected.remove(axis);
    if y_true.shape() != expected.as_slice() {
        return Err(value_err!(
            "{op}: y_true of shape {:?} does not match y_pred of shape {:?}: expected integer \
             class ids of shape {expected:?}; for one-hot labels use categorical_crossentropy",
            y_true.shape(),
            y_pred.shape()
        ));
    }
    let labels = labels_as_ids(op, &y_true, n, ignore_class)?;
    let lanes = Lanes::new(y_pred.shape(), axis);
    let p = lanes.gather(y_pred.f32_data()?);
    let values = lane_loss(op, y_pred, axis, &p, |l, p, g| match labels[l] {
        Some(k) => functions::sparse_categorical_crossentropy(k, p, g, from_logits),
        None => {
            g.fill(0.0);
            0.0
        }
    })?;
    let mask = ignore_class.map(|_| {
        let m = labels
            .iter()
            .map(|k| if k.is_some() { 1.0 } else { 0.0 })
            .collect();
        Tensor::new_f32(m, &expected)
    });
    Ok((values, mask))
}

/// Class ids of sparse labels (None where the label is `ignore_class`), checked to be
/// integers in `[0, n)`.
fn labels_as_ids(
    op: &str,
    y_true: &Tensor,
    n: usize,
    ignore_class: Option<i64>,
) -> Result<Vec<Option<usize>>> {
    let ids: Vec<i64> = match y_true.dtype() {
        DType::I64 => y_true.i64_data()?.into_owned(),
        DType::F32 => {
            let d = y_true.f32_data()?;
            if let Some(&v) = d.iter().find(|v| v.fract() != 0.0 || !v.is_finite()) {
                return Err(value_err!(
                    "{op}: labels must be integer class ids, got the value {v} in y_true of \
                     shape {:?}; for one-hot or soft labels use categorical_crossentropy",
                    y_true.shape()
                ));
            }
            d.iter().map(|&v| v as i64).collect()
        }
    };
    ids.into_iter()
        .map(|k| {
            if Some(k) == ignore_class {
                Ok(None)
            } else if k < 0 || k as usize >= n {
                Err(value_err!(
                    "{op}: label {k} is out of range for {n} classes (valid class ids are 0 to {})",
                    n as i64 - 1
                ))
            } else {
                Ok(Some(k as usize))
            }
        })
        .collect()
}

/// A built-in loss object: a function, a name and a reduction.
#[derive(Clone, Debug)]
pub struct BuiltinLoss {
    pub kind: Kind,
    pub name: String,
    pub reduction: Reduction,
}

impl Loss for BuiltinLoss {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        Ok(self.kind.values(y_true, y_pred)?.0)
    }

    fn call_masked(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        self.kind.values(y_true, y_pred)
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }
}

/// Builds a loss from its Keras class name, function name or alias and its config
/// (`get_config()` keys: `name`, `reduction`, `dtype` and the loss's own arguments).
pub fn from_config(identifier: &str, config: &Config) -> Result<Box<dyn Loss>> {
    Ok(Box::new(builtin_from_config(identifier, config)?))
}

/// `from_config` returning the concrete type.
pub fn builtin_from_config(identifier: &str, config: &Config) -> Result<BuiltinLoss> {
    let kind = Kind::from_config(identifier, config, &["name", "reduction", "dtype"])?;
    let default_name = match &kind {
        Kind::Huber { .. } => "huber_loss",
        k => k.function_name(),
    };
    let name = match config.get("name") {
        Some(Param::Str(s)) => s.clone(),
        _ => default_name.to_string(),
    };
    let reduction = match config.get("reduction") {
        None => Reduction::SumOverBatchSize,
        Some(Param::None) => Reduction::None,
        Some(Param::Str(s)) => Reduction::parse(s)?,
        Some(p) => {
            return Err(value_err!(
                "{}: invalid value for argument `reduction`: {p:?}",
                kind.class_name()
            ))
        }
    };
    Ok(BuiltinLoss {
        kind,
        name,
        reduction,
    })
}

/// Keras's compile-time choice for the loss identifiers "crossentropy" and "ce": binary
/// when the output has one unit, sparse when the labels have one dimension less (or a last
/// dimension of 1) than the output, categorical otherwise. Other identifiers pass through.
pub fn resolve_identifier<'a>(
    identifier: &'a str,
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> &'a str {
    if !matches!(identifier.to_lowercase().as_str(), "crossentropy" | "ce") {
        return identifier;
    }
    let (binary, sparse) = binary_or_sparse(y_true_shape, y_pred_shape);
    if binary {
        "binary_crossentropy"
    } else if sparse {
        "sparse_categorical_crossentropy"
    } else {
        "categorical_crossentropy"
    }
}

/// Keras's `is_binary_or_sparse_categorical(y_true, y_pred)` on shapes.
pub fn binary_or_sparse(y_true_shape: &[usize], y_pred_shape: &[usize]) -> (bool, bool) {
    let yt_last = y_true_shape.last().copied();
    let yp_last = y_pred_shape.last().copied();
    let binary = yp_last == Some(1);
    let sparse = y_true_shape.len() < y_pred_shape.len()
        || (yt_last == Some(1) && yp_last.is_some_and(|d| d > 1));
    (binary, sparse)
}
