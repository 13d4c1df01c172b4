"""Shape properties of an activation (monotonicity, minima, range of f', Lipschitz
constant, bounds, asymptotes), decided branch by branch.

Submodules, in the order data flows:
- ``signs``: signs, comparisons and one-sided limits valid for every parameter value;
- ``zeros``: real zeros and signs of a branch expression on its interval;
- ``properties``: the analysis itself, :func:`shape_properties` -> :class:`ShapeProperties`.
"""

from .properties import ShapeProperties, monotonicity_and_minima, shape_properties

__all__ = ["ShapeProperties", "shape_properties", "monotonicity_and_minima"]
