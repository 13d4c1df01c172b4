"""``gemsym compare``: the table a paper needs -- per family the smoothness class at each
junction, monotonicity, the minimum, the range of f', the Lipschitz constant, f(0), f'(0),
whether f is bounded below, and the L^1, L^2, L^inf distances to the declared limit.

Every entry comes from an analysis (:mod:`gemsym.smoothness`, :mod:`gemsym.shape`,
:mod:`gemsym.lp`); a number is printed only when an independent method agrees with it:
shape values are checked against mpmath's numerical derivative of f (an extremum of f
where f' vanishes, no grid point beyond a bound), distances are the certified digits of
the L^p engine.  What cannot be certified is an em dash with a numbered note.  Exit 0
when every entry is decided, 3 when some entry is not (the table is printed all the same).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..activation import Activation
from ..evaluate import Imprecise, certified_mpf
from ..progress import Progress, add_quiet_argument
from ..tables import FORMATS, MISSING, Cell, Column, Table, latex_escape, render
from .common import add_family_arguments, bind_from_args, selected_families

#: The families compared when no --family is given (those the registry has).
COMPARE_DEFAULTS = ("gem", "e-gem", "se-gem", "relu", "gelu", "silu", "mish", "softplus",
                    "elu", "squareplus", "smelu")
#: The value of a limiting parameter that tends to 0 when not given.
SMALL_DEFAULT = "1/10000"
#: Significant digits shown for a number in the table.
DIGITS = 6

COLUMNS = (
    Column("family", "family"),
    Column("smoothness", "class", "class"),
    Column("monotone", "monotone"),
    Column("minimum", "minimum (x*, f(x*))", r"min $(x^*, f(x^*))$"),
    Column("derivative_range", "inf f', sup f'", r"$\inf f'$, $\sup f'$"),
    Column("lipschitz", "Lipschitz", "Lipschitz"),
    Column("f0", "f(0)", r"$f(0)$"),
    Column("df0", "f'(0)", r"$f'(0)$"),
    Column("bounded_below", "bounded below"),
    Column("L1", "L1 to limit", r"$L^1$"),
    Column("L2", "L2 to limit", r"$L^2$"),
    Column("Linf", "Linf to limit", r"$L^\infty$"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    available = _defaults()
    add_family_arguments(parser, default_N="1", default_eps=None, default_families=available)
    parser.add_argument("--format", default="text", choices=FORMATS,
                        help="text (default), markdown, latex (booktabs), csv or json")
    parser.add_argument("--no-distances", action="store_true",
                        help="leave out the L^p distances (the slowest columns)")
    add_quiet_argument(parser)


def _defaults() -> tuple[str, ...]:
    from ..families import FAMILIES

    return tuple(n for n in COMPARE_DEFAULTS if n in FAMILIES)


# ------------------------------------------------------------------------ numbers
def _number(e: sp.Expr) -> Cell:
    """A cell for an exact or 30-digit value: exact when short, else DIGITS digits."""
    e = sp.sympify(e)
    if e == sp.oo:
        return Cell("inf", r"$\infty$", "inf")
    if e == -sp.oo:
        return Cell("-inf", r"$-\infty$", "-inf")
    if e.free_symbols:
        return Cell(str(e), f"${sp.latex(e)}$", str(e))
    if e.is_Integer or (e.is_Rational and len(str(e)) <= 8):
        return Cell(str(e), f"${sp.latex(e)}$", str(e))
    try:
        with mpmath.workdps(30):
            text = mpmath.nstr(certified_mpf(e, 30), DIGITS)
    except Imprecise as exc:
        return Cell.missing(f"{e} = ? ({exc})")
    return Cell(text, f"${text}$", text)


def _pair(a: Cell, b: Cell) -> Cell:
    for c in (a, b):
        if c.text == MISSING:
            return c
    return Cell(f"{a.text}, {b.text}", f"{a.latex}, {b.latex}", [a.value, b.value])


def _location(loc) -> Cell:
    if isinstance(loc, sp.Interval):
        lo, hi = _number(loc.inf), _number(loc.sup)
        left = "(" if loc.inf == -sp.oo or loc.left_open else "["
        right = ")" if loc.sup == sp.oo or loc.right_open else "]"
        return Cell(f"x in {left}{lo.text}, {hi.text}{right}",
                    f"$x \\in {left}{sp.latex(loc.inf)}, {sp.latex(loc.sup)}{right}$",
                    [lo.value, hi.value])
    return _number(loc)


# -------------------------------------------------------------- independent checks
def _derivative(act: Activation):
    f = act.numeric()
    return lambda t: mpmath.diff(f, t)


def _check_minimum(act: Activation, loc, value) -> str:
    """'' when mpmath agrees that f has the value at loc and f' (numerical) vanishes
    there, else what disagrees."""
    try:
        return _minimum_disagrees(act, loc, value)
    except Imprecise as exc:
        return str(exc)


def _minimum_disagrees(act: Activation, loc, value) -> str:
    f = act.numeric()
    with mpmath.workdps(30):
        if isinstance(loc, sp.Interval):  # a flat stretch: check a point inside it
            x = loc.sup - 1 if loc.inf == -sp.oo else (loc.inf + 1 if loc.sup == sp.oo
                                                      else (loc.inf + loc.sup) / 2)
        else:
            x = loc
        xv = certified_mpf(x, 30)
        if abs(f(xv) - certified_mpf(value, 30)) > mpmath.mpf(10) ** -12 * max(1, abs(f(xv))):
            return f"f(x*) by mpmath differs from {value}"
        if not isinstance(loc, sp.Interval) and not _is_junction(act, x):
            if abs(mpmath.diff(f, xv)) > mpmath.mpf(10) ** -12:
                return "f'(x*) by numerical differentiation is not 0"
        grid = [mpmath.mpf(k) / 4 for k in range(-80, 81)]
        low = min(f(t) for t in grid)
        if low < certified_mpf(value, 30) - mpmath.mpf(10) ** -12:
            return "a grid point lies below the minimum"
    return ""


def _is_junction(act: Activation, x) -> bool:
    return any(sp.simplify(x - j) == 0 for j in act.junctions)


def _check_lipschitz(act: Activation, lip, where) -> str:
    """'' when |f'| (numerical derivative) stays below L on a grid and reaches it at the
    claimed point."""
    try:
        return _lipschitz_disagrees(act, lip, where)
    except Imprecise as exc:
        return str(exc)


def _lipschitz_disagrees(act: Activation, lip, where) -> str:
    d = _derivative(act)
    with mpmath.workdps(20):
        L = certified_mpf(lip, 25)
        grid = [mpmath.mpf(k) / 8 + mpmath.mpf(1) / 97 for k in range(-160, 161)]
        if max(abs(d(t)) for t in grid) > L * (1 + mpmath.mpf(10) ** -9):
            return "|f'| by numerical differentiation exceeds it"
        if where is not None and where not in (sp.oo, -sp.oo) and not _is_junction(act, where):
            if abs(abs(d(certified_mpf(where, 25))) - L) > mpmath.mpf(10) ** -9 * max(1, L):
                return "|f'| at the claimed point differs"
    return ""


# ------------------------------------------------------------------------ columns
@dataclass
class _Row:
    act: Activation
    cells: dict
    undecided: bool = False

    def put(self, key: str, cell: Cell) -> None:
        self.cells[key] = cell
        if cell.text == MISSING and "no declared limit" not in cell.note:
            self.undecided = True


def _smoothness_cell(act: Activation) -> Cell:
    from ..smoothness import smoothness

    try:
        report = smoothness(act)
    except ValueError as exc:
        return Cell.missing(f"{act.label}: smoothness not decided ({exc})")
    parts, tex, values = [], [], []
    for j in report.junctions:
        k = j.smoothness
        word = "C^oo" if k == sp.oo else ("not continuous" if k == -1 else f"C^{k}")
        latex = r"$C^\infty$" if k == sp.oo else ("discontinuous" if k == -1 else f"$C^{{{sp.latex(k)}}}$")
        if j.junction is not None:
            word += f" at {j.junction}"
            latex += f" at ${sp.latex(j.junction)}$"
        parts.append(word)
        tex.append(latex)
        values.append({"junction": None if j.junction is None else str(j.junction),
                       "class": "oo" if k == sp.oo else str(k)})
    return Cell("; ".join(parts), "; ".join(tex), values)


def _shape_cells(act: Activation, row: _Row) -> None:
    from ..shape import Undecided, shape_properties
    from ..shape.signs import end_limit

    try:
        props = shape_properties(act)
    except Undecided as exc:
        for key in ("monotone", "minimum", "derivative_range", "lipschitz", "bounded_below"):
            row.put(key, Cell.missing(f"{act.label}: shape not decided ({exc})"))
        props = None
    if props is not None:
        mono = props.monotone or "no"
        row.put("monotone", Cell(mono, None, mono))
        lo, hi = props.bounds
        row.put("bounded_below", Cell("yes" if lo != -sp.oo else "no", None, lo != -sp.oo))
        best = [m for m in props.minima if props.bounds_attained[0]
                and sp.simplify(sp.sympify(m[1]) - lo) == 0] if lo != -sp.oo else []
        if best:
            loc, value = best[0]
            why = _check_minimum(act, loc, value)
            if why:
                row.put("minimum", Cell.missing(f"{act.label}: minimum not certified ({why})"))
            else:
                row.put("minimum", _pair(_location(loc), _number(value)))
        else:
            row.put("minimum", Cell("none", None, None))
        row.put("derivative_range", _pair(*(_number(v) for v in props.derivative_range)))
        if props.lipschitz is None:
            row.put("lipschitz", Cell("none", None, None, f"{act.label}: not Lipschitz: {props.lipschitz_reason}"))
        else:
            why = _check_lipschitz(act, props.lipschitz, props.lipschitz_point)
            row.put("lipschitz", _number(props.lipschitz) if not why else
                    Cell.missing(f"{act.label}: Lipschitz constant not certified ({why})"))
    # f(0), f'(0): one-sided limits of the branches on each side of 0
    x = act.x
    left = act.branches[act.branch_index(-sp.Rational(1, 10**9))] if any(j == 0 for j in act.junctions) \
        else act.branches[act.branch_index(0)]
    right = act.branches[act.branch_index(0)]
    for key, k in (("f0", 0), ("df0", 1)):
        try:
            lv = end_limit(sp.diff(left.expr, x, k), x, sp.S.Zero, False)
            rv = end_limit(sp.diff(right.expr, x, k), x, sp.S.Zero, True)
        except ValueError as exc:
            row.put(key, Cell.missing(f"{act.label}: value at 0 not decided ({exc})"))
            continue
        if sp.simplify(lv - rv) == 0:
            row.put(key, _number(rv))
        else:
            row.put(key, Cell("undefined", None, None,
                              f"{act.label}: one-sided values at 0 differ ({lv} from the left, "
                              f"{rv} from the right)"))


def _distance_cells(act: Activation, row: _Row, step) -> None:
    from ..lp import lp_distance

    keys = (("L1", 1), ("L2", 2), ("Linf", "inf"))
    if act.limit is None:
        for key, _ in keys:
            row.put(key, Cell.missing(f"{act.label}: no declared limit"))
        return
    for key, p in keys:
        step(f"{act.label} L^{p}")
        try:
            r = lp_distance(act, p)
        except ValueError as exc:
            row.put(key, Cell.missing(f"{act.label}: L^{p} not decided ({exc})"))
            continue
        if r.converges is False:
            row.put(key, Cell("inf", r"$\infty$", "inf"))
        elif r.value is None:
            row.put(key, Cell.missing(f"{act.label}: L^{p} not certified ({r.undecided or r.reason})"))
        else:
            digits = min(DIGITS, r.value.digits)
            text = mpmath.nstr(r.value.value, digits)
            row.put(key, Cell(text, f"${text}$", text))


def _family_cell(act: Activation) -> Cell:
    params = ", ".join(f"{k}={v}" for k, v in act.values.items())
    text = act.label
    tex = f"${act.title}$" if act.title else latex_escape(act.name)
    if params:
        tex += " (" + ", ".join(f"${sp.latex(act.parameter(k).symbol)} = {sp.latex(v)}$"
                                for k, v in act.values.items()) + ")"
    return Cell(text, tex, act.label)


def _bind(family: Activation, args: argparse.Namespace) -> Activation:
    act = bind_from_args(family, args)
    if act.limit is not None and act.limit.parameter not in act.values and act.limit.value == 0:
        act = act.bind(**{act.limit.parameter: SMALL_DEFAULT})
    return act.with_defaults()


def compare_table(acts: list[Activation], distances: bool = True, progress=None) -> tuple[Table, bool]:
    """The comparison table of ``acts`` (bound) and whether every entry is decided."""
    rows: list[_Row] = []
    total = len(acts) * (2 + (3 if distances else 0))
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    for act in acts:
        row = _Row(act, {})
        row.put("family", _family_cell(act))
        step(f"{act.label} smoothness")
        row.put("smoothness", _smoothness_cell(act))
        step(f"{act.label} shape")
        _shape_cells(act, row)
        if distances:
            _distance_cells(act, row, step)
        else:
            for key in ("L1", "L2", "Linf"):
                row.put(key, Cell("not computed", None, None))
        rows.append(row)
    note = ("Distances to the declared limit at the parameter values shown (a limiting "
            f"parameter tending to 0 is {SMALL_DEFAULT} unless given); numbers to "
            f"{DIGITS} significant digits, each certified by an independent method.")
    table = Table(COLUMNS, tuple(tuple(r.cells[c.key] for c in COLUMNS) for r in rows),
                  caption="Activation functions compared", notes=(note,))
    return table, not any(r.undecided for r in rows)


def run(args: argparse.Namespace) -> int:
    acts = [_bind(f, args) for f in selected_families(args)]
    with Progress("compare", quiet=args.quiet) as progress:
        table, decided = compare_table(acts, distances=not args.no_distances, progress=progress)
    sys.stdout.write(render(table, args.format) + "\n")
    if not decided:
        sys.stderr.write("gemsym compare: some entries cannot be certified (em dashes; the "
                         "notes say why)\n")
        return 3
    return 0
