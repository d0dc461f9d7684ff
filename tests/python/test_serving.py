"""ember.serving: the real app under uvicorn on a loopback port, called with httpx.
Good requests (JSON and .npy, single and multi-input, batches) answer what
``model.predict`` gives; bad ones get a 4xx answer naming the problem; 50 concurrent
clients are all answered correctly; ``ember serve m.keras`` serves a saved model."""
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ember

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from ember.serving import create_app  # noqa: E402

NPY = "application/x-npy"


def _mlp():
    return ember.Sequential([
        ember.Input(shape=(6,)),
        ember.layers.Dense(16, activation="relu"),
        ember.layers.Dense(3, activation="softmax"),
    ], name="mlp")


def _two_inputs():
    a = ember.Input(shape=(4,), name="a")
    b = ember.Input(shape=(2, 3), name="b")
    h = ember.layers.Concatenate()([ember.layers.Dense(5)(a), ember.layers.Flatten()(b)])
    out1 = ember.layers.Dense(2, name="score")(h)
    out2 = ember.layers.Dense(1, activation="sigmoid", name="prob")(h)
    return ember.Model([a, b], [out1, out2], name="two_in")


class Server:
    """uvicorn serving ``app`` in a background thread on a free loopback port."""

    def __init__(self, app):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", limit_concurrency=200))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            assert time.time() < deadline, "the server did not start"
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def mlp_server():
    ember.utils.set_random_seed(3)
    model = _mlp()
    server = Server(create_app(model, max_body_bytes=50_000, max_batch_size=1000))
    yield model, server.url
    server.stop()


@pytest.fixture(scope="module")
def multi_server():
    ember.utils.set_random_seed(4)
    model = _two_inputs()
    server = Server(create_app(model))
    yield model, server.url
    server.stop()


def x(n, seed=0, shape=(6,)):
    return np.random.default_rng(seed).standard_normal((n,) + shape).astype("float32")


def test_health_and_metadata(mlp_server, multi_server):
    model, url = mlp_server
    assert httpx.get(url + "/health").json() == {"status": "ok"}
    meta = httpx.get(url + "/metadata").json()
    assert meta["name"] == "mlp"
    assert [(i["shape"], i["dtype"]) for i in meta["inputs"]] == [([None, 6], "float32")]
    assert [(o["shape"], o["dtype"]) for o in meta["outputs"]] == [([None, 3], "float32")]
    meta = httpx.get(multi_server[1] + "/metadata").json()
    assert [(i["name"], i["shape"]) for i in meta["inputs"]] == [("a", [None, 4]), ("b", [None, 2, 3])]
    assert [(o["name"], o["shape"]) for o in meta["outputs"]] == [("score", [None, 2]), ("prob", [None, 1])]


@pytest.mark.parametrize("n", [1, 7, 100])
def test_json_batches_equal_predict(mlp_server, n):
    model, url = mlp_server
    data = x(n, seed=n)
    r = httpx.post(url + "/predict", json={"inputs": data.tolist()})
    assert r.status_code == 200, r.text
    got = np.asarray(r.json()["outputs"], dtype=np.float32)
    np.testing.assert_allclose(got, model.predict(data, verbose=0), rtol=1e-6, atol=1e-7)


