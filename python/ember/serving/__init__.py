"""Serving a model over HTTP: ``create_app(model)`` builds an ASGI app (Starlette) with
``POST /predict``, ``GET /health`` and ``GET /metadata``; ``serve(model, host, port)`` runs
it with uvicorn (``pip install ember[serve]``). The command line is ``ember serve m.keras``."""
from ember.serving.app import create_app, serve

__all__ = ["create_app", "serve"]
