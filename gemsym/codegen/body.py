"""Straight-line code for a list of piecewise outputs, shared by the PyTorch and Triton
writers: common subexpressions of all branches and forms are extracted once (``sp.cse``),
then each output is assembled with ``where`` over the |x| <= 1 / |x| > 1 forms (where they
differ: a polynomial piece is one expression), the limit at +-oo (sigmoid forms) and the
branches (x < junction goes left)."""

from __future__ import annotations

import hashlib
import math
import re
from contextlib import contextmanager, nullcontext
from typing import Sequence

import sympy as sp

from .compensated import region
from .base_printer import CodePrinter, _sigmoid_linear_args
from .narrow import Clamp
from .stable import IPow, PowTimes, R, SigmoidLinear, StableForm

__all__ = ["body_lines"]


def body_lines(
    outputs: Sequence[tuple[str, Sequence[StableForm]]],
    junctions: Sequence[sp.Expr],
    x: sp.Symbol,
    printer: CodePrinter,
    indent: str = "    ",
    clamp: Clamp | None = None,
    side: int | None = None,
    finite: bool = False,
) -> list[str]:
    """Lines computing every output name from ``x`` (and ``ax = |x|``, ``r = 1/x``);
    ``clamp`` (narrow bodies, see :class:`~.narrow.Clamp`): x is clamped first, and the
    comparisons it makes unnecessary (x < junction, x == +-inf) are left out; with
    ``clamp.sides`` each output is the sum of its two sides (``_sides_lines``).  ``side``:
    the outputs are branch ``side`` alone, of narrow bodies at an x already clamped into
    that branch (no clamp, comparison nor selection printed).  ``finite``: the caller has
    checked that x holds no infinity nor NaN, and the outputs in ``clamp.plus_zero`` are
    summed by it (see :mod:`.sums`): no value at +-oo nor NaN is selected, and no +0.0
    added (the sign of a zero of a summed term is never seen)."""
    if clamp is not None and clamp.sides:
        return _sides_lines(outputs, junctions, x, printer, indent, clamp, finite)
    pieces: list[sp.Expr] = []
    index: dict[tuple[int, int, str], int] = {}
    exponents: dict[sp.Expr, sp.Symbol] = {}
    for o, (_, forms) in enumerate(outputs):
        for b, form in enumerate(forms):
            for role, expr in _roles(form):
                index[(o, b, role)] = len(pieces)
                pieces.append(printer.prepare(
                    _freeze_exponents(expr, printer.x_name, exponents)))
    printer = type(printer)(printer.int_names, printer.x_name,
                            {**printer.exponents, **{s: e for e, s in exponents.items()}})
    replacements, reduced, pair_lines = _cse(pieces, printer)
    printer.definitions = tuple(replacements)
    where = printer.select
    isinf, isnan = "_isinf", "_isnan"  # helpers of both targets (vectorised forms on CPU)
    used = set().union(*(e.free_symbols for e in [*reduced, *(e for _, e in replacements)]))
    lines = []
    # with a clamp, the comparisons that remain are made on the input before it (x0)
    xm = "x0" if clamp is not None else "x"
    if clamp is not None:
        lines.append(f"x = {printer.clamp(clamp.lo, clamp.hi)}")
    if R in used:
        lines.append("r = 1.0 / x")
    # |x|, for the |x| <= 1 / |x| > 1 selections: inserted here if one is printed
    ax_at = len(lines)
    hoisted = (_parameter_only(replacements, pieces, x, printer.int_names)
               if printer.memoizes_parameters else [])
    # the integer parameters' own lines (2.0*N: Python arithmetic) come before the memoized
    # ones, which may then name a product of them with a real parameter
    integer = (_integer_only(replacements, printer.int_names, hoisted)
               if printer.memoizes_parameters else [])
    named = (_ParameterNames(pieces, x, printer.int_names, hoisted, integer, printer)
             if printer.memoizes_parameters else None)
    before, kept, rest = [], [], []
    for i, (sym, expr) in enumerate(replacements):
        printer.hoist = named
        rest += [line() for line in pair_lines.get(i, [])]
        printer.hoist = None if sym in hoisted or sym in integer else named
        (kept if sym in hoisted else before if sym in integer else rest).append(
            f"{sym.name} = {printer(expr)}")
    printer.hoist = named
    rest += [line() for line in pair_lines.get(len(replacements), [])]
    memo_at = len(lines)
    lines += rest
    # every condition on x is evaluated once and shared by all outputs (eager PyTorch
    # evaluates each occurrence: GEM's |x| <= 1 was computed twice per formula)
    masks: dict[str, str] = {}

    def mask(cond: str) -> str:
        if not printer.shared_masks:  # compiled targets share them by themselves
            return cond
        if cond not in masks:
            masks[cond] = f"_m{len(masks)}"
        return masks[cond]

    assembled, guarded, tails = [], [], []
    # the conditions of the guarded lines, computed once each inside the guard
    gmasks: dict[str, str] = {}

    def gmask(cond: str) -> str:
        return gmasks.setdefault(cond, f"_g{len(gmasks)}")

    for o, (name, forms) in enumerate(outputs):
        values = []
        # an output whose last step is its last form's values at +-oo (one form, or x
        # clamped to the junction: the others are not selected): that step apart
        # (``_at_infinity_guard``), its conditions computed only when it runs
        alone = len(forms) == 1 or (clamp is not None and clamp.junction
                                    and name not in clamp.keep_lo)
        last = (printer.branches_on_data and alone and not forms[-1].points
                and forms[-1].kind != "const")
        for b, form in enumerate(forms):
            guard = last and b == len(forms) - 1
            get = lambda role: printer(reduced[index[(o, b, role)]])  # noqa: E731
            if form.kind == "power" and form.large is None:
                # no |x| > 1 side (``narrow``): the |x| <= 1 quotient everywhere, printed as
                # ``_select_then_divide`` prints it (the same bits on |x| <= 1), the limits at
                # +-oo where it would be inf/inf
                span = region(junctions, b if side is None else side)
                v = _small_quotient(reduced[index[(o, b, "small")]], printer, span)
                clamped = (side is not None or (
                               clamp is not None and clamp.lo is not None and not clamp.junction
                               and name not in clamp.keep_lo),
                           side is not None or (clamp is not None and clamp.hi is not None
                                                and name not in clamp.keep_hi))
                if guard and not finite:
                    with _unnamed(printer):
                        fix = _at_infinity(name, form.limits, span, printer, gmask, clamped, xm)
                    guarded += [] if fix == name else [f"{name} = {fix}"]
                elif not finite:
                    v = _at_infinity(v, form.limits, span, printer, mask, clamped, xm)
            elif form.kind == "power" and (one := _one_side(
                    form, x, reduced[index[(o, b, "small")]], reduced[index[(o, b, "large")]],
                    printer, region(junctions, b))) is not None:
                # one expression on both sides of |x| = 1 (a polynomial piece), printed alike
                # on both: without the comparison and the selection
                v = one
            elif form.kind == "power" and printer.divide_once:
                v = _select_then_divide(reduced[index[(o, b, "small")]],
                                        reduced[index[(o, b, "large")]], printer,
                                        mask("ax <= 1.0"), region(junctions, b))
            elif form.kind == "power" and getattr(printer, "factors_quotients", False):
                span = region(junctions, b)
                v = (f"{where}({mask('ax <= 1.0')}, "
                     f"{_quotient(reduced[index[(o, b, 'small')]], printer, span, True)}, "
                     f"{_quotient(reduced[index[(o, b, 'large')]], printer, span, False)})")
            elif form.kind == "power":
                v = f"{where}({mask('ax <= 1.0')}, {get('small')}, {get('large')})"
            elif form.kind == "sigmoid" and form.limits is not None and not finite:
                at = gmask if guard else mask
                with _unnamed(printer) if guard else nullcontext():
                    lim = (get("plus") if form.limits[0] == form.limits[1]
                           else f"{where}({at(f'{xm} > 0')}, {get('plus')}, {get('minus')})")
                if guard:
                    v = get("small")
                    guarded.append(f"{name} = {where}({gmask(f'{isinf}({xm})')}, {lim}, {name})")
                else:
                    v = f"{where}({mask(f'{isinf}({xm})')}, {lim}, {get('small')})"
            else:
                v = get("small")
            if (form.limits is not None and not finite and (
                    form.kind == "plain" or (form.kind == "power" and form.large is not None))):
                # the values at the branch's infinite ends that its code misses (see
                # ``derive._infinite_ends``); x == +-oo picks that branch alone, so on the
                # eager path they are set after the output, under the guard of every limit
                span = region(junctions, b)
                ends = tuple(None if given and printer.ieee_functions else v_
                             for v_, given in zip(form.limits, form.given))
                if printer.branches_on_data:
                    with _unnamed(printer):
                        fix = _at_infinity(name, ends, span, printer, gmask, xm=xm)
                    guarded += [] if fix == name else [f"{name} = {fix}"]
                else:
                    v = _at_infinity(v, ends, span, printer, mask, xm=xm)
            for point, value in form.points:
                v = f"{where}({mask(f'{xm} == {printer(point)}')}, {printer(value)}, {v})"
            values.append(v)
        if clamp is not None and clamp.hi_junction:
            # x clamped into [j0, j1], where the middle body gives the outer constants
            # (except for the outputs in keep_lo / keep_hi); a clamp keeps NaN
            out = values[1]
            if name in clamp.keep_hi:
                top = values[2] if finite else f"{where}({mask(f'{isnan}({xm})')}, x, {values[2]})"
                out = f"{where}({mask(f'{xm} < {printer(junctions[1])}')}, {out}, {top})"
            if name in clamp.keep_lo:
                out = f"{where}({mask(f'{xm} < {printer(junctions[0])}')}, {values[0]}, {out})"
        else:
            out = values[-1]
            if forms[-1].kind == "const" and not finite:
                out = f"{where}({mask(f'{isnan}({xm})')}, x, {out})"
            # with a junction clamp, x < junction was moved to it, where the body gives the
            # piece (except for the outputs in keep_lo)
            for j, v in zip(reversed(junctions), reversed(values[:-1])):
                if clamp is None or not clamp.junction or name in clamp.keep_lo:
                    out = f"{where}({mask(f'{xm} < {printer(j)}')}, {v}, {out})"
        if all(f.kind == "const" for f in forms):
            out = f"_like(x, {out})"
        if clamp is not None and name in clamp.plus_zero and not finite:
            # -0 at x clamped to the junction made the left piece's +0 (``Clamp.plus_zero``)
            out = f"({out}) + 0.0"
        if clamp is not None and name in clamp.tail:
            if printer.branches_on_data:
                tails.append(f"{name} = {printer.linear_tail(name, clamp.hi)}")
            else:
                out = printer.linear_tail(out, clamp.hi)
        assembled.append(f"{name} = {out}")
    lines += [f"{n} = {c}" for c, n in masks.items()] + assembled
    lines += _at_infinity_guard([f"{n} = {c}" for c, n in gmasks.items()] + guarded, xm)
    if tails:
        # +0 added to every element at most hi (a -0 stays -0): the same bits without it,
        # so the printers that may branch on data (as for the values at +-oo) skip it
        # where no element exceeds hi (one reduction for three eager float64 ops)
        lines += [f"if _beyond(x0, {float(clamp.hi)!r}):", *[f"    {line}" for line in tails]]
    printer.hoist = None
    extra = named.definitions if named is not None else []
    # ``before`` hashed with them: the key is the text of everything their values depend on
    lines[memo_at:memo_at] = before + _memoized(kept + [line for _, line in extra],
                                                [s.name for s in hoisted] + [n for n, _ in extra],
                                                before)
    if any(re.search(r"\bax\b", line) for line in lines[ax_at:]):
        lines.insert(ax_at, f"ax = {printer(sp.Abs(sp.Symbol(printer.x_name)))}")
    if clamp is not None and any(re.search(r"\bx0\b", line) for line in lines):
        lines.insert(0, "x0 = x")
    return [indent + line for line in [*printer.preamble(), *lines]]


