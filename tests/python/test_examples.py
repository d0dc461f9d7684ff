"""The worked examples of the texts the project grew from, run as tests."""
import importlib.util
import os

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_linear_regression_with_sgd_learns_the_coefficients():
    w, b = load("linear_regression").main()
    np.testing.assert_allclose(w, [1.0, 2.0, 3.0], atol=0.02)
    assert b == pytest.approx(2.0, abs=0.02)


def test_mlp_regression_with_adam_and_mse():
    assert load("mlp_regression").main() < 0.02


@pytest.mark.parametrize("optimizer", ["SGD", "SGD+momentum", "Adam", "Adagrad", "RMSprop"])
def test_mlp_classifier_with_each_optimizer(optimizer):
    assert load("mlp_classifier").train(optimizer) >= 0.9


def test_digits_demo_reaches_95_percent():
    from ember.cli import demo

    assert demo(verbose=0) >= 0.95


# The vision models of issue 3, each trained on the bundled digits with a fixed seed.
@pytest.mark.parametrize("name, at_least", [
    ("lenet5", 0.95), ("vgg_small", 0.95), ("resnet", 0.95), ("inception", 0.94),
])
def test_vision_model_reaches_its_held_out_accuracy(name, at_least):
    assert load(name).main(verbose=0) >= at_least


def test_denoising_autoencoder_removes_most_of_the_noise():
    denoised, noisy = load("denoising_autoencoder").main(verbose=0)
    assert denoised < 0.5 * noisy, (denoised, noisy)
