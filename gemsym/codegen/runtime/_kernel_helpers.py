"""Triton kernels generated from the SymPy derivation (float32 compute, int64 offsets,
scalar parameters loaded and pinned to float32, no atomics: per-block partial sums).

The kernels call the helpers of the package's ``_triton_arith``, ``_triton_exp``,
``_triton_erfc`` and ``_triton_trig`` (copied verbatim from ``gemsym/codegen/runtime/``):
float32 exp, log, sigmoid, tanh, sech^2, erfc, sin, cos and hypot within about 1-2 ulp built
from + - * / and bit operations only (no libdevice: the interpreter has none, and the same
code runs on a GPU), functions of a rounding product or sum carried with its rounding error
(``_exp_prod``, ``_erfc_prod``, ``_sin_prod``, ``_sigmoid_dd``), IEEE division and
compensated integer powers for float32 data (``PRECISE``), plain arithmetic for 16-bit
data, integer powers by repeated squaring unrolled at compile time.  The kernels of each
family follow the imports.
"""

import triton  # noqa: F401  (the kernels below are triton.jit functions)
import triton.language as tl  # noqa: F401

# the helpers the printed kernels call
from ._triton_arith import _dd_add, _dd_sq_value, _dd_term, _dd_value, _div, _hypot, _ipow, _isinf, _isnan, _like, _sq, _xtimes  # noqa: F401
from ._triton_erfc import _erfc, _erfc_prod  # noqa: F401
from ._triton_exp import _exp, _exp_prod, _log, _sech2, _sigmoid, _sigmoid_dd, _sigmoid_lin, _tanh  # noqa: F401
from ._triton_trig import _cos, _cos_prod, _sin, _sin_prod  # noqa: F401