@contextmanager
def _unnamed(printer: CodePrinter):
    """``printer`` without its ``hoist`` for the lines of a guarded step (see
    ``_at_infinity_guard``): they run only for an input that holds an infinity, so their
    parameters' expressions stay there rather than in every call's memoized lines."""
    hoist, printer.hoist = printer.hoist, None
    try:
        yield printer
    finally:
        printer.hoist = hoist


class _ParameterNames:
    """The printer's ``hoist``: a name for each largest subexpression of the parameters
    alone (one real parameter at least, or a name of ``hoisted``) that ``sp.cse`` left inside
    a larger expression (E-GEM f' has 2 eps N inside 2 eps N + t; a Sqish tail takes -c and
    -d), defined with the ``memo``'s other lines: each is otherwise an eager op on 0-d
    tensors on every call (3-6 us).  Printed in place of the subexpression, so that sums and
    products keep their order and roundings."""

    def __init__(self, pieces: list[sp.Expr], x: sp.Symbol, int_names,
                 hoisted: list[sp.Symbol], integer: list[sp.Symbol], printer: CodePrinter):
        params, real = _parameter_symbols(pieces, x, int_names)
        self.real = real | set(hoisted)
        self.allowed = params | set(hoisted) | set(integer)
        self.printer = printer
        self.names: dict[sp.Basic, str] = {}
        #: (name, its line), in the order of first use
        self.definitions: list[tuple[str, str]] = []

    def __call__(self, e: sp.Basic) -> str | None:
        if not isinstance(e, (sp.Expr, sp.Rel)) or e.is_Atom or e.is_number:
            return None
        if e in self.names:
            return self.names[e]
        if not self._parameters_only(e):
            return None
        hoist, self.printer.hoist = self.printer.hoist, None
        try:
            text = self.printer(e)
        finally:
            self.printer.hoist = hoist
        name = self.named(text)
        self.names[e] = name
        return name

    def _parameters_only(self, e: sp.Basic) -> bool:
        free = e.free_symbols
        return bool(free) and free <= self.allowed and bool(free & self.real)

    def prefix(self, factors: list[sp.Expr]) -> int:
        """How many leading ``factors`` of a printed product (evaluated left to right) to
        name with ``named``: the longest run of numbers and the parameters' expressions
        holding at least one real parameter (0 where that run is none)."""
        k = 0
        while k < len(factors) and (factors[k].is_number
                                    or factors[k].free_symbols <= self.allowed):
            k += 1
        return k if any(self._parameters_only(f) for f in factors[:k]) else 0

    def named(self, text: str) -> str:
        """The name of the value that printed expression ``text`` computes."""
        for name, line in self.definitions:
            if line == f"{name} = {text}":
                return name
        name = f"_q{len(self.definitions)}"
        self.definitions.append((name, f"{name} = {text}"))
        return name


