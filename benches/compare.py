#!/usr/bin/env python3
"""ember side by side with PyTorch and Keras 3 on the shared workloads (../shared/bench).

Runs the workloads of the shared benchmark (W1 f32 GEMM, W2 MLP, W3 CNN and W4 LSTM
training, W5 inference) for ember (through the Keras API: impl_keras with
BENCH_KERAS_MODULE=ember) and for every peer importable here (torch, keras-jax,
keras-torch, numpy for W1), each configuration in a fresh process via the shared run.py,
and prints ratios measured in this one run:

  W1: ember GFLOP/s / peer GFLOP/s   (above 1: ember faster)
  W2-W4: ember epoch time / peer epoch time   (below 1: ember faster)
  W5: ember samples/s / peer samples/s   (above 1: ember faster)

A workload ember cannot run yet (a layer it lacks) is listed as skipped with the reason.

    python benches/compare.py                          # every workload, 2 threads
    python benches/compare.py --workloads w1_gemm --threads 1 2
    python benches/compare.py --bench-dir /path/to/shared/bench --out results.jsonl

Peers are never dependencies of ember: install them into the interpreter that runs this
script (`pip install torch keras jax jaxlib`). ember is imported from that interpreter too,
or else from the repository's python/ folder once `scripts/dev-build` has put the extension
there. The machine is shared: each run's contention ("others", the CPU share other processes
took while it was timed) is printed beside it; rerun when it is high.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ["w1_gemm", "w2_mlp", "w3_cnn", "w4_lstm", "w5_infer_mlp", "w5_infer_cnn"]
TRAIN = {"w2_mlp", "w3_cnn", "w4_lstm"}
# peer -> (modules that must import, environment of the child); names as in run.py's IMPLS
PEERS = {
    "torch": (["torch"], {}),
    "keras-jax": (["keras", "jax"], {"KERAS_BACKEND": "jax"}),
    "keras-torch": (["keras", "torch"], {"KERAS_BACKEND": "torch"}),
    "numpy": (["numpy", "threadpoolctl"], {}),
}
ONLY_W1 = {"numpy"}


def find_bench_dir(explicit):
    if explicit:
        cands = [explicit]
    else:
        # ../shared/bench of the repository root, else of any parent (git worktrees)
        cands, d = [], REPO
        while True:
            cands.append(os.path.join(d, "..", "shared", "bench"))
            up = os.path.dirname(d)
            if up == d:
                break
            d = up
    for c in cands:
        if os.path.isfile(os.path.join(c, "run.py")):
            return os.path.abspath(c)
    raise SystemExit(f"compare.py: no shared benchmark (run.py) found at {cands[0]}; pass --bench-dir")


def probe(code, env, cwd):
    """Runs `code` in a fresh interpreter; returns None on success, else the error's last line."""
    p = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True,
                       timeout=300)
    if p.returncode == 0:
        return None
    lines = (p.stderr or p.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {p.returncode}"


def ember_env(bench_dir):
    """The environment in which `import ember` works in the benchmark's children (which run in
    bench_dir): PYTHONPATH made absolute, with python/ of the repository added if needed."""
    env = dict(os.environ)
    paths = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.pop("PYTHONPATH", None)
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    err = probe("import ember", env, bench_dir)
    if err is None:
        return env, None
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(REPO, "python")] + paths)
    err2 = probe("import ember", env, bench_dir)
    return (env, None) if err2 is None else (None, f"ember is not importable: {err2}")


def ember_missing(workload, env, bench_dir):
    """Why ember cannot run `workload` yet (None when it can): builds the workload's model
    through impl_keras, as the run will."""
    if workload == "w1_gemm":
        need = "import ember; ember.ops.matmul; ember.ops.convert_to_tensor; ember.ops.convert_to_numpy"
    else:
        need = ("import os; os.environ['BENCH_KERAS_MODULE'] = 'ember'\n"
                "import workloads as W, impl_keras as K\n"
                f"K.build({workload!r}, W.init_weights({workload!r}))")
    return probe(need, env, bench_dir)


def run_suite(bench_dir, impls, workload, threads, env, args):
    """One run.py invocation (a fresh process per configuration); returns its records."""
    fd, out = tempfile.mkstemp(prefix="ember-compare-", suffix=".jsonl")
    os.close(fd)
    cmd = [sys.executable, os.path.join(bench_dir, "run.py"), "--impl", *impls, "--workload", workload,
           "--threads", str(threads), "--out", out, "--timeout", str(args.timeout),
           "--quiet-max-wait", str(args.quiet_max_wait)]
    if args.no_gate:
        cmd.append("--no-gate")
    env = dict(env, EMBER_NUM_THREADS=str(threads))
    try:
        p = subprocess.run(cmd, env=env, cwd=bench_dir)
        with open(out) as f:
            recs = [json.loads(line) for line in f if line.strip()]
    finally:
        if args.out:
            with open(out) as f, open(args.out, "a") as g:
                g.write(f.read())
        os.unlink(out)
    if p.returncode != 0 and not recs:
        recs = [dict(impl=i, workload=workload, threads=threads, ok=False,
                     error=f"run.py exited with status {p.returncode}") for i in impls]
    return recs


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def _gemm_at(rec, n):
    """(GFLOP/s of the median call, contention) of a W1 record at size n, or None."""
    if not rec or not rec.get("ok"):
        return None
    g = [g for g in rec["result"]["gemm"] if g["n"] == n]
    return (g[0]["gflops_median"], g[0]["others"]) if g else None


