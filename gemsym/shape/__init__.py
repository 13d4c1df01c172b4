"""Shape properties of an activation (monotonicity, minima, range of f', Lipschitz
constant, bounds, asymptotes), decided branch by branch.

Submodules, in the order data flows:
- ``flat``: a flat part (o(t^n) for every n) split off at an end, so limits need no Gruntz;
- ``signs``: signs, comparisons and one-sided limits valid for every parameter value;
- ``isolate``: certified isolation of real zeros by interval arithmetic (mpmath.iv);
- ``tail``: the sign of an expression on a whole tail [X, oo) from its dominant monomial;
- ``zeros``: real zeros and signs of a branch expression on its interval;
- ``domain``: the smooth pieces of f and its jumps and poles between them;
- ``periodic``: the range of a periodic f' over a piece that holds whole periods;
- ``properties``: the analysis itself, :func:`shape_properties` -> :class:`ShapeProperties`.
"""

from .domain import Breakpoint
from .properties import ShapeProperties, monotonicity_and_minima, shape_properties
from .signs import Undecided

__all__ = ["Breakpoint", "ShapeProperties", "Undecided", "shape_properties",
           "monotonicity_and_minima"]
