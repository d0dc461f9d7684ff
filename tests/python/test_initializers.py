"""Initializers: statistics against the Keras formulas, seeding, names and configs."""

import math

import numpy as np
import pytest

import ember
from ember import initializers

SHAPE = (400, 600)  # fan_in 400, fan_out 600
FAN_IN, FAN_OUT, FAN_AVG = 400, 600, 500
TRUNC = 0.87962566103423978


def draw(init, shape=SHAPE):
    v = np.asarray(init(shape))
    assert v.shape == tuple(shape) and v.dtype == np.float32
    return v


@pytest.mark.parametrize(
    "name, scale, fan",
    [("glorot_uniform", 1.0, FAN_AVG), ("he_uniform", 2.0, FAN_IN), ("lecun_uniform", 1.0, FAN_IN)],
)
def test_uniform_variance_scaling(name, scale, fan):
    v = draw(initializers.get(name))
    limit = math.sqrt(3.0 * scale / fan)
    assert np.abs(v).max() <= limit
    assert np.abs(v).max() > 0.99 * limit
    assert abs(v.mean()) < 0.01 * limit
    assert v.std() == pytest.approx(limit / math.sqrt(3.0), rel=0.01)


@pytest.mark.parametrize(
    "name, scale, fan",
    [("glorot_normal", 1.0, FAN_AVG), ("he_normal", 2.0, FAN_IN), ("lecun_normal", 1.0, FAN_IN)],
)
def test_truncated_normal_variance_scaling(name, scale, fan):
    v = draw(initializers.get(name))
    # the draw is truncated at two (pre-correction) standard deviations, and the correction
    # 0.8796... makes the standard deviation after truncation sqrt(scale / fan)
    raw = math.sqrt(scale / fan) / TRUNC
    assert np.abs(v).max() <= 2 * raw + 1e-6
    assert np.abs(v).max() > 1.95 * raw
    assert v.std() == pytest.approx(math.sqrt(scale / fan), rel=0.01)
    assert abs(v.mean()) < 0.01 * raw


def test_variance_scaling_modes_and_distributions():
    v = draw(initializers.VarianceScaling(scale=3.0, mode="fan_out", distribution="uniform"))
    assert np.abs(v).max() <= math.sqrt(9.0 / FAN_OUT)
    v = draw(initializers.VarianceScaling(scale=2.0, mode="fan_avg", distribution="untruncated_normal"))
    assert v.std() == pytest.approx(math.sqrt(2.0 / FAN_AVG), rel=0.01)
    assert np.abs(v).max() > 3 * math.sqrt(2.0 / FAN_AVG)  # not truncated
    v = draw(initializers.VarianceScaling(distribution="normal"))  # "normal" means truncated
    assert v.std() == pytest.approx(math.sqrt(1.0 / FAN_IN), rel=0.01)
    # convolution kernels: fans multiply by the receptive field
    assert initializers.compute_fans((3, 3, 4, 8)) == (36, 72)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans(()) == (1, 1)
    v = draw(initializers.HeUniform(), (3, 3, 40, 80))
    assert np.abs(v).max() <= math.sqrt(6.0 / 360)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)


def test_random_normal_uniform_truncated():
    v = draw(initializers.RandomNormal(mean=1.0, stddev=0.5))
    assert v.mean() == pytest.approx(1.0, abs=0.005) and v.std() == pytest.approx(0.5, rel=0.01)
    v = draw(initializers.RandomNormal())
    assert v.std() == pytest.approx(0.05, rel=0.01)  # Keras default stddev
    v = draw(initializers.RandomUniform(minval=-2.0, maxval=3.0))
    assert v.min() >= -2.0 and v.max() < 3.0 and v.mean() == pytest.approx(0.5, abs=0.01)
    v = draw(initializers.RandomUniform())
    assert np.abs(v).max() <= 0.05
    v = draw(initializers.TruncatedNormal(mean=-1.0, stddev=2.0))
    assert v.min() >= -5.0 and v.max() <= 3.0 and v.mean() == pytest.approx(-1.0, abs=0.01)
    assert v.std() == pytest.approx(2.0 * TRUNC, rel=0.01)


