"""compile / fit / evaluate / predict, with Keras 3 semantics.

Two drivers run the same layers: when the model, its losses, metrics and optimizer are all
built in (and ``train_step`` is not overridden), whole epochs run in the core with the GIL
released (the graph driver); otherwise each batch goes through ``train_step`` here, with
``GradientTape`` (the eager driver).
"""
import contextlib
import warnings

import numpy as np

from ember import _native
from ember.autograd import GradientTape
from ember.models import data as D


class Trainer:
    """Mixin of ``Model``: the training API."""

    def _init_trainer(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._native_trainer = None
        self._loss_tracker = None
        self._compile_metrics = []
        self._output_loss_trackers = []
        self._compiled_trainable = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        from ember import losses as L
        from ember import metrics as M
        from ember import optimizers as O

        self.optimizer = O.get(optimizer)
        self.loss = loss
        self._loss_weights_arg = loss_weights
        self._metrics_arg = metrics
        self._weighted_metrics_arg = weighted_metrics
        self.run_eagerly = bool(run_eagerly)
        self._losses_resolved = None
        self._loss_tracker = M.Mean(name="loss")
        self._compile_metrics = []
        self._output_loss_trackers = []
        self._native_trainer = None
        self.compiled = True
        self._L, self._M = L, M
        self._compiled_trainable = None
        if self.built:
            self._resolve_compile()
            self._snapshot_trainable()

    def _snapshot_trainable(self):
        """Records which layers and weights are trainable now: as in Keras, ``compile`` fixes
        them, and a later change to ``trainable`` takes effect at the next ``compile``."""
        if self._compiled_trainable is None:
            layers = _all_layers(self)
            self._compiled_trainable = ([(layer, layer._trainable) for layer in layers],
                                        {id(w) for w in self.trainable_weights}, {id(w) for w in self.weights})

    @contextlib.contextmanager
    def _as_compiled(self):
        """Runs training with the ``trainable`` flags recorded at compile (frozen weights and
        BatchNormalization's inference mode), restoring the current flags afterwards."""
        self._snapshot_trainable()
        layer_flags, trainable_ids, known = self._compiled_trainable
        weights = self.weights
        now = [(layer, layer._trainable) for layer, _ in layer_flags], [(w, w.trainable) for w in weights]
        try:
            # weights created after compile (layers added since) keep their own flags
            flags = [(w, id(w) in trainable_ids if id(w) in known else w.trainable) for w in weights]
            _set_flags(layer_flags, flags)
            yield
        finally:
            _set_flags(*now)

    def _output_names(self):
        graph = getattr(self, "_graph", None)
        return list(graph.output_names) if graph is not None else ["output_0"]

    def _output_tensors(self):
        graph = getattr(self, "_graph", None)
        return graph.outputs if graph is not None else [None]

    def _per_output(self, arg, what, names, default):
        """A compile argument spread over the outputs (Keras 3 rules): a dict keyed by
        output names, a list with one entry per output, or one value for a single output
        (``loss`` alone may also be one value for all outputs)."""
        n = len(names)
        if isinstance(arg, dict):
            unknown = [k for k in arg if k not in names]
            if unknown:
                raise ValueError(
                    f"In the dict argument `{what}`, key(s) {unknown} do not correspond to any model output. "
                    f"The model's outputs are {names}. Received: {what}={arg}"
                )
            return [arg.get(k, default) for k in names]
        if isinstance(arg, (list, tuple)) and (n > 1 or what != "metrics"):
            if len(arg) != n:
                raise ValueError(
                    f"For a model with {n} output(s), when providing the `{what}` argument as a list, it should "
                    f"have as many entries as the model has outputs. Received: {what}={arg} of length {len(arg)}"
                )
            return list(arg)
        if arg is None:
            return [default] * n
        if n > 1 and what == "loss_weights":
            raise ValueError(f"`loss_weights` must be a list or a dict for a model with {n} outputs; got {arg!r}")
        if n > 1 and what == "metrics":
            raise ValueError(
                f"For a model with {n} outputs, `metrics` must be a list with one entry per output or a dict "
                f"keyed by output names {names}. Received: metrics={arg}"
            )
        return [arg] * n

    def _resolve_compile(self):
        """Per-output losses, loss weights and metrics, once the outputs are known."""
        if self._losses_resolved is not None:
            return
        names = self._output_names()
        n = len(names)
        losses = self._per_output(self.loss, "loss", names, None)
        weights = self._per_output(self._loss_weights_arg, "loss_weights", names, 1.0)
        self._losses_resolved = [self._L.resolve(x) if x is not None else None for x in losses]
        self._loss_weights = [1.0 if w is None else float(w) for w in weights]
        shapes = [getattr(t, "shape", None) for t in self._output_tensors()]
        per_output, taken = [], {}
        for i, spec in enumerate(self._per_output(self._metrics_arg, "metrics", names, None)):
            spec = [spec] if spec is not None and not isinstance(spec, (list, tuple)) else (spec or [])
            ms = [self._M.resolve(m, loss=losses[i], output_shape=shapes[i]) for m in spec if m is not None]
            if n > 1:
                for m in ms:
                    m.name = f"{names[i]}_{m.name}"
            for m in ms:
                if m.name in taken:
                    taken[m.name] += 1
                    m.name = f"{m.name}_{taken[m.name] - 1}"
                else:
                    taken[m.name] = 1
            per_output.append(ms)
        self._metrics_per_output = per_output
        self._compile_metrics = [m for ms in per_output for m in ms]
        with_loss = [i for i, lo in enumerate(self._losses_resolved) if lo is not None]
        self._output_loss_trackers = (
            [(i, self._M.Mean(name=f"{names[i]}_loss")) for i in with_loss] if len(with_loss) > 1 else []
        )

    @property
    def metrics(self):
        """The loss tracker and the compiled metrics (Keras's ``model.metrics``)."""
        out = [self._loss_tracker] if self._loss_tracker is not None else []
        return out + list(self._compile_metrics) + [m for _, m in self._output_loss_trackers]

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    # ------------------------------------------------------------------ drivers
    def _uses_graph_driver(self):
        if self.run_eagerly or type(self).train_step is not Trainer.train_step:
            return False
        if not self._runs_its_graph():
            return False
        self._snapshot_trainable()
        if not self._compiled_trainable[1]:
            return False  # nothing to train: the eager step runs the model and warns, as Keras does
        if any(lo is not None and getattr(lo, "_native", None) is None for lo in self._losses_resolved):
            return False
        if any(getattr(m, "_native", None) is None for m in self._compile_metrics):
            return False
        if getattr(self.optimizer, "_native", None) is None or getattr(self.optimizer, "_python_schedule", False):
            return False
        return self._native_graph() is not None

    def _runs_its_graph(self):
        """True when calling the model is exactly running its functional graph: ember's own
        Model/Sequential (a user subclass may override ``call``)."""
        cls = type(self)
        own_call = cls.call is _model_call() or cls.__module__.startswith("ember.")
        return getattr(self, "_graph", None) is not None and own_call

    def _native_graph(self):
        if getattr(self, "_native_graph_cache", None) is None:
            self._native_graph_cache = self._graph.native_graph()
        return self._native_graph_cache

    def _trainer(self):
        if self._native_trainer is None:
            losses = [lo._native if lo is not None else None for lo in self._losses_resolved]
            metrics = [[m._native for m in ms] for ms in self._metrics_per_output]
            self._native_trainer = _native.Trainer(self._native_graph(), losses, self._loss_weights,
                                                   self.optimizer._native, metrics)
        return self._native_trainer

    # ------------------------------------------------------------------ eager steps
    def _targets_by_output(self, y):
        """The target of each output (None where there is none): ``y`` holds either one
        target per output or one per output that has a loss, in output order."""
        ys = y if isinstance(y, list) else self._standardize_targets(y)
        n = len(self._losses_resolved)
        if len(ys) == n:
            return list(ys)
        with_loss = [i for i, lo in enumerate(self._losses_resolved) if lo is not None]
        if len(ys) != len(with_loss):
            raise ValueError(
                f"{self._describe()} has {n} output(s) ({len(with_loss)} with a loss) but {len(ys)} target "
                f"array(s) were given"
            )
        out = [None] * n
        for i, t in zip(with_loss, ys):
            out[i] = t
        return out

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: weighted compiled losses plus the model's added losses."""
        self._resolve_compile()
        ys = self._targets_by_output(y)
        preds = D._as_list(y_pred)
        trackers = dict(self._output_loss_trackers)
        total = None
        for i, (lo, w) in enumerate(zip(self._losses_resolved, self._loss_weights)):
            if lo is None:
                continue
            term = lo(ys[i], preds[i], sample_weight=sample_weight)
            if i in trackers:
                trackers[i].update_state(term, sample_weight=len(preds[i]))
            term = term * w if w != 1.0 else term
            total = term if total is None else total + term
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError("compute_loss: the model was compiled without a loss; pass loss= to compile()")
        if self._loss_tracker is not None:
            n = len(D._as_list(x)[0]) if x is not None else 1
            self._loss_tracker.update_state(total, sample_weight=n)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        ys, preds = self._targets_by_output(y), D._as_list(y_pred)
        with _native.no_grad():
            for i, ms in enumerate(self._metrics_per_output):
                for m in ms:
                    if ys[i] is not None:
                        m.update_state(ys[i], preds[i], sample_weight=sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        return {m.name: _scalar(m.result()) for m in self.metrics}

    def train_step(self, data):
        """One eager training step (override it for custom training; use ``GradientTape``)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        weights = self.trainable_weights
        if weights:
            grads = tape.gradient(loss, weights)
            self.optimizer.apply(grads, weights)
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with _native.no_grad():
            y_pred = self(x, training=False)
            self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        with _native.no_grad():
            return self(x, training=False)

    # ------------------------------------------------------------------ data
    def _describe(self):
        return f'Model "{self.name}"'

    def _standardize_inputs(self, x, what="x"):
        """The input arrays in the model's input order (lists by position, dicts by name)."""
        graph = getattr(self, "_graph", None)
        if graph is not None:
            return graph.standardize(x, what)
        return D._as_list(x)

    def _standardize_targets(self, y):
        """The target arrays in output order: a dict is read by output name (all outputs,
        or those with a loss), anything else by position."""
        if y is None:
            return []
        graph = getattr(self, "_graph", None)
        if not isinstance(y, dict) or graph is None:
            return D._as_list(y)
        names = self._output_names()
        if all(k in y for k in names):
            return [y[k] for k in names]
        with_loss = names
        if isinstance(self.loss, dict):
            with_loss = [k for k in names if self.loss.get(k) is not None]
        if all(k in y for k in with_loss):
            return [y[k] for k in with_loss]
        missing = [k for k in with_loss if k not in y]
        raise ValueError(
            f"{self._describe()}: y is missing the target(s) of output(s) {missing}. The model's outputs are "
            f"{names}; received y with keys {sorted(y)}"
        )

    def _graph_logs(self, loss):
        """The logs of the graph driver: the loss, the compiled metrics and, for several
        losses, each output's loss."""
        logs = {"loss": loss}
        for m in self._compile_metrics:
            logs[m.name] = _scalar(m.result())
        if self._output_loss_trackers:
            for (_, m), v in zip(self._output_loss_trackers, self._trainer().output_losses()):
                logs[m.name] = v
        return logs

    # ------------------------------------------------------------------ fit
    def _prepare(self, x, y, sample_weight, class_weight=None, what="fit"):
        if x is None:
            raise ValueError(f"{what}: x is required")
        if y is None and isinstance(x, tuple) and len(x) in (2, 3):
            x, y, sample_weight = unpack_x_y_sample_weight(x)
        xs = D.to_arrays(self._standardize_inputs(x), self._input_dtypes(), what="x")
        self._ensure_built(xs)
        ys = D.targets_to_arrays(self._standardize_targets(y))
        sw = None
        if sample_weight is not None:
            sw = np.ascontiguousarray(np.asarray(sample_weight, dtype=np.float32))
        if class_weight is not None:
            cw = D.class_weight_to_sample_weight(ys[0], class_weight)
            sw = cw if sw is None else sw * cw
        names = [f"x[{i}]" if len(xs) > 1 else "x" for i in range(len(xs))]
        names += [f"y[{i}]" if len(ys) > 1 else "y" for i in range(len(ys))]
        D.check_cardinality(xs + ys + ([sw] if sw is not None else []), names + ["sample_weight"])
        return xs, ys, sw

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call compile() on the model before {what}().")
        self._resolve_compile()

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        from ember.callbacks import CallbackList

        xs, ys, sw = self._prepare(x, y, sample_weight, class_weight)
        self._require_compiled("fit")
        if not ys:
            raise ValueError("fit: y is required (targets for the compiled loss)")
        batch_size = int(batch_size or 32)
        if validation_data is None and validation_split:
            (xs, ys, sw), val = D.split_validation(xs, ys, sw, validation_split)
        elif validation_data is not None:
            vx, vy, vsw = unpack_x_y_sample_weight(tuple(validation_data))
            val = (D.to_arrays(self._standardize_inputs(vx, "validation x"), self._input_dtypes(), "validation x"),
                   D.targets_to_arrays(self._standardize_targets(vy)),
                   None if vsw is None else np.asarray(vsw, dtype=np.float32))
        else:
            val = None
        n = len(xs[0])
        steps = -(-n // batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        cbs = CallbackList(callbacks, add_history=True, add_progbar=_verbose(verbose) != 0, model=self,
                           verbose=_verbose(verbose), epochs=epochs, steps=steps, batch_size=batch_size, samples=n)
        self.stop_training = False
        use_graph = self._uses_graph_driver()
        if use_graph:
            tx, ty = D.to_tensors(xs), D.to_tensors(ys)
            tsw = _native.Tensor(sw) if sw is not None else None
        cbs.on_train_begin()
        initial_epoch = max(initial_epoch, self.__dict__.pop("_initial_epoch", 0))  # set by BackupAndRestore
        logs = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            with self._as_compiled():
                if use_graph:
                    logs = self._graph_epoch(tx, ty, tsw, batch_size, shuffle, steps_per_epoch, cbs)
                else:
                    logs = self._eager_epoch(xs, ys, sw, batch_size, shuffle, steps, cbs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self.evaluate(val[0], val[1], sample_weight=val[2],
                                         batch_size=validation_batch_size or batch_size, steps=validation_steps,
                                         verbose=0, return_dict=True, _internal=True)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return self.history

    def _batch_hook(self, cbs, mode):
        """The hook the core calls after batches: logs for callbacks and the progress bar."""
        on_end = getattr(cbs, f"on_{mode}_batch_end")
        on_begin = getattr(cbs, f"on_{mode}_batch_begin")

        def hook(step, loss):
            on_end(step, self._graph_logs(loss) if mode != "predict" else {})
            on_begin(step + 1)
            return bool(self.stop_training) if mode == "train" else False

        return hook

    def _graph_epoch(self, tx, ty, tsw, batch_size, shuffle, steps_per_epoch, cbs):
        trainer = self._trainer()
        cbs.on_train_batch_begin(0)
        loss = trainer.train_epoch(tx, ty, tsw, batch_size, bool(shuffle), steps_per_epoch,
                                   self._batch_hook(cbs, "train"), cbs.needs_every_batch("train"), 0.1)
        return self._graph_logs(loss)

    def _eager_epoch(self, xs, ys, sw, batch_size, shuffle, steps, cbs):
        for m in self.metrics:
            m.reset_state()
        n = len(xs[0])
        order = np.random.permutation(n) if shuffle else np.arange(n)
        logs = {}
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            if shuffle:
                idx = np.sort(idx)
            batch = ([a[idx] for a in xs], [a[idx] for a in ys], None if sw is None else sw[idx])
            cbs.on_train_batch_begin(step)
            data = (_single(batch[0]), _single(batch[1])) + ((batch[2],) if batch[2] is not None else ())
            logs = {k: _scalar(v) for k, v in self.train_step(data).items()}
            cbs.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        return dict(logs)

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, _internal=False):
        from ember.callbacks import CallbackList

        xs, ys, sw = self._prepare(x, y, sample_weight, what="evaluate")
        self._require_compiled("evaluate")
        batch_size = int(batch_size or 32)
        n = len(xs[0])
        nsteps = -(-n // batch_size) if steps is None else min(int(steps), -(-n // batch_size))
        cbs = CallbackList(callbacks, add_progbar=_verbose(verbose) != 0 and not _internal, model=self,
                           verbose=_verbose(verbose), epochs=1, steps=nsteps, mode="test", batch_size=batch_size,
                           samples=n)
        if not _internal:
            cbs.on_test_begin()
        if self._uses_graph_driver():
            trainer = self._trainer()
            loss = trainer.evaluate(D.to_tensors(xs), D.to_tensors(ys),
                                    _native.Tensor(sw) if sw is not None else None, batch_size, steps,
                                    self._batch_hook(cbs, "test"), cbs.needs_every_batch("test"), 0.1)
            logs = self._graph_logs(loss)
        else:
            for m in self.metrics:
                m.reset_state()
            logs = {}
            for step in range(nsteps):
                sl = slice(step * batch_size, (step + 1) * batch_size)
                data = (_single([a[sl] for a in xs]), _single([a[sl] for a in ys]))
                if sw is not None:
                    data += (sw[sl],)
                cbs.on_test_batch_begin(step)
                logs = {k: _scalar(v) for k, v in self.test_step(data).items()}
                cbs.on_test_batch_end(step, logs)
        if not _internal:
            cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names if k in logs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        from ember.callbacks import CallbackList

        if isinstance(x, tuple) and len(x) in (2, 3) and not isinstance(x[0], (int, float)):
            x = x[0] if len(self._graph_inputs_or_one()) == 1 else x
        xs = D.to_arrays(self._standardize_inputs(x), self._input_dtypes(), what="x")
        self._ensure_built(xs)
        D.check_cardinality(xs, [f"x[{i}]" for i in range(len(xs))])
        batch_size = int(batch_size or 32)
        n = len(xs[0])
        if steps is not None:
            xs = [a[: int(steps) * batch_size] for a in xs]
            n = len(xs[0])
        nsteps = -(-n // batch_size)
        cbs = CallbackList(callbacks, add_progbar=_verbose(verbose) != 0, model=self, verbose=_verbose(verbose),
                           epochs=1, steps=nsteps, mode="predict")
        cbs.on_predict_begin()
        use_graph = self._runs_its_graph() and type(self).predict_step is Trainer.predict_step
        graph = self._native_graph() if use_graph else None
        if graph is not None:
            hook = self._batch_hook(cbs, "predict")
            outs = _native.predict(graph, D.to_tensors(xs), batch_size, hook, cbs.needs_every_batch("predict"), 0.1)
        else:
            chunks = []
            for step in range(nsteps):
                sl = slice(step * batch_size, (step + 1) * batch_size)
                cbs.on_predict_batch_begin(step)
                out = self.predict_step((_single([a[sl] for a in xs]),))
                chunks.append([np.asarray(o) for o in _flat_outputs(out)])
                cbs.on_predict_batch_end(step, {})
            outs = [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        cbs.on_predict_end()
        return self._pack_outputs(outs)

    # ------------------------------------------------------------------ on_batch
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        xs, ys, sw = self._prepare(x, y, sample_weight, class_weight, what="train_on_batch")
        self._require_compiled("train_on_batch")
        with self._as_compiled():
            if self._uses_graph_driver():
                loss = self._trainer().train_on_batch(D.to_tensors(xs), D.to_tensors(ys),
                                                      _native.Tensor(sw) if sw is not None else None)
                logs = self._graph_logs(loss)
            else:
                data = (_single(xs), _single(ys)) + ((sw,) if sw is not None else ())
                logs = {k: _scalar(v) for k, v in self.train_step(data).items()}
        return logs if return_dict else _logs_values(self, logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        xs, ys, sw = self._prepare(x, y, sample_weight, what="test_on_batch")
        self._require_compiled("test_on_batch")
        if self._uses_graph_driver():
            trainer = self._trainer()
            trainer.reset_metrics()
            loss = trainer.test_on_batch(D.to_tensors(xs), D.to_tensors(ys),
                                         _native.Tensor(sw) if sw is not None else None)
            logs = self._graph_logs(loss)
        else:
            for m in self.metrics:
                m.reset_state()
            data = (_single(xs), _single(ys)) + ((sw,) if sw is not None else ())
            logs = {k: _scalar(v) for k, v in self.test_step(data).items()}
        return logs if return_dict else _logs_values(self, logs)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(D.to_arrays(x)[0]), verbose=0)


def _all_layers(layer):
    """``layer`` and every layer nested in it, each once, parents first."""
    out, seen, todo = [], set(), [layer]
    while todo:
        cur = todo.pop(0)
        if id(cur) not in seen:
            seen.add(id(cur))
            out.append(cur)
            todo += cur._tracked_layers()
    return out


def _set_flags(layer_flags, weight_flags):
    """Sets layers' own ``trainable`` flags (and their cores' mode) and weights' flags,
    without the propagation of the ``trainable`` setter."""
    for layer, flag in layer_flags:
        layer._trainable = flag
        core = getattr(layer, "_core", None)
        if core is not None:
            _native.layer_set_trainable(core, flag)
    for w, flag in weight_flags:
        w.trainable = flag


def _model_call():
    from ember.models.model import Model

    return Model.call


def _scalar(v):
    a = np.asarray(v)
    return float(a) if a.size == 1 else a


def _single(xs):
    return xs[0] if len(xs) == 1 else xs


def _flat_outputs(out):
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    if isinstance(out, (list, tuple)):
        return list(out)
    return [out]


def _logs_values(model, logs):
    values = [logs[k] for k in model.metrics_names if k in logs]
    return values[0] if len(values) == 1 else values


def _verbose(v):
    if v == "auto":
        return 1
    return int(v)


def unpack_x_y_sample_weight(data):
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> the three parts."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"data must be (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)} items")
