"""The ``gemsym`` command line.

Each subcommand lives in its own module of this package with ``add_arguments(parser)`` and
``run(args) -> int``; only the module of the command being run is imported, so that
``gemsym verify-smoothness`` never pays for torch or matplotlib.  Bad input is one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

__all__ = ["main", "COMMANDS"]

#: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("gemsym.cli.listing", "the built-in families: definition, parameters, limit, class, citation"),
    "show": ("gemsym.cli.show", "closed forms: f, gate, derivatives, Taylor, asymptotics"),
    "verify-smoothness": ("gemsym.cli.verify", "exact smoothness class at every junction"),
    "lp-distance": ("gemsym.cli.lp", "L^p distance to the limit: closed form, finiteness, rate"),
    "properties": ("gemsym.cli.properties", "monotonicity, minima, range of f', Lipschitz"),
    "prove": ("gemsym.cli.prove", "write proofs (Markdown + JSON certificates)"),
    "codegen": ("gemsym.cli.codegen", "generate the torch_bridge PyTorch package"),
    "bench": ("gemsym.cli.bench", "benchmark the generated kernels against ReLU & co"),
    "figures": ("gemsym.cli.figures", "paper-ready figures with their data"),
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _top_parser() -> _Parser:
    parser = _Parser(
        prog="gemsym",
        description="Symbolic analysis of smooth activation functions.",
        epilog="commands:\n"
        + "\n".join(f"  {name:<18} {text}" for name, (_, text) in COMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version")
    parser.add_argument("command", nargs="?", help="one of: " + ", ".join(COMMANDS))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"} or args[0] not in COMMANDS:
        parser = _top_parser()
        if args and args[0] == "--version":
            from gemsym import __version__

            print(__version__)
            return 0
        if args and not args[0].startswith("-"):
            parser.error(f"unknown command {args[0]!r}; allowed: {', '.join(COMMANDS)}")
        parser.parse_args(args)
        parser.print_help()
        return 0 if args else 2
    name, rest = args[0], args[1:]
    module = importlib.import_module(COMMANDS[name][0])
    parser = _Parser(prog=f"gemsym {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    ns = parser.parse_args(rest)
    try:
        return int(module.run(ns) or 0)
    except (ValueError, KeyError) as exc:
        # Includes ParameterError; a message, not a traceback, for bad input.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"gemsym {name}: error: {message}\n")
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
