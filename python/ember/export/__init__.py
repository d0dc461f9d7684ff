"""Exporting models to other runtimes: ``export_onnx(model, path)`` (also
``model.export(path, format="onnx")``; needs ``pip install ember[onnx]``)."""
from ember.export.onnx_export import export_onnx

__all__ = ["export_onnx"]
