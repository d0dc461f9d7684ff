//! Stateful metrics with Keras's semantics: accumulators updated batch by batch with
//! sample weights, built by name from a Keras config (`from_config`).
mod confusion;
mod mean;
mod scores;
mod values;

pub use confusion::{Confusion, Curve, Options, Output, Summation, NEG_INF};
pub use mean::{samplewise, MeanMetric, Reducer};
pub use scores::{Aggregation, Average, FBeta, R2};
pub use values::Values;

use crate::error::Result;
use crate::nn::losses::{self, Args, Config, Kind, EPS};
use crate::tensor::Tensor;
use crate::value_err;

pub trait Metric: Send {
    fn name(&self) -> &str;
    /// Accumulates a batch. Metrics of plain values (`Mean`, `Sum`) read them from `y_pred`.
    fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()>;
    /// The current value (a scalar for most metrics).
    fn result(&self) -> Result<Tensor>;
    fn reset(&mut self);
}

/// Built-in metric classes: (Keras class name, snake_case identifier, default name).
pub const CLASSES: &[(&str, &str, &str)] = &[
    ("Mean", "mean", "mean"),
    ("Sum", "sum", "sum"),
    ("Accuracy", "accuracy", "accuracy"),
    ("BinaryAccuracy", "binary_accuracy", "binary_accuracy"),
    (
        "CategoricalAccuracy",
        "categorical_accuracy",
        "categorical_accuracy",
    ),
    (
        "SparseCategoricalAccuracy",
        "sparse_categorical_accuracy",
        "sparse_categorical_accuracy",
    ),
    (
        "TopKCategoricalAccuracy",
        "top_k_categorical_accuracy",
        "top_k_categorical_accuracy",
    ),
    (
        "SparseTopKCategoricalAccuracy",
        "sparse_top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
    ),
    (
        "MeanSquaredError",
        "mean_squared_error",
        "mean_squared_error",
    ),
    (
        "MeanAbsoluteError",
        "mean_absolute_error",
        "mean_absolute_error",
    ),
    (
        "MeanAbsolutePercentageError",
        "mean_absolute_percentage_error",
        "mean_absolute_percentage_error",
    ),
    (
        "MeanSquaredLogarithmicError",
        "mean_squared_logarithmic_error",
        "mean_squared_logarithmic_error",
    ),
    (
        "RootMeanSquaredError",
        "root_mean_squared_error",
        "root_mean_squared_error",
    ),
    ("CosineSimilarity", "cosine_similarity", "cosine_similarity"),
    ("LogCoshError", "log_cosh_error", "logcosh"),
    ("R2Score", "r2_score", "r2_score"),
    ("AUC", "auc", "auc"),
    ("Precision", "precision", "precision"),
    ("Recall", "recall", "recall"),
    ("TruePositives", "true_positives", "true_positives"),
    ("FalsePositives", "false_positives", "false_positives"),
    ("TrueNegatives", "true_negatives", "true_negatives"),
    ("FalseNegatives", "false_negatives", "false_negatives"),
    (
        "SensitivityAtSpecificity",
        "sensitivity_at_specificity",
        "sensitivity_at_specificity",
    ),
    (
        "SpecificityAtSensitivity",
        "specificity_at_sensitivity",
        "specificity_at_sensitivity",
    ),
    (
        "PrecisionAtRecall",
        "precision_at_recall",
        "precision_at_recall",
    ),
    (
        "RecallAtPrecision",
        "recall_at_precision",
        "recall_at_precision",
    ),
    ("F1Score", "f1_score", "f1_score"),
    ("FBetaScore", "f_beta_score", "fbeta_score"),
    ("Hinge", "hinge", "hinge"),
    ("SquaredHinge", "squared_hinge", "squared_hinge"),
    ("CategoricalHinge", "categorical_hinge", "categorical_hinge"),
    ("KLDivergence", "kl_divergence", "kl_divergence"),
    ("Poisson", "poisson", "poisson"),
    (
        "BinaryCrossentropy",
        "binary_crossentropy",
        "binary_crossentropy",
    ),
    (
        "CategoricalCrossentropy",
        "categorical_crossentropy",
        "categorical_crossentropy",
    ),
    (
        "SparseCategoricalCrossentropy",
        "sparse_categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ),
];

const ALIASES: &[(&str, &str)] = &[
    ("mse", "MeanSquaredError"),
    ("MSE", "MeanSquaredError"),
    ("mae", "MeanAbsoluteError"),
    ("MAE", "MeanAbsoluteError"),
    ("mape", "MeanAbsolutePercentageError"),
    ("MAPE", "MeanAbsolutePercentageError"),
    ("msle", "MeanSquaredLogarithmicError"),
    ("MSLE", "MeanSquaredLogarithmicError"),
    ("bce", "BinaryCrossentropy"),
    ("BCE", "BinaryCrossentropy"),
];

/// The Keras class name of a metric identifier (class name, snake_case name or alias).
pub fn class_name(identifier: &str) -> Option<&'static str> {
    if let Some((_, c)) = ALIASES.iter().find(|(a, _)| *a == identifier) {
        return Some(c);
    }
    CLASSES
        .iter()
        .find(|(c, s, _)| *c == identifier || *s == identifier)
        .map(|(c, _, _)| *c)
}

