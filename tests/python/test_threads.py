"""Threads: ember.config.set_num_threads / EMBER_NUM_THREADS size the pool the kernels
(the GEMM included) run in, results do not depend on the thread count, and a forked
child can still run a parallel matmul."""
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)
A = RNG.standard_normal((512, 300), dtype=np.float32)
B = RNG.standard_normal((300, 400), dtype=np.float32)


def matmul(a, b):
    return ember.ops.convert_to_numpy(ember.ops.matmul(a, b))


def pool_threads():
    """Live threads of this process named like ember's workers (ember-0, ember-1, ...)."""
    names = []
    for t in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{t}/comm") as f:
                names.append(f.read())
        except OSError:
            pass
    return sum(n.startswith("ember-") for n in names)


@pytest.fixture
def restore_threads():
    before = ember.config.get_num_threads()
    yield
    ember.config.set_num_threads(before)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_set_num_threads_sizes_the_pool_the_gemm_runs_in(restore_threads):
    want = A @ B
    for n in (3, 1, 2):
        ember.config.set_num_threads(n)
        assert ember.config.get_num_threads() == n
        np.testing.assert_allclose(matmul(A, B), want, rtol=1e-4, atol=1e-4)
        # the replaced pool's workers exit; with 1 thread the product runs on the caller
        expect = n if n > 1 else 0
        deadline = time.time() + 10
        while pool_threads() != expect and time.time() < deadline:
            time.sleep(0.01)
        assert pool_threads() == expect


def test_zero_threads_is_refused(restore_threads):
    with pytest.raises(ValueError, match="set_num_threads"):
        ember.config.set_num_threads(0)


@pytest.mark.parametrize("value,expect", [("3", 3), ("1", 1), ("0", None), ("lots", None)])
def test_environment_variable_sets_the_default(value, expect):
    code = "import os, ember; print(ember.config.get_num_threads(), len(os.sched_getaffinity(0)))"
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, EMBER_NUM_THREADS=value),
                         capture_output=True, text=True, timeout=120, check=True).stdout.split()
    got, cores = int(out[0]), int(out[1])
    assert got == (expect if expect is not None else cores)


def test_results_are_identical_across_thread_counts(restore_threads):
    x = RNG.standard_normal((64, 33, 40), dtype=np.float32)
    y = RNG.standard_normal((64, 40, 31), dtype=np.float32)
    big = RNG.standard_normal((1000, 1000), dtype=np.float32)

    def run():
        t = ember.ops.convert_to_tensor(big)
        return [matmul(A, B), matmul(x, y), ember.ops.convert_to_numpy(t + t)]

    ember.config.set_num_threads(1)
    want = run()
    for n in (2, 3):
        ember.config.set_num_threads(n)
        for i, (g, w) in enumerate(zip(run(), want)):
            assert np.array_equal(g, w), f"result {i} differs between 1 and {n} threads"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_runs_a_parallel_matmul(restore_threads):
    ember.config.set_num_threads(2)
    want = matmul(A, B)  # the parent's pool now has live workers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads (3.12+)
        pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = np.array_equal(matmul(A, B), want) and np.allclose(matmul(B.T, A.T), want.T, 1e-4, 1e-4)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.time() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            break
        if time.time() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung in a parallel matmul")
        time.sleep(0.02)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child failed (status {status})"
    np.testing.assert_array_equal(matmul(A, B), want)
