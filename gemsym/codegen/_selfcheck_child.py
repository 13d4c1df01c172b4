"""The child process of :mod:`.selfcheck`: reads ``{"package", "calls"}`` as JSON on stdin,
imports the package (torch with it), and writes each call's f and df/dx (autograd through
the package's backward; by its C++ kernel where the call asks for it, else with the kernels
off; null for a kernel call whose family has no built kernel) as JSON on stdout."""

from __future__ import annotations

import importlib
import json
import sys
import warnings


def main() -> None:
    import torch

    request = json.load(sys.stdin)
    with warnings.catch_warnings():
        # a package whose kernels are not built says so at import: its formulas are checked
        warnings.simplefilter("ignore", RuntimeWarning)
        pkg = importlib.import_module(request["package"])
    # a package written by hand may have no kernels at all
    kernels = getattr(pkg, "_cpu_kernel", None)
    loaded = set(kernels.loaded()) if kernels is not None else set()
    results = []
    for call in request["calls"]:
        if call["kernel"] and call["fn"] not in loaded:
            results.append(None)
            continue
        if kernels is not None:
            kernels.set_cpu_kernel(call["kernel"])
        dtype = getattr(torch, call["dtype"])
        x = torch.tensor(call["xs"], dtype=torch.float64).to(dtype).requires_grad_()
        y = getattr(pkg, call["fn"])(x, *call["args"])
        (gx,) = torch.autograd.grad(y.sum(), x)
        results.append({"f": y.detach().double().tolist(), "d_x": gx.double().tolist()})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
