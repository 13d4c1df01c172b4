"""Derivatives of the generated ops beyond the first backward (copied verbatim from
``gemsym/codegen/runtime/_autograd.py``): the double backward, directional second
derivatives for forward mode, the ``torch.autograd.Function`` classes that ``torch.func``
transforms and ``torch.compile`` see, and the helpers of the ops' vmap rules."""

from __future__ import annotations

import torch

from ._runtime import (Family, _as_tuple, _backward_terms, _computed, _plan, _sum_to,
                       _traced_forward, _traced_narrow, direct, kernels)

__all__ = ["batched_param", "double_backward", "functions", "moved"]


# ---------------------------------------------------------------- derivative algebra
def _derivatives(fam: Family, x, ints, params):
    """(first, table): the first partial derivatives [df/dx, df/dtheta...] and the second
    ones as ``table[(i, j)]`` (0: x, 1 + j: theta_j), in the compute dtype."""
    cdt, exact = _plan(x.dtype, x.device)
    xc = x.to(cdt)
    p = [q.to(cdt) for q in params]
    first = fam.first(xc, *ints, *p, exact=exact)
    second = fam.second(xc, *ints, *p, exact=exact)
    n = len(params) + 1
    table = {}
    pos = 0
    for i in range(n):
        for j in range(i, n):
            table[(i, j)] = table[(j, i)] = second[pos]
            pos += 1
    return first, table


def double_backward(fam: Family, grad, x, ints, params, params_grad: bool, ggx, ggp):
    """Gradients of the backward op's outputs (g f_x and the sums of g f_theta) with
    respect to (grad, x, theta...), given the incoming gradients ``ggx``, ``ggp``."""
    k = len(params)
    cdt = _plan(x.dtype, x.device)[0]
    first, table = _derivatives(fam, x, ints, params)
    gc = grad.to(cdt)
    gg = [ggx] + [g if params_grad else None for g in ggp]
    gg = [None if g is None else g.to(cdt) for g in gg]
    # output_i = sum over the graph of grad * d_i f, i = 0 (x, elementwise) or a parameter
    grad_grad = None
    grad_x = None
    grad_p = [None] * k
    for i, g in enumerate(gg):
        if g is None:
            continue
        term = g * first[i]
        grad_grad = term if grad_grad is None else grad_grad + term
        term_x = g * table[(i, 0)]
        grad_x = term_x if grad_x is None else grad_x + term_x
        for j in range(k):
            c = _sum_to(g * gc * table[(i, 1 + j)], params[j].shape)
            grad_p[j] = c if grad_p[j] is None else grad_p[j] + c
    if grad_x is not None:
        grad_x = gc * grad_x
    res_g = None if grad_grad is None else (grad_grad * torch.ones_like(gc)).to(grad.dtype)
    res_x = None if grad_x is None else (grad_x * torch.ones_like(gc)).to(x.dtype)
    res_p = [None if g is None else g.to(q.dtype) for g, q in zip(grad_p, params)]
    return res_g, res_x, res_p


def _directional(fam: Family, x, ints, params, x_t, p_t):
    """(first, [sum_j d2f/dv_i dv_j t_j for each variable v_i]) for the tangents
    t = (x_t, theta_t...) (None: zero), in the compute dtype."""
    cdt = _plan(x.dtype, x.device)[0]
    first, table = _derivatives(fam, x, ints, params)
    tangents = [x_t, *p_t]
    out = []
    for i in range(len(tangents)):
        acc = None
        for j, t in enumerate(tangents):
            if t is not None:
                term = table[(i, j)] * t.to(cdt)
                acc = term if acc is None else acc + term
        out.append(acc)
    return first, out


# ---------------------------------------------------------------- autograd.Functions
def moved(t, d, size: int):
    """``t`` with its vmapped dimension ``d`` first (expanded when not vmapped)."""
    return t.movedim(d, 0) if d is not None else t.unsqueeze(0).expand(size, *t.shape)


def batched_param(q, d, size: int, nd: int):
    """A parameter of a vmapped call on inputs of ``nd`` dims, shaped to broadcast
    against (size, *input shape): (size, 1.., *theta's shape)."""
    q = moved(q, d, size)
    return q.reshape(size, *([1] * (nd - (q.dim() - 1))), *q.shape[1:])


