"""ember.losses against float64 numpy references of Keras 3's formulas: values, reductions,
sample weights, gradients through GradientTape, identifiers, configs and bad inputs."""
import numpy as np
import pytest

import ember
from ember import losses

EPS = 1e-7
RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ numpy references
def softplus(x):
    return np.logaddexp(x, 0.0)


def log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def l2n(x, axis):
    return x / np.maximum(np.sqrt((x * x).sum(axis=axis, keepdims=True)), EPS)


def hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def bce_probs(t, p):
    pc = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(pc) + (1 - t) * np.log(1 - pc))


def ref(name, t, p, **kw):
    """Per-sample values of Keras 3's loss functions, in float64."""
    t = np.asarray(t, dtype="float64")
    p = np.asarray(p, dtype="float64")
    axis = kw.get("axis", -1)
    ls = kw.get("label_smoothing", 0.0)
    logits = kw.get("from_logits", False)
    if name == "mean_squared_error":
        return ((t - p) ** 2).mean(-1)
    if name == "mean_absolute_error":
        return np.abs(t - p).mean(-1)
    if name == "mean_absolute_percentage_error":
        return 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)
    if name == "mean_squared_logarithmic_error":
        return ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)
    if name == "huber":
        d = kw.get("delta", 1.0)
        e = p - t
        return np.where(np.abs(e) <= d, 0.5 * e * e, d * np.abs(e) - 0.5 * d * d).mean(-1)
    if name == "log_cosh":
        return np.log(np.cosh(p - t)).mean(-1)
    if name == "poisson":
        return (p - t * np.log(p + EPS)).mean(-1)
    if name == "kl_divergence":
        tc, pc = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
        return (tc * np.log(tc / pc)).sum(-1)
    if name == "hinge":
        return np.maximum(1 - hinge_labels(t) * p, 0).mean(-1)
    if name == "squared_hinge":
        return (np.maximum(1 - hinge_labels(t) * p, 0) ** 2).mean(-1)
    if name == "categorical_hinge":
        pos = (t * p).sum(-1)
        neg = ((1 - t) * p).max(-1)
        return np.maximum(neg - pos + 1, 0)
    if name == "cosine_similarity":
        return -(l2n(t, axis) * l2n(p, axis)).sum(axis)
    if name == "binary_crossentropy":
        t = t * (1 - ls) + 0.5 * ls
        v = softplus(p) - p * t if logits else bce_probs(t, p)
        return v.mean(axis)
    if name == "binary_focal_crossentropy":
        t = t * (1 - ls) + 0.5 * ls
        if logits:
            p = 1 / (1 + np.exp(-p))
        p_t = t * p + (1 - t) * (1 - p)
        v = (1 - p_t) ** kw.get("gamma", 2.0) * bce_probs(t, p)
        if kw.get("apply_class_balancing", False):
            a = kw.get("alpha", 0.25)
            v = (t * a + (1 - t) * (1 - a)) * v
        return v.mean(axis)
    if name in ("categorical_crossentropy", "categorical_focal_crossentropy"):
        if ls:
            t = t * (1 - ls) + ls / t.shape[axis]
        if name == "categorical_crossentropy" and logits:
            return -(t * log_softmax(p, axis)).sum(axis)
        if logits:
            p = np.exp(log_softmax(p, axis))
        q = np.clip(p / p.sum(axis, keepdims=True), EPS, 1 - EPS)
        if name == "categorical_crossentropy":
            return -(t * np.log(q)).sum(axis)
        alpha = np.asarray(kw.get("alpha", 0.25))
        return (alpha * (1 - q) ** kw.get("gamma", 2.0) * -t * np.log(q)).sum(axis)
    if name == "sparse_categorical_crossentropy":
        ids = t.astype(int)
        onehot = np.eye(p.shape[-1])[ids]
        return ref("categorical_crossentropy", onehot, p, from_logits=logits)
    raise KeyError(name)


