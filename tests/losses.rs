//! Losses: values against Keras's documented examples, finite-difference gradients of every
//! loss (with logits, label smoothing, other axes), reductions, sample weights, bad inputs.
#![allow(clippy::excessive_precision, clippy::type_complexity)] // reference values and kernel tables
use ember::autograd::check_gradients;
use ember::nn::losses::{self, compute, Config, Kind, Param, Reduction};
use ember::{Error, Tensor};

fn t(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_f32(data.to_vec(), shape).unwrap()
}

fn cfg(pairs: &[(&str, Param)]) -> Config {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn loss(name: &str, pairs: &[(&str, Param)]) -> Box<dyn losses::Loss> {
    losses::from_config(name, &cfg(pairs)).unwrap()
}

fn values(name: &str, pairs: &[(&str, Param)], y_true: &Tensor, y_pred: &Tensor) -> Vec<f32> {
    loss(name, pairs)
        .call(y_true, y_pred)
        .unwrap()
        .to_vec_f32()
        .unwrap()
}

fn scalar(l: &dyn losses::Loss, y_true: &Tensor, y_pred: &Tensor, w: Option<&Tensor>) -> f32 {
    compute(l, y_true, y_pred, w).unwrap().item().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

/// Deterministic values in [lo, hi).
fn grid(shape: &[usize], seed: usize, lo: f32, hi: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| lo + (hi - lo) * (((i + seed) * 7919 % 97) as f32 + 0.5) / 97.0)
        .collect();
    Tensor::from_f32(v, shape).unwrap()
}

fn one_hot(ids: &[usize], classes: usize) -> Tensor {
    let mut v = vec![0.0; ids.len() * classes];
    for (r, &k) in ids.iter().enumerate() {
        v[r * classes + k] = 1.0;
    }
    Tensor::from_f32(v, &[ids.len(), classes]).unwrap()
}

#[test]
fn binary_crossentropy_matches_keras_examples() {
    let y_true = t(&[0., 1., 0., 0.], &[2, 2]);
    let y_pred = t(&[-18.6, 0.51, 2.94, -12.8], &[2, 2]);
    let logits = [("from_logits", Param::Bool(true))];
    let bce = loss("BinaryCrossentropy", &logits);
    close(&[scalar(&*bce, &y_true, &y_pred, None)], &[0.8654], 1e-3);
    let w = t(&[0.8, 0.2], &[2]);
    close(&[scalar(&*bce, &y_true, &y_pred, Some(&w))], &[0.243], 2e-3);
    let sum = loss(
        "BinaryCrossentropy",
        &[
            ("from_logits", Param::Bool(true)),
            ("reduction", Param::Str("sum".into())),
        ],
    );
    close(&[scalar(&*sum, &y_true, &y_pred, None)], &[1.730], 1e-3);
    close(
        &values("BinaryCrossentropy", &logits, &y_true, &y_pred),
        &[0.235, 1.496],
        2e-3,
    );
    // probabilities, clipped by epsilon
    let probs = t(&[0.6, 0.4, 0.4, 0.6], &[2, 2]);
    close(
        &values("binary_crossentropy", &[], &y_true, &probs),
        &[0.916, 0.714],
        1e-3,
    );
}

#[test]
fn categorical_and_sparse_crossentropy_match_keras_examples() {
    let y_pred = t(&[0.05, 0.95, 0.0, 0.1, 0.8, 0.1], &[2, 3]);
    let onehot = one_hot(&[1, 2], 3);
    let sparse = Tensor::from_i64(vec![1, 2], &[2]).unwrap();
    let w = t(&[0.3, 0.7], &[2]);
    for (name, y_true) in [
        ("CategoricalCrossentropy", &onehot),
        ("SparseCategoricalCrossentropy", &sparse),
    ] {
        let l = loss(name, &[]);
        close(&[scalar(&*l, y_true, &y_pred, None)], &[1.177], 1e-3);
        close(&[scalar(&*l, y_true, &y_pred, Some(&w))], &[0.814], 1e-3);
        let s = loss(name, &[("reduction", Param::Str("sum".into()))]);
        close(&[scalar(&*s, y_true, &y_pred, None)], &[2.354], 1e-3);
        let none = loss(name, &[("reduction", Param::None)]);
        close(
            &compute(&*none, y_true, &y_pred, None)
                .unwrap()
                .to_vec_f32()
                .unwrap(),
            &[0.0513, 2.303],
            1e-3,
        );
    }
    // float labels with integral values are accepted as class ids
    let float_ids = t(&[1., 2.], &[2, 1]);
    close(
        &values("sparse_categorical_crossentropy", &[], &float_ids, &y_pred),
        &[0.0513, 2.303],
        1e-3,
    );
}

#[test]
fn focal_losses_match_keras_examples() {
    let y_true = t(&[0., 1., 0., 0.], &[2, 2]);
    let y_pred = t(&[-18.6, 0.51, 2.94, -12.8], &[2, 2]);
    let focal = |gamma: f64, balance: bool, red: &str| {
        loss(
            "BinaryFocalCrossentropy",
            &[
                ("gamma", Param::Float(gamma)),
                ("from_logits", Param::Bool(true)),
                ("apply_class_balancing", Param::Bool(balance)),
                ("reduction", Param::Str(red.into())),
            ],
        )
    };
    let flat_true = t(&[0., 1., 0., 0.], &[4]);
    let flat_pred = t(&[-18.6, 0.51, 2.94, -12.8], &[4]);
    close(
        &[scalar(
            &*focal(2.0, false, "sum_over_batch_size"),
            &flat_true,
            &flat_pred,
            None,
        )],
        &[0.691],
        2e-3,
    );
    close(
        &[scalar(
            &*focal(2.0, true, "sum_over_batch_size"),
            &flat_true,
            &flat_pred,
            None,
        )],
        &[0.51],
        5e-3,
    );
    close(
        &[scalar(
            &*focal(3.0, false, "sum_over_batch_size"),
            &y_true,
            &y_pred,
            None,
        )],
        &[0.647],
        2e-3,
    );
    close(
        &[scalar(
            &*focal(3.0, true, "sum_over_batch_size"),
            &y_true,
            &y_pred,
            None,
        )],
        &[0.482],
        2e-3,
    );
    let w = t(&[0.8, 0.2], &[2]);
    close(
        &[scalar(
            &*focal(3.0, false, "sum_over_batch_size"),
            &y_true,
            &y_pred,
            Some(&w),
        )],
        &[0.133],
        3e-3,
    );
    close(
        &[scalar(
            &*focal(3.0, true, "sum_over_batch_size"),
            &y_true,
            &y_pred,
            Some(&w),
        )],
        &[0.097],
        3e-3,
    );
    close(
        &[scalar(&*focal(4.0, false, "sum"), &y_true, &y_pred, None)],
        &[1.222],
        2e-3,
    );
    close(
        &[scalar(&*focal(4.0, true, "sum"), &y_true, &y_pred, None)],
        &[0.914],
        2e-3,
    );
    let none = compute(&*focal(5.0, false, "none"), &y_true, &y_pred, None).unwrap();
    close(&none.to_vec_f32().unwrap(), &[0.0017, 1.1561], 2e-3);
    let none = compute(&*focal(5.0, true, "none"), &y_true, &y_pred, None).unwrap();
    close(&none.to_vec_f32().unwrap(), &[0.0004, 0.8670], 2e-3);
    // function form with probabilities
    let probs = t(&[0.6, 0.4, 0.4, 0.6], &[2, 2]);
    close(
        &values("binary_focal_crossentropy", &[], &y_true, &probs),
        &[0.330, 0.206],
        2e-3,
    );

    let oh = one_hot(&[1, 2], 3);
    let p = t(&[0.05, 0.95, 0.0, 0.1, 0.8, 0.1], &[2, 3]);
    let cf = loss("CategoricalFocalCrossentropy", &[]);
    close(&[scalar(&*cf, &oh, &p, None)], &[0.23315276], 1e-4);
    close(
        &[scalar(&*cf, &oh, &p, Some(&t(&[0.3, 0.7], &[2])))],
        &[0.1632],
        1e-3,
    );
    close(
        &values("CategoricalFocalCrossentropy", &[], &oh, &p),
        &[3.205_833e-5, 0.466_273_5],
        1e-4,
    );
    let p2 = t(&[0.05, 0.9, 0.05, 0.1, 0.85, 0.05], &[2, 3]);
    close(
        &values("categorical_focal_crossentropy", &[], &oh, &p2),
        &[2.634_013e-4, 0.675_912_1],
        1e-4,
    );
}

#[test]
fn regression_losses_match_keras_examples() {
    let y_true = t(&[0., 1., 0., 0.], &[2, 2]);
    let y_pred = t(&[0.6, 0.4, 0.4, 0.6], &[2, 2]);
    let mean = |name: &str, yt: &Tensor, yp: &Tensor| scalar(&*loss(name, &[]), yt, yp, None);
    close(&[mean("huber", &y_true, &y_pred)], &[0.155], 1e-3);
    let yp = t(&[1., 1., 0., 0.], &[2, 2]);
    close(&[mean("log_cosh", &y_true, &yp)], &[0.108], 2e-3);
    close(&[mean("mse", &y_true, &yp)], &[0.25], 1e-6);
    close(&[mean("mae", &y_true, &yp)], &[0.25], 1e-6);
    close(&[mean("msle", &y_true, &yp)], &[0.12011322], 1e-5);
    close(&[mean("mape", &y_true, &yp)], &[2.5e8], 1e-5);
    close(&[mean("poisson", &y_true, &yp)], &[0.49999997], 1e-5);
    close(&[mean("kld", &y_true, &y_pred)], &[0.45814306], 1e-5);
    let ct = t(&[0., 1., 1., 1., 1., 1.], &[3, 2]);
    let cp = t(&[1., 0., 1., 1., -1., -1.], &[3, 2]);
    close(
        &values("cosine_similarity", &[], &ct, &cp),
        &[0.0, -0.99999994, 0.99999994],
        1e-5,
    );
    // hinge converts {0, 1} labels to {-1, 1}
    let ht = t(&[0., 1., 1., 0.], &[2, 2]);
    let hp = t(&[0.6, 0.4, 0.4, 0.6], &[2, 2]);
    close(&values("hinge", &[], &ht, &hp), &[1.1, 1.1], 1e-6);
    close(&values("squared_hinge", &[], &ht, &hp), &[1.46, 1.46], 1e-5);
    close(
        &values("categorical_hinge", &[], &ht, &hp),
        &[1.2, 1.2],
        1e-6,
    );
}

/// Every loss's gradient against central differences, through the default reduction.
#[test]
fn gradients_of_every_loss() {
    let shape = [3, 4];
    let probs = grid(&shape, 1, 0.1, 0.9);
    let labels01 = t(&[0., 1., 1., 0., 1., 0., 0., 1., 1., 1., 0., 0.], &shape);
    let soft = grid(&shape, 5, 0.05, 0.95);
    let onehot = one_hot(&[2, 0, 3], 4);
    let logits = grid(&shape, 3, -3.0, 3.0);
    let f = |b: bool| Param::Bool(b);
    let x = |v: f64| Param::Float(v);
    type Case<'a> = (&'a str, Vec<(&'a str, Param)>, Tensor, Tensor);
    let cases: Vec<Case> = vec![
        ("mean_squared_error", vec![], soft.clone(), logits.clone()),
        ("mean_absolute_error", vec![], soft.clone(), logits.clone()),
        (
            "mean_absolute_percentage_error",
            vec![],
            grid(&shape, 2, 0.5, 2.0),
            logits.clone(),
        ),
        (
            "mean_squared_logarithmic_error",
            vec![],
            soft.clone(),
            probs.clone(),
        ),
        (
            "huber",
            vec![("delta", x(0.7))],
            soft.clone(),
            logits.clone(),
        ),
        ("log_cosh", vec![], soft.clone(), logits.clone()),
        ("poisson", vec![], soft.clone(), probs.clone()),
        ("kl_divergence", vec![], soft.clone(), probs.clone()),
        (
            "hinge",
            vec![],
            labels01.clone(),
            grid(&shape, 4, -0.8, 0.8),
        ),
        ("squared_hinge", vec![], labels01.clone(), logits.clone()),
        ("categorical_hinge", vec![], onehot.clone(), logits.clone()),
        ("cosine_similarity", vec![], soft.clone(), logits.clone()),
        (
            "cosine_similarity",
            vec![("axis", Param::Int(0))],
            soft.clone(),
            logits.clone(),
        ),
        (
            "binary_crossentropy",
            vec![],
            labels01.clone(),
            probs.clone(),
        ),
        (
            "binary_crossentropy",
            vec![("from_logits", f(true))],
            labels01.clone(),
            logits.clone(),
        ),
        (
            "binary_crossentropy",
            vec![
                ("from_logits", f(true)),
                ("label_smoothing", x(0.2)),
                ("axis", Param::Int(0)),
            ],
            labels01.clone(),
            logits.clone(),
        ),
        (
            "binary_crossentropy",
            vec![("label_smoothing", x(0.1))],
            soft.clone(),
            probs.clone(),
        ),
        (
            "binary_focal_crossentropy",
            vec![],
            labels01.clone(),
            probs.clone(),
        ),
        (
            "binary_focal_crossentropy",
            vec![
                ("from_logits", f(true)),
                ("apply_class_balancing", f(true)),
                ("gamma", x(3.0)),
                ("label_smoothing", x(0.1)),
            ],
            labels01.clone(),
            logits.clone(),
        ),
        (
            "categorical_crossentropy",
            vec![],
            onehot.clone(),
            probs.clone(),
        ),
        (
            "categorical_crossentropy",
            vec![("from_logits", f(true))],
            onehot.clone(),
            logits.clone(),
        ),
        (
            "categorical_crossentropy",
            vec![("from_logits", f(true)), ("label_smoothing", x(0.1))],
            onehot.clone(),
            logits.clone(),
        ),
        (
            "categorical_crossentropy",
            vec![("label_smoothing", x(0.2)), ("axis", Param::Int(0))],
            soft.clone(),
            probs.clone(),
        ),
        (
            "categorical_focal_crossentropy",
            vec![],
            onehot.clone(),
            probs.clone(),
        ),
        (
            "categorical_focal_crossentropy",
            vec![
                ("from_logits", f(true)),
                ("label_smoothing", x(0.1)),
                ("alpha", Param::List(vec![0.1, 0.2, 0.3, 0.4])),
                ("gamma", x(1.5)),
            ],
            onehot.clone(),
            logits.clone(),
        ),
    ];
    for (name, args, y_true, y_pred) in cases {
        let l = loss(name, &args);
        check_gradients(
            |x| compute(&*l, &y_true, &x[0], None),
            &[y_pred],
            1e-3,
            2e-2,
        )
        .unwrap_or_else(|e| panic!("{name} {args:?}: {e}"));
    }
    // sparse labels, probabilities and logits, with an ignored class
    let ids = Tensor::from_i64(vec![2, 0, 3], &[3]).unwrap();
    for from_logits in [false, true] {
        let l = loss(
            "sparse_categorical_crossentropy",
            &[("from_logits", f(from_logits))],
        );
        let y_pred = if from_logits {
            logits.clone()
        } else {
            probs.clone()
        };
        check_gradients(|x| compute(&*l, &ids, &x[0], None), &[y_pred], 1e-3, 2e-2).unwrap();
    }
    let l = loss(
        "SparseCategoricalCrossentropy",
        &[("from_logits", f(true)), ("ignore_class", Param::Int(0))],
    );
    check_gradients(
        |x| compute(&*l, &ids, &x[0], None),
        std::slice::from_ref(&logits),
        1e-3,
        2e-2,
    )
    .unwrap();
}

/// Reductions and sample weights follow Keras 3 (`reduce_weighted_values`).
#[test]
fn reductions_and_sample_weights() {
    let y_true = t(&[0., 1., 2., 3., 4., 5.], &[3, 2]);
    let y_pred = t(&[1., 1., 2., 5., 4., 8.], &[3, 2]);
    // per-sample MSE: [0.5, 2.0, 4.5]
    let per = [0.5f32, 2.0, 4.5];
    let red = |r: &str| loss("mse", &[("reduction", Param::Str(r.into()))]);
    close(
        &[scalar(&*red("sum_over_batch_size"), &y_true, &y_pred, None)],
        &[7.0 / 3.0],
        1e-6,
    );
    close(
        &[scalar(&*red("mean"), &y_true, &y_pred, None)],
        &[7.0 / 3.0],
        1e-6,
    );
    close(
        &[scalar(&*red("sum"), &y_true, &y_pred, None)],
        &[7.0],
        1e-6,
    );
    let w = t(&[1.0, 0.5, 0.0], &[3]);
    let weighted = per[0] * 1.0 + per[1] * 0.5;
    close(
        &[scalar(
            &*red("sum_over_batch_size"),
            &y_true,
            &y_pred,
            Some(&w),
        )],
        &[weighted / 3.0],
        1e-6,
    );
    close(
        &[scalar(
            &*red("mean_with_sample_weight"),
            &y_true,
            &y_pred,
            Some(&w),
        )],
        &[weighted / 1.5],
        1e-6,
    );
    let none = compute(&*red("none"), &y_true, &y_pred, Some(&w)).unwrap();
    close(&none.to_vec_f32().unwrap(), &[0.5, 1.0, 0.0], 1e-6);
    // (batch, 1) weights are squeezed to match, a scalar weight scales everything
    let w2 = t(&[1.0, 0.5, 0.0], &[3, 1]);
    close(
        &[scalar(&*red("sum"), &y_true, &y_pred, Some(&w2))],
        &[weighted],
        1e-6,
    );
    close(
        &[scalar(
            &*red("sum"),
            &y_true,
            &y_pred,
            Some(&Tensor::scalar(2.0)),
        )],
        &[14.0],
        1e-6,
    );
    // int64 weights are cast
    let wi = Tensor::from_i64(vec![1, 0, 2], &[3]).unwrap();
    close(
        &[scalar(&*red("sum"), &y_true, &y_pred, Some(&wi))],
        &[0.5 + 9.0],
        1e-6,
    );
    // weights are differentiated through: gradient of the weighted mean
    let l = red("sum_over_batch_size");
    check_gradients(
        |x| compute(&*l, &y_true, &x[0], Some(&w)),
        std::slice::from_ref(&y_pred),
        1e-3,
        1e-2,
    )
    .unwrap();
    // (batch,) labels against (batch, 1) predictions are aligned, not broadcast
    let yt = t(&[1., 2., 3.], &[3]);
    let yp = t(&[1., 2., 5.], &[3, 1]);
    close(&values("mse", &[], &yt, &yp), &[0.0, 0.0, 4.0], 1e-6);
}

#[test]
fn ignore_class_masks_the_mean() {
    let y_pred = t(&[0.05, 0.95, 0.0, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4], &[3, 3]);
    let ids = Tensor::from_i64(vec![1, -1, 2], &[3]).unwrap();
    let l = loss(
        "SparseCategoricalCrossentropy",
        &[("ignore_class", Param::Int(-1))],
    );
    let v = l.call(&ids, &y_pred).unwrap().to_vec_f32().unwrap();
    close(&v, &[-(0.95f32.ln()), 0.0, -(0.4f32.ln())], 1e-5);
    // the mean runs over the two valid samples only
    close(
        &[scalar(&*l, &ids, &y_pred, None)],
        &[(v[0] + v[2]) / 2.0],
        1e-6,
    );
}

#[test]
fn bad_inputs_name_the_loss_and_values() {
    let y_pred = t(&[0.2, 0.3, 0.5, 0.1, 0.1, 0.8], &[2, 3]);
    let l = loss("sparse_categorical_crossentropy", &[]);
    let e = l
        .call(&Tensor::from_i64(vec![1, 7], &[2]).unwrap(), &y_pred)
        .unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, Error::Value(_)));
    assert!(
        m.contains("sparse_categorical_crossentropy") && m.contains('7') && m.contains("3 classes"),
        "{m}"
    );
    let e = l
        .call(&Tensor::from_i64(vec![-2, 0], &[2]).unwrap(), &y_pred)
        .unwrap_err();
    assert!(e.to_string().contains("-2"), "{e}");
    let e = l.call(&t(&[0.5, 1.0], &[2]), &y_pred).unwrap_err();
    assert!(e.to_string().contains("integer class ids"), "{e}");
    let e = l.call(&one_hot(&[0, 1], 3), &y_pred).unwrap_err();
    assert!(
        e.to_string().contains("[2, 3]") && e.to_string().contains("categorical_crossentropy"),
        "{e}"
    );
    let e = loss("categorical_crossentropy", &[])
        .call(&Tensor::from_i64(vec![0, 1], &[2]).unwrap(), &y_pred)
        .unwrap_err();
    assert!(
        e.to_string().contains("[2]") && e.to_string().contains("[2, 3]"),
        "{e}"
    );
    assert!(
        e.to_string().contains("sparse_categorical_crossentropy"),
        "{e}"
    );
    let e = loss("mse", &[])
        .call(&t(&[1.0; 4], &[2, 2]), &y_pred)
        .unwrap_err();
    assert!(
        e.to_string().contains("mean_squared_error") && e.to_string().contains("[2, 2]"),
        "{e}"
    );
    let e = loss("mse", &[])
        .call(&t(&[], &[0, 3]), &t(&[], &[0, 3]))
        .unwrap_err();
    assert!(
        e.to_string().contains("empty") || e.to_string().contains("non-empty"),
        "{e}"
    );
    let e = compute(
        &*loss("mse", &[]),
        &y_pred,
        &y_pred,
        Some(&t(&[1.0; 3], &[3])),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("sample_weight") && e.to_string().contains("[3]"),
        "{e}"
    );
    assert!(losses::from_config("nope", &Config::new()).is_err());
    let e = losses::from_config("Huber", &cfg(&[("deltaa", Param::Float(1.0))]))
        .err()
        .unwrap();
    assert!(matches!(e, Error::Type(_)) && e.to_string().contains("deltaa"));
    let e = losses::from_config("mse", &cfg(&[("reduction", Param::Str("avg".into()))]))
        .err()
        .unwrap();
    assert!(e.to_string().contains("reduction"));
}

