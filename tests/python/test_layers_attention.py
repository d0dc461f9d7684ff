"""Attention, AdditiveAttention and MultiHeadAttention against numpy references (every option,
masks, causal masks, attention masks, returned scores), gradients via GradientTape against
finite differences, Keras's weight shapes and order, configs, functional models (eager and
compiled) and bad inputs."""

import numpy as np
import pytest

import ember as em
from ember import layers, ops

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def numeric_grad(f, x, eps=1e-3):
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


# ---------------------------------------------------------------- references

def masked(scores, mask):
    """Keras adds -1e9 to masked float32 scores, which rounds every masked score of
    magnitude < 32 to exactly -1e9: a fully masked row becomes uniform (and is left out
    of the finite-difference tests, where float32 rounding hides its gradient)."""
    return np.where(mask, scores, -1e9)


def attention_ref(q, v, k=None, mode="dot", scale=None, concat_w=None, q_mask=None, v_mask=None, causal=False,
                  additive=False, smooth=False):
    """Keras's Attention/AdditiveAttention in numpy (float64)."""
    k = v if k is None else k
    q, v, k = (np.asarray(a, np.float64) for a in (q, v, k))
    if additive:
        s = 1.0 if scale is None else np.asarray(scale, np.float64)
        scores = np.sum(s * np.tanh(q[:, :, None, :] + k[:, None, :, :]), -1)
    elif mode == "dot":
        scores = q @ k.transpose(0, 2, 1)
        if scale is not None:
            scores = scores * scale
    else:
        x = q[:, :, None, :] + k[:, None, :, :]
        if scale is not None:
            x = scale * x
        scores = concat_w * np.sum(np.tanh(x), -1)
    mask = np.ones(scores.shape, bool)
    if v_mask is not None:
        mask &= np.asarray(v_mask, bool)[:, None, :]
    if causal:
        mask &= np.tril(np.ones(scores.shape[1:], bool))[None]
    w = softmax(masked(scores, mask))
    out = w @ v
    if q_mask is not None:
        out = out * np.asarray(q_mask, np.float64)[:, :, None]
    return out, w


def mha_ref(weights, q, v, k=None, num_heads=2, key_dim=3, use_bias=True, mask=None):
    """Keras's MultiHeadAttention in numpy for rank-3 inputs; ``mask`` (B, T, S) or None."""
    k = v if k is None else k
    w = [np.asarray(a, np.float64) for a in weights]
    if use_bias:
        qk, qb, kk, kb, vk, vb, ok, ob = w
    else:
        (qk, kk, vk, ok), qb = w, None
        kb = vb = ob = 0.0
        qb = 0.0
    qp = np.einsum("btd,dnh->btnh", q, qk) + qb
    kp = np.einsum("bsd,dnh->bsnh", k, kk) + kb
    vp = np.einsum("bsd,dnh->bsnh", v, vk) + vb
    scores = np.einsum("bsnh,btnh->bnts", kp, qp / np.sqrt(key_dim))
    if mask is not None:
        scores = masked(scores, mask[:, None])
    p = softmax(scores)
    heads = np.einsum("bnts,bsnh->btnh", p, vp)
    out = np.einsum("btnh,nho->bto", heads, ok.reshape(ok.shape[0], ok.shape[1], -1)) + np.reshape(ob, (-1,))
    return out.reshape(q.shape[:2] + ok.shape[2:]), p


def keras_mask(b, t, s, q_mask=None, v_mask=None, k_mask=None, attention_mask=None, causal=False):
    m = np.ones((b, t, s), bool)
    if q_mask is not None:
        m &= np.asarray(q_mask, bool)[:, :, None]
    if v_mask is not None:
        m &= np.asarray(v_mask, bool)[:, None, :]
    if k_mask is not None:
        m &= np.asarray(k_mask, bool)[:, None, :]
    if causal:
        m &= np.tril(np.ones((t, s), bool))[None]
    if attention_mask is not None:
        m &= np.broadcast_to(np.asarray(attention_mask, bool), (b, t, s))
    return m


