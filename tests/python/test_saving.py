"""ember.saving: the .keras archive, weights files, configs, compile and optimizer state."""
import inspect
import io
import json
import zipfile

import h5py
import numpy as np
import pytest

import ember
from ember import layers as L
from ember.saving import deserialize_keras_object, serialize_keras_object


def _data(n=32, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype("float32"), rng.standard_normal((n, k)).astype("float32")


def _seq(name=None):
    return ember.Sequential([ember.Input((6,)), L.Dense(8, activation="relu"), L.BatchNormalization(),
                             L.Dense(3)], name=name)


def _h5_paths(path):
    with zipfile.ZipFile(path) as zf:
        data = zf.read("model.weights.h5")
    out = []
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return out


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_archive_layout(tmp_path):
    x, y = _data()
    m = _seq()
    m.compile("adam", "mse")
    m.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    m.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert set(meta) == {"keras_version", "date_saved"} and meta["keras_version"].startswith("3.")
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert [la["class_name"] for la in config["config"]["layers"]] == ["InputLayer", "Dense", "BatchNormalization",
                                                                        "Dense"]
    assert config["compile_config"]["loss"] == "mse"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    paths = _h5_paths(path)
    assert "layers/dense/vars/0" in paths and "layers/dense/vars/1" in paths
    assert "layers/batch_normalization/vars/3" in paths and "layers/dense_1/vars/1" in paths
    # Keras's optimizer layout: iteration, learning rate, then (momentum, velocity) per variable
    assert sorted(p for p in paths if p.startswith("optimizer/")) == sorted(f"optimizer/vars/{i}" for i in range(14))
    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
        assert f["optimizer/vars/2"].shape == (6, 8) and f["optimizer/vars/3"].shape == (6, 8)
        assert f["optimizer/vars/4"].shape == (8,)
        assert f["layers/dense/vars"].attrs["name"] == m.layers[0].name


@pytest.mark.parametrize("loader", [ember.models.load_model, ember.saving.load_model])
def test_sequential_roundtrip(tmp_path, loader):
    x, _ = _data()
    m = _seq("seq")
    path = tmp_path / "m.keras"
    ember.saving.save_model(m, path)
    m2 = loader(path)
    assert type(m2) is ember.Sequential and m2.name == "seq"
    assert np.array_equal(m.predict(x, verbose=0), m2.predict(x, verbose=0))
    assert _same(m.get_weights(), m2.get_weights())


def test_functional_multi_input_output(tmp_path):
    a, b = ember.Input((4,), name="a"), ember.Input((3,), name="b")
    h = L.Concatenate()([L.Dense(5)(a), b])
    shared = L.Dense(2)
    out1, out2 = shared(L.Dense(4)(h)), L.Dense(1, activation="sigmoid")(h)
    m = ember.Model({"a": a, "b": b}, {"first": out1, "second": out2}, name="multi")
    rng = np.random.default_rng(1)
    x = {"a": rng.standard_normal((5, 4)).astype("float32"), "b": rng.standard_normal((5, 3)).astype("float32")}
    m.save(tmp_path / "f.keras")
    m2 = ember.models.load_model(tmp_path / "f.keras")
    p, q = m.predict(x, verbose=0), m2.predict(x, verbose=0)
    assert set(p) == set(q) == {"first", "second"}
    for k in p:
        assert np.array_equal(p[k], q[k])
    assert [la.name for la in m.layers] == [la.name for la in m2.layers]


def test_shared_layer_called_twice(tmp_path):
    inp = ember.Input((4,))
    d = L.Dense(4)
    m = ember.Model(inp, d(d(inp)))
    x = np.ones((2, 4), "float32")
    m.save(tmp_path / "s.keras")
    m2 = ember.saving.load_model(tmp_path / "s.keras")
    assert np.array_equal(m.predict(x, verbose=0), m2.predict(x, verbose=0))
    assert len(m2.get_weights()) == 2


def test_nested_models_paths(tmp_path):
    inner = ember.Sequential([ember.Input((6,)), L.Dense(4), L.Dense(4)], name="inner")
    i2 = ember.Input((4,))
    inner_f = ember.Model(i2, L.Dense(2)(i2), name="inner_f")
    inp = ember.Input((6,))
    m = ember.Model(inp, inner_f(inner(inp)))
    path = str(tmp_path / "n.keras")
    m.save(path)
    paths = _h5_paths(path)
    assert "layers/sequential/layers/dense/vars/0" in paths
    assert "layers/sequential/layers/dense_1/vars/0" in paths
    assert "layers/functional/layers/dense/vars/1" in paths
    x, _ = _data(4)
    m2 = ember.saving.load_model(path)
    assert np.array_equal(m.predict(x, verbose=0), m2.predict(x, verbose=0))


def test_optimizer_state_restored_training_resumes_exactly(tmp_path):
    x, y = _data(64)
    m = _seq()
    m.compile(ember.optimizers.Adam(learning_rate=0.01, beta_1=0.8), "mse", metrics=["mae"])
    m.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    m.save(tmp_path / "m.keras")
    m2 = ember.saving.load_model(tmp_path / "m.keras")
    assert int(m2.optimizer.iterations) == int(m.optimizer.iterations) == 8
    assert _same([v.numpy() for v in m.optimizer.variables], [v.numpy() for v in m2.optimizer.variables])
    h1 = m.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    h2 = m2.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert _same(m.get_weights(), m2.get_weights())  # bit-identical
    assert h1.history == h2.history


def test_compile_config_restored(tmp_path):
    m = _seq()
    m.compile(optimizer=ember.optimizers.RMSprop(learning_rate=0.005, rho=0.8), loss=ember.losses.Huber(delta=0.5),
              metrics=["mae", ember.metrics.RootMeanSquaredError()])
    x, y = _data()
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.keras")
    m2 = ember.saving.load_model(tmp_path / "m.keras")
    assert m2.compiled
    assert type(m2.optimizer).__name__ == "RMSprop"
    cfg1, cfg2 = m.optimizer.get_config(), m2.optimizer.get_config()
    assert cfg1 == cfg2 and cfg2["rho"] == 0.8
    assert isinstance(m2.loss, ember.losses.Huber) and m2.loss.get_config() == m.loss.get_config()
    assert m.evaluate(x, y, verbose=0, return_dict=True) == m2.evaluate(x, y, verbose=0, return_dict=True)
    m3 = ember.saving.load_model(tmp_path / "m.keras", compile=False)
    assert not m3.compiled
    assert np.array_equal(m.predict(x, verbose=0), m3.predict(x, verbose=0))


@pytest.mark.parametrize("name", sorted(ember.optimizers.ALL_OBJECTS_DICT))
def test_every_optimizer_state_roundtrip(name, tmp_path):
    x, y = _data(32)
    m = _seq()
    m.compile(ember.optimizers.get(name), "mse")
    m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    m.save_weights(tmp_path / "w.weights.h5")
    m.save(tmp_path / "m.keras")
    for m2 in (ember.saving.load_model(tmp_path / "m.keras"),):
        assert _same([v.numpy() for v in m.optimizer.variables], [v.numpy() for v in m2.optimizer.variables])
        m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        m2.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        assert _same(m.get_weights(), m2.get_weights())


def test_weights_file(tmp_path):
    x, y = _data()
    m = _seq()
    m.compile("adam", "mse")
    m.fit(x, y, epochs=1, verbose=0)
    m.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert sorted(f.keys()) == ["layers", "optimizer", "vars"]
    m2 = _seq()
    m2.compile("adam", "mse")
    m2.load_weights(tmp_path / "w.weights.h5")
    assert _same(m.get_weights(), m2.get_weights())
    assert _same([v.numpy() for v in m.optimizer.variables], [v.numpy() for v in m2.optimizer.variables])
    m3 = _seq()
    m3.load_weights(str(tmp_path / "w.weights.h5"))  # not compiled: the optimizer state is ignored
    assert _same(m.get_weights(), m3.get_weights())
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        m.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="\\.keras"):
        m.save(tmp_path / "m.h5x")


