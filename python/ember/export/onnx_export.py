"""An ONNX graph from a functional or Sequential model, built with ``onnx.helper`` from the
model's layers and current weights (inference mode: dropout is the identity, batch
normalization uses its moving statistics).

Tensors keep Keras's layout; layers that ONNX defines channels-first (convolutions,
pooling, padding) are wrapped in transposes when the layer is channels-last. The batch
dimension is symbolic ("batch").
"""
import numpy as np

OPSET = 18


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("model.export(format='onnx') needs the 'onnx' package: pip install ember[onnx]") from e
    return onnx


class _Builder:
    """Collects nodes and initializers; ``op`` adds a node and returns its output name."""

    def __init__(self, onnx):
        self.onnx, self.h = onnx, onnx.helper
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value, hint="const", dtype=np.float32):
        name = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(np.asarray(value, dtype)), name))
        return name

    def ints(self, value, hint="shape"):
        return self.const(np.asarray(value, np.int64), hint, np.int64)

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.h.make_node(op_type, list(inputs), [out], **attrs))
        return out


# ---------------------------------------------------------------------- activations
_SIMPLE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "softsign": "Softsign",
           "exponential": "Exp", "linear": "Identity", "mish": "Mish"}


def _activation(b, x, name, where):
    if name in _SIMPLE:
        return b.op(_SIMPLE[name], [x])
    if name == "softmax":
        return b.op("Softmax", [x], axis=-1)
    if name == "log_softmax":
        return b.op("LogSoftmax", [x], axis=-1)
    if name == "elu":
        return b.op("Elu", [x], alpha=1.0)
    if name == "selu":
        return b.op("Selu", [x], alpha=1.6732632423543772, gamma=1.0507009873554805)
    if name == "leaky_relu":
        return b.op("LeakyRelu", [x], alpha=0.2)
    if name == "relu6":
        return b.op("Clip", [x, b.const(0.0), b.const(6.0)])
    if name == "silu":
        return b.op("Mul", [x, b.op("Sigmoid", [x])])
    if name == "hard_sigmoid":
        return b.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
    if name == "hard_silu":
        return b.op("HardSwish", [x])
    if name == "gelu":
        # 0.5 * x * (1 + erf(x / sqrt(2)))
        erf = b.op("Erf", [b.op("Mul", [x, b.const(1.0 / np.sqrt(2.0))])])
        return b.op("Mul", [b.op("Mul", [x, b.const(0.5)]), b.op("Add", [erf, b.const(1.0)])])
    raise ValueError(f"ONNX export: activation '{name}' of {where} is not supported")


def _activation_of(b, x, layer):
    from ember import activations

    fn = getattr(layer, "activation", None)
    if fn is None:
        return x
    name = activations.native_name(fn)
    if name is None:
        raise ValueError(f"ONNX export: layer '{layer.name}' has a custom activation {fn!r}, which is not supported")
    return x if name == "linear" else _activation(b, x, name, f"layer '{layer.name}'")


# ---------------------------------------------------------------------- layout helpers
def _channels_first(b, x, rank, layer, fn):
    """Runs ``fn`` (an ONNX channels-first op) on a tensor in the layer's data format."""
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return fn(x)
    to_cf = [0, rank + 1] + list(range(1, rank + 1))
    to_cl = [0] + list(range(2, rank + 2)) + [1]
    return b.op("Transpose", [fn(b.op("Transpose", [x], perm=to_cf))], perm=to_cl)


def _w(v):
    return np.asarray(v.numpy(), np.float32)


def _bias_channels(b, x, layer, rank):
    """Adds the bias along the channel axis of a conv output in the layer's format."""
    if layer.bias is None:
        return x
    bias = _w(layer.bias)
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        bias = bias.reshape((-1,) + (1,) * rank)
    return b.op("Add", [x, b.const(bias, "bias")])


