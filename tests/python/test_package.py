"""Packaging promises: a quick import and a small installed package."""
import os
import subprocess
import sys

import pytest

import ember


def _run(code):
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_import_takes_at_most_0_3_s():
    import time

    def best(code):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            _run(code)
            times.append(time.perf_counter() - t)
        return min(times)

    cost = best("import ember") - best("pass")
    assert cost <= 0.3, f"import ember took {cost:.3f} s"


def test_installed_package_is_at_most_20_mb():
    root = os.path.dirname(ember.__file__)
    repo_python = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    if os.path.abspath(root).startswith(repo_python):
        pytest.skip("running against the working tree's debug build, not an installed package")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
    assert size <= 20 * 1024 * 1024, f"installed package is {size / 2**20:.1f} MiB"


def test_version_and_keras_style_imports():
    import ember as keras

    assert keras.__version__
    assert keras.layers.Dense and keras.Sequential and keras.optimizers.Adam and keras.losses.MeanSquaredError
    assert keras.backend.backend() == "ember"