def _parameter_symbols(pieces: list[sp.Expr], x: sp.Symbol, int_names
                       ) -> tuple[set[sp.Symbol], set[sp.Symbol]]:
    """(the symbols of ``pieces`` other than x and r, the real parameters among them)."""
    params = set().union(*(e.free_symbols for e in pieces)) - {x, R}
    return params, {s for s in params if s.name not in int_names and not isinstance(s, sp.Dummy)}


def _parameter_only(replacements, pieces: list[sp.Expr], x: sp.Symbol,
                    int_names) -> list[sp.Symbol]:
    """The replacements (in order) computed from the parameters alone, at least one of them
    real: the same values on every call with the same parameters (Sqish's 2 gamma (a - 1)
    and log(beta)), where each costs an eager op on 0-d tensors (~3-6 us)."""
    params, real = _parameter_symbols(pieces, x, int_names)
    hoisted: list[sp.Symbol] = []
    touches_real: set[sp.Symbol] = set()
    for sym, expr in replacements:
        free = expr.free_symbols
        if free <= params | set(hoisted):
            hoisted.append(sym)
            if free & (real | touches_real):
                touches_real.add(sym)
    # an integer-only line (2.0*N: Python arithmetic) is not worth a lookup; kept only as
    # the dependency of a real one
    needed = set(touches_real)
    for sym, expr in reversed(replacements):
        if sym in needed:
            needed |= expr.free_symbols & set(hoisted)
    return [s for s in hoisted if s in needed]


