"""Family-independent runtime of the generated package (copied verbatim from
``gemsym/codegen/runtime/_runtime.py``).

Op registration with ``torch.library`` (forward op, backward op, double backward through the
second-derivative formulas), the CPU path (formulas evaluated in cache-sized chunks, or traced
under ``torch.compile``) and the Triton launchers.
"""

from __future__ import annotations

import math
import os
import sys
import types
import warnings
from dataclasses import dataclass
from typing import Callable

import torch
import torch._decomp
from torch.autograd import forward_ad

from . import _cpu_kernel, _cuda_kernel
from ._params import Domain, as_number, as_param, check_input, check_int, compute_dtype

__all__ = ["Family", "register", "library", "run", "call", "family", "set_backend", "get_backend",
           "set_cpu_fusion", "as_param", "check_input", "check_int", "Domain"]

#: Elements per chunk of the eager PyTorch path on a GPU (one chunk's intermediates are
#: allocated and freed together).
CHUNK = 1 << 16
#: The same on CPU for the forward, and the size up to which a backward is one chunk too.
#: With the narrow bodies writing into their own temporaries (few allocations a chunk),
#: the loop's per-chunk work costs more than larger chunks lose in cache: float32 forward,
#: time over the naive formula's with chunks of 2^14 / 2^16 at 2^15, 2^16, 2^18 and 2^20
#: elements: GEM N=1 1.21 / 0.74, 0.86 / 0.52, 0.44 / 0.34, 0.28 / 0.19; Sqish 1.51 /
#: 1.04, 1.52 / 1.07, 0.30 / 0.23, 1.16 / 0.89 (benchmarks/RESULTS.md).
CPU_CHUNK = 1 << 16
#: The backward's chunk on CPU beyond one chunk, and its one chunk where parameter
#: gradients are wanted: it holds more float64 intermediates at once (x, the gradient, the
#: sigmoid sides, the parameters' terms), which 2^16-element chunks take out of the cache
#: (GEM N=1 forward+backward at 2^17 and 2^18: 0.51 / 0.67 and 0.36 / 0.44 the naive
#: formula's time with chunks of 2^14 / 2^16; learnable E-GEM and SE-GEM at 2^16, one
#: chunk for the backward: 0.96 -> 1.06, 0.82 -> 1.03).
CPU_GRAD_CHUNK = 1 << 14


def _chunk(x, grad: bool = False) -> int:
    """The eager path's chunk for x: the forward's, or with ``grad`` the backward loop's."""
    if x.device.type != "cpu":
        return CHUNK
    return CPU_GRAD_CHUNK if grad else CPU_CHUNK


#: Elements per Triton program (its warps are per family: ``Family.num_warps``).
BLOCK = 1024

_BACKENDS = ("auto", "torch", "triton")
_backend = os.environ.get("TORCH_BRIDGE_BACKEND", "auto")


def set_backend(name: str) -> None:
    """'auto' (Triton on CUDA, PyTorch formulas elsewhere), 'torch', or 'triton' (also on
    CPU tensors, which needs ``TRITON_INTERPRET=1`` -- used by the tests)."""
    global _backend
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(_BACKENDS)} (got {name!r})")
    _backend = name


def get_backend() -> str:
    return _backend


if _backend not in _BACKENDS:
    raise ValueError(
        f"TORCH_BRIDGE_BACKEND must be one of {', '.join(_BACKENDS)} (got {_backend!r})"
    )


# ---------------------------------------------------------------- formula helpers
def _ipow(x, e: int, exact: bool = True):
    """x**e for a Python int e >= 0.  ``exact``: the compute dtype is the output dtype, so
    the power must be rounded once: binary powering in double-word arithmetic (see
    ``_ipow_compensated``; x*x*x would round twice, and ``torch.pow`` with a tensor
    exponent gives a value alone that differs from the same value inside a long tensor,
    its vectorised and scalar kernels rounding differently).  Otherwise (float64
    arithmetic for a float32 result) binary powering by multiplications, ~e * 2^-53
    relative error, which ``torch.compile`` fuses and vectorises."""
    if e == 0:
        return torch.ones_like(x)
    if e == 1:
        return x
    if e == 2:
        return x * x
    if exact:
        return _ipow_compensated(x, e)
    result, base = None, x
    while e:
        if e & 1:
            result = base if result is None else result * base
        e >>= 1
        if e:
            base = base * base
    return result


def _xtimes(c, x, k: int, other):
    """c * x**k (a Python int k >= 0) as ((c*x)*x)... where |c| < 2^1000, else ``other`` (the
    same value evaluated another way): the powers of x last, so that no partial product
    underflows where the result does not (k roundings)."""
    v = c
    for _ in range(k):
        v = v * x
    return torch.where(torch.abs(c) < 2.0 ** 1000, v, other)


def _ipow_compensated(x, e: int):
    """x**e (e >= 3) by left-to-right binary powering on double-word values (hi, lo): hi
    is the running product fl(hi * hi) or fl(hi * x), lo collects its exact Dekker error
    and the cross terms, so hi + lo stays within about e * 2^-104 of x**e relative and
    fl(hi + lo) is x**e rounded once except within ~e * 2^-50 ULP of a rounding boundary.
    Only +, - and * (no library ``pow``): the same input gives the same bits whatever the
    tensor's size.  x is split once; the squaring of x and the products by x skip x's zero
    low part, and hi is never renormalised (lo stays within a few ULP of hi, which the
    double-word product tolerates), so an overflowed split (|hi| > 2^996) only makes lo
    NaN: the result is then the plain product hi, which is inf unless e >= 37.  Zeros and
    overflows take the sign of x**e."""
    split = 134217729.0 if x.dtype == torch.float64 else 4097.0
    s = x * split
    xh = s - (s - x)
    xl = x - xh
    hi, lo = x, None
    for bit in bin(e)[3:]:
        if lo is None:  # hi is x: its split is (xh, xl), its low part 0
            p = x * x
            lo = ((xh * xh - p) + 2.0 * (xh * xl)) + xl * xl
        else:
            p = hi * hi
            s = hi * split
            hh = s - (s - hi)
            hl = hi - hh
            lo = (((hh * hh - p) + 2.0 * (hh * hl)) + hl * hl) + 2.0 * (hi * lo)
        hi = p
        if bit == "1":
            p = hi * x
            s = hi * split
            hh = s - (s - hi)
            hl = hi - hh
            lo = ((((hh * xh - p) + hh * xl) + hl * xh) + hl * xl) + lo * x
            hi = p
    v = hi + lo
    v = torch.where(v == v, v, hi)
    # hi + lo loses the sign of a zero product (-0 + 0 = +0)
    return torch.copysign(v, x) if e & 1 else torch.abs(v)


def _sq(x):
    return x * x


def _expm1(t):
    """e^t - 1: torch.expm1, except while ``torch.compile`` traces.  Inductor's vectorised
    CPU code evaluates expm1 as exp(t) - 1 (torch 2.13, ``CppVecOverrides.expm1``), which
    cancels every digit as t -> 0: compiled Sqish(a = -1) float64 was up to 1.2e11 ULP off
    at |x| ~ 1e-12 and 103 ULP at |x| ~ 0.2, float32 222 ULP below |x| = 1e-9 and -0 for
    +0 at x = 1e-30.  Traced: Kahan's (u - 1) t / log(u) with u = e^t for |t| < 1/2 (t
    itself where u rounds to 1), u - 1 beyond, where it does not cancel; measured against
    torch.expm1 at 4e5 values of t from 1e-300 to 800 in magnitude: 1.41 units of 2^-52
    at most in float64, no difference once rounded to float32."""
    if not torch.compiler.is_compiling():
        return torch.expm1(t)
    u = torch.exp(t)
    um1 = u - 1.0
    small = torch.where(u == 1.0, t, um1 * t / torch.log(u))
    return torch.where(torch.abs(t) < 0.5, small, um1)


