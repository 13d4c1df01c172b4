"""The ahead-of-time CPU kernels (``_cpu_kernels.cpp``, compiled by ``build.py`` when the
package is installed): loaded once at import, then taken by the PyTorch path for CPU
inputs of float32, bfloat16 or float16 that are contiguous, with scalar parameters (one
fused pass in C++, every element in double as the PyTorch path computes float32; see
``_cpu_kernel_helpers.h``).  Everything else stays on the PyTorch formulas: float64 (whose
``exact`` path takes compensated steps the C++ printer does not all mirror), per-channel
parameters, other layouts, a gradient of another dtype; so do ``torch.compile`` and export,
which trace the formulas.

Without a build the PyTorch path runs and the import warns once (``RuntimeWarning`` naming
the build command); ``TORCH_BRIDGE_CPU_KERNEL=0`` skips the kernels without a warning.
"""

from __future__ import annotations

import os
import warnings
from typing import Callable, Iterable

import torch

__all__ = ["load", "forward", "backward", "loaded", "set_cpu_kernel"]

#: family name -> (forward op, backward op) of the loaded library
_OPS: dict[str, tuple[Callable, Callable]] = {}
_on = True


def loaded() -> tuple[str, ...]:
    """The families that have a loaded CPU kernel."""
    return tuple(_OPS)


def set_cpu_kernel(on: bool) -> None:
    """Use (``True``, the default when built) or bypass the compiled CPU kernels."""
    global _on
    if not isinstance(on, bool):
        raise ValueError(f"on must be True or False (got {on!r})")
    _on = on


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
    try:
        torch.ops.load_library(str(path))
    except (OSError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warnings.warn(f"{lib_name}: the CPU kernels at {path} do not load ({first}); CPU calls "
                      f"run the multi-op PyTorch path; rebuild with `{command}`",
                      RuntimeWarning, stacklevel=3)
        return
    ns = getattr(torch.ops, f"{lib_name}_cpu")
    for name in families:
        if hasattr(ns, f"{name}_fwd"):
            _OPS[name] = (getattr(ns, f"{name}_fwd").default,
                          getattr(ns, f"{name}_bwd").default)


def _takes(name: str, x: torch.Tensor, params) -> tuple[Callable, Callable] | None:
    if (not _on or x.device.type != "cpu" or x.dtype == torch.float64
            or not x.is_contiguous()):
        return None
    ops = _OPS.get(name)
    if ops is None or any(q.numel() != 1 for q in params):
        return None
    return ops


def forward(fam, x: torch.Tensor, ints, params) -> torch.Tensor | None:
    """f(x) by the CPU kernel, or None when the case is not the kernel's."""
    ops = _takes(fam.name, x, params)
    return None if ops is None else ops[0](x, *ints, *params)


def backward(fam, grad: torch.Tensor, x: torch.Tensor, ints, params, params_grad: bool):
    """(g f'(x), [sum of g df/dtheta with theta's shape and dtype]) by the CPU kernel, or
    None when the case is not the kernel's."""
    ops = _takes(fam.name, x, params)
    if ops is None or grad.dtype != x.dtype or grad.shape != x.shape:
        return None
    gx, sums = ops[1](grad.contiguous(), x, *ints, *params, bool(params_grad))
    return gx, [sums[i].to(q.dtype).reshape(q.shape) for i, q in enumerate(params)]