/// The default instance name of a metric class.
pub fn default_name(class: &str) -> &'static str {
    CLASSES
        .iter()
        .find(|(c, _, _)| *c == class)
        .map_or("metric", |(_, _, n)| *n)
}

fn parse_thresholds(a: &Args, key: &str) -> Result<Option<Vec<f32>>> {
    let Some(t) = a.opt_list(key)? else {
        return Ok(None);
    };
    if let Some(bad) = t.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(value_err!(
            "Threshold values must be in [0, 1]. Received: {bad} in thresholds={t:?}"
        ));
    }
    Ok(Some(t.into_iter().map(|v| v as f32).collect()))
}

fn positive(a: &Args, key: &str, default: Option<i64>) -> Result<Option<usize>> {
    match a.opt_i64(key)?.or(default) {
        None => Ok(None),
        Some(v) if v > 0 => Ok(Some(v as usize)),
        Some(v) => Err(value_err!(
            "Argument `{key}` must be an integer > 0. Received: {key}={v}"
        )),
    }
}

fn class_id(a: &Args) -> Result<Option<usize>> {
    match a.opt_i64("class_id")? {
        Some(c) if c < 0 => Err(value_err!(
            "Argument `class_id` must be a class index >= 0. Received: class_id={c}"
        )),
        c => Ok(c.map(|c| c as usize)),
    }
}