def reduce_ref(values, weight=None, reduction="sum_over_batch_size"):
    v = np.asarray(values, dtype="float64")
    if weight is not None:
        w = np.asarray(weight, dtype="float64")
        if w.ndim == v.ndim + 1 and w.shape[-1] == 1:
            # Keras's squeeze_or_expand_to_same_rank: 1-D values gain a trailing axis
            if v.ndim == 1:
                v = v[:, None]
            else:
                w = w[..., 0]
        v = v * w
    if reduction in (None, "none"):
        return v
    if reduction == "sum":
        return v.sum()
    if reduction == "mean_with_sample_weight" and weight is not None:
        return v.sum() / np.sum(weight)
    return v.sum() / v.size


def num_grad(f, x, h=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


B, C = 5, 4
PROBS = RNG.uniform(0.05, 0.95, (B, C))
LOGITS = RNG.uniform(-3, 3, (B, C))
BIN = RNG.integers(0, 2, (B, C)).astype("float64")
SOFT = RNG.uniform(0.05, 0.95, (B, C))
IDS = RNG.integers(0, C, (B,))
ONEHOT = np.eye(C)[IDS]
POS = RNG.uniform(0.5, 2.0, (B, C))

# (function, kwargs, class, y_true, y_pred)
CASES = [
    ("mean_squared_error", {}, losses.MeanSquaredError, SOFT, LOGITS),
    ("mean_absolute_error", {}, losses.MeanAbsoluteError, SOFT, LOGITS),
    ("mean_absolute_percentage_error", {}, losses.MeanAbsolutePercentageError, POS, LOGITS),
    ("mean_squared_logarithmic_error", {}, losses.MeanSquaredLogarithmicError, SOFT, PROBS),
    ("huber", {"delta": 0.8}, losses.Huber, SOFT, LOGITS),
    ("log_cosh", {}, losses.LogCosh, SOFT, LOGITS),
    ("poisson", {}, losses.Poisson, SOFT, PROBS),
    ("kl_divergence", {}, losses.KLDivergence, SOFT, PROBS),
    ("hinge", {}, losses.Hinge, BIN, LOGITS),
    ("squared_hinge", {}, losses.SquaredHinge, BIN, LOGITS),
    ("categorical_hinge", {}, losses.CategoricalHinge, ONEHOT, LOGITS),
    ("cosine_similarity", {"axis": -1}, losses.CosineSimilarity, SOFT, LOGITS),
    ("cosine_similarity", {"axis": 0}, losses.CosineSimilarity, SOFT, LOGITS),
    ("binary_crossentropy", {}, losses.BinaryCrossentropy, BIN, PROBS),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, losses.BinaryCrossentropy, BIN,
     LOGITS),
    ("binary_crossentropy", {"from_logits": True, "axis": 0}, losses.BinaryCrossentropy, BIN, LOGITS),
    ("binary_focal_crossentropy", {"gamma": 2.0}, losses.BinaryFocalCrossentropy, BIN, PROBS),
    ("binary_focal_crossentropy",
     {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5, "from_logits": True, "label_smoothing": 0.2},
     losses.BinaryFocalCrossentropy, BIN, LOGITS),
    ("categorical_crossentropy", {}, losses.CategoricalCrossentropy, ONEHOT, PROBS),
    ("categorical_crossentropy", {"from_logits": True}, losses.CategoricalCrossentropy, ONEHOT, LOGITS),
    ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.1},
     losses.CategoricalCrossentropy, SOFT, LOGITS),
    ("categorical_crossentropy", {"label_smoothing": 0.2, "axis": 0}, losses.CategoricalCrossentropy, SOFT,
     PROBS),
    ("categorical_focal_crossentropy", {}, losses.CategoricalFocalCrossentropy, ONEHOT, PROBS),
    ("categorical_focal_crossentropy",
     {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 3.0, "from_logits": True, "label_smoothing": 0.1},
     losses.CategoricalFocalCrossentropy, ONEHOT, LOGITS),
    ("sparse_categorical_crossentropy", {}, losses.SparseCategoricalCrossentropy, IDS, PROBS),
    ("sparse_categorical_crossentropy", {"from_logits": True}, losses.SparseCategoricalCrossentropy, IDS,
     LOGITS),
]
IDS_OF = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def class_kwargs(name, kw):
    kw = dict(kw)
    if name in ("huber", "cosine_similarity", "binary_crossentropy", "categorical_crossentropy",
                "binary_focal_crossentropy", "categorical_focal_crossentropy",
                "sparse_categorical_crossentropy"):
        return kw
    return {}


