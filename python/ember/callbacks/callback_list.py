"""``CallbackList``: dispatches hooks to every callback of a fit/evaluate/predict call."""
from ember.callbacks.callback import Callback
from ember.callbacks.history import History
from ember.callbacks.progbar_logger import ProgbarLogger


class CallbackList(Callback):
    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, mode="train", **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be ember.callbacks.Callback instances, got {type(c).__name__}")
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if add_history:
            if model is not None and model.history is not None and isinstance(model.history, History):
                model.history = History()
            history = History()
            self.callbacks.append(history)
            if model is not None:
                model.history = history
        params = dict(params, mode=mode)
        for c in self.callbacks:
            if model is not None:
                c.set_model(model)
            c.set_params(params)

    def needs_every_batch(self, mode):
        """True when some callback (other than the time-throttled progress bar) wants
        every batch of ``mode``; otherwise the core calls back at most 10 times a second."""
        names = (f"on_{mode}_batch_begin", f"on_{mode}_batch_end")
        for c in self.callbacks:
            if isinstance(c, ProgbarLogger):
                continue
            if any(n in vars(c) or getattr(type(c), n) is not getattr(Callback, n) for n in names):
                return True
        return False

    def _call(self, name, *args):
        for c in self.callbacks:
            getattr(c, name)(*args)


def _dispatcher(name):
    def method(self, *args):
        self._call(name, *args)

    method.__name__ = name
    return method


for _name in [n for n in dir(Callback) if n.startswith("on_")]:
    setattr(CallbackList, _name, _dispatcher(_name))
