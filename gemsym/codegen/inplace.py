"""In-place ATen ops for the temporaries a narrow body owns (PyTorch target).

Eager PyTorch allocates an output for every arithmetic op; a narrow body (float64
arithmetic on a copy of a float32/16-bit input, see :mod:`.narrow`) makes a new tensor at
each step.  Where an operand is a tensor that the body itself made and nothing reads
afterwards, the op can write into it instead (``a * b`` becomes ``a.mul_(b)``, a selection
with a number ``_where(c, 0.0, t)`` becomes ``_fill_where(c, 0.0, t)``, t's
``masked_fill_``): the same
kernel on the same values, so the same bits, and one allocation and one cold output
fewer per op (GEM N = 1's forward: 5 allocations, 2 after this).

The pass works on the Python AST of a straight-line body.  An operand qualifies as the
op's output where it is

* *fresh*: made by an arithmetic op, a ``torch`` function or a runtime helper that
  returns a new tensor (:data:`FRESH_CALLS`, :data:`FRESH_TUPLES`; ``_ipow`` where its
  exponent is at least 2 for every value of the integer parameters: ``_ipow(x, 1)`` is x
  itself; ``_tail_times`` with a power of x), never bound to
  a second name nor passed through a call that may return it (``y = t``, ``_param(t)``);
* *full*: computed from the input x, so of the result's shape (the narrow path's real
  parameters are 0-d tensors; ``runtime._narrow``) and float64;
* *dead*: an unnamed intermediate, or a name that no later statement reads before it is
  assigned again and whose tensor every other op of this statement reads before this
  one runs.  A name's tensor is read when the op that takes it runs, after its other
  arguments: ``(t*x).div_(t.add_(1.0))`` has read t before adding to it, while in
  ``t + t*x`` the sum reads t after the product, which then stays out of place.

The input x itself is the caller's, except where the formulas' ``own`` flag says the
runtime made it for this call alone (its conversion to float64): a clamp of the input
that is its last read (``x = _clamp_at_zero(x, hi)``; ``torch.clamp(x0, ...)`` once
nothing reads x0 afterwards) takes the flag, and the runtime's helper then clamps in place
(:data:`CLAMPS`).

Number operands of tensor ops become names of 0-d float64 tensors (:func:`_named_numbers`;
the runtime's ``_tensor_numbers`` makes them once per memo), and ``c - t`` becomes
``torch.rsub(t, c)``: eager PyTorch wraps a Python number on every op, and
``Tensor.__rsub__`` is a Python function.

A quotient named in one statement and added to a temporary in the next (SE-GEM's sides,
``y_l = t/(1.0 - t); y = y_l + y_r``) becomes one ``addcdiv_`` (:func:`_quotient_sum`).

A sum or product whose right operand qualifies and whose left one is a name or a number
swaps them (both are commutative bitwise; the op reads the name when it did).  Compound
statements (``if _beyond(x0, ...): ...``) are not rewritten; their reads count, and the
names they assign lose freshness.  Nothing here may run under autograd recording (an op
that saved a tensor for its backward would see it changed), and nothing does: the
narrow bodies run inside the registered ops' kernels, below autograd, and in the formulas
that ``torch.compile`` traces, whose backward it never differentiates again (double
backward of a compiled graph is refused by AOTAutograd); the eager double backward and
forward-mode derivatives take the general bodies.
"""

from __future__ import annotations

import ast
import copy
import textwrap
from dataclasses import dataclass
from typing import Sequence

import sympy as sp

__all__ = ["CLAMPS", "FRESH_CALLS", "FRESH_TUPLES", "in_place"]

