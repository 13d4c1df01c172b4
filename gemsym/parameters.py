"""Named parameters of an activation family and their admissible domains.

A parameter is a SymPy symbol carrying the assumptions that hold on its whole domain
(``N`` a positive integer, ``eps`` positive, ...), plus the exact domain as an interval so
that a concrete value can be checked against it.  Values are parsed exactly: ``"1/10000"``
and ``"1e-4"`` both become ``Rational(1, 10000)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Union

import sympy as sp

from .limits import MAX_DECIMAL_EXPONENT, MAX_SIGNIFICANT_DIGITS

__all__ = [
    "ParameterError",
    "Parameter",
    "SYMBOLIC",
    "parse_value",
    "positive_integer",
    "positive_real",
    "real_below",
    "real_parameter",
    "domain_substitution",
]

#: Marker for "keep this parameter symbolic".
SYMBOLIC = "symbolic"

ValueLike = Union[int, float, str, Fraction, sp.Expr]


class ParameterError(ValueError):
    """A parameter value outside its domain, or not a number at all."""


#: ``12.5e-3``, ``-.5``, ``1/3``: what a number may look like, checked before any conversion
#: (``Fraction("1e999999999")`` would build a billion-digit integer).
_DECIMAL = re.compile(r"[+-]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?")
_RATIO = re.compile(r"(?P<num>[+-]?[0-9]+)\s*/\s*(?P<den>[+-]?[0-9]+)")


def _too_large(name: str, value: object, detail: str) -> ParameterError:
    return ParameterError(
        f"{name} = {value!r:.60} is out of range: {detail} (allowed: magnitudes "
        f"10^-{MAX_DECIMAL_EXPONENT} .. 10^{MAX_DECIMAL_EXPONENT}, at most "
        f"{MAX_SIGNIFICANT_DIGITS} significant digits)"
    )


def _check_integer_size(name: str, value: object, n: int) -> None:
    """|n| < 10^(MAX_DECIMAL_EXPONENT + 1) with at most MAX_SIGNIFICANT_DIGITS significant
    digits (the magnitude by its bit length first: ``str`` of a huge int is itself slow)."""
    if abs(n).bit_length() * 0.30103 > MAX_DECIMAL_EXPONENT + 1:
        raise _too_large(name, value, f"more than {MAX_DECIMAL_EXPONENT} digits")
    if len(str(abs(n)).rstrip("0")) > MAX_SIGNIFICANT_DIGITS:
        raise _too_large(name, value, f"more than {MAX_SIGNIFICANT_DIGITS} significant digits")


def _check_text_size(name: str, text: str) -> None:
    """Refuse a decimal or ratio string whose exact value would be huge or overlong."""
    m = _DECIMAL.fullmatch(text)
    if m and (m["int"] or m["frac"]):
        digits = ((m["int"] or "") + (m["frac"] or "")).lstrip("0")
        if len(digits.rstrip("0")) > MAX_SIGNIFICANT_DIGITS:
            raise _too_large(name, text, f"more than {MAX_SIGNIFICANT_DIGITS} significant digits")
        exp_text = m["exp"] or "0"
        if len(exp_text.lstrip("+-").lstrip("0")) > 6:
            raise _too_large(name, text, "exponent too large")
        if digits:
            # the decimal exponent of the leading digit
            lead = int(exp_text) + len((m["int"] or "").lstrip("0")) - 1
            if not (m["int"] or "").lstrip("0"):
                lead = int(exp_text) - (len(m["frac"] or "") - len((m["frac"] or "").lstrip("0"))) - 1
            if abs(lead) > MAX_DECIMAL_EXPONENT:
                raise _too_large(name, text, f"magnitude 10^{lead}")
        return
    m = _RATIO.fullmatch(text)
    if m:
        for part in (m["num"], m["den"]):
            if len(part.lstrip("+-").lstrip("0")) > MAX_SIGNIFICANT_DIGITS:
                raise _too_large(name, text, f"more than {MAX_SIGNIFICANT_DIGITS} digits")


def parse_value(name: str, value: ValueLike) -> sp.Expr:
    """Convert ``value`` to an exact SymPy number (decimal strings and floats become
    the rational they spell, so ``1e-4`` is exactly ``1/10000``).  Numbers past the
    bounds of :mod:`gemsym.limits` (magnitude 10^±400, 60 significant digits) are
    refused before they are built."""
    if isinstance(value, sp.Expr):
        if value.free_symbols:
            raise ParameterError(f"{name} must be a number (got {value!r})")
        if value.is_Rational:
            _check_integer_size(name, value, int(value.p))
            _check_integer_size(name, value, int(value.q))
        return sp.nsimplify(value) if value.is_Float else value
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a number (got {value!r})")
    if isinstance(value, int):
        _check_integer_size(name, value, value)
        return sp.Integer(value)
    if isinstance(value, Fraction):
        _check_integer_size(name, value, value.numerator)
        _check_integer_size(name, value, value.denominator)
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{name} must be a finite number (got {value!r})")
        return sp.Rational(str(Fraction(repr(value))))
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in {"inf", "+inf", "-inf", "infinity", "oo", "nan"}:
            raise ParameterError(f"{name} must be a finite number (got {value!r})")
        # only the two spellings the size check understands reach Fraction
        # (it would also take "1_0e999999999")
        if _DECIMAL.fullmatch(text) or _RATIO.fullmatch(text):
            _check_text_size(name, text)
            try:
                return sp.Rational(Fraction(text))
            except (ValueError, ZeroDivisionError):
                pass
        raise ParameterError(
            f"{name} must be a number such as 2, 0.5, 1e-4 or 1/3 (got {value!r})"
        )
    raise ParameterError(f"{name} must be a number (got {value!r})")


@dataclass(frozen=True)
class Parameter:
    """A named family parameter: its symbol (with the assumptions valid on the whole
    domain), its domain as an exact set, and a default value."""

    name: str
    symbol: sp.Symbol
    domain: sp.Set
    integer: bool = False
    default: sp.Expr | None = None
    description: str = ""

    @property
    def domain_text(self) -> str:
        """Human-readable domain, used in every error message."""
        lo, hi = self.domain.inf, self.domain.sup
        if self.integer:
            if hi is sp.oo:
                return "a positive integer" if lo == 1 else f"an integer >= {lo}"
            return f"an integer in [{lo}, {hi}]"
        parts = []
        if lo is not sp.S.NegativeInfinity:
            parts.append(f"> {lo}" if self.domain.left_open else f">= {lo}")
        if hi is not sp.oo:
            parts.append(f"< {hi}" if self.domain.right_open else f"<= {hi}")
        return "a real number " + " and ".join(parts) if parts else "a real number"

    def check(self, value: ValueLike) -> sp.Expr:
        """Return ``value`` as an exact SymPy number, or raise :class:`ParameterError`
        naming the parameter, the value and the domain."""
        if isinstance(value, str) and value.strip().lower() == SYMBOLIC:
            return self.symbol
        if isinstance(value, sp.Symbol) and value == self.symbol:
            return value
        try:
            number = parse_value(self.name, value)
        except ParameterError as exc:
            raise ParameterError(f"{exc}; allowed: {self.domain_text} or 'symbolic'") from None
        if self.integer and not number.is_integer:
            raise ParameterError(
                f"{self.name} must be {self.domain_text} (got {value!r})"
            )
        if not self.domain.contains(number) == sp.true:
            raise ParameterError(f"{self.name} must be {self.domain_text} (got {value!r})")
        return number


def positive_integer(name: str, default: int = 1, description: str = "") -> Parameter:
    """An integer parameter N >= 1 (symbol assumed integer and positive)."""
    return Parameter(
        name,
        sp.Symbol(name, integer=True, positive=True),
        sp.Interval(1, sp.oo),
        integer=True,
        default=sp.Integer(default),
        description=description,
    )


def positive_real(
    name: str, default: ValueLike = 1, description: str = "", latex: str | None = None
) -> Parameter:
    """A real parameter > 0 (symbol assumed positive)."""
    return Parameter(
        name,
        sp.Symbol(latex or name, positive=True),
        sp.Interval.open(0, sp.oo),
        default=parse_value(name, default),
        description=description,
    )


def real_below(name: str, bound: ValueLike, default: ValueLike, description: str = "") -> Parameter:
    """A real parameter strictly below ``bound``."""
    return Parameter(
        name,
        sp.Symbol(name, real=True),
        sp.Interval.open(-sp.oo, parse_value(name, bound)),
        default=parse_value(name, default),
        description=description,
    )


def real_parameter(name: str, default: ValueLike = 0, description: str = "") -> Parameter:
    """An unconstrained real parameter."""
    return Parameter(
        name,
        sp.Symbol(name, real=True),
        sp.Interval(-sp.oo, sp.oo),
        default=parse_value(name, default),
        description=description,
    )


def domain_substitution(params) -> tuple[dict, dict]:
    """Rewrite bounded real parameters through positive symbols so that SymPy can use
    their domain: a < 1 becomes a = 1 - a', a' > 0.  Returns (forward, backward) maps."""
    forward: dict = {}
    backward: dict = {}
    for p in params:
        if p.integer or p.symbol.is_positive:
            continue
        lo, hi = p.domain.inf, p.domain.sup
        fresh = sp.Symbol(f"{p.symbol.name}_shift", positive=True)
        if hi is not sp.oo and lo is sp.S.NegativeInfinity:
            forward[p.symbol], backward[fresh] = hi - fresh, hi - p.symbol
        elif lo is not sp.S.NegativeInfinity and hi is sp.oo:
            forward[p.symbol], backward[fresh] = lo + fresh, p.symbol - lo
    return forward, backward