@pytest.mark.parametrize("case", CASES, ids=IDS_OF)
def test_function_values_match_numpy(case):
    name, kw, _, y_true, y_pred = case
    got = np.asarray(getattr(losses, name)(y_true, y_pred.astype("float32"), **kw))
    np.testing.assert_allclose(got, ref(name, y_true, y_pred, **kw), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS_OF)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "none", None,
                                       "mean_with_sample_weight"])
def test_reductions_and_weights_match_numpy(case, reduction):
    name, kw, cls, y_true, y_pred = case
    loss = cls(reduction=reduction, **class_kwargs(name, kw))
    values = ref(name, y_true, y_pred, **kw)
    np.testing.assert_allclose(np.asarray(loss(y_true, y_pred)), reduce_ref(values, None, reduction),
                               rtol=2e-5, atol=2e-6)
    if values.ndim == 1:
        for w in (RNG.uniform(0, 2, values.shape), RNG.uniform(0, 2, values.shape + (1,))):
            np.testing.assert_allclose(np.asarray(loss(y_true, y_pred, sample_weight=w)),
                                       reduce_ref(values, w, reduction), rtol=2e-5, atol=2e-6)
    got = np.asarray(loss(y_true, y_pred, sample_weight=2.0))
    np.testing.assert_allclose(got, reduce_ref(values, 2.0, reduction), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS_OF)
def test_gradients_match_numerical_gradient_of_reference(case):
    name, kw, cls, y_true, y_pred = case
    loss = cls(**class_kwargs(name, kw))
    w = RNG.uniform(0.5, 1.5, ref(name, y_true, y_pred, **kw).shape)
    x = ember.convert_to_tensor(y_pred.astype("float32"))
    with ember.GradientTape() as tape:
        x = tape.watch(x)
        value = loss(y_true, x, sample_weight=w)
    got = np.asarray(tape.gradient(value, x))
    expect = num_grad(lambda p: reduce_ref(ref(name, y_true, p, **kw), w), y_pred.astype("float64"))
    np.testing.assert_allclose(got, expect, rtol=2e-3, atol=2e-5)


def test_backward_fills_grad():
    x = ember.convert_to_tensor(LOGITS.astype("float32")).requires_grad_()
    losses.CategoricalCrossentropy(from_logits=True)(ONEHOT, x).backward()
    soft = np.exp(log_softmax(LOGITS))
    np.testing.assert_allclose(np.asarray(x.grad), (soft - ONEHOT) / B, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------- Keras's documented values
def test_keras_docstring_examples():
    yt, yp = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert float(bce(yt, yp)) == pytest.approx(0.8654, abs=1e-4)
    assert float(bce(yt, yp, sample_weight=[0.8, 0.2])) == pytest.approx(0.243, abs=1e-3)
    assert float(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(yt, yp)) == pytest.approx(
        1.730, abs=1e-3)
    np.testing.assert_allclose(losses.BinaryCrossentropy(from_logits=True, reduction=None)(yt, yp),
                               [0.235, 1.496], atol=1e-3)
    y_true, y_pred = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    cce = losses.CategoricalCrossentropy()
    assert float(cce(y_true, y_pred)) == pytest.approx(1.177, abs=1e-3)
    assert float(cce(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))) == pytest.approx(0.814, abs=1e-3)
    scce = losses.SparseCategoricalCrossentropy()
    assert float(scce([1, 2], y_pred)) == pytest.approx(1.177, abs=1e-3)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(np.array([1, 2]), y_pred),
                               [0.0513, 2.303], atol=1e-3)
    cfc = losses.CategoricalFocalCrossentropy()
    assert float(cfc(y_true, y_pred)) == pytest.approx(0.23315276, rel=1e-5)
    assert float(losses.BinaryFocalCrossentropy(gamma=3, from_logits=True)(yt, yp)) == pytest.approx(
        0.647, abs=1e-3)
    np.testing.assert_allclose(losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]),
                               [0.916, 0.714], atol=1e-3)
    assert float(losses.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])) == pytest.approx(0.155, abs=1e-3)
    np.testing.assert_allclose(
        losses.cosine_similarity([[0., 1.], [1., 1.], [1., 1.]], [[1., 0.], [1., 1.], [-1., -1.]]),
        [0.0, -0.99999994, 0.99999994], atol=1e-6)