#: binary ops and their in-place methods; the commutative ones may swap operands
_METHODS = {ast.Add: "add_", ast.Sub: "sub_", ast.Mult: "mul_", ast.Div: "div_"}
_COMMUTATIVE = (ast.Add, ast.Mult)
#: torch functions of one tensor with an in-place method of the same kernel
_UNARY = {f"torch.{f}": f"{f}_" for f in (
    "exp", "log", "log1p", "abs", "tanh", "sigmoid", "sqrt", "reciprocal", "neg", "clamp",
    "sin", "cos", "sinh", "cosh", "atan", "relu", "expm1")}
#: calls that return a new floating tensor (never one of their arguments)
FRESH_CALLS = frozenset({
    *_UNARY, "torch.where", "torch.maximum", "torch.minimum", "torch.clamp_min",
    "torch.clamp_max", "torch.pow", "torch.hypot", "torch.copysign", "torch.sign",
    "torch.special.erf", "torch.special.erfc", "torch.special.erfcx",
    "_where", "_clamp_at_zero", "_sq", "_expm1", "_xtimes", "_sigmoid_ratio",
    "_sigmoid_lin"})
#: calls that return a tuple of new floating tensors, distinct from each other
FRESH_TUPLES = frozenset({"_sigmoid_pair", "_sigmoid_trio"})


@dataclass
class _Name:
    fresh: bool
    full: bool
    #: known to hold a floating tensor (not a mask)
    real: bool = False


def in_place(lines: Sequence[str], ret: str, x_name: str, ints: Sequence[sp.Symbol],
             own: str | None = None) -> list[str]:
    """``lines`` (one indented straight-line body, then ``return ret``) with each op whose
    output may be a temporary it overwrites written in place (see the module's text);
    the statements it does not change keep their text.  ``own``: the name of the
    formulas' flag that x is their own copy (see :data:`CLAMPS`)."""
    if not lines:
        return list(lines)
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
    src = textwrap.dedent("\n".join(lines))
    body = ast.parse(src).body
    reads = [_loads(s) for s in body] + [_loads(ast.parse(ret, mode="eval"))]
    stores = [_stores(s) for s in body] + [set()]
    names: dict[str, _Name] = {x_name: _Name(fresh=False, full=True, real=True)}
    ctx = _Context(names, {s.name: s for s in ints})
    emitted: list[tuple[ast.stmt | None, list[str]]] = []
    numbers: dict[str, str] = {}  # a number's repr -> the name of its 0-d tensor
    src_lines = src.split("\n")
    inputs = {x_name}  # the names bound to the input itself
    for i, stmt in enumerate(body):
        text = src_lines[stmt.lineno - 1:stmt.end_lineno]
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            dead = {n for n in reads[i] if _dead_after(n, i, reads, stores)}
            # decided on what is known before the statement, which it then updates from
            # the expression as printed
            new = _Rewriter(ctx, dead).rewrite(copy.deepcopy(stmt.value))
            if new is None and own is not None:
                new = _own_clamp(stmt.value, own, inputs,
                                 all(_dead_after(n, i, reads, stores) for n in inputs))
            previous = emitted[-1][0] if emitted else None
            folded = _quotient_sum(previous, new or stmt.value, ctx,
                                   lambda n: _dead_after(n, i, reads, stores))
            if folded is not None:
                emitted.pop()
                new = folded
            new = _reversed_subtractions(new or stmt.value, ctx) or new
            new = _named_numbers(new or stmt.value, ctx, numbers) or new
            if isinstance(stmt.value, ast.Name) and stmt.value.id in inputs:
                inputs |= _stores(stmt)
            else:
                inputs -= _stores(stmt)
            ctx.assign(stmt.targets[0], stmt.value)
            if new is not None:
                stmt = ast.Assign(targets=stmt.targets, value=new, lineno=stmt.lineno)
                text = [ast.unparse(stmt)]
        else:
            ctx.forget(stores[i] | _nested_stores(stmt))
            inputs -= _nested_stores(stmt)
        emitted.append((stmt, text))
    if numbers:
        names = ", ".join(numbers.values()) + ("," if len(numbers) == 1 else "")
        values = ", ".join(numbers) + ("," if len(numbers) == 1 else "")
        emitted.insert(0, (None, [f"{names} = _tensor_numbers(memo, ({values}))"]))
    return [indent + t if t.strip() else t for _, text in emitted for t in text]


