"""Recurrent layers against numpy references (SimpleRNN, LSTM, GRU with reset_after True
and False; masks, go_backwards, initial states, return_state), gradients through
ember.GradientTape against finite differences of the reference, cells, RNN(cell) with a
user-defined cell, Bidirectional, and bad inputs."""

import numpy as np
import pytest

import ember
from ember import layers, ops

RNG = np.random.default_rng(0)


def rand(*shape, scale=1.0):
    return (scale * RNG.normal(size=shape)).astype(np.float32)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_rnn(kind, x, weights, h0=None, c0=None, mask=None, go_backwards=False, reset_after=True):
    """Keras's recurrent loop in float64: (sequence of outputs, final h, final c)."""
    x = x.astype(np.float64)
    w, r = weights[0].astype(np.float64), weights[1].astype(np.float64)
    b = weights[2].astype(np.float64) if len(weights) > 2 else None
    batch, steps, _ = x.shape
    u = r.shape[0]
    h = np.zeros((batch, u)) if h0 is None else h0.astype(np.float64)
    c = np.zeros((batch, u)) if c0 is None else c0.astype(np.float64)
    outs = []
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    for t in order:
        xt = x[:, t]
        if kind == "simple_rnn":
            hn, cn = np.tanh(xt @ w + h @ r + (0 if b is None else b)), c
        elif kind == "lstm":
            z = xt @ w + h @ r + (0 if b is None else b)
            i, f, g, o = sig(z[:, :u]), sig(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sig(z[:, 3 * u:])
            cn = f * c + i * g
            hn = o * np.tanh(cn)
        else:
            if reset_after:
                bi, br = (0, 0) if b is None else (b[0], b[1])
                xz = xt @ w + bi
                rec = h @ r + br
                zg = sig(xz[:, :u] + rec[:, :u])
                rg = sig(xz[:, u:2 * u] + rec[:, u:2 * u])
                hh = np.tanh(xz[:, 2 * u:] + rg * rec[:, 2 * u:])
            else:
                xz = xt @ w + (0 if b is None else b)
                zg = sig(xz[:, :u] + h @ r[:, :u])
                rg = sig(xz[:, u:2 * u] + h @ r[:, u:2 * u])
                hh = np.tanh(xz[:, 2 * u:] + (rg * h) @ r[:, 2 * u:])
            hn, cn = zg * h + (1 - zg) * hh, c
        if mask is not None:
            m = mask[:, t:t + 1].astype(np.float64)
            hn = m * hn + (1 - m) * h
            cn = m * cn + (1 - m) * c
        h, c = hn, cn
        outs.append(h)
    return np.stack(outs, axis=1), h, c


def close(a, b, tol=1e-4):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b, rtol=tol, atol=tol)


KINDS = [
    ("simple_rnn", lambda **k: layers.SimpleRNN(5, **k), {}),
    ("lstm", lambda **k: layers.LSTM(5, **k), {}),
    ("gru", lambda **k: layers.GRU(5, **k), {"reset_after": True}),
    ("gru", lambda **k: layers.GRU(5, reset_after=False, **k), {"reset_after": False}),
]
IDS = ["simple_rnn", "lstm", "gru", "gru_v1"]


def randomize(layer):
    layer.set_weights([rand(*w.shape, scale=0.5) for w in layer.get_weights()])


@pytest.mark.parametrize("kind,make,extra", KINDS, ids=IDS)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_forward_matches_numpy(kind, make, extra, go_backwards):
    x = rand(3, 6, 4)
    layer = make(return_sequences=True, return_state=True, go_backwards=go_backwards)
    outs = layer(x)
    randomize(layer)
    outs = layer(x)
    seq, h, c = ref_rnn(kind, x, layer.get_weights(), go_backwards=go_backwards, **extra)
    close(outs[0], seq)
    close(outs[1], h)
    if kind == "lstm":
        close(outs[2], c)
        assert len(outs) == 3
    else:
        assert len(outs) == 2
    last = make(go_backwards=go_backwards)
    last(x)
    last.set_weights(layer.get_weights())
    close(last(x), h)


