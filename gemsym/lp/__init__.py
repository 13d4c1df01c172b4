"""The L^p engine: the distance ||f - g||_p between a family f and its declared limit g.

Submodules, in the order the analysis runs:

- ``asymptotics``: behaviour of f - g at the ends of every interval (power, exponential or
  Gaussian decay, a nonzero constant, bounded oscillation), finiteness for every p, and the
  scaling symmetry that gives the rate in the limiting parameter;
- ``integrals``: closed forms of the integral (resp. supremum) of |f - g|^p on one piece;
- ``gaussian``: \\int_0^oo (A(u) erfc(a u))^2 du by parts (the L^2 distance of GELU_beta);
- ``quadrature``: mpmath numerics (tanh-sinh quadrature, maximisation) with convergence
  detected, not assumed;
- ``certify``: a value is certified only to the digits on which two independent methods agree;
- ``distance``: assembles the pieces into :class:`LpDistance`;
- ``table``: the plain-text table of ``make run`` (``lp_table``).
"""

from .asymptotics import P
from .distance import Finiteness, LpDistance, lp_distance, parse_p
from .table import lp_table

__all__ = ["P", "Finiteness", "LpDistance", "lp_distance", "lp_table", "parse_p"]
