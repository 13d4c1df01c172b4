"""The C++ source of the ahead-of-time CPU kernels (``_cpu_kernels.cpp`` of the package).

For every family whose stable forms :class:`~.cxx_printer.CxxPrinter` can print: scalar
functions ``<name>_f``, ``<name>_dx`` and ``<name>_first`` (templates on ``EXACT``, the
PyTorch path's ``exact``), and two ops of the namespace ``<lib>_cpu``:

* ``<name>_fwd(Tensor x, <int parameters>, <float parameters>) -> Tensor``;
* ``<name>_bwd(Tensor grad, Tensor x, ..., bool params_grad) -> (Tensor, Tensor)``: g f'(x)
  and a float64 vector of the sums of g df/dtheta_k (zeros without ``params_grad``).

They take contiguous CPU tensors and scalar parameters; the runtime
(``_cpu_kernel.py``) calls them from the PyTorch path and keeps every other case there.
``build.py`` compiles the source when the package is installed (``python -m <lib>.build``);
nothing is compiled at call time.
"""

from __future__ import annotations

from typing import Sequence

from .body import body_lines
from .cxx_printer import CxxPrinter, declaration
from .derive import FamilyCode
from .printer import UnsupportedConstruct
from . import runtime

__all__ = ["cpu_kernel_source"]

#: Values of a family's one integer parameter compiled as constants (GEM's N: 1..3).
SPECIALISED = (1, 2, 3)


def _scalar_function(code: FamilyCode, suffix: str, outputs, args: str) -> list[str]:
    ints = {code.symbols[p.name].name for p in code.int_params}
    pr = CxxPrinter(ints)
    body = [declaration(line) for line in body_lines(outputs, code.junctions, code.x, pr)]
    names = [n for n, _ in outputs]
    if suffix == "first":
        head = f"_INLINE void {code.pyname}_{suffix}(double x{args}, double* out) {{"
        tail = [f"  out[{i}] = {n};" for i, n in enumerate(names)]
    else:
        head = f"_INLINE double {code.pyname}_{suffix}(double x{args}) {{"
        tail = [f"  return {names[0]};"]
    return ["template <bool EXACT>", head, *[" " * 2 + b.strip() for b in body], *tail, "}", ""]


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
    defs += _scalar_function(code, "f", [("y", code.forward[0])], args)
    defs += _scalar_function(code, "dx", [("d_x", code.first[0])], args)
    defs += _scalar_function(code, "first", list(zip(code.first_names, code.first)), args)
    op_args = "".join(f", int64_t i{j}" for j in range(len(ints)))
    # real parameters as doubles (schema ``float``): a Python number passes without a
    # tensor of its own (torch.full costs ~2 us per parameter and call)
    op_args += "".join(f", double t{j}" for j in range(k))
    values = [f"  const double q{j} = static_cast<double>(i{j});" for j in range(len(ints))]
    values += [f"  const double q{len(ints) + j} = t{j};" for j in range(k)]
    tag = "decltype(tag)::value"

    def cases(call: str) -> list[str]:
        # one integer parameter: its small values as compile-time constants (the integer
        # powers then unroll and the loop vectorises), any other value at run time; the
        # lambdas are always inlined (GCC left Sqish's forward a call per element)
        qs = "".join(f", q{j}" for j in range(len(ints) + k))
        generic = [f"  return {call.format(qs=qs)};"]
        if len(ints) != 1:
            return generic
        out = ["  switch (i0) {"]
        for v in SPECIALISED:
            const = "".join([f", {float(v)!r}"] + [f", q{j}" for j in range(1, 1 + k)])
            out.append(f"    case {v}: return {call.format(qs=const)};")
        return out + ["    default: break;", "  }", *generic]

    defs += [
        f"at::Tensor {name}_fwd(const at::Tensor& x{op_args}) {{",
        *values,
        *cases(f"_forward(x, [=](double v, auto tag) _LAMBDA_INLINE "
               f"{{{{ return {name}_f<{tag}>(v{{qs}}); }}}})"),
        "}",
        "",
        f"std::tuple<at::Tensor, at::Tensor> {name}_bwd(const at::Tensor& grad, "
        f"const at::Tensor& x{op_args}, bool params_grad) {{",
        *values,
        *cases(f"_backward<{k}>(grad, x, params_grad, "
               f"[=](double v, auto tag) _LAMBDA_INLINE "
               f"{{{{ return {name}_dx<{tag}>(v{{qs}}); }}}}, "
               f"[=](double v, auto tag, double* d) _LAMBDA_INLINE "
               f"{{{{ {name}_first<{tag}>(v{{qs}}, d); }}}})"),
        "}",
        "",
    ]
    sig = "".join(f", int {n}" for n in ints) + "".join(f", float {n}" for n in reals)
    schema = [f'  m.def("{name}_fwd(Tensor x{sig}) -> Tensor");',
              f'  m.def("{name}_bwd(Tensor grad, Tensor x{sig}, bool params_grad) '
              '-> (Tensor, Tensor)");']
    impls = [f'  m.impl("{name}_fwd", &{name}_fwd);', f'  m.impl("{name}_bwd", &{name}_bwd);']
    return defs, schema, impls


def cpu_kernel_source(codes: Sequence[FamilyCode], lib: str, stamp: str) -> str:
    """The whole ``_cpu_kernels.cpp``: the verbatim helpers, then every family that can be
    printed in C++ (the others run through the PyTorch formulas), then the registration
    of the ops in the namespace ``<lib>_cpu``."""
    defs, schema, impls = [], [], []
    for code in codes:
        try:
            d, s, i = _family_source(code)
        except UnsupportedConstruct:
            continue
        defs += d
        schema += s
        impls += i
    return "\n".join([
        "// " + stamp.lstrip("# ").rstrip("\n"),
        runtime.read("_cpu_kernel_math.h"),
        runtime.read("_cpu_kernel_helpers.h"),
        "namespace {",
        "",
        *defs,
        "}  // namespace",
        "",
        f"TORCH_LIBRARY({lib}_cpu, m) {{",
        *schema,
        "}",
        "",
        f"TORCH_LIBRARY_IMPL({lib}_cpu, CPU, m) {{",
        *impls,
        "}",
    ]) + "\n"
