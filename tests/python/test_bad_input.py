"""Bad input raises a clear Python exception naming the layer/argument and shapes/values."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember as em
from ember import layers


def compiled(loss="sparse_categorical_crossentropy", out=3, activation="softmax"):
    m = em.Sequential([em.Input(shape=(4,)), layers.Dense(out, activation=activation, name="head")])
    m.compile(optimizer="adam", loss=loss)
    return m


def test_dense_fed_the_wrong_feature_width():
    m = compiled()
    with pytest.raises(ValueError, match=r"head.*4.*5|head.*5.*4"):
        m.fit(np.zeros((8, 5), "float32"), np.zeros(8, "int64"), verbose=0)
    with pytest.raises(ValueError, match="head"):
        m.predict(np.zeros((8, 5), "float32"), verbose=0)


def test_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match="cardinality.*10.*9|cardinality.*9.*10"):
        compiled().fit(np.zeros((10, 4), "float32"), np.zeros(9, "int64"), verbose=0)


def test_sparse_labels_out_of_range():
    with pytest.raises(ValueError, match="7"):
        compiled().fit(np.zeros((4, 4), "float32"), np.array([0, 1, 7, 2]), verbose=0)
    with pytest.raises(ValueError, match="-1"):
        compiled().evaluate(np.zeros((4, 4), "float32"), np.array([0, 1, -1, 2]), verbose=0)


@pytest.mark.parametrize("kind", ["optimizer", "loss", "metric", "activation"])
def test_unknown_names(kind):
    with pytest.raises(ValueError, match="nonsense"):
        if kind == "activation":
            layers.Dense(2, activation="nonsense")(np.zeros((1, 2), "float32"))
        else:
            m = em.Sequential([em.Input(shape=(2,)), layers.Dense(2)])
            args = {"optimizer": "adam", "loss": "mse"}
            args["metrics" if kind == "metric" else kind] = ["nonsense"] if kind == "metric" else "nonsense"
            m.compile(**args)
            m.fit(np.zeros((2, 2), "float32"), np.zeros((2, 2), "float32"), verbose=0)


def test_float_labels_where_integers_are_needed_and_the_reverse():
    with pytest.raises(ValueError, match="integer|0.5"):
        compiled().fit(np.zeros((4, 4), "float32"), np.array([0.5, 1, 2, 0], "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"\(4,\)|\(4, 3\)|shape"):
        compiled(loss="categorical_crossentropy").fit(np.zeros((4, 4), "float32"), np.array([0, 1, 2, 0]),
                                                       verbose=0)


def test_empty_arrays():
    with pytest.raises(ValueError, match="empty"):
        compiled().fit(np.zeros((0, 4), "float32"), np.zeros(0, "int64"), verbose=0)
    with pytest.raises(ValueError, match="empty|0 samples"):
        compiled().predict(np.zeros((0, 4), "float32"), verbose=0)


def test_scalar_and_object_inputs():
    with pytest.raises(ValueError, match="scalar"):
        compiled().fit(np.float32(1.0), np.zeros(1, "int64"), verbose=0)
    with pytest.raises(TypeError, match="object"):
        compiled().predict(np.array([object()] * 4), verbose=0)


def test_nothing_crashes_the_interpreter():
    """A batch of hostile inputs in a subprocess: each must raise, none may abort."""
    code = textwrap.dedent("""
        import numpy as np, ember as em
        cases = [
            lambda: em.ops.matmul(np.zeros((2, 3), "float32"), np.zeros((4, 5), "float32")),
            lambda: em.Tensor(np.zeros((2, 3), "float32")) + np.zeros((4,), "float32"),
            lambda: em.ops.reshape(np.zeros(6, "float32"), (4, 2)),
            lambda: em.ops.sum(np.zeros((2, 2), "float32"), axis=5),
            lambda: em.Variable(np.zeros(3, "float32")).assign(np.zeros(4, "float32")),
            lambda: em.layers.Dense(3)(np.zeros((2,), "float32")),
            lambda: em.config.set_num_threads(0),
        ]
        raised = 0
        for case in cases:
            try:
                case()
            except (ValueError, TypeError, IndexError, RuntimeError):
                raised += 1
        print("raised", raised, "of", len(cases))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "raised 7 of 7" in r.stdout, r.stdout + r.stderr
