"""``GradientTape``: TensorFlow-style access to the core's autograd tape."""
from ember import _native


class GradientTape:
    """Records ops for automatic differentiation, as ``tf.GradientTape``.

    Trainable variables are watched automatically; tensors are watched with ``watch``.
    Non-persistent tapes can compute gradients once.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._used = False
        self._guard = None

    def __enter__(self):
        if not _native.is_grad_enabled():
            raise RuntimeError("GradientTape: cannot record inside ember.no_grad()")
        return self

    def __exit__(self, *exc):
        return False

    def watch(self, tensor):
        """Makes ``tensor`` (or each tensor in a list) a leaf to differentiate against.

        Returns the watched tensor(s); rebind the name when watching a plain Tensor
        (``x = tape.watch(x)``), since ember tensors are immutable values.
        """
        if isinstance(tensor, (list, tuple)):
            return type(tensor)(self.watch(t) for t in tensor)
        if isinstance(tensor, _native.Variable):
            return tensor
        return _native.watch(tensor)

    def gradient(self, target, sources, output_gradients=None):
        """Gradients of ``target`` with respect to ``sources`` (same nesting: a single
        source, a list, or a dict); None where the target does not depend on a source."""
        if self._used and not self.persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on a non-persistent tape; "
                "use GradientTape(persistent=True) to compute several gradients"
            )
        self._used = True
        if isinstance(sources, dict):
            keys = list(sources)
            grads = _native.gradient(target, [sources[k] for k in keys], output_gradients)
            return dict(zip(keys, grads))
        if isinstance(sources, (list, tuple)):
            return list(_native.gradient(target, list(sources), output_gradients))
        return _native.gradient(target, [sources], output_gradients)[0]
