"""The configs of functional and sequential models, in Keras 3's layout.

A functional config lists every layer with its ``inbound_nodes`` (the calls that make
the model, their tensor arguments written as ``__keras_tensor__`` dicts whose
``keras_history`` is ``[layer name, node index, tensor index]``), then ``input_layers``
and ``output_layers``. Loading replays those calls on new layers.
"""
from ember.layers.input_layer import InputLayer
from ember.layers.symbolic import KerasTensor, flatten
from ember.saving import serialization_lib as S


def _node_indices(graph):
    """(id(layer), call) -> the index of that call among the layer's calls in this model."""
    index, counts = {}, {}
    for t in graph.inputs:
        index[(id(t._node[0]), t._node[1])] = 0
    for layer, call in graph.nodes:
        n = counts.get(id(layer), 0)
        index[(id(layer), call)] = n
        counts[id(layer)] = n + 1
    return index


def _history(t, index):
    layer, call = t._node
    return [layer.name, index[(id(layer), call)], int(getattr(t, "_index", 0) or 0)]


def _tensor_json(value, index):
    if isinstance(value, KerasTensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(value.shape), "dtype": str(value.dtype),
                           "keras_history": _history(value, index)}}
    if isinstance(value, (list, tuple)):
        return [_tensor_json(v, index) for v in value]
    if isinstance(value, dict):
        return {k: _tensor_json(v, index) for k, v in value.items()}
    return S.serialize_keras_object(value)


def _structure_history(structure, index):
    if isinstance(structure, KerasTensor):
        return _history(structure, index)
    if isinstance(structure, dict):
        return {k: _history(v, index) for k, v in structure.items()}
    return [_history(v, index) for v in structure]


def functional_config(model):
    graph = model._graph
    index = _node_indices(graph)
    layers = []
    for layer in graph.layers:
        entry = S.serialize_keras_object(layer)
        entry["name"] = layer.name
        nodes = []
        if not isinstance(layer, InputLayer):
            for owner, call in graph.nodes:
                if owner is layer:
                    ins, _, args, kwargs = layer._inbound[call]
                    if hasattr(layer, "_keras_call"):  # a layer that packs its call's tensors
                        (ins, *args), kwargs = layer._keras_call(ins, args, kwargs)
                    nodes.append({"args": [_tensor_json(ins, index)] + [_tensor_json(a, index) for a in args],
                                  "kwargs": {k: _tensor_json(v, index) for k, v in kwargs.items()}})
        entry["inbound_nodes"] = nodes
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _structure_history(graph.input_structure, index),
        "output_layers": _structure_history(graph.output_structure, index),
    }


def _is_history(value):
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)


def functional_from_config(cls, config, custom_objects=None):
    """A model rebuilt by replaying the calls of a functional config."""
    where = f"functional model '{config.get('name')}'"
    if not isinstance(config.get("layers"), list):
        raise ValueError(f"The config of {where} has no list of `layers`")
    created, outputs, pending = {}, {}, []
    entries = _without_unused_ops(config["layers"], config.get("output_layers"))
    kept = {e.get("name") for e in entries}

    def node_refs(node):  # what a call needs, less the `mask=` of left-out mask ops
        kwargs = node.get("kwargs") or {}
        masks = [r for r in _refs(kwargs.get("mask")) if r[0] in kept]
        return _refs([node.get("args", []), {k: v for k, v in kwargs.items() if k != "mask"}]) + masks

    for entry in entries:
        if not isinstance(entry, dict) or "class_name" not in entry:
            raise ValueError(f"The config of {where} has a malformed layer entry: {entry!r}")
        spec = {k: v for k, v in entry.items() if k not in ("inbound_nodes", "name")}
        if isinstance(spec.get("config"), dict) and "name" not in spec["config"] and "name" in entry:
            spec["config"] = dict(spec["config"], name=entry["name"])
        layer = S.deserialize_keras_object(spec, custom_objects)
        name = entry.get("name", layer.name)
        if name in created:
            raise ValueError(f"The config of {where} has two layers named '{name}'")
        created[name] = layer
        if isinstance(layer, InputLayer):
            outputs[(name, 0)] = [layer.output_tensor]
        for node in entry.get("inbound_nodes") or []:
            pending.append((name, node))
    done = {}
    while pending:
        progress, rest = False, []
        for name, node in pending:
            refs = node_refs(node)
            if all(tuple(r[:2]) in outputs for r in refs) and not any(n == name for n, _ in rest):
                layer = created[name]
                args = [_resolve(a, outputs, custom_objects) for a in node.get("args", [])]
                kwargs = {k: _resolve(v, outputs, custom_objects) for k, v in (node.get("kwargs") or {}).items()
                          if not (k == "mask" and any(r[0] not in kept for r in _refs(v)))}
                kwargs = {k: v for k, v in kwargs.items() if not (k in ("mask", "training") and v is None)}
                result = layer(*args, **kwargs)
                k = done.get(name, 0)
                outputs[(name, k)] = flatten(result)
                done[name] = k + 1
                progress = True
            else:
                rest.append((name, node))
        if not progress:
            missing = sorted({tuple(r[:2]) for _, n in rest for r in _refs(n)} - set(outputs))
            raise ValueError(f"The config of {where} refers to layer outputs that no node produces: {missing}")
        pending = rest

    def lookup(h):
        key = (h[0], h[1])
        if key not in outputs or not 0 <= h[2] < len(outputs[key]):
            raise ValueError(f"The config of {where} names an unknown tensor {h} in its inputs or outputs")
        return outputs[key][h[2]]

    def structure(spec, what):
        if _is_history(spec):
            return lookup(spec)
        if isinstance(spec, dict):
            return {k: lookup(v) for k, v in spec.items()}
        if isinstance(spec, list):
            return [lookup(v) for v in spec]
        raise ValueError(f"The config of {where} has malformed `{what}`: {spec!r}")

    inputs = structure(config.get("input_layers"), "input_layers")
    outs = structure(config.get("output_layers"), "output_layers")
    from ember.models import Model

    kwargs = {"name": config.get("name"), "trainable": config.get("trainable", True)}
    if cls is Model or not issubclass(cls, Model):
        return Model(inputs, outs, **kwargs)
    return cls(inputs=inputs, outputs=outs, **kwargs)