def test_save_overwrite_false(tmp_path):
    m = _seq()
    m.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError):
        m.save(tmp_path / "m.keras", overwrite=False)


# ---------------------------------------------------------------- custom objects
@ember.saving.register_keras_serializable(package="Tests")
class Scale(L.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


@ember.saving.register_keras_serializable(package="Tests")
class TwoTower(ember.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = L.Dense(units)
        self.blocks = [L.Dense(units, activation="relu"), Scale(0.5)]

    def call(self, x):
        return self.blocks[1](self.blocks[0](self.first(x)))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_registration_names():
    assert ember.saving.get_registered_name(Scale) == "Tests>Scale"
    assert ember.saving.get_custom_objects()["Tests>Scale"] is Scale
    assert ember.saving.get_registered_object("Tests>Scale") is Scale
    cfg = serialize_keras_object(Scale(3.0, name="s"))
    assert cfg["registered_name"] == "Tests>Scale" and cfg["module"] == __name__
    assert deserialize_keras_object(cfg).factor == 3.0


def test_registered_custom_layer(tmp_path):
    inp = ember.Input((4,))
    m = ember.Model(inp, Scale(3.0)(L.Dense(4)(inp)))
    x, _ = _data(5, 4)
    m.save(tmp_path / "c.keras")
    m2 = ember.saving.load_model(tmp_path / "c.keras")
    assert np.allclose(m.predict(x, verbose=0), m2.predict(x, verbose=0), atol=1e-6)


def test_unregistered_custom_layer_is_refused_unless_given(tmp_path):
    inp = ember.Input((4,))
    m = ember.Model(inp, Unregistered(3.0)(inp))
    m.save(tmp_path / "u.keras")
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'.*register_keras_serializable"):
        ember.saving.load_model(tmp_path / "u.keras")
    x, _ = _data(5, 4)
    m2 = ember.saving.load_model(tmp_path / "u.keras", custom_objects={"Unregistered": Unregistered})
    assert np.allclose(m.predict(x, verbose=0), m2.predict(x, verbose=0))
    with ember.saving.custom_object_scope({"Unregistered": Unregistered}):
        m3 = ember.saving.load_model(tmp_path / "u.keras")
    assert np.allclose(m.predict(x, verbose=0), m3.predict(x, verbose=0))


def test_subclassed_model(tmp_path):
    x, y = _data(16, 4, 3)
    m = TwoTower(3)
    m.compile("adam", "mse")
    m.fit(x, y, epochs=2, verbose=0, shuffle=False)
    m.save(tmp_path / "t.keras")
    paths = _h5_paths(str(tmp_path / "t.keras"))
    # Keras's attribute walk: "blocks" (a list) then "first"
    assert "blocks/dense/vars/0" in paths and "blocks/scale/vars/0" in paths and "first/vars/1" in paths
    m2 = ember.saving.load_model(tmp_path / "t.keras")
    assert type(m2) is TwoTower and m2.units == 3
    assert np.allclose(m.predict(x, verbose=0), m2.predict(x, verbose=0), atol=1e-6)
    m.fit(x, y, epochs=1, verbose=0, shuffle=False)
    m2.fit(x, y, epochs=1, verbose=0, shuffle=False)
    assert _same(m.get_weights(), m2.get_weights())
    m.save_weights(tmp_path / "t.weights.h5")
    m3 = TwoTower(3)
    m3(x[:1])
    m3.load_weights(tmp_path / "t.weights.h5")
    assert _same(m.get_weights(), m3.get_weights())


def test_lambda_needs_unsafe_mode(tmp_path):
    inp = ember.Input((4,))
    m = ember.Model(inp, L.Lambda(lambda t: t * 2.0 + 1.0)(inp))
    m.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="deserialization of a Python lambda.*safe_mode=False"):
        ember.saving.load_model(tmp_path / "l.keras")
    m2 = ember.saving.load_model(tmp_path / "l.keras", safe_mode=False)
    x, _ = _data(3, 4)
    assert np.allclose(m2.predict(x, verbose=0), x * 2 + 1)


# ---------------------------------------------------------------- configs of the other objects
def _classes(module, base):
    seen, out = set(), []
    for name, cls in sorted(vars(module).items()):
        if name.startswith("_") or not inspect.isclass(cls) or not issubclass(cls, base) or cls is base:
            continue
        if id(cls) not in seen:
            seen.add(id(cls))
            out.append(cls)
    return out


NEEDS_ARGS = {
    "Constant": {"value": 0.5}, "Orthogonal": {"gain": 2.0}, "VarianceScaling": {"scale": 2.0},
    "L1": {"l1": 0.1}, "L2": {"l2": 0.1}, "L1L2": {"l1": 0.1, "l2": 0.2}, "OrthogonalRegularizer": {"factor": 0.1},
    "MaxNorm": {"max_value": 3.0}, "MinMaxNorm": {"min_value": 0.5, "max_value": 2.0},
    "ExponentialDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9},
    "PiecewiseConstantDecay": {"boundaries": [10, 20], "values": [0.1, 0.05, 0.01]},
    "PolynomialDecay": {"initial_learning_rate": 0.1, "decay_steps": 10},
    "InverseTimeDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    "CosineDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.1},
    "CosineDecayRestarts": {"initial_learning_rate": 0.1, "first_decay_steps": 10},
    "PrecisionAtRecall": {"recall": 0.4}, "RecallAtPrecision": {"precision": 0.6},
    "SensitivityAtSpecificity": {"specificity": 0.3}, "SpecificityAtSensitivity": {"sensitivity": 0.7},
    "MeanMetricWrapper": None, "LossFunctionWrapper": None, "Reduction": None,
}


