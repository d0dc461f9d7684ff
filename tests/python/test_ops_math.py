"""ember.ops elementwise math, activations, softmax and ember.random against numpy."""
import math

import numpy as np
import pytest

import ember
from ember import ops

RNG = np.random.default_rng(0)
_erf = np.vectorize(math.erf)


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
GELU_K = math.sqrt(2 / math.pi)

# name -> (ember function, numpy reference, input range)
UNARY = {
    "negative": (ops.negative, np.negative, (-5, 5)),
    "abs": (ops.abs, np.abs, (-5, 5)),
    "absolute": (ops.absolute, np.abs, (-5, 5)),
    "square": (ops.square, np.square, (-5, 5)),
    "sqrt": (ops.sqrt, np.sqrt, (0.01, 50)),
    "exp": (ops.exp, np.exp, (-80, 80)),
    "log": (ops.log, np.log, (1e-30, 1e30)),
    "log1p": (ops.log1p, np.log1p, (-0.99, 100)),
    "expm1": (ops.expm1, np.expm1, (-20, 20)),
    "sign": (ops.sign, np.sign, (-3, 3)),
    "floor": (ops.floor, np.floor, (-10, 10)),
    "ceil": (ops.ceil, np.ceil, (-10, 10)),
    "round": (ops.round, np.round, (-10, 10)),
    "sin": (ops.sin, np.sin, (-10, 10)),
    "cos": (ops.cos, np.cos, (-10, 10)),
    "tanh": (ops.tanh, np.tanh, (-12, 12)),
    "reciprocal": (ops.reciprocal, np.reciprocal, (0.1, 10)),
    "relu": (ops.relu, lambda x: np.maximum(x, 0), (-5, 5)),
    "relu6": (ops.relu6, lambda x: np.clip(x, 0, 6), (-8, 8)),
    "sigmoid": (ops.sigmoid, _sigmoid, (-30, 30)),
    "softplus": (ops.softplus, _softplus, (-50, 50)),
    "softsign": (ops.softsign, lambda x: x / (1 + np.abs(x)), (-5, 5)),
    "silu": (ops.silu, lambda x: x * _sigmoid(x), (-20, 20)),
    "swish": (ops.swish, lambda x: x * _sigmoid(x), (-20, 20)),
    "log_sigmoid": (ops.log_sigmoid, lambda x: -_softplus(-x), (-30, 30)),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x), (-5, 5)),
    "hard_sigmoid": (ops.hard_sigmoid, lambda x: np.clip(x + 3, 0, 6) / 6, (-5, 5)),
    "hard_silu": (ops.hard_silu, lambda x: x * np.clip(x + 3, 0, 6) / 6, (-5, 5)),
    "hard_swish": (ops.hard_swish, lambda x: x * np.clip(x + 3, 0, 6) / 6, (-5, 5)),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.expm1(x)), (-5, 5)),
    "selu": (ops.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)), (-5, 5)),
    "gelu": (
        ops.gelu,
        lambda x: 0.5 * x * (1 + np.tanh(GELU_K * (x + 0.044715 * x**3))),
        (-6, 6),
    ),
    "gelu_exact": (
        lambda x: ops.gelu(x, approximate=False),
        lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
        (-6, 6),
    ),
    "celu": (ops.celu, lambda x: np.where(x >= 0, x, np.expm1(x)), (-5, 5)),
    "tanh_shrink": (ops.tanh_shrink, lambda x: x - np.tanh(x), (-5, 5)),
    "hard_tanh": (ops.hard_tanh, lambda x: np.clip(x, -1, 1), (-3, 3)),
    "soft_shrink": (
        ops.soft_shrink,
        lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
        (-3, 3),
    ),
    "hard_shrink": (ops.hard_shrink, lambda x: np.where(np.abs(x) > 0.5, x, 0), (-3, 3)),
    "squareplus": (ops.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2, (-5, 5)),
    "sparse_plus": (
        ops.sparse_plus,
        lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
        (-3, 3),
    ),
    "sparse_sigmoid": (ops.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1), (-3, 3)),
    "mish": (ops.mish, lambda x: x * np.tanh(_softplus(x)), (-20, 20)),
}


def _uniform(shape, lo, hi):
    if lo > 0 and hi / lo > 1e3:  # log-uniform over wide positive ranges
        return np.exp(RNG.uniform(np.log(lo), np.log(hi), shape)).astype(np.float32)
    return RNG.uniform(lo, hi, shape).astype(np.float32)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5, 2), (257, 131)])