def _clamp_at_zero(x, hi: float, own: bool = False):
    """x clamped into [0, hi] with x's -0 kept (a narrow body's value at -0 is its own, see
    ``gemsym.codegen.narrow.Clamp``) and NaN kept: one eager clamp on the CPU (ATen's keeps
    -0; relu then clamp cost 6.5 us more of a 2^10-element GEM forward's 44), relu then the
    upper clamp elsewhere and while ``torch.compile`` traces (Inductor's clamp(min=0)
    gives +0 there, its relu -0).  ``own``: x is the formulas' own copy, which nothing
    reads afterwards (``gemsym.codegen.inplace``): the eager clamp is written into it."""
    if x.is_cpu and not torch.compiler.is_compiling():
        return x.clamp_(0.0, hi) if own else torch.clamp(x, 0.0, hi)
    return torch.clamp(torch.relu(x), max=hi)


def _clamp_to(x, lo: float | None, hi: float | None, own: bool = False):
    """``torch.clamp(x, min=lo, max=hi)``, written into x where it is the formulas' own
    copy (``own``, as ``_clamp_at_zero``)."""
    return x.clamp_(lo, hi) if own else torch.clamp(x, min=lo, max=hi)


def _isinf(x):
    """torch.isinf as |x| == inf: Inductor's CPU backend vectorises this, while it
    evaluates ``isinf`` element by element through a scalar loop."""
    return torch.abs(x) == math.inf


def _opaque(x, _tensor=torch.Tensor, _compiling=torch.compiler.is_compiling,
            _tracing=torch._C._is_tracing, _dispatch=torch._C._len_torch_dispatch_stack,
            _wrapped=torch._C._functorch.is_functorch_wrapped_tensor) -> bool:
    """Whether x's values must not decide a branch: anything traced, compiled, faked,
    wrapped by torch.func, under a dispatch mode or on a device (no data-dependent branch,
    no synchronisation there); False for a plain eager CPU tensor."""
    # the checks bound as defaults (as ``_cpu_kernel._plain``'s): each lookup costs ~1 us
    # between the ATen ops of a 2^10-element call
    return (type(x) is not _tensor or not x.is_cpu or _compiling() or _tracing()
            or bool(_dispatch()) or _wrapped(x))


def _nonfinite(x) -> bool:
    """Whether x may hold an infinity or a NaN: False only for a plain eager CPU tensor
    (``_opaque``) whose sum is finite (an inf or NaN element makes it inf or NaN), one
    reduction."""
    return _opaque(x) or not math.isfinite(x.sum().item())


def _beyond(x, bound: float) -> bool:
    """Whether x may hold an element above ``bound`` (a linear tail's clamp, see
    ``gemsym.codegen.narrow.Clamp.tail``): False only for a plain eager CPU tensor
    (``_opaque``) whose largest element is at most ``bound`` (the tail then adds +0 to
    every element), one reduction; a NaN element makes the maximum NaN: True."""
    return _opaque(x) or (x.numel() > 0 and not x.max().item() <= bound)


def _isnan(x):
    """torch.isnan as x != x (vectorised by Inductor's CPU backend, see ``_isinf``)."""
    return x != x


def _where(cond, a, b):
    """torch.where; a Python-number branch becomes ``masked_fill`` (eager ``where`` with a
    number wraps, promotes and broadcasts it on every call, ~20x slower)."""
    if isinstance(a, (int, float)) and isinstance(b, torch.Tensor) and b.shape == cond.shape:
        return b.masked_fill(cond, a)
    if isinstance(b, (int, float)) and isinstance(a, torch.Tensor) and a.shape == cond.shape:
        return a.masked_fill(~cond, b)
    return torch.where(cond, a, b)


def _tensor_numbers(memo: dict | None, values: tuple[float, ...]) -> tuple:
    """The narrow bodies' number operands as 0-d float64 CPU tensors, made once per
    ``memo`` (eager PyTorch wraps a Python number operand on every op, 0.5-0.7 us each on
    2^10 float64 elements; a tensor operand of the same value gives the same bits); the
    numbers themselves without a memo (the traced formulas, whose graph keeps them as
    constants, and one-off calls)."""
    if memo is None:
        return values
    key = ("numbers", values)
    got = memo.get(key)
    if got is None:
        got = memo[key] = tuple(torch.scalar_tensor(v, dtype=torch.float64) for v in values)
    return got


def _fill_where(cond, value: float, t):
    """``_where(cond, value, t)`` for a number ``value`` written into ``t``, a temporary
    that the formulas made and no longer read (see ``gemsym.codegen.inplace``); the
    arguments are evaluated in ``_where``'s order."""
    return t.masked_fill_(cond, value)


def _fill_unless(cond, t, value: float):
    """``_where(cond, t, value)`` for a number ``value``, written into ``t`` (as
    ``_fill_where``)."""
    return t.masked_fill_(~cond, value)


def _sigmoid_lin(c, x, d, exact: bool = True, neg: bool = False):
    """sigma(s) (``neg``: sigma(-s)) for s = c x + d; the two calls of a Sqish formula
    compute the same s.  Not ``exact`` (float64 arithmetic for a float32 result): eager,
    torch.sigmoid of s or -s; while ``torch.compile`` traces, both from one e = exp(-s),
    sigma(s) = 1/(1 + e), sigma(-s) = e/(1 + e), so the fused kernel evaluates one
    exponential.  ``exact`` (compute dtype = output dtype): the rounding errors
    of c*x (Dekker's exact product) and of the sum (Knuth's two-sum) are applied to first
    order, sigma(s + err) = sigma(s) (1 + sigma(-s) err); without ``exact`` they are far
    below the output's rounding."""
    return _sigmoid_sides(c, x, d, exact, (neg,))[0]


def _sigmoid_pair(c, x, d, exact: bool = True):
    """(sigma(s), sigma(-s)) for s = c x + d, bitwise those of ``_sigmoid_lin``, from one
    evaluation of s, its rounding error and the exponential (eager PyTorch would evaluate
    them once per call: 10 ops each)."""
    return _sigmoid_sides(c, x, d, exact, (False, True))


def _sigmoid_trio(c, x, d, exact: bool = True):
    """(sigma(s), sigma(-s), sigma(s) sigma(-s)) for s = c x + d, the first two bitwise
    those of ``_sigmoid_pair``.  ``exact``: the product e/(1 + e)^2 (e = exp(-|s|)) with
    one rounding of the quotients' product, the quotients' residuals and the first-order
    correction of s's rounding, (sigma(-s) - sigma(s)) err, added before it; the product
    of the two rounded sides rounds three times (Sqish(a=0.25) float64 d/dgamma = 2 (1 -
    a)^2 x^2 sigma sigma(-): 4.12 ULP at x = -3.494, sigma(s) sigma(-s) alone 3.1 units
    of 2^-53 off there, 1.3 this way)."""
    return _sigmoid_sides(c, x, d, exact, (False, True), True)


def _ratio_values(p, n, nd) -> tuple[float | None, float | None, float | None]:
    """The values of p, n and nd that ``_sigmoid_ratio`` reads (``_value``: None where one
    cannot be read).  They are the parameters' own, so the formulas keep them in their
    ``memo`` with the parameters' other expressions: each read is ~2 us between the ATen
    ops of a 2^10-element call."""
    return _value(p), _value(n), _value(nd)


def _sigmoid_ratio(p, n, nc, x, nd, values=None):
    """p sigma(s) + n sigma(-s) for s = -(nc x + nd) and p n >= 0 (the narrow bodies' form
    where it holds, see ``gemsym.codegen.narrow.ratio``).  With u = -s and the values of
    p and n read (Python numbers, or 0-d CPU tensors outside a compiled trace; ``values``:
    ``_ratio_values(p, n, nd)`` made before, else read here): as p + (n - p) sigma(u)
    where |n| >= |p|, else n + (p - n) sigma(-u), whose two terms have one sign (no
    cancellation); torch.sigmoid is one eager op where the exponential, the sum and the
    quotient are four.  Terms that change no bit are not applied: p = 0, a factor n - p =
    1, nd = 0.  Where the values cannot be read (a compiled trace), the quotient (p + n
    E)/(1 + E), E = e^u with u clamped at 600."""
    pv, nv, dv = _ratio_values(p, n, nd) if values is None else values
    u = nc * x
    # u and what follows are this call's own: written in place where no autograd graph
    # records them (the narrow bodies; a double backward's graph takes new tensors)
    own = not u.requires_grad
    if dv != 0.0:
        u = u.add_(nd) if own else u + nd
    if pv is None or nv is None:
        e = torch.exp(torch.clamp(u, max=600.0))
        if _is_number(n, 0) and _is_number(p, 1):
            return torch.reciprocal(1.0 + e)
        num = e + p if _is_number(n, 1) else n * e + p
        return num / (1.0 + e)
    if abs(nv) >= abs(pv):
        base, scale, side = pv, nv - pv, u.sigmoid_() if own else torch.sigmoid(u)
    else:
        base, scale = nv, pv - nv
        side = u.neg_().sigmoid_() if own else torch.sigmoid(torch.neg(u))
    if scale != 1.0:
        side = side.mul_(scale) if own else side * scale
    if base == 0.0:
        return side
    return side.add_(base) if own else side + base


