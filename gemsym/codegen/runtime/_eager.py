"""The plain eager CPU call of a public function without the registered op's Python layers
(copied verbatim from ``gemsym/codegen/runtime/_eager.py``).

When the compiled CPU kernel does not take a call (not built, ``TORCH_BRIDGE_CPU_KERNEL=0``,
float64), the checked path validates the parameters, makes a 0-d tensor of each Python
number (``as_param``), then runs the ``autograd.Function``, the registered op and its
kernel: 40-130 us per call before any arithmetic on this project's CPU, about the whole
naive formula of a 2^10-element input (GEM N=1, float32: 58 us).  ``call`` runs the same
kernel (``_runtime._torch_forward``, or its one-chunk case directly) on the same parameter
tensors, checked and made once per (family, dtype, parameter types and values) and then
reused, for a plain CPU tensor with Python-number parameters that nothing must see as an
op (``_cpu_kernel._plain``); where x needs its autograd graph, ``_Graph`` records the call
with the kernels' forward and gradient (a backward that builds a graph runs the
registered, differentiable backward op).  The values are those of the checked path, bit
for bit: the same functions on the same tensors.

Every Python step counts at this size: between the ATen calls of a formula the interpreter
runs measurably slower than alone (a 20-element list comprehension there cost 5 us), so the
per-call work is a type check, one dictionary lookup and the formulas.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable, NamedTuple

import torch

from . import _cpu_kernel, _runtime
from ._cpu_kernel import _plain
from ._params import as_param, check_int
from ._runtime import (_CONVERT, CPU_CHUNK, _REGISTRY, Family, _narrow, _plan,
                       _torch_backward, _torch_forward, one_chunk, one_chunk_grad)

__all__ = ["call"]


class _Plan(NamedTuple):
    """What a call of one (family, dtype, parameter values) needs, made once."""

    family: Family
    params: tuple[torch.Tensor, ...]  # as_param's 0-d tensors (never written: shared)
    cdt: torch.dtype
    exact: bool
    narrow: bool
    #: the signs of the real parameters where one is a zero (0.0 and -0.0 are equal keys,
    #: their tensors differ), else None
    signs: tuple[float, ...] | None
    #: ``one_chunk`` and ``one_chunk_grad`` bound once (``_steps``), where the compute
    #: dtype is not x's (else None): the conversion to it, the formulas with ``exact``,
    #: ``narrow`` and a ``memo`` of their parameters' own expressions and body conditions
    #: (Sqish's log(beta): 0-d eager ops, ~40 us of a 2^10-element call), and the
    #: conversion back (each layer of calls and lookups costs microseconds at 2^10)
    step: Callable | None = None
    grad_step: Callable | None = None
    #: the formulas' memos of the forward and of the gradient, kept with the plan for the
    #: chunk loop too (Sqish's forward: five 0-d ops and a read, ~50 us a call at 2^16)
    memos: tuple[dict, dict] | None = None


def _steps(to_compute: Callable, formulas: Callable, to_input: Callable,
           grad_formulas: Callable, args: tuple) -> tuple[Callable, Callable]:
    """``one_chunk`` and ``one_chunk_grad`` for one plan, each as one call (the attribute
    lookups and argument unpacking they save cost ~2 us at 2^10 elements)."""
    def step(x):
        return to_input(formulas(to_compute(x), *args))

    def grad_step(grad, x):
        g = to_compute(grad)
        d = grad_formulas(to_compute(x), *args)
        # the product written into the gradient's compute-dtype copy (the same bits as
        # g * d, one float64 tensor fewer), never into the caller's gradient itself
        return to_input(g * d if g is grad else g.mul_(d))
    return step, grad_step


#: (package, family, dtype, the parameters' types, their values) -> the plan of a call;
#: bounded, as a schedule of values must not grow it forever
_PLANS: dict[tuple, _Plan] = {}
_PLANS_MAX = 4096
_C = torch._C


_sign = partial(math.copysign, 1.0)


def _signs(reals) -> tuple[float, ...]:
    return tuple(map(_sign, reals))  # (a list comprehension: ~3 us more between ATen ops)


def _make(lib_name: str, name: str, x: torch.Tensor, ints, reals) -> _Plan | None:
    """The plan of a call, after the checked path's checks (its ValueError for a value out
    of its domain); None where the parameters are not Python numbers (ints for the
    integer ones, floats or ints for the real ones) or do not match the family's."""
    fam = _REGISTRY[(lib_name, name)].family
    if (len(ints) != len(fam.int_params) or len(reals) != len(fam.params)
            or any(type(v) is not int for v in ints)
            or any(type(v) is not float and type(v) is not int for v in reals)):
        return None
    for n, v in zip(fam.int_params, ints):
        check_int(n, v)
    params = tuple(as_param(v, x, n, d) for v, n, d in zip(reals, fam.params, fam.domains))
    cdt, exact = _plan(x.dtype, x.device)
    narrow = _narrow(x.dtype, cdt, params)
    bound = (cdt != x.dtype and cdt in _CONVERT and x.dtype in _CONVERT)
    signs = _signs(reals) if 0.0 in reals else None
    memos: tuple[dict, dict] = ({}, {})
    if not bound:
        return _Plan(fam, params, cdt, exact, narrow, signs, memos=memos)
    # ``own``: the steps convert x, so the formulas get a copy of their own
    forward = partial(fam.forward, exact=exact, narrow=narrow, memo=memos[0], own=True)
    grad_x = partial(fam.grad_x, exact=exact, narrow=narrow, memo=memos[1], own=True)
    return _Plan(fam, params, cdt, exact, narrow, signs,
                 *_steps(_CONVERT[cdt], forward, _CONVERT[x.dtype], grad_x, (*ints, *params)),
                 memos=memos)


