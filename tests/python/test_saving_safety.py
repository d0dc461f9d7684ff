"""Loading is safe: malformed, truncated or hostile archives raise ValueError naming the
file and the entry; no code from the file runs; writes are atomic (a process killed in
the middle of a save leaves the previous file loadable)."""
import io
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

import ember
from ember import layers as L
from ember.saving import saving_lib

EMBER_PATH = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))


def _model():
    m = ember.Sequential([ember.Input((4,)), L.Dense(3), L.Dense(2)])
    m.compile("adam", "mse")
    return m


@pytest.fixture
def saved(tmp_path):
    m = _model()
    path = str(tmp_path / "good.keras")
    m.save(path)
    return m, path


def _rewrite(src, dst, config=None, weights=None, drop=(), extra=None):
    """A copy of the archive ``src`` with entries replaced or dropped; ``weights`` edits
    the h5 file in place."""
    with zipfile.ZipFile(src) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    if config is not None:
        entries["config.json"] = config
    if weights is not None:
        buf = io.BytesIO(entries["model.weights.h5"])
        with h5py.File(buf, "a") as f:
            weights(f)
        entries["model.weights.h5"] = buf.getvalue()
    for n in drop:
        entries.pop(n)
    entries.update(extra or {})
    with zipfile.ZipFile(dst, "w") as zf:
        for n, data in entries.items():
            zf.writestr(n, data)
    return dst


def _load_error(path, match):
    with pytest.raises(ValueError, match=match) as e:
        ember.saving.load_model(path)
    assert os.path.basename(path) in str(e.value)
    return str(e.value)


def test_not_a_zip(tmp_path):
    p = tmp_path / "junk.keras"
    p.write_bytes(b"this is not a zip file" * 10)
    _load_error(str(p), "not a valid `.keras` zip archive")


def test_missing_file(tmp_path):
    _load_error(str(tmp_path / "nothere.keras"), "File not found")


def test_truncated(saved, tmp_path):
    _, path = saved
    data = open(path, "rb").read()
    for cut in (len(data) // 2, len(data) - 30, 100):
        p = tmp_path / f"cut{cut}.keras"
        p.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut"):
            ember.saving.load_model(str(p))


def test_missing_config(saved, tmp_path):
    _, path = saved
    p = _rewrite(path, str(tmp_path / "noconfig.keras"), drop=["config.json"])
    _load_error(p, "no entry 'config.json'")


def test_missing_weights_entry(saved, tmp_path):
    _, path = saved
    p = _rewrite(path, str(tmp_path / "noweights.keras"), drop=["model.weights.h5"])
    _load_error(p, "model.weights.h5")


def test_bad_json(saved, tmp_path):
    _, path = saved
    p = _rewrite(path, str(tmp_path / "badjson.keras"), config=b"{not json")
    _load_error(p, "'config.json' is not valid JSON")


def test_weights_not_hdf5(saved, tmp_path):
    _, path = saved
    p = _rewrite(path, str(tmp_path / "noth5.keras"), extra={"model.weights.h5": b"\x00" * 1000})
    _load_error(p, "'model.weights.h5' is not a valid HDF5 file")


def test_zip_bomb_ratio(saved, tmp_path):
    _, path = saved
    p = str(tmp_path / "bomb.keras")
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", entries["metadata.json"])
        zf.writestr("config.json", entries["config.json"])
        zf.writestr("model.weights.h5", b"\x00" * (20 << 20))
    _load_error(p, "'model.weights.h5' declares 20971520 bytes .* zip bomb")


def test_declared_size_over_limit(saved, tmp_path, monkeypatch):
    _, path = saved
    monkeypatch.setattr(saving_lib, "MAX_WEIGHTS_BYTES", 1000)
    _load_error(path, "'model.weights.h5' declares .* over the limit of 1000")


def test_forged_declared_size(saved, tmp_path):
    """The central directory claims a 4 GB entry: refused before reading anything."""
    _, path = saved
    data = bytearray(open(path, "rb").read())
    name = b"model.weights.h5"
    pos = data.find(b"PK\x01\x02" + b"")
    while pos >= 0:
        n = int.from_bytes(data[pos + 28:pos + 30], "little")
        if bytes(data[pos + 46:pos + 46 + n]) == name:
            data[pos + 24:pos + 28] = (0xFFFFFFF0).to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 4)
    p = tmp_path / "forged.keras"
    p.write_bytes(bytes(data))
    _load_error(str(p), "model.weights.h5")


def test_huge_declared_weight_shape(saved, tmp_path):
    _, path = saved

    def edit(f):
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(10**7, 10**7), dtype="f4")  # never allocated

    p = _rewrite(path, str(tmp_path / "huge.keras"), weights=edit)
    _load_error(p, r"'layers/dense/vars/0'.*shape \(4, 3\).*\(10000000, 10000000\)")


def test_wrong_dtype(saved, tmp_path):
    _, path = saved

    def edit(f):
        del f["layers/dense/vars/1"]
        f.create_dataset("layers/dense/vars/1", data=np.array([b"a", b"b", b"c"]))

    p = _rewrite(path, str(tmp_path / "dtype.keras"), weights=edit)
    _load_error(p, "'layers/dense/vars/1'.*must be numeric")