Q, V, K = rand(2, 3, 4), rand(2, 5, 6), rand(2, 5, 4)
QM = np.array([[1, 1, 0], [1, 0, 1]], bool)
VM = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 0]], bool)


# ---------------------------------------------------------------- Attention

@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("score_mode", ["dot", "concat"])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_forward(use_scale, score_mode, causal):
    layer = layers.Attention(use_scale=use_scale, score_mode=score_mode)
    out, w = layer([Q, V, K], mask=[QM, VM], return_attention_scores=True, use_causal_mask=causal)
    names = [v.name for v in layer.weights]
    assert names == (["scale"] if use_scale else []) + (["concat_score_weight"] if score_mode == "concat" else [])
    # move the weights away from their initial ones so that they matter
    for v in layer.weights:
        v.assign(np.array(0.7, np.float32))
    out, w = layer([Q, V, K], mask=[QM, VM], return_attention_scores=True, use_causal_mask=causal)
    ref, ref_w = attention_ref(Q, V, K, score_mode, 0.7 if use_scale else None, 0.7, QM, VM, causal)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(w), ref_w, rtol=1e-5, atol=1e-6)
    assert tuple(out.shape) == (2, 3, 6) and tuple(w.shape) == (2, 3, 5)
    # without a key the value is the key; without masks nothing is masked
    v2 = rand(2, 5, 4)
    ref, _ = attention_ref(Q, v2, None, score_mode, 0.7 if use_scale else None, 0.7)
    np.testing.assert_allclose(np.asarray(layer([Q, v2])), ref, rtol=1e-5, atol=1e-5)


def test_additive_attention_forward_and_weights():
    layer = layers.AdditiveAttention()
    out = layer([Q, V, K], mask=[QM, VM])
    (scale,) = layer.get_weights()
    assert scale.shape == (4,)
    ref, _ = attention_ref(Q, V, K, scale=scale, q_mask=QM, v_mask=VM, additive=True)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-5, atol=1e-5)
    plain = layers.AdditiveAttention(use_scale=False)
    out, w = plain([Q, V, K], return_attention_scores=True, use_causal_mask=True)
    ref, ref_w = attention_ref(Q, V, K, additive=True, causal=True)
    assert plain.get_weights() == []
    assert tuple(out.shape) == (2, 3, 6) and tuple(w.shape) == (2, 3, 5)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(w), ref_w, rtol=1e-5, atol=1e-6)
    assert "score_mode" not in layers.AdditiveAttention().get_config()


