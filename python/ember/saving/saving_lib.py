"""The ``.keras`` archive and ``.weights.h5`` files, in Keras 3's layout.

A ``.keras`` file is a zip of ``metadata.json`` (Keras version, date), ``config.json``
(``serialize_keras_object(model)``) and ``model.weights.h5``. In the h5 file each object
that owns variables has a group ``<path>/vars`` holding datasets ``"0"``, ``"1"``, ... (its
variables, trainable first) and a ``name`` attribute; paths follow Keras's walk: the root
model is ``vars``; the layers of a functional or sequential model are
``layers/<snake_case class name>`` (``dense``, ``dense_1``, ... in layer order), nested
models recurse (``layers/sequential/layers/dense``), the layers a subclassed model holds
in attributes are found under their attribute names in Keras's order (public names
sorted, then private ones; lists become ``<attr>/<snake_case class name>``), and the
optimizer is ``optimizer/vars``.

Reading is defensive: entries are size-checked before they are read, datasets must have
the shape and a numeric dtype of the variable they load into, and missing or extra
weights are errors naming the file and the entry. Writes are atomic (temp file in the
same directory, fsync, ``os.replace``).
"""
import datetime
import io
import json
import os
import re
import tempfile
import warnings
import zipfile

import numpy as np

from ember.saving import serialization_lib as S

KERAS_VERSION = "3.15.0"
CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME = "model.weights.h5"

# Limits on what a file may declare before anything is read.
MAX_JSON_BYTES = 64 << 20
MAX_WEIGHTS_BYTES = 16 << 30
MAX_COMPRESSION_RATIO = 200


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("Saving and loading weights needs h5py: pip install h5py") from e
    return h5py


