//! Metrics: values of Keras's documented examples, accumulation over several weighted
//! batches, reset, resolution of "accuracy", bad inputs.
#![allow(clippy::excessive_precision, clippy::type_complexity)] // reference values and kernel tables
use ember::nn::losses::{Config, Param};
use ember::nn::metrics::{self, Metric};
use ember::Tensor;

fn t(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_f32(data.to_vec(), shape).unwrap()
}

fn v(data: &[f32]) -> Tensor {
    t(data, &[data.len()])
}

/// A (n, 1) column: one prediction per sample, as a model with one output unit gives.
fn col(data: &[f32]) -> Tensor {
    t(data, &[data.len(), 1])
}

fn metric(name: &str, pairs: &[(&str, Param)]) -> Box<dyn Metric> {
    let c: Config = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    metrics::from_config(name, &c).unwrap()
}

fn result(m: &dyn Metric) -> Vec<f32> {
    m.result().unwrap().to_vec_f32().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

/// The Keras docstring example: result without weights, then after reset with weights.
fn example(
    name: &str,
    args: &[(&str, Param)],
    y_true: &Tensor,
    y_pred: &Tensor,
    w: &Tensor,
    expect: [f32; 2],
) {
    let mut m = metric(name, args);
    m.update(y_true, y_pred, None).unwrap();
    close(&result(&*m), &[expect[0]], 1e-5);
    m.reset();
    m.update(y_true, y_pred, Some(w)).unwrap();
    close(&result(&*m), &[expect[1]], 1e-5);
}

#[test]
fn mean_and_sum() {
    let x = v(&[1., 3., 5., 7.]);
    let w = v(&[1., 1., 0., 0.]);
    example("Mean", &[], &x, &x, &w, [4.0, 2.0]);
    example("Sum", &[], &x, &x, &w, [16.0, 4.0]);
    // a scalar weight counts as that many samples of the batch mean
    let mut m = metric("Mean", &[]);
    m.update(&x, &x, Some(&Tensor::scalar(2.0))).unwrap();
    m.update(&x, &v(&[10.0]), None).unwrap();
    close(&result(&*m), &[(4.0 * 2.0 + 10.0) / 3.0], 1e-6);
    // (batch, k) values without weights: each row's mean counts once
    let mut m = metric("mean", &[]);
    let rows = t(&[1., 2., 3., 5.], &[2, 2]);
    m.update(&rows, &rows, None).unwrap();
    close(&result(&*m), &[2.75], 1e-6);
    // (batch, k) weights against (batch, k) values
    m.reset();
    m.update(&rows, &rows, Some(&t(&[1., 0., 1., 1.], &[2, 2])))
        .unwrap();
    close(&result(&*m), &[(0.5 + 4.0) / 1.5], 1e-6);
}

#[test]
fn accuracy_metrics_match_keras_examples() {
    example(
        "Accuracy",
        &[],
        &t(&[1., 2., 3., 4.], &[4, 1]),
        &t(&[0., 2., 3., 4.], &[4, 1]),
        &v(&[1., 1., 0., 0.]),
        [0.75, 0.5],
    );
    example(
        "binary_accuracy",
        &[],
        &t(&[1., 1., 0., 0.], &[4, 1]),
        &t(&[0.98, 1., 0., 0.6], &[4, 1]),
        &v(&[1., 0., 0., 1.]),
        [0.75, 0.5],
    );
    let oh = t(&[0., 0., 1., 0., 1., 0.], &[2, 3]);
    let p = t(&[0.1, 0.9, 0.8, 0.05, 0.95, 0.], &[2, 3]);
    let w = v(&[0.7, 0.3]);
    example("CategoricalAccuracy", &[], &oh, &p, &w, [0.5, 0.3]);
    example(
        "TopKCategoricalAccuracy",
        &[("k", Param::Int(1))],
        &oh,
        &p,
        &w,
        [0.5, 0.3],
    );
    example(
        "TopKCategoricalAccuracy",
        &[("k", Param::Int(2))],
        &oh,
        &p,
        &w,
        [1.0, 1.0],
    );
    let ids = Tensor::from_i64(vec![2, 1], &[2, 1]).unwrap();
    let p2 = t(&[0.1, 0.6, 0.3, 0.05, 0.95, 0.], &[2, 3]);
    example("SparseCategoricalAccuracy", &[], &ids, &p2, &w, [0.5, 0.3]);
    example(
        "sparse_categorical_accuracy",
        &[],
        &v(&[2., 1.]),
        &p2,
        &w,
        [0.5, 0.3],
    );
    let flat = Tensor::from_i64(vec![2, 1], &[2]).unwrap();
    example(
        "SparseTopKCategoricalAccuracy",
        &[("k", Param::Int(1))],
        &flat,
        &p,
        &w,
        [0.5, 0.3],
    );
    let sorted = t(&[1., 2., 0., 1., 0., 2.], &[2, 3]);
    example(
        "SparseTopKCategoricalAccuracy",
        &[("k", Param::Int(1)), ("from_sorted_ids", Param::Bool(true))],
        &flat,
        &sorted,
        &w,
        [0.5, 0.3],
    );
}

#[test]
fn regression_metrics_match_keras_examples() {
    let yt = t(&[0., 1., 0., 0.], &[2, 2]);
    let yp = t(&[1., 1., 0., 0.], &[2, 2]);
    let w = v(&[1., 0.]);
    example("MeanAbsoluteError", &[], &yt, &yp, &w, [0.25, 0.5]);
    example("mse", &[], &yt, &yp, &w, [0.25, 0.5]);
    example(
        "MeanAbsolutePercentageError",
        &[],
        &yt,
        &yp,
        &w,
        [2.5e8, 5e8],
    );
    example(
        "MeanSquaredLogarithmicError",
        &[],
        &yt,
        &yp,
        &w,
        [0.12011322, 0.24022643],
    );
    example("RootMeanSquaredError", &[], &yt, &yp, &w, [0.5, 0.70710677]);
    example("LogCoshError", &[], &yt, &yp, &w, [0.10844523, 0.21689045]);
    example("Poisson", &[], &yt, &yp, &w, [0.49999997, 0.99999994]);
    let probs = t(&[0.6, 0.4, 0.4, 0.6], &[2, 2]);
    example(
        "KLDivergence",
        &[],
        &yt,
        &probs,
        &w,
        [0.45814306, 0.9162892],
    );
    example(
        "BinaryCrossentropy",
        &[],
        &yt,
        &probs,
        &w,
        [0.81492424, 0.9162905],
    );
    example(
        "CosineSimilarity",
        &[("axis", Param::Int(1))],
        &t(&[0., 1., 1., 1.], &[2, 2]),
        &t(&[1., 0., 1., 1.], &[2, 2]),
        &v(&[0.3, 0.7]),
        [0.49999997, 0.6999999],
    );
    let oh = t(&[0., 1., 0., 0., 0., 1.], &[2, 3]);
    let p = t(&[0.05, 0.95, 0., 0.1, 0.8, 0.1], &[2, 3]);
    example(
        "CategoricalCrossentropy",
        &[],
        &oh,
        &p,
        &v(&[0.3, 0.7]),
        [1.1769392, 1.6271976],
    );
    let ids = Tensor::from_i64(vec![1, 2], &[2]).unwrap();
    example(
        "SparseCategoricalCrossentropy",
        &[],
        &ids,
        &p,
        &v(&[0.3, 0.7]),
        [1.1769392, 1.6271976],
    );

    let mut r2 = metric("R2Score", &[]);
    r2.update(&t(&[1., 4., 3.], &[3, 1]), &t(&[2., 4., 4.], &[3, 1]), None)
        .unwrap();
    close(&result(&*r2), &[0.57142854], 1e-5);
}

#[test]
fn confusion_metrics_match_keras_examples() {
    let w = v(&[0., 0., 1., 0.]);
    example(
        "Precision",
        &[],
        &v(&[0., 1., 1., 1.]),
        &v(&[1., 0., 1., 1.]),
        &w,
        [0.6666667, 1.0],
    );
    example(
        "Recall",
        &[],
        &v(&[0., 1., 1., 1.]),
        &v(&[1., 0., 1., 1.]),
        &w,
        [0.6666667, 1.0],
    );
    example(
        "TruePositives",
        &[],
        &v(&[0., 1., 1., 1.]),
        &v(&[1., 0., 1., 1.]),
        &w,
        [2.0, 1.0],
    );
    example(
        "FalsePositives",
        &[],
        &v(&[0., 1., 0., 0.]),
        &v(&[0., 0., 1., 1.]),
        &w,
        [2.0, 1.0],
    );
    example(
        "TrueNegatives",
        &[],
        &v(&[0., 1., 0., 0.]),
        &v(&[1., 1., 0., 0.]),
        &w,
        [2.0, 1.0],
    );
    example(
        "FalseNegatives",
        &[],
        &v(&[0., 1., 1., 1.]),
        &v(&[0., 1., 0., 0.]),
        &w,
        [2.0, 1.0],
    );
    for (k, expect) in [(2, 0.0), (4, 0.5)] {
        let mut m = metric("Precision", &[("top_k", Param::Int(k))]);
        m.update(&v(&[0., 0., 1., 1.]), &v(&[1., 1., 1., 1.]), None)
            .unwrap();
        close(&result(&*m), &[expect], 1e-6);
    }
    example(
        "AUC",
        &[("num_thresholds", Param::Int(3))],
        &v(&[0., 0., 1., 1.]),
        &v(&[0., 0.5, 0.3, 0.9]),
        &v(&[1., 0., 0., 1.]),
        [0.75, 1.0],
    );
    let yt = v(&[0., 0., 0., 1., 1.]);
    let yp = v(&[0., 0.3, 0.8, 0.3, 0.8]);
    fn value(k: &str, x: f64) -> Vec<(&str, Param)> {
        vec![(k, Param::Float(x))]
    }
    example(
        "SensitivityAtSpecificity",
        &value("specificity", 0.5),
        &yt,
        &yp,
        &v(&[1., 1., 2., 2., 1.]),
        [0.5, 0.333333],
    );
    example(
        "SpecificityAtSensitivity",
        &value("sensitivity", 0.5),
        &yt,
        &yp,
        &v(&[1., 1., 2., 2., 2.]),
        [0.666_666_7, 0.5],
    );
    example(
        "PrecisionAtRecall",
        &value("recall", 0.5),
        &yt,
        &yp,
        &v(&[2., 2., 2., 1., 1.]),
        [0.5, 0.33333333],
    );
    example(
        "RecallAtPrecision",
        &value("precision", 0.8),
        &v(&[0., 0., 1., 1.]),
        &v(&[0., 0.5, 0.3, 0.9]),
        &v(&[1., 0., 0., 1.]),
        [0.5, 1.0],
    );
    // several thresholds give one value each
    let mut m = metric("Precision", &[("thresholds", Param::List(vec![0.2, 0.6]))]);
    m.update(&v(&[0., 1., 1., 0.]), &v(&[0.3, 0.7, 0.5, 0.9]), None)
        .unwrap();
    close(&result(&*m), &[2.0 / 4.0, 1.0 / 2.0], 1e-6);
    // class_id picks one column
    let mut m = metric("Recall", &[("class_id", Param::Int(1))]);
    m.update(
        &t(&[0., 1., 1., 0., 0., 1.], &[3, 2]),
        &t(&[0.2, 0.8, 0.9, 0.1, 0.6, 0.4], &[3, 2]),
        None,
    )
    .unwrap();
    close(&result(&*m), &[0.5], 1e-6);
}

#[test]
fn f_scores_match_keras_examples() {
    let yt = t(&[1., 1., 1., 1., 0., 0., 1., 1., 0.], &[3, 3]);
    let yp = t(&[0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0], &[3, 3]);
    let mut f1 = metric("F1Score", &[("threshold", Param::Float(0.5))]);
    f1.update(&yt, &yp, None).unwrap();
    close(&result(&*f1), &[0.5, 0.8, 0.6666667], 1e-5);
    let mut fb = metric(
        "FBetaScore",
        &[
            ("beta", Param::Float(2.0)),
            ("threshold", Param::Float(0.5)),
        ],
    );
    fb.update(&yt, &yp, None).unwrap();
    close(&result(&*fb), &[0.3846154, 0.90909094, 0.8333334], 1e-5);
    // numpy reference for the averages: micro pools the counts, macro/weighted average F1
    let (tp, fp, fn_) = ([1., 2., 1.], [0., 1., 1.], [2., 0., 0.]);
    let f: Vec<f64> = (0..3)
        .map(|j| {
            let p = tp[j] / (tp[j] + fp[j]);
            let r = tp[j] / (tp[j] + fn_[j]);
            2.0 * p * r / (p + r)
        })
        .collect();
    let support = [3.0, 2.0, 1.0];
    let weighted: f64 = f.iter().zip(support).map(|(a, s)| a * s).sum::<f64>() / 6.0;
    let (stp, sfp, sfn) = (4.0, 2.0, 2.0);
    let (mp, mr) = (stp / (stp + sfp), stp / (stp + sfn));
    for (avg, expect) in [
        ("macro", f.iter().sum::<f64>() / 3.0),
        ("weighted", weighted),
        ("micro", 2.0 * mp * mr / (mp + mr)),
    ] {
        let mut m = metric(
            "F1Score",
            &[
                ("threshold", Param::Float(0.5)),
                ("average", Param::Str(avg.into())),
            ],
        );
        m.update(&yt, &yp, None).unwrap();
        close(&result(&*m), &[expect as f32], 1e-5);
    }
    // threshold None: the argmax of each row is the prediction
    let mut m = metric("F1Score", &[("average", Param::Str("micro".into()))]);
    m.update(
        &t(&[1., 0., 0., 1.], &[2, 2]),
        &t(&[0.7, 0.3, 0.6, 0.4], &[2, 2]),
        None,
    )
    .unwrap();
    close(&result(&*m), &[0.5], 1e-5);
}

/// Accumulating weighted batches equals one update on the concatenation.
#[test]
fn accumulation_over_weighted_batches() {
    let yt = [0., 1., 1., 0., 1., 0., 1., 1., 0., 1.];
    let yp = [0.1, 0.8, 0.4, 0.3, 0.9, 0.6, 0.7, 0.2, 0.05, 0.55];
    let w = [1., 2., 0.5, 1., 1., 0., 3., 1., 2., 1.];
    for (name, args) in [
        ("BinaryAccuracy", vec![]),
        ("Precision", vec![]),
        (
            "Recall",
            vec![("thresholds", Param::List(vec![0.3, 0.5, 0.7]))],
        ),
        ("AUC", vec![]),
        ("AUC", vec![("curve", Param::Str("PR".into()))]),
        (
            "AUC",
            vec![("summation_method", Param::Str("minoring".into()))],
        ),
        ("BinaryCrossentropy", vec![]),
        ("MeanSquaredError", vec![]),
        ("RootMeanSquaredError", vec![]),
        ("TruePositives", vec![]),
    ] {
        let mut whole = metric(name, &args);
        whole.update(&col(&yt), &col(&yp), Some(&v(&w))).unwrap();
        let mut parts = metric(name, &args);
        for (a, b) in [(0, 3), (3, 4), (4, 10)] {
            parts
                .update(&col(&yt[a..b]), &col(&yp[a..b]), Some(&v(&w[a..b])))
                .unwrap();
        }
        close(&result(&*parts), &result(&*whole), 1e-5);
        parts.reset();
        parts.update(&col(&yt[..3]), &col(&yp[..3]), None).unwrap();
        let mut fresh = metric(name, &args);
        fresh.update(&col(&yt[..3]), &col(&yp[..3]), None).unwrap();
        close(&result(&*parts), &result(&*fresh), 1e-6);
    }
    // the weighted binary accuracy by hand
    let mut m = metric("BinaryAccuracy", &[]);
    m.update(&col(&yt), &col(&yp), Some(&v(&w))).unwrap();
    let hits: f32 = (0..10)
        .filter(|&i| (yp[i] > 0.5) == (yt[i] == 1.0))
        .map(|i| w[i])
        .sum();
    close(&result(&*m), &[hits / w.iter().sum::<f32>()], 1e-6);
}

/// With many thresholds, ROC AUC approaches the exact rank statistic.
#[test]
fn roc_auc_approaches_the_exact_value() {
    let n = 400;
    let yt: Vec<f32> = (0..n).map(|i| ((i * 37) % 7 < 3) as u8 as f32).collect();
    let yp: Vec<f32> = (0..n)
        .map(|i| {
            let noise = ((i * 7919) % 101) as f32 / 101.0;
            (0.35 * yt[i] + 0.65 * noise).clamp(0.0, 1.0)
        })
        .collect();
    let mut m = metric("AUC", &[("num_thresholds", Param::Int(2000))]);
    m.update(&v(&yt), &v(&yp), None).unwrap();
    let (mut pairs, mut wins) = (0.0f64, 0.0f64);
    for i in 0..n {
        for j in 0..n {
            if yt[i] == 1.0 && yt[j] == 0.0 {
                pairs += 1.0;
                wins += if yp[i] > yp[j] {
                    1.0
                } else if yp[i] == yp[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    close(&result(&*m), &[(wins / pairs) as f32], 5e-3);
    // multi-label AUC averages the per-label AUCs
    let mut ml = metric("AUC", &[("multi_label", Param::Bool(true))]);
    let both_t = t(&[0., 1., 1., 0., 1., 1., 0., 0.], &[4, 2]);
    let both_p = t(&[0.1, 0.9, 0.8, 0.2, 0.7, 0.6, 0.3, 0.4], &[4, 2]);
    ml.update(&both_t, &both_p, None).unwrap();
    let mut a = metric("AUC", &[]);
    a.update(&v(&[0., 1., 1., 0.]), &v(&[0.1, 0.8, 0.7, 0.3]), None)
        .unwrap();
    let mut b = metric("AUC", &[]);
    b.update(&v(&[1., 0., 1., 0.]), &v(&[0.9, 0.2, 0.6, 0.4]), None)
        .unwrap();
    close(
        &result(&*ml),
        &[(result(&*a)[0] + result(&*b)[0]) / 2.0],
        1e-6,
    );
}

#[test]
fn accuracy_resolution_follows_keras() {
    use metrics::resolve_class as r;
    assert_eq!(
        r("accuracy", None, Some(&[32]), Some(&[32, 10])),
        Some("SparseCategoricalAccuracy")
    );
    assert_eq!(
        r("acc", None, Some(&[32, 1]), Some(&[32, 10])),
        Some("SparseCategoricalAccuracy")
    );
    assert_eq!(
        r("accuracy", None, Some(&[32, 10]), Some(&[32, 10])),
        Some("CategoricalAccuracy")
    );
    assert_eq!(
        r("accuracy", None, Some(&[32, 1]), Some(&[32, 1])),
        Some("BinaryAccuracy")
    );
    assert_eq!(
        r(
            "Accuracy",
            Some("binary_crossentropy"),
            None,
            Some(&[32, 3])
        ),
        Some("BinaryAccuracy")
    );
    assert_eq!(
        r(
            "accuracy",
            Some("SparseCategoricalCrossentropy"),
            None,
            Some(&[32, 10])
        ),
        Some("SparseCategoricalAccuracy")
    );
    assert_eq!(
        r("accuracy", Some("mse"), None, Some(&[32, 1])),
        Some("BinaryAccuracy")
    );
    assert_eq!(
        r("accuracy", None, None, Some(&[32, 4])),
        Some("CategoricalAccuracy")
    );
    assert_eq!(
        r("ce", None, Some(&[32]), Some(&[32, 10])),
        Some("SparseCategoricalCrossentropy")
    );
    assert_eq!(r("mse", None, None, None), None);
    let m = metrics::resolve("acc", None, Some(&[4]), Some(&[4, 3])).unwrap();
    assert_eq!(m.name(), "acc");
    assert_eq!(
        metrics::resolve("mae", None, None, None).unwrap().name(),
        "mae"
    );
}

#[test]
fn bad_inputs_and_configs() {
    let mut m = metric("CategoricalAccuracy", &[]);
    let e = m
        .update(
            &Tensor::from_i64(vec![0, 1], &[2]).unwrap(),
            &t(&[0.5; 6], &[2, 3]),
            None,
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("[2]") && e.to_string().contains("[2, 3]"),
        "{e}"
    );
    let mut m = metric("Precision", &[]);
    let e = m
        .update(&v(&[0., 1.]), &v(&[0.5, 0.2, 0.1]), None)
        .unwrap_err();
    assert!(
        e.to_string().contains("[2]") && e.to_string().contains("[3]"),
        "{e}"
    );
    let mut m = metric("Mean", &[]);
    let e = m
        .update(&v(&[1., 2.]), &v(&[1., 2.]), Some(&v(&[1., 2., 3.])))
        .unwrap_err();
    assert!(e.to_string().contains("sample_weight"), "{e}");
    let e = m.update(&v(&[]), &v(&[]), None).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let mut f1 = metric("F1Score", &[]);
    assert!(f1.update(&v(&[1.]), &v(&[1.]), None).is_err());
    let mut m = metric("Recall", &[("class_id", Param::Int(5))]);
    let e = m
        .update(&t(&[0.; 4], &[2, 2]), &t(&[0.; 4], &[2, 2]), None)
        .unwrap_err();
    assert!(e.to_string().contains("class_id 5"), "{e}");
    let c = |pairs: &[(&str, Param)]| -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    assert!(metrics::from_config("nope", &Config::new()).is_err());
    assert!(
        metrics::from_config("BinaryAccuracy", &c(&[("threshold", Param::Float(1.5))])).is_err()
    );
    assert!(metrics::from_config("AUC", &c(&[("num_thresholds", Param::Int(1))])).is_err());
    assert!(metrics::from_config("AUC", &c(&[("curve", Param::Str("XY".into()))])).is_err());
    assert!(
        metrics::from_config("Precision", &c(&[("thresholds", Param::List(vec![1.2]))])).is_err()
    );
    assert!(
        metrics::from_config("F1Score", &c(&[("average", Param::Str("mean".into()))])).is_err()
    );
    assert!(metrics::from_config("Mean", &c(&[("threshold", Param::Float(0.5))])).is_err());
    assert_eq!(metric("LogCoshError", &[]).name(), "logcosh");
    assert_eq!(metric("mse", &[]).name(), "mean_squared_error");
}