def test_attention_gradients_match_finite_differences():
    q, v, k = rand(2, 3, 2), rand(2, 4, 3), rand(2, 4, 2)
    qm = np.array([[1, 0, 1], [1, 1, 1]], np.float32)
    vm = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], np.float32)
    wts = np.linspace(0.5, 1.5, 2 * 3 * 3).reshape(2, 3, 3)
    for make, additive, mode in [
        (lambda: layers.Attention(use_scale=True), False, "dot"),
        (lambda: layers.Attention(use_scale=True, score_mode="concat"), False, "concat"),
        (lambda: layers.AdditiveAttention(), True, "dot"),
    ]:
        layer = make()
        tq, tv, tk = em.Variable(q), em.Variable(v), em.Variable(k)
        with em.GradientTape() as tape:
            y = layer([tq, tv, tk], mask=[qm, vm], use_causal_mask=True)
            loss = ops.sum(y * wts.astype(np.float32))
        params = [tq, tv, tk] + list(layer.trainable_weights)
        got = [np.asarray(g) for g in tape.gradient(loss, params)]
        scale = np.asarray(layer.weights[0].numpy(), np.float64)
        def f(a=q, b=v, c=k, s=scale, mode=mode, additive=additive):
            out, _ = attention_ref(a, b, c, mode, s, 1.0, qm, vm, True, additive)
            return np.sum(out * wts)

        np.testing.assert_allclose(got[0], numeric_grad(lambda a: f(a=a), q), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(got[1], numeric_grad(lambda b: f(b=b), v), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(got[2], numeric_grad(lambda c: f(c=c), k), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(got[3], numeric_grad(lambda s: f(s=s), scale), rtol=1e-3, atol=1e-4)


def test_attention_dropout_training_only():
    layer = layers.Attention(dropout=0.5, seed=1)
    q, v = rand(2, 8, 4), rand(2, 16, 4)
    _, w_eval = layer([q, v], return_attention_scores=True)
    _, w_train = layer([q, v], return_attention_scores=True, training=True)
    w_eval, w_train = np.asarray(w_eval), np.asarray(w_train)
    zeros = np.mean(w_train == 0)
    assert 0.3 < zeros < 0.7
    kept = w_train != 0
    np.testing.assert_allclose(w_train[kept], 2 * w_eval[kept], rtol=1e-5)


def test_attention_errors_and_config():
    layer = layers.Attention()
    with pytest.raises(ValueError, match="list of inputs"):
        layer(Q)
    with pytest.raises(ValueError, match="length 2 or 3"):
        layer([Q])
    with pytest.raises(ValueError, match=r"\[2, 3, 4\].*\[3, 5, 4\]|rank 3"):
        layer([Q, rand(3, 5, 4)])
    with pytest.raises(ValueError, match="mask must be a list"):
        layer([Q, K], mask=QM)
    with pytest.raises(ValueError, match=r"value mask.*\[2, 5\].*\[2, 4\]"):
        layer([Q, K], mask=[None, np.ones((2, 4), bool)])
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="bad")
    with pytest.raises(ValueError, match="rank 3"):
        layers.Attention()([rand(2, 4), rand(2, 4)])
    cfg = layers.Attention(use_scale=True, score_mode="concat", dropout=0.1).get_config()
    again = layers.Attention.from_config(cfg)
    assert again.get_config() == cfg and again.score_mode == "concat"


def test_attention_in_functional_model_compiled_and_eager():
    q_in, v_in = em.Input((3, 4)), em.Input((5, 4))
    att = layers.Attention(use_scale=True)
    out = att([q_in, v_in])
    model = em.Model([q_in, v_in], out)
    q, v = rand(4, 3, 4), rand(4, 5, 4)
    ref, _ = attention_ref(q, v, scale=1.0)
    np.testing.assert_allclose(model.predict([q, v], verbose=0), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(model([q, v])), ref, rtol=1e-5, atol=1e-5)
    assert model._native_graph() is not None


# ---------------------------------------------------------------- MultiHeadAttention

def test_mha_weight_shapes_and_order_match_keras():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    layer(rand(2, 4, 8), rand(2, 5, 6))
    assert [w.shape for w in layer.get_weights()] == [
        (8, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (2, 3, 8), (8,)
    ]
    layer = layers.MultiHeadAttention(num_heads=4, key_dim=2, value_dim=5, use_bias=False, output_shape=7)
    layer(rand(2, 4, 8), rand(2, 5, 6), rand(2, 5, 3))
    assert [w.shape for w in layer.get_weights()] == [(8, 4, 2), (3, 4, 2), (6, 4, 5), (4, 5, 7)]
    assert layer.count_params() == 8 * 8 + 3 * 8 + 6 * 20 + 20 * 7
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, output_shape=(2, 3))
    y = layer(rand(2, 4, 8), rand(2, 5, 8))
    assert tuple(y.shape) == (2, 4, 2, 3) and layer.get_weights()[-1].shape == (2, 3)


@pytest.mark.parametrize("causal", [False, True])
def test_mha_forward_with_masks(causal):
    q, v, k = rand(2, 4, 6), rand(2, 5, 3), rand(2, 5, 2)
    qm = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    vm = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 0]], bool)
    km = np.array([[1, 1, 1, 0, 1], [1, 1, 1, 1, 1]], bool)
    am = RNG.random((2, 4, 5)) > 0.3
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    out, scores = layer(q, v, k, query_mask=qm, value_mask=vm, key_mask=km, attention_mask=am,
                        return_attention_scores=True, use_causal_mask=causal)
    mask = keras_mask(2, 4, 5, qm, vm, km, am, causal)
    ref, ref_p = mha_ref(layer.get_weights(), q, v, k, 2, 3, mask=mask)
    assert tuple(out.shape) == (2, 4, 6) and tuple(scores.shape) == (2, 2, 4, 5)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(scores), ref_p, rtol=1e-4, atol=1e-6)
    # self-attention without masks; a (T, S) attention mask broadcasts over the batch
    out = layer(q, q[..., :3], q[..., :2])
    ref, _ = mha_ref(layer.get_weights(), q, q[..., :3], q[..., :2], 2, 3)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-4)
    am2 = np.tril(np.ones((4, 5), bool))
    out = layer(q, v, k, attention_mask=am2)
    ref, _ = mha_ref(layer.get_weights(), q, v, k, 2, 3, mask=keras_mask(2, 4, 5, attention_mask=am2))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-4)


