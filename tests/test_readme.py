"""The README's user-defined activation example runs and prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    text = README.read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    expected = re.search(r"print\(.*\)\s+# (.*)", block).group(1).strip()
    assert out.getvalue().strip() == expected


def test_readme_gives_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text
