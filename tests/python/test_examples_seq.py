"""The sequence-model examples of issue 4, run as tests with fixed seeds."""
import importlib.util
import os

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_simple_rnn_regression_learns_the_mean():
    mse, baseline = load("simple_rnn_regression").main(verbose=0)
    assert mse < 0.02 * baseline, (mse, baseline)


def test_gru_forecaster_beats_the_last_value_baseline_fourfold():
    mse, naive = load("gru_forecaster").main(verbose=0)
    assert mse < 0.25 * naive, (mse, naive)


def test_seq2seq_reverses_most_held_out_strings():
    assert load("seq2seq_chars").main(verbose=0) >= 0.9


def test_imdb_style_bidirectional_lstm_classifies_held_out_reviews():
    assert load("imdb_bilstm").main(verbose=0) >= 0.95