def w1_rows(recs, peers, threads):
    by = {r["impl"]: r for r in recs}
    em = by.get("ember")
    rows = []
    sizes = sorted({g["n"] for r in recs if r.get("ok") for g in r["result"]["gemm"]})
    for n in sizes:
        e = _gemm_at(em, n)
        row = [f"{threads}", f"{n}", f"{e[0]:.1f}" if e else "-"]
        for p in peers:
            v = _gemm_at(by.get(p), n)
            row += [f"{v[0]:.1f}" if v else "-", fmt_ratio(e[0] / v[0] if e and v else None)]
        others = [v[1] for v in [e] + [_gemm_at(by.get(p), n) for p in peers] if v]
        row.append(f"{max(others):.2f}" if others else "-")
        rows.append(row)
    head = ["threads", "n", "ember GFLOP/s"]
    for p in peers:
        head += [f"{p} GFLOP/s", f"ember/{p}"]
    return head + ["others max"], rows


def train_rows(recs, peers, threads):
    by = {r["impl"]: r for r in recs}

    def ep(r):
        if not r or not r.get("ok"):
            return None
        res = r["result"]
        return res["epoch_s"]["median"], res["final_acc"], res["others_median"]
    e = ep(by.get("ember"))
    row = [f"{threads}", f"{e[0]:.3f}s acc {e[1]:.3f}" if e else "-"]
    others = [e[2]] if e else []
    for p in peers:
        v = ep(by.get(p))
        row += [f"{v[0]:.3f}s acc {v[1]:.3f}" if v else "-", fmt_ratio(e[0] / v[0] if e and v else None)]
        if v:
            others.append(v[2])
    row.append(f"{max(others):.2f}" if others else "-")
    head = ["threads", "ember epoch"]
    for p in peers:
        head += [f"{p} epoch", f"ember/{p}"]
    return head + ["others max"], [row]


def infer_rows(recs, peers, threads):
    by = {r["impl"]: r for r in recs}

    def sps(r):
        if not r or not r.get("ok"):
            return None
        res = r["result"]
        return res["samples_per_s"]["median"], res["others_median"]
    e = sps(by.get("ember"))
    row = [f"{threads}", f"{e[0]:,.0f}" if e else "-"]
    others = [e[1]] if e else []
    for p in peers:
        v = sps(by.get(p))
        row += [f"{v[0]:,.0f}" if v else "-", fmt_ratio(e[0] / v[0] if e and v else None)]
        if v:
            others.append(v[1])
    row.append(f"{max(others):.2f}" if others else "-")
    head = ["threads", "ember samples/s"]
    for p in peers:
        head += [f"{p} samples/s", f"ember/{p}"]
    return head + ["others max"], [row]


NOTES = {
    "w1_gemm": "GFLOP/s (median call); ember/peer = GFLOP/s ratio, above 1: ember faster",
    "train": "epoch time (median of 3 after a warm-up); ember/peer = time ratio, below 1: ember faster",
    "infer": "predict samples/s (median of 3 passes after a warm-up); ember/peer above 1: ember faster",
}


def kind(workload):
    return workload if workload == "w1_gemm" else "train" if workload in TRAIN else "infer"


def table(head, rows):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda r: "  ".join(str(x).rjust(n) for x, n in zip(r, w))  # noqa: E731
    return "\n".join([line(head), line(["-" * n for n in w])] + [line(r) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    ap.add_argument("--threads", nargs="+", type=int, default=[2])
    ap.add_argument("--bench-dir", default=None, help="the shared benchmark folder (default ../shared/bench)")
    ap.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS),
                    help="peers to try (those not importable are skipped)")
    ap.add_argument("--out", default=None, help="also append every run's JSON record to this file")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per run")
    ap.add_argument("--quiet-max-wait", type=float, default=30.0,
                    help="seconds run.py waits for a quiet machine before each run")
    ap.add_argument("--no-gate", action="store_true", help="do not wait for a quiet machine")
    args = ap.parse_args()

    bench_dir = find_bench_dir(args.bench_dir)
    env, ember_err = ember_env(bench_dir)
    base_env = env or dict(os.environ)
    peers, failures = [], []
    for p in args.peers:
        mods, extra = PEERS[p]
        err = probe("import " + ", ".join(mods), dict(base_env, **extra), bench_dir)
        if err is None:
            peers.append(p)
        else:
            print(f"[compare] {p}: not importable, skipped ({err})")
    print(f"[compare] bench dir {bench_dir}; peers: {', '.join(peers) or 'none'}", flush=True)

    report = []
    for w in args.workloads:
        why = ember_err or ember_missing(w, env, bench_dir)
        if why:
            failures.append(f"{w}: ember cannot run it: {why}")
        w_peers = [p for p in peers if w == "w1_gemm" or p not in ONLY_W1]
        impls = ([] if why else ["ember"]) + w_peers
        recs = []
        for t in args.threads:
            if impls:
                recs_t = run_suite(bench_dir, impls, w, t, base_env, args)
            else:
                recs_t = []
            for r in recs_t:
                if not r.get("ok"):
                    failures.append(f"{w} {r['impl']} threads={t}: FAILED: {r.get('error', '?')}")
            recs.append((t, recs_t))
        rows_all, head = [], None
        for t, rs in recs:
            rows_of = {"w1_gemm": w1_rows, "train": train_rows, "infer": infer_rows}[kind(w)]
            head, rows = rows_of(rs, w_peers, t)
            rows_all += rows
        if head:
            report.append(f"\n{w}: {NOTES[kind(w)]}\n" + table(head, rows_all))

    print("\n".join(report))
    if failures:
        print("\nFailed or skipped:")
        for f in failures:
            print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
