"""Loading a user-defined family written as ``module:attribute``.

The attribute is an :class:`~gemsym.activation.Activation` or a callable taking no
arguments that returns one.  The module is looked up on ``sys.path`` with the current
folder first, as ``python -m`` would: ``gemsym show --family myacts:squareplus`` finds
``./myacts.py``.  Everything that can go wrong in user code -- a module that raises
on import, a syntax error, a factory that needs arguments or raises, an attribute that is
not an activation -- becomes one :class:`~gemsym.parameters.ParameterError` naming the
module and the error, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import re
import sys

from .activation import Activation
from .parameters import ParameterError

__all__ = ["load_user_family"]

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _import(module_name: str, spec: str):
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ParameterError(
                f"family {spec!r} cannot be loaded: no module named {exc.name!r} "
                f"(looked in the current folder and on sys.path)"
            ) from None
        raise ParameterError(
            f"family {spec!r} cannot be loaded: importing module {module_name!r} failed: "
            f"{_one_line(exc)}"
        ) from None
    except SyntaxError as exc:
        where = f" ({os.path.basename(exc.filename or '?')}, line {exc.lineno})"
        raise ParameterError(
            f"family {spec!r} cannot be loaded: module {module_name!r} has a syntax error"
            f"{where}: {exc.msg}"
        ) from None
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit too
        raise ParameterError(
            f"family {spec!r} cannot be loaded: importing module {module_name!r} raised "
            f"{_one_line(exc)}"
        ) from None


def load_user_family(spec: str) -> Activation:
    """The activation named by ``spec`` = ``module:attribute`` (``attribute`` may be
    dotted); a callable attribute is called without arguments."""
    module_name, _, attr = spec.partition(":")
    if not _DOTTED.fullmatch(module_name) or not _DOTTED.fullmatch(attr):
        raise ParameterError(
            f"family {spec!r} must be a built-in name or module:attribute with a module "
            f"name and an attribute name (such as myacts:squareplus)"
        )
    obj = _import(module_name, spec)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ParameterError(
                f"family {spec!r} cannot be loaded: module {module_name!r} has no "
                f"attribute {attr!r}"
            ) from None
    if callable(obj) and not isinstance(obj, Activation):
        try:
            obj = obj()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - user code
            raise ParameterError(
                f"family {spec!r} cannot be loaded: calling {attr}() of module "
                f"{module_name!r} raised {_one_line(exc)} (the attribute must be an "
                f"Activation or take no arguments)"
            ) from None
    if not isinstance(obj, Activation):
        raise ParameterError(
            f"family {spec!r} must name a gemsym.Activation or a function returning one "
            f"(module {module_name!r} gives {type(obj).__name__})"
        )
    return obj