def test_weight_shapes_follow_keras():
    x = rand(2, 3, 4)
    for layer, shapes in [
        (layers.SimpleRNN(5), [(4, 5), (5, 5), (5,)]),
        (layers.LSTM(5), [(4, 20), (5, 20), (20,)]),
        (layers.GRU(5), [(4, 15), (5, 15), (2, 15)]),
        (layers.GRU(5, reset_after=False), [(4, 15), (5, 15), (15,)]),
        (layers.LSTM(5, use_bias=False), [(4, 20), (5, 20)]),
    ]:
        layer(x)
        assert [tuple(w.shape) for w in layer.get_weights()] == shapes
        assert [w.name for w in layer.weights][:2] == ["kernel", "recurrent_kernel"]
    lstm = layers.LSTM(3)
    lstm(x)
    b = lstm.get_weights()[2]
    np.testing.assert_array_equal(b, np.r_[np.zeros(3), np.ones(3), np.zeros(6)])  # unit_forget_bias
    rk = lstm.get_weights()[1]  # orthogonal recurrent kernel: rows orthonormal
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)


@pytest.mark.parametrize("kind,make,extra", KINDS, ids=IDS)
def test_masked_steps_keep_the_state(kind, make, extra):
    x = rand(3, 5, 2)
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
    for go_backwards in (False, True):
        layer = make(return_sequences=True, go_backwards=go_backwards)
        layer(x)
        randomize(layer)
        y = layer(x, mask=mask)
        seq, _, _ = ref_rnn(kind, x, layer.get_weights(), mask=mask, go_backwards=go_backwards, **extra)
        close(y, seq)
        assert np.asarray(layer.compute_mask(x, mask)).tolist() == mask.tolist()


@pytest.mark.parametrize("kind,make,extra", KINDS, ids=IDS)
def test_initial_state(kind, make, extra):
    x = rand(2, 4, 3)
    layer = make()
    layer(x)
    randomize(layer)
    h0 = rand(2, 5)
    c0 = rand(2, 5)
    states = [h0, c0] if kind == "lstm" else [h0]
    y = layer(x, initial_state=states)
    _, h, _ = ref_rnn(kind, x, layer.get_weights(), h0=h0, c0=c0, **extra)
    close(y, h)


def numeric_grad(f, x, eps=1e-5):
    g = np.zeros_like(x, dtype=np.float64)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        down = f(x)
        flat[i] = old
        gf[i] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("kind,make,extra", KINDS, ids=IDS)
@pytest.mark.parametrize("masked,go_backwards", [(False, False), (True, True)])
def test_gradients_match_finite_differences(kind, make, extra, masked, go_backwards):
    x = rand(2, 4, 3)
    mask = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool) if masked else None
    layer = make(return_sequences=True, go_backwards=go_backwards)
    layer(x)
    randomize(layer)
    weights = [w.astype(np.float64) for w in layer.get_weights()]
    seed = rand(2, 4, 5)
    xt = ember.Variable(x)
    with ember.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt.value, mask=mask)
        loss = ops.sum(y * seed)
    grads = [np.asarray(g) for g in tape.gradient(loss, [xt] + layer.trainable_weights)]

    def objective(xv, ws):
        seq, _, _ = ref_rnn(kind, xv, ws, mask=mask, go_backwards=go_backwards, **extra)
        return float(np.sum(seq * seed))

    x64 = x.astype(np.float64)
    close(grads[0], numeric_grad(lambda v: objective(v, weights), x64), 2e-3)
    for i, w in enumerate(weights):
        def f(v, i=i):
            ws = list(weights)
            ws[i] = v
            return objective(x64, ws)
        close(grads[i + 1], numeric_grad(f, w.copy()), 2e-3)


def test_dropout_only_in_training_and_fixed_across_steps():
    x = rand(4, 6, 3)
    layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
    a = np.asarray(layer(x))
    np.testing.assert_array_equal(a, np.asarray(layer(x, training=False)))
    b = np.asarray(layer(x, training=True))
    assert not np.allclose(a, b)
    # the input dropout mask is one per sequence: a zeroed feature is zero at every step
    lin = layers.SimpleRNN(2, activation="linear", dropout=0.5, seed=3, use_bias=False)
    ones = np.ones((8, 5, 6), np.float32)
    lin(ones)
    w = np.zeros((6, 2), np.float32)
    w[:, 0] = 1.0
    lin.set_weights([w, np.zeros((2, 2), np.float32)])
    y = np.asarray(lin(ones, training=True))
    kept = y[:, 0] * 0.5  # features kept (each scaled by 2)
    assert np.all(np.abs(kept - np.round(kept)) < 1e-5)