def _integer_only(replacements, int_names, hoisted: list[sp.Symbol]) -> list[sp.Symbol]:
    """The replacements (in order) computed from the integer parameters alone, except those
    in ``hoisted``: Python numbers, cheaper to compute than to look up."""
    out: list[sp.Symbol] = []
    for sym, expr in replacements:
        free = {s for s in expr.free_symbols if not isinstance(s, sp.Dummy)}
        if free and all(s.name in int_names or s in out for s in free) and sym not in hoisted:
            out.append(sym)
    return out


def _memoized(lines: list[str], names: list[str], context: Sequence[str] = ()) -> list[str]:
    """``lines`` (the parameters' own expressions, defining ``names``) evaluated once per
    ``memo`` (a dict the runtime keeps with fixed parameter values, or per call across its
    chunks; None: every time), under a key of their text and of ``context`` (the lines
    before them that they read): another body's lines with the same text define the same
    values."""
    if not lines:
        return []
    key = "p" + hashlib.sha1("\n".join([*context, *lines]).encode()).hexdigest()[:12]
    names_tuple = ", ".join(names) + ("," if len(names) == 1 else "")
    return [f"if memo is not None and {key!r} in memo:",
            f"    {names_tuple} = memo[{key!r}]",
            "else:",
            *[f"    {line}" for line in lines],
            "    if memo is not None:",
            f"        memo[{key!r}] = ({names_tuple})"]


