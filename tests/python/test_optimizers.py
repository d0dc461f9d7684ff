"""ember.optimizers against numpy references of Keras's formulas, Keras's own expected
numbers, schedules, get() resolution, state round trips and bad input."""
import threading
import time
import warnings

import numpy as np
import pytest

import ember
from ember import optimizers
from ember.optimizers import schedules

# -- numpy references, transcribed from keras/src/optimizers/*.py `update_step` -----------


def reference(name, hyper, lr, w, grads, weight_decay=None):
    """Weights after applying each gradient in turn (float64)."""
    w = np.array(w, dtype=np.float64)
    h = dict(hyper)
    s = {}
    u_product = 1.0

    def slot(key, init=0.0):
        return s.setdefault(key, np.full_like(w, init))

    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, dtype=np.float64)
        if weight_decay:
            w = w - w * weight_decay * lr
        if name == "sgd":
            mu = h.get("momentum", 0.0)
            if mu == 0:
                w = w - g * lr
            else:
                m = slot("m")
                m[:] = m * mu - g * lr
                w = w + (m * mu - g * lr if h.get("nesterov") else m)
        elif name == "rmsprop":
            rho, mu, eps = h.get("rho", 0.9), h.get("momentum", 0.0), h.get("epsilon", 1e-7)
            v = slot("v")
            v[:] = rho * v + (1 - rho) * g**2
            if h.get("centered"):
                a = slot("a")
                a[:] = rho * a + (1 - rho) * g
                denom = v - a**2 + eps
            else:
                denom = v + eps
            inc = lr * g / np.sqrt(denom)
            if mu > 0:
                m = slot("m")
                m[:] = mu * m + inc
                w = w - m
            else:
                w = w - inc
        elif name in ("adam", "adamw"):
            b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
            m, v = slot("m"), slot("v")
            m += (g - m) * (1 - b1)
            v += (g**2 - v) * (1 - b2)
            vv = v
            if h.get("amsgrad"):
                vh = slot("vh")
                vh[:] = np.maximum(vh, v)
                vv = vh
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            w = w - m * alpha / (np.sqrt(vv) + eps)
        elif name == "adagrad":
            acc = slot("acc", h.get("initial_accumulator_value", 0.1))
            acc += g**2
            w = w - lr * g / np.sqrt(acc + h.get("epsilon", 1e-7))
        elif name == "adadelta":
            rho, eps = h.get("rho", 0.95), h.get("epsilon", 1e-7)
            ag, ad = slot("ag"), slot("ad")
            ag[:] = rho * ag + (1 - rho) * g**2
            delta = -np.sqrt(ad + eps) * g / np.sqrt(ag + eps)
            ad[:] = rho * ad + (1 - rho) * delta**2
            w = w + lr * delta
        elif name == "adamax":
            b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
            m, u = slot("m"), slot("u")
            m += (g - m) * (1 - b1)
            u[:] = np.maximum(b2 * u, np.abs(g))
            w = w - lr * m / ((1 - b1**t) * (u + eps))
        elif name == "nadam":
            b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
            u_t = b1 * (1 - 0.5 * 0.96**t)
            u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product *= u_t
            m, v = slot("m"), slot("v")
            m += (g - m) * (1 - b1)
            v += (g**2 - v) * (1 - b2)
            m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
            v_hat = v / (1 - b2**t)
            w = w - m_hat * lr / (np.sqrt(v_hat) + eps)
        elif name == "ftrl":
            p = h.get("learning_rate_power", -0.5)
            l1 = h.get("l1_regularization_strength", 0.0)
            l2 = h.get("l2_regularization_strength", 0.0) + h.get("beta", 0.0) / (2 * lr)
            shrink = h.get("l2_shrinkage_regularization_strength", 0.0)
            acc, z = slot("acc", h.get("initial_accumulator_value", 0.1)), slot("z")
            new_acc = acc + g**2
            z += g + 2 * shrink * w - (new_acc**-p - acc**-p) / lr * w
            w = (np.clip(z, -l1, l1) - z) / (new_acc**-p / lr + 2 * l2)
            acc[:] = new_acc
        elif name == "lion":
            b1, b2 = h.get("beta_1", 0.9), h.get("beta_2", 0.99)
            m = slot("m")
            w = w - lr * np.sign(m * b1 + g * (1 - b1))
            m[:] = m * b2 + g * (1 - b2)
        else:
            raise AssertionError(name)
    return w