def _value(v, _tensor=torch.Tensor, _number=(int, float),
           _compiling=torch.compiler.is_compiling,
           _wrapped=torch._C._functorch.is_functorch_wrapped_tensor) -> float | None:
    """A parameter's value as a Python float: a number as it is, a plain 0-d CPU tensor
    read outside a compiled trace (the narrow bodies' parameters, which they read anyway);
    None where it cannot be read (a fake or functional tensor of a trace, a subclass, a
    torch.func wrapper) or where a graph would lose it (a tensor that requires grad)."""
    # the checks bound as defaults (as ``_opaque``'s): 1.8 against 2.5 us a read
    if type(v) is not _tensor:
        return float(v) if isinstance(v, _number) else None
    if _compiling() or v.dim() != 0 or not v.is_cpu or v.requires_grad or _wrapped(v):
        return None
    return v.item()


def _is_number(v, c: float) -> bool:
    """Whether v is the Python number c (a tensor never is: its value is not read)."""
    return isinstance(v, (int, float)) and v == c


#: the largest argument of exp taken by the float64 sigmoid pair of ``_sigmoid_sides``
#: while ``torch.compile`` traces (e^709 = 8.2e307: finite, and so is 1 + e^709)
_EXP_ARG_MAX = 709.0


def _sigmoid_sides(c, x, d, exact: bool, sides: tuple[bool, ...], product: bool = False) -> list:
    """[sigma(-s) if neg else sigma(s) for neg in sides], and sigma(s) sigma(-s) after them
    with ``product`` (see ``_sigmoid_lin``, ``_sigmoid_trio``)."""
    p = c * x
    if not exact:
        # d = 0 (Sqish at beta = 1) is not added: p + 0 differs from p only at p = -0,
        # where every side below is the same
        s = p if _value(d) == 0.0 else p + d
        wide = x.dtype == torch.float64
        if wide and not torch.compiler.is_compiling() and not s.requires_grad:
            # as below, s written in place once read (this call's own; no graph records it)
            q = torch.sigmoid(s) if product or not all(sides) else None
            r = s.neg_().sigmoid_() if product or any(sides) else None
            out = [r if neg else q for neg in sides]
            return out + [q * r] if product else out
        if wide and not torch.compiler.is_compiling():
            # float64 arithmetic for a result of float32's range at most: torch.sigmoid of
            # s and of -s, each within 2 units of 2^-53 (1.92 on 7000 values in [-745,
            # 745], vectorised and scalar kernels), with no selection (eager CPU ``where``
            # and its comparison cost ~7x an arithmetic op) and no cancellation (each side
            # from its own argument).  Beyond |s| = 709.78 the smaller side is 0 (1/(1 +
            # inf)) where it is below 2^-1023: every product of it with powers of a float32
            # x (|x| < 2^128) rounds to 0 in float32, as the true value does.  Two sigmoids
            # cost what the exponential, the reciprocal and a product cost (2^14 float64
            # elements: 164 against 182 us for the trio) in 3 eager ops fewer
            q = torch.sigmoid(s) if product or not all(sides) else None
            r = torch.sigmoid(torch.neg(s)) if product or any(sides) else None
            out = [r if neg else q for neg in sides]
            return out + [q * r] if product else out
        # one exponential for both sides, which a fused kernel (Inductor's, while
        # ``torch.compile`` traces) evaluates once: E = e^(-s), sigma(s) = 1/(1 + E),
        # sigma(-s) = E sigma(s).  float64 arithmetic: -s clamped to 709 (E finite, E
        # sigma(s) a number), where sigma(s) ~ 1.2e-308 stands for a smaller value whose
        # products with powers of a float32 x round to 0 in float32 as the true value's do;
        # float32 arithmetic (16-bit results on a GPU), whose range is the results' own: E
        # = e^(-|s|) and a selection by the sign of s
        e = torch.exp(torch.neg(torch.clamp(s, min=-_EXP_ARG_MAX)) if wide
                      else -torch.abs(s))
        q = torch.reciprocal(1.0 + e)  # = 1.0 / (1.0 + e), without eager's wrapped 1.0
        r = e * q
        if wide:
            out = [r if neg else q for neg in sides]
        else:
            pos = s >= 0
            out = [torch.where(pos, r, q) if neg else torch.where(pos, q, r) for neg in sides]
        return out + [q * r] if product else out
    s = p + d
    # float64 results: q = n/(1 + e) for n = 1 and n = e (e = exp(-|s|)) as its rounded
    # quotient plus the residual, q + ((n - q) - q e)/(1 + e): n - q is exact (Sterbenz),
    # q e rounds by far less than q, so the rounding of 1 + e and of the quotient are
    # both corrected, leaving e's own (max 1.30 ULP, mean 0.29 on 10^4 values of s in
    # [-40, 40]; correcting 1 + e alone after the quotient: 1.61, 0.36).  Not
    # torch.sigmoid: its float64 bits depend on the tensor's size (vectorised and scalar
    # kernels round differently: Sqish f at x = -1.807 alone and in a 4096-element
    # tensor), it is 1.85 ULP off (mean 0.42) and 0 beyond s = -709.78 (1/(1 + inf))
    # where e^s is still a subnormal
    e = torch.exp(-torch.abs(s))
    one = 1.0 + e
    big, small = torch.reciprocal(one), e / one
    big_res, small_res = ((1.0 - big) - big * e) / one, ((e - small) - small * e) / one
    # the product's residual from the unrounded quotients, before they are rounded
    prod = small * big if product else None
    prod_res = small * big_res + small_res * big if product else None
    big = big + big_res
    small = small + small_res
    pos = s >= 0
    sig, sig_neg = torch.where(pos, big, small), torch.where(pos, small, big)
    if isinstance(c, float) and c == 1.0 and isinstance(d, float) and d == 0.0:
        # s = x, exact: the printer's sigma of an already rounded argument (no correction)
        out = [sig_neg if neg else sig for neg in sides]
        return out + [prod + prod_res] if product else out
    err = _linear_rounding(c, x, d, p, s)
    corr = sig * sig_neg * err
    out = [sig_neg - corr if neg else sig + corr for neg in sides]
    # d/ds log(sigma(s) sigma(-s)) = sigma(-s) - sigma(s)
    return out + [prod + (prod_res + prod * ((sig_neg - sig) * err))] if product else out


def _linear_rounding(c, x, d, p, s):
    """The rounding error (c x + d) - s of s = fl(p + d), p = fl(c x): Dekker's exact
    product (Veltkamp splitting; PyTorch has no fma) and Knuth's two-sum, 0 where a split
    overflows."""
    split = 134217729.0 if x.dtype == torch.float64 else 4097.0
    cs = c * split
    ch = cs - (cs - c)
    cl = c - ch
    xs = x * split
    xh = xs - (xs - x)
    xl = x - xh
    err = ((ch * xh - p) + ch * xl + cl * xh) + cl * xl
    bp = s - p
    err = err + ((p - (s - bp)) + (d - bp))
    return torch.where(torch.abs(err) < math.inf, err, 0.0)


def _tail_times(v, x, k: int, c, d, j: int, m: int, b, exact: bool = True):
    """v x^k for v = b sigma(s)^j sigma(-s)^m, s = c x + d, as ((v x) x)...  On the
    ``exact`` path (float64 results), where j s < -600 (and s < -80) it is
    ((b w^j) x^k) w^j with w = sigma(s/2), and where m s > 600 (s > 80) the same with
    w = sigma(-s/2), m: sigma(s)^j then comes near underflow (below 2^-865; beyond
    s = -708 it underflows) while sigma(s) x^k need not (Swish_100 at x = -7.1 is
    -3.8e-308), and sigma(s/2)^2 = sigma(s) (1 + O(2 e^{-40})) there (see
    ``gemsym.codegen.stable._underflow_safe``).  Only there: w's rounding counts twice
    in this form, so the plain product is more accurate where it does not underflow
    (Swish_100 d/dbeta at s = -116 was 4.14 ULP this way, 0.14 plainly).  In both tails
    w = e^{-|s|/2} (1 + O(e^{-40})) for the exact s; the rounding error of s = c x + d
    (Dekker's product, two-sum) enters to first order, w = e^{-|s|/2} (1 - sign(s) err/2)."""
    out = v
    for _ in range(k):
        out = out * x
    if not exact or not (j or m):
        return out
    p = c * x
    s = p + d
    err = _linear_rounding(c, x, d, p, s)
    w = torch.exp(-0.5 * torch.abs(s)) * (1.0 - 0.5 * torch.sign(s) * err)
    for power, left in ((j, True), (m, False)):
        if not power:
            continue
        bound = max(80.0, 600.0 / power)
        tail = s < -bound if left else s > bound
        wp = w
        for _ in range(power - 1):
            wp = wp * w
        alt = b * wp
        for _ in range(k):
            alt = alt * x
        out = torch.where(tail, alt * wp, out)
    return out


def _param(v, x):
    """A real parameter as the formulas compute with it: a tensor as it is; a Python number
    (the traced path's, see ``_traced_forward``) as the 0-d tensor of x's dtype and device
    that ``as_param`` makes of it for the eager path, so that both evaluate the same
    operations once the formulas have read the number in their parameter conditions."""
    return v if isinstance(v, torch.Tensor) else torch.full((), v, dtype=x.dtype, device=x.device)


def _like(x, value):
    return torch.zeros_like(x) + value


def _inf_times(c):
    """c * oo with the sign of c (c != 0)."""
    return torch.where(c > 0, math.inf, -math.inf)


# ---------------------------------------------------------------- families
@dataclass(frozen=True)
class Family:
    """One generated family: names, formulas, parameter domains and (optionally) Triton
    kernels."""

    name: str
    int_params: tuple[str, ...]
    params: tuple[str, ...]
    forward: Callable
    grad_x: Callable
    first: Callable
    second: Callable
    kernels: tuple[str, str] | None
    num_warps: int = 8
    domains: tuple[Domain, ...] = ()
    #: the parameters' derivatives as terms times constants for their sums
    #: (``_factored_sums``), or None
    sums: Callable | None = None

    def __post_init__(self) -> None:
        if len(self.domains) != len(self.params):
            object.__setattr__(self, "domains", tuple(Domain() for _ in self.params))


def _plan(dtype: torch.dtype, device: torch.device | None = None) -> tuple[torch.dtype, bool]:
    """(compute dtype, exact) for inputs of ``dtype``: ``exact`` when the compute dtype has
    no spare precision over the input's (then integer powers and the sigmoid arguments
    are evaluated with compensated steps; see ``_ipow`` and ``_sigmoid_lin``)."""
    cdt = compute_dtype(dtype, device)
    return cdt, cdt == dtype


#: input dtypes whose finite values are below 2^128 in magnitude (see ``_narrow``)
_NARROW_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _narrow(dtype: torch.dtype, cdt: torch.dtype, params) -> bool:
    """Whether the formulas may take their ``narrow`` bodies (no |x| > 1 forms; see
    ``gemsym.codegen.narrow``): float64 arithmetic for inputs whose finite values are below
    2^128 in magnitude, and every real parameter a 0-d CPU tensor (a per-channel or device
    tensor keeps the general bodies).  A narrow body reads the parameters it uses as
    numbers and takes the general body unless they are below 2^128 in magnitude."""
    if cdt != torch.float64 or dtype not in _NARROW_DTYPES:
        return False
    return all(q.dim() == 0 and q.is_cpu for q in params)


def _sum_to(t: torch.Tensor, shape) -> torch.Tensor:
    """The float64 sum of ``t`` over the dimensions a parameter of ``shape`` was broadcast
    along (all of them for a 0-d parameter), with the parameter's shape."""
    lead = t.dim() - len(shape)
    dims = list(range(lead)) + [lead + i for i, s in enumerate(shape)
                                if s == 1 and t.shape[lead + i] != 1]
    if len(dims) == t.dim():
        total = t.sum(dtype=torch.float64)
        return total.reshape(shape) if len(shape) else total  # a 0-d sum is its own shape
    if not dims:
        return t.to(torch.float64)
    return t.sum(dim=dims, keepdim=True, dtype=torch.float64).reshape(shape)


def _backward_terms(fam: Family, gc, xc, ints, p, exact: bool, wanted, shapes=None,
                    narrow: bool = False, memo: dict | None = None, factored: bool = False,
                    own: bool = False):
    """g f'(x), and for each parameter with ``wanted`` set the float64 sum of g df/dtheta
    over the dimensions it was broadcast along (None for the others): one evaluation of the
    ``first`` formulas when any is wanted.  ``memo``: the formulas' (one call's chunks).
    ``factored`` (an eager call, every sum over all of x, ``shapes`` None): the family's
    ``sums`` formulas where they apply (finite x of a narrow dtype), the sums then Python
    floats (see ``_factored_sums``).  ``own``: xc is the caller's copy for this call (the
    formulas' ``own``), given to the one formula that evaluates it last (not to ``sums``,
    after which ``first`` may evaluate it again)."""
    if factored and fam.sums is not None and any(wanted):
        terms = fam.sums(xc, *ints, *p, exact=exact, narrow=narrow, memo=memo)
        # a constant that is not a number (a parameter at 0 in 1/theta) would make inf *
        # 0 of a sum that the elementwise terms keep: those take ``first``
        if terms is not None and all(math.isfinite(c) for cs in terms[2] for _, c in cs):
            return _factored_sums(gc, terms, wanted)
    shapes = shapes if shapes is not None else [()] * len(wanted)
    if any(wanted):
        d = fam.first(xc, *ints, *p, exact=exact, narrow=narrow, memo=memo, own=own)
        return gc * d[0], [_sum_to(gc * d[1 + i], s) if w else None
                           for i, (w, s) in enumerate(zip(wanted, shapes))]
    return (gc * fam.grad_x(xc, *ints, *p, exact=exact, narrow=narrow, memo=memo, own=own),
            [None] * len(wanted))


def _factored_sums(gc, terms, wanted) -> tuple[torch.Tensor, list]:
    """(g f'(x), [S_p or None]) from a family's ``sums`` formulas (d_x, (h_j...), ((j, c_pj)
    ...) per parameter): S_p = sum_j c_pj (sum of g h_j over x), a Python float, for the
    parameters with ``wanted`` set.  Each term is summed once however many parameters
    share it (see ``gemsym.codegen.sums``); the sums start at +0, as the chunk loop's."""
    d_x, hs, coefficients = terms
    sums = [(gc * h).sum().item() for h in hs]
    out: list = []
    for w, cs in zip(wanted, coefficients):
        total = 0.0
        for j, c in cs:
            total += c * sums[j]
        out.append(total if w else None)
    return gc * d_x, out


def _traced_narrow(x, cdt: torch.dtype, params) -> bool:
    """Whether the formulas that ``torch.compile`` traces may take their narrow bodies: as
    the eager path decides (``_narrow``), with every real parameter a Python number (see
    ``traces``).  The formulas read the numbers in their parameter conditions, which
    Dynamo then decides while tracing (it guards on the numbers); a tensor parameter
    would be read by a data-dependent ``float()``, on which Dynamo breaks the graph."""
    return (all(not isinstance(q, torch.Tensor) for q in params)
            and _narrow(x.dtype, cdt, ()))


def _computed(params, cdt: torch.dtype) -> list:
    """The parameters in the compute dtype: tensors converted, Python numbers kept."""
    return [q.to(cdt) if isinstance(q, torch.Tensor) else q for q in params]


