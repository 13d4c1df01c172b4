"""The ``gemsym`` command line.

Each subcommand lives in its own module of this package with ``add_arguments(parser)`` and
``run(args) -> int``; only the module of the command being run is imported, so that
``gemsym verify-smoothness`` never pays for torch or matplotlib.

Exit statuses mean one thing for every command: 0 every claim holds, 1 a claim fails,
2 bad input (a ``ValueError`` raised by gemsym's own checks, argparse's errors), 3 the
answer cannot be decided or an internal error, 130 interrupted.  Each is one line on
stderr; ``--debug``, before or after the command, lets the traceback through.  Options
are never abbreviated, an option given twice is an error, and ``-1e9`` is a value.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import traceback
from pathlib import Path
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
    "compare": ("gemsym.cli.compare", "the comparison table of a paper (markdown, LaTeX, CSV, JSON)"),
}


#: Anything argparse would otherwise take for an option: ``-1e9``, ``-1/3``, ``-.5`` are
#: values (Python 3.11's own test only accepts ``-1`` and ``-1.5``).
_NEGATIVE_NUMBER = re.compile(r"^-\.?\d")


class _StoreOnce(argparse._StoreAction):
    """``store``, but an option given twice is an error: ``--eps 1e-4 --eps 1e-3`` must
    not silently mean the last one."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_options_given", {})
        if self.dest in seen:
            parser.error(f"{option_string} is given twice ({seen[self.dest]!r} and {values!r})")
        seen[self.dest] = values
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2, no prefix matching
    of options (``--b`` must never become ``--beta``), and negative numbers as values."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        #: ``hook(parser, argv)`` run before parsing: options that depend on other
        #: options (the parameters of the families named by ``--family``)
        self.prepare_hooks: list = []

    def parse_args(self, args=None, namespace=None):  # noqa: D401 - argparse API
        argv = list(sys.argv[1:] if args is None else args)
        for hook in self.prepare_hooks:
            hook(self, argv)
        return super().parse_args(argv, namespace)

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message.splitlines()[0] if message else message}\n")
        raise SystemExit(2)


def _top_parser() -> _Parser:
    parser = _Parser(
        prog="gemsym",
        description="Symbolic analysis of smooth activation functions.",
        epilog="commands:\n"
        + "\n".join(f"  {name:<18} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\nexit status: 0 every claim holds, 1 a claim fails, 2 bad input, "
        "3 cannot decide or internal error, 130 interrupted.\n"
        "--debug (before or after the command) prints the traceback of an error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("command", nargs="?", help="one of: " + ", ".join(COMMANDS))
    return parser


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _from_gemsym(exc: BaseException) -> bool:
    """True when ``exc`` was raised by gemsym's own code (a checked input), False when it
    came out of a library (SymPy, mpmath, torch): that is a failure, not bad input."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return True
    return Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE_DIR)


_PACKAGE_DIR = Path(__file__).resolve().parents[1]

#: The analyses' own "no answer" exceptions (sign depends on the parameters, no
#: one-sided series, quadrature not converged, value not certified): exit 3, and the
#: message says so rather than calling it an internal error.
_CANNOT_DECIDE = {
    ("gemsym.series", "Undecidable"),
    ("gemsym.series", "NotExpandable"),
    ("gemsym.lp.quadrature", "NotConverged"),
    ("gemsym.lp.certify", "NotCertified"),
    ("gemsym.evaluate", "Imprecise"),
}


def _cannot_decide(exc: BaseException) -> bool:
    return any((c.__module__, c.__qualname__) in _CANNOT_DECIDE for c in type(exc).__mro__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status is 0 when every claim holds, 1 when a claim
    fails, 2 for bad input, 3 when the answer cannot be decided or on an internal error,
    130 when interrupted."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
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
    try:
        module = importlib.import_module(COMMANDS[name][0])
        parser = _Parser(prog=f"gemsym {name}", description=COMMANDS[name][1])
        module.add_arguments(parser)
        ns = parser.parse_args(rest)
        return int(module.run(ns) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        sys.stderr.write(f"gemsym {name}: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader went away (``| head``): nothing more to say, and nothing to flush
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except ValueError as exc:
        # ParameterError and every checked input: bad input, exit 2.  A ValueError
        # raised inside a library is a failure of the analysis, not of the input.
        if debug:
            raise
        if _from_gemsym(exc):
            sys.stderr.write(f"gemsym {name}: error: {_first_line(exc)}\n")
            return 2
        return _internal_error(name, exc)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise: one line, never a traceback
        if debug:
            raise
        if _cannot_decide(exc):
            sys.stderr.write(f"gemsym {name}: cannot decide: {_first_line(exc)}\n")
            return 3
        return _internal_error(name, exc)


def _internal_error(name: str, exc: BaseException) -> int:
    """One line for a failure that is not the user's input; exit status 3."""
    sys.stderr.write(f"gemsym {name}: internal error: {type(exc).__name__}: "
                     f"{_first_line(exc)} (--debug shows the traceback)\n")
    return 3


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
