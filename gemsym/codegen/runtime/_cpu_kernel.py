"""The ahead-of-time CPU kernels (``_cpu_kernels.cpp``, compiled by ``build.py`` when the
package is installed): loaded once at import, then taken by the PyTorch path for CPU
inputs of float32, bfloat16 or float16 that are contiguous, with scalar parameters (one
fused pass in C++, every element in double as the PyTorch path computes float32; see
``_cpu_kernel_helpers.h``).  Everything else stays on the PyTorch formulas: float64 (whose
``exact`` path takes compensated steps the C++ printer does not all mirror), per-channel
parameters, other layouts, a gradient of another dtype; so do ``torch.compile`` and export,
which trace the formulas.  A plain eager call of a public function with Python-number
parameters runs the kernel directly (``call``), without the op's Python layers: where the
build has the direct binding (``_cpu_direct``), as one C++ call that also makes the checks,
and with x's autograd graph, when it needs one, by ``_Graph`` (the binding's forward and
gradient).

Without a build the PyTorch path runs and the import warns once (``RuntimeWarning`` naming
the build command); ``TORCH_BRIDGE_CPU_KERNEL=0`` skips the kernels without a warning.
"""

from __future__ import annotations

import os
import warnings
from typing import Callable, Iterable

import torch
from torch.autograd import forward_ad

from ._params import as_param, check_int

__all__ = ["load", "load_library", "call", "forward", "backward", "forward_with",
           "backward_with", "direct_forward", "numbers_only", "numbers_pass", "loaded", "set_cpu_kernel"]

#: family name -> (forward op, backward op) of the loaded library
_OPS: dict[str, tuple[Callable, Callable]] = {}
#: family name -> the ops' direct binding in the same library (``_cpu_direct``, see
#: ``_cpu_kernel_helpers.h``): ``f(x, ints, reals)`` is the forward op's result, False where
#: x's graph is needed (``_Graph``), or None where the op must decide; ``grad(grad, x, ints,
#: reals)`` is the backward op's g f'(x), or None
_DIRECT: dict[str, Callable] = {}
_GRAD: dict[str, Callable] = {}
#: the package's name (its registered ops: torch.ops.<name>)
_LIB: list[str] = []
#: family name -> (integer parameter names, real parameter names, their domains)
_SIGNATURES: dict[str, tuple] = {}
_on = True
#: the input dtypes the kernels take (float64 keeps the PyTorch path's compensated steps)
_DTYPES = frozenset({torch.float32, torch.bfloat16, torch.float16})
#: (family, dtype, integer parameters, real parameters) -> whether they passed the checks
#: of ``_runtime.call`` with float64 as the compute dtype (bounded: a schedule of
#: parameter values must not grow it forever)
_CHECKED: dict[tuple, bool] = {}
_CHECKED_MAX = 4096
_C = torch._C


def loaded() -> tuple[str, ...]:
    """The families that have a loaded CPU kernel."""
    return tuple(_OPS)


def set_cpu_kernel(on: bool) -> None:
    """Use (``True``, the default when built) or bypass the compiled CPU kernels."""
    global _on
    if not isinstance(on, bool):
        raise ValueError(f"on must be True or False (got {on!r})")
    _on = on


