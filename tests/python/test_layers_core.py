"""Core layers against numpy references: weights as Keras names and orders them,
configs round-trip, training/inference behaviour, and errors that name the layer."""

import math

import numpy as np
import pytest

import ember
from ember import activations, layers, regularizers

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def out(layer, x, **kwargs):
    y = layer(x, **kwargs)
    return np.asarray(y)


def roundtrip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    return again


# ---------------------------------------------------------------- Dense


def test_dense_weights_follow_keras():
    d = layers.Dense(3, name="d1")
    x = rand(5, 4)
    d(x)
    assert [w.name for w in d.weights] == ["kernel", "bias"]
    assert [tuple(w.shape) for w in d.weights] == [(4, 3), (3,)]
    assert [w.shape for w in d.get_weights()] == [(4, 3), (3,)]
    assert d.trainable_weights[0] is d.kernel and d.count_params() == 15
    np.testing.assert_array_equal(d.get_weights()[1], np.zeros(3))  # bias_initializer "zeros"
    limit = math.sqrt(6 / 7)  # glorot_uniform
    assert np.abs(d.get_weights()[0]).max() <= limit
    assert layers.Dense(2).weights == []  # nothing before build
    nb = layers.Dense(2, use_bias=False)
    nb(x)
    assert [w.name for w in nb.weights] == ["kernel"]


def test_dense_matches_numpy():
    d = layers.Dense(3, activation="relu")
    x = rand(6, 4)
    d(x)
    w, b = rand(4, 3), rand(3)
    d.set_weights([w, b])
    np.testing.assert_allclose(out(d, x), np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)
    x3 = rand(2, 5, 4)  # the last axis of rank-3 inputs
    np.testing.assert_allclose(out(d, x3), np.maximum(x3 @ w + b, 0), rtol=1e-5, atol=1e-6)
    assert d.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert d._native is not None  # runs in compiled graphs


def test_dense_gradients_through_gradient_tape():
    d = layers.Dense(2, activation="tanh")
    x = rand(3, 4)
    d(x)
    w, b = d.get_weights()
    with ember.GradientTape() as tape:
        y = d(x)
    gw, gb = tape.gradient(y, [d.kernel, d.bias])
    dy = 1 - np.tanh(x @ w + b) ** 2
    np.testing.assert_allclose(np.asarray(gw), x.T @ dy, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(gb), dy.sum(0), rtol=1e-4, atol=1e-5)


def test_dense_with_a_python_activation_runs_eagerly():
    d = layers.Dense(2, activation=lambda t: t * 2.0)
    x = rand(3, 4)
    y = out(d, x)
    w, b = d.get_weights()
    np.testing.assert_allclose(y, 2 * (x @ w + b), rtol=1e-5)
    assert d._native is None  # not graph-compilable


def test_dense_regularizers_and_constraints():
    d = layers.Dense(
        3,
        kernel_regularizer=regularizers.L2(0.1),
        bias_regularizer="l1",
        activity_regularizer=regularizers.L1(0.01),
        kernel_constraint="max_norm",
    )
    x = rand(4, 5)
    y = out(d, x)
    w, b = d.get_weights()
    losses = [float(np.asarray(v)) for v in d.losses]
    assert len(losses) == 3
    assert losses[0] == pytest.approx(0.01 * np.abs(y).sum(), rel=1e-5)  # activity, from the call
    assert losses[1] == pytest.approx(0.1 * np.square(w).sum(), rel=1e-5)
    assert losses[2] == pytest.approx(0.01 * np.abs(b).sum(), abs=1e-7)
    assert d._native is not None
    assert d.kernel._constraint.get_config() == {"max_value": 2, "axis": 0}
    d.kernel.assign(w * 10)
    ember._native.layer_apply_constraints(d._native)
    assert np.sqrt(np.square(d.get_weights()[0]).sum(0)).max() <= 2.0 + 1e-5
    # a Python regularizer keeps the layer eager but still counts
    d2 = layers.Dense(2, kernel_regularizer=lambda w: 5.0)
    d2(x)
    assert d2._native is None and d2.losses == [5.0]


def test_dense_config_roundtrip():
    d = layers.Dense(
        4,
        activation="softmax",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizers.L1L2(0.1, 0.2),
        bias_constraint="non_neg",
        name="head",
    )
    config = d.get_config()
    for key in (
        "name",
        "trainable",
        "dtype",
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "bias_constraint",
    ):
        assert key in config, key
    assert config["activation"] == "softmax" and config["units"] == 4
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    again = roundtrip(d)
    again(rand(2, 3))
    assert [tuple(w.shape) for w in again.weights] == [(3, 4)]


