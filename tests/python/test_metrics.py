"""ember.metrics against Keras's documented values and numpy references: accumulation over
weighted batches, reset, configs, identifiers, "accuracy" resolution and bad inputs."""
import numpy as np
import pytest

import ember
from ember import metrics

RNG = np.random.default_rng(1)
EPS = 1e-7


def value(m):
    return np.asarray(m.result())


def feed(m, batches):
    for args in batches:
        m.update_state(*args)
    return value(m)


def split(*arrays, parts=3):
    """The same rows in `parts` consecutive batches."""
    n = len(arrays[0])
    cuts = np.linspace(0, n, parts + 1).astype(int)
    return [tuple(a[i:j] for a in arrays) for i, j in zip(cuts[:-1], cuts[1:])]


# ------------------------------------------------------------- Keras docstring values
def test_reduction_metrics():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert float(m.result()) == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert float(m.result()) == 2.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert float(s.result()) == 16.0
    s.reset_state()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert float(s.result()) == 4.0
    assert float(metrics.Mean()(np.array([2.0, 4.0]))) == 3.0


@pytest.mark.parametrize("cls, args, y_true, y_pred, weight, expect", [
    (metrics.Accuracy, {}, [[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0], (0.75, 0.5)),
    (metrics.BinaryAccuracy, {}, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1], (0.75, 0.5)),
    (metrics.CategoricalAccuracy, {}, [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3],
     (0.5, 0.3)),
    (metrics.SparseCategoricalAccuracy, {}, [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], [0.7, 0.3],
     (0.5, 0.3)),
    (metrics.TopKCategoricalAccuracy, {"k": 1}, [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
     [0.7, 0.3], (0.5, 0.3)),
    (metrics.SparseTopKCategoricalAccuracy, {"k": 1}, [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], [0.7, 0.3],
     (0.5, 0.3)),
    (metrics.MeanAbsoluteError, {}, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], (0.25, 0.5)),
    (metrics.MeanAbsolutePercentageError, {}, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], (2.5e8, 5e8)),
    (metrics.MeanSquaredLogarithmicError, {}, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0],
     (0.12011322, 0.24022643)),
    (metrics.RootMeanSquaredError, {}, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], (0.5, 0.70710677)),
    (metrics.LogCoshError, {}, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], (0.10844523, 0.21689045)),
    (metrics.CosineSimilarity, {"axis": 1}, [[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]], [0.3, 0.7],
     (0.49999997, 0.6999999)),
    (metrics.KLDivergence, {}, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], [1, 0], (0.45814306, 0.9162892)),
    (metrics.Poisson, {}, [[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0], (0.49999997, 0.99999994)),
    (metrics.BinaryCrossentropy, {}, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], [1, 0],
     (0.81492424, 0.9162905)),
    (metrics.CategoricalCrossentropy, {}, [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     [0.3, 0.7], (1.1769392, 1.6271976)),
    (metrics.SparseCategoricalCrossentropy, {}, [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], [0.3, 0.7],
     (1.1769392, 1.6271976)),
    (metrics.Precision, {}, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], (0.6666667, 1.0)),
    (metrics.Recall, {}, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], (0.6666667, 1.0)),
    (metrics.TruePositives, {}, [0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0], (2.0, 1.0)),
    (metrics.FalsePositives, {}, [0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 0], (2.0, 1.0)),
    (metrics.TrueNegatives, {}, [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], (2.0, 1.0)),
    (metrics.FalseNegatives, {}, [0, 1, 1, 1], [0, 1, 0, 0], [0, 0, 1, 0], (2.0, 1.0)),
    (metrics.AUC, {"num_thresholds": 3}, [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1], (0.75, 1.0)),
    (metrics.SensitivityAtSpecificity, {"specificity": 0.5}, [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     [1, 1, 2, 2, 1], (0.5, 0.333333)),
    (metrics.SpecificityAtSensitivity, {"sensitivity": 0.5}, [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8],
     [1, 1, 2, 2, 2], (0.66666667, 0.5)),
    (metrics.PrecisionAtRecall, {"recall": 0.5}, [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], [2, 2, 2, 1, 1],
     (0.5, 0.33333333)),
    (metrics.RecallAtPrecision, {"precision": 0.8}, [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1],
     (0.5, 1.0)),
])
def test_keras_docstring_examples(cls, args, y_true, y_pred, weight, expect):
    m = cls(**args)
    m.update_state(y_true, y_pred)
    assert float(m.result()) == pytest.approx(expect[0], rel=1e-5)
    m.reset_state()
    m.update_state(y_true, y_pred, sample_weight=weight)
    assert float(m.result()) == pytest.approx(expect[1], rel=1e-5)