def test_ignore_class_and_label_dtypes():
    y_pred = PROBS.astype("float32")
    ids = IDS.copy()
    ids[1] = -1
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    keep = ids != -1
    expect = ref("sparse_categorical_crossentropy", ids[keep], PROBS[keep]).mean()
    assert float(loss(ids, y_pred)) == pytest.approx(expect, rel=1e-5)
    per = np.asarray(losses.sparse_categorical_crossentropy(ids, y_pred, ignore_class=-1))
    assert per[1] == 0.0
    # float labels with integral values and (batch, 1) labels are accepted
    scce = losses.SparseCategoricalCrossentropy()
    base = float(scce(IDS, y_pred))
    assert float(scce(IDS.astype("float32"), y_pred)) == pytest.approx(base)
    assert float(scce(IDS.reshape(-1, 1), y_pred)) == pytest.approx(base)
    # int labels for the dense losses are cast
    assert float(losses.MeanSquaredError()(BIN.astype("int64"), y_pred)) == pytest.approx(
        ref("mean_squared_error", BIN, PROBS).mean(), rel=1e-5)


# ------------------------------------------------------------- identifiers, configs
def test_get_serialize_and_configs():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MAE") is losses.mean_absolute_error
    assert losses.get("kld") is losses.kl_divergence
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    inst = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="b")
    assert losses.get(inst) is inst
    cfg = {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}}
    assert losses.get(cfg).from_logits is True
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("not_a_loss")
    for cls, kwargs in [(losses.BinaryFocalCrossentropy, {"gamma": 3.0, "apply_class_balancing": True}),
                        (losses.SparseCategoricalCrossentropy, {"ignore_class": 255}),
                        (losses.Huber, {"delta": 0.5, "reduction": "sum"}),
                        (losses.CosineSimilarity, {"axis": 0}),
                        (losses.CategoricalFocalCrossentropy, {"alpha": [0.2, 0.8]})]:
        a = cls(**kwargs)
        b = cls.from_config(a.get_config())
        assert b.get_config() == a.get_config()
        c = losses.deserialize(losses.serialize(a))
        assert type(c) is cls and c.get_config() == a.get_config()
    assert losses.deserialize(losses.serialize(losses.poisson)) is losses.poisson
    assert losses.MeanSquaredError().get_config() == {"name": "mean_squared_error",
                                                      "reduction": "sum_over_batch_size"}
    assert losses.Huber().name == "huber_loss"


def test_resolve_for_compile():
    assert losses.resolve(None) is None
    r = losses.resolve("mse")
    assert isinstance(r, losses.LossFunctionWrapper) and r.name == "mse" and r._native is not None
    ce = losses.resolve("ce", y_true_shape=(None,), y_pred_shape=(None, 10))
    assert ce.fn is losses.sparse_categorical_crossentropy
    assert losses.resolve("crossentropy", (8, 1), (8, 1)).fn is losses.binary_crossentropy
    assert losses.resolve("CE", (8, 3), (8, 3)).fn is losses.categorical_crossentropy
    with pytest.raises(ValueError):
        losses.resolve("crossentropy")
    obj = losses.CategoricalCrossentropy()
    assert losses.resolve(obj) is obj
    assert isinstance(losses.resolve(obj)._native, ember._native.NativeLoss)


