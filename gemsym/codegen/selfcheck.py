"""The generated formulas of each family against mpmath, where ``gemsym codegen`` writes them.

A catalogue member's accuracy is measured by ``benchmarks/measure_catalogue_errors.py``; a
family a user writes is generated from the same rules, and a rule that misses a cancellation
gives a wrong number silently (the bent identity (sqrt(x^2 + 1) - 1)/2 + x printed as
x + hypot(x, 1)/2 - 1/2 is 0 at x = 1e-20).  :func:`check_package` evaluates f and df/dx of
every family of a written package (its plain PyTorch path, float32 and float64 inputs,
parameters at their defaults, and its fused C++ kernel on float32 inputs where the package's
kernels are built) at about 170 inputs, in a child process that imports torch, and compares
them with mpmath's values of the family's own branch expressions (at a precision sized to
the input, raised until they settle).

The error of a value is counted in ULPs of the input's dtype at max(|v|, |x v'|), v the
true value: the change of v that half an ULP of x makes is ~|x v'| 2^-p, so a value near a
root of v away from 0 is held to what its input allows, and a value whose relative error
grows from a rounding of its own (a cancellation) is not excused.  Values that are not
normal numbers of the dtype (or within 2^24 of its underflow), or beyond its largest one,
are not counted.  The bound is ``benchmarks/ERRORS.md``'s: 4 ULP.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mpmath
import sympy as sp

from ..activation import Activation
from ..progress import ProgressCallback

__all__ = ["BOUND", "FORMULAS", "KERNEL", "WorstError", "check_package", "sample_points"]

#: the accuracy contract of benchmarks/ERRORS.md for float32 and float64, in ULPs
BOUND = 4.0
_DIGITS = 60
#: (mantissa bits, smallest normal exponent, largest finite value) per dtype
_FORMATS = {"float32": (23, -126, 3.4028234663852886e38),
            "float64": (52, -1022, 1.7976931348623157e308)}
#: the package's paths a value is taken by: its PyTorch formulas, its fused C++ kernel
FORMULAS = "PyTorch formulas"
KERNEL = "C++ kernel"
#: the dtypes the C++ kernel takes among those checked (float64 runs the formulas)
_KERNEL_DTYPES = ("float32",)


@dataclass(frozen=True)
class WorstError:
    """The worst counted value of one family's quantity (``f``, ``d_x``) in one dtype by one
    of the package's paths (:data:`FORMULAS`, :data:`KERNEL`): at input ``x`` the package
    gave ``got`` where mpmath gives ``want``, ``ulps`` apart (inf: a non-finite value where
    the true one is finite); ``within`` the bound :data:`BOUND`."""

    family: str
    quantity: str
    dtype: str
    x: float
    got: float
    want: float
    ulps: float
    path: str = FORMULAS

    @property
    def within(self) -> bool:
        return self.ulps <= BOUND

    def __str__(self) -> str:
        name = "f" if self.quantity == "f" else "df/dx"
        by = " by the C++ kernel" if self.path == KERNEL else ""
        return (f"{self.family}: {name} of a {self.dtype} input{by} at x = {self.x!r} is "
                f"{self.got!r}, mpmath gives {self.want:.17g} ({self.ulps:.3g} ULP, bound "
                f"{BOUND:g})")


def sample_points(junctions) -> list[float]:
    """Inputs of both signs with magnitudes 10^-30 .. 10^30 (one a decade, two from 10^-4
    to 10^4 and four from 10 to 1000, where exp's terms trade places; mantissas varied),
    41 evenly in [-16, 16] and each numeric junction's neighbours at 10^-3 and 10^-6
    relative; each a float32, so float32 and float64 inputs are the same numbers and share
    their references."""
    out = []
    grid = [(k, 1) for k in range(-30, 31)] + [(k, 2) for k in range(-8, 9)]
    for k, per in grid + [(k, 4) for k in range(4, 12)]:
        m = 10.0 ** (k / per) * (1 + 0.137 * (k % 3))
        out += [m, -m]
    out += [-16 + 0.8 * i + 0.0123 for i in range(41)]
    for j in junctions:
        if j.is_number and j.is_finite:
            jv = float(j)
            for d in (1e-3, 1e-6):
                step = d * max(abs(jv), 1.0)
                out += [jv - step, jv + step]
    return sorted({_float32(v) for v in out})


def _float32(v: float) -> float:
    import struct
    return struct.unpack("f", struct.pack("f", v))[0]


def _references(act: Activation, xs: list[float], params: dict):
    """{quantity: [(value, scale) or None]} of f and df/dx at ``xs`` by mpmath, scale =
    max(|v|, |x v'|) and, for df/dx, its terms' magnitudes; None where a value is not
    settled (``_settled``)."""
    x = act.x
    # the parameters as the package takes them: a float's binary value, exactly
    values = {p.symbol: (sp.Integer(params[p.name]) if p.integer
                         else sp.Float(params[p.name], _DIGITS)) for p in act.parameters}
    pieces = []
    for b in act.branches:
        f = sp.sympify(b.expr).xreplace(values)
        d1 = sp.diff(f, x)
        d2 = sp.diff(d1, x)
        lo, hi = (float(v) if v.is_finite else (-math.inf if v < 0 else math.inf)
                  for v in (sp.sympify(b.lower).xreplace(values),
                            sp.sympify(b.upper).xreplace(values)))
        # df/dx's terms as SymPy writes its sum: ERRORS.md counts a derivative's error at
        # its largest term (Snake's 1 + sin(2 a x) near a double zero)
        exprs = (f, d1, d2, *sp.Add.make_args(d1))
        pieces.append((lo, hi, [sp.lambdify(x, e, modules=[_GUARDED, "mpmath"])
                                for e in exprs]))
    out: dict[str, list] = {"f": [], "d_x": []}
    for v in xs:
        piece = next((p for p in pieces if p[0] < v < p[1]), None)
        # a junction itself (one-sided values) is not checked
        f, d1, d2, *terms = [None] * 3 if piece is None else _settled(piece[2], v)
        t = mpmath.mpf(v)
        out["f"].append(None if f is None or d1 is None else (f, max(abs(f), abs(t * d1))))
        out["d_x"].append(None if d1 is None or d2 is None or None in terms
                          else (d1, max(abs(d1), abs(t * d2), *map(abs, terms))))
    return out


class _Huge(ArithmeticError):
    """An argument past 2^(2^20): mpmath would build an integer of that many bits."""


def _guard(fn):
    def guarded(*args):
        for a in args:
            if isinstance(a, mpmath.mpf) and a and mpmath.isfinite(a) and mpmath.mag(a) > 2**20:
                raise _Huge(fn.__name__)
        return fn(*args)
    return guarded


#: mpmath's functions that reduce their argument to a precision of its magnitude, for
#: ``sp.lambdify``, each refusing a huge argument (TanhExp's tanh(e^x) at x = 10^30 would
#: need an integer of 10^30 bits; a logarithm or a root of it is cheap)
_GUARDED = {name: _guard(getattr(mpmath, name)) for name in (
    "exp", "expm1", "tanh", "sinh", "cosh", "sech", "sin", "cos", "tan", "erf", "erfc")}


def _settled(functions, v: float) -> list:
    """The value of each of ``functions`` at v, at the first of 2, 4, 8 times P digits where
    the previous precision gave it within 2^-80 of its magnitude, and a 0 only at 8 P.  An
    expression that cancels loses digits at any precision (the user's own sqrt(x^2 + 1) - 1
    at x = 1e-30 needs 60 more, log(1 + e^-403) 175), and two precisions that both lose
    them agree: P is 60 digits plus what a term can lose at v (``depth``).  None for one
    that does not settle or cannot be evaluated (an argument past 2^(2^20): ``_GUARDED``)."""
    # the digits a term of a result in float64's range can be absorbed by: e^x against 1
    # (0.43 |x| up to the range), x^k against 1 (k |log10 |x||)
    depth = int(0.5 * min(abs(v), 750.0) + 4 * abs(math.log10(abs(v)))) if v else 0

    def at(g, digits: int):
        with mpmath.workdps(digits):
            try:
                return mpmath.mpf(g(mpmath.mpf(v)))
            except (TypeError, ValueError, ZeroDivisionError, ArithmeticError, MemoryError):
                return None

    out = []
    first = _DIGITS + depth
    for g in functions:
        digits, low, value = first, at(g, first), None
        while low is not None and digits <= 4 * first:
            high = at(g, 2 * digits)
            if high is None:
                break
            # an exact 0 may be a sum that no precision yet resolved (log(1 + 1e-175))
            if abs(low - high) <= abs(high) * mpmath.mpf(2) ** -80 and (
                    high != 0 or digits == 4 * first):
                value = high
                break
            digits, low = 2 * digits, high
        out.append(value)
    return out


def _ulps(got: float, want, scale, dtype: str) -> float | None:
    """ULPs of ``dtype`` at ``scale`` between got and want; None where not counted."""
    mant, emin, largest = _FORMATS[dtype]
    if not mpmath.isfinite(want) or abs(want) > largest or scale < 2.0 ** (emin + mant + 2):
        return None
    if not math.isfinite(got):
        return math.inf
    exponent = max(int(mpmath.floor(mpmath.log(scale, 2))), emin)
    return float(abs(mpmath.mpf(got) - want) / mpmath.mpf(2) ** (exponent - mant))


def _evaluate(package: Path, calls: list[dict]) -> list[dict | None]:
    """The package's f and df/dx for each call (``fn``, ``args``, ``dtype``, ``xs``,
    ``kernel``: by the C++ kernel, else by the formulas), by a child process (torch imported
    there); None for a kernel call whose family has no built kernel."""
    env = dict(os.environ)
    env.pop("TORCH_BRIDGE_CPU_KERNEL", None)
    env["PYTHONPATH"] = os.pathsep.join([str(package.parent), env.get("PYTHONPATH", "")])
    request = json.dumps({"package": package.name, "calls": calls})
    done = subprocess.run([sys.executable, "-m", "gemsym.codegen._selfcheck_child"],
                          input=request, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the generated package could not be evaluated ({last})")
    return json.loads(done.stdout)["results"]


def check_package(families: list[Activation], package: Path,
                  progress: ProgressCallback | None = None) -> list[WorstError]:
    """The worst value of each family's f and df/dx in float32 and float64 by the package's
    formulas, and in float32 by its C++ kernel where that is built, at
    :func:`sample_points`, its parameters at their defaults (one entry each where a value
    was counted).  ``RuntimeError`` where the package cannot be evaluated."""
    calls, refs = [], []
    for i, act in enumerate(families):
        params = {p.name: (int(p.default) if p.integer else float(p.default))
                  for p in act.parameters}
        ints = [params[p.name] for p in act.parameters if p.integer]
        reals = [params[p.name] for p in act.parameters if not p.integer]
        xs = sample_points(act.junctions)
        ref = _references(act, xs, params)
        for path, dtypes in ((FORMULAS, _FORMATS), (KERNEL, _KERNEL_DTYPES)):
            for dtype in dtypes:
                calls.append({"fn": act.identifier, "args": ints + reals, "dtype": dtype,
                              "xs": xs, "kernel": path == KERNEL})
                refs.append((act, dtype, xs, ref, path))
        if progress is not None:
            progress(i + 1, len(families) + 1, act.name)
    results = _evaluate(package, calls)
    if progress is not None:
        progress(len(families) + 1, len(families) + 1, "the package's values")
    out = []
    for (act, dtype, xs, ref, path), got in zip(refs, results):
        if got is None:
            continue
        for q in ("f", "d_x"):
            worst = None
            for v, g, r in zip(xs, got[q], ref[q]):
                e = None if r is None else _ulps(g, r[0], r[1], dtype)
                if e is not None and (worst is None or e > worst.ulps):
                    worst = WorstError(act.name, q, dtype, v, g, float(r[0]), e, path)
            if worst is not None:
                out.append(worst)
    return out