#: the in-place methods whose number argument may be a 0-d tensor
_NUMBER_METHODS = frozenset(_METHODS.values())


def _named_numbers(value: ast.expr, ctx: "_Context", numbers: dict[str, str]
                   ) -> ast.expr | None:
    """``value`` with each float literal that is an operand of an arithmetic op on a
    tensor computed from x (``t + 1.0``, ``t.div_(2.0)``, ``torch.rsub(t, 1.0)``) named
    after the 0-d float64 tensor that ``_tensor_numbers(memo, ...)`` makes once per memo
    (eager PyTorch wraps a Python number on every op: ``t.add_(1.0)`` 2.0 us on 2^10
    float64 elements, ``t.add_(one)`` 1.3, the same value; without a memo, the traced
    path's, the names hold the numbers themselves); None where there is none."""
    value = copy.deepcopy(value)
    hits: list[tuple[ast.AST, str, int | None]] = []
    for n in ast.walk(value):
        if isinstance(n, ast.BinOp) and type(n.op) in _METHODS:
            for side, other in (("left", n.right), ("right", n.left)):
                if _float(getattr(n, side)) and ctx.full(other):
                    hits.append((n, side, None))
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and n.func.attr in _NUMBER_METHODS and len(n.args) == 1 and not n.keywords
              and _float(n.args[0]) and ctx.full(n.func.value)):
            hits.append((n, "args", 0))
        elif (isinstance(n, ast.Call) and ast.unparse(n.func) == "torch.rsub"
              and len(n.args) == 2 and _float(n.args[1]) and ctx.full(n.args[0])):
            hits.append((n, "args", 1))
    if not hits:
        return None
    for node, field, index in hits:
        number = getattr(node, field) if index is None else node.args[index]
        key = repr(float(number.value))
        name = numbers.setdefault(key, f"_k{len(numbers)}")
        if index is None:
            setattr(node, field, ast.Name(name, ast.Load()))
        else:
            node.args[index] = ast.Name(name, ast.Load())
    return value