def _traced_forward(fam: Family, x, ints, params):
    """f(x) by the formulas, written for ``torch.compile`` to trace into one fused loop:
    the input rounded to the compute dtype, the result rounded back.  ``params``: tensors
    or Python numbers (see ``traces``)."""
    cdt, exact = _plan(x.dtype, x.device)
    return fam.forward(x.to(cdt), *ints, *_computed(params, cdt), exact=exact,
                       narrow=_traced_narrow(x, cdt, params)).to(x.dtype)


def _scalar(params) -> bool:
    return all(not isinstance(q, torch.Tensor) or q.numel() == 1 for q in params)


def _use_triton(fam: Family, x: torch.Tensor, params=()) -> bool:
    """Whether the Triton kernels run: CUDA tensors (any tensor with backend 'triton'),
    not float64, scalar parameters only (per-channel values take the PyTorch formulas)."""
    if fam.kernels is None or x.dtype == torch.float64 or not _scalar(params):
        return False
    if _backend == "torch":
        return False
    if _backend == "triton":
        return True
    return x.is_cuda


def _flat(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The elements of ``t`` as a 1-D tensor in the memory order of ``like`` (a dense
    tensor of the same shape, from ``empty_like``): a view when ``t`` has ``like``'s
    strides (then ``t`` is dense too and covers one block of memory), else a copy."""
    if t.stride() != like.stride():
        t = torch.empty_like(like).copy_(t)
    return t.as_strided((t.numel(),), (1,))


# ---------------------------------------------------------------- PyTorch path
#: Opt-in only (``TORCH_BRIDGE_CPU_FUSE=1`` or ``set_cpu_fusion(True)``; off by default, so
#: an eager call never compiles anything nor needs a C++ compiler): eager CPU inputs of at
#: least this many elements, in a dtype computed in a wider one (float32 and 16-bit in
#: float64), then run one fused kernel: the traced formulas compiled once per (family,
#: integer parameters, dtype, pass) by ``torch.compile`` (dynamic sizes; seconds on first
#: use, a C++ compiler needed).  A chain of separate ATen ops costs one pass over the chunk
#: per op (GEM N=1 forward, fp32 2^24: ~90 ms against ~3.5 ms fused).  Smaller inputs,
#: float64 (whose exact integer powers the chunk loop evaluates with the correctly rounded
#: ``pow``), fusion off, or a failed compilation take the chunk loop.
FUSE_MIN = 1 << 20
_fuse = os.environ.get("TORCH_BRIDGE_CPU_FUSE", "0") == "1"
_FUSED: dict[tuple, Callable | None] = {}


def set_cpu_fusion(on: bool) -> None:
    """Opt in to (``True``) or out of the ``torch.compile``d eager CPU kernel for inputs of
    at least ``FUSE_MIN`` elements (off unless ``TORCH_BRIDGE_CPU_FUSE=1``): its first call
    per family, integer parameters, dtype and pass compiles for seconds."""
    global _fuse
    if not isinstance(on, bool):
        raise ValueError(f"on must be True or False (got {on!r})")
    _fuse = on


def _fused_kernel(fam: Family, kind: str, ints, dtype, params_grad: bool = False):
    """The compiled kernel of one pass (``fwd``: y; ``bwd``: grad_x and the float64
    parameter sums), or None when compiling is off or failed."""
    key = (fam.name, kind, tuple(ints), dtype, params_grad)
    if key in _FUSED:
        return _FUSED[key]
    cdt, exact = _plan(dtype, torch.device("cpu"))

    def fwd(xs, *p):
        return fam.forward(xs.to(cdt), *ints, *[q.to(cdt) for q in p], exact=exact).to(xs.dtype)

    def bwd(gs, xs, *p):
        pc = [q.to(cdt) for q in p]
        gx, sums = _backward_terms(fam, gs.to(cdt), xs.to(cdt), ints, pc, exact,
                                   [params_grad] * len(p))
        return (gx.to(xs.dtype), *[t for t in sums if t is not None])

    fn = fwd if kind == "fwd" else bwd
    # a code object of its own per key: Dynamo keeps its cache and recompile limit per
    # code object, and every key is a separate specialisation
    code = fn.__code__.replace(co_name=f"{fam.name}_{kind}_fused")
    fn = types.FunctionType(code, fn.__globals__, code.co_name, None, fn.__closure__)
    _FUSED[key] = torch.compile(fn, dynamic=True, fullgraph=True)
    return _FUSED[key]


def _run_fused(fam: Family, kind: str, ints, dtype, params_grad, *args):
    """Run the fused kernel; None (and the chunk loop from then on) if it cannot."""
    if not _fuse or args[0].numel() < FUSE_MIN or args[0].device.type != "cpu":
        return None
    if _plan(dtype, args[0].device)[1]:  # exact: float64
        return None
    key = (fam.name, kind, tuple(ints), dtype, params_grad)
    try:
        fn = _fused_kernel(fam, kind, ints, dtype, params_grad)
        if fn is None:
            return None
        with torch.no_grad():
            return fn(*args)
    except Exception as exc:  # no C++ compiler, unsupported op, ...: stay correct
        _FUSED[key] = None
        warnings.warn(f"torch_bridge: fused CPU kernel for {fam.name} ({kind}) unavailable, "
                      f"using the chunked path; set_cpu_fusion(False) skips it "
                      f"({type(exc).__name__}: {exc})", RuntimeWarning)
        return None


#: the conversions as the Tensor methods: ``x.double()`` costs ~4.4 us on a 2^10-element
#: tensor where ``x.to(torch.float64)`` parses its overloads for ~7.2 (torch 2.13)
_CONVERT = {torch.float64: torch.Tensor.double, torch.float32: torch.Tensor.float,
            torch.float16: torch.Tensor.half, torch.bfloat16: torch.Tensor.bfloat16}


def _to(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t.to(dtype)`` (``t`` itself when it has that dtype)."""
    convert = _CONVERT.get(dtype)
    return convert(t) if convert is not None else t.to(dtype)


def _scalars(params, cdt: torch.dtype) -> list:
    """One-element parameter tensors as 0-d tensors of the compute dtype; a parameter that
    already is one is passed as it is (a new view per call measurably slows the
    formulas' small-input ops)."""
    return [q if q.dtype == cdt and q.dim() == 0 else _to(q if q.dim() == 0 else q.reshape(()), cdt)
            for q in params]


#: the ``memo`` key of ``_scalars``' parameters (the formulas' own keys are 'p' + a hash)
_SCALARS = "scalars"


def _memo_scalars(params, cdt: torch.dtype, memo: dict | None) -> list:
    """``_scalars(params, cdt)``, kept in ``memo``: a memo is shared only by calls with the
    same parameter tensors and compute dtype (a plan's, a learnable module's values', one
    call's chunks), and the conversions are 0-d eager ops (~4 us each at 2^10)."""
    if memo is None:
        return _scalars(params, cdt)
    p = memo.get(_SCALARS)
    if p is None:
        p = memo[_SCALARS] = _scalars(params, cdt)
    return p


def _param_grad(t, q, device) -> torch.Tensor:
    """The one-chunk sum ``t`` (float64, on x's ``device``; None where no gradient is
    wanted) as the gradient of the parameter ``q``: bitwise ``(t + 0.0).to(q.dtype)
    .reshape(q.shape)`` (the chunk loop's sums start at +0, so a -0 sum becomes +0), in one
    eager op or none for a 0-d CPU sum where that makes three (~17 us a parameter at
    2^10)."""
    if t is None:
        return torch.zeros(q.shape, dtype=q.dtype, device=device)
    if isinstance(t, float):  # a factored sum (``_factored_sums``)
        return _float_grad(t, q)
    if t.dim() == 0 and q.dim() == 0 and t.is_cpu and t.dtype == torch.float64:
        if t.item() == 0.0:  # either zero: +0
            return torch.zeros((), dtype=q.dtype)
        return t if q.dtype == torch.float64 else t.to(q.dtype)
    return (t + 0.0).to(q.dtype).reshape(q.shape)


def _float_grad(t: float, q: torch.Tensor) -> torch.Tensor:
    """A Python float sum as the gradient of the CPU parameter ``q``: bitwise the float64
    0-d tensor's ``(t + 0.0).to(q.dtype).reshape(q.shape)``, in one op (``scalar_tensor``
    rounds a float as ``to`` does, for float32, bfloat16 and float16 too; ``torch.tensor``
    rounds float16 twice, through float32)."""
    if t == 0.0:  # either zero: +0
        return torch.zeros(q.shape, dtype=q.dtype)
    try:
        v = torch.scalar_tensor(t, dtype=q.dtype)
    except RuntimeError:  # beyond float32's range, which it refuses where ``to`` rounds
        v = torch.scalar_tensor(t, dtype=torch.float64).to(q.dtype)
    return v if q.dim() == 0 else v.reshape(q.shape)


def one_chunk(fam: Family, x, ints, params, cdt: torch.dtype, exact: bool, narrow: bool,
              memo: dict | None = None):
    """f(x) for a contiguous x of at most one chunk, its 0-d parameters in the compute
    dtype ``cdt`` (``_plan``, ``_narrow``): the formulas on x itself, with no output
    buffer, slices nor copies (host cost, dominant at this size); ``memo`` as
    ``_torch_forward``'s."""
    # ``own``: where x is converted, the formulas get a copy of their own
    y = fam.forward(_to(x, cdt), *ints, *params, exact=exact, narrow=narrow, memo=memo,
                    own=x.dtype != cdt)
    return _to(y, x.dtype) if y.dtype != x.dtype or y is x else y


def _torch_forward(fam: Family, x, ints, params, memo: dict | None = None):
    """f(x) by the PyTorch formulas, laid out as ``torch.empty_like(x)`` (the input's
    memory format, as ``torch.relu``); ``memo``: the formulas' memo of the parameters' own
    expressions, kept by a caller whose parameter values are fixed (``_eager``'s plans),
    else one for this call's chunks."""
    y = _cpu_kernel.forward(fam, x, ints, params)  # the compiled CPU kernel, if it applies
    if y is not None:
        return y
    cdt, exact = _plan(x.dtype, x.device)
    narrow = _narrow(x.dtype, cdt, params)
    n, chunk = x.numel(), _chunk(x)
    if 0 < n <= chunk and (not _fuse or n < FUSE_MIN) and x.is_contiguous() and _scalar(params):
        return one_chunk(fam, x, ints, _memo_scalars(params, cdt, memo), cdt, exact, narrow,
                         memo)
    out = torch.empty_like(x)
    if n == 0:
        return out
    if not _scalar(params):  # per-channel parameters: one broadcast evaluation
        p = [q.to(cdt) for q in params]
        return out.copy_(fam.forward(x.to(cdt), *ints, *p, exact=exact))
    xs = _flat(x, out)
    if _fuse:
        fused = _run_fused(fam, "fwd", ints, x.dtype, False, xs,
                           *[q.detach().reshape(()) for q in params])
        if fused is not None:
            return fused.as_strided(x.shape, out.stride())
    outs = out.as_strided((n,), (1,))
    # the 0-d parameters themselves: a view per chunk (detach, reshape) measurably slows
    # each chunk's ops (GEM N=1 at 2^16: 48 of 540 us)
    memo = {} if memo is None else memo  # the parameters' own expressions, once
    p = _memo_scalars(params, cdt, memo)
    # the chunks' views made by one split each, written by copy_ (a slice and a setitem
    # per chunk: ~8 % of GEM N=1's time at 2^16-2^20)
    own = x.dtype != cdt
    # every chunk converted into one buffer: the formulas may write into their own x, and
    # the result is copied out before the next chunk is converted
    buf = torch.empty(chunk, dtype=cdt, device=x.device) if own else None
    for xc, oc in zip(xs.split(chunk), outs.split(chunk)):
        xb = buf[:xc.numel()].copy_(xc) if own else xc
        oc.copy_(fam.forward(xb, *ints, *p, exact=exact, narrow=narrow, memo=memo, own=own))
    return out


def one_chunk_grad(fam: Family, grad, x, ints, params, cdt: torch.dtype, exact: bool,
                   narrow: bool, memo: dict | None = None):
    """g f'(x) for x and grad as ``one_chunk`` takes x (grad of x's shape, contiguous)."""
    gc = _to(grad, cdt)
    d = fam.grad_x(_to(x, cdt), *ints, *params, exact=exact, narrow=narrow, memo=memo,
                   own=x.dtype != cdt)
    # into the gradient's own copy where the conversion made one (as ``_eager._steps``)
    g = gc * d if gc is grad else gc.mul_(d)
    return g if g.dtype == x.dtype else _to(g, x.dtype)


def _torch_backward(fam: Family, grad, x, ints, params, params_grad: bool,
                    memo: dict | None = None):
    """(g f'(x) laid out as ``empty_like(x)``, [sum of g df/dtheta with theta's shape]);
    ``memo`` as ``_torch_forward``'s."""
    done = _cpu_kernel.backward(fam, grad, x, ints, params, params_grad)
    if done is not None:
        return done
    cdt, exact = _plan(x.dtype, x.device)
    narrow = _narrow(x.dtype, cdt, params)
    wanted = [bool(params_grad)] * len(params)
    # one chunk up to the forward's size for x's gradient alone; the parameters' terms are
    # more float64 intermediates at once, so with them one chunk is the loop's
    n, chunk = x.numel(), _chunk(x, grad=bool(params_grad))
    if (0 < n <= chunk and (not _fuse or n < FUSE_MIN) and _scalar(params)
            and grad.shape == x.shape and x.is_contiguous() and grad.is_contiguous()):
        # one chunk, as ``_torch_forward``; -0 sums as +0, as the chunk loop's (``_param_grad``)
        p = _memo_scalars(params, cdt, memo)
        if not any(wanted):
            g = one_chunk_grad(fam, grad, x, ints, p, cdt, exact, narrow, memo)
            parts = [None] * len(p)
        else:
            g, parts = _backward_terms(fam, _to(grad, cdt), _to(x, cdt), ints, p, exact,
                                       wanted, narrow=narrow, memo=memo, factored=True,
                                       own=x.dtype != cdt)
            g = _to(g, x.dtype) if g.dtype != x.dtype else g
        return g, [_param_grad(t, q, x.device) for t, q in zip(parts, params)]
    gx = torch.empty_like(x)
    if n == 0 or not any(wanted):
        sums = [torch.zeros(q.shape, dtype=torch.float64, device=x.device) for q in params]
    if n == 0:
        return gx, [t.to(q.dtype) for t, q in zip(sums, params)]
    if not _scalar(params):
        p = [q.to(cdt) for q in params]
        g, parts = _backward_terms(fam, grad.to(cdt), x.to(cdt), ints, p, exact, wanted,
                                   [q.shape for q in params])
        gx.copy_(g)
        sums = parts if any(wanted) else sums
        return gx, [t.to(q.dtype) for t, q in zip(sums, params)]
    xs = _flat(x, gx)
    gs = _flat(grad, gx)
    if _fuse:
        scalars = [q.detach().reshape(()) for q in params]
        fused = _run_fused(fam, "bwd", ints, x.dtype, any(wanted), gs, xs, *scalars)
        if fused is not None:
            sums = fused[1:] or [torch.zeros((), dtype=torch.float64) for _ in params]
            return (fused[0].as_strided(x.shape, gx.stride()),
                    [t.to(q.dtype).reshape(q.shape) for t, q in zip(sums, params)])
    gxs = gx.as_strided((n,), (1,))
    memo = {} if memo is None else memo  # as in _torch_forward's loop
    p = _memo_scalars(params, cdt, memo)
    sums = [torch.zeros((), dtype=torch.float64, device=x.device) for _ in params]
    chunk = _chunk(x, grad=True)
    own = x.dtype != cdt
    # x's and the gradient's chunks converted into two buffers, as in ``_torch_forward``'s
    # loop (each chunk's g f'(x) is copied out and its sums added before the next)
    bufs = torch.empty((2, chunk), dtype=cdt, device=x.device) if own else None
    for xc, gc, oc in zip(xs.split(chunk), gs.split(chunk), gxs.split(chunk)):
        k = xc.numel()
        xb, gb = (bufs[0, :k].copy_(xc), bufs[1, :k].copy_(gc)) if own else (xc, gc)
        g, part = _backward_terms(fam, gb, xb, ints, p, exact, wanted, narrow=narrow,
                                  memo=memo, factored=True, own=own)
        oc.copy_(g)
        for i, t in enumerate(part):
            if t is not None:  # a tensor or a factored sum's float: in chunk order
                sums[i] += t
    return gx, [t.to(q.dtype).reshape(q.shape) for t, q in zip(sums, params)]


# ---------------------------------------------------------------- Triton path
def _triton_forward(fam: Family, x, ints, params):
    import triton

    from . import _kernels

    if x.is_cuda:
        y = _cuda_kernel.forward(fam, x, ints, params)  # the compiled CUDA kernel, if built
        if y is not None:
            return y
    kernel = getattr(_kernels, fam.kernels[0])
    out = torch.empty_like(x)
    n = x.numel()
    p = [q.detach().to(device=x.device, dtype=torch.float32).reshape(1) for q in params]
    if n:
        xs, outs = _flat(x, out), out.as_strided((n,), (1,))
        grid = (triton.cdiv(n, BLOCK),)
        kernel[grid](xs, outs, *p, n, *ints, PRECISE=x.dtype == torch.float32, BLOCK=BLOCK,
                     num_warps=fam.num_warps, enable_fp_fusion=False)
    return out


def _triton_backward(fam: Family, grad, x, ints, params, params_grad: bool):
    import triton

    from . import _kernels

    if x.is_cuda:
        done = _cuda_kernel.backward(fam, grad, x, ints, params, params_grad)
        if done is not None:
            return done
    kernel = getattr(_kernels, fam.kernels[1])
    gx = torch.empty_like(x)
    n = x.numel()
    blocks = triton.cdiv(n, BLOCK)
    k = max(len(params), 1)
    partial = torch.zeros((max(blocks, 1), k), dtype=torch.float32, device=x.device)
    p = [q.detach().to(device=x.device, dtype=torch.float32).reshape(1) for q in params]
    if n:
        xs, gxs = _flat(x, gx), gx.as_strided((n,), (1,))
        gs = _flat(grad.to(x.dtype), gx)
        # enable_fp_fusion=False keeps the exact-product steps exact
        kernel[(blocks,)](gs, xs, gxs, partial, *p, n, *ints,
                          PARAMS_GRAD=bool(params_grad and params),
                          PRECISE=x.dtype == torch.float32, BLOCK=BLOCK,
                          num_warps=fam.num_warps, enable_fp_fusion=False)
    # second stage of the deterministic reduction: a fixed-order sum of per-block sums
    sums = partial.sum(dim=0, dtype=torch.float64)
    return gx, [sums[i].to(q.dtype).reshape(q.shape) for i, q in enumerate(params)]


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("+")[0].split(".")[:2] if p.isdigit())