CLASSES = {
    "sgd": optimizers.SGD, "rmsprop": optimizers.RMSprop, "adam": optimizers.Adam,
    "adamw": optimizers.AdamW, "adagrad": optimizers.Adagrad, "adadelta": optimizers.Adadelta,
    "adamax": optimizers.Adamax, "nadam": optimizers.Nadam, "ftrl": optimizers.Ftrl, "lion": optimizers.Lion,
}

CASES = [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.8, "nesterov": True}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.5}), ("rmsprop", {"centered": True, "rho": 0.8}),
    ("adam", {}), ("adam", {"amsgrad": True, "beta_1": 0.8}), ("adamw", {}),
    ("adagrad", {}), ("adagrad", {"initial_accumulator_value": 0.5}), ("adadelta", {"rho": 0.7}),
    ("adamax", {}), ("nadam", {}), ("nadam", {"beta_1": 0.5, "beta_2": 0.67}),
    ("ftrl", {}),
    ("ftrl", {"learning_rate_power": -0.2, "l1_regularization_strength": 0.05,
              "l2_regularization_strength": 0.15, "l2_shrinkage_regularization_strength": 0.01, "beta": 0.3}),
    ("lion", {}), ("lion", {"beta_1": 0.5, "beta_2": 0.7}),
]


def grads_for(n, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=n).astype(np.float32) for _ in range(steps)]


@pytest.mark.parametrize("name,hyper", CASES)
def test_three_steps_match_numpy_reference(name, hyper):
    rng = np.random.default_rng(1)
    w0 = rng.uniform(-1, 1, size=(5, 7)).astype(np.float32)
    grads = [g.reshape(5, 7) for g in grads_for(35, 3)]
    opt = CLASSES[name](learning_rate=0.05, **hyper)
    v = ember.Variable(w0, name="w")
    for t in range(3):
        opt.apply_gradients([(grads[t], v)])
        want = reference(name, hyper, 0.05, w0, grads[: t + 1], 0.004 if name == "adamw" else None)
        np.testing.assert_allclose(v.numpy(), want, rtol=2e-5, atol=2e-6)
    assert int(opt.iterations) == 3


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamax", "nadam", "lion"])
def test_weight_decay_matches_reference(name):
    w0 = np.linspace(-1, 1, 11).astype(np.float32)
    grads = grads_for(11, 3, seed=2)
    opt = CLASSES[name](learning_rate=0.1, weight_decay=0.05)
    v = ember.Variable(w0)
    for g in grads:
        opt.apply([g], [v])
    np.testing.assert_allclose(v.numpy(), reference(name, {}, 0.1, w0, grads, 0.05), rtol=2e-5, atol=2e-6)


# -- Keras's own numbers --------------------------------------------------------------------


@pytest.mark.parametrize("name,want", [
    ("sgd", [0.5, -1.0, -0.5, 3.0]),
    ("adam", [0.5, 1.5, 2.5, 3.5]),
    ("adamw", [0.4980, 1.4960, 2.494, 3.492]),
    ("rmsprop", [-0.5811, 0.4189, 1.4189, 2.4189]),
    ("adagrad", [0.5233, 1.5007, 2.5005, 3.5061]),
    ("adadelta", [0.9993, 1.9993, 2.9993, 3.9993]),
    ("adamax", [0.5, 1.5, 2.5, 3.5]),
    ("nadam", [0.4686, 1.4686, 2.4686, 3.4686]),
    ("ftrl", [0.2218, 1.3954, 2.3651, 2.8814]),
    ("lion", [0.5, 1.5, 2.5, 3.5]),
])
def test_keras_single_step(name, want):
    opt = CLASSES[name](learning_rate=0.5)
    v = ember.Variable([1.0, 2.0, 3.0, 4.0])
    opt.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0])], [v]))
    np.testing.assert_allclose(v.numpy(), want, rtol=1e-4, atol=1e-4)


