"""The child process of :mod:`.selfcheck`: reads ``{"package", "calls"}`` as JSON on stdin,
imports the package (torch with it), and writes each call's f and df/dx (autograd through
the package's backward) as JSON on stdout."""

from __future__ import annotations

import importlib
import json
import sys


def main() -> None:
    import torch

    request = json.load(sys.stdin)
    pkg = importlib.import_module(request["package"])
    results = []
    for call in request["calls"]:
        dtype = getattr(torch, call["dtype"])
        x = torch.tensor(call["xs"], dtype=torch.float64).to(dtype).requires_grad_()
        y = getattr(pkg, call["fn"])(x, *call["args"])
        (gx,) = torch.autograd.grad(y.sum(), x)
        results.append({"f": y.detach().double().tolist(), "d_x": gx.double().tolist()})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