/// Builds a metric from its Keras class name, snake_case name or alias and its config
/// (`get_config()` keys: `name`, `dtype` and the metric's own arguments).
pub fn from_config(identifier: &str, config: &Config) -> Result<Box<dyn Metric>> {
    let class = class_name(identifier).ok_or_else(|| {
        value_err!(
            "Could not interpret metric identifier: {identifier:?} (known metrics: {})",
            CLASSES.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
        )
    })?;
    let own: &[&str] = match class {
        "BinaryAccuracy" => &["threshold"],
        "TopKCategoricalAccuracy" => &["k"],
        "SparseTopKCategoricalAccuracy" => &["k", "from_sorted_ids"],
        "CosineSimilarity" => &["axis"],
        "R2Score" => &["class_aggregation", "num_regressors"],
        "AUC" => &[
            "num_thresholds",
            "curve",
            "summation_method",
            "thresholds",
            "multi_label",
            "num_labels",
            "label_weights",
            "from_logits",
        ],
        "Precision" | "Recall" => &["thresholds", "top_k", "class_id"],
        "TruePositives" | "FalsePositives" | "TrueNegatives" | "FalseNegatives" => &["thresholds"],
        "SensitivityAtSpecificity" => &["specificity", "num_thresholds", "class_id"],
        "SpecificityAtSensitivity" => &["sensitivity", "num_thresholds", "class_id"],
        "PrecisionAtRecall" => &["recall", "num_thresholds", "class_id"],
        "RecallAtPrecision" => &["precision", "num_thresholds", "class_id"],
        "F1Score" => &["average", "threshold"],
        "FBetaScore" => &["average", "beta", "threshold"],
        "BinaryCrossentropy" => &["from_logits", "label_smoothing"],
        "CategoricalCrossentropy" => &["from_logits", "label_smoothing", "axis"],
        "SparseCategoricalCrossentropy" => &["from_logits", "axis"],
        _ => &[],
    };
    let known: Vec<&str> = own.iter().chain(&["name", "dtype"]).copied().collect();
    let a = Args::new(class, config, &known)?;
    let name = a.name_or(default_name(class))?;
    let mean = |values: Values| -> Result<Box<dyn Metric>> {
        Ok(Box::new(MeanMetric::new(&name, values, Reducer::Mean)))
    };
    let loss_kind = || {
        let mut c = config.clone();
        c.remove("name");
        c.remove("dtype");
        Kind::from_config(class, &c, &[])
    };
    let confusion =
        |output: Output, thresholds: Vec<f32>, opts: Options| -> Result<Box<dyn Metric>> {
            Ok(Box::new(Confusion::new(&name, output, thresholds, opts)))
        };
    Ok(match class {
        "Mean" => Box::new(MeanMetric::new(&name, Values::Identity, Reducer::Mean)),
        "Sum" => Box::new(MeanMetric::new(&name, Values::Identity, Reducer::Sum)),
        "RootMeanSquaredError" => Box::new(MeanMetric::new(
            &name,
            Values::SquaredError,
            Reducer::RootMean,
        )),
        "Accuracy" => mean(Values::Accuracy)?,
        "BinaryAccuracy" => {
            let threshold = a.f64_or("threshold", 0.5)?;
            if threshold <= 0.0 || threshold >= 1.0 {
                return Err(value_err!(
                    "Invalid value for argument `threshold`. Expected a value in interval (0, 1). \
                     Received: threshold={threshold}"
                ));
            }
            mean(Values::BinaryAccuracy {
                threshold: threshold as f32,
            })?
        }
        "CategoricalAccuracy" => mean(Values::CategoricalAccuracy)?,
        "SparseCategoricalAccuracy" => mean(Values::SparseCategoricalAccuracy)?,
        "TopKCategoricalAccuracy" => mean(Values::TopK {
            k: positive(&a, "k", Some(5))?.unwrap_or(5),
        })?,
        "SparseTopKCategoricalAccuracy" => mean(Values::SparseTopK {
            k: positive(&a, "k", Some(5))?.unwrap_or(5),
            from_sorted_ids: a.bool_or("from_sorted_ids", false)?,
        })?,
        "CosineSimilarity" => mean(Values::CosineSimilarity {
            axis: a.i64_or("axis", -1)? as isize,
        })?,
        "LogCoshError" => mean(Values::Loss(Kind::LogCosh))?,
        "MeanSquaredError"
        | "MeanAbsoluteError"
        | "MeanAbsolutePercentageError"
        | "MeanSquaredLogarithmicError"
        | "Hinge"
        | "SquaredHinge"
        | "CategoricalHinge"
        | "KLDivergence"
        | "Poisson"
        | "BinaryCrossentropy"
        | "CategoricalCrossentropy"
        | "SparseCategoricalCrossentropy" => mean(Values::Loss(loss_kind()?))?,
        "R2Score" => {
            let aggregation = match a.opt_str("class_aggregation")? {
                None if config.contains_key("class_aggregation") => Aggregation::None,
                None | Some("uniform_average") => Aggregation::UniformAverage,
                Some("variance_weighted_average") => Aggregation::VarianceWeightedAverage,
                Some(other) => {
                    return Err(value_err!(
                        "Invalid value for argument `class_aggregation`. Expected one of \
                         (None, 'uniform_average', 'variance_weighted_average'). Received: \
                         class_aggregation={other}"
                    ))
                }
            };
            let r = a.i64_or("num_regressors", 0)?;
            if r < 0 {
                return Err(value_err!(
                    "Invalid value for argument `num_regressors`. Expected a value >= 0. Received: \
                     num_regressors={r}"
                ));
            }
            Box::new(R2::new(&name, aggregation, r as usize))
        }
        "F1Score" | "FBetaScore" => {
            let average = match a.opt_str("average")? {
                None => Average::None,
                Some("micro") => Average::Micro,
                Some("macro") => Average::Macro,
                Some("weighted") => Average::Weighted,
                Some(other) => {
                    return Err(value_err!(
                        "Invalid `average` argument value. Expected one of: {{None, 'micro', \
                         'macro', 'weighted'}}. Received: average={other}"
                    ))
                }
            };
            let beta = a.f64_or("beta", 1.0)?;
            if beta <= 0.0 {
                return Err(value_err!(
                    "Invalid `beta` argument value. It should be > 0. Received: beta={beta}"
                ));
            }
            let threshold = a.opt_f64("threshold")?;
            if let Some(t) = threshold.filter(|t| *t > 1.0 || *t <= 0.0) {
                return Err(value_err!(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. \
                     Received: threshold={t}"
                ));
            }
            Box::new(FBeta::new(
                &name,
                average,
                beta as f32,
                threshold.map(|t| t as f32),
            ))
        }
        "Precision" | "Recall" => {
            let top_k = positive(&a, "top_k", None)?;
            let default = if top_k.is_some() { NEG_INF } else { 0.5 };
            let thresholds = parse_thresholds(&a, "thresholds")?.unwrap_or_else(|| vec![default]);
            let output = if class == "Precision" {
                Output::Precision
            } else {
                Output::Recall
            };
            confusion(
                output,
                thresholds,
                Options {
                    top_k,
                    class_id: class_id(&a)?,
                    ..Options::default()
                },
            )?
        }
        "TruePositives" | "FalsePositives" | "TrueNegatives" | "FalseNegatives" => {
            let output = match class {
                "TruePositives" => Output::TruePositives,
                "FalsePositives" => Output::FalsePositives,
                "TrueNegatives" => Output::TrueNegatives,
                _ => Output::FalseNegatives,
            };
            let thresholds = parse_thresholds(&a, "thresholds")?.unwrap_or_else(|| vec![0.5]);
            confusion(output, thresholds, Options::default())?
        }
        "SensitivityAtSpecificity"
        | "SpecificityAtSensitivity"
        | "PrecisionAtRecall"
        | "RecallAtPrecision" => {
            let key = own[0];
            let v = a
                .opt_f64(key)?
                .ok_or_else(|| value_err!("{class}: missing required argument `{key}`"))?;
            if !(0.0..=1.0).contains(&v) {
                return Err(value_err!(
                    "Argument `{key}` must be in the range [0, 1]. Received: {key}={v}"
                ));
            }
            let n = positive(&a, "num_thresholds", Some(200))?.unwrap_or(200);
            let output = match class {
                "SensitivityAtSpecificity" => Output::SensitivityAtSpecificity(v as f32),
                "SpecificityAtSensitivity" => Output::SpecificityAtSensitivity(v as f32),
                "PrecisionAtRecall" => Output::PrecisionAtRecall(v as f32),
                _ => Output::RecallAtPrecision(v as f32),
            };
            confusion(
                output,
                confusion::linear_thresholds(n),
                Options {
                    class_id: class_id(&a)?,
                    ..Options::default()
                },
            )?
        }
        "AUC" => {
            let curve = match a.opt_str("curve")?.unwrap_or("ROC") {
                "ROC" | "roc" => Curve::Roc,
                "PR" | "pr" => Curve::Pr,
                other => {
                    return Err(value_err!(
                    "Invalid AUC curve value: \"{other}\". Expected values are [\"PR\", \"ROC\"]"
                ))
                }
            };
            let summation = match a.opt_str("summation_method")?.unwrap_or("interpolation") {
                "interpolation" | "Interpolation" => Summation::Interpolation,
                "majoring" | "Majoring" => Summation::Majoring,
                "minoring" | "Minoring" => Summation::Minoring,
                other => {
                    return Err(value_err!(
                        "Invalid AUC summation method value: \"{other}\". Expected values are \
                         [\"interpolation\", \"majoring\", \"minoring\"]"
                    ))
                }
            };
            let inner = match parse_thresholds(&a, "thresholds")? {
                Some(mut t) => {
                    t.sort_by(f32::total_cmp);
                    t
                }
                None => {
                    let n = a.i64_or("num_thresholds", 200)?;
                    if n <= 1 {
                        return Err(value_err!(
                            "Argument `num_thresholds` must be an integer > 1. Received: \
                             num_thresholds={n}"
                        ));
                    }
                    (0..n - 2)
                        .map(|i| ((i + 1) as f64 / (n - 1) as f64) as f32)
                        .collect()
                }
            };
            let mut thresholds = vec![-EPS];
            thresholds.extend(inner);
            thresholds.push(1.0 + EPS);
            let multi_label = a.bool_or("multi_label", false)?;
            let num_labels = positive(&a, "num_labels", None)?;
            if num_labels.is_some() && !multi_label {
                return Err(value_err!(
                    "`num_labels` is needed only when `multi_label` is True."
                ));
            }
            let label_weights = a
                .opt_list("label_weights")?
                .map(|v| v.into_iter().map(|x| x as f32).collect());
            confusion(
                Output::Auc {
                    curve,
                    summation,
                    label_weights,
                },
                thresholds,
                Options {
                    from_logits: a.bool_or("from_logits", false)?,
                    multi_label,
                    num_labels,
                    ..Options::default()
                },
            )?
        }
        _ => unreachable!("every class in CLASSES is matched"),
    })
}