def _float(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is float


def _reversed_subtractions(value: ast.expr, ctx: "_Context") -> ast.expr | None:
    """``value`` with each ``c - t`` (a number minus a tensor computed from x) written
    ``torch.rsub(t, c)``: the same op (c - 1 t, exact product), without Python's
    ``Tensor.__rsub__`` wrapper (1.0 - t: 4.5 us on 2^10 float64 elements, torch.rsub 3.6);
    None where there is none."""
    value = copy.deepcopy(value)
    chosen = {id(n) for n in ast.walk(value) if isinstance(n, ast.BinOp)
              and isinstance(n.op, ast.Sub) and _number(n.left) and ctx.full(n.right)}
    if not chosen:
        return None

    class _Rsub(ast.NodeTransformer):
        def visit_BinOp(self, node):
            hit = id(node) in chosen
            node = self.generic_visit(node)
            if not hit:
                return node
            fn = ast.Attribute(value=ast.Name("torch", ast.Load()), attr="rsub",
                               ctx=ast.Load())
            return ast.Call(func=fn, args=[node.right, node.left], keywords=[])

    return _Rsub().visit(value)


def _quotient_sum(previous: ast.stmt | None, value: ast.expr, ctx: "_Context",
                  dead) -> ast.expr | None:
    """``c.addcdiv_(a, b)`` for ``n = a/b`` followed by ``n + c`` (or ``c + n``, either as
    printed or in place) where n is read nowhere else and c is a temporary of the body's,
    dead afterwards, that a and b do not read: one op where there were two, c + (1 a)/b,
    the same roundings (a division, then a sum).  Evaluating c first changes nothing: it
    is a name, whose tensor the op reads after a and b as the sum did."""
    if not (isinstance(previous, ast.Assign) and len(previous.targets) == 1
            and isinstance(previous.targets[0], ast.Name)):
        return None
    n = previous.targets[0].id
    q = previous.value
    if isinstance(q, ast.BinOp) and isinstance(q.op, ast.Div):
        a, b = q.left, q.right
    elif (isinstance(q, ast.Call) and isinstance(q.func, ast.Attribute)
          and q.func.attr == "div_" and len(q.args) == 1 and not q.keywords):
        a, b = q.func.value, q.args[0]
    else:
        return None
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        pair = (value.left, value.right)
    elif (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
          and value.func.attr == "add_" and len(value.args) == 1 and not value.keywords):
        pair = (value.func.value, value.args[0])
    else:
        return None
    names = [p.id if isinstance(p, ast.Name) else None for p in pair]
    if names.count(n) != 1 or sum(1 for m in ast.walk(value)
                                  if isinstance(m, ast.Name) and m.id == n) != 1:
        return None
    c = pair[1] if names[0] == n else pair[0]
    info = ctx.names.get(c.id) if isinstance(c, ast.Name) else None
    if (info is None or not (info.fresh and info.full and info.real) or not dead(c.id)
            or not dead(n) or c.id in _loads(a) | _loads(b)):
        return None
    return _call(ast.Name(c.id, ast.Load()), "addcdiv_", [a, b], [])


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


def _stores(stmt: ast.stmt) -> set[str]:
    """The names a statement assigns whenever it runs (a compound statement's own are
    conditional: ``_nested_stores``)."""
    if isinstance(stmt, ast.Assign):
        return {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _nested_stores(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)}


def _dead_after(name: str, i: int, reads: list[set[str]], stores: list[set[str]]) -> bool:
    """Whether no statement after the i-th (the return last) reads ``name`` before an
    assignment that always runs replaces it (the i-th's own included)."""
    for j in range(i, len(reads)):
        if j == i:
            if name in stores[i]:
                return True
            continue
        if name in reads[j]:
            return False
        if name in stores[j]:
            return True
    return True


class _Context:
    """What is known of each name: fresh (its tensor is the body's own, reachable by this
    name alone) and full (computed from x: the result's shape, float64)."""

    def __init__(self, names: dict[str, _Name], ints: dict[str, sp.Symbol]):
        self.names = names
        self.ints = ints

    def full(self, node: ast.AST) -> bool:
        return any(self.names.get(n, _Name(False, False)).full for n in _loads(node))

    def real(self, node: ast.AST) -> bool:
        """Whether ``node`` is known to be floating (a number, or a tensor that is not a
        mask: an arithmetic op with a floating operand, a floating function)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, float)
        if isinstance(node, ast.Name):
            return self.names.get(node.id, _Name(False, False)).real
        if isinstance(node, ast.BinOp):
            return type(node.op) in _METHODS and (self.real(node.left) or self.real(node.right))
        if isinstance(node, ast.UnaryOp):
            return isinstance(node.op, ast.USub) and self.real(node.operand)
        if isinstance(node, ast.Call):
            fn = ast.unparse(node.func)
            if fn in ("torch.where", "_where"):  # a selection between floating values
                return len(node.args) == 3 and any(self.real(a) for a in node.args[1:])
            if fn == "_ipow":
                return len(node.args) >= 2 and self._at_least_two(node.args[1])
            if fn == "_tail_times":  # v x^k, a product unless k = 0 (then v itself)
                return (len(node.args) >= 3 and isinstance(node.args[2], ast.Constant)
                        and isinstance(node.args[2].value, int) and node.args[2].value >= 1)
            return fn in FRESH_CALLS
        return False

    def fresh(self, node: ast.AST) -> bool:
        """Whether ``node`` evaluates to a new floating tensor of the result's shape."""
        if not (self.full(node) and self.real(node)):
            return False
        return isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call))

    def _at_least_two(self, e: ast.expr) -> bool:
        try:
            v = sp.sympify(ast.unparse(e), locals=dict(self.ints))
        except (sp.SympifyError, SyntaxError, TypeError):
            return False
        return bool(v.free_symbols <= set(self.ints.values())) and (v - 2).is_nonnegative is True

    def assign(self, target: ast.expr, value: ast.expr) -> None:
        if (isinstance(target, ast.Tuple) and isinstance(value, ast.Call)
                and ast.unparse(value.func) in FRESH_TUPLES and self.full(value)
                and all(isinstance(t, ast.Name) for t in target.elts)
                and len({t.id for t in target.elts}) == len(target.elts)):
            for t in target.elts:
                self.names[t.id] = _Name(fresh=True, full=True, real=True)
            return
        if not self.fresh(value):
            # the target may be one of the names it reads (``y = t``, ``_param(t, x)``)
            self.forget(_loads(value))
        full, fresh, real = self.full(value), self.fresh(value), self.real(value)
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                one = isinstance(target, ast.Name)
                self.names[n.id] = _Name(fresh=fresh and one, full=full, real=real and one)

    def forget(self, names) -> None:
        for n in names:
            if n in self.names:
                self.names[n] = _Name(False, self.names[n].full, self.names[n].real)


