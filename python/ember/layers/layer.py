"""``Layer``: the base of every layer, built-in or user-defined.

A built-in layer keeps its computation in a core object (``self._native``, made in
``build``) that both drivers use: eager calls go through ``call``, and the Rust trainer
runs the same object inside compiled graphs. A user-defined layer overrides ``call`` with
``ember.ops`` and runs through the eager driver.
"""
import inspect

import numpy as np

from ember import _native
from ember.layers.symbolic import KerasTensor, any_symbolic, flatten, is_shape, map_structure, pack_like

_NAME_COUNTS = {}


def _unique_name(base):
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _snake_case(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and (name[i - 1].islower() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(c.lower())
    return "".join(out)


class Layer:
    """Base class of layers (Keras 3 semantics)."""

    def __init__(self, *, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None, **kwargs):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        kwargs.pop("autocast", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or _unique_name(_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = dtype or "float32"
        self.built = False
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._layers = []
        self._losses = []
        self._regularized = []
        self._native = None
        self._inbound = []  # functional-API calls: (input KerasTensors, output KerasTensors)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape[1:])
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None

    # ------------------------------------------------------------------ building
    def build(self, input_shape):
        """Creates the weights; the base class has none."""
        self.built = True

    def _maybe_build(self, input_shapes):
        if not self.built:
            self.build(input_shapes)
            self.built = True
            self._build_input_shape = input_shapes

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None,
                   constraint=None, name=None, autocast=True):
        """Creates a weight variable owned by the core."""
        from ember import constraints, initializers, regularizers

        shape = tuple(int(d) for d in (shape or ()))
        if initializer is None:
            initializer = "glorot_uniform" if (dtype or "float32").startswith("float") else "zeros"
        init = initializers.get(initializer)
        value = np.asarray(init(shape, dtype=dtype or "float32"), dtype=np.float32)
        var = _native.Variable(value, trainable=trainable, name=name or "variable")
        var._regularizer = regularizers.get(regularizer)
        var._constraint = constraints.get(constraint)
        (self._trainable_variables if trainable else self._non_trainable_variables).append(var)
        if not self._trainable and trainable:
            var.trainable = False
        return var

    # ------------------------------------------------------------------ calling
    def call(self, inputs, training=None):
        """The computation: override it (built-in layers run their core object)."""
        raise NotImplementedError(f"Layer {self.name} ({type(self).__name__}) does not implement call()")

    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.pop("inputs")
        rest = args[1:]
        if any_symbolic(inputs):
            return self._symbolic_call(inputs, *rest, **kwargs)
        previous_mask = map_structure(get_keras_mask, inputs)
        inputs = map_structure(_to_tensor, inputs)
        self._maybe_build(map_structure(lambda t: tuple(t.shape), inputs))
        self._losses = []
        has_mask = any(m is not None for m in flatten(previous_mask))
        if kwargs.get("mask") is None and has_mask and self._call_accepts("mask"):
            kwargs["mask"] = previous_mask
        for key in ("training", "mask"):
            if key in kwargs and not self._call_accepts(key):
                kwargs.pop(key)
        outputs = self.call(inputs, *rest, **kwargs)
        if self.supports_masking:
            self._set_mask_metadata(inputs, outputs, previous_mask if has_mask else None)
        return outputs

    # ------------------------------------------------------------------ masks
    @property
    def supports_masking(self):
        """Keras's flag: the layer takes its input's mask and gives its outputs masks
        (``compute_mask``). By default True exactly when ``compute_mask`` is overridden."""
        flag = self.__dict__.get("_supports_masking")
        if flag is None:
            return type(self).compute_mask is not Layer.compute_mask
        return flag

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, previous_mask):
        """The mask(s) of the outputs: by default the input's mask, passed on."""
        return previous_mask

    def _set_mask_metadata(self, inputs, outputs, previous_mask):
        """Attaches ``compute_mask``'s masks to the outputs that have none (Keras's
        ``_set_mask_metadata``)."""
        flat = flatten(outputs)
        if all(get_keras_mask(o) is not None for o in flat):
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for o, m in zip(flat, flatten(masks)):
            if m is not None and get_keras_mask(o) is None:
                set_keras_mask(o, m)

    def _call_accepts(self, name):
        params = inspect.signature(self.call).parameters
        return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    def _symbolic_call(self, inputs, *args, **kwargs):
        shapes = map_structure(lambda t: t.shape, inputs)
        self._maybe_build(shapes)
        outputs = self._output_spec(inputs, shapes)
        if self.supports_masking:
            previous = map_structure(get_keras_mask, inputs)
            has_mask = any(m is not None for m in flatten(previous))
            self._set_symbolic_masks(inputs, outputs, previous if has_mask else None)
        call = len(self._inbound)
        for i, t in enumerate(flatten(outputs)):
            t._node, t._index, t._layer = (self, call), i, self
        self._inbound.append((inputs, outputs, args, dict(kwargs)))
        return outputs

    def _set_symbolic_masks(self, inputs, outputs, previous_mask):
        """Masks of symbolic outputs: ``compute_mask`` on the KerasTensors; a user layer whose
        ``compute_mask`` cannot run symbolically gets a (batch, steps) mask where its input had one."""
        try:
            self._set_mask_metadata(inputs, outputs, previous_mask)
        except (TypeError, ValueError, AttributeError, NotImplementedError):  # numeric code on KerasTensors
            if previous_mask is not None:
                for o in flatten(outputs):
                    if get_keras_mask(o) is None and len(o.shape) >= 2:
                        set_keras_mask(o, KerasTensor(o.shape[:2], dtype="bool"))

    def _output_spec(self, inputs, shapes):
        """The outputs of a call on the symbolic ``inputs``, as new KerasTensors: from
        ``compute_output_shape`` where the layer defines it, else by running the layer."""
        if type(self).compute_output_shape is Layer.compute_output_shape:
            return self._infer_output_spec(inputs)
        out = self.compute_output_shape(shapes)
        dtype = self.compute_output_dtype(inputs)
        return pack_like(out, [KerasTensor(s, dtype=dtype) for s in flatten(out, is_shape)], is_shape)

    def compute_output_dtype(self, inputs):
        return "float32"

    def compute_output_shape(self, input_shape):
        """Output shape(s) for input shape(s) with None batch dimensions."""
        spec = pack_like(input_shape, [KerasTensor(s) for s in flatten(input_shape, is_shape)], is_shape)
        return map_structure(lambda t: t.shape, self._infer_output_spec(spec))

    def _infer_output_spec(self, inputs):
        """Output KerasTensors, found by running the layer once on a batch of 2 zeros."""
        def dummy(t):
            dtype = np.int64 if str(t.dtype).startswith(("int", "uint", "bool")) else np.float32
            return np.zeros(tuple(2 if d is None else d for d in t.shape), dtype=dtype)

        kwargs = {"training": False} if self._call_accepts("training") else {}
        with _native.no_grad():
            out = self.call(map_structure(lambda t: _to_tensor(dummy(t)), inputs), **kwargs)
        first = flatten(inputs)[0]
        batch_none = first.shape[:1] == (None,)

        def spec(o):
            s = tuple(o.shape)
            return KerasTensor(((None,) + s[1:]) if batch_none and s else s, dtype=o.dtype)

        return map_structure(spec, out)

    # ------------------------------------------------------------------ weights
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for v in self._trainable_variables:
            v.trainable = self._trainable
        for layer in self._tracked_layers():
            layer.trainable = value

    def _tracked_layers(self):
        seen, out = set(), []
        for v in vars(self).values():
            items = v if isinstance(v, (list, tuple)) else [v]
            for item in items:
                if isinstance(item, Layer) and id(item) not in seen:
                    seen.add(id(item))
                    out.append(item)
        for layer in self._layers:
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
        return out

    @property
    def weights(self):
        """All weights: trainable then non-trainable, then those of sub-layers."""
        out, seen = [], set()
        for w in self._trainable_variables + self._non_trainable_variables:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._tracked_layers():
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        out = [v for v in self._trainable_variables]
        for layer in self._tracked_layers():
            out += [w for w in layer.trainable_weights if all(w is not o for o in out)]
        return out

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        train = self.trainable_weights
        return [w for w in self.weights if all(w is not t for t in train)]

    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        """The weights as numpy arrays, in Keras's order and shapes."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self.name}: set_weights expected a list of {len(params)} arrays, got {len(weights)}"
            )
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(
                    f"Layer {self.name}: weight '{p.name}' has shape {tuple(p.shape)}, "
                    f"got an array of shape {w.shape}"
                )
            p.assign(w)

    def count_params(self):
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss):
        """Adds a loss term (a scalar tensor) from inside ``call``."""
        self._losses.append(loss)

    @property
    def losses(self):
        """Regularization penalties on the weights plus losses added in the last call."""
        out = list(self._losses)
        for w in self.trainable_weights:
            reg = getattr(w, "_regularizer", None)
            if reg is not None:
                out.append(reg(w.value))
        for layer in self._tracked_layers():
            out += layer.losses
        return out

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def input(self):
        if not self._inbound:
            raise AttributeError(f"Layer {self.name} has not been called on a symbolic input")
        return self._inbound[0][0]

    @property
    def output(self):
        if not self._inbound:
            raise AttributeError(f"Layer {self.name} has not been called on a symbolic input")
        return self._inbound[0][1]

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def get_keras_mask(x):
    """The Keras mask a tensor carries (``x._keras_mask``), or None."""
    return getattr(x, "_keras_mask", None)


def set_keras_mask(x, mask):
    """Attaches a mask to a tensor or KerasTensor (values that cannot carry one are skipped)."""
    try:
        x._keras_mask = mask
    except AttributeError:
        pass


def _to_tensor(x):
    if isinstance(x, (_native.Tensor, _native.Variable)):
        return x if isinstance(x, _native.Tensor) else x.value
    return _native.Tensor(x, None if np.asarray(x).dtype.kind in "iub" else "float32")
