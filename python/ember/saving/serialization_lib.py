"""Keras 3's object serialization: ``serialize_keras_object`` turns layers, losses,
metrics, optimizers, schedules, initializers, regularizers, constraints and models into
JSON-compatible dicts ``{"module", "class_name", "config", "registered_name",
"build_config", "compile_config"}``; ``deserialize_keras_object`` turns them back.

Loading never runs code from the config: classes are looked up among ember's built-in
objects and the registered or passed custom objects, and Python lambdas (stored as
marshalled bytecode, as Keras does) are refused unless ``safe_mode=False``.
"""
import codecs
import inspect
import marshal
import threading
import types

import numpy as np

from ember.saving import object_registration

_SAFE = threading.local()
_UNSAFE_GLOBALLY = [False]


class SafeModeScope:
    """``with SafeModeScope(False):`` allows lambdas to be deserialized in the block."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._previous = getattr(_SAFE, "value", None)
        _SAFE.value = self.safe_mode
        return self

    def __exit__(self, *args):
        _SAFE.value = self._previous


def in_safe_mode():
    if _UNSAFE_GLOBALLY[0]:
        return False
    value = getattr(_SAFE, "value", None)
    return True if value is None else bool(value)


def enable_unsafe_deserialization():
    """Allows lambdas everywhere (``keras.config.enable_unsafe_deserialization``)."""
    _UNSAFE_GLOBALLY[0] = True


class CouldNotLocateError(TypeError, ValueError):
    """A config names a class or function that is neither built in nor registered."""


# ---------------------------------------------------------------------------- lookup
def _categories():
    from ember import (
        activations,
        constraints,
        initializers,
        layers,
        losses,
        metrics,
        models,
        optimizers,
        regularizers,
    )
    from ember.optimizers import schedules

    def classes(mod):
        return {k: v for k, v in vars(mod).items() if inspect.isclass(v) and not k.startswith("_")}

    model_objects = {"Model": models.Model, "Functional": models.Model, "Sequential": models.Sequential}
    return [
        ("schedules", classes(schedules), "keras.optimizers.schedules"),
        ("optimizers", classes(optimizers), "keras.optimizers"),
        ("losses", {**classes(losses), **losses.ALL_OBJECTS_DICT}, "keras.losses"),
        ("metrics", {**classes(metrics), **metrics.ALL_OBJECTS_DICT, **metrics._FUNCTIONS_DICT}, "keras.metrics"),
        ("initializers", classes(initializers), "keras.initializers"),
        ("regularizers", classes(regularizers), "keras.regularizers"),
        ("constraints", classes(constraints), "keras.constraints"),
        ("activations", dict(activations.ALL_OBJECTS_DICT), "keras.activations"),
        ("models", model_objects, "keras"),
        ("layers", classes(layers), "keras.layers"),
    ]


_TABLES = []


def _tables():
    if not _TABLES:
        _TABLES.extend(_categories())
    return _TABLES


def builtin_object(module, name):
    """The ember object Keras's ``module`` and ``name`` stand for, else None."""
    module = module or ""
    for key, table, _ in _tables():
        if key in module and name in table:
            return table[name]
    if module in ("keras", "") or module.startswith("keras.src.models"):
        for key in ("models", "layers"):
            table = dict((k, t) for k, t, _ in _tables())[key]
            if name in table:
                return table[name]
    if not module:
        for _, table, _ in _tables():
            if name in table:
                return table[name]
    return None


def _keras_module(obj):
    """The Keras module name a built-in ember class is saved under (as Keras writes it)."""
    cls = obj if inspect.isclass(obj) else type(obj)
    mod = cls.__module__
    if not mod.startswith("ember."):
        return mod
    from ember.models import Model, Sequential

    if cls is Sequential:
        return "keras"
    if cls is Model:
        return "keras.src.models.functional" if getattr(obj, "_graph", None) is not None else "keras"
    for key, table, keras_mod in _tables():
        if (key in mod or key == "layers" and mod.startswith("ember.layers")) and table.get(cls.__name__) is cls:
            return keras_mod
    return mod.replace("ember", "keras", 1)


def _is_builtin(cls):
    return cls.__module__.startswith("ember.")