def test_dense_errors_name_the_layer_and_shapes():
    d = layers.Dense(3, name="my_dense")
    d(rand(2, 4))
    with pytest.raises(ValueError, match=r"my_dense.*value 4.*\[2, 5\]"):
        d(rand(2, 5))
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(2.5)
    with pytest.raises(ValueError, match="Known activations"):
        layers.Dense(2, activation="relux")
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(2, kernel_init="zeros")


def test_dense_symbolic_shape():
    inp = ember.Input(shape=(7,))
    y = layers.Dense(5)(inp)
    assert y.shape == (None, 5)


# ---------------------------------------------------------------- activation layers


def sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize(
    "name, ref",
    [
        ("relu", lambda x: np.maximum(x, 0)),
        ("sigmoid", sig),
        ("tanh", np.tanh),
        ("softplus", lambda x: np.log1p(np.exp(x))),
        ("softsign", lambda x: x / (1 + np.abs(x))),
        ("swish", lambda x: x * sig(x)),
        ("exponential", np.exp),
        ("linear", lambda x: x),
        ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
        ("softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
        ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ],
)
def test_activation_layer_and_functions(name, ref):
    x = rand(4, 6)
    np.testing.assert_allclose(out(layers.Activation(name), x), ref(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(activations.get(name)(x)), ref(x), rtol=1e-5, atol=1e-6)
    assert roundtrip(layers.Activation(name)).get_config()["activation"] == activations.serialize(
        activations.get(name)
    )


def test_activation_functions_with_parameters():
    x = np.array([-10, -5, 0.0, 5, 10], dtype=np.float32)
    np.testing.assert_allclose(np.asarray(activations.relu(x)), [0, 0, 0, 5, 10])
    np.testing.assert_allclose(np.asarray(activations.relu(x, negative_slope=0.5)), [-5, -2.5, 0, 5, 10])
    np.testing.assert_allclose(np.asarray(activations.relu(x, max_value=5.0)), [0, 0, 0, 5, 5])
    np.testing.assert_allclose(np.asarray(activations.relu(x, threshold=5.0)), [0, 0, 0, 0, 10])
    np.testing.assert_allclose(
        np.asarray(activations.elu(x, alpha=2.0))[:2], 2 * (np.exp([-10, -5]) - 1), rtol=1e-5
    )
    g = np.asarray(activations.gelu(x, approximate=True))
    want = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    s = np.asarray(activations.softmax(x.reshape(5, 1) * np.ones((1, 3), np.float32), axis=0))
    np.testing.assert_allclose(s.sum(0), np.ones(3), rtol=1e-6)
    assert activations.get(None) is activations.linear
    assert (
        activations.serialize(activations.swish) == "silu"
        and activations.get("hard_swish") is activations.hard_silu
    )
    assert activations.deserialize({"class_name": "function", "config": "relu"}) is activations.relu
    with pytest.raises(ValueError, match="Known activations"):
        activations.get("nope")


def test_activation_layer_with_a_callable():
    layer = layers.Activation(lambda t: t * 3.0)
    np.testing.assert_allclose(out(layer, np.ones((2, 2), np.float32)), 3 * np.ones((2, 2)))
    assert layer._native is None
    assert layers.Activation(activations.relu)._native is not None


def test_relu_leaky_elu_layers():
    x = np.array([[-10, -5, 0.0, 5, 10]], dtype=np.float32)
    np.testing.assert_allclose(out(layers.ReLU(max_value=10, negative_slope=0.5), x), [[-5, -2.5, 0, 5, 10]])
    np.testing.assert_allclose(out(layers.ReLU(threshold=5.0), x), [[0, 0, 0, 0, 10]])
    np.testing.assert_allclose(out(layers.ReLU(max_value=6), x), [[0, 0, 0, 5, 6]])
    np.testing.assert_allclose(out(layers.LeakyReLU(), x), [[-3, -1.5, 0, 5, 10]], rtol=1e-6)  # default 0.3
    np.testing.assert_allclose(out(layers.LeakyReLU(negative_slope=0.5), x), [[-5, -2.5, 0, 5, 10]])
    np.testing.assert_allclose(
        out(layers.ELU(alpha=0.5), x), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)), rtol=1e-6
    )
    for layer in (
        layers.ReLU(max_value=3.0, negative_slope=0.1, threshold=0.5),
        layers.LeakyReLU(0.2),
        layers.ELU(alpha=0.7),
    ):
        again = roundtrip(layer)
        np.testing.assert_allclose(out(again, x), out(layer, x))
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-1)
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(negative_slope=-0.1)


