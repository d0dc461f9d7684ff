"""``MultiHeadAttention`` (Keras 3 signature, weights and masking).

Weights, in Keras's order and shapes (its ``query``/``key``/``value``/``attention_output``
EinsumDense sublayers): query kernel ``(query_dim, num_heads, key_dim)`` and bias
``(num_heads, key_dim)``, key kernel ``(key_input_dim, num_heads, key_dim)`` and bias, value
kernel ``(value_input_dim, num_heads, value_dim)`` and bias ``(num_heads, value_dim)``,
output kernel ``(num_heads, value_dim, *output_shape)`` and bias ``output_shape``.

Attention runs over all axes but batch, heads and features (Keras's default
``attention_axes``). Masks as Keras: ``query_mask`` (or the query's Keras mask), value and
key masks, ``attention_mask`` and the causal mask are combined; masked scores get ``-1e9``
before the softmax. The call's tensors are passed to the core as one list
``[query, value(, key(, attention_mask))]``, so default calls (including one with an
``attention_mask``) run in compiled graphs; ``use_causal_mask`` and
``return_attention_scores`` select a core made for them over the same weights.
"""

from ember import _native, constraints, initializers, regularizers
from ember.layers.native import BuiltinLayer, all_native, check_rate, check_seed
from ember.layers.symbolic import is_shape


def _positive(name, value, arg):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"MultiHeadAttention layer '{name}': `{arg}` must be a positive integer, got {arg}={value}")
    return value