class _Rewriter:
    """The in-place form of one expression, decided on its evaluation order."""

    def __init__(self, ctx: _Context, dead: set[str]):
        self.ctx = ctx
        self.dead = dead

    def rewrite(self, value: ast.expr) -> ast.expr | None:
        order = list(_postorder(value))
        self.position = {id(n): k for k, n in enumerate(order)}
        # a name's tensor is read when the op consuming it runs (after its other
        # arguments are evaluated): its nearest enclosing op, not the name's evaluation
        consumer = _consumers(value)
        self.reads: dict[str, list[int]] = {}
        for n in order:
            if isinstance(n, ast.Name):
                at = self.position[id(consumer[id(n)])] if id(n) in consumer else len(order)
                self.reads.setdefault(n.id, []).append(at)
        self.written: set[str] = set()
        plan = {}
        for n in order:
            receiver = self._receiver(n)
            if receiver is not None:
                plan[id(n)] = receiver
        if not plan:
            return None
        return _Apply(plan).visit(value)

    def _owned(self, node: ast.expr, at: int) -> bool:
        """Whether the op at post-order position ``at`` may write into ``node``."""
        if isinstance(node, ast.Name):
            info = self.ctx.names.get(node.id)
            if (info is None or not info.fresh or not info.full or node.id not in self.dead
                    or node.id in self.written):
                return False
            if any(k > at for k in self.reads[node.id]):
                return False
            self.written.add(node.id)
            return True
        return self.ctx.fresh(node)

    def _receiver(self, n: ast.AST) -> str | None:
        at = self.position[id(n)]
        if isinstance(n, ast.BinOp) and type(n.op) in _METHODS and self.ctx.full(n):
            if self._owned(n.left, at):
                return "left"
            # a swap leaves the op, and so the left operand's read, where it was
            if (isinstance(n.op, _COMMUTATIVE) and isinstance(n.left, (ast.Name, ast.Constant))
                    and self._owned(n.right, at)):
                return "right"
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            if self._owned(n.operand, at):
                return "operand"
        elif isinstance(n, ast.Call) and n.args:
            fn = ast.unparse(n.func)
            if fn in _UNARY and (len(n.args) == 1 or fn == "torch.clamp"):
                if self._owned(n.args[0], at):
                    return "arg"
            elif fn == "_where" and len(n.args) == 3 and self.ctx.full(n):
                # a selection with a number on one side: the other side's masked_fill
                if _number(n.args[1]) and self._owned(n.args[2], at):
                    return "where_right"
                if _number(n.args[2]) and self._owned(n.args[1], at):
                    return "where_left"
        return None


