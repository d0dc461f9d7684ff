"""The functional API: Input, symbolic calls, Model(inputs, outputs) with lists and dicts,
shared layers, nested models, layer access, sub-models from intermediate outputs,
per-output compile arguments and their log names, summary, training of multi-branch
models in both drivers, and the errors for bad graphs and bad inputs."""
import numpy as np
import pytest

import ember as em
from ember import layers


def two_task_data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    xa = rng.normal(size=(n, 4)).astype("float32")
    xb = rng.normal(size=(n, 3)).astype("float32")
    reg = (xa @ np.array([0.5, -1.0, 0.25, 0.0]) + xb[:, 2]).astype("float32")[:, None]
    cls = (xa[:, 0] + xb[:, 1] > 0).astype("int64")
    return xa, xb, reg, cls


def two_task_model():
    a = em.Input((4,), name="a")
    b = em.Input((3,), name="b")
    h = layers.concatenate([layers.Dense(16, activation="relu", name="ha")(a),
                            layers.Dense(16, activation="relu", name="hb")(b)])
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(2, activation="softmax", name="cls")(h)
    return em.Model([a, b], [reg, cls])


def blobs(n=400, seed=0, classes=3, dim=6):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.5, size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    return (centers[y] + rng.normal(size=(n, dim))).astype("float32"), y.astype("int64")


def copy_weights(src, dst):
    dst.set_weights(src.get_weights())


# ---------------------------------------------------------------- building

def test_input_symbolic_calls_and_tensor_access():
    inp = em.Input(shape=(5,), name="features")
    assert inp.shape == (None, 5) and inp.dtype == "float32" and inp.name == "features"
    dense = layers.Dense(3, name="d")
    out = dense(inp)
    assert isinstance(out, layers.KerasTensor) and out.shape == (None, 3)
    assert dense.input is inp and dense.output is out
    model = em.Model(inp, out)
    assert model.inputs == [inp] and model.outputs == [out]
    assert model.input is inp and model.output is out
    assert model.input_shape == (None, 5) and model.output_shape == (None, 3)
    listed = em.Model(inputs=[inp], outputs=[out])
    assert listed.input == [inp] and listed.output == [out]
    assert isinstance(listed.predict(np.ones((2, 5), "float32"), verbose=0), list)


def test_layers_and_get_layer():
    model = two_task_model()
    names = [la.name for la in model.layers]
    assert names[:2] == ["a", "b"] and type(model.layers[0]).__name__ == "InputLayer"
    assert set(names[2:]) == {"ha", "hb", "reg", "cls"} | {n for n in names if n.startswith("concatenate")}
    assert model.get_layer("reg") is model.layers[names.index("reg")]
    assert model.get_layer(index=-1) is model.layers[-1]
    assert model.get_layer(name="cls").units == 2
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="out of range"):
        model.get_layer(index=99)
    with pytest.raises(ValueError, match="name or an index"):
        model.get_layer()


def test_sub_models_from_intermediate_outputs_share_weights():
    inp = em.Input((4,))
    x = layers.Dense(8, activation="relu", name="x")(inp)
    y = layers.Dense(6, activation="tanh", name="y")(x)
    base = em.Model(inp, layers.Dense(2, name="z")(y))
    feats = em.Model(base.input, base.get_layer("x").output)
    second = em.Model(base.input, base.layers[-2].output)
    data = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    kx, bx = base.get_layer("x").get_weights()
    np.testing.assert_allclose(feats.predict(data, verbose=0), np.maximum(data @ kx + bx, 0), rtol=1e-5, atol=1e-6)
    assert second.output_shape == (None, 6)
    np.testing.assert_allclose(second.predict(data, verbose=0), np.asarray(base.get_layer("y")(feats(data))),
                               rtol=1e-5)
    base.get_layer("x").set_weights([kx * 2, bx])  # the sub-model sees the base model's weights
    np.testing.assert_allclose(feats.predict(data, verbose=0), np.maximum(data @ (2 * kx) + bx, 0), rtol=1e-5,
                               atol=1e-6)
    seq = em.Sequential([em.Input((4,)), layers.Dense(8, name="s1"), layers.Dense(3, name="s2")])
    head = em.Model(seq.inputs, seq.layers[-2].output)
    assert head.output_shape == (None, 8) and head._native_graph() is not None


