"""Verbatim parts of the generated package, shipped as package data and copied by
:mod:`gemsym.codegen.writer` with the generated-file stamp (importing this package imports
neither torch nor triton):

- ``_runtime.py`` becomes ``_runtime.py``: op registration, execution paths, parameter
  handling and the module base class;
- ``_kernel_helpers.py`` opens ``_kernels.py``: the Triton kernels' helpers.
"""

from importlib import resources

__all__ = ["read"]

FILES = ("_runtime.py", "_kernel_helpers.py")


def read(name: str) -> str:
    """The text of the verbatim file ``name`` (one of ``FILES``)."""
    if name not in FILES:
        raise ValueError(f"name must be one of {', '.join(FILES)} (got {name!r})")
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
