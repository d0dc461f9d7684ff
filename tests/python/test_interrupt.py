"""Ctrl-C during fit stops training with KeyboardInterrupt (the core checks for signals)."""
import signal
import subprocess
import sys
import textwrap
import time


def test_ctrl_c_stops_fit():
    code = textwrap.dedent("""
        import sys, numpy as np, ember as em
        x = np.random.default_rng(0).normal(size=(4096, 256)).astype("float32")
        m = em.Sequential([em.Input(shape=(256,)), em.layers.Dense(512, activation="relu"), em.layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        print("start", flush=True)
        try:
            m.fit(x, x[:, :1], epochs=100000, verbose=0)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "start"
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    start = time.time()
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 3 and "interrupted" in out
    assert time.time() - start < 10