def test_mha_no_bias_and_query_mask_from_mask_argument():
    q, v = rand(2, 3, 4), rand(2, 4, 4)
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=2, use_bias=False)
    out = layer(q, v, mask=[QM, VM[:, :4]])
    ref, _ = mha_ref(layer.get_weights(), q, v, None, 3, 2, use_bias=False,
                     mask=keras_mask(2, 3, 4, QM, VM[:, :4]))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4, atol=1e-4)
    assert np.asarray(layer.compute_mask([q, v], [QM, None])).tolist() == QM.tolist()


def test_mha_gradients_match_finite_differences():
    q, v = rand(2, 3, 3), rand(2, 4, 2)
    vm = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)
    am = np.array([[1, 1, 1, 1], [1, 1, 0, 1], [1, 0, 1, 1]], bool)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=2)
    layer(q, v)
    wts = np.linspace(0.5, 1.5, 2 * 3 * 3).reshape(2, 3, 3)
    tq, tv = em.Variable(q), em.Variable(v)
    with em.GradientTape() as tape:
        # no row fully masked (the query mask masks whole rows)
        y = layer(tq, tv, value_mask=vm, attention_mask=am, use_causal_mask=True)
        loss = ops.sum(y * wts.astype(np.float32))
    params = [tq, tv] + list(layer.trainable_weights)
    got = [np.asarray(g) for g in tape.gradient(loss, params)]
    weights = [w.astype(np.float64) for w in layer.get_weights()]
    mask = keras_mask(2, 3, 4, v_mask=vm, attention_mask=am, causal=True)

    def f(a=q, b=v, ws=weights):
        return np.sum(mha_ref(ws, a, b, None, 2, 2, mask=mask)[0] * wts)

    np.testing.assert_allclose(got[0], numeric_grad(lambda a: f(a=a), q), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(got[1], numeric_grad(lambda b: f(b=b), v), rtol=1e-3, atol=1e-4)
    for i, w in enumerate(weights):
        def fw(x, i=i):
            ws = list(weights)
            ws[i] = x
            return f(ws=ws)

        np.testing.assert_allclose(got[2 + i], numeric_grad(fw, w), rtol=1e-3, atol=1e-4, err_msg=f"weight {i}")


def test_mha_errors():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(num_heads=2, key_dim=-1)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match=r"value.*key.*except the last"):
        layer(rand(2, 3, 4), rand(2, 5, 4), rand(2, 6, 4))
    with pytest.raises(ValueError, match="rank"):
        layers.MultiHeadAttention(num_heads=2, key_dim=2)(rand(2, 4), rand(2, 4))
    layer(rand(2, 3, 4), rand(2, 5, 4))
    with pytest.raises(ValueError, match=r"query.*\[2, 3, 6\]"):
        layer(rand(2, 3, 6), rand(2, 5, 4))
    with pytest.raises(ValueError, match=r"\[3, 5, 4\]"):
        layer(rand(2, 3, 4), rand(3, 5, 4))
    with pytest.raises(ValueError, match=r"query mask.*\[2, 3\].*\[2, 5\]"):
        layer(rand(2, 3, 4), rand(2, 5, 4), query_mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"attention_mask.*\[2, 4, 5\]"):
        layer(rand(2, 3, 4), rand(2, 5, 4), attention_mask=np.ones((2, 4, 5), bool))
    with pytest.raises(NotImplementedError, match="attention_axes"):
        layers.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(2,))(rand(2, 3, 3, 4), rand(2, 3, 3, 4))