def _sides_lines(outputs, junctions, x: sp.Symbol, printer: CodePrinter, indent: str,
                 clamp: Clamp, finite: bool = False) -> list[str]:
    """Each output as L(x_l) + R(x_r): the right sides' lines at x = x_r, then the left
    sides' at x = x_l (``printer.side_clamp``, from the input x0), then the sums (see
    :class:`~.narrow.Clamp`: the same bits as the selection, which the eager PyTorch path
    pays five multiplications for); ``finite`` as ``body_lines``'."""
    lines = ["x0 = x"]
    for side, suffix in ((1, "_r"), (0, "_l")):
        one = [(name + suffix, (forms[side],)) for name, forms in outputs
               if side or name not in clamp.plus_zero]
        if one:
            lines.append(f"x = {printer.side_clamp(side, clamp.hi if side else clamp.lo)}")
            lines += body_lines(one, junctions, x, printer, "", side=side, finite=finite)
    # a left piece 0: +0.0 makes the right side's -0 at x_r = +0 the piece's +0 (a summed
    # term's zero sign is never seen)
    zero = "" if finite else " + 0.0"
    lines += [f"{name} = {name}_r{zero}" if name in clamp.plus_zero
              else f"{name} = {name}_l + {name}_r" for name, _ in outputs]
    # the limits that the clamped sides miss, where an input is infinite
    conds: dict[str, str] = {}
    fixes = []
    for name, forms in outputs if not finite else ():
        for keep, form, end, sign in ((clamp.keep_hi, forms[1], 1, ""),
                                      (clamp.keep_lo, forms[0], 0, "-")):
            if name in keep:
                g = conds.setdefault(f"x0 == {sign}{printer.infinity}", f"_gs{len(conds)}")
                fixes.append(f"{name} = {printer.select}({g}, {printer(form.limits[end])}, {name})")
    lines += _at_infinity_guard([f"{g} = {c}" for c, g in conds.items()] + fixes, "x0")
    return [indent + line for line in lines]