def test_prelu():
    layer = layers.PReLU(alpha_initializer=ember.initializers.Constant(0.25), shared_axes=[1], name="act")
    x = rand(2, 3, 4)
    y = out(layer, x)
    assert [w.name for w in layer.weights] == ["alpha"] and tuple(layer.weights[0].shape) == (1, 4)
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    alpha = rand(1, 4)
    layer.set_weights([alpha])
    np.testing.assert_allclose(out(layer, x), np.where(x > 0, x, alpha * x), rtol=1e-6)
    with ember.GradientTape() as tape:
        y = layer(x)
    g = np.asarray(tape.gradient(y, layer.alpha))
    np.testing.assert_allclose(g, np.minimum(x, 0).sum((0, 1), keepdims=True)[0], rtol=1e-5)
    plain = layers.PReLU()
    plain(rand(2, 3, 4))
    assert tuple(plain.weights[0].shape) == (3, 4) and not plain.get_weights()[0].any()  # zeros by default
    assert roundtrip(layer).get_config()["shared_axes"] == [1]
    with pytest.raises(ValueError, match=r"act.*\[2, 3, 5\]"):
        layer(rand(2, 3, 5))


def test_softmax_layer():
    x = rand(2, 3, 4)
    np.testing.assert_allclose(
        out(layers.Softmax(), x), np.exp(x) / np.exp(x).sum(-1, keepdims=True), rtol=1e-5
    )
    np.testing.assert_allclose(
        out(layers.Softmax(axis=1), x), np.exp(x) / np.exp(x).sum(1, keepdims=True), rtol=1e-5
    )
    both = out(layers.Softmax(axis=[1, 2]), x)
    np.testing.assert_allclose(both, np.exp(x) / np.exp(x).sum((1, 2), keepdims=True), rtol=1e-5)
    mask = np.array([[1, 1, 0, 1]], dtype=np.float32)
    y = np.asarray(layers.Softmax()(x[0], mask=mask))
    assert np.all(y[:, 2] < 1e-6)
    np.testing.assert_allclose(y.sum(-1), np.ones(3), rtol=1e-6)
    assert roundtrip(layers.Softmax(axis=1)).axis == 1


# ---------------------------------------------------------------- regularization layers


def test_dropout_training_and_inference():
    x = np.ones((300, 400), np.float32)
    layer = layers.Dropout(0.4)
    np.testing.assert_array_equal(out(layer, x), x)
    np.testing.assert_array_equal(out(layer, x, training=False), x)
    y = out(layer, x, training=True)
    assert abs((y == 0).mean() - 0.4) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.6], rtol=1e-6)
    seeded = [out(layers.Dropout(0.5, seed=3), x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])
    y = out(layers.Dropout(0.5, noise_shape=(None, 1)), np.ones((10, 6), np.float32), training=True)
    assert all(len(set(row)) == 1 for row in y)
    assert roundtrip(layers.Dropout(0.2, noise_shape=(None, 1), seed=4)).noise_shape == (None, 1)
    for bad in (-0.1, 1.5, "a"):
        with pytest.raises(ValueError, match="rate"):
            layers.Dropout(bad)
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match=r"noise_shape.*\[10, 6\]"):
        layers.Dropout(0.5, noise_shape=(None, 4))(np.ones((10, 6), np.float32), training=True)


def test_noise_layers():
    x = np.ones((200, 500), np.float32)
    for layer in (layers.GaussianNoise(0.3), layers.GaussianDropout(0.2), layers.AlphaDropout(0.1)):
        np.testing.assert_array_equal(out(layer, x), x)
        roundtrip(layer)
    y = out(layers.GaussianNoise(0.3), x, training=True)
    assert abs(y.mean() - 1) < 0.01 and abs(y.std() - 0.3) < 0.01
    y = out(layers.GaussianDropout(0.2), x, training=True)
    assert abs(y.mean() - 1) < 0.01 and abs(y.std() - 0.5) < 0.01
    z = RNG.normal(size=(200, 500)).astype(np.float32)
    y = out(layers.AlphaDropout(0.2, seed=1), z, training=True)
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(1.5)


def test_activity_regularization_layer():
    layer = layers.ActivityRegularization(l1=0.2, l2=0.3)
    y = out(layer, 2 * np.ones((1,), np.float32))
    np.testing.assert_array_equal(y, [2.0])
    assert len(layer.losses) == 1
    assert float(np.asarray(layer.losses[0])) == pytest.approx(4 * 0.3 + 2 * 0.2)
    assert roundtrip(layer).get_config()["l1"] == 0.2


# ---------------------------------------------------------------- reshaping, identity, lambda


def test_reshaping_layers():
    x = rand(2, 3, 4)
    np.testing.assert_array_equal(out(layers.Flatten(), x), x.reshape(2, 12))
    np.testing.assert_array_equal(out(layers.Flatten(), rand(3)).shape, (3, 1))
    np.testing.assert_array_equal(
        out(layers.Flatten(data_format="channels_first"), x), x.transpose(0, 2, 1).reshape(2, 12)
    )
    np.testing.assert_array_equal(out(layers.Reshape((4, 3)), x), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(out(layers.Reshape((-1, 2)), x), x.reshape(2, 6, 2))
    np.testing.assert_array_equal(out(layers.Permute((2, 1)), x), x.transpose(0, 2, 1))
    v = rand(2, 5)
    np.testing.assert_array_equal(out(layers.RepeatVector(3), v), np.repeat(v[:, None, :], 3, axis=1))
    np.testing.assert_array_equal(out(layers.Identity(), x), x)
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    assert layers.Flatten().compute_output_shape((None, None, 4)) == (None, None)
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert layers.Permute((2, 1)).compute_output_shape((None, 3, 4)) == (None, 4, 3)
    assert layers.RepeatVector(3).compute_output_shape((None, 5)) == (None, 3, 5)
    inp = ember.Input(shape=(3, 4))
    assert layers.Flatten()(layers.Permute((2, 1))(inp)).shape == (None, 12)
    for layer in (
        layers.Flatten(),
        layers.Reshape((4, 3)),
        layers.Permute((2, 1)),
        layers.RepeatVector(3),
        layers.Identity(),
    ):
        roundtrip(layer)


def test_reshaping_gradients():
    x = ember.Tensor(rand(2, 3, 4))
    for layer, out_shape, back in (
        (layers.Permute((2, 1)), (2, 4, 3), lambda g: g.transpose(0, 2, 1)),
        (layers.Reshape((12,)), (2, 12), lambda g: g.reshape(2, 3, 4)),
    ):
        weights = np.arange(24, dtype=np.float32).reshape(out_shape)
        with ember.GradientTape() as tape:
            xw = tape.watch(x)
            y = layer(xw) * ember.Tensor(weights)
        np.testing.assert_array_equal(np.asarray(tape.gradient(y, xw)), back(weights))


def test_reshaping_errors():
    with pytest.raises(ValueError, match=r"reshape.*\(5,\)|reshape.*\[5\]"):
        layers.Reshape((5,), name="reshape")(rand(2, 3, 4))
    with pytest.raises(ValueError, match="-1"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="dims"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"permute.*ndim=3"):
        layers.Permute((2, 1), name="permute")(rand(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"repeat.*ndim=2"):
        layers.RepeatVector(2, name="repeat")(rand(2, 3, 4))
    with pytest.raises(TypeError, match="integer"):
        layers.RepeatVector(2.5)


def test_lambda_layer():
    layer = layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0})
    x = rand(2, 3)
    np.testing.assert_allclose(out(layer, x), 3 * x, rtol=1e-6)
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    sized = layers.Lambda(lambda t: t, output_shape=(7,))
    assert sized.compute_output_shape((None, 3)) == (None, 7)
    seen = {}

    def f(t, training=None):
        seen["training"] = training
        return t

    layers.Lambda(f)(x, training=True)
    assert seen["training"] is True
    again = roundtrip(layer)
    np.testing.assert_allclose(out(again, x), 3 * x, rtol=1e-6)
    with pytest.raises(TypeError, match="callable"):
        layers.Lambda(3)


# ---------------------------------------------------------------- custom layers


class Linear(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="ones", name="b")

    def call(self, inputs):
        return inputs @ self.w.value + self.b.value


def test_custom_layer_with_add_weight():
    layer = Linear(3)
    x = rand(4, 2)
    y = out(layer, x)
    w, b = layer.get_weights()
    assert w.shape == (2, 3) and np.array_equal(b, np.ones(3))
    assert np.abs(w).max() < 0.5  # random_normal, stddev 0.05
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-5)
    with ember.GradientTape() as tape:
        y = layer(x)
    gw, gb = tape.gradient(y, layer.trainable_weights)
    np.testing.assert_allclose(np.asarray(gw), x.T @ np.ones((4, 3)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(gb), np.full(3, 4.0))