def test_wrong_shape(saved, tmp_path):
    _, path = saved

    def edit(f):
        del f["layers/dense_1/vars/0"]
        f.create_dataset("layers/dense_1/vars/0", data=np.zeros((3, 5), "f4"))

    p = _rewrite(path, str(tmp_path / "shape.keras"), weights=edit)
    _load_error(p, r"'layers/dense_1/vars/0'.*shape \(3, 2\)")


def test_missing_weight(saved, tmp_path):
    _, path = saved
    p = _rewrite(path, str(tmp_path / "missing.keras"), weights=lambda f: f.__delitem__("layers/dense/vars/1"))
    _load_error(p, "'layers/dense/vars'.*expected 2 variables, but received 1")
    p = _rewrite(path, str(tmp_path / "missing2.keras"), weights=lambda f: f.__delitem__("layers/dense_1"))
    _load_error(p, "'layers/dense_1/vars'.*missing")


def test_extra_weights(saved, tmp_path):
    _, path = saved
    p = _rewrite(path, str(tmp_path / "extra.keras"),
                 weights=lambda f: f.create_dataset("layers/dense/vars/2", data=np.zeros(3, "f4")))
    _load_error(p, "expected 2 variables, but received 3")
    p = _rewrite(path, str(tmp_path / "extra2.keras"),
                 weights=lambda f: f.create_dataset("layers/mystery/vars/0", data=np.zeros(3, "f4")))
    _load_error(p, "'layers/mystery/vars/0'.*unexpected weight")


def test_weights_file_errors(tmp_path):
    m = _model()
    p = tmp_path / "w.weights.h5"
    m.save_weights(p)
    with h5py.File(p, "a") as f:
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", data=np.zeros((4, 4), "f4"))
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*'layers/dense/vars/0'"):
        m.load_weights(p)
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"garbage" * 100)
    with pytest.raises(ValueError, match="bad.weights.h5"):
        m.load_weights(bad)


def test_no_code_runs_from_config(saved, tmp_path):
    """A config naming an arbitrary Python callable is refused, not imported or called."""
    _, path = saved
    evil = (b'{"module": "os", "class_name": "system", "config": {"command": "touch pwned"}, '
            b'"registered_name": null}')
    p = _rewrite(path, str(tmp_path / "evil.keras"), config=evil)
    with pytest.raises(TypeError, match="Could not locate class 'system'"):
        ember.saving.load_model(p)
    evil_fn = (b'{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": ['
               b'{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4]}, '
               b'"registered_name": null}, {"module": "keras.layers", "class_name": "Activation", "config": '
               b'{"activation": {"module": "os", "class_name": "function", "config": "system", '
               b'"registered_name": null}}, "registered_name": null}]}, "registered_name": null}')
    p = _rewrite(path, str(tmp_path / "evil2.keras"), config=evil_fn)
    with pytest.raises(TypeError, match="Could not locate function 'system'"):
        ember.saving.load_model(p)
    assert not os.path.exists("pwned")


CHILD = textwrap.dedent("""
    import os, signal, sys, zipfile
    import numpy as np
    import ember
    path, mode = sys.argv[1], sys.argv[2]
    m = ember.Sequential([ember.Input((4,)), ember.layers.Dense(64), ember.layers.Dense(2)])
    m.set_weights([np.full(w.shape, 7.0, "float32") for w in m.get_weights()])
    if mode == "keras":
        real = zipfile.ZipFile.writestr
        def killing_writestr(self, name, data, *a, **k):
            if name == "model.weights.h5":
                real(self, name, data[: len(data) // 2], *a, **k)
                self.fp.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, name, data, *a, **k)
        zipfile.ZipFile.writestr = killing_writestr
        m.save(path)
    else:
        import h5py
        real = h5py.Group.create_dataset
        count = [0]
        def killing_create(self, *a, **k):
            count[0] += 1
            if count[0] == 3:
                self.file.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, *a, **k)
        h5py.Group.create_dataset = killing_create
        m.save_weights(path)
""")


@pytest.mark.parametrize("mode", ["keras", "weights"])
def test_kill_during_save_keeps_previous_file(tmp_path, mode):
    m = ember.Sequential([ember.Input((4,)), L.Dense(64), L.Dense(2)])
    path = str(tmp_path / ("m.keras" if mode == "keras" else "m.weights.h5"))
    (m.save if mode == "keras" else m.save_weights)(path)
    before = open(path, "rb").read()
    env = dict(os.environ, PYTHONPATH=EMBER_PATH)  # the child imports the ember under test
    proc = subprocess.run([sys.executable, "-c", CHILD, path, mode], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert open(path, "rb").read() == before
    if mode == "keras":
        loaded = ember.saving.load_model(path)
    else:
        loaded = ember.Sequential([ember.Input((4,)), L.Dense(64), L.Dense(2)])
        loaded.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), loaded.get_weights()))
    assert not any(np.all(w == 7.0) for w in loaded.get_weights())
