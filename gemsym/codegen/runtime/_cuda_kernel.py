"""The ahead-of-time CUDA kernels (``_cuda_kernels.cu``, compiled by ``build.py`` when the
package is installed with a CUDA build of torch and nvcc at hand): the CPU kernels' scalar
bodies compiled for the GPU, every float32 or 16-bit element computed in double and rounded
once.  Loaded once at import where torch has CUDA and a matching build exists, they take the
CUDA calls of the fused path (``_runtime``'s Triton path) for contiguous float32, bfloat16
or float16 inputs with scalar parameters: one C++ op call and one launch, with no Python
launcher.  Every other case keeps the Triton kernels or the PyTorch formulas, as do
``torch.compile`` and export.  A plain eager call of a public function with Python-number
parameters runs the kernel directly (``call``).

Without a build nothing is said: the Triton kernels are fused kernels too, and nothing is
compiled at call time.  ``TORCH_BRIDGE_CUDA_KERNEL=0`` skips the build even where it exists.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

import torch

from ._cpu_kernel import _plain, backward_with, forward_with, load_library, numbers_pass

__all__ = ["load", "call", "host_params", "forward", "backward", "loaded", "set_cuda_kernel"]

#: family name -> (forward op, backward op) of the loaded library
_OPS: dict[str, tuple[Callable, Callable]] = {}
#: family name -> (integer parameter names, real parameter names, their domains)
_SIGNATURES: dict[str, tuple] = {}
_on = True
_DTYPES = frozenset({torch.float32, torch.bfloat16, torch.float16})
#: (family, dtype, integer parameters, real parameters) -> whether they passed the checked
#: path's checks with float64 parameters (bounded, as the CPU kernels' cache)
_CHECKED: dict[tuple, bool] = {}
_CHECKED_MAX = 4096


def loaded() -> tuple[str, ...]:
    """The families that have a loaded CUDA kernel."""
    return tuple(_OPS)


def set_cuda_kernel(on: bool) -> None:
    """Use (``True``, the default when built) or bypass the compiled CUDA kernels (the
    Triton kernels then run)."""
    global _on
    if not isinstance(on, bool):
        raise ValueError(f"on must be True or False (got {on!r})")
    _on = on


def load(lib_name: str, families: Iterable[str]) -> None:
    """Load the build of this package's ``_cuda_kernels.cu`` where torch has CUDA and the
    build exists; a build that does not load is named in one warning."""
    if torch.version.cuda is None or os.environ.get("TORCH_BRIDGE_CUDA_KERNEL", "1") == "0":
        return
    from . import build

    try:
        path = build.cuda_library_path()
    except (OSError, RuntimeError):  # no source, or no architecture to key a build by
        return
    if path is None or not path.is_file():
        return
    if not load_library(lib_name, path, "CUDA kernels", "CUDA calls run the Triton kernels",
                        f"python {build.__file__}"):
        return
    ns = getattr(torch.ops, f"{lib_name}_cuda")
    for name in families:
        if hasattr(ns, f"{name}_fwd"):
            _OPS[name] = (getattr(ns, f"{name}_fwd").default,
                          getattr(ns, f"{name}_bwd").default)
            fam = families[name] if isinstance(families, dict) else None
            if fam is not None:
                _SIGNATURES[name] = (fam.int_params, fam.params, fam.domains)


def _checked(name: str, x: torch.Tensor, ints, reals) -> bool:
    """Whether Python-number parameters pass the checked path's checks for a CUDA input of
    x's dtype (each value must keep its domain once rounded to float32, the Triton kernels'
    dtype; its ValueError otherwise), made on a meta tensor (no device work): the kernel
    then uses the value itself, in double."""
    return numbers_pass(_CHECKED, _SIGNATURES, name, x, ints, reals,
                        lambda: torch.empty((), dtype=x.dtype, device="meta"), lambda t: True)


def _kernel_input(name: str, x) -> bool:
    return (_on and name in _OPS and type(x) is torch.Tensor and x.is_cuda
            and x.dtype in _DTYPES and x.is_contiguous())


#: value (float.hex) -> its 0-d float64 CPU tensor (shared: the ops never write their inputs)
_HOST: dict[str, torch.Tensor] = {}


def host_params(name: str, x, ints, reals) -> list[torch.Tensor] | None:
    """The real parameters of an eager call that the kernel will take, as 0-d float64 CPU
    tensors (the ops read them on the host, where a CUDA tensor's value would cost a
    synchronisation), after the checked path's checks; None for any other call, which
    keeps ``as_param``'s device tensors.  Python numbers need no gradient, so autograd
    never asks for these tensors' own."""
    if (not reals or not _kernel_input(name, x) or torch.compiler.is_compiling()
            or not _checked(name, x, ints, reals)):
        return None
    out = []
    for v in reals:
        key = float(v).hex()  # -0.0 and 0.0 apart
        t = _HOST.get(key)
        if t is None:
            if len(_HOST) >= _CHECKED_MAX:
                _HOST.clear()
            t = _HOST[key] = torch.tensor(float(v), dtype=torch.float64)
        out.append(t)
    return out


def call(name: str, x, ints, reals):
    """f(x) of family ``name`` by the kernel, straight from the public function, for a plain
    eager call: a contiguous CUDA tensor of float32 or a 16-bit dtype that needs no
    autograd graph, Python-number parameters, nothing that must see the op.  Else None,
    and the caller takes the checked path.  The parameters are checked as that path checks
    them, once per (family, dtype, values)."""
    if (not _kernel_input(name, x) or (x.requires_grad and torch.is_grad_enabled())
            or not _plain() or not _checked(name, x, ints, reals)):
        return None
    return _OPS[name][0](x, *ints, *[float(v) for v in reals])


def _takes(name: str, x: torch.Tensor, params) -> tuple[Callable, Callable] | None:
    if not _on or not x.is_cuda or x.dtype not in _DTYPES or not x.is_contiguous():
        return None
    ops = _OPS.get(name)
    # parameters on the host only: reading a CUDA tensor's value would synchronise every
    # call (those calls keep the Triton kernels, which read them on the device)
    if ops is None or any(q.numel() != 1 or q.device.type != "cpu" for q in params):
        return None
    return ops


def forward(fam, x: torch.Tensor, ints, params) -> torch.Tensor | None:
    """f(x) by the CUDA kernel, or None when the case is not the kernel's."""
    return forward_with(_takes(fam.name, x, params), x, ints, params)


def backward(fam, grad: torch.Tensor, x: torch.Tensor, ints, params, params_grad: bool):
    """(g f'(x), [sum of g df/dtheta with theta's shape and dtype]) by the CUDA kernel, or
    None when the case is not the kernel's."""
    return backward_with(_takes(fam.name, x, params), grad, x, ints, params, params_grad)
