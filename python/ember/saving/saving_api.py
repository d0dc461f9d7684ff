"""The public saving functions: ``save_model``, ``load_model``, ``save_weights``,
``load_weights`` (Keras 3's ``keras.saving`` API)."""
import io
import os

from ember.saving import saving_lib


def _path(filepath):
    return os.fspath(filepath)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves ``model`` (architecture, weights, optimizer state, compile config) to a
    ``.keras`` file."""
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {sorted(kwargs)}")
    filepath = _path(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for the native Keras "
            f"format (recommended) or a `.h5` extension. Use `model.export(filepath)` if you want to export a "
            f"SavedModel for use with TFLite/TFServing/etc. Received: filepath={filepath}."
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    saving_lib.save_model(model, filepath)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with ``model.save("x.keras")`` (by ember or Keras 3).

    ``safe_mode`` (default True) refuses Python lambdas stored in the file; custom
    classes must be registered or passed in ``custom_objects``."""
    filepath = _path(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. ember supports only `.keras` files "
            "(the Keras 3 format); weights files are loaded with `model.load_weights()`."
        )
    return saving_lib.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_weights(model, filepath, overwrite=True, **kwargs):
    filepath = _path(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            f"The filename must end in `.weights.h5`. Received: filepath={filepath}"
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    saving_lib.save_weights_only(model, filepath)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    filepath = _path(filepath)
    if filepath.endswith(".keras"):
        with saving_lib._open_archive(filepath) as zf:
            data = saving_lib._read_entry(zf, filepath, saving_lib.VARS_FILENAME, saving_lib.MAX_WEIGHTS_BYTES)
        h5py = saving_lib._h5py()
        with h5py.File(io.BytesIO(data), "r") as f:
            saving_lib.load_weights_from_h5(model, f, f"{filepath}:{saving_lib.VARS_FILENAME}",
                                            skip_mismatch=skip_mismatch)
        return
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            "File format not supported: filepath="
            f"{filepath}. Keras 3 only supports V3 `.keras` and `.weights.h5` files."
        )
    if not os.path.exists(filepath):
        raise ValueError(f"File not found: filepath={filepath}")
    saving_lib.load_weights_only(model, filepath, skip_mismatch=skip_mismatch)