def test_npy_in_npy_out(mlp_server):
    model, url = mlp_server
    data = x(33, seed=5)
    buf = io.BytesIO()
    np.save(buf, data)
    r = httpx.post(url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == NPY
    got = np.load(io.BytesIO(r.content), allow_pickle=False)
    assert got.dtype == np.float32 and got.shape == (33, 3)
    np.testing.assert_array_equal(got, model.predict(data, verbose=0))


def test_npy_float64_and_int_bodies_are_cast(mlp_server):
    model, url = mlp_server
    data = np.arange(12, dtype=np.int64).reshape(2, 6)
    buf = io.BytesIO()
    np.save(buf, data)
    r = httpx.post(url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.load(io.BytesIO(r.content)), model.predict(data.astype("float32"), verbose=0),
                               rtol=1e-6)


def test_multi_input_named_json(multi_server):
    model, url = multi_server
    a, b = x(5, 1, (4,)), x(5, 2, (2, 3))
    r = httpx.post(url + "/predict", json={"inputs": {"a": a.tolist(), "b": b.tolist()}})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"]
    want = model.predict({"a": a, "b": b}, verbose=0)
    np.testing.assert_allclose(np.asarray(out["score"], np.float32), want[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(out["prob"], np.float32), want[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("body,kwargs,status,needle", [
    ("wrong shape", {"json": {"inputs": np.zeros((2, 5)).tolist()}}, 400, "wrong shape (2, 5)"),
    ("wrong rank", {"json": {"inputs": [1.0, 2.0]}}, 400, "wrong shape (2,)"),
    ("strings", {"json": {"inputs": [["a"] * 6]}}, 400, "wrong dtype"),
    ("ragged", {"json": {"inputs": [[1.0] * 6, [1.0] * 5]}}, 400, "ragged"),
    ("not json", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
    ("no inputs key", {"json": {"instances": [[0.0] * 6]}}, 400, '"inputs"'),
    ("empty batch", {"json": {"inputs": []}}, 400, "wrong shape"),
    ("empty body", {"content": b"", "headers": {"Content-Type": "application/json"}}, 400, "empty"),
    ("bad npy", {"content": b"\x93NUMPY garbage", "headers": {"Content-Type": NPY}}, 400, "not a valid .npy"),
    ("content type", {"content": b"1,2,3", "headers": {"Content-Type": "text/csv"}}, 415, "text/csv"),
    ("too large", {"json": {"inputs": np.zeros((3000, 6)).tolist()}, "headers": {}}, 413, "too large"),
    ("too many samples", {"json": {"inputs": [[0] * 6] * 1001}}, 413, "at most 1000"),
])
def test_bad_requests_get_4xx_naming_the_problem(mlp_server, body, kwargs, status, needle):
    _, url = mlp_server
    r = httpx.post(url + "/predict", **kwargs)
    assert r.status_code == status, (body, r.status_code, r.text)
    assert needle in r.json()["error"], (body, r.json())


def test_npy_object_arrays_are_refused_without_unpickling(mlp_server):
    _, url = mlp_server
    buf = io.BytesIO()
    np.save(buf, np.array([[object()] * 6], dtype=object), allow_pickle=True)
    r = httpx.post(url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY})
    assert r.status_code == 400 and "not a valid .npy" in r.json()["error"]


def test_multi_input_missing_and_unknown_inputs(multi_server):
    _, url = multi_server
    r = httpx.post(url + "/predict", json={"inputs": {"a": [[0.0] * 4]}})
    assert r.status_code == 400 and "missing input(s) ['b']" in r.json()["error"]
    r = httpx.post(url + "/predict", json={"inputs": {"a": [[0.0] * 4], "b": [[[0.0] * 3] * 2], "c": [1]}})
    assert r.status_code == 400 and "unknown input(s) ['c']" in r.json()["error"]
    r = httpx.post(url + "/predict", json={"inputs": [[0.0] * 4]})
    assert r.status_code == 400 and "missing inputs" in r.json()["error"]
    r = httpx.post(url + "/predict", json={"inputs": {"a": [[0.0] * 4] * 2, "b": [[[0.0] * 3] * 2]}})
    assert r.status_code == 400 and "different batch sizes" in r.json()["error"]
    buf = io.BytesIO()
    np.save(buf, np.zeros((1, 4), np.float32))
    r = httpx.post(url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY})
    assert r.status_code == 415 and "takes 2 inputs" in r.json()["error"]


def test_non_finite_values_pass_through_as_nan(mlp_server):
    _, url = mlp_server
    r = httpx.post(url + "/predict", content=b'{"inputs": [[NaN, 0, 0, 0, 0, 0]]}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert np.isnan(np.asarray(json.loads(r.text)["outputs"], np.float32)).all()


def test_get_on_predict_is_405(mlp_server):
    assert httpx.get(mlp_server[1] + "/predict").status_code == 405


def test_50_concurrent_clients_all_answered_correctly(mlp_server):
    model, url = mlp_server
    inputs = [x(1 + i % 9, seed=100 + i) for i in range(50)]
    wants = [model.predict(a, verbose=0) for a in inputs]
    results = [None] * 50
    barrier = threading.Barrier(50)

    def client(i):
        with httpx.Client(timeout=60) as c:
            barrier.wait()
            if i % 2:
                r = c.post(url + "/predict", json={"inputs": inputs[i].tolist()})
                results[i] = (r.status_code, np.asarray(r.json()["outputs"], np.float32))
            else:
                buf = io.BytesIO()
                np.save(buf, inputs[i])
                r = c.post(url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY})
                results[i] = (r.status_code, np.load(io.BytesIO(r.content)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for i, (status, got) in enumerate(results):
        assert status == 200
        np.testing.assert_allclose(got, wants[i], rtol=1e-6, atol=1e-7)


def test_model_with_a_dict_of_inputs():
    inputs = {"x": ember.Input(shape=(2,), name="x"), "y": ember.Input(shape=(3,), name="y")}
    out = ember.layers.Dense(1)(ember.layers.Concatenate()([inputs["x"], inputs["y"]]))
    model = ember.Model(inputs, out)
    server = Server(create_app(model))
    try:
        feed = {"x": x(3, 1, (2,)), "y": x(3, 2, (3,))}
        r = httpx.post(server.url + "/predict", json={"inputs": {k: v.tolist() for k, v in feed.items()}})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.asarray(r.json()["outputs"], np.float32), model.predict(feed, verbose=0),
                                   rtol=1e-6, atol=1e-7)
    finally:
        server.stop()


def test_npy_request_to_a_multi_output_model_answers_npz():
    inp = ember.Input(shape=(3,))
    h = ember.layers.Dense(4, activation="relu")(inp)
    model = ember.Model(inp, {"a": ember.layers.Dense(2)(h), "b": ember.layers.Dense(1)(h)})
    server = Server(create_app(model))
    try:
        data = x(6, seed=11, shape=(3,))
        buf = io.BytesIO()
        np.save(buf, data)
        r = httpx.post(server.url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY})
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-npz"
        got, want = np.load(io.BytesIO(r.content)), model.predict(data, verbose=0)
        assert sorted(got.files) == ["a", "b"]
        for k in ("a", "b"):
            np.testing.assert_array_equal(got[k], want[k])
        out = httpx.post(server.url + "/predict", json={"inputs": data.tolist()}).json()["outputs"]
        np.testing.assert_allclose(np.asarray(out["b"], np.float32), want["b"], rtol=1e-6, atol=1e-7)
    finally:
        server.stop()


def test_health_answers_while_a_long_predict_runs():
    """predict runs off the event loop (in a thread pool, with the GIL released): while one is
    in flight the server keeps answering. The predict below, after computing, waits until
    /health has answered (30 s at most), so it can only finish first if the server was blocked."""
    model = ember.Sequential([ember.Input(shape=(512,)), ember.layers.Dense(1024, activation="relu"),
                              ember.layers.Dense(1024, activation="relu"), ember.layers.Dense(10)])
    server = Server(create_app(model, batch_size=8192, max_batch_size=8192))
    answered, real = threading.Event(), model.predict

    def held_predict(*args, **kwargs):
        out = real(*args, **kwargs)
        answered.wait(30)
        return out

    model.predict = held_predict
    try:
        buf = io.BytesIO()
        np.save(buf, np.random.default_rng(0).random((8192, 512), dtype=np.float32))
        finished = {}

        def long_predict():
            r = httpx.post(server.url + "/predict", content=buf.getvalue(), headers={"Content-Type": NPY},
                           timeout=120)
            finished["predict"] = (time.time(), r.status_code)

        t = threading.Thread(target=long_predict)
        t.start()
        time.sleep(0.3)
        r = httpx.get(server.url + "/health", timeout=30)
        finished["health"] = time.time()
        answered.set()
        t.join(120)
        assert r.status_code == 200 and finished["predict"][1] == 200
        assert finished["health"] < finished["predict"][0], finished
    finally:
        server.stop()


def test_create_app_refuses_a_subclassed_model():
    class Sub(ember.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="subclassed"):
        create_app(Sub())


def test_cli_serves_a_saved_model(tmp_path):
    """``ember serve m.keras`` in a subprocess (needs ember.saving)."""
    ember.utils.set_random_seed(7)
    model = _mlp()
    path = str(tmp_path / "m.keras")
    model.save(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(os.path.dirname(ember.__file__), ".."),
                                                       os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "ember.cli", "serve", path, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.time() < deadline, "ember serve did not start"
            time.sleep(0.1)
        data = x(4, seed=9)
        r = httpx.post(url + "/predict", json={"inputs": data.tolist()})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.asarray(r.json()["outputs"], np.float32), model.predict(data, verbose=0),
                                   rtol=1e-6, atol=1e-7)
        assert json.loads(httpx.get(url + "/metadata").text)["name"] == "mlp"
    finally:
        proc.terminate()
        proc.wait(10)