/// A stateless metric function by its Keras name (`binary_accuracy`, `categorical_accuracy`,
/// `sparse_categorical_accuracy`, `top_k_categorical_accuracy`,
/// `sparse_top_k_categorical_accuracy`, `accuracy`, `cosine_similarity` (the positive
/// metric), or any loss identifier, e.g. `"mean_squared_error"` or `"Huber"`) and its arguments.
pub fn function(name: &str, config: &Config) -> Result<Values> {
    let own: &[&str] = match name {
        "binary_accuracy" => &["threshold"],
        "top_k_categorical_accuracy" => &["k"],
        "sparse_top_k_categorical_accuracy" => &["k", "from_sorted_ids"],
        "cosine_similarity" => &["axis"],
        "accuracy" | "categorical_accuracy" | "sparse_categorical_accuracy" => &[],
        _ => return Ok(Values::Loss(Kind::from_config(name, config, &[])?)),
    };
    let a = Args::new(name, config, own)?;
    Ok(match name {
        "binary_accuracy" => Values::BinaryAccuracy {
            threshold: a.f64_or("threshold", 0.5)? as f32,
        },
        "top_k_categorical_accuracy" => Values::TopK {
            k: positive(&a, "k", Some(5))?.unwrap_or(5),
        },
        "sparse_top_k_categorical_accuracy" => Values::SparseTopK {
            k: positive(&a, "k", Some(5))?.unwrap_or(5),
            from_sorted_ids: a.bool_or("from_sorted_ids", false)?,
        },
        "cosine_similarity" => Values::CosineSimilarity {
            axis: a.i64_or("axis", -1)? as isize,
        },
        "accuracy" => Values::Accuracy,
        "categorical_accuracy" => Values::CategoricalAccuracy,
        _ => Values::SparseCategoricalAccuracy,
    })
}

