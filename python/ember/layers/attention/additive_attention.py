"""``AdditiveAttention``: Bahdanau attention, ``scores = sum(scale * tanh(query + key), -1)``
with a trainable ``scale`` of shape ``(dim,)`` (glorot-uniform) when ``use_scale``; masking,
dropout and options as ``Attention``."""

from ember.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """``keras.layers.AdditiveAttention(use_scale=True, dropout=0.0)``."""

    _score_mode = "additive"

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        dim = shapes[0][-1]
        if dim is None:
            raise ValueError(f"AdditiveAttention layer '{self.name}': the query dim must be known, got {shapes[0]}")
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")
        self._set_core(self._core_for(False, False))
        self.built = True

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
