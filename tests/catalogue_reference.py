"""mpmath references for every catalogue member, written from the papers' formulas (not from
the package's expressions), shared by tests/test_catalogue_numerics.py and
benchmarks/measure_catalogue_errors.py.

``reference(name, x, params, side)`` returns ``{quantity: (value, largest term)}`` at the
working precision for ``f``, ``d_x`` and ``d_<param>`` (hand-derived partial derivatives;
``tests/test_catalogue_numerics.py`` checks them against ``mpmath.diff`` of ``f``).  At a
junction ``x == j`` the branch is the left one when ``side < 0`` and the right one otherwise,
so a kink is measured against both one-sided derivatives.  GEM, E-GEM, SE-GEM and Sqish
come from ``numerics_reference`` (SPEC formulas).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np

import numerics_reference as nref

mp.mp.dps = 50

#: Junctions (points where the branch changes) per member, as functions of the parameters.
JUNCTIONS = {
    "relu": lambda p: [0], "leaky-relu": lambda p: [0], "max-ax-x": lambda p: [0],
    "relu6": lambda p: [0, 6], "relu2": lambda p: [0], "hardsigmoid": lambda p: [-3, 3],
    "hardswish": lambda p: [-3, 3], "elu": lambda p: [0], "selu": lambda p: [0],
    "celu": lambda p: [0], "smelu": lambda p: [-p["beta"], p["beta"]],
    "isrlu": lambda p: [0], "softsign": lambda p: [0], "safe-pade": lambda p: [0],
    "gem": lambda p: [0], "e-gem": lambda p: [0], "se-gem": lambda p: [0],
}


def _left(x, j, side: int) -> bool:
    return x < j or (x == j and side < 0)


def _out(**quantities) -> dict:
    """{name: (sum of terms, largest |term|)} from tuples of terms (or single values)."""
    res = {}
    for name, terms in quantities.items():
        terms = terms if isinstance(terms, tuple) else (terms,)
        terms = [mp.mpf(t) for t in terms]
        res[name] = (mp.fsum(terms), max(abs(t) for t in terms))
    return res


def _sig(t):
    return 1 / (1 + mp.exp(-t))


#: beyond this |argument| exp(-t^2/2), erfc and sech are far below float64's subnormals
#: (mpmath's erfc would build a huge-precision series there)
_HUGE = mp.mpf(10) ** 4


def _phi(t):  # standard normal density
    if abs(t) > _HUGE:
        return mp.mpf(0)
    return mp.exp(-t * t / 2) / mp.sqrt(2 * mp.pi)


def _Phi(t):  # standard normal CDF, without cancellation for t << 0
    if abs(t) > _HUGE:
        return mp.mpf(0) if t < 0 else mp.mpf(1)
    return mp.erfc(-t / mp.sqrt(2)) / 2


def _slope(x, a, side):
    """max(a x, x)-type rectifier with slope a left of 0 (ReLU, leaky ReLU, max(ax, x))."""
    if _left(x, 0, side):
        return _out(f=a * x, d_x=a, d_a=x)
    return _out(f=x, d_x=1, d_a=0)


def _relu6(x, side):
    if _left(x, 0, side):
        return _out(f=0, d_x=0)
    if _left(x, 6, side):
        return _out(f=x, d_x=1)
    return _out(f=6, d_x=0)


def _hardswish(x, side, times_x: bool):
    # Howard et al. 2019: h-sigmoid(x) = ReLU6(x + 3)/6, h-swish(x) = x h-sigmoid(x)
    if _left(x, -3, side):
        return _out(f=0, d_x=0)
    if _left(x, 3, side):
        if times_x:
            return _out(f=x * (x + 3) / 6, d_x=(x / 6, (x + 3) / 6))
        return _out(f=(x / 6, mp.mpf(1) / 2), d_x=mp.mpf(1) / 6)
    return _out(f=x, d_x=1) if times_x else _out(f=1, d_x=0)


def _elu(x, lam, alpha, side):
    # Klambauer et al. 2017 (SELU): lambda x for x > 0, lambda alpha (e^x - 1) for x <= 0
    if _left(x, 0, side):
        em1 = mp.expm1(x)
        return _out(f=lam * alpha * em1, d_x=lam * alpha * mp.exp(x), d_lambda=alpha * em1,
                    d_alpha=lam * em1)
    return _out(f=lam * x, d_x=lam, d_lambda=x, d_alpha=0)


def _celu(x, alpha, side):
    # Barron 2017: max(0, x) + min(0, alpha (e^{x/alpha} - 1))
    if _left(x, 0, side):
        e = mp.exp(x / alpha)
        return _out(f=alpha * mp.expm1(x / alpha), d_x=e,
                    d_alpha=(mp.expm1(x / alpha), -x / alpha * e))
    return _out(f=x, d_x=1, d_alpha=0)


def _gelu_tanh(x):
    # Hendrycks & Gimpel 2016: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    c, k = mp.sqrt(2 / mp.pi), mp.mpf("0.044715")
    u = c * (x + k * x ** 3)
    # 1 + tanh(u) = 2 sigma(2u) without cancellation for u << 0
    g = _sig(2 * u)
    sech2 = 4 * g * (1 - g)
    return _out(f=x * g, d_x=(g, x * sech2 / 2 * c * (1 + 3 * k * x * x)))


def _swish(x, beta):
    # Ramachandran et al. 2017: x sigma(beta x)
    s = _sig(beta * x)
    ds = s * _sig(-beta * x)
    return _out(f=x * s, d_x=(s, beta * x * ds), d_beta=x * x * ds)


def _softplus(x, beta):
    # PyTorch Softplus(beta): log(1 + e^{beta x})/beta
    sp = mp.log1p(mp.exp(beta * x))
    return _out(f=sp / beta, d_x=_sig(beta * x),
                d_beta=(x * _sig(beta * x) / beta, -sp / beta ** 2))


def _mish(x):
    # Misra 2019: x tanh(softplus(x))
    sp = mp.log1p(mp.exp(x))
    t = mp.tanh(sp)
    return _out(f=x * t, d_x=(t, x * mp.sech(sp) ** 2 * _sig(x)))


def _tanhexp(x):
    # Liu & Di 2020: x tanh(e^x)
    e = mp.exp(x)
    if e > _HUGE:
        return _out(f=x, d_x=(1, 0))
    return _out(f=x * mp.tanh(e), d_x=(mp.tanh(e), x * e * mp.sech(e) ** 2))


def _squareplus(x, b):
    # Barron 2021: (x + sqrt(x^2 + b))/2
    r = mp.sqrt(x * x + b)
    return _out(f=(x / 2, r / 2), d_x=(mp.mpf(1) / 2, x / (2 * r)), d_b=1 / (4 * r))


def _smelu(x, beta, side):
    # Shamir, Lin & Coviello 2020: 0 | (x + beta)^2/(4 beta) | x
    if _left(x, -beta, side):
        return _out(f=0, d_x=0, d_beta=0)
    if _left(x, beta, side):
        return _out(f=(x + beta) ** 2 / (4 * beta), d_x=(x + beta) / (2 * beta),
                    d_beta=((x + beta) / (2 * beta), -(x + beta) ** 2 / (4 * beta ** 2)))
    return _out(f=x, d_x=1, d_beta=0)


def _isrlu(x, alpha, side):
    # Carlile et al. 2017: x / sqrt(1 + alpha x^2) for x < 0, x otherwise
    if _left(x, 0, side):
        q = 1 + alpha * x * x
        return _out(f=x / mp.sqrt(q), d_x=q ** mp.mpf(-1.5), d_alpha=-x ** 3 / (2 * q ** 1.5))
    return _out(f=x, d_x=1, d_alpha=0)


def _softsign(x):
    return _out(f=x / (1 + abs(x)), d_x=1 / (1 + abs(x)) ** 2)


def _safe_pade(x, side):
    # Molina et al. 2020 safe Pade unit P(x)/(1 + |Q(x)|-type), coefficients of the catalogue
    n = mp.mpf(1) / 50 + x / 2 + x * x / 3
    s = -1 if _left(x, 0, side) else 1
    d = 1 + s * x / 5 + x * x / 7
    dn, dd = mp.mpf(1) / 2 + 2 * x / 3, mp.mpf(s) / 5 + 2 * x / 7
    return _out(f=n / d, d_x=(dn / d, -n * dd / d ** 2))


def _snake(x, a):
    # Liu Ziyin et al. 2020: x + sin^2(a x)/a
    s = mp.sin(a * x)
    return _out(f=(x, s * s / a), d_x=(1, mp.sin(2 * a * x)),
                d_a=(x * mp.sin(2 * a * x) / a, -s * s / a ** 2))


def reference(name: str, x, params: dict, side: int = 1) -> dict:
    """{quantity: (value, largest term)} for catalogue member ``name`` at ``x``."""
    x = mp.mpf(x)
    p = {k: (v if k == "N" else mp.mpf(v)) for k, v in params.items()}
    if name in ("relu", "leaky-relu", "max-ax-x"):
        a = p.get("alpha", p.get("a", mp.mpf(0)))
        out = _slope(x, a, side)
        d_a = out.pop("d_a")
        if name != "relu":
            out["d_alpha" if name == "leaky-relu" else "d_a"] = d_a
        return out
    if name == "relu6":
        return _relu6(x, side)
    if name == "relu2":
        return _out(f=0, d_x=0) if _left(x, 0, side) else _out(f=x * x, d_x=2 * x)
    if name in ("hardsigmoid", "hardswish"):
        return _hardswish(x, side, name == "hardswish")
    if name == "elu":
        out = _elu(x, 1, p["alpha"], side)
        del out["d_lambda"]
        return out
    if name == "selu":
        return _elu(x, p["lambda"], p["alpha"], side)
    if name == "celu":
        return _celu(x, p["alpha"], side)
    if name in ("gelu", "gelu-beta"):
        beta = p.get("beta", mp.mpf(1))
        out = _out(f=x * _Phi(beta * x), d_x=(_Phi(beta * x), beta * x * _phi(beta * x)),
                   d_beta=x * x * _phi(beta * x))
        if name == "gelu":
            del out["d_beta"]
        return out
    if name == "gelu-tanh":
        return _gelu_tanh(x)
    if name in ("silu", "swish"):
        out = _swish(x, p.get("beta", mp.mpf(1)))
        if name == "silu":
            del out["d_beta"]
        return out
    if name == "mish":
        return _mish(x)
    if name == "tanhexp":
        return _tanhexp(x)
    if name == "softplus":
        return _softplus(x, p["beta"])
    if name == "squareplus":
        return _squareplus(x, p["b"])
    if name == "smelu":
        return _smelu(x, p["beta"], side)
    if name == "isrlu":
        return _isrlu(x, p["alpha"], side)
    if name == "softsign":
        return _softsign(x)
    if name == "safe-pade":
        return _safe_pade(x, side)
    if name == "snake":
        return _snake(x, p["a"])
    if name in ("gem", "e-gem", "se-gem"):
        if x == 0 and side < 0 and name == "se-gem":
            x = -mp.mpf(0)  # both sides of SE-GEM's junction are 0 with d/dx 0
        q = {"N": params["N"], "eps": params.get("eps", 1.0)}
        out = nref.reference(name.replace("-", "_"), x, q)
        if name == "gem":
            out.pop("d_eps", None)
        return out
    if name == "sqish":
        return nref.reference("sqish", x, params)
    raise ValueError(f"name must be a catalogue member (got {name!r})")


# ------------------------------------------------------------------ arrays and ULPs
def reference_arrays(task) -> dict:
    """For ``task = (name, params, dtype, xs[, dps])``: {quantity: float64 array of rows (hi,
    lo, largest term, hi and lo of the other one-sided value)}: the value as a double-double
    (enough for float64 ULPs), at ``dps`` digits (default 50; 25 for 16-bit dtypes)."""
    name, params, dtype, xs, *rest = task
    mp.mp.dps = rest[0] if rest else (50 if dtype in ("float32", "float64") else 25)
    joints = {float(j) for j in JUNCTIONS.get(name, lambda p: [])(params)}
    cols: dict = {}
    for i, x in enumerate(xs):
        right = reference(name, float(x), params, side=1)
        left = reference(name, float(x), params, side=-1) if float(x) in joints else right
        for q, (value, scale) in right.items():
            c = cols.setdefault(q, np.zeros((5, len(xs))))
            hi = float(value)
            c[0, i], c[2, i] = hi, float(scale)
            c[1, i] = float(value - hi) if math.isfinite(hi) else 0.0
            other = left[q][0]
            c[3, i] = float(other)
            c[4, i] = float(other - c[3, i]) if math.isfinite(c[3, i]) else 0.0
    return cols


def ulp_errors(computed: np.ndarray, ref: np.ndarray, dtype: str) -> np.ndarray:
    """ULP error at max(|true|, largest term), the nearer side at junctions; inf where a
    finite true value (in ``dtype``) gives inf/NaN, 0 where both overflow alike."""
    fmax = nref.FORMATS[dtype][2]
    mant, emin, _ = nref.FORMATS[dtype]
    best = np.full(computed.shape, np.inf)
    for hi, lo in ((ref[0], ref[1]), (ref[3], ref[4])):
        scale = np.maximum(np.abs(hi), ref[2])
        with np.errstate(all="ignore"):
            usable = np.isfinite(scale) & (scale > 0)
            # frexp, not floor(log2): log2 rounds values just below 2^k up to k
            e = np.where(usable, np.frexp(np.where(usable, scale, 1.0))[1] - 1, emin)
            spacing = 2.0 ** (np.maximum(e, emin) - mant)
            err = np.abs((computed - hi) - lo) / spacing
        # what rounds to inf in the dtype: beyond fmax + half its spacing
        overflow = np.abs(hi) >= fmax + 2.0 ** (math.frexp(fmax)[1] - 2 - mant)
        err = np.where(overflow, np.where(computed == np.copysign(np.inf, hi), 0.0, np.inf), err)
        err = np.where(~overflow & ~np.isfinite(computed), np.inf, err)
        best = np.minimum(best, err)
    return best
