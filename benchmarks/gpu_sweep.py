"""torch_bridge on a GPU against size: time per call of each case in a loop of back-to-back
calls, for input sizes 2^10 ... 2^26, float32 and bfloat16, forward (no_grad) and
forward+backward, with the compiled CUDA kernels, with the Triton kernels (the CUDA kernels
switched off), the naive formulas eager and under ``torch.compile`` (static, then dynamic
shapes from the second size on), ``torch.relu`` / ``F.silu`` and a copy of the input.

    PYTHONPATH=. python benchmarks/gpu_sweep.py --out sweep.jsonl [--sizes 10,12,...]

A call's time is the wall time of a loop of calls (the host issues them while the GPU runs
them; a final synchronisation ends the loop) over the number of calls: for small inputs the
host's cost per call, for large ones the GPU's.  Rounds interleave the cases; the median and
the 20th-80th percentiles of the rounds are written, one JSON line per (case, size, dtype,
mode), as soon as measured.  Also: the host cost per call on a 1024-element input, measured
the same way (``--overhead``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch_bridge as tb  # noqa: E402
from gemsym.bench.cases import naive_forward  # noqa: E402
from torch_bridge import _cuda_kernel  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # cpu: a dry run of the script
PARAMS = {"gem": {"N": 1}, "e_gem": {"N": 1, "eps": 1e-4}, "se_gem": {"N": 1, "eps": 1e-4},
          "sqish": {"a": 0.0, "beta": 1.0, "gamma": 1.0}}


def _naive(name: str):
    # the defining formula as a user would write it (gemsym bench's), in the input's dtype
    return naive_forward(name.replace("_", "-"), PARAMS[name], DEVICE)[0]


def cases(dtype: torch.dtype, mode: str) -> dict:
    """name -> (function of x, whether it uses the CUDA kernels)."""
    out = {"relu": (torch.relu, None), "silu": (F.silu, None)}
    for name, p in PARAMS.items():
        fn = getattr(tb, name)
        out[f"tb.{name}"] = (lambda x, fn=fn, p=p: fn(x, **p), True)
        out[f"tb.{name} triton"] = (lambda x, fn=fn, p=p: fn(x, **p), False)
        out[f"naive {name}"] = (_naive(name), None)
        out[f"naive {name} compiled"] = (torch.compile(_naive(name)), None)
    return out


def _step(fn, x, g, mode: str):
    if mode == "fwd":
        def f():
            with torch.no_grad():
                return fn(x)
        return f
    xg = x.detach().requires_grad_()

    def fb():
        (gx,) = torch.autograd.grad(fn(xg), xg, g)
        return gx
    return fb


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _time(call, uses_kernel, calls: int) -> float:
    _cuda_kernel.set_cuda_kernel(uses_kernel is not False)
    try:
        _sync()
        t0 = time.perf_counter()
        for _ in range(calls):
            call()
        _sync()
        return (time.perf_counter() - t0) / calls
    finally:
        _cuda_kernel.set_cuda_kernel(True)


def measure(sizes, dtypes, modes, rounds: int, out, budget: float) -> None:
    start = time.perf_counter()
    for dtype in dtypes:
        for mode in modes:
            table = cases(dtype, mode)
            for size in sizes:
                if time.perf_counter() - start > budget:
                    print(f"budget spent: stopped before {dtype} {mode} 2^{size}", flush=True)
                    return
                n = 1 << size
                x = torch.randn(n, device=DEVICE).to(dtype)
                g = torch.randn(n, device=DEVICE).to(dtype)
                y = torch.empty_like(x)
                calls = max(10, min(300, (1 << 26) // n))
                steps = {k: (_step(fn, x, g, mode), uk) for k, (fn, uk) in table.items()}
                steps["copy"] = ((lambda: y.copy_(x)), None)
                for k, (call, uk) in list(steps.items()):  # warm-up (and compilation)
                    try:
                        _time(call, uk, 3)
                    except Exception as exc:  # a case that fails is reported, not timed
                        print(f"{k} {dtype} {mode} 2^{size}: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200] if str(exc) else ''}", flush=True)
                        del steps[k]
                        table.pop(k, None)
                times = {k: [] for k in steps}
                for _ in range(rounds):
                    for k, (call, uk) in steps.items():
                        times[k].append(_time(call, uk, calls))
                for k, ts in times.items():
                    qs = statistics.quantiles(ts, n=10) if len(ts) > 1 else [ts[0]] * 9
                    rec = {"case": k, "size": size, "dtype": str(dtype).replace("torch.", ""),
                           "mode": mode, "calls": calls, "median_s": statistics.median(ts),
                           "p20_s": qs[1], "p80_s": qs[7]}
                    out.write(json.dumps(rec) + "\n")
                out.flush()
                rel = {k: statistics.median(v) / statistics.median(times["relu"])
                       for k, v in times.items()}
                print(f"{dtype} {mode} 2^{size}: relu {statistics.median(times['relu'])*1e6:.1f} us; "
                      + ", ".join(f"{k} {r:.2f}" for k, r in rel.items() if k != "relu"),
                      flush=True)


def report(lines: list[str]) -> str:
    """Markdown tables of recorded lines: per dtype and mode, each case's median time per
    call over ``relu``'s at each size (forward+backward: over relu's forward+backward),
    relu's own time, and at the largest sizes the copy's time over the case's (the fraction
    of copy bandwidth, for cases that read and write what a copy does)."""
    recs = [json.loads(ln) for ln in lines if ln.strip()]
    out = []
    for dtype in dict.fromkeys(r["dtype"] for r in recs):
        for mode in dict.fromkeys(r["mode"] for r in recs if r["dtype"] == dtype):
            sel = [r for r in recs if r["dtype"] == dtype and r["mode"] == mode]
            sizes = sorted({r["size"] for r in sel})
            t = {(r["case"], r["size"]): r["median_s"] for r in sel}
            cases_ = list(dict.fromkeys(r["case"] for r in sel))
            out += [f"**{dtype}, {'forward (no_grad)' if mode == 'fwd' else 'forward+backward'}**"
                    " (time per call over relu's)", "",
                    "| case | " + " | ".join(f"2^{z}" for z in sizes) + " |",
                    "|---" * (len(sizes) + 1) + "|",
                    "| relu (us per call) | " + " | ".join(
                        f"{t[('relu', z)] * 1e6:.1f}" for z in sizes) + " |"]
            for c in cases_:
                if c == "relu":
                    continue
                cells = [f"{t[(c, z)] / t[('relu', z)]:.2f}" if (c, z) in t else "-"
                         for z in sizes]
                out.append(f"| {c} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", metavar="JSONL", help="print Markdown tables of a run and exit")
    ap.add_argument("--out")
    ap.add_argument("--sizes", default="10,12,14,16,18,20,22,24,26")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--modes", default="fwd,fwdbwd")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--budget", type=float, default=240.0, help="seconds; stops after")
    a = ap.parse_args()
    if a.report:
        print(report(Path(a.report).read_text().splitlines()))
        return
    if not a.out:
        ap.error("--out is required to measure")
    print(torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu", "torch", torch.__version__, "CUDA kernels:",
          _cuda_kernel.loaded(), flush=True)
    with open(a.out, "w") as out:
        measure([int(s) for s in a.sizes.split(",")],
                [getattr(torch, d) for d in a.dtypes.split(",")], a.modes.split(","),
                a.rounds, out, a.budget)


if __name__ == "__main__":
    main()