def test_stateful_carries_states_until_reset():
    x = rand(2, 3, 2)
    layer = layers.GRU(3, stateful=True)
    y1 = np.asarray(layer(x))
    y2 = np.asarray(layer(x))
    assert not np.allclose(y1, y2)
    _, h, _ = ref_rnn("gru", np.concatenate([x, x], axis=1), layer.get_weights())
    close(y2, h)
    layer.reset_states()
    close(layer(x), y1)


def test_cells_match_their_layers():
    x = rand(3, 4, 2)
    for cell, kind in [
        (layers.SimpleRNNCell(5), "simple_rnn"),
        (layers.LSTMCell(5), "lstm"),
        (layers.GRUCell(5), "gru"),
    ]:
        rnn = layers.RNN(cell, return_sequences=True)
        y = rnn(x)
        randomize(cell)
        y = rnn(x)
        seq, _, _ = ref_rnn(kind, x, cell.get_weights())
        close(y, seq)
        states = cell.get_initial_state(batch_size=3)
        out, new = cell(x[:, 0], states)
        close(out, seq[:, 0])
        assert len(new) == (2 if kind == "lstm" else 1)


class MinimalRNNCell(layers.Layer):
    """The user-defined cell of the Keras docs."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="orthogonal",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev = states[0] if isinstance(states, (list, tuple)) else states
        out = ops.matmul(inputs, self.kernel) + ops.matmul(prev, self.recurrent_kernel)
        return out, [out]


def test_rnn_with_a_user_cell_matches_the_reference_and_trains():
    x = rand(4, 5, 3)
    cell = MinimalRNNCell(2)
    rnn = layers.RNN(cell, return_sequences=True, go_backwards=True)
    y = np.asarray(rnn(x))
    w, r = cell.get_weights()
    h = np.zeros((4, 2))
    want = []
    for t in range(4, -1, -1):
        h = x[:, t] @ w + h @ r
        want.append(h)
    close(y, np.stack(want, axis=1))
    # stacked built-in cells equal two stacked layers
    stacked = layers.RNN([layers.GRUCell(3), layers.GRUCell(2)])
    ys = np.asarray(stacked(x))
    c1, c2 = stacked.cell.cells
    s1, _, _ = ref_rnn("gru", x, c1.get_weights())
    _, h2, _ = ref_rnn("gru", s1.astype(np.float32), c2.get_weights())
    close(ys, h2, 1e-3)
    # a model with a user cell trains in fit (eager driver)
    ember.utils.set_random_seed(0)
    xs = rand(64, 5, 3)
    ys = xs.sum(axis=(1, 2))[:, None].astype(np.float32) / 5
    model = ember.Sequential([ember.Input((5, 3)), layers.RNN(MinimalRNNCell(4)), layers.Dense(1)])
    model.compile(optimizer=ember.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(xs, ys, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merges_forward_and_reversed_backward(merge_mode):
    x = rand(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=merge_mode)
    bi(x)
    randomize(bi.forward_layer)
    randomize(bi.backward_layer)
    y = bi(x, mask=mask)
    f, _, _ = ref_rnn("lstm", x, bi.forward_layer.get_weights(), mask=mask)
    b, _, _ = ref_rnn("lstm", x, bi.backward_layer.get_weights(), mask=mask, go_backwards=True)
    b = b[:, ::-1]
    f, b = f * mask[..., None], b * mask[..., None]  # Keras zeroes masked steps' outputs in Bidirectional
    want = {"concat": np.concatenate([f, b], -1), "sum": f + b, "mul": f * b, "ave": (f + b) / 2}
    if merge_mode is None:
        close(y[0], f)
        close(y[1], b)
    else:
        close(y, want[merge_mode])
    assert len(bi.weights) == 6


def test_bidirectional_return_state_and_backward_layer():
    x = rand(2, 4, 3)
    bi = layers.Bidirectional(
        layers.GRU(3, return_state=True), backward_layer=layers.GRU(3, return_state=True, go_backwards=True),
    )
    outs = bi(x)
    assert len(outs) == 3 and tuple(outs[0].shape) == (2, 6)
    close(outs[0], np.concatenate([np.asarray(outs[1]), np.asarray(outs[2])], -1), 1e-6)
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.GRU(3), backward_layer=layers.GRU(3))
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.GRU(3), merge_mode="max")


def test_seq2seq_functional_model_with_initial_state_compiles():
    enc_in = ember.Input((None, 4))
    _, h, c = layers.LSTM(6, return_state=True)(enc_in)
    dec_in = ember.Input((None, 4))
    dec = layers.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    out = layers.Dense(4, activation="softmax")(dec)
    model = ember.Model([enc_in, dec_in], out)
    xa, xb = rand(8, 5, 4), rand(8, 3, 4)
    y = np.asarray(model([xa, xb]))
    assert y.shape == (8, 3, 4)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit([xa, xb], np.eye(4, dtype=np.float32)[RNG.integers(0, 4, (8, 3))], epochs=1, verbose=0)


def test_config_round_trip():
    for layer in [layers.LSTM(3, return_sequences=True, dropout=0.1), layers.GRU(2, reset_after=False),
                  layers.SimpleRNN(4, go_backwards=True), layers.Bidirectional(layers.LSTM(2), merge_mode="sum")]:
        config = layer.get_config()
        again = type(layer).from_config(config)
        assert again.get_config()["name"] == config["name"]


def test_bad_inputs_name_the_layer_and_shapes():
    layer = layers.LSTM(3, name="my_lstm")
    with pytest.raises(ValueError, match=r"my_lstm.*ndim=3"):
        layer(rand(2, 4))
    layer(rand(2, 4, 5))
    with pytest.raises(ValueError, match=r"my_lstm.*initial state"):
        layer(rand(2, 4, 5), initial_state=[rand(2, 4), rand(2, 3)])
    with pytest.raises(ValueError, match=r"my_lstm.*mask"):
        layer(rand(2, 4, 5), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"my_lstm.*axis -1"):
        layer(rand(2, 4, 6))
    with pytest.raises(ValueError, match="not supported"):
        layers.LSTM(3, activation="softmax")
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)


def _token_model(kind, mask_zero, with_state):
    """Embedding -> recurrent layer (the graph driver runs the pair as one call), with
    the recurrent layer's initial state from a second input when `with_state`."""
    ids = ember.Input((7,), dtype="int64")
    emb = layers.Embedding(9, 5, mask_zero=mask_zero)(ids)
    rnn = getattr(layers, kind)(6, return_sequences=True)
    inputs = [ids]
    if with_state:
        h0 = ember.Input((6,))
        inputs.append(h0)
        state = [h0, h0] if kind == "LSTM" else [h0]
        seq = rnn(emb, initial_state=state)
    else:
        seq = rnn(emb)
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling1D()(seq))
    return ember.Model(inputs, out)


