"""``model.summary()`` in Keras's table layout."""
import numpy as np


def _params(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _fmt_shape(s):
    if isinstance(s, list):
        return ", ".join(_fmt_shape(x) for x in s)
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ")"


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    print_fn = print_fn or print
    width = line_length or 80
    graph = getattr(model, "_graph", None)
    rows = []
    is_functional = graph is not None and type(model).__name__ != "Sequential"
    for layer in model.layers:
        out = "?"
        if layer._inbound:
            o = layer._inbound[-1][1]
            out = _fmt_shape([t.shape for t in o] if isinstance(o, list) else o.shape)
        elif hasattr(layer, "batch_shape"):
            out = _fmt_shape(layer.batch_shape)
        connected = ""
        if is_functional and layer._inbound:
            ins = layer._inbound[-1][0]
            ins = ins if isinstance(ins, (list, tuple)) else [ins]
            connected = ", ".join(f"{t._node[0].name}[{max(t._node[1], 0)}][{t._index}]" for t in ins)
        rows.append((f"{layer.name} ({type(layer).__name__})", out, str(layer.count_params()), connected))
    cols = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if is_functional else [])
    widths = [int(width * f) for f in ((0.33, 0.25, 0.12, 0.3) if is_functional else (0.45, 0.33, 0.22))]

    def line(cells):
        return "".join(str(c)[: w - 1].ljust(w) for c, w in zip(cells, widths))

    print_fn(f'Model: "{model.name}"')
    print_fn("━" * width)
    print_fn(line(cols))
    print_fn("━" * width)
    for i, r in enumerate(rows):
        print_fn(line(r[: len(cols)]))
        print_fn(("─" if i < len(rows) - 1 else "━") * width)
    total = _params(model.weights)
    trainable = _params(model.trainable_weights)
    print_fn(f" Total params: {total:,}")
    print_fn(f" Trainable params: {trainable:,}")
    print_fn(f" Non-trainable params: {total - trainable:,}")
