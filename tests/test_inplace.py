"""The narrow bodies' in-place ops (:mod:`gemsym.codegen.inplace`): every rewritten body
gives the bits of the same statements out of place, never writes its input, and writes a
temporary only where nothing reads it afterwards.  The reference is the generated source
with each in-place method turned back into its operator or function (``_out_of_place``),
which knows nothing of the pass's analysis."""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap

import pytest
import sympy as sp

torch = pytest.importorskip("torch")

from generated_package import default_params, generated_package  # noqa: E402

from gemsym.codegen.inplace import in_place  # noqa: E402
from torch_bridge import _formulas, _runtime  # noqa: E402

N = sp.Symbol("N", integer=True, positive=True)
_OPS = {"add_": ast.Add, "sub_": ast.Sub, "mul_": ast.Mult, "div_": ast.Div}


class _Undo(ast.NodeTransformer):
    def visit_Call(self, node):
        node = self.generic_visit(node)
        f = node.func
        if ast.unparse(f) == "torch.rsub":  # rsub(t, c) = c - t
            return ast.BinOp(left=node.args[1], op=ast.Sub(), right=node.args[0])
        if isinstance(f, ast.Name) and f.id in ("_fill_where", "_fill_unless"):
            return ast.Call(func=ast.Name("_where", ast.Load()), args=node.args, keywords=[])
        if isinstance(f, ast.Name) and node.args and ast.unparse(node.args[-1]) == "own":
            args = node.args[:-1]  # a clamp that may write into x: the plain clamp
            if f.id == "_clamp_to":
                return ast.Call(func=ast.Name("torch.clamp", ast.Load()), args=args,
                                keywords=[])
            return ast.Call(func=f, args=args, keywords=node.keywords)
        if not (isinstance(f, ast.Attribute) and f.attr.endswith("_")
                and not f.attr.startswith("_")):
            return node
        if f.attr in _OPS:
            return ast.BinOp(left=f.value, op=_OPS[f.attr](), right=node.args[0])
        if f.attr == "addcdiv_":  # c + a/b
            quotient = ast.BinOp(left=node.args[0], op=ast.Div(), right=node.args[1])
            return ast.BinOp(left=f.value, op=ast.Add(), right=quotient)
        if f.attr == "neg_":
            return ast.UnaryOp(op=ast.USub(), operand=f.value)
        fn = ast.Attribute(value=ast.Name("torch", ast.Load()), attr=f.attr[:-1],
                           ctx=ast.Load())
        return ast.Call(func=fn, args=[f.value, *node.args], keywords=node.keywords)


def _out_of_place(src: str) -> str:
    return ast.unparse(ast.fix_missing_locations(_Undo().visit(ast.parse(src))))


def _in_place_calls(src: str) -> int:
    """The in-place methods, the helpers that fill a temporary, and the clamps that may
    write into x (``own``)."""
    return sum(1 for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call) and (
        isinstance(n.func, ast.Attribute) and n.func.attr.endswith("_")
        and not n.func.attr.startswith("_")
        or isinstance(n.func, ast.Name) and n.func.id in ("_fill_where", "_fill_unless")
        or n.args and isinstance(n.args[-1], ast.Name) and n.args[-1].id == "own"))


def _function(lines: list[str], ret: str) -> str:
    body = textwrap.indent("\n".join(lines + [f"return {ret}"]), "    ")
    return f"def body(x, N, eps, exact=False, own=False, memo=None):\n{body}\n"


def _run(src: str, x, n: int, own: bool = False, memo: dict | None = None):
    ns = {"torch": torch, **{k: getattr(_runtime, k) for k in dir(_runtime)
                             if k.startswith("_") and not k.startswith("__")}}
    exec(compile(src, "<body>", "exec"), ns)
    return ns["body"](x, n, torch.tensor(0.25, dtype=torch.float64), own=own, memo=memo)


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same(p, q) for p, q in zip(a, b))
    return a.dtype == b.dtype and torch.equal(a.view(torch.int64), b.view(torch.int64))


