"""A package written by ``gemsym codegen`` for the members a test file measures, imported
from a temporary folder (shared by the codegen accuracy tests)."""

from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager
from typing import Iterator

from gemsym.families import get_family


@contextmanager
def generated_package(tmp_path_factory, name: str, members) -> Iterator[object]:
    """The package ``name`` generated for ``members`` (catalogue names, or activations such
    as a user family), importable while the context lasts."""
    from gemsym.codegen.writer import write_package

    root = tmp_path_factory.mktemp(name)
    write_package([get_family(m) if isinstance(m, str) else m for m in members],
                  root / f"{name}_bridge")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(f"{name}_bridge")
    finally:
        sys.path.remove(str(root))


def default_params(member: str, **over) -> dict:
    """The member's parameter defaults as Python numbers, updated by ``over``."""
    act = get_family(member)
    out = {p.name: (int(p.default) if p.integer else float(p.default)) for p in act.parameters}
    out.update(over)
    return out
