"""``gemsym codegen``: generate the ``torch_bridge`` PyTorch package from the symbolic
definitions (forward, input and parameter gradients derived by SymPy, stable forms,
Triton kernels).  Importing this module does not import torch."""

from __future__ import annotations

import argparse

from ..families import DEFAULT_FAMILIES, FAMILIES, get_family


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="torch_bridge",
                        help="package folder to (re)write atomically; default: torch_bridge")
    parser.add_argument("--family", action="append",
                        help=f"built-in ({', '.join(FAMILIES)}) or module:attribute; repeatable; "
                        f"default: {', '.join(DEFAULT_FAMILIES)}")


def run(args: argparse.Namespace) -> int:
    from ..codegen import write_package

    families = [get_family(name) for name in (args.family or DEFAULT_FAMILIES)]
    paths = write_package(families, args.out)
    print(f"wrote {len(paths)} files to {paths[0].parent}")
    return 0