@pytest.mark.parametrize("kind,mask_zero,with_state", [
    ("LSTM", True, False), ("GRU", False, True), ("SimpleRNN", True, True), ("LSTM", False, False),
])
def test_embedding_into_rnn_trains_the_same_in_both_drivers(kind, mask_zero, with_state):
    rng = np.random.default_rng(3)
    n = 80  # batches of 40 rows: the compiled graph splits each between threads
    ids = rng.integers(0, 9, size=(n, 7))
    ids[:, 5:] *= rng.integers(0, 2, size=(n, 2))  # some padding zeros
    y = (ids.sum(axis=1) % 3).astype(np.int64)
    x = [ids, rand(n, 6, scale=0.5)] if with_state else ids
    graph, eager = _token_model(kind, mask_zero, with_state), _token_model(kind, mask_zero, with_state)
    eager.set_weights(graph.get_weights())
    graph.compile("adam", "sparse_categorical_crossentropy")
    eager.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    hg = graph.fit(x, y, batch_size=40, epochs=2, shuffle=False, verbose=0).history["loss"]
    he = eager.fit(x, y, batch_size=40, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(hg, he, rtol=1e-4)
    for a, b in zip(graph.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(graph.predict(x, verbose=0), eager.predict(x, verbose=0), atol=1e-5)


def test_embedding_into_rnn_with_input_dropout_and_bad_ids():
    ids = ember.Input((4,), dtype="int64")
    seq = layers.LSTM(3, dropout=0.5)(layers.Embedding(5, 2)(ids))
    model = ember.Model(ids, layers.Dense(1)(seq))
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).integers(0, 5, size=(64, 4))
    # training drops features of the looked-up vectors, so the pair runs unfused there
    loss = model.fit(x, np.zeros((64, 1)), batch_size=32, epochs=1, verbose=0).history["loss"]
    assert np.isfinite(loss[0])
    with pytest.raises(ValueError, match=r"Embedding layer .*5"):
        model.predict(np.full((2, 4), 5), verbose=0)