def call(lib_name: str, name: str, x, ints, reals):
    """f(x) of family ``name`` for a plain eager call on a CPU tensor of a floating dtype
    with Python-number parameters (``ints`` and ``reals`` tuples), by the registered op's
    kernel; None for any other call, which the caller runs through the op."""
    if (type(x) is not torch.Tensor or not x.is_cpu or not x.is_floating_point()
            or type(ints) is not tuple or type(reals) is not tuple or not _plain()):
        return None
    args = ints + reals
    # the types before the values: a key holding a tensor (or a bool, equal to 1) differs
    # from a cached one there, before any value is compared
    key = (lib_name, name, x.dtype, tuple(map(type, args)), args)
    plan = _PLANS.get(key)
    if plan is None or (plan.signs is not None and plan.signs != _signs(reals)):
        plan = _make(lib_name, name, x, ints, reals)
        if plan is None:
            return None
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = plan
    if x.requires_grad and _C.is_grad_enabled():
        return _graph_apply(x, lib_name, name, plan, ints)
    step = plan.step
    if step is not None:
        n = x.numel()
        # ``_forward``'s one-chunk case written out (a call and its lookups: ~2 us at 2^10)
        if (0 < n <= CPU_CHUNK and x.is_contiguous()
                and (not _cpu_kernel._on or name not in _cpu_kernel._OPS)
                and (not _runtime._fuse or n < _runtime.FUSE_MIN)):
            return step(x)
    return _forward(plan, name, x, ints)


def _one_chunk(name: str, x: torch.Tensor) -> bool:
    """Whether x is a call for ``one_chunk``, as ``_torch_forward`` decides it: one
    contiguous chunk, the compiled kernel off or not the family's for x's dtype, and the
    opt-in fused kernel (``set_cpu_fusion``) not taking it."""
    n = x.numel()
    return (0 < n <= CPU_CHUNK and x.is_contiguous()
            and (not _cpu_kernel._on or name not in _cpu_kernel._OPS
                 or x.dtype == torch.float64)
            and (not _runtime._fuse or n < _runtime.FUSE_MIN))


def _forward(plan: _Plan, name: str, x: torch.Tensor, ints) -> torch.Tensor:
    if not _one_chunk(name, x):
        return _torch_forward(plan.family, x, ints, plan.params, plan.memos[0])
    if plan.step is not None:
        # ``one_chunk`` with its steps bound in the plan: the same calls, the same bits
        return plan.step(x)
    return one_chunk(plan.family, x, ints, plan.params, plan.cdt, plan.exact, plan.narrow,
                     plan.memos[0])


class _Graph(torch.autograd.Function):
    """f(x) with x's autograd graph for ``call``: the forward and x's gradient by the
    registered ops' kernels (``_torch_forward``, ``_torch_backward``).  A backward that
    builds a graph (``create_graph``) runs the registered backward op, which is
    differentiable: double backward as on the checked path."""

    @staticmethod
    def forward(ctx, x, lib_name, name, plan, ints):
        ctx.save_for_backward(x)
        ctx.call = (lib_name, name, plan, ints)
        return _forward(plan, name, x, ints)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lib_name, name, plan, ints = ctx.call
        if _C.is_grad_enabled():
            op = getattr(getattr(torch.ops, lib_name), f"{name}_bwd").default
            out = op(grad, x, *ints, *plan.params, False)
            gx = out if isinstance(out, torch.Tensor) else out[0]
        elif _one_chunk(name, x) and grad.shape == x.shape:
            # an expanded gradient (``y.sum().backward()``) made dense: one copy, where the
            # chunk loop's slices and buffers cost ~0.3 ms at 2^4 elements (the same bits)
            grad = grad if grad.is_contiguous() else grad.contiguous()
            if plan.grad_step is not None:  # ``one_chunk_grad``'s steps, bound
                gx = plan.grad_step(grad, x)
            else:
                gx = one_chunk_grad(plan.family, grad, x, ints, plan.params, plan.cdt,
                                    plan.exact, plan.narrow, plan.memos[1])
        else:
            gx = _torch_backward(plan.family, grad, x, ints, plan.params, False,
                                 plan.memos[1])[0]
        return gx, None, None, None, None


# Function.apply's Python layer only unwraps torch.func wrappers, which _Graph never sees
_graph_apply = super(torch.autograd.Function, _Graph).apply
