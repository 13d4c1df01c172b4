"""Parameters of the generated package (copied verbatim from
``gemsym/codegen/runtime/_params.py``): domains, validation and the reparametrisation that
keeps learnable parameters in their domains.

A real parameter lives in an interval (``Domain``, written by ``gemsym codegen`` from the
family's definition).  Every value a user passes is checked against it -- a Python number,
a 0-d tensor or a tensor broadcastable to the input -- and a value outside it, or not
finite, or that leaves it once rounded to the dtype the formulas are evaluated in, is a
``ValueError`` naming the parameter.  A learnable parameter is stored unconstrained
(``<name>_raw``) and mapped into its domain by ``Domain.constrain``, so no optimiser step
can leave the domain.
"""

from __future__ import annotations

import math
import numbers
import struct
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["Domain", "as_number", "as_param", "check_input", "check_int", "compute_dtype"]


def compute_dtype(dtype: torch.dtype, device: torch.device | None = None) -> torch.dtype:
    """The dtype the formulas are evaluated in for inputs of ``dtype``: float64 for float64,
    and on CPU for float32, float16 and bfloat16 too (rounded at the end: the 4-ULP bound
    with margin, at about twice the arithmetic; 16-bit inputs so that no intermediate
    underflows before the result does: float32 has bfloat16's exponent range, and x^2,
    e^(-x^2/2) or a product of subnormals reached 0 where the true result is a normal
    bfloat16); float32 otherwise (GPU: the Triton kernels and the formulas)."""
    if dtype == torch.float64:
        return torch.float64
    if device is not None and device.type == "cpu":
        return torch.float64
    return torch.float32


def _round32(v: float) -> float:
    """v rounded to float32 (inf when it overflows)."""
    try:
        return struct.unpack("f", struct.pack("f", v))[0]
    except OverflowError:
        return math.copysign(math.inf, v)


