"""Base class of the generated ``torch.nn.Module`` classes (copied verbatim from
``gemsym/codegen/runtime/_module.py``)."""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch

from ._cpu_kernel import _plain, direct_forward
from ._params import as_number, as_param, check_input, check_int
from ._runtime import _torch_backward, _torch_forward, call, direct, family, run, traces

__all__ = ["ActivationModule"]


class _Constrained(NamedTuple):
    """The learnable parameters at one set of raw values (``_constrained``)."""

    numbers: tuple[float, ...]  # constrain's values as Python floats
    values: tuple[torch.Tensor, ...]  # the same as 0-d tensors of the raw dtypes
    grads: tuple[Callable, ...]  # (raw, grad) -> d constrain(raw)/d raw times grad
    #: (input dtype, integer parameters) -> the formulas' memos of the forward and of the
    #: gradients at these values (see ``_eager._Plan.memos``): the parameters' own
    #: expressions, evaluated once per value (Sqish: ~10 0-d ops and a log, ~80 us of a
    #: 2^10-element forward and backward)
    memos: dict


def _memos(c: _Constrained, x: torch.Tensor, ints: tuple) -> tuple[dict, dict]:
    """The formulas' memos of ``c`` for x's dtype and the integer parameters ``ints`` (a
    module's ``N`` may be set between calls; the bodies and their memos depend on it)."""
    key = (x.dtype, ints)
    memos = c.memos.get(key)
    if memos is None:
        memos = c.memos[key] = ({}, {})
    return memos


class _LearnedCall(NamedTuple):
    """What a ``_Learned`` call reads, fixed at the call (not the module)."""

    lib: str
    name: str
    domains: tuple
    ints: tuple
    constrained: _Constrained


class ActivationModule(torch.nn.Module):
    """Base class of the generated modules: integer parameters as attributes; real
    parameters fixed (Python numbers) or learnable.  A learnable parameter ``p`` is stored
    unconstrained as ``p_raw`` and read as ``p`` = ``Domain.constrain(p_raw)`` (see
    ``describe``); with ``num_parameters = C > 1`` it has one value per channel, dimension 1
    of the input (as ``torch.nn.PReLU``)."""

    _lib: str = ""
    _family: str = ""

    def __init__(self, ints: dict, reals: dict, learnable: bool = False,
                 num_parameters: int = 1) -> None:
        super().__init__()
        fam = family(self._lib, self._family)
        for n in fam.int_params:
            setattr(self, n, check_int(n, ints[n]))
        self.learnable = bool(learnable)
        self.num_parameters = check_int("num_parameters", num_parameters)
        if num_parameters > 1 and not (self.learnable and fam.params):
            raise ValueError(f"num_parameters must be 1 unless the module has learnable "
                             f"parameters (learnable=True) (got {num_parameters!r})")
        self._domains = dict(zip(fam.params, fam.domains))
        self._int_names = tuple(fam.int_params)
        self._fixed: dict[str, float] = {}
        probe = torch.zeros((), dtype=torch.float64)
        for n in fam.params:
            v = float(as_param(reals[n], probe, n, self._domains[n]))
            if self.learnable:
                shape = (num_parameters,) if num_parameters > 1 else ()
                raw = torch.full(shape, self._domains[n].unconstrain(v))
                self.register_parameter(f"{n}_raw", torch.nn.Parameter(raw))
            else:
                self._fixed[n] = v
        self._reals = tuple(self._fixed.values())
        self._raw_names = tuple(f"{n}_raw" for n in fam.params)
        #: (key of the raw values, their constrained values as floats) of the last call
        #: that ``_numbers`` took (see there)
        self._last_numbers: tuple = ((), ())

    def _value(self, name: str):
        """The parameter ``name`` in its domain: a float, or the constrained tensor."""
        if self.learnable:
            return self._domains[name].constrain(getattr(self, f"{name}_raw"))
        return self._fixed[name]

    def _args(self, x: torch.Tensor) -> list:
        check_input(x)
        fam = family(self._lib, self._family)
        args: list = [getattr(self, n) for n in fam.int_params]
        c = self.num_parameters
        if c > 1 and (x.dim() < 2 or x.shape[1] != c):
            raise ValueError(f"x must have {c} channels in dimension 1 for "
                             f"num_parameters={c} (got shape {tuple(x.shape)})")
        # fixed values reach the formulas that torch.compile traces as numbers (see
        # ``traces``), the op as tensors
        number = as_number if traces(fam, x) else as_param
        for n in fam.params:
            v = self._value(n)
            if not self.learnable:
                args.append(number(v, x, n, self._domains[n]))
            elif c > 1:
                args.append(v.reshape(c, *([1] * (x.dim() - 2))))
            else:
                args.append(v)
        return args

    def _raws(self, x: torch.Tensor) -> list | None:
        """The raw parameters, for a call whose values can be read as numbers: one value
        each (0-d Parameters on the CPU), x on the CPU, nothing that must see the op
        (``_plain``).  None otherwise."""
        if self.num_parameters != 1 or not x.is_cpu or not _plain():
            return None
        # from the dict itself: Module.__getattr__ costs ~2 us a name
        params = self._parameters
        raws = [params.get(n) for n in self._raw_names]
        # a raw value that is no longer a parameter of its own (torch.nn.utils.parametrize
        # moves it) first: it may be None
        if any(type(r) is not torch.nn.Parameter or not r.is_cpu or r.dim() != 0
               for r in raws):
            return None
        return raws

    def _constrained(self, raws: list) -> _Constrained | None:
        """The values of ``constrain`` and its backward at each raw value
        (``Domain.constrain_parts``) for the raw parameters ``raws``, None where a value is not finite (a raw inf or
        NaN: the op takes the tensors unchecked, where numbers would be refused).

        The values are ``constrain``'s, computed in the raw parameters' dtype as for the
        op (which receives them as 0-d tensors and converts them, exactly, to the float64
        compute dtype), and kept for the raw values of the last call: the key is the raw
        values themselves (and their zeros' signs, and dtypes), so that no write to a
        parameter, ``.data`` included, can leave a stale value."""
        values = tuple([r.item() for r in raws])
        key = (values, tuple([r.dtype for r in raws]),
               tuple([math.copysign(1.0, v) for v in values]) if 0.0 in values else None)
        last_key, constrained = self._last_numbers
        if key != last_key:  # a NaN never equals: recomputed, and None
            parts = [d.constrain_parts(r) for d, r in zip(self._domains.values(), raws)]
            numbers = tuple([t.item() for t, _ in parts])
            constrained = None
            if all(map(math.isfinite, numbers)):
                constrained = _Constrained(numbers, tuple([t for t, _ in parts]),
                                           tuple([g for _, g in parts]), {})
            self._last_numbers = (key, constrained)
        return constrained

    def _numbers(self, x: torch.Tensor) -> tuple[float, ...] | None:
        """The learnable parameters' values as Python floats (``_constrained``), for a call
        that needs no autograd graph of them and that nothing must see as an op
        (``_plain``): one value each, on the CPU with x.  None otherwise.  The softplus
        and clamps of 0-d tensors were ~200 us of a 2^10-element no-grad call of Sqish's
        module."""
        raws = self._raws(x)
        if raws is None or (torch.is_grad_enabled() and any(r.requires_grad for r in raws)):
            return None
        constrained = self._constrained(raws)
        return None if constrained is None else constrained.numbers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.learnable:
            # fixed values are Python numbers: the functional form's call, which takes the
            # compiled kernels or the plain eager lane where they apply (same checks and
            # bits; 40-60 us less than the op's layers at 2^10)
            ints = tuple(getattr(self, n) for n in self._int_names)
            return call(self._lib, self._family, x, ints, self._reals)
        raws = self._raws(x) if type(x) is torch.Tensor else None
        if raws is not None:
            constrained = self._constrained(raws)
            if constrained is not None:
                ints = tuple(getattr(self, n) for n in self._int_names)
                if not (torch.is_grad_enabled() and any(r.requires_grad for r in raws)):
                    # no graph of the parameters wanted: the values as numbers, as above
                    return call(self._lib, self._family, x, ints, constrained.numbers)
                if x.is_floating_point():
                    learned = _LearnedCall(self._lib, self._family,
                                           tuple(self._domains.values()), ints, constrained)
                    return _learned_apply(x, learned, *raws)
        return run(self._lib, self._family, x, *self._args(x))

    def extra_repr(self) -> str:
        fam = family(self._lib, self._family)
        parts = [f"{n}={getattr(self, n)}" for n in fam.int_params]
        for n in fam.params:
            v = self._value(n)
            if isinstance(v, torch.Tensor):
                vals = v.detach().reshape(-1).tolist()
                text = ", ".join(f"{t:g}" for t in vals[:4]) + (", ..." if len(vals) > 4 else "")
                parts.append(f"{n}={text}" if v.dim() == 0 else f"{n}=[{text}]")
            else:
                parts.append(f"{n}={v:g}")
        if fam.params:
            parts.append(f"learnable={self.learnable}")
        if self.num_parameters > 1:
            parts.append(f"num_parameters={self.num_parameters}")
        return ", ".join(parts)


