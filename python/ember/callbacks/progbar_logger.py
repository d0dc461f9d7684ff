"""``ProgbarLogger``: the Keras progress bar during fit, evaluate and predict."""
import time

from ember.callbacks.callback import Callback
from ember.utils.progbar import Progbar


class ProgbarLogger(Callback):
    def __init__(self):
        super().__init__()
        self.progbar = None
        self.seen = 0

    def _start(self):
        self.progbar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1),
                               unit_name="step")
        self.started = time.time()

    def _values(self, batch, logs):
        """The logs to show, plus samples per second when the batch size is known."""
        values = _visible(logs)
        batch_size, samples = self.params.get("batch_size"), self.params.get("samples")
        elapsed = time.time() - self.started
        if batch_size and samples and elapsed > 0:
            values.append(("samples_per_second", min((batch + 1) * batch_size, samples) / elapsed))
        return values

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)

    def on_epoch_begin(self, epoch, logs=None):
        if self.params.get("verbose", 1):
            self.progbar = None
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self.last_batch = batch
        self.progbar.update(batch + 1, self._values(batch, logs))

    def _final_step(self):
        """The batch count to show when done: all steps, unless training stopped early."""
        stopped = self.model is not None and self.model.stop_training
        return max(self.progbar.seen_steps if stopped else (self.params.get("steps") or self.progbar.seen_steps), 1)

    def on_epoch_end(self, epoch, logs=None):
        steps = self._final_step()
        self.progbar.update(steps, self._values(steps - 1, logs), finalize=True)

    def on_test_begin(self, logs=None):
        self._start()

    def on_test_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1, self._values(batch, logs))

    def on_test_end(self, logs=None):
        steps = self._final_step()
        self.progbar.update(steps, self._values(steps - 1, logs), finalize=True)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1)

    def on_predict_end(self, logs=None):
        self.progbar.update(self._final_step(), finalize=True)


def _visible(logs):
    logs = logs or {}
    keys = sorted(k for k in logs if not k.startswith("val_")) + sorted(k for k in logs if k.startswith("val_"))
    return [(k, logs[k]) for k in keys]