#: Whether ``torch.compile`` traces the formulas (else it calls the registered op, correct
#: but opaque to Inductor). Only from torch 2.13, the version this package is tested with:
#: under torch 2.11.0 (seen on a GPU machine's image) the traced float64 gradients came
#: out wrong while the registered op's were right.
TRACED_COMPILE = _release(torch.__version__) >= (2, 13)


@dataclass(frozen=True)
class _Entry:
    family: Family
    op: Callable
    eager: type
    traced: type
    apply: Callable  # eager's apply without the signature binding (see ``run``)
    impls: tuple[Callable, Callable]  # the ops' CPU/CUDA kernels (see ``direct``)


_REGISTRY: dict[tuple[str, str], _Entry] = {}


def direct(*tensors) -> bool:
    """Whether a registered op may run as its kernel, a plain Python call without the
    dispatcher (whose layers cost ~20-60 us per eager call, more than a 2^10-element
    formula's arithmetic): plain CPU or CUDA tensors, and nothing that must see the op --
    no torch.func transform, dispatch or function mode, profiler, JIT trace or
    ``torch.compile``.  The caller ensures no autograd graph is needed (grad disabled,
    or no input requires grad)."""
    if (torch._C._are_functorch_transforms_active() or torch._C._len_torch_dispatch_stack()
            or torch._C._len_torch_function_stack() or torch._C._autograd._profiler_enabled()
            or torch._C._get_tracing_state() is not None or torch.compiler.is_compiling()):
        return False
    return all(not isinstance(t, torch.Tensor) or (type(t) is torch.Tensor
                                                     and (t.is_cpu or t.is_cuda))
               for t in tensors)


