"""Measure the ULP error of the generated ``torch_bridge`` against mpmath (50 digits) and
write the histogram to ``benchmarks/ERRORS.md``.

    PYTHONPATH=. python benchmarks/measure_errors.py [--samples 100000] [--jobs 2]
        [--cache DIR] [--out benchmarks/ERRORS.md]

Per dtype, ``--samples`` inputs (log-uniform magnitudes 1e-30..1e30 clipped to the dtype's
range, both signs, +-0, subnormals, the neighbourhoods of 0 and +-1, and ``--samples`` / 20
more log-uniform magnitudes from the smallest normal number to 1e-30) are run through the
PyTorch path (forward, backward through autograd, and the elementwise parameter
derivatives for float32/float64) and, for float32 and float16, through the Triton kernels
under ``TRITON_INTERPRET=1``.  Errors are in ULPs of the output dtype at max(|true value|,
largest term of the sum), and the forward value also in ULPs of |true value| alone
(``f rel``); samples where the result or x^{2N+1} is within 2^p of the smallest normal
number of the compute format are counted as the underflow region and reported apart.  The
references are written from the definitions in docs/definitions.md
(tests/numerics_reference.py), independently of the generated formulas, and cached under
``--cache`` (benchmarks/_refcache.py): a second run only evaluates the package.  Progress
goes to stderr.  Exit status 0 when every row is within its bound, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import math
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TRITON_INTERPRET", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402

import numerics_reference as ref  # noqa: E402

CONFIGS = [
    ("gem", {"N": 1}),
    ("gem", {"N": 3}),
    ("e_gem", {"N": 2, "eps": 2.0 ** -13}),
    ("se_gem", {"N": 1, "eps": 1.0}),
    ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}),
    ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}),
    # a < 0: a x and (1 - a) x sigma cancel near 0 (a = -1, beta = 1 is x tanh(2 gamma x))
    ("sqish", {"a": -1.0, "beta": 1.0, "gamma": 1.0}),
]
#: the built-in families under their catalogue names (tests/catalogue_reference.py)
CATALOGUE_NAME = {"gem": "gem", "e_gem": "e-gem", "se_gem": "se-gem", "sqish": "sqish"}
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


@functools.lru_cache(maxsize=None)
def _underflow_limit(dtype: str, compute: str | None) -> float:
    """The power of two below which ``numerics_reference.near_underflow`` counts a true value
    as underflow, read from that function itself (one definition of the region)."""
    kw = {} if compute is None else {"compute": compute}
    for k in range(-1074, 1):
        if not ref.near_underflow(0.0, "sqish", {}, 2.0 ** k, dtype, **kw):
            return 2.0 ** k
    raise RuntimeError(f"near_underflow excludes every value for dtype {dtype!r}")


def underflow_mask(family: str, params: dict, dtype: str, xs: np.ndarray, values: np.ndarray,
                   compute: str | None = None) -> np.ndarray:
    """Vectorised ``numerics_reference.near_underflow``: the true value, or |x|^{2N+1} for
    the GEM families, below 2^(p + 1) times the smallest normal number of the compute
    format (p its mantissa bits; ``compute`` as near_underflow takes it)."""
    limit = _underflow_limit(dtype, compute)
    # a true value below float64's subnormals is stored as 0; Sqish's quantities are
    # exactly 0 only at x = 0, the GEM families' where x <= 0 or x^{2N+1} decides
    nonzero = (values != 0) | ((xs != 0) if family == "sqish" else False)
    mask = nonzero & (np.abs(values) < limit)
    if family in ("gem", "e_gem", "se_gem"):
        with np.errstate(under="ignore"):
            power = np.abs(xs) ** (2 * params["N"] + 1)
        mask |= (xs != 0) & (power < limit)
    return mask


def errors(family: str, params: dict, dtype: str, xs: np.ndarray, computed: dict,
           refs: dict, compute: str | None = None) -> dict:
    """{quantity: (ULP errors, underflow mask)} of ``computed`` against the cached
    reference rows: at max(|true|, largest term), and ``f rel`` at |true| alone."""
    from catalogue_reference import ulp_errors

    out = {}
    for q, vals in computed.items():
        rows = refs[q]
        out[q] = (ulp_errors(vals, rows, dtype),
                  underflow_mask(family, params, dtype, xs, rows[0], compute))
        if q == "f":
            alone = rows.copy()
            alone[2] = 0.0  # no largest term: the error relative to the true value
            out["f rel"] = (ulp_errors(vals, alone, dtype), out[q][1])
    return out


def _exception(what: str, xs: np.ndarray, errs: np.ndarray, excluded: np.ndarray,
               computed: np.ndarray, rows: np.ndarray) -> str:
    """One line naming a row over its bound: the worst input outside underflow and the
    first inf/NaN where the true value is finite."""
    parts = []
    kept = np.where(~excluded & np.isfinite(errs), errs, -1.0)
    if kept.max() >= 0:
        i = int(np.argmax(kept))
        parts.append(f"max {errs[i]:.3g} ULP at x={xs[i]:.9g}: got {computed[i]:.9g}, "
                     f"true {rows[0][i]:.9g}")
    bad = np.isinf(errs)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        parts.append(f"{int(bad.sum())} inf/NaN, e.g. x={xs[i]:.6g}: got {computed[i]}, "
                     f"true {rows[0][i]:.6g}")
    return f"{what}: " + "; ".join(parts)


def main(argv=None) -> int:
    import tempfile

    import _refcache
    import error_causes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--triton-samples", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes computing references that are not cached yet")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "gemsym-builtin-refs"),
                        help="folder of cached mpmath references")
    parser.add_argument("--only", action="append", choices=sorted(CATALOGUE_NAME),
                        help="families to measure (repeatable; default all)")
    parser.add_argument("--dtype", action="append", choices=DTYPES,
                        help="dtypes to measure (repeatable; default all)")
    parser.add_argument("--package", help="a generated package folder named torch_bridge to "
                        "measure instead of the checkout's (e.g. from gemsym codegen --out)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "ERRORS.md"))
    args = parser.parse_args(argv)
    if args.package is not None:
        pkg = Path(args.package).resolve()
        if pkg.name != "torch_bridge" or not (pkg / "__init__.py").is_file():
            parser.error(f"--package must be a folder named torch_bridge holding __init__.py "
                         f"(got {args.package!r})")
        if "torch_bridge" in sys.modules and Path(sys.modules["torch_bridge"].__file__).parent != pkg:
            parser.error("--package: another torch_bridge is already imported in this process")
        sys.path.insert(0, str(pkg.parent))
    for name, value, least in (("--samples", args.samples, 100), ("--jobs", args.jobs, 1),
                               ("--triton-samples", args.triton_samples, 0)):
        if value < least:
            parser.error(f"{name} must be an integer >= {least} (got {value})")

    import torch

    import torch_bridge
    from torch_bridge import _runtime

    log = _refcache.progress
    # the Triton kernels compute in float32 whatever the CPU path's compute dtype is
    takes_compute = "compute" in inspect.signature(ref.near_underflow).parameters
    triton_compute = "float32" if takes_compute else None
    # the Triton interpreter evaluates in numpy, which warns on the overflow of guarded forms
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"triton\.")
    cache = Path(args.cache)
    dtypes = [d for d in DTYPES if not args.dtype or d in args.dtype]
    configs = [c for c in CONFIGS if not args.only or c[0] in args.only]
    rows, exceptions, unexplained = [], [], 0
    worst_ok = True
    started = time.time()
    pool = _refcache.make_pool(args.jobs)
    previous = _runtime.get_backend()
    try:
        for dtype in dtypes:
            xs = ref.samples(dtype, args.samples, seed=2024)
            for family, params in configs:
                refs = _refcache.references(CATALOGUE_NAME[family], params, dtype, xs, cache,
                                            pool, dps=50, log=log)
                _runtime.set_backend("torch")
                got = ref.computed_values(family, params, dtype, xs)
                runs = [("torch", xs, got, refs, None)]
                # the interpreter has no bfloat16; float16 runs the kernels' plain 16-bit path
                if dtype in ("float32", "float16") and args.triton_samples:
                    k = min(args.triton_samples, len(xs))
                    _runtime.set_backend("triton")
                    try:
                        got = ref.computed_values(family, params, dtype, xs[:k], with_params=False)
                    finally:
                        _runtime.set_backend("torch")
                    runs.append(("triton", xs[:k], got, {q: r[:, :k] for q, r in refs.items()},
                                 triton_compute))
                for backend, at, got, rs, compute in runs:
                    for quantity, (errs, excluded) in errors(family, params, dtype, at, got, rs,
                                                             compute).items():
                        kept = errs[~excluded]
                        nonfinite = int(np.isinf(errs).sum())
                        worst = float(kept.max()) if kept.size else 0.0
                        ok = nonfinite == 0 and worst <= BOUND[dtype]
                        worst_ok &= ok
                        if not ok:
                            known = (error_causes.cause_of(_label(family, params), dtype, quantity,
                                                           worst) if nonfinite == 0 else None)
                            unexplained += known is None
                            exceptions.append(_exception(
                                f"{_label(family, params)} {dtype} {backend} {quantity}", at,
                                errs, excluded, got[quantity.split()[0]], rs[quantity.split()[0]])
                                + (f". Measured cause: {known}" if known else ". Cause not measured"))
                        rows.append((dtype, backend, _label(family, params), quantity,
                                     int(errs.size), int(excluded.sum()), worst,
                                     float(np.percentile(kept, 99)) if kept.size else 0.0,
                                     float(np.max(errs[excluded])) if excluded.any() else None,
                                     nonfinite, _histogram(kept), ok))
                log(f"{dtype:9s} {_label(family, params):40s} done ({time.time() - started:.0f} s)")
    finally:
        _runtime.set_backend(previous)
        if pool:
            pool.close()

    script = "benchmarks/measure_errors.py" + "".join(
        f" --{k} {v}" for k, v in (("samples", args.samples), ("triton-samples", args.triton_samples))
        if v != parser.get_default(k.replace("-", "_"))) + (
        f" --package {args.package}" if args.package else "")
    # what the section says of compute dtypes and the underflow region comes from the
    # runtime and from near_underflow, not from a copy of their rules
    cpu = torch.device("cpu")
    compute_text = ", ".join(
        f"{str(_runtime._plan(getattr(torch, d), cpu)[0]).replace('torch.', '')} for {d}"
        for d in dtypes)
    limit_text = ", ".join(
        f"2^{math.frexp(_underflow_limit(d, None))[1] - 1} for {d}" for d in dtypes)
    if triton_compute:
        limit_text += (", and 2^" + str(math.frexp(_underflow_limit("float32", "float32"))[1] - 1)
                       + " on the Triton rows")
    lines = [
        "<!-- generated by benchmarks/measure_errors.py -- do not edit by hand -->",
        "# Measured error of the generated `torch_bridge` kernels",
        "",
        f"Reference: mpmath at 50 digits, formulas written from the definitions "
        f"(`docs/definitions.md`; `tests/numerics_reference.py`). {args.samples} sampled "
        "inputs per dtype "
        "(log-uniform magnitudes 1e-30..1e30 clipped to the dtype's range, both signs, "
        "+-0, subnormals, and the neighbourhoods of 0 and +-1 where the stable forms "
        "switch; and samples/20 more log-uniform magnitudes from the smallest normal number "
        "to 1e-30). `f` is the forward value, `d_x` the input gradient through autograd "
        "(backward op / kernel), `d_<param>` the elementwise parameter derivatives the CPU "
        "op sums (generated formulas in its compute dtype, rounded to the dtype; float32/"
        f"float64). On CPU the inputs are evaluated in {compute_text}; the Triton kernels "
        "compute in float32. Errors are in ULPs of the "
        "output dtype at max(|true value|, largest term of the sum); `f rel` is the forward "
        "value in ULPs of |true value| alone (relative error, which a sum that cancels, as "
        "Sqish's a x + (1 - a) x sigma does for a < 0 near 0, cannot hide behind its largest "
        "term). Families and regimes: GEM N = 1, 3; E-GEM; SE-GEM; Sqish a = 0, a = 0.25 "
        "and a < 0 (a = -1, beta = 1: x tanh(2 gamma x)). The *underflow* "
        "column counts inputs where the result or x^{2N+1} lies within 2^p of the smallest "
        f"normal number of the compute format (below {limit_text}); they are "
        "excluded from the bound and their worst error is listed separately. "
        "`non-finite` counts inf/NaN results where the true value is finite (must be 0). "
        f"Bound: float32/float64 <= 4 ULP, 16-bit <= 1 ULP. Triton rows: float32 and float16 "
        f"kernels run by the Triton interpreter on CPU ({args.triton_samples} inputs; its "
        "division is IEEE like the kernels' `div_rn` on a GPU; bfloat16, which it lacks, was "
        "checked on an H100 by tests/test_kernels_triton.py, 4000 inputs per family).",
        "",
        f"Environment: torch {torch.__version__}, numpy {np.__version__}, "
        f"torch_bridge {torch_bridge.__version__}. {_provenance(script)}",
        "",
        f"**All rows within the bound: {'yes' if worst_ok else 'NO'}.**"
        + ("" if worst_ok else f" Exceptions ({len(exceptions)}; "
           + (f"{unexplained} without a measured cause" if unexplained
              else "each with its measured cause, `benchmarks/error_causes.py`") + "):"),
        "",
        *[f"- {e}" for e in exceptions],
        *([""] if exceptions else []),
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
    log(f"wrote {out} ({time.time() - started:.0f} s)")
    return 0 if worst_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