/// `MeanMetricWrapper(fn, name, **config)` for a built-in function (see `function`).
pub fn mean_of(name: &str, function_name: &str, config: &Config) -> Result<Box<dyn Metric>> {
    Ok(Box::new(MeanMetric::new(
        name,
        function(function_name, config)?,
        Reducer::Mean,
    )))
}

/// Keras's compile-time choice for "accuracy"/"acc" (and "crossentropy"/"ce"): the metric
/// class implied by the label and output shapes (`is_binary_or_sparse_categorical`), or,
/// when the label shape is unknown, by the loss and the output width. Returns None for any
/// other identifier.
pub fn resolve_class(
    identifier: &str,
    loss: Option<&str>,
    y_true_shape: Option<&[usize]>,
    y_pred_shape: Option<&[usize]>,
) -> Option<&'static str> {
    let id = identifier.to_lowercase();
    let accuracy = match id.as_str() {
        "accuracy" | "acc" => true,
        "crossentropy" | "ce" => false,
        _ => return None,
    };
    let from_loss = || match loss.and_then(losses::class_name) {
        Some("BinaryCrossentropy" | "BinaryFocalCrossentropy" | "Hinge" | "SquaredHinge") => {
            Some((true, false))
        }
        Some("SparseCategoricalCrossentropy") => Some((false, true)),
        Some(
            "CategoricalCrossentropy"
            | "CategoricalFocalCrossentropy"
            | "CategoricalHinge"
            | "KLDivergence",
        ) => Some((false, false)),
        _ => None,
    };
    let (binary, sparse) = match (y_true_shape, y_pred_shape) {
        (Some(t), Some(p)) => losses::binary_or_sparse(t, p),
        (_, p) => from_loss().unwrap_or_else(|| (p.and_then(|p| p.last()) == Some(&1), false)),
    };
    Some(match (accuracy, binary, sparse) {
        (true, true, _) => "BinaryAccuracy",
        (true, false, true) => "SparseCategoricalAccuracy",
        (true, false, false) => "CategoricalAccuracy",
        (false, true, _) => "BinaryCrossentropy",
        (false, false, true) => "SparseCategoricalCrossentropy",
        (false, false, false) => "CategoricalCrossentropy",
    })
}

/// A metric for a compile-time identifier: "accuracy"/"acc"/"crossentropy"/"ce" resolved
/// as `resolve_class` says, anything else as `from_config`; named after the identifier.
pub fn resolve(
    identifier: &str,
    loss: Option<&str>,
    y_true_shape: Option<&[usize]>,
    y_pred_shape: Option<&[usize]>,
) -> Result<Box<dyn Metric>> {
    let class = resolve_class(identifier, loss, y_true_shape, y_pred_shape).unwrap_or(identifier);
    let mut config = Config::new();
    config.insert(
        "name".to_string(),
        losses::Param::Str(identifier.to_string()),
    );
    from_config(class, &config)
}