def test_keras_golden_adam_amsgrad_and_nadam():
    def run(opt, golden):
        x = ember.Variable(np.ones(10, dtype=np.float32))
        grads = np.arange(0.1, 1.1, 0.1)
        opt.apply_gradients(zip([np.full((10,), 0.01)], [x]))
        for row in golden:
            np.testing.assert_allclose(x.numpy(), row, rtol=5e-4, atol=5e-4)
            opt.apply_gradients(zip([grads], [x]))

    run(optimizers.Adam(amsgrad=True), np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10)))
    run(optimizers.Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5), [
        [0.4281] * 10,
        [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
        [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
        [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
        [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454],
    ])


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "adagrad", "adamax", "nadam", "lion", "adamw"])
def test_keras_weight_decay_with_exclusions(name):
    cls = CLASSES[name]
    grads = np.zeros(())
    var1, var2, var3 = ember.Variable(2.0), ember.Variable(2.0, name="exclude"), ember.Variable(2.0)
    cls(learning_rate=1.0, weight_decay=0.004).apply_gradients(zip([grads], [var1]))
    opt2 = cls(learning_rate=1.0, weight_decay=0.004)
    opt2.exclude_from_weight_decay(var_names=["exclude"])
    opt2.apply_gradients(zip([grads, grads], [var1, var2]))
    opt3 = cls(learning_rate=1.0, weight_decay=0.004)
    opt3.exclude_from_weight_decay(var_list=[var3])
    opt3.apply_gradients(zip([grads, grads], [var1, var3]))
    assert abs(float(var1.numpy().reshape(())) - 1.9760959) < 1e-6
    assert float(var2.numpy().reshape(())) == 2.0
    assert float(var3.numpy().reshape(())) == 2.0


# -- clipping -------------------------------------------------------------------------------


def sgd_step(grads, **kw):
    """The update SGD(lr=1) makes, i.e. minus the processed gradients."""
    opt = optimizers.SGD(learning_rate=1.0, **kw)
    vs = [ember.Variable(np.zeros_like(g, dtype=np.float32)) for g in grads]
    opt.apply(grads, vs)
    return [-v.numpy() for v in vs]


def test_keras_rmsprop_docstring_example():
    # keras.optimizers.RMSprop docstring: one step on loss = var**2 / 2 from 10.0 -> 9.683772
    opt = optimizers.RMSprop(learning_rate=0.1)
    var1 = ember.Variable(10.0)
    opt.apply_gradients([(var1.numpy(), var1)])
    np.testing.assert_allclose(var1.numpy(), 9.683772, rtol=1e-6)


def test_built_by_the_core_is_seen_from_python():
    v = ember.Variable([1.0, 2.0])
    opt = optimizers.Adam()
    assert not opt.built
    opt._native.apply([np.array([0.1, 0.2])], [v])  # as the Rust trainer does
    assert opt.built
    opt.apply([np.array([0.1, 0.2])])
    assert int(opt.iterations) == 2
    opt.set_weights([x.numpy() for x in opt.variables])


def test_clipnorm_clipvalue_global_clipnorm():
    (c,) = sgd_step([np.array([100.0, 100.0])], clipnorm=1)
    np.testing.assert_allclose(c, [2**0.5 / 2, 2**0.5 / 2], rtol=1e-6)
    (c,) = sgd_step([np.array([100.0, -100.0, 0.5])], clipvalue=1)
    np.testing.assert_allclose(c, [1.0, -1.0, 0.5])
    a, b = sgd_step([np.array([3.0]), np.array([4.0, 12.0])], global_clipnorm=1.0)
    np.testing.assert_allclose(np.concatenate([a, b]), np.array([3.0, 4.0, 12.0]) / 13.0, rtol=1e-6)
    a, b = sgd_step([np.array([3.0]), np.array([4.0, 12.0])], clipnorm=5.0)
    want = [3.0, 4.0 * 5 / 160**0.5, 12.0 * 5 / 160**0.5]
    np.testing.assert_allclose(np.concatenate([a, b]), want, rtol=1e-6)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)