def test_constant_initializers():
    assert np.array_equal(draw(initializers.Zeros(), (2, 3)), np.zeros((2, 3)))
    assert np.array_equal(draw(initializers.get("ones"), (4,)), np.ones(4))
    assert np.array_equal(draw(initializers.Constant(2.5), (2, 2)), np.full((2, 2), 2.5))
    assert np.array_equal(draw(initializers.Identity(gain=3.0), (2, 3)), 3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))
    assert np.asarray(initializers.Zeros()((3,), dtype="int64")).dtype == np.int64


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (3, 4, 30), (16, 16)])
def test_orthogonal(shape):
    v = draw(initializers.Orthogonal(gain=2.0, seed=1), shape)
    m = v.reshape(-1, shape[-1])
    if m.shape[0] >= m.shape[1]:
        np.testing.assert_allclose(m.T @ m, 4.0 * np.eye(m.shape[1]), atol=1e-4)
    else:
        np.testing.assert_allclose(m @ m.T, 4.0 * np.eye(m.shape[0]), atol=1e-4)
    with pytest.raises(ValueError, match="two-dimensional"):
        initializers.Orthogonal()((5,))


def test_seeds_make_values_reproducible():
    a = draw(initializers.GlorotUniform(seed=42), (30, 20))
    b = draw(initializers.GlorotUniform(seed=42), (30, 20))
    c = draw(initializers.GlorotUniform(seed=43), (30, 20))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # as in Keras, one initializer object returns the same values on every call
    init = initializers.RandomNormal()
    assert np.array_equal(draw(init, (5, 5)), draw(init, (5, 5)))
    # unseeded initializers follow ember's global seed
    ember.utils.set_random_seed(7)
    x = [draw(initializers.get(n), (10, 10)) for n in ("he_normal", "orthogonal", "random_uniform")]
    ember.utils.set_random_seed(7)
    y = [draw(initializers.get(n), (10, 10)) for n in ("he_normal", "orthogonal", "random_uniform")]
    for p, q in zip(x, y):
        assert np.array_equal(p, q)
    assert not np.array_equal(
        draw(initializers.HeNormal(), (10, 10)), draw(initializers.HeNormal(), (10, 10))
    )
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="abc")


def test_get_names_configs_and_errors():
    for name, cls in [
        ("glorot_uniform", initializers.GlorotUniform),
        ("GlorotNormal", initializers.GlorotNormal),
        ("he_normal", initializers.HeNormal),
        ("lecun_uniform", initializers.LecunUniform),
        ("zeros", initializers.Zeros),
        ("zero", initializers.Zeros),
        ("one", initializers.Ones),
        ("constant", initializers.Constant),
        ("random_normal", initializers.RandomNormal),
        ("normal", initializers.RandomNormal),
        ("uniform", initializers.RandomUniform),
        ("truncated_normal", initializers.TruncatedNormal),
        ("orthogonal", initializers.Orthogonal),
        ("identity", initializers.Identity),
        ("variance_scaling", initializers.VarianceScaling),
    ]:
        assert isinstance(initializers.get(name), cls), name
    assert initializers.get(None) is None
    assert isinstance(initializers.get(initializers.HeUniform), initializers.HeUniform)
    init = initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=3)
    config = initializers.serialize(init)
    assert config["class_name"] == "VarianceScaling"
    assert config["config"] == {"seed": 3, "scale": 2.0, "mode": "fan_out", "distribution": "uniform"}
    again = initializers.deserialize(config)
    assert np.array_equal(draw(init, (4, 4)), draw(again, (4, 4)))
    assert initializers.GlorotUniform(seed=5).get_config() == {"seed": 5}
    assert initializers.get({"class_name": "Constant", "config": {"value": 4.0}}).value == 4.0
    with pytest.raises(ValueError, match="glorot_unifrm"):
        initializers.get("glorot_unifrm")