class _Learned(torch.autograd.Function):
    """A learnable module's call with the graph of its parameters, for a plain eager CPU
    call (``ActivationModule._raws``): the values of ``constrain`` are computed once per raw
    values without a graph (``_constrained``); the forward and the backward are the
    registered ops' kernels on those values, as the op path's Function runs them, and the
    raw parameters' gradients ``Domain.constrain_parts``'s backward of each.  The op path
    records the same computation as about ten autograd nodes (each parameter's three
    reparametrisation ops, the op's Function) and gives the same bits: a softplus, its
    clamp and its backward on 0-d tensors through autograd cost ~0.15 ms a parameter.  A
    backward that builds a graph (``create_graph``) or that a tool must see runs the op
    path's differentiable computation again."""

    @staticmethod
    def forward(ctx, x, call: _LearnedCall, *raws):
        ctx.save_for_backward(x, *raws)
        ctx.call = call
        c = call.constrained
        # grad mode is off in here: the compiled kernel's direct binding on the numbers, or
        # the op's CPU kernel as the op path's Function runs it (not the numbers' eager
        # lane: a training step's new values would each make a plan), with the formulas'
        # memos of these values (the same operations on the same tensors: the same bits)
        y = direct_forward(call.name, x, call.ints, c.numbers)
        if y is not None:
            return y
        fam = family(call.lib, call.name)
        return _torch_forward(fam, x, call.ints, c.values, _memos(c, x, call.ints)[0])

    @staticmethod
    def backward(ctx, grad):
        x, *raws = ctx.saved_tensors
        call: _LearnedCall = ctx.call
        need_x, need_p = ctx.needs_input_grad[0], ctx.needs_input_grad[2:]
        c = call.constrained
        if torch.is_grad_enabled() or not direct(grad, x, *c.values):
            return (*_differentiable(call, grad, x, raws, need_x, need_p),)
        # the op's CPU kernel (``kernels``' backward) with the forward's memos
        gx, sums = _torch_backward(family(call.lib, call.name), grad, x, call.ints, c.values,
                                   any(need_p), _memos(c, x, call.ints)[1])
        grads = [cg(r, g) if nd else None
                 for cg, r, g, nd in zip(c.grads, raws, sums, need_p)]
        return (gx if need_x else None, None, *grads)


def _differentiable(call: _LearnedCall, grad, x, raws, need_x, need_p) -> list:
    """The gradients of ``_Learned`` by the op path (``constrain``'s graph and the op's
    differentiable backward), with a graph where grad mode is on (``create_graph``)."""
    with torch.enable_grad():
        leaves = [x] if need_x else []
        leaves += [r for r, nd in zip(raws, need_p) if nd]
        values = [d.constrain(r) for d, r in zip(call.domains, raws)]
        y = run(call.lib, call.name, x, *call.ints, *values)
        got = iter(torch.autograd.grad(y, leaves, grad, create_graph=torch.is_grad_enabled(),
                                       allow_unused=True))
    gx = next(got) if need_x else None
    return [gx, None, *[next(got) if nd else None for nd in need_p]]


# Function.apply's Python layer only unwraps torch.func wrappers, which _Learned never sees
_learned_apply = super(torch.autograd.Function, _Learned).apply