def test_list_and_dict_inputs_and_outputs():
    a, b = em.Input((3,), name="left"), em.Input((3,), name="right")
    s = layers.add([a, b], name="sum")
    d = layers.subtract([a, b], name="diff")
    xa, xb = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    listed = em.Model([a, b], [s, d])
    for call in (listed([xa, xb]), listed({"left": xa, "right": xb}), listed.predict({"right": xb, "left": xa},
                                                                                    verbose=0)):
        np.testing.assert_array_equal(np.asarray(call[0]), xa + xb)
        np.testing.assert_array_equal(np.asarray(call[1]), xa - xb)
    keyed = em.Model({"x": a, "y": b}, {"plus": s, "minus": d})
    assert keyed.output_names == ["minus", "plus"]
    out = keyed.predict({"x": xa, "y": xb}, verbose=0)
    assert set(out) == {"plus", "minus"}
    np.testing.assert_array_equal(out["minus"], xa - xb)
    eager = keyed({"y": xb, "x": xa})
    np.testing.assert_array_equal(np.asarray(eager["plus"]), xa + xb)


def test_shared_layer_weights_and_gradients_are_summed():
    shared = layers.Dense(4, use_bias=False, name="shared")
    a, b = em.Input((4,)), em.Input((4,))
    inner = shared(a)
    out = layers.add([shared(inner), shared(b)])  # called three times
    model = em.Model([a, b], out)
    assert [la.name for la in model.layers].count("shared") == 1
    assert len(model.weights) == 1 and len(shared._inbound) == 3
    rng = np.random.default_rng(0)
    xa, xb, y = (rng.normal(size=(8, 4)).astype("float32") for _ in range(3))
    w0 = shared.get_weights()[0]
    # out = xa W W + xb W;  mse gradient G = 2 (out - y) / numel
    g = 2 * (xa @ w0 @ w0 + xb @ w0 - y) / y.size
    grad = xa.T @ g @ w0.T + (xa @ w0).T @ g + xb.T @ g
    for run_eagerly in (False, True):
        shared.set_weights([w0])
        model.compile(optimizer=em.optimizers.SGD(learning_rate=0.1), loss="mse", run_eagerly=run_eagerly)
        assert model._uses_graph_driver() is not run_eagerly
        model.train_on_batch([xa, xb], y)
        np.testing.assert_allclose(shared.get_weights()[0], w0 - 0.1 * grad, rtol=1e-4, atol=1e-6)