def test_changing_reduction_or_name_rebuilds_the_core_object():
    loss = losses.MeanSquaredError()
    loss.reduction = "sum"
    assert loss._native.reduction == "sum"
    assert float(loss([[1.0, 1.0]], [[2.0, 3.0]])) == pytest.approx(2.5)
    loss.name = "renamed"
    assert loss._native.name == "renamed"


def test_custom_losses():
    class Doubled(losses.Loss):
        def call(self, y_true, y_pred):
            return losses.mean_squared_error(y_true, y_pred) * 2.0

    d = Doubled()
    assert d.name == "doubled"
    x = ember.convert_to_tensor(PROBS.astype("float32"))
    with ember.GradientTape() as tape:
        x = tape.watch(x)
        value = d(SOFT, x, sample_weight=np.arange(B, dtype="float32"))
    expect = reduce_ref(2 * ref("mean_squared_error", SOFT, PROBS), np.arange(B))
    assert float(value) == pytest.approx(expect, rel=1e-5)
    assert tape.gradient(value, x) is not None
    seen = []

    class Recorder(losses.Loss):
        def call(self, y_true, y_pred):
            seen.append((type(y_true), y_true.dtype, type(y_pred)))
            return losses.mean_squared_error(y_true, y_pred)

    Recorder()(np.array([[1, 2]]), [[1.0, 2.0]])
    assert seen == [(ember.Tensor, "float32", ember.Tensor)]
    shapes = []

    def fn(t, p):
        shapes.append((tuple(t.shape), tuple(p.shape)))
        return losses.mean_squared_error(t, p)

    aligned = losses.LossFunctionWrapper(fn)
    assert float(aligned(np.array([1.0, 2.0]), np.array([[1.0], [4.0]]))) == pytest.approx(2.0)
    assert shapes == [((2, 1), (2, 1))]
    wrapped = losses.LossFunctionWrapper(lambda t, p: losses.mean_absolute_error(t, p), reduction="sum")
    assert wrapped._native is None
    expect = ref("mean_absolute_error", SOFT, PROBS).sum()
    assert float(wrapped(SOFT, PROBS)) == pytest.approx(expect, rel=1e-5)


# ------------------------------------------------------------------------ bad inputs
def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"mean_squared_error.*\[2, 3\].*\[2, 4\]"):
        losses.MeanSquaredError()(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\[4\].*\[4, 3\].*sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.array([0, 1, 2, 0]), np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"\[4, 3\].*categorical_crossentropy"):
        losses.SparseCategoricalCrossentropy()(np.eye(3)[[0, 1, 2, 0]], np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="sample_weight"):
        losses.MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 3)), sample_weight=np.ones(3))


def test_labels_out_of_range_and_not_integers():
    y_pred = np.full((3, 5), 0.2, dtype="float32")
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*label 7.*5 classes"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 7, 1]), y_pred)
    with pytest.raises(ValueError, match="label -3"):
        losses.sparse_categorical_crossentropy(np.array([0, -3, 1]), y_pred)
    with pytest.raises(ValueError, match="integer class ids.*0.5"):
        losses.SparseCategoricalCrossentropy()(np.array([0.5, 1.0, 2.0]), y_pred)


def test_bad_arguments():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="axis"):
        losses.CategoricalCrossentropy(axis=True)
    with pytest.raises(ValueError, match="non-empty"):
        losses.MeanSquaredError()(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="alpha"):
        losses.CategoricalFocalCrossentropy(alpha=[0.5, 0.5])(np.eye(3), np.full((3, 3), 1 / 3))