def _objects():
    from ember import constraints, initializers, losses, metrics, optimizers, regularizers
    from ember.optimizers import schedules

    groups = [(initializers, initializers.Initializer), (regularizers, regularizers.Regularizer),
              (constraints, constraints.Constraint), (losses, losses.Loss), (metrics, metrics.Metric),
              (schedules, schedules.LearningRateSchedule), (optimizers, optimizers.Optimizer)]
    out = []
    for module, base in groups:
        for cls in _classes(module, base):
            out.append(pytest.param(cls, id=f"{module.__name__.split('.')[-1]}.{cls.__name__}"))
    return out


@pytest.mark.parametrize("cls", _objects())
def test_object_config_roundtrip(cls):
    if cls.__name__ in NEEDS_ARGS and NEEDS_ARGS[cls.__name__] is None:
        pytest.skip("a wrapper around a function, serialized through the function")
    try:
        obj = cls(**NEEDS_ARGS.get(cls.__name__, {}))
    except TypeError as e:
        pytest.fail(f"{cls.__name__}: add constructor arguments to NEEDS_ARGS ({e})")
    config = json.loads(json.dumps(serialize_keras_object(obj)))
    assert config["class_name"] == cls.__name__ and config["module"].startswith("keras.")
    again = deserialize_keras_object(config)
    assert type(again) is cls
    assert json.loads(json.dumps(serialize_keras_object(again))) == config