def kernels(lib_name: str, name: str) -> tuple[Callable, Callable]:
    """(forward kernel, backward kernel) of family ``name``: the ops' implementations, for
    calls that ``direct`` allows."""
    return _IMPLS[(lib_name, name)]


_IMPLS: dict[tuple[str, str], tuple[Callable, Callable]] = {}


def family(lib_name: str, name: str) -> Family:
    """The registered family ``name`` of the package ``lib_name``."""
    return _REGISTRY[(lib_name, name)].family


def run(lib_name: str, name: str, x, *args):
    """Family ``name`` on validated arguments (x, integer parameters, parameter tensors).
    Eager: the ``autograd.Function`` over the registered ops; under ``torch.compile`` the
    traced formulas (tensors that do not use the Triton kernels, ``TRACED_COMPILE``) or the
    registered op."""
    entry = _REGISTRY[(lib_name, name)]
    if torch.compiler.is_compiling():
        if traces(entry.family, x, args[len(entry.family.int_params):]):
            if not (torch.is_grad_enabled() and any(isinstance(a, torch.Tensor) and a.requires_grad
                                                    for a in (x, *args))):
                # nothing to differentiate: the formulas alone.  Through the Function,
                # Dynamo (torch 2.13) broke the no-grad graph of E-GEM and SE-GEM (integer
                # and real parameters) and ran the whole call eagerly
                ni = len(entry.family.int_params)
                return _traced_forward(entry.family, x, args[:ni], args[ni:])
            return entry.traced.apply(x, *args)
        return entry.op(x, *args)
    if torch._C._are_functorch_transforms_active():
        return entry.eager.apply(x, *args)
    if forward_ad._current_level < 0 and not (
            torch.is_grad_enabled() and any(isinstance(a, torch.Tensor) and a.requires_grad
                                            for a in (x, *args))):
        # nothing to differentiate: the op alone is cheaper, its kernel cheaper still
        return entry.impls[0](x, *args) if direct(x, *args) else entry.op(x, *args)
    # Function.apply binds the arguments to forward's signature (inspect.signature, ~10 us)
    # on every call when setup_context is defined; forward has no defaults, so outside
    # torch.func transforms the base class's apply is the same call without that cost
    return entry.apply(x, *args)


def traces(fam: Family, x, params=()) -> bool:
    """Whether ``torch.compile`` is tracing a call of ``fam`` that ``run`` evaluates by the
    traced formulas (not by the registered op): then a real parameter given as a Python
    number reaches the formulas as that number (``as_number``), not as a tensor."""
    return (TRACED_COMPILE and torch.compiler.is_compiling() and not x.is_cuda
            and not _use_triton(fam, x, params))


def call(lib_name: str, name: str, x, ints=(), reals=()):
    """Check the arguments of family ``name`` (x a floating tensor, integer and real
    parameters in their domains: ValueError naming the parameter) and run it."""
    # a plain eager CPU call that the compiled kernel takes skips the op's Python layers
    # (~25 us of a 2^10-element call); it checks the parameters as below
    # ... except where ``set_backend`` forces the other path: 'triton' the Triton kernels
    # (also for CPU tensors), 'torch' the PyTorch formulas (also for CUDA tensors)
    if _backend == "triton":
        y = _cuda_kernel.call(name, x, ints, reals)
    else:
        y = _cpu_kernel.call(name, x, ints, reals)
        if y is None:
            # a plain CPU call the kernel does not take: the op's kernel without its
            # layers (a CUDA tensor is never this path's, nor a CPU one the CUDA kernel's)
            y = _eager.call(lib_name, name, x, ints, reals)
        if y is None and _backend != "torch":
            y = _cuda_kernel.call(name, x, ints, reals)
    if y is not None:
        return y
    check_input(x)
    fam = _REGISTRY[(lib_name, name)].family
    args = [check_int(n, v) for n, v in zip(fam.int_params, ints)]
    # Python numbers for a call the CUDA kernel takes stay on the host (its ops read them
    # there; device tensors would need a synchronisation to read)
    host = _cuda_kernel.host_params(name, x, ints, reals)
    if host is not None:
        return run(lib_name, name, x, *args, *host)
    # traced formulas: numbers stay numbers (checked alike), so that the formulas'
    # parameter conditions are decided while tracing (see ``_traced_narrow``)
    number = as_number if traces(fam, x) else as_param
    args += [as_param(v, x, n, d) if isinstance(v, torch.Tensor) else number(v, x, n, d)
             for v, n, d in zip(reals, fam.params, fam.domains)]
    return run(lib_name, name, x, *args)


