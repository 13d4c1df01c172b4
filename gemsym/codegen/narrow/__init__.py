"""Power forms for inputs of a narrow dtype evaluated in float64: no |x| > 1 side.

A power form is evaluated as ``where(|x| <= 1, small, large)`` because the |x| <= 1 side
(x^k/(x^j + c), ...) overflows for large |x| in the compute dtype.  Finite float32, bfloat16
and float16 values are below 2^128 in magnitude; evaluated in float64 (whose largest value
is about 2^1024), a |x| <= 1 side whose intermediates stay below 2^1000 for |x| <= 2^128 is
exact enough everywhere (a few float64 roundings: 2^-50 relative, far below a float32 ULP)
and needs neither the |x| > 1 side, its comparisons nor its ``where``s.  At x = +-inf the
value is the form's limit there, computed here by SymPy.  The underflow guard of the
|x| <= 1 side (``tails.common_power_first``: x^k S^-m R where |x^k| < 2^-100) is not
needed either when x^k stays a normal float64 number for the smallest nonzero input,
2^-149 (the float32 subnormal; bfloat16's and float16's are larger), nor where it does not
but the body rounds to the zero of its sign for the inputs whose x^k is not normal
(:mod:`.underflow`: GEM's f with N = 3, x^7 ~ 2^-1043 at 2^-149, is below 2^-838 there).
Likewise the overflow guard of a reciprocal power 1/b^k ((1/b)^k where b^k overflows) is
not needed where b^k stays below 2^1000 for every narrow input (1/(x - 1)^2 of a family
written with 1 - x^3, which SymPy factors).

The comparisons that remain (x < junction where an output is a constant piece there,
x == +-inf for the limits) each cost a comparison and a selection, about ten multiplications
on the eager PyTorch path; a :class:`Clamp` of x replaces them where the bodies allow it:
the constant pieces are the body's exact value at the junction (one junction, or two around
a middle body: ReLU6 is x clamped into [0, 6], the hard sigmoid x/6 + 1/2 at x clamped
into [-3, 3]), and the body at 2^136 rounds to the limit at +oo in every narrow dtype
(checked with interval arithmetic over the real parameters' range; a derivative, which a
gradient multiplies before it is rounded, keeps its comparison where that limit is
infinite: no finite value stands for it).  A parameter's derivative is only ever summed
over the input, so the sign of a zero of it is never seen: where its body is a zero of either sign at the
junction 0 and nonzero beyond it, +0.0 added makes it the constant piece's +0, and a limit
at +-oo that the clamped body misses is taken only where the input holds an infinity
(``Clamp.plus_zero``; E-GEM's and SE-GEM's d/deps).

A sigmoid form whose output is a sum over the two sides of one sigmoid, K_p x^k sigma(s) +
K_n x^k sigma(-s), is written there as x^k (K_p + K_n E)/(1 + E), E = e^(-s), where the
numerator cannot cancel (:mod:`.ratio`: Sqish's forward for a >= 0, SiLU's and Swish-beta's
forward, Softplus's derivative).

Where a power overflows float64 at the largest input (GEM's x^9 with N = 4 at 2^128),
x is clamped at 2^k below it, beyond which the body rounds to its limit or is within
2^-40 of x (a linear tail): with the junction below (GEM, E-GEM: ``plans._low_plan``) or,
the junction's comparison kept, at -2^k too, where the left body rounds to its own limit
(SE-GEM), or above only (E-GEM's d/deps, -0 at x = +0: ``plans._ends_plan``).
A derivative is multiplied by a gradient before it is rounded, so a limit 0 stands for
the body there only where the body is below 2^-320 (``plans.SCALED_ZERO``).

The claims are checked per value of the integer parameter (N = 1 .. ``MAX_INT``); the
generated formulas take the narrow body only for the values where they hold.  Real
parameters count as numbers below 2^128 in magnitude (and 0 or at least 2^-128, for the
reciprocals of a parameter) too: the generated code takes the narrow body only when they
are (``writer._narrow_lines``).  The interval arguments need each parameter's sign: a
parameter of either sign (leaky ReLU's alpha) gets, besides the plans that hold for every
value, the plans for its positive values where they clamp better (``positive_plans``:
alpha x_l + x_r for alpha > 0), taken when the value read is positive.
"""

from .clamp import Clamp
from .forms import INPUT_EXPONENT
from .plans import NarrowPlan, narrow_outputs, narrow_plans, positive_plans
from .ratio import ratio_forms, sigmoid_ratios

__all__ = ["INPUT_EXPONENT", "Clamp", "NarrowPlan", "narrow_outputs", "narrow_plans",
           "positive_plans", "ratio_forms", "sigmoid_ratios"]