# -- schedules ------------------------------------------------------------------------------


def test_schedules_match_keras_formulas():
    cases = [
        (schedules.ExponentialDecay(0.1, 10, 0.5), lambda s: 0.1 * 0.5 ** (s / 10)),
        (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), lambda s: 0.1 * 0.5 ** np.floor(s / 10)),
        (schedules.InverseTimeDecay(0.1, 2, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 2)),
        (schedules.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
         lambda s: 0.1 / (1 + 0.5 * np.floor(s / 2))),
        (schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0),
         lambda s: 0.09 * (1 - min(s, 10) / 10) ** 2 + 0.01),
        (schedules.PolynomialDecay(0.1, 10, 0.01, cycle=True),
         lambda s: 0.09 * (1 - s / (10 * max(1, np.ceil(s / 10)))) + 0.01),
        (schedules.CosineDecay(0.1, 10, alpha=0.2),
         lambda s: 0.1 * (0.8 * 0.5 * (1 + np.cos(np.pi * min(s, 10) / 10)) + 0.2)),
        (schedules.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=4),
         lambda s: 0.2 * s / 4 if s < 4 else 0.2 * 0.5 * (1 + np.cos(np.pi * min(s - 4, 10) / 10))),
        (schedules.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1]),
         lambda s: 1.0 if s <= 3 else (0.5 if s <= 6 else 0.1)),
    ]
    for sched, formula in cases:
        for step in [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15, 25]:
            np.testing.assert_allclose(float(sched(step)), formula(step), rtol=1e-6, atol=1e-9,
                                       err_msg=f"{sched} at {step}")


def test_cosine_decay_restarts_hand_values():
    s = schedules.CosineDecayRestarts(1.0, 10)
    half = 0.5 * (1 + np.cos(np.pi * 0.5))
    for step, want in [(0, 1.0), (5, 0.5), (10, 1.0), (20, half), (30, 1.0)]:
        np.testing.assert_allclose(float(s(step)), want, atol=1e-9)
    s = schedules.CosineDecayRestarts(2.0, 4, t_mul=1.0, m_mul=0.5, alpha=0.1)
    np.testing.assert_allclose(float(s(4)), 2.0 * (0.9 * 0.5 + 0.1))


def test_schedule_config_round_trip_and_serialization():
    for s in [schedules.ExponentialDecay(0.1, 100, 0.96, staircase=True),
              schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
              schedules.PolynomialDecay(0.1, 10, power=0.5, cycle=True),
              schedules.InverseTimeDecay(0.1, 1.0, 0.5),
              schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10),
              schedules.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.9, alpha=0.01)]:
        again = type(s).from_config(s.get_config())
        assert again.get_config() == s.get_config()
        back = schedules.deserialize(schedules.serialize(s))
        assert type(back) is type(s)
        assert float(back(7)) == float(s(7))
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_builtin_schedule_drives_the_optimizer_in_the_core():
    sched = schedules.ExponentialDecay(0.1, 1, 0.5)
    opt = optimizers.SGD(learning_rate=sched)
    assert not opt._python_schedule
    v = ember.Variable([0.0])
    for step in range(4):
        assert abs(float(opt.learning_rate) - 0.1 * 0.5**step) < 1e-8
        opt.apply([np.array([1.0])], [v])
    np.testing.assert_allclose(v.numpy(), [-(0.1 + 0.05 + 0.025 + 0.0125)], rtol=1e-6)
    assert [x.name for x in opt.variables] == ["iteration"]
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5
    cfg = opt.get_config()
    assert cfg["learning_rate"]["class_name"] == "ExponentialDecay"
    again = optimizers.SGD.from_config(cfg)
    assert isinstance(again._schedule, schedules.ExponentialDecay)