def test_f_scores_and_r2_examples():
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(y_true, y_pred)
    np.testing.assert_allclose(value(f1), [0.5, 0.8, 0.6666667], rtol=1e-5)
    fb = metrics.FBetaScore(beta=2.0, threshold=0.5)
    fb.update_state(y_true, y_pred)
    np.testing.assert_allclose(value(fb), [0.3846154, 0.90909094, 0.8333334], rtol=1e-5)
    r2 = metrics.R2Score()
    r2.update_state(np.array([[1], [4], [3]], np.float32), np.array([[2], [4], [4]], np.float32))
    assert float(r2.result()) == pytest.approx(0.57142854, rel=1e-5)


# ------------------------------------------------------------------ numpy references
def confusion_ref(y, p, w, thresholds):
    y, p, w = (np.ravel(a).astype("float64") for a in (y, p, w))
    pos = p[None, :] > np.asarray(thresholds, dtype="float32")[:, None]
    tp = (pos * (y == 1) * w).sum(1)
    fp = (pos * (y == 0) * w).sum(1)
    fn = (~pos * (y == 1) * w).sum(1)
    tn = (~pos * (y == 0) * w).sum(1)
    return tp, fp, tn, fn


def no_nan(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def auc_ref(y, p, w, num_thresholds, curve, summation):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    tp, fp, tn, fn = confusion_ref(y, p, w, [-EPS] + inner + [1 + EPS])
    if curve == "PR" and summation == "interpolation":
        dtp = tp[:-1] - tp[1:]
        pp = tp + fp
        dp = pp[:-1] - pp[1:]
        slope = no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pp[1:]
        ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), no_nan(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
    recall = no_nan(tp, tp + fn)
    x, yv = (no_nan(fp, fp + tn), recall) if curve == "ROC" else (recall, no_nan(tp, tp + fp))
    heights = {"interpolation": (yv[:-1] + yv[1:]) / 2, "minoring": np.minimum(yv[:-1], yv[1:]),
               "majoring": np.maximum(yv[:-1], yv[1:])}[summation]
    return ((x[:-1] - x[1:]) * heights).sum()


N = 60
Y = RNG.integers(0, 2, N).astype("float32")
P = np.clip(0.4 * Y + RNG.uniform(0, 0.6, N), 0, 1).astype("float32")
W = RNG.uniform(0, 2, N).astype("float32")


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation", ["interpolation", "minoring", "majoring"])
def test_auc_matches_numpy_over_batches(curve, summation):
    m = metrics.AUC(num_thresholds=50, curve=curve, summation_method=summation)
    got = feed(m, split(Y, P, W))
    np.testing.assert_allclose(got, auc_ref(Y, P, W, 50, curve, summation), rtol=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_auc_from_logits_and_explicit_thresholds():
    logits = np.log(P / (1 - P + 1e-6) + 1e-6).astype("float32")
    a, b = metrics.AUC(), metrics.AUC(from_logits=True)
    a.update_state(Y, P)
    b.update_state(Y, logits)
    assert float(b.result()) == pytest.approx(float(a.result()), abs=2e-3)
    m = metrics.AUC(thresholds=[0.7, 0.3, 0.5])
    assert m.thresholds == [-1e-7, 0.3, 0.5, 0.7, 1 + 1e-7] and m.num_thresholds == 5
    m.update_state(Y, P)
    tp, fp, tn, fn = confusion_ref(Y, P, np.ones(N), m.thresholds)
    recall, fpr = no_nan(tp, tp + fn), no_nan(fp, fp + tn)
    expect = ((fpr[:-1] - fpr[1:]) * (recall[:-1] + recall[1:]) / 2).sum()
    assert float(m.result()) == pytest.approx(expect, rel=1e-5)
    assert m.get_config()["thresholds"] == [0.3, 0.5, 0.7]


def test_multi_label_auc_averages_labels():
    y = RNG.integers(0, 2, (40, 3)).astype("float32")
    p = np.clip(0.5 * y + RNG.uniform(0, 0.5, (40, 3)), 0, 1).astype("float32")
    m = metrics.AUC(multi_label=True, num_thresholds=30)
    m.update_state(y, p)
    per = [auc_ref(y[:, j], p[:, j], np.ones(40), 30, "ROC", "interpolation") for j in range(3)]
    assert float(m.result()) == pytest.approx(np.mean(per), rel=1e-5)
    lw = metrics.AUC(multi_label=True, num_thresholds=30, label_weights=[1.0, 0.0, 3.0])
    lw.update_state(y, p)
    assert float(lw.result()) == pytest.approx((per[0] + 3 * per[2]) / 4, rel=1e-5)


def test_precision_recall_thresholds_top_k_class_id():
    thresholds = [0.2, 0.5, 0.8]
    tp, fp, tn, fn = confusion_ref(Y, P, W, thresholds)
    p = metrics.Precision(thresholds=thresholds)
    np.testing.assert_allclose(feed(p, split(Y, P, W)), tp / (tp + fp), rtol=1e-5)
    r = metrics.Recall(thresholds=thresholds)
    np.testing.assert_allclose(feed(r, split(Y, P, W)), tp / (tp + fn), rtol=1e-5)
    y2 = RNG.integers(0, 2, (20, 4)).astype("float32")
    p2 = RNG.uniform(0, 1, (20, 4)).astype("float32")
    c = metrics.Recall(class_id=2)
    c.update_state(y2, p2)
    t, q = y2[:, 2], p2[:, 2]
    assert float(c.result()) == pytest.approx(((q > 0.5) & (t == 1)).sum() / (t == 1).sum(), rel=1e-6)
    k = metrics.Precision(top_k=2)
    k.update_state(y2, p2)
    top = np.argsort(-p2, axis=1, kind="stable")[:, :2]
    hits = np.take_along_axis(y2, top, axis=1)
    assert float(k.result()) == pytest.approx(hits.mean(), rel=1e-6)


def test_f1_averages_match_numpy():
    y = RNG.integers(0, 2, (30, 4)).astype("float32")
    p = RNG.uniform(0, 1, (30, 4)).astype("float32")
    w = RNG.uniform(0.5, 1.5, 30).astype("float32")
    pred = (p > 0.5).astype("float64")
    wc = w[:, None].astype("float64")
    tp, fp, fn = (pred * y * wc).sum(0), (pred * (1 - y) * wc).sum(0), ((1 - pred) * y * wc).sum(0)

    def f1(tp, fp, fn):
        prec, rec = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
        return 2 * prec * rec / (prec + rec + EPS)

    per = f1(tp, fp, fn)
    support = (y * wc).sum(0)
    for average, expect in [(None, per), ("macro", per.mean()),
                            ("weighted", (per * support / (support.sum() + EPS)).sum()),
                            ("micro", f1(tp.sum(), fp.sum(), fn.sum()))]:
        m = metrics.F1Score(average=average, threshold=0.5)
        np.testing.assert_allclose(feed(m, split(y, p, w)), expect, rtol=1e-5)


def test_r2_matches_numpy():
    y = RNG.normal(size=(50, 3)).astype("float32")
    p = (y + 0.5 * RNG.normal(size=(50, 3))).astype("float32")
    w = RNG.uniform(0.5, 1.5, 50).astype("float32")
    wc = np.repeat(w[:, None], 3, axis=1).astype("float64")
    mean = (y * wc).sum(0) / wc.sum(0)
    ss_tot = (wc * y * y).sum(0) - (y * wc).sum(0) * mean
    ss_res = (wc * (y - p) ** 2).sum(0)
    raw = 1 - ss_res / ss_tot
    for agg, expect in [(None, raw), ("uniform_average", raw.mean()),
                        ("variance_weighted_average", (raw * ss_tot).sum() / ss_tot.sum())]:
        m = metrics.R2Score(class_aggregation=agg)
        np.testing.assert_allclose(feed(m, split(y, p, w)), expect, rtol=1e-4)
    adj = metrics.R2Score(num_regressors=2)
    adj.update_state(y, p)
    r2 = 1 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    n = y.size
    assert float(adj.result()) == pytest.approx(1 - (1 - r2.mean()) * (n - 1) / (n - 2 - 1), rel=1e-4)


def test_mean_based_metrics_accumulate_weighted_batches():
    y = RNG.integers(0, 3, 40)
    logits = RNG.normal(size=(40, 3)).astype("float32")
    w = RNG.uniform(0, 2, 40).astype("float32")
    onehot = np.eye(3, dtype="float32")[y]
    hits = (logits.argmax(1) == y).astype("float64")
    expect = (hits * w).sum() / w.sum()
    for m, yt in [(metrics.SparseCategoricalAccuracy(), y), (metrics.CategoricalAccuracy(), onehot)]:
        assert feed(m, split(yt, logits, w, parts=4)) == pytest.approx(expect, rel=1e-6)
    rank = (logits > logits[np.arange(40), y][:, None]).sum(1)
    top2 = ((rank < 2) * w).sum() / w.sum()
    assert feed(metrics.SparseTopKCategoricalAccuracy(k=2), split(y, logits, w)) == pytest.approx(top2)
    assert feed(metrics.TopKCategoricalAccuracy(k=2), split(onehot, logits, w)) == pytest.approx(top2)
    yr, pr = RNG.normal(size=(40, 2)).astype("float32"), RNG.normal(size=(40, 2)).astype("float32")
    per = ((yr - pr) ** 2).mean(1)
    assert feed(metrics.MeanSquaredError(), split(yr, pr, w)) == pytest.approx((per * w).sum() / w.sum(),
                                                                               rel=1e-5)
    assert feed(metrics.RootMeanSquaredError(), split(yr, pr, w)) == pytest.approx(
        np.sqrt((per * w).sum() / w.sum()), rel=1e-5)
    ce = -np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))[np.arange(40), y]
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    assert feed(m, split(y, logits, w)) == pytest.approx((ce * w).sum() / w.sum(), rel=1e-5)
    ba = metrics.BinaryAccuracy(threshold=0.3)
    yb, pb = Y.reshape(-1, 1), P.reshape(-1, 1)
    assert feed(ba, split(yb, pb, W)) == pytest.approx((((P > 0.3) == Y) * W).sum() / W.sum(), rel=1e-6)