def _conv_pads(layer, rank, spatial):
    """ONNX padding attributes for a conv's ``padding`` on inputs of spatial shape ``spatial``."""
    if layer.padding == "valid":
        return {"pads": [0] * (2 * rank)}
    k_eff = [(k - 1) * d + 1 for k, d in zip(layer.kernel_size, layer.dilation_rate)]
    if layer.padding == "causal":
        return {"pads": [k_eff[0] - 1, 0]}
    if any(n is None for n in spatial):
        if any(d != 1 for d in layer.dilation_rate):
            raise ValueError(f"ONNX export: layer '{layer.name}' (dilated, padding='same') needs known input sizes")
        return {"auto_pad": "SAME_UPPER"}
    # "same" as TensorFlow pads: the extra padding (if odd) goes at the end
    total = [max((-(-n // s) - 1) * s + k - n, 0) for n, k, s in zip(spatial, k_eff, layer.strides)]
    return {"pads": [t // 2 for t in total] + [t - t // 2 for t in total]}


def _spatial(layer, shape):
    rank = len(shape) - 2
    return list(shape[2:]) if getattr(layer, "data_format", "") == "channels_first" else list(shape[1:rank + 1])


def _conv(b, x, layer, weight, group, shape, bias=True):
    rank = layer.rank
    w = b.const(weight, "kernel")
    attrs = dict(strides=list(layer.strides), dilations=list(layer.dilation_rate), group=group,
                 kernel_shape=list(weight.shape[2:]), **_conv_pads(layer, rank, _spatial(layer, shape)))
    out = _channels_first(b, x, rank, layer, lambda t: b.op("Conv", [t, w], **attrs))
    return _bias_channels(b, out, layer, rank) if bias else out


def _transpose_pads(layer):
    """ONNX ConvTranspose pads and output_padding giving Keras's output size and alignment
    (as ember's core computes them: the full output cropped by ``begin`` at the start)."""
    rank = layer.rank
    begins, ends, extra = [], [], []
    out_pads = layer.output_padding or (None,) * rank
    for k, s, d, op in zip(layer.kernel_size, layer.strides, layer.dilation_rate, out_pads):
        k = (k - 1) * d + 1
        if layer.padding == "same":
            pad_len = s + k - 2 if op is None else k + k % 2 - 2 + op
            begin = k - 1 - min(pad_len // 2 + pad_len % 2, k - 1)
            short = k - s - begin if op is None else k - begin - k % 2 - op  # full length minus Keras's
        else:
            begin, short = 0, -(max(k, s) - k if op is None else op)
        begins.append(begin)
        ends.append(max(short, 0))
        extra.append(max(-short, 0))
    return {"pads": begins + ends, "output_padding": extra}


def _conv_transpose(b, x, layer):
    w = b.const(_onnx_kernel(_w(layer.kernel), layer.rank), "kernel")
    attrs = dict(strides=list(layer.strides), dilations=list(layer.dilation_rate),
                 kernel_shape=list(layer.kernel_size), **_transpose_pads(layer))
    out = _channels_first(b, x, layer.rank, layer, lambda t: b.op("ConvTranspose", [t, w], **attrs))
    return _bias_channels(b, out, layer, layer.rank)


def _onnx_kernel(k, rank):
    """Keras's (*kernel_size, in, out) kernel -> ONNX's (out, in, *kernel_size)."""
    return np.transpose(k, (rank + 1, rank) + tuple(range(rank)))


def _depthwise_kernel(k, rank):
    """Keras's (*kernel_size, in, multiplier) -> ONNX grouped (in * multiplier, 1, *kernel_size)."""
    k = k.reshape(k.shape[:rank] + (-1,))
    return np.transpose(k, (rank,) + tuple(range(rank)))[:, None]


# ---------------------------------------------------------------------- layers
def _convert(b, layer, xs, in_shapes):
    from ember import layers as L

    t = type(layer).__name__
    x = xs[0]
    if isinstance(layer, L.Dense):
        out = b.op("MatMul", [x, b.const(_w(layer.kernel), "kernel")])
        if layer.bias is not None:
            out = b.op("Add", [out, b.const(_w(layer.bias), "bias")])
        return _activation_of(b, out, layer)
    if t == "Activation":
        return _activation_of(b, x, layer)
    if t == "ReLU":
        # x above the threshold, negative_slope * (x - threshold) below it, capped at max_value
        if layer.threshold == 0 and layer.negative_slope == 0:
            out = b.op("Relu", [x])
        else:
            below = b.op("Less", [x, b.const(layer.threshold)])
            neg = b.op("Mul", [b.op("Sub", [x, b.const(layer.threshold)]), b.const(layer.negative_slope)])
            out = b.op("Where", [below, neg, x])
        if layer.max_value is not None:
            out = b.op("Min", [out, b.const(layer.max_value)])
        return out
    if t == "LeakyReLU":
        return b.op("LeakyRelu", [x], alpha=float(layer.negative_slope))
    if t == "ELU":
        return b.op("Elu", [x], alpha=float(layer.alpha))
    if t == "Softmax":
        axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
        if len(axes) != 1:
            raise ValueError(f"ONNX export: Softmax layer '{layer.name}' over several axes is not supported")
        return b.op("Softmax", [x], axis=int(axes[0]))
    if t == "PReLU":
        return b.op("PRelu", [x, b.const(_w(layer.alpha), "alpha")])
    if t in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
             "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Identity"):
        return b.op("Identity", [x])
    if t == "Flatten":
        rank = len(in_shapes[0])
        if layer.data_format == "channels_first" and rank > 2:
            x = b.op("Transpose", [x], perm=[0] + list(range(2, rank)) + [1])
        return b.op("Flatten", [x], axis=1)
    if t == "Reshape":
        return b.op("Reshape", [x, b.ints([0] + [int(d) for d in layer.target_shape])])
    if t == "Permute":
        return b.op("Transpose", [x], perm=[0] + list(layer.dims))
    if t == "RepeatVector":
        return b.op("Tile", [b.op("Unsqueeze", [x, b.ints([1])]), b.ints([1, int(layer.n), 1])])
    if t in ("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"):
        rank = len(layer._pads)
        pads = [[0, 0]] * 2 + [list(p) for p in layer._pads]
        onnx_pads = [p[0] for p in pads] + [p[1] for p in pads]
        return _channels_first(b, x, rank, layer, lambda v: b.op("Pad", [v, b.ints(onnx_pads)], mode="constant"))
    if t in ("Cropping1D", "Cropping2D", "Cropping3D"):
        rank = len(layer._crops)
        starts = [int(c[0]) for c in layer._crops]
        ends = [-int(c[1]) if c[1] else np.iinfo(np.int64).max for c in layer._crops]
        axes = list(range(2, rank + 2))
        return _channels_first(b, x, rank, layer,
                               lambda v: b.op("Slice", [v, b.ints(starts), b.ints(ends), b.ints(axes)]))
    if t in ("UpSampling1D", "UpSampling2D", "UpSampling3D"):
        if getattr(layer, "interpolation", "nearest") != "nearest":
            raise ValueError(f"ONNX export: {t} layer '{layer.name}' with interpolation='{layer.interpolation}' "
                             f"is not supported (only 'nearest')")
        rank = len(layer._factors)
        scales = b.const([1.0, 1.0] + [float(f) for f in layer._factors], "scales")
        return _channels_first(b, x, rank, layer, lambda v: b.op(
            "Resize", [v, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric",
            nearest_mode="floor"))
    if t == "GroupNormalization":
        return _group_norm(b, x, layer, len(in_shapes[0]), in_shapes[0])
    if t == "Normalization":
        return _normalization(b, x, layer)
    if t == "UnitNormalization":
        rank = len(in_shapes[0])
        axes = sorted(int(a) % rank for a in (layer.axis if isinstance(layer.axis, list) else [layer.axis]))
        sq = b.op("ReduceSum", [b.op("Mul", [x, x]), b.ints(axes)], keepdims=1)
        return b.op("Mul", [x, b.op("Reciprocal", [b.op("Sqrt", [b.op("Max", [sq, b.const(1e-12)])])])])
    if t == "Rescaling":
        return b.op("Add", [b.op("Mul", [x, b.const(layer.scale)]), b.const(layer.offset)])
    if t in ("Conv1D", "Conv2D", "Conv3D"):
        return _activation_of(b, _conv(b, x, layer, _onnx_kernel(_w(layer.kernel), layer.rank), layer.groups,
                                           in_shapes[0]), layer)
    if t in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        return _activation_of(b, _conv_transpose(b, x, layer), layer)
    if t in ("DepthwiseConv1D", "DepthwiseConv2D"):
        k = _w(layer.kernel)
        return _activation_of(b, _conv(b, x, layer, _depthwise_kernel(k, layer.rank), k.shape[-2], in_shapes[0]), layer)
    if t in ("SeparableConv1D", "SeparableConv2D"):
        k = _w(layer.depthwise_kernel)
        out = _conv(b, x, layer, _depthwise_kernel(k, layer.rank), k.shape[-2], in_shapes[0], bias=False)
        pw = _onnx_kernel(_w(layer.pointwise_kernel), layer.rank)
        w = b.const(pw, "pointwise_kernel")
        out = _channels_first(b, out, layer.rank, layer, lambda v: b.op("Conv", [v, w]))
        return _activation_of(b, _bias_channels(b, out, layer, layer.rank), layer)
    if t in ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
             "AveragePooling3D"):
        rank = len(layer.pool_size)
        attrs = dict(kernel_shape=list(layer.pool_size), strides=list(layer.strides))
        if layer.padding.lower() == "same":
            attrs["auto_pad"] = "SAME_UPPER"
        if t.startswith("Average"):
            attrs["count_include_pad"] = 0
        op = "MaxPool" if t.startswith("Max") else "AveragePool"
        return _channels_first(b, x, rank, layer, lambda v: b.op(op, [v], **attrs))
    if t.startswith("Global") and t[:-2].endswith("Pooling"):
        rank = len(in_shapes[0]) - 2
        axes = list(range(2, rank + 2)) if layer.data_format == "channels_first" else list(range(1, rank + 1))
        op = "ReduceMax" if "Max" in t else "ReduceMean"
        return b.op(op, [x, b.ints(axes)], keepdims=int(bool(layer.keepdims)))
    if t == "BatchNormalization":
        return _batch_norm(b, x, layer, len(in_shapes[0]))
    if t == "LayerNormalization":
        return _layer_norm(b, x, layer, len(in_shapes[0]))
    if t == "Add":
        return b.op("Sum", xs)
    if t == "Subtract":
        return b.op("Sub", xs)
    if t == "Multiply":
        out = xs[0]
        for y in xs[1:]:
            out = b.op("Mul", [out, y])
        return out
    if t == "Average":
        return b.op("Mean", xs)
    if t == "Maximum":
        return b.op("Max", xs)
    if t == "Minimum":
        return b.op("Min", xs)
    if t == "Concatenate":
        return b.op("Concat", xs, axis=int(layer.axis))
    raise ValueError(f"ONNX export: layer '{layer.name}' of type {t} is not supported")


def _param_shape(shape_len, axes, values):
    """A per-feature parameter reshaped to broadcast against a rank-``shape_len`` tensor."""
    axes = [a % shape_len for a in axes]
    shape = [1] * shape_len
    for a, n in zip(sorted(axes), values.shape if values.ndim == len(axes) else (values.size,)):
        shape[a] = n
    return values.reshape(shape)


def _batch_norm(b, x, layer, rank):
    axis = layer.axis % rank
    mean, var = _w(layer.moving_mean), _w(layer.moving_variance)
    scale = 1.0 / np.sqrt(var + np.float32(layer.epsilon))
    if layer.gamma is not None:
        scale = scale * _w(layer.gamma)
    shift = -mean * scale
    if layer.beta is not None:
        shift = shift + _w(layer.beta)
    out = b.op("Mul", [x, b.const(_param_shape(rank, [axis], scale), "bn_scale")])
    return b.op("Add", [out, b.const(_param_shape(rank, [axis], shift), "bn_shift")])


def _group_norm(b, x, layer, rank, shape):
    """Groups of channels normalized over their channels and all non-batch axes."""
    axis = layer.axis % rank
    channels, g = shape[axis], layer.groups
    if axis == rank - 1:
        grouped, axes = [0, -1, g, channels // g], [1, 3]
    elif axis == 1:
        grouped, axes = [0, g, -1], [2]
    else:
        raise ValueError(f"ONNX export: GroupNormalization layer '{layer.name}' on axis {layer.axis} is not "
                         f"supported (only the first or last non-batch axis)")
    y = b.op("Reshape", [x, b.ints(grouped)])
    centred = b.op("Sub", [y, b.op("ReduceMean", [y, b.ints(axes)], keepdims=1)])
    var = b.op("ReduceMean", [b.op("Mul", [centred, centred]), b.ints(axes)], keepdims=1)
    y = b.op("Div", [centred, b.op("Sqrt", [b.op("Add", [var, b.const(float(layer.epsilon))])])])
    out = b.op("Reshape", [y, b.op("Shape", [x])])
    if layer.gamma is not None:
        out = b.op("Mul", [out, b.const(_param_shape(rank, [axis], _w(layer.gamma)), "gamma")])
    if layer.beta is not None:
        out = b.op("Add", [out, b.const(_param_shape(rank, [axis], _w(layer.beta)), "beta")])
    return out


def _normalization(b, x, layer):
    """Keras's Normalization: ``(x - mean) / max(sqrt(variance), epsilon)``, or the inverse."""
    from ember.backend import epsilon

    if layer.input_mean is None:
        mean = _w(layer.adapt_mean).reshape(layer._broadcast_shape)
        var = _w(layer.adapt_variance).reshape(layer._broadcast_shape)
    else:
        mean, var = layer._broadcast(layer.input_mean), layer._broadcast(layer.input_variance)
    std = np.maximum(np.sqrt(var), np.float32(epsilon()))
    if layer.invert:
        return b.op("Add", [b.op("Mul", [x, b.const(std, "std")]), b.const(mean, "mean")])
    return b.op("Div", [b.op("Sub", [x, b.const(mean, "mean")]), b.const(std, "std")])


def _layer_norm(b, x, layer, rank):
    axes = sorted(int(a) % rank for a in layer.axis)
    eps = b.const(float(layer.epsilon))
    centred = b.op("Sub", [x, b.op("ReduceMean", [x, b.ints(axes)], keepdims=1)])
    var = b.op("ReduceMean", [b.op("Mul", [centred, centred]), b.ints(axes)], keepdims=1)
    # with rms_scaling Keras divides x itself (not centred) by sqrt(var + epsilon), and drops beta
    out = b.op("Div", [x if layer.rms_scaling else centred, b.op("Sqrt", [b.op("Add", [var, eps])])])
    if layer.gamma is not None:
        out = b.op("Mul", [out, b.const(_param_shape(rank, axes, _w(layer.gamma)), "gamma")])
    if layer.beta is not None:
        out = b.op("Add", [out, b.const(_param_shape(rank, axes, _w(layer.beta)), "beta")])
    return out


# ---------------------------------------------------------------------- graphs
def _emit_graph(b, graph, input_names):
    """Adds the nodes of a functional graph whose inputs are the ONNX values
    ``input_names``; returns the names of its outputs. Nested models are inlined."""
    from ember.layers.input_layer import InputLayer
    from ember.layers.symbolic import flatten

    values = {id(t): n for t, n in zip(graph.inputs, input_names)}
    for layer, call in graph.nodes:
        if isinstance(layer, InputLayer):
            continue
        ins, outs = layer._inbound[call][0], layer._inbound[call][1]
        ins, outs = flatten(ins), flatten(outs)
        xs = [values[id(t)] for t in ins]
        nested = getattr(layer, "_graph", None)
        if nested is not None:
            results = _emit_graph(b, nested, xs)
        else:
            results = [_convert(b, layer, xs, [t.shape for t in ins])]
        if len(results) != len(outs):
            raise ValueError(f"ONNX export: layer '{layer.name}' with {len(outs)} outputs is not supported")
        for t, r in zip(outs, results):
            values[id(t)] = r
    return [values[id(t)] for t in graph.outputs]


def _value_info(onnx, name, t):
    dtype = np.dtype(str(t.dtype))
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    shape = ["batch" if i == 0 and d is None else (f"{name}_dim{i}" if d is None else int(d))
             for i, d in enumerate(t.shape)]
    return onnx.helper.make_tensor_value_info(name, elem, shape)


def export_onnx(model, filepath, verbose=True, input_signature=None, opset=OPSET):
    """Writes ``model`` (functional or Sequential, built) as an ONNX file; returns the
    ``onnx.ModelProto``. Inputs are named after the model's inputs, outputs after its
    output names. Raises ValueError naming any layer ONNX export does not support."""
    onnx = _onnx()
    graph = getattr(model, "_graph", None)
    if graph is None:
        raise ValueError(
            f"ONNX export: model '{model.name}' is subclassed (it has no functional graph); export a functional "
            f"or Sequential model"
        )
    if input_signature is not None:
        raise ValueError("ONNX export: input_signature is not supported; the model's own input shapes are used")
    b = _Builder(onnx)
    in_names = list(graph.input_names)
    ident = [b.op("Identity", [n], hint=f"{n}_in") for n in in_names]
    results = _emit_graph(b, graph, ident)
    out_names = list(model.output_names)
    for r, n in zip(results, out_names):
        b.nodes.append(b.h.make_node("Identity", [r], [n]))
    g = b.h.make_graph(
        b.nodes, model.name,
        [_value_info(onnx, n, t) for n, t in zip(in_names, graph.inputs)],
        [_value_info(onnx, n, t) for n, t in zip(out_names, graph.outputs)],
        initializer=b.inits,
    )
    proto = b.h.make_model(g, opset_imports=[b.h.make_opsetid("", int(opset))], producer_name="ember")
    proto.ir_version = min(proto.ir_version, 9)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(filepath))
    if verbose:
        print(f"Saved an ONNX model (opset {opset}) at '{filepath}': inputs {in_names}, outputs {out_names}")
    return proto