class InverseStep(schedules.LearningRateSchedule):
    def __init__(self, initial):
        self.initial = initial

    def __call__(self, step):
        return self.initial / (float(step) + 1)

    def get_config(self):
        return {"initial": self.initial}


def test_python_schedule_subclass_is_evaluated_before_each_step():
    opt = optimizers.SGD(learning_rate=InverseStep(1.0))
    assert opt._python_schedule
    assert opt._native.learning_rate == 1.0  # evaluated at step 0 already, for the Rust trainer
    v = ember.Variable([0.0])
    for _ in range(3):
        opt.apply([np.array([1.0])], [v])
    np.testing.assert_allclose(v.numpy(), [-(1 + 1 / 2 + 1 / 3)], rtol=1e-6)
    assert abs(opt.learning_rate - 0.25) < 1e-12
    assert [x.name for x in opt.variables] == ["iteration"]
    cfg = opt.get_config()
    again = optimizers.SGD.from_config(cfg, custom_objects={"InverseStep": InverseStep})
    assert again._python_schedule and again._schedule.initial == 1.0
    # a subclass of a built-in schedule that overrides __call__ also runs in Python
    class Halved(schedules.ExponentialDecay):
        def __call__(self, step):
            return 0.5 * float(super().__call__(step))

    opt = optimizers.SGD(learning_rate=Halved(0.2, 1, 1.0))
    assert opt._python_schedule
    w = ember.Variable([0.0])
    opt.apply([np.array([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-0.1], rtol=1e-6)


def test_callable_learning_rate_and_setting_learning_rate():
    rate = [0.5]
    opt = optimizers.SGD(learning_rate=lambda: rate[0])
    v = ember.Variable([0.0])
    opt.apply([np.array([1.0])], [v])
    rate[0] = 0.25
    opt.apply([np.array([1.0])], [v])
    np.testing.assert_allclose(v.numpy(), [-0.75])
    opt = optimizers.Adam(learning_rate=0.01)
    opt.learning_rate = 0.1
    assert abs(opt.learning_rate - 0.1) < 1e-8 and opt.learning_rate.numpy() == np.float32(0.1)
    opt.learning_rate.assign(0.2)
    assert abs(opt.learning_rate - 0.2) < 1e-8
    opt.learning_rate = schedules.CosineDecay(0.3, 10)
    assert abs(opt.learning_rate - 0.3) < 1e-7
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")


# -- get() and configs ----------------------------------------------------------------------


def test_get_resolves_names_configs_and_instances():
    for name, cls in [("adam", optimizers.Adam), ("sgd", optimizers.SGD), ("rmsprop", optimizers.RMSprop),
                      ("Adam", optimizers.Adam), ("adamw", optimizers.AdamW), ("Nadam", optimizers.Nadam),
                      ("adagrad", optimizers.Adagrad), ("adadelta", optimizers.Adadelta),
                      ("adamax", optimizers.Adamax), ("ftrl", optimizers.Ftrl), ("lion", optimizers.Lion)]:
        assert type(optimizers.get(name)) is cls
    opt = optimizers.Adam(learning_rate=0.3)
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    again = optimizers.get(optimizers.serialize(optimizers.SGD(momentum=0.5)))
    assert isinstance(again, optimizers.SGD) and again.momentum == 0.5
    assert optimizers.get({"class_name": "RMSprop", "config": {"rho": 0.8}}).rho == 0.8
    with pytest.raises(ValueError) as e:
        optimizers.get("adamm")
    assert "adamm" in str(e.value) and '"adam"' in str(e.value) and '"sgd"' in str(e.value)
    with pytest.raises(ValueError):
        optimizers.get(42)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_get_config_round_trip(name):
    opt = CLASSES[name](learning_rate=0.123, clipnorm=2.0)
    cfg = opt.get_config()
    assert cfg["learning_rate"] == pytest.approx(0.123)
    assert cfg["clipnorm"] == 2.0
    again = CLASSES[name].from_config(cfg)
    assert again.get_config() == cfg
    assert again._native.get_config()["clipnorm"] == 2.0


def test_keras_defaults():
    assert optimizers.SGD().get_config()["learning_rate"] == pytest.approx(0.01)
    assert optimizers.SGD().name == "SGD" and optimizers.Adam().name == "adam"
    assert optimizers.Adagrad().name == "adagrad"
    assert optimizers.AdamW().weight_decay == 0.004
    ftrl = optimizers.Ftrl().get_config()
    assert ftrl["learning_rate_power"] == -0.5 and ftrl["initial_accumulator_value"] == 0.1
    assert optimizers.Lion().get_config()["beta_2"] == 0.99
    assert optimizers.RMSprop().get_config()["rho"] == 0.9
    assert optimizers.Adadelta().get_config()["rho"] == 0.95


# -- training -------------------------------------------------------------------------------


@pytest.mark.parametrize("name,kw", [
    ("sgd", {"learning_rate": 0.1}), ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", {"learning_rate": 0.01}), ("adam", {"learning_rate": 0.05}),
    ("adamw", {"learning_rate": 0.05}),
    ("adagrad", {"learning_rate": 0.5}), ("adadelta", {"learning_rate": 50.0}),
    ("adamax", {"learning_rate": 0.05}), ("nadam", {"learning_rate": 0.05}), ("ftrl", {"learning_rate": 0.5}),
    ("lion", {"learning_rate": 0.005}),
])
def test_minimises_a_quadratic(name, kw):
    target = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    v = ember.Variable(np.zeros(3, dtype=np.float32))
    opt = CLASSES[name](**kw)
    for _ in range(1000):
        opt.apply_gradients([(2 * (v.numpy() - target), v)])
    np.testing.assert_allclose(v.numpy(), target, atol=0.05)


def test_gradient_tape_and_constraints():
    v = ember.Variable(np.array([3.0, -4.0], dtype=np.float32), name="kernel")
    with ember.GradientTape() as tape:
        y = v.value * v.value
    (g,) = tape.gradient(y, [v])
    opt = optimizers.SGD(learning_rate=0.1)
    v._constraint = lambda x: np.clip(np.asarray(x), -2.0, 2.0)
    opt.apply_gradients([(g, v)])
    # 3 - 0.1*6 = 2.4 -> 2.0; -4 + 0.8 = -3.2 -> -2.0
    np.testing.assert_allclose(v.numpy(), [2.0, -2.0])


def test_none_gradients_are_skipped_and_apply_without_variables():
    a, b = ember.Variable([1.0]), ember.Variable([1.0], name="unused")
    opt = optimizers.SGD(learning_rate=1.0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        opt.apply_gradients([(np.array([1.0]), a), (None, b)])
    assert any("unused" in str(x.message) for x in w)
    np.testing.assert_allclose(a.numpy(), [0.0])
    np.testing.assert_allclose(b.numpy(), [1.0])
    opt.apply([np.array([1.0]), np.array([2.0])])
    np.testing.assert_allclose(np.concatenate([a.numpy(), b.numpy()]), [-1.0, -1.0])
    assert int(opt.iterations) == 2
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None, None])


# -- state ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,kw", [
    ("sgd", {"momentum": 0.9}), ("rmsprop", {"centered": True, "momentum": 0.2}), ("adam", {"amsgrad": True}),
    ("adamw", {}), ("adagrad", {}), ("adadelta", {}), ("adamax", {}), ("nadam", {}),
    ("ftrl", {"l1_regularization_strength": 0.01}), ("lion", {}),
    ("adam", {"learning_rate": schedules.CosineDecay(0.01, 10)}),
])
def test_state_round_trip_resumes_exactly(name, kw):
    rng = np.random.default_rng(3)
    shapes = [(4, 3), (3,)]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(6)]
    vs = [ember.Variable(rng.standard_normal(s).astype(np.float32), name=f"v{i}")
          for i, s in enumerate(shapes)]
    opt = CLASSES[name](**kw)
    for g in grads[:3]:
        opt.apply(g, vs)
    state = [x.numpy() for x in opt.variables]
    weights = [v.numpy() for v in vs]
    vs2 = [ember.Variable(w, name=v.name) for w, v in zip(weights, vs)]
    opt2 = CLASSES[name].from_config(opt.get_config())
    opt2.build(vs2)
    opt2.set_weights(state)
    assert int(opt2.iterations) == 3
    for g in grads[3:]:
        opt.apply(g, vs)
        opt2.apply(g, vs2)
    for v, v2 in zip(vs, vs2):
        np.testing.assert_array_equal(v.numpy(), v2.numpy())
    # save_own_variables / load_own_variables
    store = {}
    opt.save_own_variables(store)
    opt3 = CLASSES[name].from_config(opt.get_config())
    opt3.build(vs2)
    opt3.load_own_variables(store)
    for x, y in zip(opt.variables, opt3.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_variables_names_order_and_assign():
    k, b = ember.Variable(np.ones((2, 2), np.float32), name="kernel"), ember.Variable([0.0, 0.0], name="bias")
    opt = optimizers.Adam()
    assert [x.name for x in opt.variables] == ["iteration", "learning_rate"]
    opt.build([k, b])
    assert [x.name for x in opt.variables] == [
        "iteration", "learning_rate", "kernel_momentum", "bias_momentum", "kernel_velocity", "bias_velocity"]
    assert opt.variables[2].shape == (2, 2)
    opt.iterations.assign(5)
    assert int(opt.iterations) == 5 and int(opt.variables[0]) == 5
    opt.variables[3].assign([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(opt.variables[3]), [1.0, 2.0])
    with pytest.raises(ValueError):
        opt.set_weights([np.zeros(1)])


# -- other Keras options --------------------------------------------------------------------


def test_ema_accumulation_and_loss_scale():
    v = ember.Variable([0.0])
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    opt.apply([np.array([1.0])], [v])
    opt.apply([np.array([1.0])], [v])
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), [-1.5])
    v = ember.Variable([0.0])
    opt = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    opt.apply([np.array([1.0])], [v])
    opt.apply([np.array([3.0])], [v])
    np.testing.assert_allclose(v.numpy(), [-2.0])
    assert int(opt.iterations) == 1
    v = ember.Variable([0.0])
    opt = optimizers.SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert opt.scale_loss(2.0) == 8.0
    opt.apply([np.array([2.0])], [v])
    np.testing.assert_allclose(v.numpy(), [-0.5])


