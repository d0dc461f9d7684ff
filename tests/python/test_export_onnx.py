"""ONNX export: ``model.export(path, format="onnx")`` writes a graph that onnxruntime runs to
the numbers ``model.predict`` gives (atol 1e-5), for each supported layer, nested and
multi-input/multi-output models; unsupported layers and formats raise clear errors."""
import numpy as np
import pytest

import ember
from ember import layers as L

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def run_onnx(path, feeds):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def check(model, tmp_path, *shapes, n=5):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((n,) + s).astype("float32") for s in shapes]
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx", verbose=False)
    names = [i.name for i in onnx.load(str(path)).graph.input]
    got = run_onnx(path, dict(zip(names, xs)))
    want = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5)
    return path


def seq(shape, *layers):
    return ember.Sequential([ember.Input(shape=shape), *layers])


ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "softplus", "softsign", "silu",
               "gelu", "relu6", "leaky_relu", "hard_sigmoid", "hard_silu", "mish", "exponential", "linear"]


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_dense_with_each_activation(tmp_path, act):
    check(seq((7,), L.Dense(5, activation=act), L.Dense(3, use_bias=False)), tmp_path, (7,))


@pytest.mark.parametrize("layer", [
    L.ReLU(), L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), L.LeakyReLU(negative_slope=0.3),
    L.ELU(alpha=0.5), L.Softmax(axis=1), L.PReLU(), L.Activation("tanh"), L.Dropout(0.5), L.Identity(),
    L.Rescaling(0.5, offset=-1.0), L.LayerNormalization(), L.LayerNormalization(rms_scaling=True),
    L.BatchNormalization(),
], ids=lambda layer: type(layer).__name__)
def test_elementwise_and_normalization_layers(tmp_path, layer):
    model = seq((4, 6), L.Dense(6), layer, L.Dense(2))
    if isinstance(layer, L.BatchNormalization):
        # moving statistics away from their initial values
        model.compile("sgd", "mse")
        model.fit(np.random.rand(64, 4, 6).astype("float32") * 3, np.zeros((64, 4, 2), "float32"), epochs=2,
                  verbose=0)
    check(model, tmp_path, (4, 6))


def test_preprocessing_normalization_layers(tmp_path):
    data = np.random.default_rng(3).standard_normal((50, 4, 6)).astype("float32") * 2 + 1
    adapted = L.Normalization()
    adapted.adapt(data)
    check(seq((4, 6), adapted, L.Normalization(mean=0.5, variance=4.0, invert=True), L.UnitNormalization(),
              L.Normalization(axis=(1, 2), mean=np.ones((4, 6)), variance=np.full((4, 6), 2.0)), L.Flatten()),
          tmp_path, (4, 6))


@pytest.mark.parametrize("axis", [-1, 1])
def test_group_normalization(tmp_path, axis):
    layer = L.GroupNormalization(groups=2, axis=axis)
    model = seq((4, 5, 6), L.Conv2D(4, 1, data_format="channels_last" if axis == -1 else "channels_first"), layer,
                L.Flatten())
    layer.set_weights([np.linspace(0.5, 2, w.shape[0]).astype("float32") for w in layer.get_weights()])
    check(model, tmp_path, (4, 5, 6))


def test_reshaping_layers(tmp_path):
    model = seq((3, 4), L.Reshape((2, 6)), L.Permute((2, 1)), L.Flatten(), L.RepeatVector(2), L.Flatten(),
                L.Dense(3))
    check(model, tmp_path, (3, 4))


@pytest.mark.parametrize("conv", [
    lambda: L.Conv2D(4, 3, activation="relu"),
    lambda: L.Conv2D(4, (3, 2), strides=2, padding="same"),
    lambda: L.Conv2D(4, 3, dilation_rate=2, padding="same", use_bias=False),
    lambda: L.Conv2D(4, 3, groups=2),
    lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
    lambda: L.SeparableConv2D(5, 3, depth_multiplier=2, activation="tanh"),
    lambda: L.Conv2D(4, 3, data_format="channels_first"),
])
def test_conv2d_variants(tmp_path, conv):
    layer = conv()
    model = seq((8, 7, 4), layer, L.Flatten(), L.Dense(2))
    check(model, tmp_path, (8, 7, 4))


@pytest.mark.parametrize("conv", [
    lambda: L.Conv1D(3, 3), lambda: L.Conv1D(3, 3, padding="causal", dilation_rate=2),
    lambda: L.Conv1D(3, 2, strides=2, padding="same"), lambda: L.DepthwiseConv1D(3),
    lambda: L.SeparableConv1D(4, 3, padding="same"),
])
def test_conv1d_variants(tmp_path, conv):
    check(seq((9, 2), conv(), L.GlobalAveragePooling1D(), L.Dense(2)), tmp_path, (9, 2))


@pytest.mark.parametrize("pool", [
    L.MaxPooling2D(), L.MaxPooling2D(3, strides=2, padding="same"), L.AveragePooling2D(2),
    L.AveragePooling2D(3, strides=2, padding="same"), L.GlobalMaxPooling2D(), L.GlobalAveragePooling2D(),
    L.GlobalAveragePooling2D(keepdims=True), L.ZeroPadding2D(((1, 2), (0, 1))),
], ids=lambda p: type(p).__name__)
def test_pooling_and_padding_2d(tmp_path, pool):
    check(seq((7, 8, 3), L.Conv2D(3, 1), pool, L.Flatten(), L.Dense(2)), tmp_path, (7, 8, 3))


