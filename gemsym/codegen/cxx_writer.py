"""The C++ source of the ahead-of-time CPU kernels (``_cpu_kernels.cpp`` of the package).

For every family whose stable forms :class:`~.cxx_printer.CxxPrinter` can print: scalar
functions ``<name>_f``, ``<name>_dx`` and ``<name>_first`` (templates on ``EXACT``, the
PyTorch path's ``exact``), and two ops of the namespace ``<lib>_cpu``:

* ``<name>_fwd(Tensor x, <int parameters>, <float parameters>) -> Tensor``;
* ``<name>_bwd(Tensor grad, Tensor x, ..., bool params_grad) -> (Tensor, Tensor)``: g f'(x)
  and a float64 vector of the sums of g df/dtheta_k (zeros without ``params_grad``).

They take contiguous CPU tensors and scalar parameters; the runtime
(``_cpu_kernel.py``) calls them from the PyTorch path and keeps every other case there.
The same library holds a CPython module ``_cpu_direct`` (where the build has Python's
headers) whose ``<name>(x, ints, reals)`` and ``<name>_grad(grad, x, ints, reals)`` run the
forward op and x's part of the backward op as one C++ call each, without the dispatcher, for
a plain eager call (``_cpu_kernel.call``).
``build.py`` compiles the source when the package is installed (``python -m <lib>.build``);
nothing is compiled at call time.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp

from .body import body_lines
from .cxx_printer import CxxPrinter, declaration
from .derive import FamilyCode
from .narrow import Clamp, NarrowPlan, narrow_plans, ratio_forms, sigmoid_ratios
from .scalar_case import default_values
from .printer import UnsupportedConstruct
from . import runtime

__all__ = ["cpu_kernel_source", "cuda_kernel_source"]

#: Values of a family's one integer parameter compiled as constants in its general body
#: (GEM's N: 1..3, for float64 and parameters beyond the narrow bounds), and those of
#: ``SMALL`` that no narrow body holds for (SE-GEM's N = 4..8 before they had narrow
#: bodies: 12.7 -> 5.4 ns per float32 element forward); a narrow body's are every value it
#: holds for (GEM's N = 4..8 too).
SPECIALISED = (1, 2, 3)
SMALL = range(1, 9)


def _scalar_function(code: FamilyCode, suffix: str, outputs, args: str,
                     clamp: Clamp | None = None) -> list[str]:
    ints = {code.symbols[p.name].name for p in code.int_params}
    pr = CxxPrinter(ints)
    body = [declaration(line) for line in body_lines(outputs, code.junctions, code.x, pr,
                                                     clamp=clamp)]
    names = [n for n, _ in outputs]
    if suffix.startswith("first"):
        head = f"_INLINE void {code.pyname}_{suffix}(double x{args}, double* out) {{"
        tail = [f"  out[{i}] = {n};" for i, n in enumerate(names)]
    else:
        head = f"_INLINE double {code.pyname}_{suffix}(double x{args}) {{"
        tail = [f"  return {names[0]};"]
    return ["template <bool EXACT>", head, *[" " * 2 + b.strip() for b in body], *tail, "}", ""]


def _narrow_plans(code: FamilyCode, outputs, summed: frozenset = frozenset(),
                  scaled: bool = True) -> list[NarrowPlan]:
    """The :class:`~.narrow.NarrowPlan` list of :func:`~.narrow.narrow_plans` (integer
    parameter values, narrow outputs, clamp of x), the same decisions the PyTorch formulas
    take (``writer._narrow_lines``; without sums of sides, a blend here); ``summed``: the
    outputs the kernels only sum (the parameters' derivatives); ``scaled``: derivatives,
    which a gradient multiplies."""
    return narrow_plans(outputs, code.x, [code.symbols[p.name] for p in code.int_params],
                        [code.symbols[p.name] for p in code.real_params], code.junctions,
                        summed=summed, scaled=scaled)


def _narrow_condition(code: FamilyCode, plan: NarrowPlan) -> str:
    """The C++ test of an op taking a narrow body, the PyTorch path's (``_runtime._narrow``
    and ``writer._narrow_lines``): a float32 or 16-bit input (computed in double, finite
    values below 2^128), the integer parameter among the values the plan holds for, and
    every real parameter the narrow body uses 0 or 2^-128 .. 2^128 in magnitude (NaN
    fails)."""
    values, forms, _ = plan
    terms = ["x.scalar_type() != at::kDouble"]
    if code.int_params:
        terms.append("(" + " || ".join(f"i0 == {v}" for v in values) + ")")
    used = set().union(*(e.free_symbols for _, fs in forms for f in fs for e in f.expressions))
    for j, p in enumerate(code.real_params):
        if code.symbols[p.name] in used:
            terms.append(f"(std::fabs(t{j}) == 0.0 || (std::fabs(t{j}) >= 0x1p-128 && "
                         f"std::fabs(t{j}) < 0x1p+128))")
    return " && ".join(terms)


def _default_case(code: FamilyCode, outputs) -> tuple[str, list] | None:
    """(C++ test, outputs) of :func:`~.scalar_case.default_values`: the conditions on the
    real parameters alone (Sqish's a < 0) decided once per call, as the PyTorch path's
    scalar_case bodies (there on 0-d parameters only; the ops always have theirs as
    doubles, and the body's values are the general one's for every dtype: the expm1 side
    of Sqish's forward is not computed for a >= 0); None without such conditions."""
    reals = [code.symbols[p.name] for p in code.real_params]
    defaults = {code.symbols[p.name]: p.default for p in code.real_params
                if p.default is not None}
    case = default_values(outputs, code.x, reals, defaults)
    if case is None:
        return None
    values, forms = case
    forms = sigmoid_ratios(forms, code.x, values)  # as the PyTorch path's (narrow.ratio)
    pr, names = CxxPrinter(), {s: sp.Symbol(f"t{j}") for j, s in enumerate(reals)}
    # NaN parameters compare false, as float(a) < 0 does on the PyTorch path
    test = " && ".join(pr._cond(rel.xreplace(names)) if v == sp.true
                       else f"!{pr._cond(rel.xreplace(names))}" for rel, v in values.items())
    return test, forms


def _family_source(code: FamilyCode) -> tuple[list[str], list[str], list[str]]:
    """(definitions, schema lines, impl lines) of one family; UnsupportedConstruct when
    a form has no C++ spelling."""
    pr = CxxPrinter()
    ints = [code.symbols[p.name].name for p in code.int_params]
    reals = [code.symbols[p.name].name for p in code.real_params]
    printed = [pr._print_Symbol(code.symbols[p.name])[0]
               for p in (*code.int_params, *code.real_params)]
    args = "".join(f", double {n}" for n in printed)
    name, k = code.pyname, len(reals)
    defs = [f"// ---- {code.activation.name}"]
    groups = {"f": [("y", code.forward[0])], "dx": [("d_x", code.first[0])],
              "first": list(zip(code.first_names, code.first))}
    # the narrow bodies (see gemsym.codegen.narrow) as <name>_<suffix>_narrow (then
    # _narrow2, ... for the next integer parameter values), or without one the body with the
    # conditions on the real parameters alone decided (scalar_case) as
    # <name>_<suffix>_case, each with the per-call condition under which it is taken (else
    # the general body): variants[suffix] = [(integer values, condition, function)]
    variants: dict[str, list[tuple]] = {}
    for suffix, outputs in groups.items():
        defs += _scalar_function(code, suffix, outputs, args)
        found = [(plan, _narrow_condition(code, plan), "narrow" + (str(i + 1) if i else ""))
                 for i, plan in enumerate(_narrow_plans(
                     code, outputs, frozenset(code.first_names[1:]) if suffix == "first"
                     else frozenset(), scaled=suffix != "f"))]
        if not found and (case := _default_case(code, outputs)) is not None:
            test, forms = case
            found = [(NarrowPlan(SPECIALISED, forms), test, "case")]
        elif not found and (forms := ratio_forms(outputs, code.x)) is not None:
            # the kernels take narrow dtypes only: no condition (see narrow.ratio)
            found = [(NarrowPlan(SPECIALISED, forms), "true", "case")]
        for plan, _, tag in found:
            defs += _scalar_function(code, f"{suffix}_{tag}", plan.outputs, args, plan.clamp)
        variants[suffix] = [(plan.values, test, f"{name}_{suffix}_{tag}")
                            for plan, test, tag in found]
    op_args = "".join(f", int64_t i{j}" for j in range(len(ints)))
    # real parameters as doubles (schema ``float``): a Python number passes without a
    # tensor of its own (torch.full costs ~2 us per parameter and call)
    op_args += "".join(f", double t{j}" for j in range(k))
    values = [f"  const double q{j} = static_cast<double>(i{j});" for j in range(len(ints))]
    values += [f"  const double q{len(ints) + j} = t{j};" for j in range(k)]
    tag = "decltype(tag)::value"

    def cases(call: str, pad: str = "  ", only=SPECIALISED) -> list[str]:
        # one integer parameter: the values ``only`` as compile-time constants (the integer
        # powers then unroll and the loop vectorises: GEM N=4's narrow forward took 11.3 ns
        # per element with N at run time), any other value at run time; the lambdas are
        # always inlined (GCC left Sqish's forward a call per element)
        qs = "".join(f", q{j}" for j in range(len(ints) + k))
        generic = [f"{pad}return {call.format(qs=qs)};"]
        if len(ints) != 1 or not only:
            return generic
        out = [f"{pad}switch (i0) {{"]
        for v in sorted(only):
            const = "".join([f", {float(v)!r}"] + [f", q{j}" for j in range(1, 1 + k)])
            out.append(f"{pad}  case {v}: return {call.format(qs=const)};")
        return out + [f"{pad}  default: break;", f"{pad}}}", *generic]

    def narrowed(options: list[tuple[str, str, tuple]], general: str) -> list[str]:
        # each narrow body where the call's values allow it (decided once per call, outside
        # the element loop), else the general one; constants only for the values it holds for
        out = []
        for cond, call, only in options:
            out += [f"  if ({cond}) {{", *cases(call, "    ", set(only)), "  }"]
        narrow = set().union(*(set(only) for _, _, only in options))
        return out + cases(general, only=set(SPECIALISED) | (set(SMALL) - narrow))

    def fwd_call(f: str) -> str:
        return (f"_forward(x, [=] _LAMBDA_SPACE (double v, auto tag) _LAMBDA_INLINE "
                f"{{{{ return {f}<{tag}>(v{{qs}}); }}}})")

    def bwd_call(dx: str, first: str) -> str:
        return (f"_backward<{k}>(grad, x, params_grad, "
                f"[=] _LAMBDA_SPACE (double v, auto tag) _LAMBDA_INLINE "
                f"{{{{ return {dx}<{tag}>(v{{qs}}); }}}}, "
                f"[=] _LAMBDA_SPACE (double v, auto tag, double* d) _LAMBDA_INLINE "
                f"{{{{ {first}<{tag}>(v{{qs}}, d); }}}})")

    fwd_options = [(test, fwd_call(fn), values) for values, test, fn in variants["f"]]
    # the backward evaluates first() when it sums parameter derivatives (never without
    # real parameters), else dx()
    dx_only = "" if k == 0 else "!params_grad && "
    bwd_options = [(f"{dx_only}({test})", bwd_call(fn, f"{name}_first"), values)
                   for values, test, fn in variants["dx"]]
    if k:
        bwd_options += [(f"params_grad && ({test})", bwd_call(f"{name}_dx", fn), values)
                        for values, test, fn in variants["first"]]

    defs += [
        f"at::Tensor {name}_fwd(const at::Tensor& x{op_args}) {{",
        *values,
        *narrowed(fwd_options, fwd_call(f"{name}_f")),
        "}",
        "",
        f"std::tuple<at::Tensor, at::Tensor> {name}_bwd(const at::Tensor& grad, "
        f"const at::Tensor& x{op_args}, bool params_grad) {{",
        *values,
        *narrowed(bwd_options, bwd_call(f"{name}_dx", f"{name}_first")),
        "}",
        "",
    ]
    sig = "".join(f", int {n}" for n in ints) + "".join(f", float {n}" for n in reals)
    schema = [f'  m.def("{name}_fwd(Tensor x{sig}) -> Tensor");',
              f'  m.def("{name}_bwd(Tensor grad, Tensor x{sig}, bool params_grad) '
              '-> (Tensor, Tensor)");']
    impls = [f'  m.impl("{name}_fwd", &{name}_fwd);', f'  m.impl("{name}_bwd", &{name}_bwd);']
    return defs, schema, impls


def _cxx_bound(v) -> str:
    """A domain bound as a C++ double: the float ``_params.Domain`` holds (hexadecimal,
    so the literal is that double exactly)."""
    if v is sp.S.NegativeInfinity:
        return "-_INF"
    if v is sp.S.Infinity:
        return "_INF"
    return float(v).hex()


def _direct_binding(codes: Sequence[FamilyCode]) -> list[str]:
    """The CPython module ``_cpu_direct`` of the ops (only where the build defines
    ``_CPU_PYTHON_BINDING``; see ``_cpu_kernel_helpers.h``): ``<name>(x, ints, reals)`` runs
    ``<name>_fwd`` and ``<name>_grad(grad, x, ints, reals)`` the x part of ``<name>_bwd`` on
    a call that the op would take with the same values (the helpers' ``_direct_*`` checks,
    and every real parameter inside its domain as ``Domain.contains`` decides), else they
    return None."""
    out = ["", "#ifdef _CPU_PYTHON_BINDING", "namespace {", ""]
    for code in codes:
        name, ni, nr = code.pyname, len(code.int_params), len(code.real_params)
        checks = [f"_direct_int(PyTuple_GET_ITEM(ints, {j}), &i[{j}])" for j in range(ni)]
        checks += [f"_direct_real(PyTuple_GET_ITEM(reals, {j}), &t[{j}])" for j in range(nr)]
        for j, p in enumerate(code.real_params):
            dom = p.domain
            checks.append(f"_direct_in(t[{j}], {_cxx_bound(dom.inf)}, {_cxx_bound(dom.sup)}, "
                          f"{str(bool(dom.left_open)).lower()}, "
                          f"{str(bool(dom.right_open)).lower()})")
        values = "".join(f", i[{j}]" for j in range(ni)) + "".join(f", t[{j}]" for j in range(nr))
        arrays = [f"  int64_t i[{max(ni, 1)}];", f"  double t[{max(nr, 1)}];"]
        out += ["// the parameters of a call, checked as check_int and as_param check them",
                f"bool {name}_values(PyObject* ints, PyObject* reals, int64_t* i, double* t) {{",
                f"  return {(chr(10) + '      && ').join(checks) if checks else 'true'};",
                "}",
                "",
                f"PyObject* {name}_direct(PyObject*, PyObject* const* args, Py_ssize_t nargs) {{",
                "  bool graph = false;",
                f"  const at::Tensor* x = _direct_forward_args(args, nargs, {ni}, {nr}, &graph);",
                *arrays,
                f"  if (x == nullptr || !{name}_values(args[1], args[2], i, t)) Py_RETURN_NONE;",
                "  if (graph) Py_RETURN_FALSE;",
                f"  return _direct_result([&] {{ return {name}_fwd(*x{values}); }});",
                "}",
                "",
                f"PyObject* {name}_grad_direct(PyObject*, PyObject* const* args, "
                "Py_ssize_t nargs) {",
                "  const at::Tensor* grad = nullptr;",
                "  const at::Tensor* x = nullptr;",
                *arrays,
                f"  if (!_direct_backward_args(args, nargs, {ni}, {nr}, &grad, &x) ||",
                f"      !{name}_values(args[2], args[3], i, t)) {{",
                "    Py_RETURN_NONE;",
                "  }",
                "  return _direct_result(",
                f"      [&] {{ return std::get<0>({name}_bwd(grad->contiguous(), *x{values}, "
                "false)); });",
                "}",
                ""]
    # METH_FASTCALL functions are stored as PyCFunction (CPython's documented cast)
    def entry(py: str, c: str) -> str:
        return (f'    {{"{py}", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>('
                f'{c})), METH_FASTCALL, nullptr}},')

    out += ["PyMethodDef _direct_methods[] = {",
            *[line for c in codes for line in (entry(c.pyname, f"{c.pyname}_direct"),
                                               entry(f"{c.pyname}_grad",
                                                     f"{c.pyname}_grad_direct"))],
            "    {nullptr, nullptr, 0, nullptr}};",
            "",
            "PyModuleDef _direct_module = {PyModuleDef_HEAD_INIT, \"_cpu_direct\", nullptr, -1,",
            "                              _direct_methods};",
            "",
            "}  // namespace",
            "",
            "PyMODINIT_FUNC PyInit__cpu_direct() { return PyModule_Create(&_direct_module); }",
            "#endif  // _CPU_PYTHON_BINDING"]
    return out


def _families(codes: Sequence[FamilyCode]) -> tuple[list[str], list[str], list[str],
                                                     list[FamilyCode]]:
    """(definitions, schema lines, impl lines, the families printed) of every family that
    can be printed in C++ (the others run through the PyTorch formulas)."""
    defs, schema, impls, printed = [], [], [], []
    for code in codes:
        try:
            d, s, i = _family_source(code)
        except UnsupportedConstruct:
            continue
        defs += d
        schema += s
        impls += i
        printed.append(code)
    return defs, schema, impls, printed


def _source(codes: Sequence[FamilyCode], lib: str, stamp: str, headers: Sequence[str],
            namespace: str, key: str, binding: bool = False) -> str:
    defs, schema, impls, printed = _families(codes)
    return "\n".join([
        "// " + stamp.lstrip("# ").rstrip("\n"),
        *(runtime.read(h) for h in headers),
        "namespace {",
        "",
        *defs,
        "}  // namespace",
        "",
        f"TORCH_LIBRARY({namespace}, m) {{",
        *schema,
        "}",
        "",
        f"TORCH_LIBRARY_IMPL({namespace}, {key}, m) {{",
        *impls,
        "}",
        *(_direct_binding(printed) if binding else []),
    ]) + "\n"


def cpu_kernel_source(codes: Sequence[FamilyCode], lib: str, stamp: str) -> str:
    """The whole ``_cpu_kernels.cpp``: the verbatim helpers, then every family that can be
    printed in C++ (the others run through the PyTorch formulas), then the registration
    of the ops in the namespace ``<lib>_cpu``, and the forward ops' direct Python binding
    (:func:`_direct_binding`)."""
    return _source(codes, lib, stamp, ("_cpu_kernel_math.h", "_cpu_kernel_helpers.h"),
                   f"{lib}_cpu", "CPU", binding=True)


def cuda_kernel_source(codes: Sequence[FamilyCode], lib: str, stamp: str) -> str:
    """The whole ``_cuda_kernels.cu``: the same scalar bodies and ops as
    :func:`cpu_kernel_source` (element helpers marked host and device), with the CUDA
    loops of ``_cuda_kernel_helpers.cuh``, registered in the namespace ``<lib>_cuda``."""
    return _source(codes, lib, stamp, ("_cpu_kernel_math.h", "_cpu_kernel_helpers.h",
                                       "_cuda_kernel_helpers.cuh"), f"{lib}_cuda", "CUDA")