def functions(lib_name: str, fam: Family):
    """(eager, traced) ``torch.autograd.Function`` classes of one family.  ``eager`` calls
    the registered ops (and is what ``torch.func`` transforms see: ``setup_context``, a
    ``jvp`` for forward mode, vmap through the ops' own vmap rules); ``traced`` evaluates the
    formulas with traceable PyTorch ops, for ``torch.compile`` on non-CUDA tensors: Inductor
    fuses each pass into one loop (the op would stay an opaque call of the eager path).
    Both save only x and the parameters; backward recomputes."""
    ns = getattr(torch.ops, lib_name)
    fwd_op = getattr(ns, f"{fam.name}_fwd").default
    bwd_op = getattr(ns, f"{fam.name}_bwd").default
    ni, k = len(fam.int_params), len(fam.params)
    fwd_kernel, bwd_kernel = kernels(lib_name, fam.name)

    def setup(ctx, inputs, output):
        x, *rest = inputs
        ctx.ints = tuple(rest[:ni])
        ctx.save_for_backward(x, *rest[ni:])
        ctx.save_for_forward(x, *rest[ni:])

    class Backward(torch.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(grad, x, *args):
            # Function.apply runs forward with grad disabled: the kernel needs no graph
            if direct(grad, x, *args):
                return _as_tuple(bwd_kernel(grad, x, *args))
            return _as_tuple(bwd_op(grad, x, *args))

        @staticmethod
        def setup_context(ctx, inputs, output):
            grad, x, *rest = inputs
            ctx.ints = tuple(rest[:ni])
            ctx.params_grad = bool(rest[-1])
            ctx.save_for_backward(grad, x, *rest[ni:-1])
            ctx.save_for_forward(grad, x, *rest[ni:-1])

        @staticmethod
        def backward(ctx, ggx, *ggp):
            grad, x, *params = ctx.saved_tensors
            res_g, res_x, res_p = double_backward(fam, grad, x, ctx.ints, params,
                                                   ctx.params_grad, ggx, ggp)
            return (res_g, res_x, *([None] * ni), *res_p, None)

        @staticmethod
        def jvp(ctx, g_t, x_t, *args_t):
            grad, x, *params = ctx.saved_tensors
            cdt = _plan(x.dtype, x.device)[0]
            first, d = _directional(fam, x, ctx.ints, params, x_t, args_t[ni:ni + k])
            gc = grad.to(cdt)

            def tangent(i):
                t = torch.zeros_like(gc) if d[i] is None else gc * d[i]
                return t if g_t is None else t + g_t.to(cdt) * first[i]

            out = [tangent(0).to(x.dtype)]
            for j, q in enumerate(params):
                out.append(_sum_to(tangent(1 + j), q.shape).to(q.dtype) if ctx.params_grad
                           else torch.zeros_like(q))
            return tuple(out)

    class Eager(torch.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, *args):
            return fwd_kernel(x, *args) if direct(x, *args) else fwd_op(x, *args)

        setup_context = staticmethod(setup)

        @staticmethod
        def backward(ctx, grad):
            x, *params = ctx.saved_tensors
            need = ctx.needs_input_grad[1 + ni:]
            args = (grad, x, *ctx.ints, *params, any(need))
            if not torch.is_grad_enabled() and direct(*args):
                # no create_graph, so no double backward: the kernel alone, without a
                # second autograd.Function (its apply binds the signature, ~10 us)
                out = _as_tuple(bwd_kernel(*args))
            else:
                out = Backward.apply(*args)
            return (out[0], *([None] * ni), *[g if nd else None for g, nd in zip(out[1:], need)])

        @staticmethod
        def jvp(ctx, x_t, *args_t):
            x, *params = ctx.saved_tensors
            cdt = _plan(x.dtype, x.device)[0]
            first = fam.first(x.to(cdt), *ctx.ints, *[q.to(cdt) for q in params],
                              exact=_plan(x.dtype, x.device)[1])
            out = torch.zeros(x.shape, dtype=cdt, device=x.device)
            for d, t in zip(first, (x_t, *args_t[ni:])):
                if t is not None:
                    out = out + d * t.to(cdt)
            return out.to(x.dtype)

    class Traced(torch.autograd.Function):
        # forward with ctx (no setup_context): Dynamo then inlines the closure over ``fam``;
        # this class only runs under torch.compile, never under torch.func transforms.
        # A real parameter is a tensor or a Python number (see ``_runtime.traces``)
        @staticmethod
        def forward(ctx, x, *args):
            ints, params = args[:ni], args[ni:]
            ctx.ints = ints
            ctx.numbers = tuple(None if isinstance(q, torch.Tensor) else q for q in params)
            ctx.save_for_backward(x, *[q for q in params if isinstance(q, torch.Tensor)])
            return _traced_forward(fam, x, ints, params)

        @staticmethod
        def backward(ctx, grad):
            x, *tensors = ctx.saved_tensors
            params = [tensors.pop(0) if v is None else v for v in ctx.numbers]
            cdt, exact = _plan(x.dtype, x.device)
            # "* 1.0" (exact) keeps the backward's comparisons distinct from the forward's:
            # shared, AOTAutograd would save the forward's boolean masks (it never
            # recomputes an op whose output is 4x smaller than its input) instead of
            # recomputing them from x
            xc = x.to(cdt) * 1.0
            gc = grad.to(cdt)
            shapes = [q.shape if isinstance(q, torch.Tensor) else () for q in params]
            gx, sums = _backward_terms(fam, gc, xc, ctx.ints, _computed(params, cdt), exact,
                                       ctx.needs_input_grad[1 + ni:], shapes,
                                       narrow=_traced_narrow(x, cdt, params))
            grads = [None if t is None else t.to(q.dtype) for t, q in zip(sums, params)]
            return (gx.to(x.dtype), *([None] * ni), *grads)

    for cls, kind in ((Backward, "backward"), (Eager, "eager"), (Traced, "traced")):
        cls.__name__ = cls.__qualname__ = f"{fam.name}_{kind}"
    return Eager, Traced