# -- bad input ------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors():
    v = ember.Variable(np.zeros((2, 3), np.float32), name="kernel")
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"kernel.*\[3, 2\].*\[2, 3\]"):
        opt.apply([np.zeros((3, 2))], [v])
    opt.apply([np.zeros((2, 3))], [v])
    with pytest.raises(ValueError, match="other"):
        opt.apply([np.zeros(1)], [ember.Variable([1.0], name="other")])
    with pytest.raises(TypeError, match="Variable"):
        opt.apply([np.zeros((2, 3))], [np.zeros((2, 3))])
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(momentum=0.9)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=2.0)
    with pytest.raises(ValueError, match="rho"):
        optimizers.RMSprop(rho=1.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="build"):
        optimizers.SGD().apply([np.zeros(1)])
    with pytest.raises(NotImplementedError):
        optimizers.Optimizer(learning_rate=0.1)


def test_update_releases_the_gil():
    v = ember.Variable(np.zeros(4_000_000, np.float32))
    g = np.ones(4_000_000, np.float32)
    opt = optimizers.Adam()
    opt.apply([g], [v])  # build outside the timed part
    grads = ember.Tensor(g)
    ticks = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0)

    t = threading.Thread(target=count)
    t.start()
    before = ticks[0]
    for _ in range(20):
        opt._native.apply([grads], [v])
    during = ticks[0] - before
    done.set()
    t.join()
    assert during > 20