# ---------------------------------------------------------------- registration
def _inductor_calls_kernel(op) -> None:
    """Declare to Inductor that ``op`` runs as its own kernel.  Inductor takes an op with an
    entry in PyTorch's decomposition table (the forward's, kept there for exporters) and no
    lowering for a missing decomposition, which it calls anyway, or, where the environment
    sets ``CI`` (as CI services do), refuses to compile.  Run from the fake kernel, which
    Inductor's tracing calls after importing its lowerings and before lowering the graph;
    nothing is imported here, so eager code and other tracers pay one lookup."""
    lowering = sys.modules.get("torch._inductor.lowering")
    if lowering is None or op in lowering.lowerings:
        return
    try:
        from torch._library.utils import get_layout_constraint_tag
    except ImportError:  # an older PyTorch: its implicit fallback decides, as before
        return
    to_constraint = getattr(lowering, "tag_to_layout_constraint", None)
    if to_constraint is None:
        return
    tag = get_layout_constraint_tag(op, with_default=True)
    lowering.make_fallback(op, layout_constraint=to_constraint(tag), override_decomp=True)


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def register(lib_name: str, fam: Family) -> None:
    """Define ``lib_name::<family>_fwd`` and ``_bwd`` with kernels, fake (meta)
    implementations, vmap rules and autograd formulas (first and second order).  Outputs
    are laid out as ``torch.empty_like(x)`` by the kernels and the fakes alike."""
    ints = ", ".join(f"int {n}" for n in fam.int_params)
    tens = ", ".join(f"Tensor {n}" for n in fam.params)
    sig = ", ".join(s for s in (ints, tens) if s)
    sig = ", " + sig if sig else ""
    k = len(fam.params)
    fwd_name = f"{lib_name}::{fam.name}_fwd"
    bwd_name = f"{lib_name}::{fam.name}_bwd"
    outs = "Tensor" if k == 0 else "(" + ", ".join(["Tensor"] * (k + 1)) + ")"
    lib = _LIB[lib_name]
    torch.library.define(fwd_name, f"(Tensor x{sig}) -> Tensor", lib=lib)
    torch.library.define(bwd_name, f"(Tensor grad, Tensor x{sig}, bool params_grad) -> {outs}",
                         lib=lib)
    ni = len(fam.int_params)
    # imported here: _autograd builds on this module's paths (import cycle otherwise)
    from ._autograd import batched_param, double_backward, functions, moved

    def fwd_impl(x, *args):
        ints, params = args[:ni], args[ni:]
        if _use_triton(fam, x, params):
            return _triton_forward(fam, x, ints, params)
        return _torch_forward(fam, x, ints, params)

    def bwd_impl(grad, x, *args):
        ints, params, flag = args[:ni], args[ni:-1], args[-1]
        run = _triton_backward if _use_triton(fam, x, params) else _torch_backward
        gx, gp = run(fam, grad, x, ints, params, flag)
        return gx if k == 0 else (gx, *gp)

    def fwd_fake(x, *args):
        _inductor_calls_kernel(fwd_op)
        return torch.empty_like(x)

    def bwd_fake(grad, x, *args):
        params = args[ni:-1]
        gx = torch.empty_like(x)
        return gx if k == 0 else (gx, *[torch.empty_like(q) for q in params])

    torch.library.impl(fwd_name, ("cpu", "cuda"), fwd_impl, lib=lib)
    torch.library.impl(bwd_name, ("cpu", "cuda"), bwd_impl, lib=lib)
    torch.library.register_fake(fwd_name, fwd_fake, lib=lib)
    torch.library.register_fake(bwd_name, bwd_fake, lib=lib)
    ns = getattr(torch.ops, lib_name)
    fwd_op = getattr(ns, f"{fam.name}_fwd").default
    bwd_op = getattr(ns, f"{fam.name}_bwd").default

    def fwd_vmap(info, in_dims, x, *args):
        size = info.batch_size
        xb = moved(x, in_dims[0], size)
        params = [q if d is None else batched_param(q, d, size, xb.dim() - 1)
                  for q, d in zip(args[ni:], in_dims[1 + ni:])]
        return fwd_op(xb, *args[:ni], *params), 0

    def bwd_vmap(info, in_dims, grad, x, *args):
        size = info.batch_size
        xb = moved(x, in_dims[1], size)
        gb = moved(grad, in_dims[0], size)
        raw = args[ni:-1]
        # every parameter gets the batch dimension, so its gradient is summed per sample
        params = [batched_param(q, d, size, xb.dim() - 1)
                  for q, d in zip(raw, in_dims[2 + ni:-1])]
        out = _as_tuple(bwd_op(gb, xb, *args[:ni], *params, args[-1]))
        if k == 0:
            return out[0], 0
        grads = [g.reshape(size, *(q.shape if d is None else q.movedim(d, 0).shape[1:]))
                 for g, q, d in zip(out[1:], raw, in_dims[2 + ni:-1])]
        return (out[0], *grads), (0,) * (k + 1)

    torch.library.register_vmap(fwd_name, fwd_vmap, lib=lib)
    torch.library.register_vmap(bwd_name, bwd_vmap, lib=lib)

    def fwd_setup(ctx, inputs, output):
        x, *rest = inputs
        ctx.ints = tuple(rest[:ni])
        ctx.save_for_backward(x, *rest[ni:])

    def fwd_backward(ctx, grad):
        x, *params = ctx.saved_tensors
        need = ctx.needs_input_grad[1 + ni:]
        out = _as_tuple(bwd_op(grad, x, *ctx.ints, *params, any(need)))
        return (out[0], *([None] * ni), *[g if nd else None for g, nd in zip(out[1:], need)])

    def bwd_setup(ctx, inputs, output):
        grad, x, *rest = inputs
        ctx.ints = tuple(rest[:ni])
        ctx.params_grad = bool(rest[-1])
        ctx.save_for_backward(grad, x, *rest[ni:-1])

    def bwd_backward(ctx, ggx, *ggp):
        grad, x, *params = ctx.saved_tensors
        res_g, res_x, res_p = double_backward(fam, grad, x, ctx.ints, params,
                                               ctx.params_grad, ggx, ggp)
        return (res_g, res_x, *([None] * ni), *res_p, None)

    torch.library.register_autograd(fwd_name, fwd_backward, setup_context=fwd_setup, lib=lib)
    torch.library.register_autograd(bwd_name, bwd_backward, setup_context=bwd_setup, lib=lib)

    def fwd_decomposition(x, *args):
        ints, params = args[:ni], args[ni:]
        cdt, exact = _plan(x.dtype, x.device)
        p = [q.to(cdt) for q in params]
        return fam.forward(x.to(cdt), *ints, *p, exact=exact).to(x.dtype)

    # the formulas as the op's decomposition in PyTorch's global table: exporters that
    # decompose unknown ops through it (ONNX) can then translate a graph holding the op
    torch._decomp.register_decomposition(fwd_op)(fwd_decomposition)
    _IMPLS[(lib_name, fam.name)] = (fwd_impl, bwd_impl)
    eager, traced = functions(lib_name, fam)
    _REGISTRY[(lib_name, fam.name)] = _Entry(fam, fwd_op, eager, traced,
                                             super(torch.autograd.Function, eager).apply,
                                             (fwd_impl, bwd_impl))


_LIB: dict[str, torch.library.Library] = {}


def library(lib_name: str) -> None:
    """Create (once) the ``torch.library`` namespace of this package."""
    if lib_name not in _LIB:
        _LIB[lib_name] = torch.library.Library(lib_name, "FRAGMENT")


# imported last: it builds on this module's execution paths
from . import _eager  # noqa: E402