def test_nested_models_run_in_the_core_graph_and_train():
    inner_seq = em.Sequential([em.Input((6,)), layers.Dense(12, activation="relu"), layers.Dense(8, activation="relu")],
                              name="trunk")
    t_in = em.Input((8,))
    inner_fn = em.Model(t_in, layers.Dense(8, activation="relu")(t_in), name="neck")
    inp = em.Input((6,))
    out = layers.Dense(3, activation="softmax")(inner_fn(inner_seq(inp)))
    model = em.Model(inp, out)
    assert model.layers[1] is inner_seq and model.layers[2] is inner_fn
    assert len(model.weights) == len(inner_seq.weights) + len(inner_fn.weights) + 2
    x, y = blobs()
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    model.compile(em.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model._native_graph() is not None and model._uses_graph_driver()
    before = inner_seq.get_weights()[0].copy()
    hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0).history
    assert hist["accuracy"][-1] > 0.9, hist
    assert not np.allclose(inner_seq.get_weights()[0], before)
    # freezing the nested model freezes its layers in the core trainer too (from the next compile, as in Keras)
    inner_seq.trainable = False
    model.compile(em.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    frozen = inner_seq.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for w0, w1 in zip(frozen, inner_seq.get_weights()):
        np.testing.assert_array_equal(w0, w1)


def test_nested_models_train_the_same_in_both_drivers():
    def build():
        inner = em.Sequential([em.Input((6,)), layers.Dense(5, activation="tanh")])
        inp = em.Input((6,))
        return em.Model(inp, layers.Dense(3, activation="softmax")(inner(inp)))

    x, y = blobs(n=96)
    graph, eager = build(), build()
    copy_weights(graph, eager)
    graph.compile("sgd", "sparse_categorical_crossentropy")
    eager.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=True)
    hg = graph.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"]
    he = eager.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(hg, he, rtol=1e-4)
    for a, b in zip(graph.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_sequential_and_functional_share_one_graph():
    seq = em.Sequential([em.Input((4,)), layers.Dense(5, activation="relu"), layers.Dense(2)])
    inp = em.Input((4,))
    fn = em.Model(inp, layers.Dense(2)(layers.Dense(5, activation="relu")(inp)))
    copy_weights(seq, fn)
    assert type(seq._graph) is type(fn._graph)
    x = np.random.default_rng(2).normal(size=(9, 4)).astype("float32")
    np.testing.assert_allclose(seq.predict(x, verbose=0), fn.predict(x, verbose=0), rtol=1e-6)


# ---------------------------------------------------------------- compile and fit

def test_two_input_two_output_model_trains_to_a_stated_loss_and_accuracy():
    em.utils.set_random_seed(7)
    xa, xb, reg, cls = two_task_data()
    model = two_task_model()
    model.compile(optimizer=em.optimizers.Adam(learning_rate=0.01), loss=["mse", "sparse_categorical_crossentropy"],
                  loss_weights=[1.0, 0.5], metrics=[[], ["accuracy"]])
    assert model._uses_graph_driver()
    hist = model.fit([xa, xb], [reg, cls], epochs=25, batch_size=32, verbose=0).history
    assert list(hist) == ["loss", "cls_accuracy", "reg_loss", "cls_loss"]
    assert hist["reg_loss"][-1] < 0.02 and hist["cls_accuracy"][-1] > 0.95, {k: v[-1] for k, v in hist.items()}
    logs = model.evaluate({"a": xa, "b": xb}, {"reg": reg, "cls": cls}, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["reg_loss"] + 0.5 * logs["cls_loss"], rel=1e-4)
    assert logs["cls_accuracy"] > 0.95 and logs["reg_loss"] < 0.02
    values = model.evaluate([xa, xb], [reg, cls], verbose=0)
    assert values == pytest.approx([logs["loss"], logs["cls_accuracy"], logs["reg_loss"], logs["cls_loss"]], rel=1e-5)


def test_per_output_compile_arguments_as_lists_and_dicts_agree():
    xa, xb, reg, cls = two_task_data(n=64)
    ref = two_task_model()
    runs = []
    for compile_args, run_eagerly in [
        (dict(loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.3, 2.0],
              metrics=[["mae"], ["accuracy"]]), False),
        (dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"}, loss_weights={"reg": 0.3, "cls": 2.0},
              metrics={"reg": "mae", "cls": ["accuracy"]}), False),
        (dict(loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"}, loss_weights={"reg": 0.3, "cls": 2.0},
              metrics={"reg": "mae", "cls": ["accuracy"]}), True),
    ]:
        model = two_task_model()
        copy_weights(ref, model)
        model.compile("sgd", run_eagerly=run_eagerly, **compile_args)
        hist = model.fit({"a": xa, "b": xb}, {"cls": cls, "reg": reg}, epochs=2, shuffle=False, verbose=0).history
        assert list(hist) == ["loss", "reg_mae", "cls_accuracy", "reg_loss", "cls_loss"]
        runs.append(hist)
    for other in runs[1:]:
        for k in runs[0]:
            np.testing.assert_allclose(other[k], runs[0][k], rtol=1e-4, err_msg=k)
    last = {k: v[-1] for k, v in runs[0].items()}
    assert last["loss"] == pytest.approx(0.3 * last["reg_loss"] + 2.0 * last["cls_loss"], rel=1e-3)


