"""``Model``: functional models (``Model(inputs, outputs)``) and subclassed models
(override ``call``), with the Keras 3 training API of ``Trainer``."""
import numpy as np

from ember.layers.input_layer import InputLayer
from ember.layers.layer import Layer
from ember.layers.symbolic import pack_like
from ember.models.functional import FunctionalGraph
from ember.models.trainer import Trainer


class Model(Trainer, Layer):
    """A trainable model: ``Model(inputs, outputs)`` or a subclass overriding ``call``."""

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._init_trainer()
        self._graph = None
        self._native_graph_cache = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError(f"Model '{self.name}': pass both inputs and outputs (or neither, to subclass)")
            self._graph = FunctionalGraph(inputs, outputs, f'Model "{self.name}"')
            self.built = True

    def build(self, input_shape=None):
        self.built = True

    # ------------------------------------------------------------------ calling
    def call(self, inputs, training=None):
        if self._graph is None:
            raise NotImplementedError(f"Model '{self.name}': a subclassed model must implement call()")
        return self._graph.call(inputs, training=training)

    def _output_spec(self, inputs, shapes):
        if self._graph is not None and self._runs_its_graph():
            return self._graph.output_spec(inputs)
        return Layer._output_spec(self, inputs, shapes)

    def compute_output_shape(self, input_shape):
        if self._graph is None:
            return Layer.compute_output_shape(self, input_shape)
        out = [(None,) + tuple(t.shape[1:]) if t.shape else () for t in self._graph.outputs]
        return pack_like(self._graph.output_structure, out)

    def _input_dtypes(self):
        if self._graph is None:
            return None
        return [t.dtype for t in self._graph.inputs]

    def _graph_inputs_or_one(self):
        return self._graph.inputs if self._graph is not None else [None]

    def _ensure_built(self, xs):
        """Builds a subclassed model by calling it once on the first sample."""
        if not self.built or (self._graph is None and not self.weights):
            sample = [a[:1] for a in xs]
            self(sample[0] if len(sample) == 1 else sample, training=False)
            self.built = True

    def _pack_outputs(self, outs):
        if self._graph is not None:
            return pack_like(self._graph.output_structure, outs)
        return outs[0] if len(outs) == 1 else outs

    # ------------------------------------------------------------------ structure
    def _tracked_layers(self):
        if self._graph is not None:
            return [layer for layer in self._graph.layers if not isinstance(layer, InputLayer)]
        return Layer._tracked_layers(self)

    @property
    def layers(self):
        if self._graph is not None:
            return list(self._graph.layers)
        return Layer._tracked_layers(self)

    @property
    def output_names(self):
        """The names Keras uses for the outputs in compile arguments and logs: the keys of
        a dict of outputs, else the names of the layers that produce them."""
        return None if self._graph is None else list(self._graph.output_names)

    @property
    def inputs(self):
        return None if self._graph is None else list(self._graph.inputs)

    @property
    def outputs(self):
        return None if self._graph is None else list(self._graph.outputs)

    @property
    def input(self):
        if self._graph is None:
            raise AttributeError(f"Model '{self.name}' has no symbolic input (it is subclassed or not built)")
        return self._graph.input_structure

    @property
    def output(self):
        if self._graph is None:
            raise AttributeError(f"Model '{self.name}' has no symbolic output (it is subclassed or not built)")
        return self._graph.output_structure

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def export(self, filepath, format="tf_saved_model", verbose=True, input_signature=None, **kwargs):
        """Exports the model for inference in another runtime: ember writes ``format="onnx"``
        (see ``ember.export.export_onnx``); the TensorFlow formats need TensorFlow."""
        if format != "onnx":
            raise ValueError(
                f"Model.export: format='{format}' is not supported by ember, which exports format='onnx' only "
                f"(the TensorFlow SavedModel formats need Keras with the TensorFlow backend)"
            )
        from ember.export import export_onnx

        return export_onnx(self, filepath, verbose=verbose, input_signature=input_signature, **kwargs)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index in ``model.layers``."""
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: pass either name or index, not both")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range; the model has {len(self.layers)} layers")
            return self.layers[index]
        if name is None:
            raise ValueError("get_layer: pass a name or an index")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        from ember.models.summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable)

    def count_params(self):
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model to a ``.keras`` file (Keras 3's format)."""
        from ember.saving import saving_api

        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Saves the weights (and optimizer state) to a ``.weights.h5`` file."""
        from ember.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights from a ``.weights.h5`` (or ``.keras``) file."""
        from ember.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def get_config(self):
        if self._graph is not None and self._runs_its_graph():
            from ember.saving.model_config import functional_config

            return functional_config(self)
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            from ember.saving.model_config import functional_from_config

            return functional_from_config(cls, config, custom_objects)
        return cls(**config)

    def get_compile_config(self):
        """The arguments of ``compile`` as a serialized dict (None when not compiled)."""
        if not self.compiled:
            return None
        from ember.saving.serialization_lib import serialize_keras_object as ser

        return {
            "optimizer": ser(self.optimizer), "loss": ser(self.loss), "loss_weights": ser(self._loss_weights_arg),
            "metrics": ser(self._metrics_arg), "weighted_metrics": ser(self._weighted_metrics_arg),
            "run_eagerly": self.run_eagerly, "steps_per_execution": 1, "jit_compile": False,
        }

    def compile_from_config(self, config):
        """Compiles the model from ``get_compile_config()``'s dict and builds the optimizer."""
        from ember.saving.serialization_lib import deserialize_keras_object

        config = deserialize_keras_object(config)
        allowed = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly")
        self.compile(**{k: v for k, v in config.items() if k in allowed})
        if self.built and self.trainable_weights:
            self.optimizer.build(self.trainable_weights)