# ------------------------------------------------------------------------- functions
def test_metric_functions():
    np.testing.assert_array_equal(metrics.binary_accuracy([[1], [0], [1]], [[0.7], [0.6], [0.2]]),
                                  [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(metrics.binary_accuracy([[1, 0]], [[0.7, 0.6]], threshold=0.65), [1.0])
    y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    np.testing.assert_array_equal(metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], y_pred), [0.0, 1.0])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([2, 1], y_pred), [0.0, 1.0])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([[2], [1]], y_pred), [0.0, 1.0])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]], y_pred, k=2),
                                  [1.0, 1.0])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([0, 1], y_pred, k=1), [0.0, 1.0])
    np.testing.assert_allclose(metrics.mean_squared_error([[0, 1]], [[1, 1]]), [0.5])
    assert metrics.hinge is ember.losses.hinge


# ---------------------------------------------------------- identifiers and configs
def test_get_and_resolve():
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert isinstance(metrics.get("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("sparse_top_k_categorical_accuracy"), metrics.SparseTopKCategoricalAccuracy)
    assert isinstance(metrics.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}}),
                      metrics.CategoricalCrossentropy)
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get("nope")

    r = metrics.resolve
    sparse = r("accuracy", y_true_shape=(None,), output_shape=(None, 10))
    assert type(sparse) is metrics.SparseCategoricalAccuracy
    assert type(r("acc", y_true_shape=(32, 1), output_shape=(32, 10))) is metrics.SparseCategoricalAccuracy
    assert type(r("accuracy", y_true_shape=(32, 10), output_shape=(32, 10))) is metrics.CategoricalAccuracy
    assert type(r("accuracy", y_true_shape=(32, 1), output_shape=(32, 1))) is metrics.BinaryAccuracy
    assert type(r("accuracy", loss="binary_crossentropy", output_shape=(None, 1))) is metrics.BinaryAccuracy
    assert type(r("accuracy", loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True),
                  output_shape=(None, 10))) is metrics.SparseCategoricalAccuracy
    assert type(r("accuracy", loss=ember.losses.categorical_crossentropy)) is metrics.CategoricalAccuracy
    assert type(r("accuracy", loss="mse", output_shape=(None, 1))) is metrics.BinaryAccuracy
    assert type(r("ce", y_true_shape=(8,), output_shape=(8, 4))) is metrics.SparseCategoricalCrossentropy
    m = r("acc", y_true_shape=(4,), output_shape=(4, 3))
    assert m.name == "acc"
    m.update_state([0, 2], [[0.9, 0.05, 0.05], [0.1, 0.2, 0.7]])
    assert float(m.result()) == 1.0
    mse = r("mse")
    assert isinstance(mse, metrics.MeanSquaredError) and mse.name == "mse"
    wrapped = r(metrics.binary_accuracy)
    assert isinstance(wrapped, metrics.MeanMetricWrapper) and wrapped.name == "binary_accuracy"
    auc = metrics.AUC()
    assert r(auc) is auc
    assert r(None) is None


@pytest.mark.parametrize("cls, kwargs", [
    (metrics.Mean, {}), (metrics.Sum, {}), (metrics.BinaryAccuracy, {"threshold": 0.3}),
    (metrics.TopKCategoricalAccuracy, {"k": 2}), (metrics.SparseTopKCategoricalAccuracy, {"k": 3}),
    (metrics.CosineSimilarity, {"axis": 0}), (metrics.R2Score, {"class_aggregation": None}),
    (metrics.AUC, {"curve": "PR", "num_thresholds": 20}), (metrics.Precision, {"thresholds": [0.3, 0.6]}),
    (metrics.Recall, {"top_k": 2, "class_id": 1}), (metrics.TruePositives, {"thresholds": 0.4}),
    (metrics.F1Score, {"average": "macro", "threshold": 0.4}), (metrics.FBetaScore, {"beta": 2.0}),
    (metrics.SensitivityAtSpecificity, {"specificity": 0.7, "num_thresholds": 10}),
    (metrics.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.1}),
    (metrics.SparseCategoricalCrossentropy, {"from_logits": True}), (metrics.LogCoshError, {}),
])
def test_config_round_trip(cls, kwargs):
    a = cls(**kwargs)
    b = cls.from_config(a.get_config())
    assert b.get_config() == a.get_config()
    c = metrics.deserialize(metrics.serialize(a))
    assert type(c) is cls and c.get_config() == a.get_config()
    assert isinstance(a._native, ember._native.NativeMetric)


