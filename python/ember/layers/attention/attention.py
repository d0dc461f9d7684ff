"""``Attention``: dot-product (Luong) attention, Keras 3 signature and masking.

The scores ``query @ key^T`` (``"dot"``, times ``scale`` with ``use_scale``) or
``concat_score_weight * sum(tanh(scale * (query + key)), -1)`` (``"concat"``) are masked
where the value mask (or the causal mask) is 0 (``-1e9`` is added), softmaxed over the
value steps, dropped out in training, and applied to ``value``; the result is zero where
the query mask is 0. The core runs in compiled graphs; a call with ``use_causal_mask`` or
``return_attention_scores`` uses a core made for those options, over the same weights.
"""

from ember import _native
from ember.layers.native import BuiltinLayer, check_rate, check_seed
from ember.layers.symbolic import is_shape


def check_inputs(layer, inputs, mask=None):
    """Keras's checks of an attention call's ``inputs`` and ``mask`` lists."""
    name = type(layer).__name__
    if not isinstance(inputs, (list, tuple)) or is_shape(inputs):
        raise ValueError(
            f"{name} layer must be called on a list of inputs, namely [query, value] or [query, value, key]. "
            f"Received: inputs={inputs}."
        )
    if not 2 <= len(inputs) <= 3:
        raise ValueError(
            f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
            f"Received length: {len(inputs)}."
        )
    if mask is not None:
        if not isinstance(mask, (list, tuple)):
            raise ValueError(
                f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}."
            )
        if not 2 <= len(mask) <= 3:
            raise ValueError(
                f"{name} layer accepts mask list of length 2 or 3. Received: inputs={inputs}, mask={mask}."
            )


def _shape(x):
    return tuple(x) if isinstance(x, (tuple, list)) and all(d is None or isinstance(d, int) for d in x) else None


class Attention(BuiltinLayer):
    """``keras.layers.Attention(use_scale=False, score_mode="dot", dropout=0.0, seed=None)``."""

    _score_mode = None

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if self._score_mode is None and score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = check_rate(type(self).__name__, dropout, "dropout")
        self.seed = check_seed(type(self).__name__, seed)
        self.supports_masking = True
        self.scale = self.concat_score_weight = None
        self._cores = {}
        self._spec_scores = False

    def _check_shapes(self, input_shape):
        check_inputs(self, input_shape)
        shapes = [_shape(s) for s in input_shape]
        name = type(self).__name__
        if any(s is None or len(s) != 3 for s in shapes):
            raise ValueError(
                f"{name} layer '{self.name}': query, value and key must have rank 3 (batch_size, steps, dim). "
                f"Received shapes {list(input_shape)}"
            )
        return shapes

    def build(self, input_shape):
        self._check_shapes(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self._set_core(self._core_for(False, False))
        self.built = True

    def _core_for(self, causal, scores):
        key = (bool(causal), bool(scores))
        if key not in self._cores:
            self._cores[key] = _native.attention_layer(
                self.name, self._score_mode or self.score_mode, self.scale, self.concat_score_weight,
                float(self.dropout), self.seed, use_causal_mask=key[0], return_attention_scores=key[1],
            )
        return self._cores[key]

    def __call__(self, *args, **kwargs):
        self._spec_scores = bool(kwargs.get("return_attention_scores", False))
        return super().__call__(*args, **kwargs)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        check_inputs(self, inputs, mask)
        masks = None if mask is None else list(mask)
        core = self._core_for(use_causal_mask, return_attention_scores)
        outs, _ = _native.layer_call(core, list(inputs), bool(training), masks)
        return (outs[0], outs[1]) if return_attention_scores else outs[0]

    def compute_mask(self, inputs, mask=None):
        check_inputs(self, inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        q, v = tuple(input_shape[0]), tuple(input_shape[1])
        out = (*q[:-1], v[-1])
        if self._spec_scores:
            return out, (q[0], q[1], v[1])
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }
