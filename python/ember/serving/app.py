"""The ASGI app behind ``ember serve``.

``POST /predict`` takes a batch either as JSON (``{"inputs": [[...], ...]}``, or for a
model with several inputs ``{"inputs": {"name": [...], ...}}``) or as a ``.npy`` body
(``Content-Type: application/x-npy``, single-input models), and answers in the same format:
``{"outputs": ...}`` (a dict keyed by output name for several outputs) or a ``.npy`` body
(an ``.npz`` one, keyed by output name, for several outputs). Requests are checked against
the model's inputs before they reach it and refused with a 4xx answer naming the problem.
``model.predict`` runs in a thread pool and releases the GIL, so requests are served
concurrently.
"""
import io
import json

import numpy as np

NPY = "application/x-npy"
NPZ = "application/x-npz"


def _require(module):
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(f"ember serving needs '{module}': install it with `pip install ember[serve]`") from e


class RequestError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class ModelSpec:
    """What a request must match: the model's input names, shapes and dtypes, and its
    output names."""

    def __init__(self, model):
        if getattr(model, "inputs", None) is None:
            raise ValueError(
                f"create_app: model '{model.name}' has no symbolic inputs (a subclassed model); serve a "
                f"functional or Sequential model"
            )
        graph = model._graph
        self.dict_inputs = isinstance(graph.input_structure, dict)
        self.input_names = sorted(graph.input_structure) if self.dict_inputs else list(graph.input_names)
        by_name = dict(zip(graph.input_names, graph.inputs))
        if self.dict_inputs:
            by_name = dict(graph.input_structure)
        self.inputs = [(n, tuple(by_name[n].shape), str(by_name[n].dtype)) for n in self.input_names]
        self.output_names = list(model.output_names)
        self.outputs = [(n, tuple(t.shape), str(t.dtype)) for n, t in zip(self.output_names, model.outputs)]

    def metadata(self, model):
        def entry(n, s, d):
            return {"name": n, "shape": list(s), "dtype": d}

        return {
            "name": model.name,
            "inputs": [entry(*i) for i in self.inputs],
            "outputs": [entry(*o) for o in self.outputs],
        }

    def feed(self, arrays):
        """``model.predict``'s x: the array, or a dict of arrays by input name."""
        return arrays[0] if len(arrays) == 1 else dict(zip(self.input_names, arrays))

    def check(self, arrays, max_batch_size):
        """The input arrays in the model's order, cast to its dtypes, or a RequestError."""
        out, batch = [], None
        for (name, shape, dtype), a in zip(self.inputs, arrays):
            if a.dtype == object:
                raise RequestError(400, f"input '{name}': the array is ragged or holds non-numbers")
            if a.dtype.kind not in "biuf":
                raise RequestError(
                    400, f"input '{name}': wrong dtype {a.dtype.name}; expected numbers (the model takes {dtype})"
                )
            if dtype.startswith(("int", "uint")) and a.dtype.kind == "f":
                raise RequestError(400, f"input '{name}': wrong dtype {a.dtype.name}; the model takes {dtype}")
            if a.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape[1:], a.shape[1:])):
                want = "(batch, " + ", ".join("?" if d is None else str(d) for d in shape[1:]) + ")"
                raise RequestError(
                    400, f"input '{name}': wrong shape {tuple(a.shape)}; expected {want}, a batch of samples of "
                    f"shape {tuple(shape[1:])}"
                )
            if a.shape[0] == 0:
                raise RequestError(400, f"input '{name}': the batch is empty")
            if a.shape[0] > max_batch_size:
                raise RequestError(413, f"input '{name}': batch of {a.shape[0]} samples; at most {max_batch_size}")
            if batch is not None and a.shape[0] != batch:
                raise RequestError(400, f"inputs have different batch sizes ({batch} and {a.shape[0]} for '{name}')")
            batch = a.shape[0]
            try:
                out.append(np.ascontiguousarray(a.astype(dtype, casting="unsafe")))
            except TypeError as e:
                raise RequestError(400, f"input '{name}': cannot convert to {dtype}: {e}") from None
        return out

    def from_json(self, body):
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise RequestError(400, f"the body is not valid JSON: {e}") from None
        if not isinstance(doc, dict) or "inputs" not in doc:
            raise RequestError(400, 'the JSON body must be an object with the key "inputs"')
        inputs = doc["inputs"]
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise RequestError(400, f"missing input(s) {missing}; the model takes {self.input_names}")
            extra = sorted(k for k in inputs if k not in self.input_names)
            if extra:
                raise RequestError(400, f"unknown input(s) {extra}; the model takes {self.input_names}")
            values = [inputs[n] for n in self.input_names]
        elif len(self.input_names) == 1:
            values = [inputs]
        elif isinstance(inputs, list) and len(inputs) == len(self.input_names):
            values = inputs
        else:
            raise RequestError(
                400, f"missing inputs: the model takes {len(self.input_names)} inputs {self.input_names}; send "
                f'"inputs" as an object keyed by these names'
            )
        arrays = []
        for name, v in zip(self.input_names, values):
            try:
                arrays.append(np.asarray(v))
            except ValueError:
                raise RequestError(400, f"input '{name}': the array is ragged (rows of different lengths)") from None
        return arrays

    def from_npy(self, body):
        if len(self.input_names) != 1:
            raise RequestError(
                415, f"an .npy body holds one array but the model takes {len(self.input_names)} inputs "
                f"{self.input_names}; send JSON"
            )
        try:
            a = np.load(io.BytesIO(body), allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - any malformed body is the client's error
            raise RequestError(400, f"the body is not a valid .npy array: {e}") from None
        if not isinstance(a, np.ndarray):
            raise RequestError(400, "the body must be a single .npy array")
        return [a]


def create_app(model, max_body_bytes=64 * 1024 * 1024, max_batch_size=4096, batch_size=None):
    """An ASGI app (Starlette) serving ``model``: ``POST /predict``, ``GET /health``,
    ``GET /metadata``. Bodies over ``max_body_bytes`` are refused (413), as are batches of
    more than ``max_batch_size`` samples."""
    _require("starlette")
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    spec = ModelSpec(model)
    if all(d is not None for _, s, _ in spec.inputs for d in s[1:]):
        # builds the compiled graph once, before requests race to do it
        model.predict(spec.feed([np.zeros((1,) + s[1:], dtype=d) for _, s, d in spec.inputs]), verbose=0)

    def error(status, message):
        return JSONResponse({"error": message}, status_code=status)

    async def read_body(request):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise RequestError(413, f"the body of {int(declared)} bytes is too large; at most {max_body_bytes}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise RequestError(413, f"the body is too large; at most {max_body_bytes} bytes")
            chunks.append(chunk)
        if not size:
            raise RequestError(400, "the body is empty")
        return b"".join(chunks)

    def parse(ctype, body):
        return spec.check(spec.from_npy(body) if ctype == NPY else spec.from_json(body), max_batch_size)

    def run(arrays):
        out = model.predict(spec.feed(arrays), batch_size=batch_size, verbose=0)
        outs = [out[k] for k in spec.output_names] if isinstance(out, dict) else (
            list(out) if isinstance(out, (list, tuple)) else [out])
        return [np.asarray(o) for o in outs]

    class _JSON(JSONResponse):
        """JSON that writes non-finite outputs as NaN / Infinity (as Python's json does)
        rather than failing."""

        def render(self, content):
            return json.dumps(content, allow_nan=True, separators=(",", ":")).encode("utf-8")

    async def predict(request):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if ctype not in ("application/json", NPY, ""):
                raise RequestError(415, f"unsupported Content-Type '{ctype}'; send application/json or {NPY}")
            body = await read_body(request)
            arrays = await run_in_threadpool(parse, ctype, body)
        except RequestError as e:
            return error(e.status, e.message)
        try:
            outs = await run_in_threadpool(run, arrays)
        except (ValueError, TypeError) as e:
            return error(422, f"the model could not run on this input: {e}")
        if ctype == NPY:
            buf = io.BytesIO()
            if len(outs) == 1:
                np.save(buf, outs[0], allow_pickle=False)
                return Response(buf.getvalue(), media_type=NPY)
            np.savez(buf, **dict(zip(spec.output_names, outs)))
            return Response(buf.getvalue(), media_type=NPZ)
        if len(outs) == 1:
            return _JSON({"outputs": outs[0].tolist()})
        return _JSON({"outputs": {n: o.tolist() for n, o in zip(spec.output_names, outs)}})

    async def health(request):
        return JSONResponse({"status": "ok"})

    async def metadata(request):
        return JSONResponse(spec.metadata(model))

    return Starlette(routes=[
        Route("/predict", predict, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metadata", metadata, methods=["GET"]),
    ])


def serve(model, host="127.0.0.1", port=8000, log_level="info", **kwargs):
    """Serves ``model`` with uvicorn until interrupted; ``kwargs`` go to ``create_app``."""
    uvicorn = _require("uvicorn")
    uvicorn.run(create_app(model, **kwargs), host=host, port=int(port), log_level=log_level)