# ---------------------------------------------------------------------------- atomic writes
def atomic_write(filepath, write):
    """Calls ``write(tmp_path)`` then moves the finished file over ``filepath``; a crash
    before the move leaves any previous file untouched."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(filepath) + ".", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dir_fd)


# ---------------------------------------------------------------------------- the walk
def to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _saved_class_name(obj):
    from ember.models import Model

    if type(obj) is Model and getattr(obj, "_graph", None) is not None:
        return "Functional"
    return type(obj).__name__


def _name_key(name):
    return "~" + name if name.startswith("_") else name


_SKIP = []


def _skipset():
    if not _SKIP:
        from ember.layers.layer import Layer
        from ember.models import Model, Sequential

        names = set(vars(Layer(name="__skip")))
        names |= set(vars(Model(name="__skip_model")))
        names |= set(vars(Sequential(name="__skip_seq")))
        names |= {"_L", "_M", "_graph", "_stack", "_input_layer"}
        _SKIP.append(names)
    return _SKIP[0]


def _runs_graph(obj):
    runs = getattr(obj, "_runs_its_graph", None)
    return runs is not None and runs()


def _children(obj):
    """(attribute, child) pairs in Keras's order: child layers and lists/dicts of layers
    (a layer whose Keras twin holds sub-layers ember does not define ``_saveable_children()``
    returning those pairs)."""
    from ember.layers.layer import Layer

    if _runs_graph(obj):
        yield "layers", list(obj.layers)
        return
    if hasattr(obj, "_saveable_children"):  # a layer that lays out its sub-layers itself
        yield from obj._saveable_children()
        return
    for attr in sorted(vars(obj), key=_name_key):
        if attr.startswith("__") or attr in _skipset():
            continue
        value = getattr(obj, attr)
        if isinstance(value, Layer):
            yield attr, value
        elif isinstance(value, dict) and value and all(isinstance(v, Layer) for v in value.values()):
            yield attr, list(value.values())
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value):
            yield attr, list(value)


class SavedWeights:
    """What a Keras sub-layer saves (an RNN's cell, an attention projection), for a layer
    that keeps those weights itself: returned by the layer's ``_saveable_children()``."""

    def __init__(self, name, variables):
        self.name = name
        self._variables = [v for v in variables if v is not None]

    def _saved_variables(self):
        return self._variables


def own_variables(layer):
    """The variables a layer saves itself: its own trainable then non-trainable ones (a
    layer whose Keras twin orders them otherwise defines ``_saved_variables()``)."""
    if hasattr(layer, "_saved_variables"):
        return list(layer._saved_variables())
    return list(layer._trainable_variables) + list(layer._non_trainable_variables)


def walk(model):
    """Every (path, layer) whose variables are saved, each layer once, in Keras's order."""
    seen = set()
    out = []

    def visit(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        out.append((path, obj))
        for attr, child in _children(obj):
            child_path = f"{path}/{attr}" if path else attr
            if isinstance(child, list):
                used = {}
                for item in child:
                    name = to_snake_case(_saved_class_name(item))
                    if name in used:
                        used[name] += 1
                        name = f"{name}_{used[name]}"
                    else:
                        used[name] = 0
                    visit(item, f"{child_path}/{name}")
            else:
                visit(child, child_path)

    visit(model, "")
    return out


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


# ---------------------------------------------------------------------------- optimizer order
# Keras 3 creates the first two slot kinds of these optimizers in one
# ``add_optimizer_variables`` call, which interleaves them per variable
# (kernel_momentum, kernel_velocity, bias_momentum, ...); ember may keep each kind in a block.
_INTERLEAVED = {"Adam": 2, "AdamW": 2, "Nadam": 2, "Adamax": 2, "Ftrl": 2, "Adadelta": 2, "Lamb": 2}


def _slot_layout(optimizer, count):
    """(number of leading scalars, number of model variables, kinds to interleave): the
    last is 0 when ember's order already is Keras's."""
    names = [n for n, _ in optimizer._native.variables()]
    lead = 2 if len(names) > 1 and names[1] == "learning_rate" else 1
    built = [v.name for v in optimizer._native.built_variables()]
    n = len(built)
    kinds = _INTERLEAVED.get(type(optimizer).__name__, 0)
    if not kinds or n < 2 or count - lead < kinds * n or len(names) != count:
        return lead, n, 0
    first = names[lead]
    kind = first[len(built[0]) + 1:] if first.startswith(built[0] + "_") else None
    block_major = kind is not None and names[lead + 1] == f"{built[1]}_{kind}"
    return lead, n, kinds if block_major else 0


def optimizer_values_for_keras(optimizer, values):
    lead, n, kinds = _slot_layout(optimizer, len(values))
    if not kinds:
        return values
    block = values[lead:lead + kinds * n]
    inter = [block[k * n + i] for i in range(n) for k in range(kinds)]
    return values[:lead] + inter + values[lead + kinds * n:]


def optimizer_values_from_keras(optimizer, values):
    lead, n, kinds = _slot_layout(optimizer, len(values))
    if not kinds:
        return values
    inter = values[lead:lead + kinds * n]
    block = [inter[i * kinds + k] for k in range(kinds) for i in range(n)]
    return values[:lead] + block + values[lead + kinds * n:]


# ---------------------------------------------------------------------------- weights
def save_weights_to_h5(model, h5file):
    """Writes every variable of ``model`` (and its optimizer's state) into an open h5 file."""
    for path, layer in walk(model):
        group = h5file.create_group(_vars_path(path))
        group.attrs["name"] = layer.name
        for i, v in enumerate(own_variables(layer)):
            group.create_dataset(str(i), data=np.asarray(v.numpy()))
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "_native", None) is not None:
        group = h5file.create_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        if optimizer.built:
            values = [t.numpy() for _, t in optimizer._native.variables()]
            for i, value in enumerate(optimizer_values_for_keras(optimizer, values)):
                group.create_dataset(str(i), data=np.asarray(value))


class _Reader:
    """Reads datasets from an h5 file with checks, remembering which ones were used."""

    def __init__(self, h5file, filename):
        self.f = h5file
        self.filename = filename
        self.used = set()

    def error(self, entry, message):
        return ValueError(f"{self.filename}: entry '{entry}': {message}")

    def group(self, path):
        h5py = _h5py()
        if path not in self.f:
            return None
        group = self.f[path]
        if not isinstance(group, h5py.Group):
            raise self.error(path, "expected a group of variables, found a dataset")
        return group

    def datasets(self, path):
        """The datasets "0".."n-1" of a vars group, in order (checking the names)."""
        h5py = _h5py()
        group = self.group(path)
        if group is None:
            return None
        keys = list(group.keys())
        for k in keys:
            if not isinstance(group[k], h5py.Dataset):
                raise self.error(f"{path}/{k}", "expected a dataset, found a group")
        if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
            raise self.error(path, f"variables must be named 0..{len(keys) - 1}, found {sorted(keys)}")
        return [group[str(i)] for i in range(len(keys))]

    def read(self, dataset, shape, dtype, what):
        entry = dataset.name.lstrip("/")
        self.used.add(entry)
        if tuple(dataset.shape) != tuple(shape):
            raise self.error(entry, f"{what} has shape {tuple(shape)} but the file holds shape {dataset.shape}")
        if dataset.dtype.kind not in "fiub":
            raise self.error(entry, f"{what} must be numeric; the file holds dtype {dataset.dtype}")
        nbytes = int(np.prod(shape, dtype=np.int64)) * dataset.dtype.itemsize
        if nbytes > MAX_WEIGHTS_BYTES:
            raise self.error(entry, f"{what} declares {nbytes} bytes, over the limit of {MAX_WEIGHTS_BYTES}")
        value = dataset[()]
        value = np.asarray(value)
        if np.dtype(dtype).kind == "f" and value.dtype.kind not in "fiu":
            raise self.error(entry, f"{what} is {dtype}; the file holds dtype {value.dtype}")
        return value.astype(dtype, copy=False)

    def all_datasets(self):
        h5py = _h5py()
        out = []
        self.f.visititems(lambda name, obj: out.append(name) if isinstance(obj, h5py.Dataset) else None)
        return out


def load_weights_from_h5(model, h5file, filename, load_optimizer=True, skip_mismatch=False):
    """Loads every variable of ``model`` from an open h5 file written as Keras 3 does.
    Nothing is assigned unless the whole file checks out; with ``skip_mismatch`` a layer
    whose weights do not match is skipped with a warning instead."""
    reader = _Reader(h5file, filename)
    assignments = []
    for path, layer in walk(model):
        try:
            assignments += _layer_assignments(reader, path, layer)
        except ValueError as e:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping loading weights for layer '{layer.name}': {e}", stacklevel=3)
    optimizer_values = None
    optimizer = getattr(model, "optimizer", None)
    opt_datasets = reader.datasets("optimizer/vars")
    if opt_datasets is not None:
        for ds in opt_datasets:
            reader.used.add(ds.name.lstrip("/"))
    extra = [d for d in reader.all_datasets() if d not in reader.used]
    if extra and not skip_mismatch:
        raise reader.error(extra[0], f"unexpected weight(s) that no variable of the model takes: {extra}")
    for v, value in assignments:
        v.assign(value)
    if load_optimizer and opt_datasets and optimizer is not None and getattr(optimizer, "_native", None):
        optimizer_values = _read_optimizer(reader, optimizer, model, opt_datasets)
        if optimizer_values is not None:
            optimizer._native.set_variables(optimizer_values)


def _layer_assignments(reader, path, layer):
    variables = own_variables(layer)
    vpath = _vars_path(path)
    datasets = reader.datasets(vpath)
    if datasets is None:
        if variables:
            raise reader.error(vpath, f"missing: layer '{layer.name}' ({type(layer).__name__}) has "
                                      f"{len(variables)} variable(s) but the file has no such group")
        return []
    if len(datasets) != len(variables):
        raise reader.error(
            vpath,
            f"Layer '{layer.name}' expected {len(variables)} variables, but received {len(datasets)} "
            f"variables during loading. Expected: {[v.name for v in variables]}",
        )
    out = []
    for v, ds in zip(variables, datasets):
        what = f"variable '{v.name}' of layer '{layer.name}'"
        out.append((v, reader.read(ds, tuple(v.shape), _np_dtype(v), what)))
    return out


def _np_dtype(v):
    return np.dtype(str(getattr(v, "dtype", "float32")))


def _read_optimizer(reader, optimizer, model, datasets):
    if not optimizer.built:
        trainable = model.trainable_weights
        if trainable:
            optimizer.build(trainable)
    current = [t.numpy() for _, t in optimizer._native.variables()]
    if len(current) != len(datasets):
        warnings.warn(
            f"Skipping variable loading for optimizer '{optimizer.name}', because it has {len(current)} "
            f"variables whereas the saved optimizer has {len(datasets)} variables.",
            stacklevel=3,
        )
        return None
    expected = optimizer_values_for_keras(optimizer, current)
    values = []
    for i, (ds, ref) in enumerate(zip(datasets, expected)):
        ref = np.asarray(ref)
        values.append(reader.read(ds, ref.shape, ref.dtype, f"optimizer variable {i}"))
    return optimizer_values_from_keras(optimizer, values)


def save_weights_only(model, filepath, attrs=None):
    """Writes a ``.weights.h5`` file atomically; ``attrs`` become attributes of its root."""
    h5py = _h5py()

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            save_weights_to_h5(model, f)
            for key, value in (attrs or {}).items():
                f.attrs[key] = value

    atomic_write(filepath, write)


def load_weights_only(model, filepath, skip_mismatch=False):
    h5py = _h5py()
    filepath = os.fspath(filepath)
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise ValueError(f"{filepath}: not a readable HDF5 weights file ({e})") from None
    with f:
        load_weights_from_h5(model, f, filepath, skip_mismatch=skip_mismatch)


# ---------------------------------------------------------------------------- the archive
def save_model(model, filepath):
    """Writes ``model`` as a ``.keras`` zip archive (atomically)."""
    h5py = _h5py()
    config = S.serialize_keras_object(model)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        save_weights_to_h5(model, f)
    weights = buf.getvalue()

    def write(tmp):
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(METADATA_FILENAME, json.dumps(metadata))
            zf.writestr(CONFIG_FILENAME, json.dumps(config))
            zf.writestr(VARS_FILENAME, weights)

    atomic_write(filepath, write)


def _read_entry(zf, filepath, name, limit):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(f"{filepath}: the archive has no entry '{name}' (entries: {zf.namelist()})") from None
    if info.file_size > limit:
        raise ValueError(f"{filepath}: entry '{name}' declares {info.file_size} bytes, over the limit of {limit}")
    if info.file_size > (1 << 20) and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ValueError(
            f"{filepath}: entry '{name}' declares {info.file_size} bytes from {info.compress_size} compressed "
            f"bytes (a ratio over {MAX_COMPRESSION_RATIO}); refusing a possible zip bomb"
        )
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise ValueError(f"{filepath}: entry '{name}' cannot be read: {e}") from None
    except Exception as e:  # zlib.error and friends
        raise ValueError(f"{filepath}: entry '{name}' cannot be read: {e}") from None
    if len(data) != info.file_size:
        raise ValueError(f"{filepath}: entry '{name}' holds {len(data)} bytes, not the {info.file_size} declared")
    return data


def _open_archive(filepath):
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` zip file."
        )
    try:
        return zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{filepath}: not a valid `.keras` zip archive ({e})") from None


def _read_json(zf, filepath, name):
    data = _read_entry(zf, filepath, name, MAX_JSON_BYTES)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{filepath}: entry '{name}' is not valid JSON: {e}") from None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model read from a ``.keras`` archive (written by ember or by Keras 3)."""
    h5py = _h5py()
    filepath = os.fspath(filepath)
    with _open_archive(filepath) as zf:
        config = _read_json(zf, filepath, CONFIG_FILENAME)
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"{filepath}: entry '{CONFIG_FILENAME}' is not a serialized model config")
        if not compile:
            config = {k: v for k, v in config.items() if k != "compile_config"}
        weights = _read_entry(zf, filepath, VARS_FILENAME, MAX_WEIGHTS_BYTES) if VARS_FILENAME in zf.namelist() \
            else None
    with S.SafeModeScope(safe_mode):
        model = S.deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    _ensure_built(model, config)
    if weights is None:
        raise ValueError(f"{filepath}: the archive has no entry '{VARS_FILENAME}'")
    try:
        f = h5py.File(io.BytesIO(weights), "r")
    except OSError as e:
        raise ValueError(f"{filepath}: entry '{VARS_FILENAME}' is not a valid HDF5 file ({e})") from None
    with f:
        load_weights_from_h5(model, f, f"{filepath}:{VARS_FILENAME}")
    return model


def _ensure_built(model, config):
    """Builds a subclassed model from its build_config by calling it on zeros."""
    if getattr(model, "_graph", None) is not None or model.weights:
        return
    shape = (config.get("build_config") or {}).get("input_shape")
    if shape is None:
        return
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        sample = [np.zeros([1 if d is None else d for d in s], np.float32) for s in shape]
    else:
        sample = np.zeros([1 if d is None else d for d in shape], np.float32)
    model(sample, training=False)
    model.built = True