def _softplus_grad(raw: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """softplus's backward at raw (beta 1, threshold 20: ``F.softplus``'s defaults)."""
    return torch.ops.aten.softplus_backward(grad, raw, 1.0, 20.0)


def _softplus_grad_neg(raw: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.softplus_backward(-grad, raw, 1.0, 20.0)


def _zero_grad(raw: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(grad)  # the clamp's where(mask, grad, 0)


def _same(raw: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return grad


def _unclamped(before: torch.Tensor, after: torch.Tensor, lower: float,
               upper: float | None = None) -> bool:
    """Whether autograd's clamp mask passes the gradient (``before >= lower``, and ``before
    <= upper`` where given): for float32 and float64 the clamp left the finite value
    unchanged (ATen compares with the bounds rounded to the dtype, as it clamps); for the
    other dtypes, which may compare in float32, the mask's own comparisons."""
    if before.dtype in (torch.float32, torch.float64):
        return before.item() == after.item()
    mask = before >= lower
    return bool(mask if upper is None else mask & (before <= upper))


@dataclass(frozen=True)
class Domain:
    """The interval a real parameter lives in (infinite bounds are open) and its wording
    for error messages (``text``, e.g. "a real number > 0")."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = True
    hi_open: bool = True
    text: str = "a real number"

    def contains(self, v: float) -> bool:
        """Whether the number v is finite and inside the interval."""
        # comparisons, not math.isfinite: under torch.compile a float argument that varies
        # between calls becomes a symbolic float, which compares (Dynamo guards on the
        # result) but which math.isfinite does not take
        if not abs(v) < math.inf or v < self.lo or v > self.hi:
            return False
        return not ((self.lo_open and v == self.lo) or (self.hi_open and v == self.hi))

    def holds(self, t: torch.Tensor) -> torch.Tensor:
        """``contains`` elementwise, as a boolean tensor (False for inf and NaN)."""
        ok = torch.abs(t) < math.inf
        if self.lo > -math.inf:
            ok = ok & ((t > self.lo) if self.lo_open else (t >= self.lo))
        if self.hi < math.inf:
            ok = ok & ((t < self.hi) if self.hi_open else (t <= self.hi))
        return ok

    def describe(self) -> str:
        """The reparametrisation ``constrain`` applies, in words."""
        if self.lo > -math.inf and self.hi < math.inf:
            return f"{self.lo:g} + {self.hi - self.lo:g} * sigmoid(raw)"
        if self.lo > -math.inf:
            return f"{self.lo:g} + softplus(raw)"
        if self.hi < math.inf:
            return f"{self.hi:g} - softplus(raw)"
        return "raw"

    @staticmethod
    def _gap(bound: float, dtype: torch.dtype) -> float:
        # at least one unit in the last place of the bound: bound +- gap is another number
        fi = torch.finfo(dtype)
        return max(abs(bound) * fi.eps, fi.tiny)

    def constrain(self, raw: torch.Tensor) -> torch.Tensor:
        r"""The parameter value for an unconstrained ``raw``: $lo + \mathrm{softplus}(raw)$
        on $(lo, \infty)$, $hi - \mathrm{softplus}(raw)$ on $(-\infty, hi)$,
        $lo + (hi - lo)\,\sigma(raw)$ on $(lo, hi)$, raw itself on the real line.  The
        softplus (sigmoid) is kept one unit in the last place away from the bounds, so for
        every finite raw value the result lies strictly inside the domain in ``raw``'s
        dtype."""
        lo, hi = self.lo, self.hi
        if lo > -math.inf and hi < math.inf:
            value = lo + (hi - lo) * torch.sigmoid(raw)
            return value.clamp(lo + self._gap(lo, raw.dtype), hi - self._gap(hi, raw.dtype))
        if lo > -math.inf:
            return lo + F.softplus(raw).clamp_min(self._gap(lo, raw.dtype))
        if hi < math.inf:
            return hi - F.softplus(raw).clamp_min(self._gap(hi, raw.dtype))
        return raw

    def constrain_parts(self, raw: torch.Tensor) -> tuple[torch.Tensor, Callable]:
        """(``constrain(raw)``, the function (raw, grad) -> d constrain(raw)/d raw times grad)
        for a 0-d finite ``raw``, without recording a graph: the value by ``constrain``'s
        own ops, and the backward as autograd computes it through them, bit for bit.  The
        clamps and the bound's sum or difference pass grad, 0 or -grad exactly, so the one
        rounding op is the softplus' (sigmoid's) own backward, called as autograd calls it;
        whether the clamp holds is read here from the forward's values (a graph of
        ``constrain`` and its backward cost ~0.15 ms a parameter on this project's CPU)."""
        lo, hi = self.lo, self.hi
        with torch.no_grad():
            if lo > -math.inf and hi < math.inf:
                s = torch.sigmoid(raw)
                inner = lo + (hi - lo) * s
                lower, upper = lo + self._gap(lo, raw.dtype), hi - self._gap(hi, raw.dtype)
                value = inner.clamp(lower, upper)
                if not _unclamped(inner, value, lower, upper):
                    return value, _zero_grad
                scale = hi - lo
                if scale == 1.0:  # grad * 1 is grad
                    return value, lambda r, grad: torch.ops.aten.sigmoid_backward(grad, s)
                return value, lambda r, grad: torch.ops.aten.sigmoid_backward(grad * scale, s)
            if lo > -math.inf or hi < math.inf:
                gap = self._gap(lo if lo > -math.inf else hi, raw.dtype)
                sp = F.softplus(raw)
                kept = sp.clamp_min(gap)
                # 0 + kept is kept (kept >= gap > 0): no op
                value = (kept if lo == 0.0 else lo + kept) if lo > -math.inf else hi - kept
                if not _unclamped(sp, kept, gap):
                    return value, _zero_grad
                return value, _softplus_grad if lo > -math.inf else _softplus_grad_neg
        return raw.detach(), _same

    def unconstrain(self, v: float) -> float:
        """The raw value ``constrain`` maps to v (v inside the domain)."""
        lo, hi = self.lo, self.hi
        if lo > -math.inf and hi < math.inf:
            t = (v - lo) / (hi - lo)
            return math.log(t) - math.log1p(-t)
        if lo > -math.inf or hi < math.inf:
            s = v - lo if lo > -math.inf else hi - v
            # softplus^{-1}(s) = s + log(1 - e^{-s})
            return s + math.log(-math.expm1(-s))
        return v


def _unwrapped(t: torch.Tensor) -> torch.Tensor:
    """The plain tensor under torch.func's wrappers (under ``vmap`` it holds the values of
    the whole batch), so that a value check needs no data-dependent control flow on a
    batched tensor."""
    functorch = torch._C._functorch
    while functorch.is_functorch_wrapped_tensor(t):
        t = functorch.get_unwrapped(t)
    return t


def check_input(x) -> None:
    """x must be a floating-point tensor (TypeError otherwise)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor (got {type(x).__name__}"
                        + (f" of {x.dtype}" if isinstance(x, torch.Tensor) else "") + ")")


def check_int(name: str, value) -> int:
    """``value`` if it is a positive Python int, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")
    return value


def as_param(value, x: torch.Tensor, name: str, domain: Domain = Domain()) -> torch.Tensor:
    """``value`` as a tensor argument of the op, checked against ``domain`` (a ValueError
    naming ``name`` otherwise).

    A Python number becomes a 0-d tensor of the compute dtype of ``x`` (float64 for every
    CPU input, so the number is used at full precision); it must stay inside the domain
    once rounded to that dtype (``eps = 1e39`` or ``1e-46`` cannot be float32).  A tensor
    keeps its autograd graph; it must broadcast to ``x``'s shape (per-channel values:
    shape (C, 1, 1) for (N, C, H, W) inputs), and its values, in the compute dtype, must
    lie in the domain: checked by one reduction, which synchronises with the device, and
    skipped while ``torch.compile`` traces (a data-dependent check would break the graph).
    A one-element tensor becomes 0-d (the scalar paths)."""
    cdt = compute_dtype(x.dtype, x.device)
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            value = value.to(torch.get_default_dtype())
        try:
            fits = torch.broadcast_shapes(value.shape, x.shape) == x.shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(f"{name} must be a number or a tensor broadcastable to x's "
                             f"shape {tuple(x.shape)} (got shape {tuple(value.shape)})")
        if not torch.compiler.is_compiling():
            plain = _unwrapped(value.detach())
            v = plain.to(cdt)
            ok = domain.holds(v)
            if not bool(ok.all()):
                bad = plain[~ok].reshape(-1)[0].item()
                if bool(domain.holds(plain).all()):
                    raise ValueError(f"{name} = {bad!r} leaves the domain in "
                                     f"{str(cdt).replace('torch.', '')}, the dtype x is "
                                     f"computed in; allowed: {domain.text}")
                raise ValueError(f"{name} must be {domain.text} (got a tensor holding {bad!r})")
        return value.reshape(()) if value.numel() == 1 and value.dim() else value
    # torch.full launches a fill kernel; torch.tensor(value, device="cuda") would be a
    # blocking copy from pageable host memory on every call (measured on an H100: E-GEM's
    # forward at 0.64 ms against 0.23 ms for GEM, whose N is a compile-time constant)
    return torch.full((), as_number(value, x, name, domain), dtype=cdt, device=x.device)


def as_number(value, x: torch.Tensor, name: str, domain: Domain = Domain()) -> float:
    """A Python number ``value`` checked as ``as_param`` checks it (a ValueError naming
    ``name``), as a float: the value of ``as_param``'s 0-d tensor before its rounding to
    the compute dtype of ``x``."""
    cdt = compute_dtype(x.dtype, x.device)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {domain.text}: a number or a tensor (got {value!r})")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    if not domain.contains(v):
        raise ValueError(f"{name} must be {domain.text} (got {value!r})")
    if cdt == torch.float32 and not domain.contains(_round32(v)):
        raise ValueError(f"{name} = {value!r} leaves the domain in float32, the dtype "
                         f"{str(x.dtype).replace('torch.', '')} inputs on "
                         f"{x.device.type} are computed in (it rounds to {_round32(v)!r}); "
                         f"allowed: {domain.text}")
    return v
