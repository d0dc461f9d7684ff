"""``Embedding``: token ids to dense vectors, with an optional mask of the non-zero ids."""
import numpy as np

from ember import _native, constraints, initializers, regularizers
from ember.layers.native import BuiltinLayer, all_native
from ember.layers.symbolic import KerasTensor


class Embedding(BuiltinLayer):
    """``output = embeddings[inputs]``: ids of shape ``(batch, ...)`` (int, or float holding
    whole numbers) give vectors of shape ``(batch, ..., output_dim)``.

    Weights: ``embeddings`` of shape ``(input_dim, output_dim)``. With ``mask_zero=True``
    id 0 is padding: the output carries the mask ``inputs != 0`` (float 0/1) and
    ``input_dim`` should count it. Ids outside ``[0, input_dim)`` raise a ValueError.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        kwargs.pop("input_length", None)  # Keras 3 ignores it too
        for arg, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(
                    f"Received an invalid value for `{arg}`, expected a positive integer. Received: {arg}={v}"
                )
        if lora_rank:
            raise NotImplementedError("Embedding: LoRA (lora_rank) is not supported by ember")
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.build()
        if weights is not None:
            self.set_weights(weights if isinstance(weights, (list, tuple)) else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        graph = all_native((self.embeddings_regularizer,), (self.embeddings_constraint,))
        core = _native.embedding_layer(
            self.name,
            self.embeddings,
            self.mask_zero,
            regularizer=regularizers.native(self.embeddings_regularizer) if graph else None,
            constraint=constraints.native(self.embeddings_constraint) if graph else None,
        )
        self._set_core(core, graph)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _symbolic_mask(self, inputs, previous_mask):
        return KerasTensor(inputs.shape, dtype="bool") if self.mask_zero else None

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }
