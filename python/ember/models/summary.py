"""``model.summary()`` in Keras 3's table layout: a "Connected to" column for functional
models that are not a plain chain (branches, merges, shared layers, several inputs or
outputs), listing for each layer call the inputs as ``layer[node][tensor]``."""
import textwrap

import numpy as np

from ember.layers.symbolic import flatten


def _params(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _memory(weights):
    size = float(sum(int(np.prod(w.shape)) * 4 for w in weights))
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _fmt_shape(s):
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ")"


def _model_calls(model):
    """For each layer of a functional model, its calls (``_inbound`` indices) that belong
    to the model's graph."""
    graph = model._graph
    calls = {id(t._node[0]): [] for t in graph.inputs}
    for layer, call in graph.nodes:
        calls.setdefault(id(layer), []).append(call)
    return calls


def _is_chain(model, calls):
    """Keras's "sequential-like": one input and output, every call on one tensor, no
    layer called twice, and no tensor used by two calls."""
    graph = model._graph
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return False
    used = set()
    for layer, call in graph.nodes:
        ins = flatten(layer._inbound[call][0])
        if len(ins) != 1 or len(calls[id(layer)]) != 1 or id(ins[0]) in used:
            return False
        used.add(id(ins[0]))
    return True


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    print_fn = print_fn or print
    functional = getattr(model, "_graph", None) is not None and type(model).__name__ != "Sequential"
    calls = _model_calls(model) if functional else {}
    connected = functional and not _is_chain(model, calls)
    if connected:
        width, positions = line_length or 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    else:
        width, positions = line_length or 88, [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    if show_trainable:
        positions = [p * 0.9 for p in positions] + [1.0]
        width += 12
        header.append("Trainable")
    bounds = [int(p * width) for p in positions]
    widths = [b - a for a, b in zip([0] + bounds, bounds)]

    rows = []
    for layer in model.layers:
        mine = calls.get(id(layer), list(range(len(layer._inbound))))
        if mine and mine[-1] >= 0:
            out = [_fmt_shape(t.shape) for t in flatten(layer._inbound[mine[-1]][1])]
            out = out[0] if len(out) == 1 else "[" + ", ".join(out) + "]"
        elif hasattr(layer, "batch_shape"):
            out = _fmt_shape(layer.batch_shape)
        else:
            out = "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = [[f"{layer.name} ({type(layer).__name__})"], [out], [params]]
        if connected:
            links = [
                f"{t._node[0].name}[{max(t._node[1], 0)}][{t._index}]"
                for call in mine if call >= 0 for t in flatten(layer._inbound[call][0])
            ]
            cells.append([link + ("," if i < len(links) - 1 else "") for i, link in enumerate(links)] or ["-"])
        if show_trainable:
            cells.append(["-" if not layer.weights else ("Y" if layer.trainable else "N")])
        rows.append(cells)

    def wrap(text, w):
        return textwrap.wrap(str(text), w, break_long_words=True, break_on_hyphens=False) or [""]

    def row(cells, bar):
        cols = [[line for text in c for line in wrap(text, w - 3)] for c, w in zip(cells, widths)]
        out = []
        for k in range(max(len(c) for c in cols)):
            parts = []
            for i, (c, w) in enumerate(zip(cols, widths)):
                text = c[k] if k < len(c) else ""
                parts.append(" " + (text.rjust(w - 3) if i == 2 else text.ljust(w - 3)) + " ")
            out.append(bar + bar.join(parts) + bar)
        return out

    def rule(left, fill, mid, right):
        return left + mid.join(fill * (w - 1) for w in widths) + right

    print_fn(f'Model: "{model.name}"')
    print_fn(rule("┏", "━", "┳", "┓"))
    for text in row([[h] for h in header], "┃"):
        print_fn(text)
    print_fn(rule("┡", "━", "╇", "┩"))
    for i, cells in enumerate(rows):
        for text in row(cells, "│"):
            print_fn(text)
        print_fn(rule("├", "─", "┼", "┤") if i < len(rows) - 1 else rule("└", "─", "┴", "┘"))
    weights, trainable = model.weights, model.trainable_weights
    ids = {id(w) for w in trainable}
    frozen = [w for w in weights if id(w) not in ids]
    print_fn(f" Total params: {_params(weights):,} ({_memory(weights)})")
    print_fn(f" Trainable params: {_params(trainable):,} ({_memory(trainable)})")
    print_fn(f" Non-trainable params: {_params(frozen):,} ({_memory(frozen)})")
