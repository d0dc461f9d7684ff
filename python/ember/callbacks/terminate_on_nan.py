"""``TerminateOnNaN``: stops training as soon as the loss becomes NaN or infinite."""
import numpy as np

from ember.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
