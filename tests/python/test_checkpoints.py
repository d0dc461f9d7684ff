"""ModelCheckpoint and BackupAndRestore, including a training process killed mid-epoch
and restarted, which must end with bit-identical weights to an uninterrupted run."""
import glob
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember import layers as L
from ember.callbacks import BackupAndRestore, Callback, ModelCheckpoint

EMBER_PATH = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype("float32")
    y = (x @ rng.standard_normal((6, 2))).astype("float32")
    return x, y


def _model(lr=0.01):
    m = ember.Sequential([ember.Input((6,)), L.Dense(8, activation="relu"), L.Dense(2)])
    m.compile(ember.optimizers.Adam(lr), "mse", metrics=["mae"])
    return m


class WeightsAtEpochEnd(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


# ---------------------------------------------------------------- ModelCheckpoint
def test_filepath_template(tmp_path):
    x, y = _data()
    m = _model()
    template = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    h = m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[ModelCheckpoint(template)])
    names = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "*.keras")))
    expected = sorted(f"ckpt-{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(h.history["val_loss"]))
    assert names == expected
    last = ember.saving.load_model(str(tmp_path / expected[-1]) if len(set(expected)) == 3 else
                                   str(tmp_path / sorted(names)[-1]))
    assert last.compiled


def test_save_best_only(tmp_path):
    x, y = _data()
    m = _model(lr=0.05)
    rec = WeightsAtEpochEnd()
    path = str(tmp_path / "best.keras")
    h = m.fit(x, y, epochs=6, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[rec, ModelCheckpoint(path, monitor="val_loss", save_best_only=True)])
    best = int(np.argmin(h.history["val_loss"]))
    loaded = ember.saving.load_model(path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), rec.weights[best]))


def test_save_best_only_mode_max_and_threshold(tmp_path):
    x, y = _data()
    m = _model()
    path = str(tmp_path / "w.weights.h5")
    # a threshold nothing beats: never saved
    m.fit(x, y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                                               save_weights_only=True,
                                                               initial_value_threshold=-1.0)])
    assert not os.path.exists(path)
    rec = WeightsAtEpochEnd()
    # mode="max" on the loss keeps the worst epoch
    h = m.fit(x, y, epochs=4, verbose=0, callbacks=[rec, ModelCheckpoint(path, monitor="loss", mode="max",
                                                                          save_best_only=True,
                                                                          save_weights_only=True)])
    worst = int(np.argmax(h.history["loss"]))
    other = _model()
    other.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), rec.weights[worst]))


def test_save_freq_batches(tmp_path):
    x, y = _data(64)
    m = _model()
    m.fit(x, y, epochs=2, batch_size=8, verbose=0,  # 8 batches per epoch
          callbacks=[ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.weights.h5"), save_weights_only=True,
                                     save_freq=3)])
    names = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "*.weights.h5")))
    assert names == sorted(["e1-b3.weights.h5", "e1-b6.weights.h5", "e2-b1.weights.h5", "e2-b4.weights.h5",
                            "e2-b7.weights.h5"])


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        ModelCheckpoint(str(tmp_path / "x.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        ModelCheckpoint(str(tmp_path / "x.h5x"))
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(str(tmp_path / "x.keras"), save_freq="batch")
    m = _model()
    x, y = _data()
    with pytest.raises(KeyError, match="Failed to format"):
        m.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "{nope}.keras"))])


# ---------------------------------------------------------------- BackupAndRestore
def test_backup_deleted_at_end_and_resume_epoch(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "backup")
    m = _model()
    m.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(backup)])
    assert not os.path.exists(backup)
    m.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(backup, delete_checkpoint=False)])
    with open(os.path.join(backup, "training_metadata.json")) as f:
        assert json.load(f) == {"epoch": 2, "batch": 0}
    seen = []
    m2 = _model()
    cb = Callback()
    cb.on_epoch_begin = lambda epoch, logs=None: seen.append(epoch)
    m2.fit(x, y, epochs=4, verbose=0, callbacks=[BackupAndRestore(backup), cb])
    assert seen == [2, 3]


def test_double_checkpoint_falls_back_to_previous(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "b")
    m = _model()
    m.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(backup, double_checkpoint=True,
                                                                 delete_checkpoint=False)])
    assert os.path.exists(os.path.join(backup, "latest.weights.h5.bkp"))
    with open(os.path.join(backup, "latest.weights.h5"), "wb") as f:
        f.write(b"corrupted")
    seen = []
    cb = Callback()
    cb.on_epoch_begin = lambda epoch, logs=None: seen.append(epoch)
    _model().fit(x, y, epochs=4, verbose=0, callbacks=[BackupAndRestore(backup, double_checkpoint=True), cb])
    assert seen == [2, 3]  # the previous backup was made at the end of epoch 2


def test_backup_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore("x", save_freq="batch")


CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import ember
    from ember import layers as L
    backup, out, kill_epoch, kill_batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ember.utils.set_random_seed(1234)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 8)).astype("float32")
    y = (x @ rng.standard_normal((8, 3))).astype("float32")
    m = ember.Sequential([ember.Input((8,)), L.Dense(16, activation="relu"), L.Dropout(0.3),
                          L.Dense(16, activation="tanh"), L.Dense(3)])
    m.compile(ember.optimizers.Adam(0.01), "mse")

    class Killer(ember.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == kill_epoch and batch == kill_batch:
                os.kill(os.getpid(), signal.SIGKILL)

    callbacks = [Killer()] + ([ember.callbacks.BackupAndRestore(backup)] if backup != "-" else [])
    m.fit(x, y, epochs=6, batch_size=8, shuffle=True, callbacks=callbacks, verbose=0)
    np.savez(out, *m.get_weights(), *[v.numpy() for v in m.optimizer.variables])
""")


def _run(*args):
    env = dict(os.environ, PYTHONPATH=EMBER_PATH)  # the child imports the ember under test
    return subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], env=env, capture_output=True,
                          timeout=300)


def test_killed_training_resumes_to_identical_weights(tmp_path):
    """Shuffled batches and an (unseeded) Dropout: the backup holds the random streams'
    positions, so the resumed run draws what the uninterrupted one drew."""
    backup = tmp_path / "backup"
    reference = _run("-", tmp_path / "ref.npz", -1, -1)
    assert reference.returncode == 0, reference.stderr.decode()
    killed = _run(backup, tmp_path / "never.npz", 3, 5)  # killed in the middle of the 4th epoch
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert not (tmp_path / "never.npz").exists()
    assert (backup / "latest.weights.h5").exists()
    resumed = _run(backup, tmp_path / "resumed.npz", -1, -1)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert not backup.exists()
    ref, res = np.load(tmp_path / "ref.npz"), np.load(tmp_path / "resumed.npz")
    assert ref.files == res.files
    for k in ref.files:  # weights and optimizer state, bit for bit
        assert np.array_equal(ref[k], res[k]), k


def test_random_state_roundtrip():
    state = ember._native.random_get_state()
    a = ember.random.uniform((5,)).numpy()
    ember._native.random_set_state(state)
    b = ember.random.uniform((5,)).numpy()
    assert np.array_equal(a, b)
