"""Verbatim parts of the generated package, shipped as package data and copied by
:mod:`gemsym.codegen.writer` with the generated-file stamp (importing this package imports
neither torch nor triton):

- ``_runtime.py``: op registration and vmap rules, execution paths (chunked, fused, traced,
  Triton), the dispatch of a call between them;
- ``_eager.py``: the plain eager CPU call without the registered op's Python layers;
- ``_autograd.py``: double backward, forward mode, the ``torch.autograd.Function`` classes;
- ``_params.py``: parameter domains, validation, the reparametrisation of learnable ones;
- ``_module.py``: the base class of the generated modules;
- ``_compensated.py``: double-double arithmetic of the formulas' ``exact`` path;
- ``_kernel_helpers.py`` opens ``_kernels.py``: it imports the Triton kernels' helpers from
  ``_triton_arith.py`` (float32 pairs, IEEE division, integer powers, hypot),
  ``_triton_exp.py`` (exp, log, sigmoid, tanh, sech^2), ``_triton_erfc.py`` and
  ``_triton_trig.py`` (sin, cos);
- ``_cpu_kernel_math.h`` and ``_cpu_kernel_helpers.h`` open ``_cpu_kernels.cpp``: the C++
  CPU kernels' branch-free exp and expm1, and their other helpers;
- ``build.py``: compiles ``_cpu_kernels.cpp`` once, when the package is installed;
- ``_cpu_kernel.py``: loads that build at import and runs the CPU path through it;
- ``_cuda_kernel_helpers.cuh`` follows them in ``_cuda_kernels.cu`` (the same scalar bodies
  compiled by nvcc for CUDA tensors): its element loops; ``build.py`` compiles it when torch
  has CUDA and nvcc is there, and ``_cuda_kernel.py`` loads it and runs CUDA calls through it.
"""

from importlib import resources

__all__ = ["read"]

FILES = ("_runtime.py", "_eager.py", "_compensated.py", "_autograd.py", "_params.py", "_module.py",
         "_kernel_helpers.py", "_triton_arith.py", "_triton_exp.py", "_triton_erfc.py",
         "_triton_trig.py",
         "_cpu_kernel.py", "_cuda_kernel.py", "build.py", "_cpu_kernel_math.h",
         "_cpu_kernel_helpers.h", "_cuda_kernel_helpers.cuh")


def read(name: str) -> str:
    """The text of the verbatim file ``name`` (one of ``FILES``)."""
    if name not in FILES:
        raise ValueError(f"name must be one of {', '.join(FILES)} (got {name!r})")
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