#[test]
fn names_identifiers_and_resolution() {
    let l = loss("mse", &[]);
    assert_eq!(l.name(), "mean_squared_error");
    assert_eq!(l.reduction(), Reduction::SumOverBatchSize);
    assert_eq!(loss("Huber", &[]).name(), "huber_loss");
    assert_eq!(losses::class_name("bce"), Some("BinaryCrossentropy"));
    assert_eq!(losses::class_name("KLDivergence"), Some("KLDivergence"));
    assert_eq!(
        losses::resolve_identifier("ce", &[8], &[8, 10]),
        "sparse_categorical_crossentropy"
    );
    assert_eq!(
        losses::resolve_identifier("crossentropy", &[8, 1], &[8, 1]),
        "binary_crossentropy"
    );
    assert_eq!(
        losses::resolve_identifier("CE", &[8, 10], &[8, 10]),
        "categorical_crossentropy"
    );
    assert_eq!(losses::resolve_identifier("mse", &[8, 10], &[8, 10]), "mse");
    let k = Kind::from_config("cce", &Config::new(), &[]);
    assert!(k.is_err());
}

#[test]
fn large_batches_run_in_parallel_and_agree() {
    // above the parallel threshold: compare with a small-batch evaluation row by row
    let rows = 5000;
    let logits = grid(&[rows, 10], 11, -4.0, 4.0);
    let ids = Tensor::from_i64((0..rows as i64).map(|i| i % 10).collect(), &[rows]).unwrap();
    let l = loss(
        "sparse_categorical_crossentropy",
        &[
            ("from_logits", Param::Bool(true)),
            ("reduction", Param::None),
        ],
    );
    let all = l.call(&ids, &logits).unwrap().to_vec_f32().unwrap();
    let d = logits.to_vec_f32().unwrap();
    for r in [0, 1234, 4999] {
        let row = t(&d[r * 10..r * 10 + 10], &[1, 10]);
        let id = Tensor::from_i64(vec![(r % 10) as i64], &[1]).unwrap();
        let one = l.call(&id, &row).unwrap().to_vec_f32().unwrap();
        close(&one, &all[r..r + 1], 1e-6);
    }
    let w = ember::autograd::watch(&logits);
    let total = compute(
        &*loss(
            "sparse_categorical_crossentropy",
            &[("from_logits", Param::Bool(true))],
        ),
        &ids,
        &w,
        None,
    )
    .unwrap();
    let g = ember::autograd::grad(&total, None, &[]).unwrap();
    let gw = g
        .get(&w.node().unwrap().id())
        .unwrap()
        .to_vec_f32()
        .unwrap();
    // each row's gradient sums to zero (softmax minus one-hot), scaled by 1/rows
    for r in [0, 2500, 4999] {
        let s: f32 = gw[r * 10..r * 10 + 10].iter().sum();
        assert!(s.abs() < 1e-7, "{s}");
    }
}
