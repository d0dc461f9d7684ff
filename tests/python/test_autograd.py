"""The eager driver's tape: GradientTape and PyTorch-style backward over one autograd."""
import resource

import numpy as np
import pytest

import ember as em


def test_gradient_tape_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)).astype("float32")
    w0 = rng.normal(size=(3, 2)).astype("float32")
    w = em.Variable(w0, name="w")
    with em.GradientTape() as tape:
        y = em.ops.matmul(x, w)
        loss = em.ops.sum(y * y)
    g = tape.gradient(loss, w)
    np.testing.assert_allclose(np.asarray(g), x.T @ (2 * (x @ w0)), rtol=1e-5)


def test_persistent_tape_and_single_use():
    w = em.Variable(np.array([1.0, 2.0], dtype="float32"))
    with em.GradientTape(persistent=True) as tape:
        y = em.ops.sum(w * w)
        z = em.ops.sum(w * 3.0)
    np.testing.assert_allclose(np.asarray(tape.gradient(y, w)), [2.0, 4.0])
    np.testing.assert_allclose(np.asarray(tape.gradient(z, w)), [3.0, 3.0])
    with em.GradientTape() as tape2:
        y = em.ops.sum(w * w)
    tape2.gradient(y, w)
    with pytest.raises(RuntimeError, match="once"):
        tape2.gradient(y, w)


def test_watch_and_unconnected_sources():
    x = em.Tensor(np.array([3.0], dtype="float32"))
    other = em.Variable(np.zeros(1, dtype="float32"))
    with em.GradientTape() as tape:
        x = tape.watch(x)
        y = x * x
    gx, go = tape.gradient(y, [x, other])
    np.testing.assert_allclose(np.asarray(gx), [6.0])
    assert go is None


def test_backward_and_grad_accumulate_like_pytorch():
    x = em.Tensor(np.array([1.0, -2.0], dtype="float32")).requires_grad_()
    (x * x).backward(np.ones(2, dtype="float32"))
    np.testing.assert_allclose(np.asarray(x.grad), [2.0, -4.0])
    em.ops.sum(x * 3.0).backward()
    np.testing.assert_allclose(np.asarray(x.grad), [5.0, -1.0])


def test_no_grad_records_nothing():
    w = em.Variable(np.ones(3, dtype="float32"))
    with em.no_grad():
        y = w * 2.0
    assert not y.requires_grad
    assert (w * 2.0).requires_grad


def test_memory_is_flat_over_thousands_of_steps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 32)).astype("float32")
    w = em.Variable(rng.normal(size=(32, 32)).astype("float32"))

    def step():
        with em.GradientTape() as tape:
            loss = em.ops.sum(em.ops.matmul(x, w) * 0.5)
        g = tape.gradient(loss, w)
        w.assign(np.asarray(w) - 1e-6 * np.asarray(g))

    for _ in range(200):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3000):
        step()
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 20, f"memory grew by {grown_mib:.1f} MiB over 3000 steps"
