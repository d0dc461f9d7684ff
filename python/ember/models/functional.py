"""The graph of a functional (or sequential) model, walked back from its outputs.

One implementation serves both drivers: ``call`` evaluates it eagerly layer by layer,
and ``native_graph`` compiles it into a core ``Graph`` when every layer is built in.
Nested models (a Model or Sequential used as a layer) are inlined into that core graph:
their layer calls become nodes of the outer one.
"""
import numpy as np

from ember import _native
from ember.layers.input_layer import InputLayer
from ember.layers.symbolic import KerasTensor, flatten, pack_like


def _shapes(values):
    return [tuple(getattr(v, "shape", np.shape(v))) for v in values]


class FunctionalGraph:
    def __init__(self, inputs, outputs, model_name="model"):
        self.model_name = model_name
        self.input_structure = inputs
        self.output_structure = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for what, ts in (("inputs", self.inputs), ("outputs", self.outputs)):
            for t in ts:
                if not isinstance(t, KerasTensor):
                    raise TypeError(
                        f"{model_name}: all `{what}` must be symbolic tensors (from ember.Input and layer "
                        f"calls). Received {what}={_describe(outputs if what == 'outputs' else inputs)} "
                        f"including a value of type {type(t).__name__}"
                    )
        if not self.inputs:
            raise ValueError(f"{model_name}: a functional model needs at least one input")
        for t in self.inputs:
            if not isinstance(t._node[0], InputLayer):
                raise ValueError(
                    f"{model_name}: every input must come from ember.Input(); got {t}, the output of layer "
                    f"'{t._node[0].name}'"
                )
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError(f"{model_name}: the same Input appears more than once in `inputs`")
        self.nodes = self._topological_nodes()
        self.layers = [t._node[0] for t in self.inputs]
        for layer, _ in self.nodes:
            if all(layer is not seen for seen in self.layers):
                self.layers.append(layer)
        self.input_names = [t._node[0].name for t in self.inputs]
        if isinstance(outputs, dict):
            self.output_names = sorted(outputs)
        else:
            self.output_names = [t._node[0].name for t in self.outputs]

    def _topological_nodes(self):
        """The layer calls the outputs depend on, each after the calls it needs; a call
        on an Input that is not among the model's inputs is a disconnected graph."""
        order, state = [], {}
        input_ids = {id(t) for t in self.inputs}

        def visit(t, consumer):
            if id(t) in input_ids:
                return
            layer, call = t._node
            if isinstance(layer, InputLayer):
                where = f"at layer '{consumer.name}'" if consumer is not None else "as a model output"
                raise ValueError(
                    f"{self.model_name}: graph disconnected: cannot find parent for tensor {t} {where}. It "
                    f"comes from Input '{layer.name}' of shape {layer.batch_shape}, which is not among the "
                    f"model's inputs {[(i.name, i.shape) for i in self.inputs]}; the outputs must be computed "
                    f"from the model's inputs"
                )
            key = (id(layer), call)
            if state.get(key) == "done":
                return
            state[key] = "active"
            for x in flatten(layer._inbound[call][0]):
                visit(x, layer)
            state[key] = "done"
            order.append((layer, call))

        for o in self.outputs:
            visit(o, None)
        return order

    # ------------------------------------------------------------------ inputs
    def standardize(self, inputs, what="inputs"):
        """The model's input values in input order, from a single value, a list or a dict
        (keyed by the Input names, or by the keys of a dict of inputs)."""
        name = self.model_name
        if isinstance(inputs, dict):
            keys = sorted(self.input_structure) if isinstance(self.input_structure, dict) else self.input_names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(
                    f"{name}: missing {what} for key(s) {missing}. The model expects a dict with keys {keys}; "
                    f"received keys {sorted(inputs)}"
                )
            return [inputs[k] for k in keys]
        if isinstance(self.input_structure, dict) and len(self.inputs) > 1:
            raise ValueError(
                f"{name}: expects its {what} as a dict with keys {sorted(self.input_structure)}; received "
                f"{type(inputs).__name__}"
            )
        flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(
                f"{name} expects {len(self.inputs)} input(s), but it received {len(flat)} input tensors. "
                f"Expected inputs: {[(n, t.shape) for n, t in zip(self.input_names, self.inputs)]}; "
                f"received {what} with shapes {_shapes(flat)}"
            )
        return flat

    def check_symbolic_inputs(self, flat):
        """Keras's input compatibility check for a call on symbolic tensors."""
        for i, (t, ref) in enumerate(zip(flat, self.inputs)):
            ok = len(t.shape) == len(ref.shape) and all(
                a is None or b is None or a == b for a, b in zip(t.shape[1:], ref.shape[1:])
            )
            if not ok:
                raise ValueError(
                    f"Input {i} of {self.model_name} is incompatible with the layer: expected shape={ref.shape}, "
                    f"found shape={t.shape}"
                )

    def output_spec(self, inputs):
        """New KerasTensors for a call of the model on symbolic inputs."""
        flat = self.standardize(inputs)
        self.check_symbolic_inputs(flat)
        batch = flat[0].shape[0] if flat[0].shape else None
        out = [KerasTensor((batch,) + tuple(t.shape[1:]) if t.shape else (), dtype=t.dtype) for t in self.outputs]
        return pack_like(self.output_structure, out)

    # ------------------------------------------------------------------ running
    def call(self, inputs, training=None):
        """Evaluates the graph on concrete inputs (same structure as the model's inputs)."""
        values = {id(t): v for t, v in zip(self.inputs, self.standardize(inputs))}
        for layer, call in self.nodes:
            ins, outs, args, kwargs = layer._inbound[call]
            xs = pack_like(ins, [values[id(t)] for t in flatten(ins)])
            result = layer(xs, *args, **{"training": training, **kwargs})
            for t, v in zip(flatten(outs), flatten(result)):
                values[id(t)] = v
        return pack_like(self.output_structure, [values[id(t)] for t in self.outputs])

    def native_graph(self):
        """The core Graph of this model, or None if some layer runs only in Python."""
        nodes = []
        sources = self._emit(nodes, [(-1, i) for i in range(len(self.inputs))])
        if sources is None:
            return None
        return _native.Graph(nodes, len(self.inputs), sources)

    def _emit(self, nodes, input_sources):
        """Appends this graph's layer calls to ``nodes`` (core layers and their input
        sources), reading its inputs from ``input_sources``; returns the sources of its
        outputs, or None when a layer has no core."""
        index = {id(t): s for t, s in zip(self.inputs, input_sources)}
        for layer, call in self.nodes:
            ins, outs, args, kwargs = layer._inbound[call]
            if args or kwargs:
                return None
            srcs = [index[id(t)] for t in flatten(ins)]
            inner = _nested_graph(layer)
            if inner is not None:
                out_srcs = inner._emit(nodes, [index[id(t)] for t in inner.standardize(ins)])
                if out_srcs is None:
                    return None
            elif layer._native is not None and type(layer).__module__.startswith("ember."):
                # built-in layers only: a user subclass may override what the core computes
                nodes.append((layer._native, srcs))
                out_srcs = [(len(nodes) - 1, j) for j in range(len(flatten(outs)))]
            else:
                return None
            for t, s in zip(flatten(outs), out_srcs):
                index[id(t)] = s
        return [index[id(t)] for t in self.outputs]


def _nested_graph(layer):
    """The graph of a Model/Sequential used as a layer, when calling it runs that graph."""
    graph = getattr(layer, "_graph", None)
    runs = getattr(layer, "_runs_its_graph", None)
    return graph if graph is not None and runs is not None and runs() else None


def _describe(x):
    return type(x).__name__ if isinstance(x, (list, tuple, dict)) else repr(x)
