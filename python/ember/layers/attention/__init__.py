"""Attention layers: ``Attention``, ``AdditiveAttention`` and ``MultiHeadAttention``."""

from ember.layers.attention.additive_attention import AdditiveAttention  # noqa: F401
from ember.layers.attention.attention import Attention  # noqa: F401
from ember.layers.attention.multi_head_attention import MultiHeadAttention  # noqa: F401