def test_pooling_1d(tmp_path):
    check(seq((10, 3), L.ZeroPadding1D(2), L.MaxPooling1D(2), L.AveragePooling1D(2, padding="same"),
              L.GlobalMaxPooling1D(), L.Dense(2)), tmp_path, (10, 3))


def test_small_cnn_with_batchnorm(tmp_path):
    model = seq((12, 12, 1), L.Conv2D(8, 3, padding="same"), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(),
                L.Conv2D(8, 3), L.BatchNormalization(), L.Activation("relu"), L.GlobalAveragePooling2D(),
                L.Dropout(0.3), L.Dense(10, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.random.rand(32, 12, 12, 1).astype("float32"), np.random.randint(0, 10, 32), epochs=1, verbose=0)
    check(model, tmp_path, (12, 12, 1))


def test_functional_multi_input_multi_output_with_merges_and_nesting(tmp_path):
    inner = seq((6,), L.Dense(6, activation="tanh"), L.Dense(6))
    a = ember.Input(shape=(6,), name="a")
    b = ember.Input(shape=(6,), name="b")
    ha, hb = inner(a), L.Dense(6)(b)
    merged = [L.Add()([ha, hb]), L.Subtract()([ha, hb]), L.Multiply()([ha, hb, a]), L.Average()([ha, hb]),
              L.Maximum()([ha, hb]), L.Minimum()([ha, hb])]
    h = L.Concatenate()(merged)
    out1 = L.Dense(3, name="out1")(h)
    out2 = L.Dense(1, activation="sigmoid", name="out2")(L.Concatenate(axis=-1)([h, a]))
    model = ember.Model([a, b], [out1, out2])
    path = check(model, tmp_path, (6,), (6,))
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["a", "b"]
    assert [o.name for o in graph.output] == ["out1", "out2"]


def test_batch_dimension_is_dynamic(tmp_path):
    model = seq((4,), L.Dense(2))
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx", verbose=False)
    name = onnx.load(str(path)).graph.input[0].name
    for n in (1, 17):
        x = np.random.rand(n, 4).astype("float32")
        np.testing.assert_allclose(run_onnx(path, {name: x})[0], model.predict(x, verbose=0), atol=1e-5)


def test_unsupported_layer_is_named(tmp_path):
    model = seq((4,), L.Dense(3), L.Lambda(lambda x: x * 2, name="doubler"))
    with pytest.raises(ValueError, match="doubler.*Lambda.*not supported"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_tf_formats_raise_a_clear_error(tmp_path):
    model = seq((4,), L.Dense(3))
    for fmt in ("tf_saved_model", "openvino"):
        with pytest.raises(ValueError, match="format='onnx' only"):
            model.export(str(tmp_path / "m"), format=fmt)


def test_subclassed_model_is_refused(tmp_path):
    class Sub(ember.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    m = Sub()
    m.predict(np.zeros((1, 3), "float32"), verbose=0)
    with pytest.raises(ValueError, match="subclassed"):
        m.export(str(tmp_path / "m.onnx"), format="onnx")


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3), dict(kernel_size=3, strides=2), dict(kernel_size=2, strides=3),
    dict(kernel_size=3, strides=2, padding="same"), dict(kernel_size=4, strides=2, padding="same"),
    dict(kernel_size=3, strides=2, output_padding=1), dict(kernel_size=3, strides=2, padding="same", output_padding=1),
    dict(kernel_size=2, strides=2, padding="same", output_padding=1), dict(kernel_size=3, dilation_rate=2),
], ids=str)
def test_conv_transpose(tmp_path, kwargs):
    check(seq((5, 6, 3), L.Conv2DTranspose(4, activation="relu", **kwargs), L.Flatten(), L.Dense(2)), tmp_path,
          (5, 6, 3))
    check(seq((7, 3), L.Conv1DTranspose(2, **kwargs), L.Flatten(), L.Dense(2)), tmp_path, (7, 3))


def test_cropping_and_upsampling(tmp_path):
    check(seq((6, 7, 2), L.Cropping2D(((1, 0), (2, 1))), L.UpSampling2D((2, 3)), L.Conv2D(2, 3), L.Flatten()),
          tmp_path, (6, 7, 2))
    check(seq((9, 2), L.Cropping1D((2, 1)), L.UpSampling1D(3), L.Flatten()), tmp_path, (9, 2))


def test_bilinear_upsampling_is_refused_by_name(tmp_path):
    model = seq((4, 4, 1), L.UpSampling2D(interpolation="bilinear", name="up"))
    with pytest.raises(ValueError, match="'up'.*bilinear"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")


def test_custom_activation_is_refused_by_layer_name(tmp_path):
    model = seq((4,), L.Dense(3, activation=lambda x: x * 2, name="custom_dense"))
    with pytest.raises(ValueError, match="'custom_dense' has a custom activation"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")
