"""mpmath reference values cached on disk, shared by benchmarks/measure_errors.py and
benchmarks/measure_catalogue_errors.py.

A reference set is ``tests/catalogue_reference.reference_arrays`` over an array of inputs:
{quantity: float64 array of rows (hi, lo, largest term, hi and lo of the other one-sided
value)}.  It is stored as ``<key>.npz`` under the cache folder, the key a hash of
(member, parameters, dtype, the inputs' bytes, the working precision, the source of the
reference code), so a change of any of them computes the references again and nothing
stale is ever read.  References are computed in chunks over a process pool (``--jobs``).
"""

from __future__ import annotations

import hashlib
import inspect
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

import catalogue_reference as cref  # noqa: E402
import numerics_reference as nref  # noqa: E402

__all__ = ["code_hash", "default_dps", "key", "make_pool", "progress", "references"]


def default_dps(dtype: str) -> int:
    """Working digits of the references: 50 for float32/float64, 25 for 16-bit dtypes
    (25 digits exceed a 16-bit ULP by 20 orders of magnitude)."""
    return 50 if dtype in ("float32", "float64") else 25


def code_hash() -> str:
    """Hash of the source that produces reference values: catalogue_reference but its ULP
    measure, and the SPEC formulas of numerics_reference (not the sampling or measuring
    code, which does not change a reference)."""
    parts = [inspect.getsource(cref).replace(inspect.getsource(cref.ulp_errors), "")]
    parts += [inspect.getsource(f) for f in (nref.e_gem, nref.se_gem, nref.sqish, nref.reference)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def key(name: str, params: dict, dtype: str, xs: np.ndarray, dps: int, code: str) -> str:
    """Cache key of the references of ``name(params)`` at the inputs ``xs``."""
    head = repr((name, sorted(params.items()), dtype, int(dps), code)).encode()
    return hashlib.sha256(head + np.ascontiguousarray(xs, dtype=np.float64).tobytes()).hexdigest()[:24]


def progress(message: str) -> None:
    """One line of progress on stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)


def make_pool(jobs: int):
    """A fork pool of ``jobs`` processes, or None for ``jobs <= 1`` (computed in-process)."""
    if jobs < 1:
        raise ValueError(f"jobs must be a positive integer (got {jobs!r})")
    return multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None


def _compute(name: str, params: dict, dtype: str, xs: np.ndarray, dps: int, pool) -> dict:
    jobs = pool._processes if pool else 1  # noqa: SLF001 -- the pool's own size
    chunks = [c for c in np.array_split(xs, max(1, 8 * jobs)) if len(c)]
    tasks = [(name, params, dtype, c, dps) for c in chunks]
    parts = pool.map(cref.reference_arrays, tasks) if pool else [cref.reference_arrays(t) for t in tasks]
    return {q: np.concatenate([p[q] for p in parts], axis=1) for q in parts[0]}


def references(name: str, params: dict, dtype: str, xs: np.ndarray, cache: Path, pool=None,
               dps: int | None = None, log: Callable[[str], None] | None = None) -> dict:
    """``reference_arrays`` of catalogue member ``name`` at ``xs``, read from ``cache`` when
    a set with the same key exists, else computed (over ``pool``) and stored there."""
    dps = default_dps(dtype) if dps is None else int(dps)
    if len(xs) == 0:
        raise ValueError("xs must hold at least one input (got an empty array)")
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{key(name, params, dtype, xs, dps, code_hash())}.npz"
    if path.exists():
        with np.load(path) as data:
            cols = {q: data[q] for q in data.files}
        if all(c.shape == (5, len(xs)) for c in cols.values()):
            if log:
                log(f"  references {name} {dtype}: cached ({path.name})")
            return cols
    started = time.time()
    cols = _compute(name, params, dtype, xs, dps, pool)
    # write beside and rename: a run stopped midway leaves no truncated set under the key
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **cols)
    os.replace(tmp, path)
    if log:
        log(f"  references {name} {dtype}: {len(xs)} computed in {time.time() - started:.0f} s")
    return cols
