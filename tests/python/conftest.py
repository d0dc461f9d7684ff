import numpy as np
import pytest

import ember


@pytest.fixture(autouse=True)
def _seed():
    ember.utils.set_random_seed(1234)
    yield


def rel_close(a, b, tol=1e-5):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.allclose(a, b, rtol=tol, atol=tol)
