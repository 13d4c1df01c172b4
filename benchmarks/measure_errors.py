"""Measure the ULP error of the generated ``torch_bridge`` against mpmath (50 digits) and
write the histogram to ``benchmarks/ERRORS.md``.

    PYTHONPATH=. python benchmarks/measure_errors.py [--samples 100000] [--out benchmarks/ERRORS.md]

Per dtype, ``--samples`` inputs (log-uniform magnitudes 1e-30..1e30 clipped to the dtype's
range, both signs, +-0, subnormals, the neighbourhoods of 0 and +-1) are run through the
PyTorch path (forward, backward through autograd, and the elementwise parameter
derivatives for float32/float64) and, for float32, through the Triton kernels under
``TRITON_INTERPRET=1``.  Errors are in ULPs of the output dtype at max(|true value|,
largest term of the sum); samples where the result or x^{2N+1} is within 2^p of the
smallest normal number of the compute format are counted as the underflow region and
reported apart.  The references are written from the definitions in docs/definitions.md
(tests/numerics_reference.py), independently of the generated formulas.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TRITON_INTERPRET", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402

import numerics_reference as ref  # noqa: E402

CONFIGS = [
    ("gem", {"N": 1}),
    ("gem", {"N": 3}),
    ("e_gem", {"N": 2, "eps": 2.0 ** -13}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}),
    ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}),
]
DTYPES = ["float16", "bfloat16", "float32", "float64"]
BOUND = {"float16": 1.0, "bfloat16": 1.0, "float32": 4.0, "float64": 4.0}
EDGES = [0.5, 1.0, 2.0, 3.0, 4.0]


def _histogram(errors: np.ndarray) -> list[int]:
    counts, lo = [], -1.0
    for hi in EDGES:
        counts.append(int(((errors > lo) & (errors <= hi)).sum()))
        lo = hi
    counts.append(int((errors > EDGES[-1]).sum()))
    return counts


def _provenance(script: str = "benchmarks/measure_errors.py") -> str:
    """When, on what and at which commit the errors were measured: they hold for that code."""
    import datetime
    import platform
    import subprocess

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                                  text=True, check=True).stdout.strip()

        commit = "commit " + git("rev-parse", "--short", "HEAD")
        if git("status", "--porcelain", "--", "torch_bridge"):
            commit += " with torch_bridge/ modified"
    except (OSError, subprocess.CalledProcessError):
        commit = "outside a git checkout"
    return (f"Measured {when} on {cpu} ({os.cpu_count()} CPUs), {commit}, by "
            f"`python {script}`.")


def _label(family: str, params: dict) -> str:
    inner = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in params.items())
    return f"{family}({inner})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--triton-samples", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "ERRORS.md"))
    args = parser.parse_args(argv)

    import torch

    import torch_bridge
    from torch_bridge import _runtime

    rows = []
    worst_ok = True
    started = time.time()
    for dtype in DTYPES:
        xs = ref.samples(dtype, args.samples, seed=2024)
        for family, params in CONFIGS:
            refs = [ref.reference(family, float(v), params) for v in xs]
            _runtime.set_backend("torch")
            runs = [("torch", ref.measure(family, params, dtype, xs, refs=refs))]
            # the interpreter has no bfloat16; float16 runs the kernels' plain 16-bit path
            if dtype in ("float32", "float16") and args.triton_samples:
                k = min(args.triton_samples, len(xs))
                _runtime.set_backend("triton")
                runs.append(("triton", ref.measure(family, params, dtype, xs[:k],
                                                   with_params=False, refs=refs[:k])))
                _runtime.set_backend("torch")
            for backend, out in runs:
                for quantity, (errors, excluded) in out.items():
                    kept = errors[~excluded]
                    nonfinite = int(np.isinf(errors).sum())
                    worst = float(kept.max()) if kept.size else 0.0
                    ok = nonfinite == 0 and worst <= BOUND[dtype]
                    worst_ok &= ok
                    rows.append((dtype, backend, _label(family, params), quantity,
                                 int(errors.size), int(excluded.sum()), worst,
                                 float(np.percentile(kept, 99)) if kept.size else 0.0,
                                 float(np.max(errors[excluded])) if excluded.any() else None,
                                 nonfinite, _histogram(kept), ok))
            print(f"{dtype:9s} {_label(family, params):40s} done ({time.time() - started:.0f} s)",
                  flush=True)

    lines = [
        "<!-- generated by benchmarks/measure_errors.py -- do not edit by hand -->",
        "# Measured error of the generated `torch_bridge` kernels",
        "",
        f"Reference: mpmath at 50 digits, formulas written from the definitions "
        f"(`docs/definitions.md`; `tests/numerics_reference.py`). {args.samples} sampled "
        "inputs per dtype "
        "(log-uniform magnitudes 1e-30..1e30 clipped to the dtype's range, both signs, "
        "+-0, subnormals, and the neighbourhoods of 0 and +-1 where the stable forms "
        "switch). `f` is the forward value, `d_x` the input gradient through autograd "
        "(backward op / kernel), `d_<param>` the elementwise parameter derivatives the CPU "
        "op sums (generated formulas in its compute dtype, rounded to the dtype; float32/"
        "float64). On CPU, float32 inputs are evaluated in float64 and 16-bit inputs in "
        "float32; the Triton kernels compute in float32. Errors are in ULPs of the "
        "output dtype at max(|true value|, largest term of the sum). The *underflow* "
        "column counts inputs where the result or x^{2N+1} lies within 2^p of the smallest "
        "normal number of the compute format (float32 for 16-bit inputs); they are "
        "excluded from the bound and their worst error is listed separately. "
        "`non-finite` counts inf/NaN results where the true value is finite (must be 0). "
        f"Bound: float32/float64 <= 4 ULP, 16-bit <= 1 ULP. Triton rows: float32 and float16 "
        f"kernels run by the Triton interpreter on CPU ({args.triton_samples} inputs; its "
        "division is IEEE like the kernels' `div_rn` on a GPU; bfloat16, which it lacks, was "
        "checked on an H100 by tests/test_kernels_triton.py, 4000 inputs per family).",
        "",
        f"Environment: torch {torch.__version__}, numpy {np.__version__}, "
        f"torch_bridge {torch_bridge.__version__}. {_provenance()}",
        "",
        f"**All rows within the bound: {'yes' if worst_ok else 'NO'}.**",
        "",
        "| dtype | path | family | quantity | samples | underflow | max ULP | p99 ULP "
        "| max ULP in underflow | non-finite | <=0.5 | <=1 | <=2 | <=3 | <=4 | >4 | ok |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for (dtype, backend, label, q, n, excl, worst, p99, under, nonfin, hist, ok) in rows:
        under_text = "-" if under is None else f"{under:.3g}"
        lines.append(
            f"| {dtype} | {backend} | {label} | {q} | {n} | {excl} | {worst:.2f} | {p99:.2f} "
            f"| {under_text} | {nonfin} | " + " | ".join(str(c) for c in hist)
            + f" | {'yes' if ok else 'NO'} |")
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    # keep the catalogue section benchmarks/measure_catalogue_errors.py writes after its marker
    marker = "<!-- catalogue: generated by benchmarks/measure_catalogue_errors.py"
    if out.exists() and marker in (old := out.read_text(encoding="utf-8")):
        text += "\n" + marker + old.split(marker, 1)[1]
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0 if worst_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