#: (body, returned, in-place ops expected): bodies as the writer prints them, and traps
SNIPPETS = [
    # GEM's f: the clamped copy, its square and the quotient all written in place
    (["x = _clamp_at_zero(x, 8.711228593176025e+40)", "_t0 = _ipow(x, (2*N), exact)",
      "y = (_t0*x)/(_t0 + 1.0)"], "y", 4),
    # SE-GEM's sides, with names assigned twice
    (["x0 = x", "x = _clamp_at_zero(x0, 8.711228593176025e+40)",
      "_t0 = _ipow(x, (2*N), exact)", "y_r = (_t0*x)/(_t0 + eps)",
      "x = torch.clamp(x0, min=-8.711228593176025e+40, max=-0.0)",
      "_t0 = x*_ipow(x, (2*N), exact)", "y_l = (_t0)/(1.0 - _t0)", "y = y_l + y_r"], "y", 6),
    # a quotient added to a temporary that it reads: no addcdiv
    (["_c = x*2.0", "_q = (_c*x)/(_c + 1.0)", "y = _q + _c"], "y", 2),
    (["_c = x*2.0", "_q = (x*x)/(x + 1.0)", "y = _c + _q"], "y", 1),
    # the input, still read after a clamp (by x0), is not clamped in place
    (["x0 = x", "x = torch.clamp(x, min=-3.0, max=3.0)", "_m0 = x0 < 0.0",
      "y = _where(_m0, x*2.0, x*3.0)"], "y", 1),
    # the sum reads t after the product: only the sum in place
    (["_t1 = x*x", "y = _t1 + (_t1*x)"], "y", 1),
    # the quotient's left operand is computed before t changes
    (["_t0 = x*x", "y = (_t0 + 1.0)/(_t0*x)"], "y", 2),
    # a second name for a temporary: neither written
    (["_t0 = x*x", "_t1 = _t0", "y = (_t0 + 1.0)*_t1"], "y", 1),
    # _ipow(x, N) is x itself at N = 1: not the body's own
    (["x = torch.clamp(x, min=-1e30)", "_t0 = _ipow(x, N, exact)", "_t1 = _t0*2.0",
      "y = _t1 + x"], "y", 2),
    # read by a later statement, or returned
    (["_t0 = x*x", "y = _t0 + 1.0", "z = _t0*2.0"], "(y, z)", 1),
    (["_t0 = x*x", "y = torch.exp(_t0)"], "(y, _t0)", 0),
    # masks and 0-d parameters never hold a result
    (["_m0 = x < 0.0", "y = (_m0*_m0) + x"], "y", 0),
    (["_t0 = eps*2.0", "y = (_t0 + x)*(_t0 + 1.0)"], "y", 1),
    # a compound statement's reads count; its assignments are not the body's own
    (["y = x*2.0", "if bool((x > 1e300).any()):", "    y = y + 1.0", "z = y*3.0"], "(y, z)",
     0),
    # selections with a number: the tensor side's masked_fill, in the order written
    (["_t0 = x*x", "_m0 = x < 0.0", "y = _where(_m0, 0.0, _where(x > 2.0, 1.0, _t0 + 1.0))"],
     "y", 3),
    (["_t0 = x*x", "y = _where(_t0 > 1.0, _t0*2.0, -1.0)"], "y", 2),
    (["_t0 = x*x", "y = _where(_t0 > 1.0, 0.0, _t0)"], "y", 1),
    # the sigmoid pair's sides are new tensors; _tail_times(v, x, 0, ...) is v itself
    (["_s0, _s0n = _sigmoid_pair(2.0, x, 0.5, exact)", "y = _s0*x + _s0n"], "y", 2),
    (["_s0, _s0n = _sigmoid_pair(2.0, x, 0.5, exact)", "y = _s0*x", "z = _s0 + _s0n"],
     "(y, z)", 1),
    (["_t0 = x*x", "_t1 = _tail_times(_t0, x, 0, 1.0, 0.0, 0, 0, 1.0, exact)",
      "y = (_t1*2.0) + _t0"], "y", 1),
    # number operands: 0-d tensors with a memo (the same bits)
    (["_t0 = x*x", "y = (2.0 - _t0)/(_t0 + 1.5) - 0.75*x"], "y", 3),
    # unary ops and a clamp of a temporary
    (["_t0 = x*x", "y = -torch.exp(torch.clamp(_t0 - 1.0, max=40.0))"], "y", 4),
]