@ember.saving.register_keras_serializable(package="Tests")
def scaled_tanh(x):
    return ember.ops.tanh(x) * 2.0


def test_registered_custom_activation(tmp_path):
    inp = ember.Input((4,))
    m = ember.Model(inp, L.Dense(3, activation=scaled_tanh)(inp))
    assert m.layers[1].get_config()["activation"]["registered_name"] == "Tests>scaled_tanh"
    m.save(tmp_path / "a.keras")
    m2 = ember.saving.load_model(tmp_path / "a.keras")
    assert m2.layers[1].activation is scaled_tanh
    x, _ = _data(3, 4)
    assert np.allclose(m.predict(x, verbose=0), m2.predict(x, verbose=0))


def test_keras_class_ember_lacks_is_named(tmp_path):
    cfg = {"module": "keras.layers", "class_name": "NoSuchKerasLayer", "config": {}, "registered_name": None}
    with pytest.raises(TypeError, match="Keras built-in .* ember does not implement"):
        deserialize_keras_object(cfg)


def test_load_weights_skip_mismatch(tmp_path):
    m = ember.Sequential([ember.Input((6,)), L.Dense(4, name="a"), L.Dense(3, name="b")])
    m.save_weights(tmp_path / "w.weights.h5")
    other = ember.Sequential([ember.Input((6,)), L.Dense(4), L.Dense(5)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="layers/dense_1/vars/0"):
        other.load_weights(tmp_path / "w.weights.h5")
    assert _same(before, other.get_weights())  # nothing assigned when the file does not fit
    with pytest.warns(UserWarning, match="Skipping loading weights for layer"):
        other.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    assert _same(m.get_weights()[:2], other.get_weights()[:2])
    assert _same(before[2:], other.get_weights()[2:])


def test_schedule_optimizer_roundtrip(tmp_path):
    x, y = _data(64)
    schedule = ember.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    m = _seq()
    m.compile(ember.optimizers.Adam(schedule), "mse")
    m.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    m.save(tmp_path / "s.keras")
    with zipfile.ZipFile(tmp_path / "s.keras") as zf:
        cfg = json.loads(zf.read("config.json"))["compile_config"]["optimizer"]["config"]["learning_rate"]
    assert cfg["class_name"] == "ExponentialDecay" and cfg["config"]["decay_rate"] == 0.5
    m2 = ember.saving.load_model(tmp_path / "s.keras")
    assert isinstance(m2.optimizer._schedule, ember.optimizers.schedules.ExponentialDecay)
    m.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    m2.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert _same(m.get_weights(), m2.get_weights())