def test_log_names_use_the_output_layer_names():
    inp = em.Input((4,))
    h = layers.Dense(8, activation="relu")(inp)
    o1, o2 = layers.Dense(1, activation="sigmoid")(h), layers.Dense(1)(h)
    model = em.Model(inp, [o1, o2])
    n1, n2 = o1._node[0].name, o2._node[0].name
    assert model.output_names == [n1, n2]
    model.compile("adam", loss=["binary_crossentropy", "mse"], metrics=[["accuracy"], ["mae"]])
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    logs = model.train_on_batch(x, [(x[:, :1] > 0).astype("float32"), x[:, :1]], return_dict=True)
    assert list(logs) == ["loss", f"{n1}_accuracy", f"{n2}_mae", f"{n1}_loss", f"{n2}_loss"]
    assert model.metrics_names == list(logs)
    # one output with a loss: no per-output loss entries
    model.compile("adam", loss={n2: "mse"})
    logs = model.train_on_batch(x, {n2: x[:, :1]}, return_dict=True)
    assert list(logs) == ["loss"]


def test_compile_argument_errors():
    model = two_task_model()
    unknown = r"key\(s\) \['nope'\] do not correspond to any model output.*\['reg', 'cls'\]"
    with pytest.raises(ValueError, match=unknown):
        model.compile("sgd", loss={"nope": "mse"})
        model._resolve_compile()
    with pytest.raises(ValueError, match="as many entries as the model has outputs"):
        model.compile("sgd", loss=["mse"])
        model._resolve_compile()
    with pytest.raises(ValueError, match="as many entries as the model has outputs"):
        model.compile("sgd", loss="mse", metrics=["accuracy"])
        model._resolve_compile()
    with pytest.raises(ValueError, match="loss_weights"):
        model.compile("sgd", loss="mse", loss_weights=0.5)
        model._resolve_compile()


# ---------------------------------------------------------------- classic blocks