def test_unary_matches_numpy(name, shape):
    f, ref, (lo, hi) = UNARY[name]
    x = _uniform(shape, lo, hi)
    got = f(x)
    assert isinstance(got, ember.Tensor) and got.dtype == "float32"
    assert tuple(got.shape) == shape
    want = ref(x.astype(np.float64))
    atol = 1e-6 * (1 + np.abs(want).max(initial=0))
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-6, atol=atol)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "gelu", "softplus", "relu"])
def test_non_contiguous_and_tensor_inputs(name):
    f, ref, (lo, hi) = UNARY[name]
    base = _uniform((9, 14), lo, hi)
    strided = base[::2, 1::3].T  # a non-contiguous numpy view
    want = ref(strided.astype(np.float64))
    for arg in (strided, ember.Tensor(strided), ember.Variable(strided), strided.tolist()):
        np.testing.assert_allclose(np.asarray(f(arg)), want, rtol=2e-6, atol=1e-6)


def test_integer_inputs_become_float():
    np.testing.assert_allclose(np.asarray(ops.sqrt([1, 4, 9])), [1, 2, 3])
    assert ops.exp(np.arange(3)).dtype == "float32"


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-40], np.float32)
    with np.errstate(all="ignore"):
        for name in ["exp", "log", "tanh", "sigmoid", "softplus", "expm1", "log1p", "sqrt"]:
            f, ref, _ = UNARY[name]
            np.testing.assert_allclose(np.asarray(f(x)), ref(x.astype(np.float64)).astype(np.float32),
                                       rtol=1e-6, atol=1e-45, err_msg=name)


def test_activation_arguments_and_defaults():
    x = np.linspace(-10, 10, 41).astype(np.float32)
    np.testing.assert_allclose(np.asarray(ops.leaky_relu(x, negative_slope=0.1)),
                               np.where(x >= 0, x, 0.1 * x), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.elu(x, alpha=2.0)), np.where(x > 0, x, 2 * np.expm1(x)),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.celu(x, alpha=3.0)), np.where(x >= 0, x, 3 * np.expm1(x / 3)),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.threshold(x, 1.0, -5.0)), np.where(x > 1, x, -5), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.squareplus(x, b=1)), (x + np.sqrt(x * x + 1)) / 2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.soft_shrink(x, threshold=2)),
                               np.where(x > 2, x - 2, np.where(x < -2, x + 2, 0)), rtol=1e-6)
    # keras docstring examples
    np.testing.assert_allclose(np.asarray(ops.hard_silu([-3.0, -1.0, 0.0, 1.0, 3.0])),
                               [0.0, -1 / 3, 0.0, 2 / 3, 3.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.gelu([-1.0, 0.0, 1.0], approximate=False)),
                               [-0.15865525, 0.0, 0.84134475], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ops.round([1.234, 5.678], decimals=1)), [1.2, 5.7], rtol=1e-6)


def test_relu_general_form():
    x = np.array([-10, -5, 0.0, 5, 10], np.float32)
    f = ember._native.op_relu_with
    np.testing.assert_allclose(np.asarray(f(x, 0.5, None, 0.0)), [-5, -2.5, 0, 5, 10])
    np.testing.assert_allclose(np.asarray(f(x, 0.0, 5.0, 0.0)), [0, 0, 0, 5, 5])
    np.testing.assert_allclose(np.asarray(f(x, 0.0, None, 5.0)), [0, 0, 0, 0, 10])


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 7), -1), ((3, 7), 0), ((2, 3, 4, 5), 1),
                                        ((2, 3, 4, 5), -2), ((300, 211), -1), ((64, 97, 11), 1)])
def test_softmax_and_log_softmax(shape, axis):
    x = (RNG.standard_normal(shape) * 4).astype(np.float32)
    want = _softmax(x.astype(np.float64), axis)
    np.testing.assert_allclose(np.asarray(ops.softmax(x, axis=axis)), want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(ops.log_softmax(x, axis=axis)), np.log(want), rtol=1e-5, atol=1e-5)