def _cse(pieces: list[sp.Expr], printer: CodePrinter):
    """``sp.cse`` of ``pieces``: (replacements, reduced pieces, {i: functions printing the
    lines to print before replacement i}).  With ``printer.pair_sigmoids``, sigma(s) and
    sigma(-s) of one s = c x + d become the two names of one ``_sigmoid_pair`` line, placed
    after the definitions of c and d and before the first use (without such a place:
    unpaired); where a product has both as factors, one ``_sigmoid_trio`` line names their
    product too (rounded once on the float64 path, see ``_runtime._sigmoid_trio``)."""
    symbols = lambda: sp.numbered_symbols("_t")  # noqa: E731
    groups: dict[tuple, dict[bool, sp.Expr]] = {}
    if printer.pair_sigmoids:
        for e in pieces:
            for s in e.atoms(SigmoidLinear):
                c, var, d, neg = _sigmoid_linear_args(s)
                groups.setdefault((c, var, d), {})[neg] = s
    pairs = [(key, sides) for key, sides in groups.items() if len(sides) == 2]
    if not pairs:
        replacements, reduced = sp.cse(pieces, symbols=symbols(), order="canonical")
        return replacements, reduced, {}
    subs, names = {}, []
    for i, (_, sides) in enumerate(pairs):
        pos, neg = sp.Symbol(f"_s{i}"), sp.Symbol(f"_s{i}n")
        subs[sides[False]], subs[sides[True]] = pos, neg
        names.append((pos, neg, sp.Symbol(f"_s{i}p")))
    paired = [_pair_products(e.xreplace(subs), names) for e in pieces]
    # c and d go through the same cse (first: their temporaries come early), so that they
    # are printed with its names
    extra = [t for (c, _, d), _ in pairs for t in (c, d)]
    replacements, reduced = sp.cse(extra + paired, symbols=symbols(), order="canonical")
    args, reduced = reduced[:len(extra)], reduced[len(extra):]
    where = {sym: i for i, (sym, _) in enumerate(replacements)}
    lines: dict[int, list[str]] = {}
    for i, ((_, var, _), _) in enumerate(pairs):
        c, d = args[2 * i], args[2 * i + 1]
        pos, neg, prod = names[i]
        after = max((where[s] + 1 for s in (c.free_symbols | d.free_symbols) if s in where),
                    default=0)
        first = min((j for j, (_, e) in enumerate(replacements)
                     if e.free_symbols & {pos, neg, prod}), default=len(replacements))
        if after > first:  # no place between the definitions and the first use
            printer = type(printer)(printer.int_names, printer.x_name, printer.exponents)
            printer.pair_sigmoids = False
            return _cse(pieces, printer)
        used = set().union(*(e.free_symbols for _, e in replacements),
                           *(e.free_symbols for e in reduced))
        trio = prod in used
        # printed when the body's lines are (``body_lines``: with the printer's ``hoist``)
        lines.setdefault(first, []).append(
            lambda pos=pos, neg=neg, prod=prod, trio=trio, c=c, var=var, d=d, printer=printer:
            f"{pos.name}, {neg.name}{f', {prod.name}' if trio else ''} = "
            f"_sigmoid_{'trio' if trio else 'pair'}({printer(c)}, {printer(var)}, "
            f"{printer(d)}{printer.precision_arg})")
    return replacements, reduced, lines


def _pair_products(e: sp.Expr, names: list[tuple[sp.Symbol, sp.Symbol, sp.Symbol]]) -> sp.Expr:
    """``e`` with each product pos^j neg^k (j, k >= 1 integers) of a pair's names written
    prod^n pos^(j-n) neg^(k-n), n = min(j, k), prod the name of pos neg."""
    for pos, neg, prod in names:
        def fuse(m: sp.Mul, pos=pos, neg=neg, prod=prod) -> sp.Expr:
            powers = m.as_powers_dict()
            j, k = (sp.sympify(powers.get(v, 0)) for v in (pos, neg))
            if not (j.is_Integer and k.is_Integer) or min(j, k) < 1:
                return m
            return m * (prod / (pos * neg)) ** int(min(j, k))
        e = e.replace(lambda t, pos=pos, neg=neg: t.is_Mul and t.has(pos) and t.has(neg), fuse)
    return e