class MultiHeadAttention(BuiltinLayer):
    """``keras.layers.MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0,
    use_bias=True, output_shape=None, attention_axes=None, ...)``."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = _positive(self.name, num_heads, "num_heads")
        self._key_dim = _positive(self.name, key_dim, "key_dim")
        self._value_dim = _positive(self.name, value_dim, "value_dim") if value_dim else self._key_dim
        self._dropout = check_rate("MultiHeadAttention", dropout, "dropout")
        self._use_bias = bool(use_bias)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(int(d) for d in output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should be of "
                    "type tuple, list, or int."
                ) from None
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple.Received: attention_axes={attention_axes}"
            )
        self._attention_axes = tuple(attention_axes) if attention_axes is not None else None
        self._flash_attention = flash_attention
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if self._activity_regularizer is not None and regularizers.native(self._activity_regularizer) is None:
            raise NotImplementedError(
                f"MultiHeadAttention layer '{self.name}': only built-in activity regularizers (L1, L2, L1L2) "
                "are supported"
            )
        self.seed = check_seed("MultiHeadAttention", seed)
        self._cores = {}
        self._spec_scores = False

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    # ------------------------------------------------------------------ building
    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and not is_shape(query_shape):
            shapes = list(query_shape)
            query_shape, value_shape = shapes[0], shapes[1]
            key_shape = shapes[2] if len(shapes) > 2 else None
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._shapes_dict = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._shapes_dict["key_shape"] = tuple(key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        name = f"MultiHeadAttention layer '{self.name}'"
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        rank = len(query_shape)
        if rank < 3 or len(value_shape) != rank:
            raise ValueError(
                f"{name}: query and value must have the same rank, at least 3 (batch_size, steps, dim). "
                f"Received: query_shape={query_shape}, value_shape={value_shape}"
            )
        dims = (query_shape[-1], key_shape[-1], value_shape[-1])
        if any(d is None for d in dims):
            raise ValueError(
                f"{name}: the last axis of query, value and key must be known. Received: query_shape="
                f"{query_shape}, value_shape={value_shape}, key_shape={key_shape}"
            )
        default_axes = tuple(range(1, rank - 1))
        if self._attention_axes is not None:
            axes = tuple(a if a >= 0 else rank + a for a in self._attention_axes)
            if axes != default_axes:
                raise NotImplementedError(
                    f"{name}: only the default attention_axes (all axes but batch and features, {default_axes} "
                    f"for inputs of rank {rank}) are supported. Received: attention_axes={self._attention_axes}"
                )
        self._attention_axes = default_axes
        heads, kd, vd = self._num_heads, self._key_dim, self._value_dim
        out_shape = self._output_shape or (query_shape[-1],)
        weights = {}
        for proj, kernel_shape, bias_shape in (
            ("query", (dims[0], heads, kd), (heads, kd)),
            ("key", (dims[1], heads, kd), (heads, kd)),
            ("value", (dims[2], heads, vd), (heads, vd)),
            ("attention_output", (heads, vd) + tuple(out_shape), tuple(out_shape)),
        ):
            weights[proj + "_kernel"] = self.add_weight(
                name="kernel", shape=kernel_shape, initializer=_clone(self._kernel_initializer),
                regularizer=self._kernel_regularizer, constraint=self._kernel_constraint,
            )
            if self._use_bias:
                weights[proj + "_bias"] = self.add_weight(
                    name="bias", shape=bias_shape, initializer=_clone(self._bias_initializer),
                    regularizer=self._bias_regularizer, constraint=self._bias_constraint,
                )
        self._weights_by_role = weights
        self._graph_ok = all_native(
            (self._kernel_regularizer, self._bias_regularizer), (self._kernel_constraint, self._bias_constraint)
        )
        self._set_core(self._core_for(False, False), self._graph_ok)
        self.built = True

    def _keras_call(self, inputs, args, kwargs):
        """The call as Keras records it, from the packed ``[query, value(, key(, attention_mask))]``:
        ``(query, value), {key, attention_mask, ...}``."""
        query, value, *rest = inputs
        named = dict(zip(("key", "attention_mask"), rest))
        return [query, value, *args], {**kwargs, **named}

    def get_build_config(self):
        """Keras's form for a layer built from several shapes."""
        if not self.built:
            return None
        return {"shapes_dict": {k: [None if d is None else int(d) for d in v] for k, v in self._shapes_dict.items()}}

    def build_from_config(self, config):
        if config and "shapes_dict" in config:
            self.build(**{k: tuple(v) for k, v in config["shapes_dict"].items()})
        elif config and "input_shape" in config:
            self.build(config["input_shape"])

    def _saved_variables(self):
        return []  # all are saved by the projections (``_saveable_children``)

    def _saveable_children(self):
        """Keras keeps each projection in an EinsumDense sub-layer (``query_dense/vars/0`` the
        kernel, ``vars/1`` the bias); files are laid out the same way."""
        from ember.saving.saving_lib import SavedWeights

        w = self._weights_by_role
        for role, path in (("query", "query_dense"), ("key", "key_dense"), ("value", "value_dense"),
                           ("attention_output", "output_dense")):
            variables = [v for v in (w.get(role + "_kernel"), w.get(role + "_bias")) if v is not None]
            yield path, SavedWeights(f"{self.name}/{path}", variables)

    def _core_for(self, causal, scores):
        key = (bool(causal), bool(scores))
        if key not in self._cores:
            w = self._weights_by_role
            extra = {}
            if self._graph_ok:
                extra = dict(
                    kernel_regularizer=regularizers.native(self._kernel_regularizer),
                    bias_regularizer=regularizers.native(self._bias_regularizer),
                    kernel_constraint=constraints.native(self._kernel_constraint),
                    bias_constraint=constraints.native(self._bias_constraint),
                )
            self._cores[key] = _native.multi_head_attention_layer(
                self.name, w["query_kernel"], w["key_kernel"], w["value_kernel"], w["attention_output_kernel"],
                query_bias=w.get("query_bias"), key_bias=w.get("key_bias"), value_bias=w.get("value_bias"),
                output_bias=w.get("attention_output_bias"), dropout=float(self._dropout), seed=self.seed,
                activity_regularizer=regularizers.native(self._activity_regularizer),
                use_causal_mask=key[0], return_attention_scores=key[1], **extra,
            )
        return self._cores[key]

    # ------------------------------------------------------------------ calling
    def __call__(self, query, value=None, key=None, query_mask=None, value_mask=None, key_mask=None,
                 attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False,
                 mask=None, **kwargs):
        if value is None:
            if not isinstance(query, (list, tuple)) or not 2 <= len(query) <= 4:
                raise ValueError(
                    f"MultiHeadAttention layer '{self.name}' must be called as layer(query, value, key=None, ...); "
                    f"received no `value`"
                )
            inputs = list(query)  # the packed form the graph drivers replay
        else:
            inputs = [query, value]
            if attention_mask is not None:
                inputs += [value if key is None else key, attention_mask]
            elif key is not None:
                inputs.append(key)
        if any(m is not None for m in (query_mask, value_mask, key_mask)):
            mask = [query_mask, value_mask, key_mask, None][: len(inputs)]
        options = dict(kwargs)
        if return_attention_scores:
            options["return_attention_scores"] = True
        if use_causal_mask:
            options["use_causal_mask"] = True
        if training is not None:
            options["training"] = training
        if mask is not None:
            options["mask"] = mask
        self._spec_scores = bool(return_attention_scores)
        return super().__call__(inputs, **options)

    def call(self, inputs, training=None, mask=None, return_attention_scores=False, use_causal_mask=False):
        masks = None
        if mask is not None:
            masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        core = self._core_for(use_causal_mask, return_attention_scores)
        outs, losses = _native.layer_call(core, list(inputs), bool(training), masks)
        for loss in losses:
            self.add_loss(loss)
        return (outs[0], outs[1]) if return_attention_scores else outs[0]

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and not is_shape(query_shape):
            query_shape, value_shape = query_shape[0], query_shape[1]
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        out = query_shape[:-1] + (self._output_shape or (query_shape[-1],))
        if self._spec_scores:
            return out, (query_shape[0], self._num_heads) + query_shape[1:-1] + value_shape[1:-1]
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }


def _clone(initializer):
    """A fresh copy of an initializer (Keras gives each projection its own)."""
    if hasattr(initializer, "get_config") and hasattr(type(initializer), "from_config"):
        return type(initializer).from_config(initializer.get_config())
    return initializer