def test_default_names():
    assert metrics.LogCoshError().name == "logcosh"
    assert metrics.FBetaScore().name == "fbeta_score"
    first, second = metrics.Precision(), metrics.Precision()
    assert first.name.startswith("precision") and second.name != first.name
    assert metrics.MeanMetricWrapper(lambda t, p: p).name.startswith("mean_metric_wrapper")


def test_custom_metrics():
    class Count(metrics.Metric):
        def __init__(self, name="count", **kwargs):
            super().__init__(name=name, **kwargs)
            self.n = self.add_variable(shape=(), initializer="zeros", name="n")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign(np.asarray(self.n) + len(y_true))

        def result(self):
            return self.n.value

    c = Count()
    c.update_state([1, 2, 3], [1, 2, 3])
    assert float(c(np.zeros(2), np.zeros(2))) == 5.0
    c.reset_state()
    assert float(c.result()) == 0.0
    w = metrics.MeanMetricWrapper(lambda t, p: ember.losses.mean_absolute_error(t, p), name="mae2")
    w.update_state(np.ones((2, 3)), np.zeros((2, 3)), sample_weight=[1.0, 3.0])
    assert float(w.result()) == 1.0 and w.name == "mae2"


# ------------------------------------------------------------------------ bad inputs
def test_bad_inputs():
    with pytest.raises(ValueError, match=r"\[4\].*\[4, 3\]"):
        metrics.CategoricalAccuracy().update_state(np.array([0, 1, 2, 0]), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\[3\].*\[4\]"):
        metrics.Precision().update_state([0, 1, 1], [0.2, 0.4, 0.6, 0.8])
    with pytest.raises(ValueError, match=r"\[5\].*\[4, 3\]"):
        metrics.SparseCategoricalAccuracy().update_state(np.arange(5), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="sample_weight"):
        metrics.Mean().update_state([1.0, 2.0], sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2D"):
        metrics.F1Score().update_state([1, 0], [0.4, 0.6])
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=1.0)
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="Threshold values must be in"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="avg")
    with pytest.raises(ValueError, match="class_id 5"):
        metrics.Recall(class_id=5).update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="empty"):
        metrics.Mean().update_state(np.zeros(0))
