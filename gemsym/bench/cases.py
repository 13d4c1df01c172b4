"""What the benchmark times: the ops, their parameters, and each implementation of them.

Ops (``op``) and the parameters they are timed at:

- the generated ones, ``gem`` (N = 1, 2, 4), ``e-gem`` and ``se-gem`` (N = 1, eps = 1e-4,
  the modules' default eps), ``sqish`` (a = 0, beta = 1, gamma = 1, all three learnable);
- the anchors users would pick instead: ``relu``, ``gelu`` (erf form), ``silu``.

Implementations (``impl``): ``torch_bridge`` (the generated functional form with the fixed
parameters, ``tb.gem(x, N=1)`` as the naive formula and the anchors are functions; the
generated module where the parameters are learnable), ``torch_bridge+compile`` (that
under ``torch.compile``), ``naive`` (the defining
formula written directly in eager PyTorch), ``naive+compile`` (that formula under
``torch.compile``), ``torch`` (``torch.relu``, ``F.gelu``, ``F.silu``) and ``torch+compile``
(the anchor under ``torch.compile``).

``torch_bridge`` is imported only when one of its implementations is asked for; when it cannot
be imported its cases are reported as skipped, with the reason, and the rest still runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F

__all__ = [
    "OPS",
    "GENERATED_OPS",
    "ANCHOR_OPS",
    "IMPLS",
    "OP_PARAMS",
    "Case",
    "naive_forward",
    "build_cases",
]

GENERATED_OPS = ("gem", "e-gem", "se-gem", "sqish")
ANCHOR_OPS = ("relu", "gelu", "silu")
OPS = GENERATED_OPS + ANCHOR_OPS
IMPLS = ("torch_bridge", "torch_bridge+compile", "naive", "naive+compile", "torch", "torch+compile")

#: op -> the parameter sets it is timed at (JSON-able; what the records show as ``params``)
OP_PARAMS: dict[str, tuple[dict[str, Any], ...]] = {
    "gem": ({"N": 1}, {"N": 2}, {"N": 4}),
    "e-gem": ({"N": 1, "eps": 1e-4},),
    "se-gem": ({"N": 1, "eps": 1e-4},),
    "sqish": ({"a": 0.0, "beta": 1.0, "gamma": 1.0, "learnable": True},),
    "relu": ({},),
    "gelu": ({},),
    "silu": ({},),
}

_TB_MODULE = {"gem": "GEM", "e-gem": "EGEM", "se-gem": "SEGEM", "sqish": "Sqish"}


@dataclass
class Case:
    """One (op, params, impl): ``forward(x)`` and the learnable tensors whose gradients a
    backward pass computes besides the input's."""

    op: str
    impl: str
    params: dict[str, Any]
    forward: Callable[[torch.Tensor], torch.Tensor]
    parameters: tuple[torch.Tensor, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        p = ",".join(f"{k}={v}" for k, v in self.params.items() if k != "learnable")
        return f"{self.op}({p})/{self.impl}" if p else f"{self.op}/{self.impl}"


def naive_forward(op: str, params: dict[str, Any], device: str) -> tuple[Callable, tuple[torch.Tensor, ...]]:
    """The defining formula of ``op`` written directly in PyTorch, as a user would:

    GEM / E-GEM: x^{2N+1}/(x^{2N}+eps) for x > 0, else 0 (eps = 1 for GEM);
    SE-GEM: that for x >= 0, and x^{2N+1}/(1+|x|^{2N+1}) (= x^{2N+1}/(1-x^{2N+1})) for x < 0;
    Sqish: a x + (1-a) x / (1 + beta exp(-2 gamma (1-a) x)).  With ``params["learnable"]``
    the real parameters (E-GEM's and SE-GEM's eps; Sqish's a, beta, gamma) are learnable 0-d
    float32 tensors, as a user's module holds them, so that a backward computes their
    gradients as the generated module's does; else E-GEM's and SE-GEM's eps is a number.
    Returns the function and its learnable tensors.
    """
    learnable = bool(params.get("learnable"))
    if op in ("gem", "e-gem", "se-gem"):
        n2 = 2 * int(params["N"])
        eps: float | torch.Tensor = float(params.get("eps", 1.0))
        leaves: tuple[torch.Tensor, ...] = ()
        if learnable and op != "gem":
            eps = torch.tensor(eps, device=device, requires_grad=True)
            leaves = (eps,)
        if op == "se-gem":

            def se_gem(x: torch.Tensor) -> torch.Tensor:
                odd = x ** (n2 + 1)
                return torch.where(x >= 0, odd / (x**n2 + eps), odd / (1 + x.abs() ** (n2 + 1)))

            return se_gem, leaves

        def gem(x: torch.Tensor) -> torch.Tensor:
            return torch.where(x > 0, x ** (n2 + 1) / (x**n2 + eps), 0.0)

        return gem, leaves
    if op == "sqish":
        a, beta, gamma = (
            torch.tensor(float(params[k]), device=device, requires_grad=learnable)
            for k in ("a", "beta", "gamma")
        )

        def sqish(x: torch.Tensor) -> torch.Tensor:
            return a * x + (1 - a) * x / (1 + beta * torch.exp(-2 * gamma * (1 - a) * x))

        return sqish, tuple(t for t in (a, beta, gamma) if t.requires_grad)
    raise ValueError(f"op must be one of {', '.join(GENERATED_OPS)} for a naive formula (got {op!r})")


def _anchor(op: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if op == "relu":
        return torch.relu
    if op == "gelu":
        return F.gelu
    if op == "silu":
        return F.silu
    raise ValueError(f"op must be one of {', '.join(ANCHOR_OPS)} (got {op!r})")


def load_torch_bridge() -> Any:
    """The generated ``torch_bridge`` package; ``ImportError`` saying why when it is absent."""
    try:
        tb = importlib.import_module("torch_bridge")
    except Exception as exc:  # a broken generated package must not stop the anchors
        raise ImportError(f"torch_bridge cannot be imported ({type(exc).__name__}: {exc})") from exc
    missing = [name for name in _TB_MODULE.values() if not hasattr(tb, name)]
    if missing:
        where = getattr(tb, "__file__", None) or list(getattr(tb, "__path__", []))
        raise ImportError(f"torch_bridge ({where}) lacks {', '.join(missing)}; generate it with `gemsym codegen`")
    return tb


def _bridge_forward(tb: Any, op: str, params: dict[str, Any],
                    device: str) -> tuple[Callable[[torch.Tensor], torch.Tensor], tuple]:
    """(forward, learnable tensors) of ``op`` in torch_bridge: the module where the
    parameters are learnable, else the functional form with them fixed."""
    if params.get("learnable"):
        module = getattr(tb, _TB_MODULE[op])(**params).to(device)
        return module, tuple(p for p in module.parameters() if p.requires_grad)
    fn = getattr(tb, op.replace("-", "_"))
    kwargs = dict(params)

    def forward(x: torch.Tensor) -> torch.Tensor:
        return fn(x, **kwargs)

    return forward, ()


def _compile(fn: Callable) -> Callable:
    return torch.compile(fn, dynamic=False)


def build_cases(ops: tuple[str, ...], impls: tuple[str, ...], device: str) -> tuple[list[Case], list[str]]:
    """The cases for ``ops`` x ``impls`` (an implementation that does not apply to an op,
    e.g. ``naive`` for ``relu``, is left out) and the reasons of those that were skipped.
    ``relu`` with ``torch`` is always included: every ratio is taken against it."""
    cases: list[Case] = []
    skipped: list[str] = []
    tb = None
    if any(i.startswith("torch_bridge") for i in impls) and any(o in GENERATED_OPS for o in ops):
        try:
            tb = load_torch_bridge()
        except ImportError as exc:
            skipped.append(f"torch_bridge rows skipped: {exc}")
    for op in ops:
        for params in OP_PARAMS[op]:
            for impl in impls:
                if op in ANCHOR_OPS:
                    if impl == "torch":
                        cases.append(Case(op, impl, dict(params), _anchor(op)))
                    elif impl == "torch+compile":
                        cases.append(Case(op, impl, dict(params), _compile(_anchor(op))))
                    continue
                if impl in ("naive", "naive+compile"):
                    fn, learn = naive_forward(op, params, device)
                    cases.append(Case(op, impl, dict(params), _compile(fn) if impl.endswith("+compile") else fn, learn))
                elif impl in ("torch_bridge", "torch_bridge+compile") and tb is not None:
                    try:
                        fwd, learn = _bridge_forward(tb, op, params, device)
                    except Exception as exc:
                        skipped.append(f"{op}/{impl}: torch_bridge's {op} with {params} failed: "
                                       f"{type(exc).__name__}: {exc}")
                        continue
                    fwd = _compile(fwd) if impl.endswith("+compile") else fwd
                    cases.append(Case(op, impl, dict(params), fwd, learn))
    have = {(c.op, c.impl) for c in cases}
    anchors = [("relu", "torch", torch.relu)]
    if any(i.endswith("+compile") for i in impls):
        anchors.append(("relu", "torch+compile", _compile(torch.relu)))
    for op, impl, fn in reversed(anchors):
        if (op, impl) not in have:
            cases.insert(0, Case(op, impl, {}, fn))
    return cases, skipped