def _select_then_divide(small: sp.Expr, large: sp.Expr, printer: CodePrinter,
                        inner: str, span: tuple[float, float]) -> str:
    """where(|x| <= 1, a/b, c/d) as where(|x| <= 1, a, c) / where(|x| <= 1, b, d): the
    same operations on the selected side (bitwise the same result), one division instead
    of two, which a fused float64 CPU kernel is bound by (GEM N=1 forward, 2^24 fp32:
    3.15 ms -> 2.31 ms under torch.compile, ReLU 1.61 ms).  ``inner``: the name of the
    |x| <= 1 mask.  ``span``: the branch's interval, where a polynomial that has a root
    cancels (``printer.quotient``)."""
    (sn, sd), (ln, ld) = sp.fraction(small), sp.fraction(large)
    if sd == 1 and ld == 1:
        return (f"_where({inner}, {printer.quotient(small, None, *span, True)[0]}, "
                f"{printer.quotient(large, None, *span, False)[0]})")
    (a, b), (c, d) = printer.quotient(sn, sd, *span, True), printer.quotient(ln, ld, *span, False)
    out = f"_where({inner}, {a}, {c})/_where({inner}, {b}, {d})"
    x = sp.Symbol(printer.x_name, real=True)
    power = next((f for f in sp.Mul.make_args(ld) if isinstance(f, IPow) and f.args[0] == x),
                 None)
    if power is None:
        return out
    # x^k in the |x| > 1 denominator overflows where the quotient is still a number (SE-GEM
    # d/dx = 3/((1 - x^-3)^2 x^4) is 1.5e-308 at x = -1.2e77, was 0): there, and only there
    # (beyond |x| = M^(1/k), M the dtype's largest value), num (1/x)^k / (den / x^k), so that
    # every other input keeps the bits of the one division
    k = printer.integer(power.args[1])
    fallback = printer(ln * IPow(1 / x, power.args[1]) / (ld / power))
    return f"{printer.select}(ax > {printer.overflow_bound(k)}, {fallback}, {out})"


def _at_infinity(v: str, limits, span: tuple[float, float], printer: CodePrinter,
                 mask, clamped: tuple[bool, bool] = (False, False), xm: str = "x") -> str:
    """``v`` with the limits (at -oo, at +oo) where x is infinite, for the ends of the branch
    interval ``span`` that are infinite (a finite end's side is another branch's) and not
    ``clamped`` (x was clamped to a value where ``v`` rounds to the limit, see
    :class:`~.narrow.Clamp`); where the limit is x itself (-oo, +oo), x is taken (one
    comparison and one selection fewer).  ``xm``: the name of the input before a clamp.
    A limit None (a plain form's end without one) keeps ``v`` there."""
    where, (lo, hi) = printer.select, limits
    ends = [(t, f"{xm} == {sign}{printer.infinity}")
            for t, end, sign, done in ((lo, span[0], "-", clamped[0]),
                                       (hi, span[1], "", clamped[1]))
            if math.isinf(end) and not done and t is not None]
    if len(ends) == 2 and lo == hi:
        return f"{where}({mask(f'_isinf({xm})')}, {printer(hi)}, {v})"
    if len(ends) == 2 and (lo, hi) in ((-sp.oo, sp.oo), (sp.oo, -sp.oo)):
        lim = xm if hi == sp.oo else f"-{xm}"
        return f"{where}({mask(f'_isinf({xm})')}, {lim}, {v})"
    for t, cond in ends:
        v = f"{where}({mask(cond)}, {printer(t)}, {v})"
    return v


def _at_infinity_guard(fixes: list[str], xm: str) -> list[str]:
    """The lines ``fixes`` (their conditions, then each output's values where x = +-oo,
    after its finite form) under ``if _nonfinite(x):``, which the runtime makes true
    unless x is an eager CPU tensor whose elements are all finite (one sum): then every
    selection they make keeps the finite form, and leaving them out gives the same bits.
    Eager CPU ``where`` and its comparisons cost ~7 arithmetic ops each (Sqish f at 2^14:
    2 comparisons and 2 selections, ~250 of 700 us)."""
    if not fixes:
        return []
    return [f"if _nonfinite({xm}):", *[f"    {line}" for line in fixes]]