def test_softmax_defaults_and_stability():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1e30, 0.0, 1e30]], np.float32)
    y = np.asarray(ops.softmax(x))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y[0], _softmax(np.array([0.0, 1.0, 2.0]), -1), rtol=1e-6)
    np.testing.assert_allclose(y[1], [0, 0, 1])
    np.testing.assert_allclose(np.asarray(ops.log_softmax([-1.0, 0.0, 1.0])),
                               [-2.40760596, -1.40760596, -0.40760596], rtol=1e-6)
    with pytest.raises(ValueError, match="softmax.*axis 2"):
        ops.softmax(np.zeros((2, 3), np.float32), axis=2)
    with pytest.raises(TypeError, match="softmax"):
        ops.softmax(np.zeros((2, 3), np.float32), axis=(0, 1))


BINARY = {
    "add": (ops.add, np.add),
    "subtract": (ops.subtract, np.subtract),
    "multiply": (ops.multiply, np.multiply),
    "divide": (ops.divide, np.divide),
    "true_divide": (ops.true_divide, np.divide),
    "power": (ops.power, np.power),
    "maximum": (ops.maximum, np.maximum),
    "minimum": (ops.minimum, np.minimum),
}
COMPARE = {
    "equal": (ops.equal, np.equal),
    "not_equal": (ops.not_equal, np.not_equal),
    "less": (ops.less, np.less),
    "less_equal": (ops.less_equal, np.less_equal),
    "greater": (ops.greater, np.greater),
    "greater_equal": (ops.greater_equal, np.greater_equal),
    "logical_and": (ops.logical_and, np.logical_and),
    "logical_or": (ops.logical_or, np.logical_or),
    "logical_xor": (ops.logical_xor, np.logical_xor),
}
SHAPE_PAIRS = [((), ()), ((5,), ()), ((), (4,)), ((3, 1, 5), (4, 1)), ((2, 3), (2, 3)), ((1, 7), (6, 1)),
               ((300, 150), (150,)), ((200, 1, 3), (1, 70, 3))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
def test_binary_broadcasting(name, sa, sb):
    f, ref = BINARY[name]
    a = RNG.uniform(0.5, 3, sa).astype(np.float32)
    b = RNG.uniform(-2, 2, sb).astype(np.float32)
    got = np.asarray(f(a, b))
    np.testing.assert_allclose(got, ref(a.astype(np.float64), b), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(COMPARE))
@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
def test_comparisons_return_int64(name, sa, sb):
    f, ref = COMPARE[name]
    a = RNG.integers(-2, 3, sa).astype(np.float32)
    b = RNG.integers(-2, 3, sb).astype(np.float32)
    got = f(a, b)
    assert got.dtype == "int64"
    np.testing.assert_array_equal(np.asarray(got), ref(a, b).astype(np.int64))
    # int64 operands and mixed int/float
    np.testing.assert_array_equal(np.asarray(f(a.astype(np.int64), b.astype(np.int64))), ref(a, b))
    np.testing.assert_array_equal(np.asarray(f(a.astype(np.int64), b)), ref(a, b))


def test_logical_not_and_power_scalar():
    x = np.array([0.0, 1.5, -2.0, np.nan], np.float32)
    np.testing.assert_array_equal(np.asarray(ops.logical_not(x)), [1, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(ops.logical_not([0, 3])), [1, 0])
    y = RNG.uniform(0.1, 3, (5, 3)).astype(np.float32)
    for p in [2, 0.5, 3, -1.5, 1, 0]:
        np.testing.assert_allclose(np.asarray(ops.power(y, p)), y.astype(np.float64) ** p, rtol=2e-6)


def test_clip_and_where():
    x = RNG.uniform(-3, 3, (4, 9)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(ops.clip(x, -1, 2)), np.clip(x, -1, 2))
    np.testing.assert_allclose(np.asarray(ops.clip(x, 2, 1)), np.clip(x, 2, 1))  # numpy: max wins
    lo = np.linspace(-2, 0, 9).astype(np.float32)
    np.testing.assert_allclose(np.asarray(ops.clip(x, lo, 1.5)), np.clip(x, lo, 1.5))
    cond = RNG.integers(0, 2, (4, 1))
    y = RNG.standard_normal((9,)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(ops.where(cond, x, y)), np.where(cond, x, y))
    np.testing.assert_allclose(np.asarray(ops.where(x > 0, x, 0.0)), np.where(x > 0, x, 0))
    got = ops.where([1, 0, 1], [1, 2, 3], [7, 8, 9])
    assert got.dtype == "int64"
    np.testing.assert_array_equal(np.asarray(got), [1, 8, 3])
    with pytest.raises(ValueError, match="where"):
        ops.where([1, 0])


def test_tensor_operators():
    a = ember.Tensor(np.array([[1.0, -2.0, 3.0]], np.float32))
    b = np.array([[2.0], [3.0]], np.float32)
    np.testing.assert_allclose(np.asarray(a**2), [[1, 4, 9]])
    np.testing.assert_allclose(np.asarray(abs(a) ** b), np.abs(np.asarray(a)) ** b)
    np.testing.assert_allclose(np.asarray(2**a), 2.0 ** np.asarray(a))
    np.testing.assert_allclose(np.asarray(abs(a)), [[1, 2, 3]])
    an = np.asarray(a)
    for got, want in [(a < 1, an < 1), (a <= 1, an <= 1), (a > b, an > b), (a >= 3, an >= 3),
                      (a == -2, an == -2), (a != -2, an != -2), (1 < a, 1 < an)]:
        assert got.dtype == "int64"
        np.testing.assert_array_equal(np.asarray(got), want)
    assert (a == None) is False  # noqa: E711 - elementwise __eq__ declines non-arrays
    assert (a != "x") is True
    d = {a: 1}
    assert d[a] == 1 and hash(a) == hash(a) and hash(a) != hash(ember.Tensor(an))
    with pytest.raises(TypeError, match="modulo"):
        pow(a, 2, 3)


def _grad(f, *xs):
    xs = [ember.Tensor(np.asarray(x, np.float32)) for x in xs]
    with ember.GradientTape() as tape:
        xs = [tape.watch(x) for x in xs]
        y = ops.sum(f(*xs)) if hasattr(ops, "sum") else f(*xs)
    seed = None if hasattr(ops, "sum") else np.ones(y.shape, np.float32)
    return [np.asarray(g) for g in tape.gradient(y, xs, output_gradients=seed)]


def test_gradients_match_numpy():
    x = RNG.uniform(-3, 3, (4, 6)).astype(np.float32)
    xd = x.astype(np.float64)
    s = _sigmoid(xd)
    np.testing.assert_allclose(_grad(ops.sigmoid, x)[0], s * (1 - s), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_grad(ops.tanh, x)[0], 1 - np.tanh(xd) ** 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_grad(ops.silu, x)[0], s * (1 + xd * (1 - s)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        _grad(lambda v: ops.gelu(v, approximate=False), x)[0],
        0.5 * (1 + _erf(xd / math.sqrt(2))) + xd * np.exp(-xd * xd / 2) / math.sqrt(2 * math.pi),
        rtol=1e-5, atol=1e-6,
    )
    np.testing.assert_allclose(_grad(ops.softplus, x)[0], s, rtol=1e-5, atol=1e-7)
    # softmax: d/dx sum(w * softmax(x)) = y * (w - sum(w * y))
    w = RNG.standard_normal((4, 6))
    y = _softmax(xd, -1)
    (g,) = _grad(lambda v: ops.multiply(ops.softmax(v), w.astype(np.float32)), x)
    np.testing.assert_allclose(g, y * (w - (w * y).sum(-1, keepdims=True)), rtol=1e-4, atol=1e-6)
    (g,) = _grad(lambda v: ops.multiply(ops.log_softmax(v, axis=0), w.astype(np.float32)), x)
    y0 = _softmax(xd, 0)
    np.testing.assert_allclose(g, w - y0 * w.sum(0, keepdims=True), rtol=1e-4, atol=1e-6)
    # power and maximum with broadcasting: gradients summed over broadcast axes
    a = RNG.uniform(0.5, 2, (3, 4)).astype(np.float32)
    b = RNG.uniform(-1, 2, (4,)).astype(np.float32)
    ga, gb = _grad(ops.power, a, b)
    ad, bd = a.astype(np.float64), b.astype(np.float64)
    np.testing.assert_allclose(ga, bd * ad ** (bd - 1), rtol=1e-5)
    np.testing.assert_allclose(gb, (ad**bd * np.log(ad)).sum(0), rtol=1e-5, atol=1e-6)
    ga, gb = _grad(ops.maximum, a, b)
    np.testing.assert_allclose(ga, (ad > bd).astype(float))
    np.testing.assert_allclose(gb, (bd > ad).sum(0))
    # non-differentiable ops give no gradient
    xt = ember.Tensor(x)
    with ember.GradientTape() as tape:
        xt = tape.watch(xt)
        y = ops.floor(xt)
    assert tape.gradient(y, xt) is None


def test_random_reproducible_and_seeded():
    for f, args in [(ember.random.normal, ()), (ember.random.uniform, ()),
                    (ember.random.truncated_normal, ()), (ember.random.randint, (0, 100))]:
        a, b = np.asarray(f((50, 3), *args, seed=7)), np.asarray(f((50, 3), *args, seed=7))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, np.asarray(f((50, 3), *args, seed=8)))
        ember.utils.set_random_seed(123)
        c = np.asarray(f((50, 3), *args))
        d = np.asarray(f((50, 3), *args))
        ember.utils.set_random_seed(123)
        np.testing.assert_array_equal(c, np.asarray(f((50, 3), *args)))
        assert not np.array_equal(c, d)
    gen = ember.random.SeedGenerator(42)
    x1, x2 = ember.random.normal((10,), seed=gen), ember.random.normal((10,), seed=gen)
    assert not np.array_equal(np.asarray(x1), np.asarray(x2))
    gen2 = ember.random.SeedGenerator(42)
    np.testing.assert_array_equal(np.asarray(x1), np.asarray(ember.random.normal((10,), seed=gen2)))
    assert ember.random.SeedGenerator.from_config(gen.get_config()).get_config() == {"seed": 42}


def test_random_distributions():
    n = ember.random.normal((200_000,), mean=2.0, stddev=3.0, seed=1)
    v = np.asarray(n)
    assert n.dtype == "float32" and abs(v.mean() - 2) < 0.05 and abs(v.std() - 3) < 0.05
    u = np.asarray(ember.random.uniform((100_000,), minval=-1, maxval=3, seed=2))
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.02
    t = np.asarray(ember.random.truncated_normal((100_000,), mean=1.0, stddev=0.5, seed=3))
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.mean() - 1) < 0.01
    r = ember.random.randint((10_000,), 3, 7, seed=4)
    rv = np.asarray(r)
    assert r.dtype == "int64" and set(np.unique(rv)) == {3, 4, 5, 6}
    x = np.arange(60, dtype=np.float32).reshape(3, 20)
    s = np.asarray(ember.random.shuffle(x, axis=1, seed=5))
    assert not np.array_equal(s, x)
    np.testing.assert_array_equal(np.sort(s, axis=1), x)
    np.testing.assert_array_equal(s[1:] - s[:-1], np.full((2, 20), 20.0))  # one permutation for all rows
    s0 = np.asarray(ember.random.shuffle(np.arange(10)))
    np.testing.assert_array_equal(np.sort(s0), np.arange(10))


def test_dropout():
    x = np.ones((400, 50), np.float32)
    y = np.asarray(ember.random.dropout(x, 0.3, seed=1))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    z = np.asarray(ember.random.dropout(x, 0.5, noise_shape=(None, 1), seed=2))
    assert np.all((z == z[:, :1]))  # one mask value per row
    np.testing.assert_array_equal(np.asarray(ember.random.dropout(x, 0.0)), x)
    # gradient is the mask
    xt = ember.Tensor(x)
    with ember.GradientTape() as tape:
        xt = tape.watch(xt)
        out = ember.random.dropout(xt, 0.5, seed=3)
    g = np.asarray(tape.gradient(out, xt, output_gradients=np.ones_like(x)))
    np.testing.assert_array_equal(g, np.asarray(out))
    with pytest.raises(ValueError, match="dropout.*rate"):
        ember.random.dropout(x, 1.5)
    with pytest.raises(ValueError, match="dropout.*noise_shape"):
        ember.random.dropout(x, 0.5, noise_shape=(3, 50))


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"add.*\[2, 3\].*\[4\]"):
        ops.add(np.zeros((2, 3)), np.zeros(4))
    for f in (ops.maximum, ops.power, ops.less, ops.logical_and, ops.equal):
        with pytest.raises(ValueError, match=r"\[2, 3\].*\[4\]"):
            f(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="where"):
        ops.where(np.ones((2, 1)), np.zeros((3,)), np.zeros((4,)))
    with pytest.raises((TypeError, ValueError)):
        ops.exp("not a number")
    with pytest.raises(ValueError, match="randint"):
        ember.random.randint((3,), 5, 5)
    with pytest.raises(ValueError, match="shape"):
        ember.random.normal((2, -1))
    with pytest.raises(ValueError, match="seed"):
        ember.random.normal((2,), seed="abc")
    with pytest.raises(ValueError, match="dtype"):
        ember.random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="celu"):
        ops.celu([1.0], alpha=0.0)