def _without_unused_ops(entries, output_layers):
    """The layer entries less the ``keras.src.ops`` nodes that only compute masks: Keras 3
    records the mask computations of Embedding and Masking (NotEqual, Any) in functional
    configs and passes them as ``mask=`` to the next layer; ember's layers compute their
    masks themselves, so such nodes (and those ``mask`` arguments) are left out."""
    def names(spec):
        if _is_history(spec):
            return {spec[0]}
        values = spec.values() if isinstance(spec, dict) else spec if isinstance(spec, list) else []
        return {n for v in values for n in names(v)}

    def is_op(e):
        return isinstance(e, dict) and str(e.get("module", "")).startswith("keras.src.ops")

    kept = list(entries)
    while True:
        used = names(output_layers) | {
            r[0] for e in kept if isinstance(e, dict) for n in e.get("inbound_nodes") or []
            for r in _refs([n.get("args", []), {k: v for k, v in (n.get("kwargs") or {}).items() if k != "mask"}])
        }
        fewer = [e for e in kept if not (is_op(e) and e.get("name") not in used)]
        if len(fewer) == len(kept):
            return kept
        kept = fewer


def _refs(value):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"]]
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _resolve(value, outputs, custom_objects):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            h = value["config"]["keras_history"]
            return outputs[(h[0], h[1])][h[2]]
        if "class_name" in value and "config" in value:
            return S.deserialize_keras_object(value, custom_objects)
        return {k: _resolve(v, outputs, custom_objects) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, outputs, custom_objects) for v in value]
    return value


def sequential_config(model):
    layers = []
    if model._input_layer is not None:
        layers.append(S.serialize_keras_object(model._input_layer))
    elif model._graph is not None:
        layers.append(S.serialize_keras_object(model._graph.inputs[0]._node[0]))
    layers += [S.serialize_keras_object(layer) for layer in model._stack]
    config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype, "layers": layers}
    if model._graph is not None:
        config["build_input_shape"] = list(model._graph.inputs[0].shape)
    return config


def sequential_from_config(cls, config, custom_objects=None):
    from ember.layers.input_layer import Input

    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    layer_entries = config.get("layers")
    if not isinstance(layer_entries, list):
        raise ValueError(f"The config of sequential model '{config.get('name')}' has no list of `layers`")
    for entry in layer_entries:
        spec = {k: v for k, v in entry.items() if k != "build_config"} if isinstance(entry, dict) else entry
        layer = S.deserialize_keras_object(spec, custom_objects)
        model.add(layer._node[0] if isinstance(layer, KerasTensor) else layer, rebuild=False)
    if model._input_layer is None and config.get("build_input_shape"):
        model._input_layer = Input(batch_shape=tuple(config["build_input_shape"]))._node[0]
    model._maybe_rebuild()
    return model