def _small_quotient(small: sp.Expr, printer: CodePrinter, span: tuple[float, float]) -> str:
    """The |x| <= 1 side of ``_select_then_divide`` alone: num/den of its numerator and
    denominator as that function prints them."""
    sn, sd = sp.fraction(small)
    if sd == 1:
        return printer.quotient(small, None, *span, True)[0]
    if printer.folds_negation and sn.could_extract_minus_sign() and sd.is_Add:
        # (-a)/b and a/(-b) round alike (the sign apart, IEEE rounding is symmetric), and
        # -b of a sum is the sum of the negated terms, each negation exact
        sn, sd = -sn, sp.Add(*[-t for t in sd.args])
    a, b = printer.quotient(sn, sd, *span, True)
    return f"({a})/({b})"


def _quotient(e: sp.Expr, printer: CodePrinter, span: tuple[float, float],
              small: bool) -> str:
    """``e`` = num/den with num and den through ``printer.quotient`` (the numerator's real
    roots in ``span`` factored out where its terms cancel, the denominator then summed
    more accurately); printed as usual where the printer leaves both as they are."""
    num, den = sp.fraction(e)
    if den == 1:
        return printer.quotient(e, None, *span, small)[0]
    a, b = printer.quotient(num, den, *span, small)
    return printer(num / den) if (a, b) == (printer(num), printer(den)) \
        else printer._divide(a, [f"({b})"])


def _freeze_exponents(expr: sp.Expr, x_name: str,
                      exponents: dict[sp.Expr, sp.Symbol]) -> sp.Expr:
    """Write r**k as 1/x**k (one rounding instead of k, and shared with x**k by
    ``sp.cse``) and turn every symbolic IPow exponent into one atom (recorded in
    ``exponents``, printed as the integer expression), so that ``sp.cse`` does not split
    integer exponents such as 2*N + 1 into float temporaries."""
    x = sp.Symbol(x_name, real=True)
    expr = expr.replace(lambda e: isinstance(e, IPow) and e.args[0] == R,
                        lambda e: 1 / IPow(x, e.args[1]))

    def at(e: sp.Expr) -> int:  # the exponent's argument
        return 1 if isinstance(e, IPow) else 2

    def atom(e: sp.Expr) -> sp.Expr:
        k = sp.expand(e.args[at(e)])
        if k not in exponents:
            # the name only orders the atom for sp.cse; the printer looks the atom up
            exponents[k] = sp.Dummy(f"({k})")
        return e.func(*e.args[:at(e)], exponents[k], *e.args[at(e) + 1:])

    return expr.replace(lambda e: isinstance(e, (IPow, PowTimes))
                        and e.args[at(e)].free_symbols, atom)


def _one_side(form: StableForm, x: sp.Symbol, small: sp.Expr, large: sp.Expr,
              printer: CodePrinter, span: tuple[float, float]) -> str | None:
    """The code of a power form whose |x| <= 1 and |x| > 1 sides (after ``sp.cse``) print
    alike, as the selection of the two would print each (``_select_then_divide``,
    ``_quotient``): the same operations, so the same bits; None where they differ (a
    compensated form of the |x| > 1 side near a root there, as the hard sigmoid's (x + 3)/6
    in exact arithmetic) or the denominator holds x (whose overflow the selection guards)."""
    if form.large != form.small or sp.fraction(form.small)[1].has(x, R):
        return None
    if printer.divide_once:
        (sn, sd), (ln, ld) = sp.fraction(small), sp.fraction(large)
        if sd == 1 and ld == 1:
            one = printer.quotient(small, None, *span, True)[0]
            return one if one == printer.quotient(large, None, *span, False)[0] else None
        a, b = printer.quotient(sn, sd, *span, True)
        return f"({a})/({b})" if (a, b) == printer.quotient(ln, ld, *span, False) else None
    if getattr(printer, "factors_quotients", False):
        one = _quotient(small, printer, span, True)
        return one if one == _quotient(large, printer, span, False) else None
    one = printer(small)
    return one if one == printer(large) else None


def _roles(form: StableForm):
    yield "small", form.small
    # a large side equal to the small one stays a piece, so that sp.cse names the
    # expression as before; it is printed once (``_one_side``)
    if form.kind == "power" and form.large is not None:
        yield "large", form.large
    if form.kind == "sigmoid" and form.limits is not None:
        yield "minus", form.limits[0]
        yield "plus", form.limits[1]