def test_mha_config_roundtrip_and_default_axes():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, dropout=0.1, output_shape=5,
                                      attention_axes=-2, kernel_regularizer="l2", seed=3)
    layer(rand(2, 3, 4), rand(2, 3, 4))
    assert layer.attention_axes == (1,)
    cfg = layer.get_config()
    assert cfg["output_shape"] == (5,) and cfg["num_heads"] == 2 and cfg["value_dim"] == 4
    again = layers.MultiHeadAttention.from_config(cfg)
    assert again.num_heads == 2 and again.key_dim == 3
    # the kernel regularizer adds one penalty per projection kernel
    assert len(layer.losses) == 4


def test_mha_rank4_attends_over_all_positions():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    x = rand(2, 2, 3, 4)
    out, scores = layer(x, x, return_attention_scores=True)
    assert tuple(out.shape) == (2, 2, 3, 4) and tuple(scores.shape) == (2, 2, 2, 3, 2, 3)
    flat = x.reshape(2, 6, 4)
    ref, _ = mha_ref(layer.get_weights(), flat, flat, None, 2, 2)
    np.testing.assert_allclose(np.asarray(out).reshape(2, 6, 4), ref, rtol=1e-4, atol=1e-4)


def test_mha_functional_model_trains_compiled():
    em.utils.set_random_seed(0)
    inp = em.Input((6, 8))
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    x = layers.GlobalAveragePooling1D()(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    model = em.Model(inp, out)
    data = rand(64, 6, 8)
    y = (data[:, :, 0].sum(1) > 0).astype(np.float32)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert model._native_graph() is not None
    hist = model.fit(data, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    # the compiled graph and the eager call agree
    np.testing.assert_allclose(model.predict(data[:4], verbose=0), np.asarray(model(data[:4])), rtol=1e-5,
                               atol=1e-6)


def test_mha_functional_options_run_eagerly_and_match():
    inp = em.Input((5, 4))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    out, scores = mha(inp, inp, use_causal_mask=True, return_attention_scores=True)
    assert tuple(out.shape) == (None, 5, 4) and tuple(scores.shape) == (None, 2, 5, 5)
    model = em.Model(inp, [out, scores])
    x = rand(3, 5, 4)
    got_out, got_scores = model.predict(x, verbose=0)
    ref, ref_p = mha_ref(mha.get_weights(), x, x, None, 2, 2, mask=keras_mask(3, 5, 5, causal=True))
    np.testing.assert_allclose(got_out, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_scores, ref_p, rtol=1e-4, atol=1e-6)
    assert np.all(np.triu(got_scores[0, 0], 1) == 0)
    # an attention mask as a second model input runs in the compiled graph
    m_in = em.Input((5, 5))
    y = layers.MultiHeadAttention(num_heads=1, key_dim=3)(inp, inp, attention_mask=m_in)
    model = em.Model([inp, m_in], y)
    assert model._native_graph() is not None
    am = np.tril(np.ones((3, 5, 5), np.float32))
    np.testing.assert_allclose(model.predict([x, am], verbose=0), np.asarray(model([x, am])), rtol=1e-5, atol=1e-6)