# ---------------------------------------------------------------------------- serialize
def serialize_keras_object(obj):
    """A JSON-compatible description of ``obj`` (Keras 3's format)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.ndarray) or type(obj).__name__ in ("Tensor", "Variable") and hasattr(obj, "numpy"):
        arr = np.asarray(obj.numpy() if hasattr(obj, "numpy") else obj)
        return {"class_name": "__numpy__", "config": {"value": arr.tolist(), "dtype": str(arr.dtype)}}
    if isinstance(obj, tuple):
        return {"class_name": "__tuple__", "config": {"value": [serialize_keras_object(x) for x in obj]}}
    if isinstance(obj, list):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        return {"class_name": "__lambda__", "config": {"value": _func_dump(obj)}}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        builtin = obj.__module__ and obj.__module__.startswith("ember.")
        registered = object_registration._GLOBAL_CUSTOM_NAMES.get(obj)
        return {
            "module": _keras_module(obj) if builtin else obj.__module__,
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": registered or obj.__name__,
        }
    if inspect.isclass(obj):
        return {"module": obj.__module__, "class_name": "__type__", "config": obj.__name__,
                "registered_name": object_registration.get_registered_name(obj)}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method")
    return _serialize_with_config(obj)


def _serialize_with_config(obj):
    from ember.layers.layer import Layer
    from ember.models import Model

    cls = type(obj)
    config = obj.get_config()
    out = {
        "module": _keras_module(obj),
        "class_name": "Functional" if cls is Model and getattr(obj, "_graph", None) is not None else cls.__name__,
        "config": _to_json(config),
        "registered_name": None if _is_builtin(cls) else object_registration.get_registered_name(cls),
    }
    if out["class_name"] == "Functional":
        out["registered_name"] = "Functional"
    if isinstance(obj, Layer):
        build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else _build_config(obj)
        if build_config is not None:
            out["build_config"] = build_config
    if isinstance(obj, Model):
        out["compile_config"] = obj.get_compile_config() or {}
    return out


def _build_config(layer):
    shape = getattr(layer, "_build_input_shape", None)
    if shape is None or not layer.built:
        return None
    return {"input_shape": _shape_json(shape)}


def _shape_json(shape):
    if isinstance(shape, dict):
        return {k: _shape_json(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_shape_json(s) for s in shape]
    return None if shape is None else [None if d is None else int(d) for d in shape]


def _to_json(value):
    """Configs may hold tuples, numpy scalars and nested objects: make them JSON values
    (tuples become lists, as Keras's own configs do)."""
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.dtype):
        return str(value)
    return serialize_keras_object(value)


