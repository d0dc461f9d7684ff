"""Callbacks with Keras semantics, and the progress bar's output."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember as em
from ember import layers


def data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1))).astype("float32")
    return x, y


def model(lr=0.01):
    m = em.Sequential([em.Input(shape=(5,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    m.compile(optimizer=em.optimizers.SGD(learning_rate=lr), loss="mse")
    return m


def test_history_records_every_epoch():
    x, y = data()
    h = model().fit(x, y, epochs=4, verbose=0)
    assert h.epoch == [0, 1, 2, 3] and len(h.history["loss"]) == 4


def test_early_stopping_restores_best_weights():
    x, y = data()
    m = model(lr=0.05)
    snapshots = []
    record = em.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append((logs["loss"], m.get_weights())))
    # a monitor that never improves after epoch 0 forces a stop after `patience` epochs
    es = em.callbacks.EarlyStopping(monitor="loss", mode="max", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=20, callbacks=[record, es], verbose=0)
    assert len(h.history["loss"]) == 3 and es.stopped_epoch == 2
    best = int(np.argmax([s[0] for s in snapshots]))
    for a, b in zip(m.get_weights(), snapshots[best][1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_patience_on_val_loss():
    x, y = data()
    es = em.callbacks.EarlyStopping(patience=1, min_delta=1e9)
    h = model().fit(x, y, validation_split=0.25, epochs=10, callbacks=[es], verbose=0)
    assert len(h.history["loss"]) == 2


def test_learning_rate_scheduler_sets_the_rate():
    x, y = data()
    m = model()
    sched = em.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    h = m.fit(x, y, epochs=3, callbacks=[sched], verbose=0)
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert float(m.optimizer.learning_rate) == pytest.approx(0.1 / 3)


def test_reduce_lr_on_plateau():
    x, y = data()
    m = model()
    cb = em.callbacks.ReduceLROnPlateau(monitor="loss", mode="max", factor=0.5, patience=1, min_lr=0.002)
    m.fit(x, y, epochs=6, callbacks=[cb], verbose=0)
    assert float(m.optimizer.learning_rate) == pytest.approx(0.002)


def test_lambda_callback_sees_every_batch():
    x, y = data(100)
    batches = []
    cb = em.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    model().fit(x, y, epochs=2, batch_size=10, callbacks=[cb], verbose=0)
    assert batches == list(range(10)) * 2


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    x, y = data(100)
    x[0, 0] = np.nan
    batches = []
    cb = em.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    model().fit(x, y, epochs=3, batch_size=10, shuffle=False, callbacks=[em.callbacks.TerminateOnNaN(), cb],
                verbose=0)
    assert batches == [0]
    assert "Invalid loss" in capsys.readouterr().out


def test_csv_logger(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model().fit(x, y, epochs=3, callbacks=[em.callbacks.CSVLogger(path)], verbose=0)
    lines = path.read_text().strip().splitlines()
    assert lines[0] == "epoch,loss" and len(lines) == 4 and lines[3].startswith("2,")


def test_progress_bar_prints_one_line_per_epoch_when_not_a_terminal():
    code = textwrap.dedent("""
        import numpy as np, ember as em
        x = np.random.default_rng(0).normal(size=(320, 5)).astype("float32")
        m = em.Sequential([em.Input(shape=(5,)), em.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        m.fit(x, x[:, :1], epochs=2, batch_size=32)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4, out
    assert lines[1].startswith("10/10") and "loss:" in lines[1] and "mae:" in lines[1] and "samples/s" in lines[1]
