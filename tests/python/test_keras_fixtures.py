"""Models saved by Keras 3 (tests/fixtures/keras, made by make_keras_fixtures.py) load in
ember without Keras and predict Keras's numbers within 1e-5."""
import glob
import os

import numpy as np
import pytest

import ember

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras")
NAMES = sorted(os.path.basename(p)[:-6] for p in glob.glob(os.path.join(FIXTURES, "*.keras")))


def _load(name):
    data = np.load(os.path.join(FIXTURES, name + ".npz"))
    xs = [data[f"x{i}"] for i in range(len([k for k in data.files if k.startswith("x")]))]
    ys = [data[f"y{i}"] for i in range(len([k for k in data.files if k.startswith("y")]))]
    return ember.saving.load_model(os.path.join(FIXTURES, name + ".keras")), xs, ys, data


def test_fixtures_exist():
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_keras_fixture_predicts_like_keras(name):
    model, xs, ys, _ = _load(name)
    if name == "merging":
        preds = model.predict({"a": xs[0], "b": xs[1], "c": xs[2]}, verbose=0)
    else:
        preds = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    preds = preds if isinstance(preds, (list, tuple)) else [preds]
    assert len(preds) == len(ys)
    for p, y in zip(preds, ys):
        assert p.shape == y.shape
        np.testing.assert_allclose(p, y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_keras_fixture_resaves_identically(name, tmp_path):
    """ember writes the file back in the same layout: same weights, same predictions."""
    model, xs, _, _ = _load(name)
    path = str(tmp_path / "again.keras")
    model.save(path)
    again = ember.saving.load_model(path)
    for a, b in zip(model.get_weights(), again.get_weights()):
        assert np.array_equal(a, b)


def test_compiled_fixture_restores_optimizer_and_resumes_like_keras():
    model, xs, _, data = _load("compiled_adam")
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    assert int(model.optimizer.iterations) == 4
    model.train_on_batch(data["tx"], data["ty"])
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"w{i}"], atol=1e-5, rtol=1e-5)
