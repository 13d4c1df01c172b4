"""The README's examples run: the user-defined activation prints what it says, the
torch_bridge example replaces one ReLU and trains one step under torch.compile."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_python_example_runs():
    block = next(b for b in _python_blocks() if "safe_pade" in b)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    expected = re.search(r"print\(.*\)\s+# (.*)", block).group(1).strip()
    assert out.getvalue().strip() == expected


def test_readme_gives_the_two_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text


def test_readme_torch_bridge_example_runs():
    import pytest

    pytest.importorskip("torch")
    block = next(b for b in _python_blocks() if "torch_bridge" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["n"] == 1
    weight = namespace["model"].parameters().__next__()
    assert weight.grad is not None and bool(weight.grad.abs().sum() > 0)
    # every module the example builds is used: Sqish's a, beta, gamma get gradients too
    sqish = next(m for m in namespace["model"].modules() if type(m).__name__ == "Sqish")
    trained = dict(sqish.named_parameters())
    assert trained and all(p.grad is not None and bool(p.grad.isfinite().all())
                           for p in trained.values())
    assert any(bool(p.grad.abs().sum() > 0) for p in trained.values())
