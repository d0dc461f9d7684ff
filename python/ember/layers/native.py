"""What the built-in layers share: a core object that does the computation.

A built-in layer makes its core (a ``_native.NativeLayer``) in ``__init__`` when it has no
weights, else in ``build`` after ``add_weight``. The core becomes ``self._native`` (what
compiled graphs run) only when everything the layer computes is native; a Python
activation, regularizer or constraint keeps the layer on the eager driver, where the
core does the native part and Python the rest.
"""

from ember import _native, constraints, regularizers
from ember.layers.layer import Layer
from ember.layers.symbolic import any_symbolic


class BuiltinLayer(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._core = None

    def _set_core(self, core, graph=True):
        self._core = core
        self._native = core if graph else None

    def call(self, inputs, training=None, mask=None):
        xs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        masks = None if mask is None else list(mask) if isinstance(mask, (list, tuple)) else [mask]
        outs, losses = _native.layer_call(self._core, xs, bool(training), masks)
        for loss in losses:
            self.add_loss(loss)
        return outs[0] if len(outs) == 1 else outs

    @property
    def supports_masking(self):
        """Keras's flag, as the core reports it unless the layer sets it."""
        flag = self.__dict__.get("_supports_masking")
        if flag is None:
            return self._core is not None and _native.layer_supports_masking(self._core)
        return flag

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, previous_mask=None):
        """The outputs' masks, computed by the core (``Layer::compute_mask``); on symbolic
        inputs, KerasTensors standing for them (``_symbolic_mask``)."""
        if self._core is None:
            return previous_mask
        if any_symbolic(inputs):
            return self._symbolic_mask(inputs, previous_mask)
        xs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        masks = _mask_list(previous_mask)
        out = _native.layer_compute_mask(self._core, xs, masks)
        return out[0] if len(out) == 1 else out

    def _symbolic_mask(self, inputs, previous_mask):
        """The default of the core: the first input's mask, passed on."""
        return _mask_list(previous_mask)[0] if previous_mask is not None else None

    def compute_output_shape(self, input_shape):
        return input_shape


def _mask_list(mask):
    if mask is None:
        return None
    return list(mask) if isinstance(mask, (list, tuple)) else [mask]


def all_native(regularizer_list=(), constraint_list=()):
    """True when each given regularizer and constraint is None or a built-in one."""
    return all(r is None or regularizers.native(r) is not None for r in regularizer_list) and all(
        c is None or constraints.native(c) is not None for c in constraint_list
    )


def check_rate(layer, rate, arg="rate"):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(
            f"Invalid value received for argument `{arg}` of {layer}. "
            f"Expected a float value between 0 and 1. Received: {arg}={rate}"
        )
    return rate


def check_seed(layer, seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"{layer}: `seed` must be a non-negative integer or None. Received: seed={seed}")
    return seed