def load_library(lib_name: str, path, what: str, fallback: str, command: str) -> bool:
    """Load the built library at ``path``; False, after one warning naming it, ``fallback``
    and the build ``command``, when it does not load (another torch, a broken file)."""
    try:
        torch.ops.load_library(str(path))
    except (OSError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warnings.warn(f"{lib_name}: the {what} at {path} do not load ({first}); {fallback}; "
                      f"rebuild with `{command}`", RuntimeWarning, stacklevel=4)
        return False
    return True


def load(lib_name: str, families: Iterable[str]) -> None:
    """Load the build of this package's ``_cpu_kernels.cpp`` if there is one (else warn
    once, unless ``TORCH_BRIDGE_CPU_KERNEL=0``)."""
    setting = os.environ.get("TORCH_BRIDGE_CPU_KERNEL", "1")
    if setting == "0":
        return
    from . import build

    command = f"python {build.__file__}"
    try:
        path = build.library_path()
    except OSError as exc:  # the generated source is missing
        warnings.warn(f"{lib_name}: no CPU kernels ({exc.strerror}: {exc.filename}); CPU "
                      "calls run the multi-op PyTorch path", RuntimeWarning, stacklevel=3)
        return
    if not path.is_file():
        warnings.warn(f"{lib_name}: the fused CPU kernels are not built, so CPU calls run the "
                      f"slower multi-op PyTorch path; build them once with `{command}` "
                      "(TORCH_BRIDGE_CPU_KERNEL=0 silences this)", RuntimeWarning, stacklevel=3)
        return
    if not load_library(lib_name, path, "CPU kernels",
                        "CPU calls run the multi-op PyTorch path", command):
        return
    ns = getattr(torch.ops, f"{lib_name}_cpu")
    direct = _direct_module(lib_name, path)
    _LIB[:] = [lib_name]
    for name in families:
        if hasattr(ns, f"{name}_fwd"):
            _OPS[name] = (getattr(ns, f"{name}_fwd").default,
                          getattr(ns, f"{name}_bwd").default)
            fam = families[name] if isinstance(families, dict) else None
            if fam is not None:
                _SIGNATURES[name] = (fam.int_params, fam.params, fam.domains)
            if hasattr(direct, name) and hasattr(direct, f"{name}_grad"):
                _DIRECT[name] = getattr(direct, name)
                _GRAD[name] = getattr(direct, f"{name}_grad")


def _direct_module(lib_name: str, path):
    """The CPython module ``_cpu_direct`` of the loaded library, or None (a build without
    Python's headers has none: calls then go through the ops)."""
    from importlib.machinery import ExtensionFileLoader
    from importlib.util import module_from_spec, spec_from_loader

    # the library is already loaded (torch.ops.load_library): the loader finds the same
    # handle and runs PyInit__cpu_direct; no new registration happens
    loader = ExtensionFileLoader(f"{lib_name}._cpu_direct", str(path))
    try:
        module = module_from_spec(spec_from_loader(loader.name, loader))
    except ImportError:
        return None
    return module


def _plain(_compiling=torch.compiler.is_compiling,
           _functorch=_C._are_functorch_transforms_active,
           _dispatch=_C._len_torch_dispatch_stack, _function=_C._len_torch_function_stack,
           _profiler=_C._autograd._profiler_enabled, _tracing=_C._is_tracing,
           _forward_ad=forward_ad) -> bool:
    """Whether nothing must see the call as an op: no torch.func transform, dispatch or
    function mode, profiler, JIT trace, ``torch.compile`` nor forward-mode AD level."""
    # is_compiling first: Dynamo folds it to True and traces none of the others.  The
    # checks bound as defaults and ``_is_tracing`` (a bool, where ``_get_tracing_state``
    # makes an object): between a 2^10-element call's ATen ops each lookup and call costs
    # ~0.5-1.5 us, 6 of a GEM forward's 63 us
    return not (_compiling() or _functorch() or _dispatch() or _function() or _profiler()
                or _tracing() or _forward_ad._current_level >= 0)


def call(name: str, x, ints, reals):
    """f(x) of family ``name`` by the kernel, straight from the public function, for a plain
    eager call: a dense CPU tensor of float32 or a 16-bit dtype that needs no autograd
    graph, Python-number parameters, nothing that must see the op (``_plain``).  Else None,
    and the caller takes the checked path through the registered op.

    The parameters are checked as that path checks them (``check_int``, ``as_param``:
    the same ValueError), once per (family, dtype, values); the values then reach the
    kernel as doubles, as ``as_param``'s float64 0-d tensor would.  Where the library has
    the direct binding (``_cpu_direct``), it makes those checks in C++ and runs the kernel
    as one call (``ints`` and ``reals`` tuples), also when x needs its autograd graph
    (``_Graph``); a case it declines goes to the registered op."""
    direct = _DIRECT.get(name)
    if direct is not None:
        # the binding makes _plain's other checks itself (~0.1 us, against ~1.3 us here);
        # a call it declines (None) takes the registered op, which is right for every call
        if not _on or torch.compiler.is_compiling() or forward_ad._current_level >= 0:
            return None
        y = direct(x, ints, reals)
        return _graph_apply(x, name, ints, reals) if y is False else y
    ops = _OPS.get(name)
    if (ops is None or not _on or type(x) is not torch.Tensor or x.dtype not in _DTYPES
            or not x.is_cpu or not x.is_contiguous()
            or (x.requires_grad and _C.is_grad_enabled()) or not _plain()):
        return None
    # as_param's 0-d tensor holds the value the kernel must see, which is float(v) when it
    # is float64
    ok = numbers_pass(_CHECKED, _SIGNATURES, name, x, ints, reals, lambda: x,
                      lambda t: t.dtype == torch.float64)
    return ops[0](x, *ints, *[float(v) for v in reals]) if ok else None


def numbers_only(ints, reals) -> bool:
    """Whether the parameters are Python ints (integer ones) and floats or ints (real ones);
    bool and int-like types are the checked path's to decide."""
    return (all(type(v) is int for v in ints)
            and all(type(v) is float or type(v) is int for v in reals))


def numbers_pass(cache: dict, signatures: dict, name: str, x, ints, reals, probe,
                 accept: Callable) -> bool:
    """Whether Python-number parameters of family ``name`` pass the checked path's checks
    (``check_int``; ``as_param`` on ``probe()``, a tensor of x's dtype and the device whose
    compute dtype applies, made only when the values are not cached: the same ValueError) and ``accept`` takes each of as_param's
    tensors; False for other types or a signature that does not match.  The answer is cached
    per (family, dtype, values) in ``cache`` (bounded): keys equal as tuples (1 == 1.0,
    0.0 == -0.0) hold values of equal validity, bool being excluded."""
    if not numbers_only(ints, reals):
        return False
    key = (name, x.dtype, *ints, *reals)
    ok = cache.get(key)
    if ok is None:
        sig = signatures.get(name)
        if sig is None or len(ints) != len(sig[0]) or len(reals) != len(sig[1]):
            return False
        for n, v in zip(sig[0], ints):
            check_int(n, v)
        t = probe()
        ok = all([accept(as_param(v, t, n, d)) for n, d, v in zip(sig[1], sig[2], reals)])
        if len(cache) >= _CHECKED_MAX:
            cache.clear()
        cache[key] = ok
    return ok


class _Graph(torch.autograd.Function):
    """f(x) with x's autograd graph for a plain eager call whose checks the direct binding
    passed (Python-number parameters): the forward and x's gradient by the binding, without
    the family's ``autograd.Function`` over the registered ops, its 0-d parameter tensors and
    its Python kernels (~150 us of a 2^10-element forward+backward).  A backward that
    builds a graph (``create_graph``) or that the binding declines runs the registered
    backward op, which is differentiable: double backward as on the checked path."""

    @staticmethod
    def forward(ctx, x, name, ints, reals):
        ctx.save_for_backward(x)
        ctx.call = (name, ints, reals)
        # grad mode is off in here, so the binding runs the kernel
        y = _DIRECT[name](x, ints, reals)
        return y if y is not None else _OPS[name][0](x, *ints, *[float(v) for v in reals])

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        name, ints, reals = ctx.call
        gx = _GRAD[name](grad, x, ints, reals)  # None under create_graph
        if gx is None:
            # as_param's tensors of the values (float64 0-d on CPU), as the checked path has
            params = [torch.full((), float(v), dtype=torch.float64) for v in reals]
            op = getattr(getattr(torch.ops, _LIB[0]), f"{name}_bwd").default
            out = op(grad, x, *ints, *params, False)
            gx = out if isinstance(out, torch.Tensor) else out[0]
        return gx, None, None, None


# Function.apply's Python layer only unwraps torch.func wrappers, which _Graph never sees
_graph_apply = super(torch.autograd.Function, _Graph).apply


def _takes(name: str, x: torch.Tensor, params) -> tuple[Callable, Callable] | None:
    if (not _on or x.device.type != "cpu" or x.dtype == torch.float64
            or not x.is_contiguous()):
        return None
    ops = _OPS.get(name)
    if ops is None or any(q.numel() != 1 for q in params):
        return None
    return ops


def forward_with(ops, x: torch.Tensor, ints, params) -> torch.Tensor | None:
    """f(x) by the forward op of ``ops`` (a kernel's pair, or None: None) with the host
    parameters' values as doubles."""
    return None if ops is None else ops[0](x, *ints, *[float(q) for q in params])


def backward_with(ops, grad: torch.Tensor, x: torch.Tensor, ints, params, params_grad: bool):
    """(g f'(x), [sum of g df/dtheta with theta's shape and dtype]) by the backward op of
    ``ops``, or None (no ops, or a gradient of another dtype or shape)."""
    if ops is None or grad.dtype != x.dtype or grad.shape != x.shape:
        return None
    gx, sums = ops[1](grad.contiguous(), x, *ints, *[float(q) for q in params],
                      bool(params_grad))
    # (one conversion of all the sums, unbound, would be 2 ops instead of 6, but its
    # outputs would share a storage, which the op's schema does not allow)
    return gx, [sums[i].to(q.dtype) if q.dim() == 0 else sums[i].to(q.dtype).reshape(q.shape)
                for i, q in enumerate(params)]


def direct_forward(name: str, x: torch.Tensor, ints, reals) -> torch.Tensor | None:
    """f(x) by the direct binding of family ``name`` (``_cpu_direct``) with Python-number
    parameters, for a caller that runs with grad mode off and has made ``_plain``'s checks
    (``_module._Learned``); None where there is no binding or it declines the call."""
    direct = _DIRECT.get(name)
    if direct is None or not _on:
        return None
    y = direct(x, ints, reals)
    return y if isinstance(y, torch.Tensor) else None


def forward(fam, x: torch.Tensor, ints, params) -> torch.Tensor | None:
    """f(x) by the CPU kernel, or None when the case is not the kernel's."""
    return forward_with(_takes(fam.name, x, params), x, ints, params)


def backward(fam, grad: torch.Tensor, x: torch.Tensor, ints, params, params_grad: bool):
    """(g f'(x), [sum of g df/dtheta with theta's shape and dtype]) by the CPU kernel, or
    None when the case is not the kernel's."""
    return backward_with(_takes(fam.name, x, params), grad, x, ints, params, params_grad)
