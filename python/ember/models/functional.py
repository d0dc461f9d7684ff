"""The graph of a functional (or sequential) model, walked back from its outputs.

One implementation serves both drivers: ``call`` evaluates it eagerly layer by layer,
and ``native_graph`` compiles it into a core ``Graph`` when every layer is built in.
"""
from ember import _native
from ember.layers.input_layer import InputLayer
from ember.layers.symbolic import KerasTensor


def flatten(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for i in x for v in flatten(i)]
    return [x]


def pack_like(structure, flat):
    """Rebuilds ``structure`` (nested lists/dicts) from a flat list, in ``flatten`` order."""
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return {k: build(s[k]) for k in sorted(s)}
        if isinstance(s, (list, tuple)):
            return type(s)(build(i) for i in s)
        return next(it)

    return build(structure)


class FunctionalGraph:
    def __init__(self, inputs, outputs, model_name="model"):
        self.input_structure = inputs
        self.output_structure = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    f"{model_name}: inputs and outputs must be symbolic tensors (from ember.Input and "
                    f"layer calls), got {type(t).__name__}"
                )
        for t in self.inputs:
            if not isinstance(t._node[0], InputLayer):
                raise ValueError(f"{model_name}: every input must come from ember.Input(), got {t}")
        self.nodes = self._topological_nodes(model_name)
        self.layers = []
        for t in self.inputs:
            self.layers.append(t._node[0])
        for layer, _ in self.nodes:
            if all(layer is not seen for seen in self.layers):
                self.layers.append(layer)

    def _topological_nodes(self, model_name):
        order, state = [], {}
        input_ids = {id(t) for t in self.inputs}

        def visit_tensor(t):
            if id(t) in input_ids:
                return
            layer, call = t._node
            if isinstance(layer, InputLayer):
                raise ValueError(
                    f"{model_name}: output {self.outputs} depends on input '{layer.name}' of shape "
                    f"{layer.batch_shape}, which is not among the model's inputs"
                )
            key = (id(layer), call)
            if state.get(key) == "done":
                return
            if state.get(key) == "active":
                raise ValueError(f"{model_name}: the graph has a cycle at layer '{layer.name}'")
            state[key] = "active"
            for x in flatten(layer._inbound[call][0]):
                visit_tensor(x)
            state[key] = "done"
            order.append((layer, call))

        for o in self.outputs:
            visit_tensor(o)
        return order

    def call(self, inputs, training=None):
        """Evaluates the graph on concrete inputs (same structure as the model's inputs)."""
        flat = flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"the model expects {len(self.inputs)} input(s), but it was called on {len(flat)}")
        values = {id(t): v for t, v in zip(self.inputs, flat)}
        for layer, call in self.nodes:
            ins, outs, args, kwargs = layer._inbound[call]
            xs = pack_like(ins, [values[id(t)] for t in flatten(ins)])
            if isinstance(xs, list) and len(xs) == 1 and not isinstance(ins, (list, tuple)):
                xs = xs[0]
            result = layer(xs, *args, **{"training": training, **kwargs})
            for t, v in zip(flatten(outs), flatten(result)):
                values[id(t)] = v
        result = [values[id(t)] for t in self.outputs]
        return pack_like(self.output_structure, result)

    def native_graph(self):
        """The core Graph of this model, or None if some layer runs only in Python."""
        index = {id(t): (-1, i) for i, t in enumerate(self.inputs)}
        nodes = []
        for layer, call in self.nodes:
            # built-in layers only: a user subclass may override what the core computes
            if layer._native is None or not type(layer).__module__.startswith("ember."):
                return None
            ins, outs, args, kwargs = layer._inbound[call]
            if args or kwargs:
                return None
            nodes.append((layer._native, [index[id(t)] for t in flatten(ins)]))
            for j, t in enumerate(flatten(outs)):
                index[id(t)] = (len(nodes) - 1, j)
        return _native.Graph(nodes, len(self.inputs), [index[id(t)] for t in self.outputs])