@pytest.mark.parametrize("lines, ret, expected", SNIPPETS)
def test_rewritten_bodies_keep_every_value(lines, ret, expected):
    rewritten = in_place(lines, ret, "x", [N], own="own")
    src = _function(rewritten, ret)
    assert _in_place_calls(src) == expected, "\n".join(rewritten)
    reference = _function(lines, ret)
    x = torch.cat([torch.logspace(-40, 38, 500, dtype=torch.float64), torch.tensor(
        [0.0, -0.0, 1.0, -1.0, 3.0, -7.5, float("inf"), -float("inf"), float("nan")],
        dtype=torch.float64), -torch.logspace(-40, 38, 500, dtype=torch.float64)])
    for n in (1, 2, 3):
        xin = x.clone()
        got = _run(src, xin, n)
        assert torch.equal(xin.view(torch.int64), x.view(torch.int64)), "the input changed"
        want = _run(reference, x.clone(), n)
        assert _same(got, want), (n, "\n".join(rewritten))
        # with a memo, the numbers are 0-d tensors
        assert _same(_run(src, x.clone(), n, own=True, memo={}), want), (n, "own")


def _outputs(v) -> list:
    if isinstance(v, torch.Tensor):
        return [v]
    if isinstance(v, (tuple, list)):
        return [t for e in v for t in _outputs(e)]
    return []


def _check_module(module, ints: range, reals: dict[str, list[float]]) -> int:
    """Every narrow call of ``module``'s formulas against its out-of-place form; the
    number of calls compared."""
    src = inspect.getsource(module)
    assert _in_place_calls(src) > 0
    ns = {"__name__": module.__name__ + "_out_of_place", "__package__": module.__package__}
    exec(compile(_out_of_place(src), "<out of place>", "exec"), ns)
    mags = torch.logspace(-45, 38, 1500)
    x = torch.cat([mags, -mags, torch.tensor([0.0, -0.0, 1.0, -1.0, float("inf"),
                                              -float("inf"), float("nan")]),
                   torch.linspace(-12.0, 12.0, 2001)]).to(torch.float64)
    calls = 0
    for name, fn in vars(module).items():
        if not (callable(fn) and name.rsplit("_", 1)[-1] in ("f", "dx", "first", "second",
                                                             "sums")):
            continue
        names = list(inspect.signature(fn).parameters)
        params = names[1:names.index("exact")]
        grids = [ints if p in ("N", "K") else reals.get(p, [1.0]) for p in params]
        for combo in itertools.product(*grids):
            args = [v if isinstance(v, int) else torch.tensor(v, dtype=torch.float64)
                    for v in combo]
            xin = x.clone()
            got = fn(xin, *args, exact=False, narrow=True)
            assert torch.equal(xin.view(torch.int64), x.view(torch.int64)), (name, combo)
            want = _outputs(ns[name](x.clone(), *args, exact=False, narrow=True))
            assert all(_same(a, b) for a, b in zip(_outputs(got), want)), (name, combo)
            # a copy of its own, which the formulas may clamp in place, and a memo (the
            # numbers then 0-d tensors)
            owned = fn(x.clone(), *args, exact=False, narrow=True, own=True, memo={})
            assert all(_same(a, b) for a, b in zip(_outputs(owned), want)), (name, combo)
            calls += 1
    return calls


def test_builtin_formulas_match_their_out_of_place_form():
    """The committed package's formulas (GEM, E-GEM, SE-GEM, Sqish), N = 1 .. 8."""
    reals = {"eps": [1e-4, 1.0, 0.0], "a": [0.0, 0.25, -1.0], "beta": [1.0, 1.7],
             "gamma": [1.0, 0.6]}
    assert _check_module(_formulas, range(1, 9), reals) > 100


def test_catalogue_formulas_match_their_out_of_place_form(tmp_path_factory):
    members = ("safe-pade", "softplus", "softsign", "smelu", "selu", "hardswish",
               "leaky-relu", "relu2")
    reals: dict[str, list[float]] = {}
    for m in members:
        for k, v in default_params(m).items():
            if isinstance(v, float):
                reals.setdefault(k, []).extend([v, 0.37 * v + 0.1, -0.6])
    with generated_package(tmp_path_factory, "inplace", members) as pkg:
        assert _check_module(pkg._formulas, range(1, 4), reals) > 20