def test_resnet_style_skip_connection_trains():
    x, y = blobs(n=600, dim=8, seed=3)
    inp = em.Input((8,))
    h = layers.Dense(16, activation="relu")(inp)
    r = layers.Dense(16, activation="relu")(h)
    r = layers.Dense(16)(r)
    h = layers.Activation("relu")(layers.Add()([h, r]))  # identity shortcut
    p = layers.Dense(16)(h)  # projection shortcut into a wider block
    r = layers.Dense(24, activation="relu")(h)
    h = layers.add([layers.Dense(24)(p), r])
    model = em.Model(inp, layers.Dense(3, activation="softmax")(h))
    model.compile(em.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model._uses_graph_driver()
    hist = model.fit(x, y, epochs=12, batch_size=32, verbose=0).history
    assert hist["accuracy"][-1] > 0.93, hist["accuracy"]
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.93


def test_inception_style_block_with_concatenate_trains():
    x, y = blobs(n=600, dim=8, seed=4)
    inp = em.Input((8,))
    b1 = layers.Dense(8, activation="relu")(inp)
    b2 = layers.Dense(8, activation="relu")(layers.Dense(4, activation="relu")(inp))
    b3 = layers.Dense(8, activation="tanh")(layers.Dense(6, activation="relu")(inp))
    b4 = layers.Dense(4)(inp)
    block = layers.Concatenate(axis=-1, name="mixed")([b1, b2, b3, b4])
    assert block.shape == (None, 28)
    model = em.Model(inp, layers.Dense(3, activation="softmax")(block))
    model.compile(em.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model._uses_graph_driver()
    hist = model.fit(x, y, epochs=12, batch_size=32, verbose=0).history
    assert hist["accuracy"][-1] > 0.93, hist["accuracy"]


# ---------------------------------------------------------------- summary

def test_summary_shows_connections_for_branching_models(capsys):
    a = em.Input((4,), name="in_a")
    d1 = layers.Dense(3, name="left")(a)
    d2 = layers.Dense(3, name="right")(a)
    em.Model(a, layers.Add(name="join")([d1, d2]), name="branchy").summary()
    out = capsys.readouterr().out
    assert 'Model: "branchy"' in out and "Connected to" in out
    assert "in_a[0][0]" in out and "left[0][0]" in out and "right[0][0]" in out
    row = next(line for line in out.splitlines() if "join (Add)" in line)
    assert "(None, 3)" in row and "left[0][0]" in row
    assert "Total params: 30" in out
    inp = em.Input((4,))
    em.Model(inp, layers.Dense(2)(inp)).summary()  # a plain chain: no connections column
    assert "Connected to" not in capsys.readouterr().out
    em.Sequential([em.Input((4,)), layers.Dense(2)]).summary()
    assert "Connected to" not in capsys.readouterr().out


def test_summary_lists_shared_layer_calls_and_nested_models(capsys):
    shared = layers.Dense(2, name="tied")
    a, b = em.Input((2,), name="p"), em.Input((2,), name="q")
    inner = em.Sequential([em.Input((2,)), layers.Dense(2)], name="inner_stack")
    em.Model([a, b], layers.add([shared(a), shared(inner(b))])).summary()
    out = capsys.readouterr().out
    assert "p[0][0]" in out and "inner_stack[0][0]" in out and "inner_stack (Sequential)" in out


# ---------------------------------------------------------------- bad input

def test_outputs_that_do_not_depend_on_the_inputs():
    a, b = em.Input((3,), name="used"), em.Input((5,), name="other")
    out = layers.Dense(2, name="head")(b)
    with pytest.raises(ValueError, match=r'Model "lonely".*disconnected.*layer \'head\'.*Input \'other\' of shape '
                                         r'\(None, 5\).*\(\'used\', \(None, 3\)\)'):
        em.Model(a, out, name="lonely")
    with pytest.raises(ValueError, match="disconnected.*as a model output"):
        em.Model(a, b)
    with pytest.raises(TypeError, match="symbolic tensors"):
        em.Model(a, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="ember.Input"):
        em.Model(out, layers.Dense(1)(out))


def test_calling_a_model_on_the_wrong_number_of_inputs():
    a, b = em.Input((3,), name="a"), em.Input((3,), name="b")
    model = em.Model([a, b], layers.add([a, b]), name="pair")
    x = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match=r'Model "pair" expects 2 input\(s\), but it received 1 .*\(4, 3\)'):
        model(x)
    with pytest.raises(ValueError, match=r'"pair" expects 2 input\(s\), but it received 3'):
        model.predict([x, x, x], verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r'"pair" expects 2 input\(s\)'):
        model.fit([x], x, verbose=0)
    with pytest.raises(ValueError, match=r'"pair" expects 2 input\(s\), but it received 1 .*\(None, 3\)'):
        model([em.Input((3,))])
    with pytest.raises(ValueError, match=r'Input 1 of Model "pair" is incompatible.*expected shape=\(None, 3\), '
                                         r'found shape=\(None, 4\)'):
        model([em.Input((3,)), em.Input((4,))])


def test_dicts_of_inputs_with_missing_keys():
    a, b = em.Input((3,), name="a"), em.Input((3,), name="b")
    listed = em.Model([a, b], layers.add([a, b]), name="by_name")
    keyed = em.Model({"first": a, "second": b}, layers.multiply([a, b]), name="by_key")
    x = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match=r"\"by_name\": missing inputs for key\(s\) \['b'\].*\['a', 'b'\]"):
        listed({"a": x})
    with pytest.raises(ValueError, match=r"\"by_key\": missing x for key\(s\) \['second'\]"):
        keyed.predict({"first": x, "b": x}, verbose=0)
    keyed.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"missing x for key\(s\) \['first'\]"):
        keyed.fit({"second": x}, x, verbose=0)
    model = two_task_model()
    model.compile("sgd", ["mse", "sparse_categorical_crossentropy"])
    xa, xb, reg, cls = two_task_data(n=8)
    with pytest.raises(ValueError, match=r"missing the target\(s\) of output\(s\) \['cls'\].*\['reg', 'cls'\]"):
        model.fit([xa, xb], {"reg": reg}, verbose=0)
