"""``BackupAndRestore``: resumes an interrupted ``fit`` from its last backup (Keras 3).

The backup is ``<backup_dir>/latest.weights.h5`` (weights and optimizer state, written
atomically) and ``training_metadata.json`` (the epoch and batch reached). ember also
stores, inside the weights file so that both always match, the epoch and the states of
the random streams (the core's, which shuffles and draws dropout masks, and numpy's):
a run killed after an epoch-end backup and restarted with the same seed ends with the
same weights as an uninterrupted run.
"""
import json
import os
import shutil

import numpy as np

from ember import _native
from ember.callbacks.batch_counter import BatchCounter
from ember.callbacks.callback import Callback


def _rng_state():
    state = {"numpy": None, "ember": None}
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state["numpy"] = [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]
    if hasattr(_native, "random_get_state"):
        state["ember"] = str(_native.random_get_state())
    return state


def _set_rng_state(state):
    if not state:
        return
    if state.get("numpy"):
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    if state.get("ember") is not None and hasattr(_native, "random_set_state"):
        _native.random_set_state(int(state["ember"]))


class BackupAndRestore(Callback):
    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. Expected either "
                "'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches = BatchCounter(save_freq)
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"

    # ---------------------------------------------------------------- restore
    def on_train_begin(self, logs=None):
        try:
            self._load_model(self._weights_path)
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            self._load_model(self._prev_weights_path)

    def _load_model(self, weights_path):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call `fit()`. "
                f"Model {self.model} is unbuilt. You can build it beforehand by calling it on a batch of data."
            )
        if not os.path.exists(weights_path):
            return
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built and self.model.trainable_weights:
            optimizer.build(self.model.trainable_weights)
        from ember.saving import saving_lib

        saving_lib.load_weights_only(self.model, weights_path)
        metadata = _read_metadata(weights_path)
        if metadata is None and os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.load(f)
        if metadata is not None:
            self._current_epoch = int(metadata["epoch"])
            self.model._initial_epoch = self._current_epoch
            _set_rng_state(metadata.get("rng"))

    # ---------------------------------------------------------------- backup
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._batches.last = None
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch" and self._batches.due(batch):
            self._save_model()

    def _save_model(self):
        from ember.saving import saving_lib

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for src, dst in ((self._weights_path, self._prev_weights_path),
                             (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(src):
                    saving_lib.atomic_write(dst, lambda tmp, src=src: shutil.copyfile(src, tmp))
        metadata = {"epoch": self._current_epoch, "batch": self._batches.last or 0}
        full = dict(metadata, rng=_rng_state())
        saving_lib.save_weights_only(self.model, self._weights_path,
                                     attrs={"ember_training_metadata": json.dumps(full)})

        def write(tmp):
            with open(tmp, "w") as f:
                json.dump(metadata, f)

        saving_lib.atomic_write(self._training_metadata_path, write)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _read_metadata(weights_path):
    from ember.saving import saving_lib

    h5py = saving_lib._h5py()
    with h5py.File(weights_path, "r") as f:
        raw = f.attrs.get("ember_training_metadata")
    if raw is None:
        return None
    return json.loads(raw if isinstance(raw, str) else raw.decode("utf-8"))
