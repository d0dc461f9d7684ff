"""``Progbar``: Keras's progress bar. Redraws at most 10 times a second on a terminal;
elsewhere (logs, pipes) it prints one line when done."""
import sys
import time

import numpy as np


class Progbar:
    def __init__(self, target, width=20, verbose=1, interval=0.1, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.seen_steps = 0
        self._start = time.time()
        self._last_draw = 0.0
        self._dynamic = sys.stdout.isatty() or "ipykernel" in sys.modules
        self._last_len = 0
        self._finalized = False

    def update(self, current, values=None, finalize=None):
        self.seen_steps = current
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if not self.verbose or self._finalized:
            return
        self._finalized = finalize
        now = time.time()
        if not finalize and (not self._dynamic or self.verbose != 1 or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        text = self._line(current, values or [], elapsed, per_step, finalize)
        if self._dynamic and self.verbose == 1:
            pad = max(self._last_len - len(text), 0)
            sys.stdout.write("\r" + text + " " * pad)
            self._last_len = len(text)
            if finalize:
                sys.stdout.write("\n")
        else:
            sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def _line(self, current, values, elapsed, per_step, finalize):
        target = self.target
        if target:
            n = len(str(target))
            done = int(self.width * min(current / target, 1.0))
            if self._dynamic:
                bar = "\x1b[32m" + "━" * done + "\x1b[0m" + "\x1b[2m" + "━" * (self.width - done) + "\x1b[0m"
            else:
                bar = "━" * self.width
            head = f"{current:{n}d}/{target} {bar}"
        else:
            head = f"{current:7d}"
        if finalize or not target:
            t = f"{elapsed:.0f}s"
        else:
            t = f"{per_step * (target - current):.0f}s"
        if per_step >= 1:
            rate = f"{per_step:.0f}s/{self.unit_name}"
        elif per_step >= 1e-3:
            rate = f"{per_step * 1e3:.0f}ms/{self.unit_name}"
        else:
            rate = f"{per_step * 1e6:.0f}us/{self.unit_name}"
        parts = [f"{head} {t} {rate}"]
        for k, v in values:
            if k == "samples_per_second":
                continue
            a = np.asarray(v)
            parts.append(f"{k}: {float(a):.4f}" if a.size == 1 else f"{k}: {a}")
        sps = dict(values).get("samples_per_second")
        if sps:
            parts[0] += f" {sps:,.0f} samples/s"
        return " - ".join(parts)