def _consumers(node: ast.AST, op: ast.AST | None = None, out: dict | None = None) -> dict:
    """id(name node) -> the op that reads its tensor: the nearest enclosing arithmetic
    op, call, comparison or subscript (a conditional expression or a tuple passes the
    reference on)."""
    out = {} if out is None else out
    if isinstance(node, ast.Name) and op is not None:
        out[id(node)] = op
    reads = isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call, ast.Compare, ast.Subscript,
                              ast.BoolOp))
    for child in ast.iter_child_nodes(node):
        _consumers(child, node if reads else op, out)
    return out


def _postorder(node: ast.AST):
    """The nodes in the order Python evaluates them (children left to right, then the
    node)."""
    for child in ast.iter_child_nodes(node):
        yield from _postorder(child)
    yield node


class _Apply(ast.NodeTransformer):
    def __init__(self, plan: dict[int, str]):
        self.plan = plan

    def visit(self, node):
        role = self.plan.get(id(node))
        node = self.generic_visit(node)
        if role is None:
            return node
        if isinstance(node, ast.BinOp):
            method = _METHODS[type(node.op)]
            recv, other = (node.left, node.right) if role == "left" else (node.right, node.left)
            return _call(recv, method, [other], [])
        if isinstance(node, ast.UnaryOp):
            return _call(node.operand, "neg_", [], [])
        if role in ("where_right", "where_left"):
            # helpers, not t.masked_fill_(c, v): the arguments keep their order
            fn = "_fill_where" if role == "where_right" else "_fill_unless"
            return ast.Call(func=ast.Name(fn, ast.Load()), args=node.args, keywords=[])
        fn = ast.unparse(node.func)
        return _call(node.args[0], _UNARY[fn], node.args[1:], node.keywords)


#: the clamps of the input that take the formulas' ``own`` flag: with it, the runtime's
#: helper clamps x in place (x is then a copy that the runtime made for these formulas
#: alone, its conversion to the compute dtype)
CLAMPS = {"_clamp_at_zero": "_clamp_at_zero", "torch.clamp": "_clamp_to"}


def _own_clamp(value: ast.expr, own: str, inputs: set[str], dead: bool) -> ast.expr | None:
    """``_clamp_at_zero(x, hi, own)`` for ``_clamp_at_zero(x, hi)`` of the input (or a
    name bound to it) where nothing reads the input afterwards; ``_clamp_to(x, lo, hi,
    own)`` for ``torch.clamp(x, min=lo, max=hi)``; None otherwise."""
    if not (dead and isinstance(value, ast.Call) and value.args
            and isinstance(value.args[0], ast.Name) and value.args[0].id in inputs):
        return None
    fn = ast.unparse(value.func)
    flag = ast.Name(own, ast.Load())
    if fn == "_clamp_at_zero" and len(value.args) == 2 and not value.keywords:
        return ast.Call(func=value.func, args=[*value.args, flag], keywords=[])
    if fn == "torch.clamp" and len(value.args) == 1:
        bounds = {k.arg: k.value for k in value.keywords}
        if set(bounds) <= {"min", "max"}:
            lo, hi = (bounds.get(k, ast.Constant(None)) for k in ("min", "max"))
            return ast.Call(func=ast.Name("_clamp_to", ast.Load()),
                            args=[value.args[0], lo, hi, flag], keywords=[])
    return None


def _number(node: ast.expr) -> bool:
    """A Python number, which ``_where`` puts in with ``masked_fill``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float))


def _call(receiver: ast.expr, method: str, args: list, keywords: list) -> ast.Call:
    return ast.Call(func=ast.Attribute(value=receiver, attr=method, ctx=ast.Load()),
                    args=args, keywords=keywords)