def _func_dump(func):
    code = codecs.encode(marshal.dumps(func.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return [code, func.__defaults__, closure]


def _func_load(value):
    code, defaults, closure = (list(value) + [None, None])[:3]
    raw = codecs.decode(code.encode("ascii"), "base64")
    fn_code = marshal.loads(raw)
    cells = tuple(types.CellType(c) for c in closure) if closure else None
    return types.FunctionType(fn_code, globals(), fn_code.co_name, tuple(defaults) if defaults else None, cells)


# ---------------------------------------------------------------------------- deserialize
_LAMBDA_MSG = (
    "Requested the deserialization of a Python lambda. This carries a potential risk of arbitrary code "
    "execution and thus it is disallowed by default. If you trust the source of the artifact, you can "
    "override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()`."
)

# Keys Keras 3 writes that ember's constructors do not take, with the value meaning
# "feature not used"; they are dropped when they hold that value.
_KERAS_ONLY_NEUTRAL = {
    "quantization_config": None, "sparse": False, "ragged": False, "optional": False, "input_axes": None,
    "output_axes": None, "lora_rank": None, "lora_alpha": None, "dora_rank": None, "dora_alpha": None,
    "autocast": True, "synchronized": False, "shared_object_id": None, "renorm": False, "renorm_clipping": None,
    "renorm_momentum": 0.99, "antialias": False, "activity_regularizer": None, "use_gate": False,
    "sliding_window": None,
}


def _locate_error(kind, name, config):
    return CouldNotLocateError(
        f"Could not locate {kind} '{name}'. Make sure custom classes and functions are decorated with "
        "`@keras.saving.register_keras_serializable()`. If they are already decorated, make sure they are all "
        f"imported so that the decorator is run before trying to load them. Full object config: {config}"
    )


def _custom(name, registered_name, custom_objects):
    for key in (registered_name, name):
        if key:
            obj = object_registration.get_registered_object(key, custom_objects)
            if obj is not None:
                return obj
    return None


def retrieve_object(config, custom_objects=None, kind="class"):
    """The class or function a ``{"module", "class_name"/"config", "registered_name"}`` dict names."""
    name = config["config"] if kind == "function" else config["class_name"]
    registered_name = config.get("registered_name")
    obj = _custom(name, registered_name, custom_objects)
    if obj is not None:
        return obj
    module = config.get("module")
    if module is None or str(module).startswith(("keras", "ember")) or kind == "function":
        obj = builtin_object(module if module and str(module).startswith("keras") else None, name)
        if obj is not None:
            return obj
        if module and str(module).startswith("keras") and kind == "class":
            raise CouldNotLocateError(
                f"Could not locate class '{name}': it is a Keras built-in ({module}) that ember does not implement "
                f"yet. Full object config: {config}"
            )
    raise _locate_error(kind, name, config)


def normalize_dtype(dtype):
    """A Keras ``DTypePolicy`` config (or a dtype name) as a dtype name."""
    if isinstance(dtype, dict):
        inner = dtype.get("config") or {}
        name = inner.get("name") if isinstance(inner, dict) else None
        return name or "float32"
    return dtype


def clean_config(cls, config):
    """``config`` without the Keras-only keys ``cls`` does not accept (when unused) and with
    a DTypePolicy as a dtype name."""
    config = {k: v for k, v in config.items() if k != "shared_object_id"}
    if "dtype" in config:
        config["dtype"] = normalize_dtype(config["dtype"])
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return config
    for key, neutral in _KERAS_ONLY_NEUTRAL.items():
        if key in config and key not in params and config[key] == neutral:
            del config[key]
    return config


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a ``serialize_keras_object`` dict describes. Plain values are returned
    as they are; dicts without "class_name" are deserialized value by value."""
    safe_mode = safe_mode and in_safe_mode()
    custom_objects = dict(custom_objects or {})
    if config is None or isinstance(config, (bool, int, float, str)):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode) for k, v in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects, safe_mode) for v in inner["value"])
    if class_name == "__numpy__":
        return np.asarray(inner["value"], dtype=inner.get("dtype"))
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__lambda__":
        if safe_mode:
            raise ValueError(_LAMBDA_MSG)
        return _func_load(inner["value"])
    if class_name == "__keras_tensor__":
        raise ValueError(f"A symbolic tensor cannot be deserialized outside a functional model config: {config}")
    if class_name == "function":
        return retrieve_object(config, custom_objects, kind="function")
    if class_name == "__type__":
        return retrieve_object({**config, "class_name": inner}, custom_objects)
    cls = retrieve_object(config, custom_objects)
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Unable to reconstruct an instance of '{class_name}': it has no from_config()")
    with object_registration.CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
        if isinstance(inner, dict):
            inner = clean_config(cls, dict(inner))
            if not _is_model_class(cls):
                inner = {k: _nested(v, custom_objects, safe_mode) for k, v in inner.items()}
        obj = _from_config(cls, inner, custom_objects)
        build_config = config.get("build_config")
        if build_config and not getattr(obj, "built", True):
            build_from_config(obj, build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(obj, "compile_from_config"):
            obj.compile_from_config(compile_config)
    return obj


def _is_model_class(cls):
    from ember.models import Model

    return inspect.isclass(cls) and issubclass(cls, Model)


def _nested(value, custom_objects, safe_mode):
    """Serialized objects inside a config become objects (the constructors take them)."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        if value["class_name"] in ("__keras_tensor__", "__tuple__"):
            return value
        return deserialize_keras_object(value, custom_objects, safe_mode)
    return value


def _from_config(cls, inner, custom_objects):
    params = inspect.signature(cls.from_config).parameters
    try:
        if "custom_objects" in params:
            return cls.from_config(inner, custom_objects=custom_objects)
        return cls.from_config(inner)
    except (TypeError, ValueError) as e:
        if getattr(e, "_ember_wrapped", False) or isinstance(e, CouldNotLocateError) or "Could not locate" in str(e):
            raise
        err = type(e)(
            f"{cls.__name__}.from_config could not rebuild the object from its config: {e}. Config: {inner}"
        )
        err._ember_wrapped = True
        raise err from e


def build_from_config(layer, build_config):
    """Builds ``layer`` from ``{"input_shape": ...}`` (Keras's build_config)."""
    if hasattr(layer, "build_from_config"):
        layer.build_from_config(build_config)
        return
    shape = build_config.get("input_shape")
    if shape is None:
        return
    shape = _shape_tuple(shape)
    layer.build(shape)
    layer.built = True
    layer._build_input_shape = shape


def _shape_tuple(shape):
    if isinstance(shape, dict):
        return {k: _shape_tuple(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_shape_tuple(s) for s in shape]
    return tuple(shape)
