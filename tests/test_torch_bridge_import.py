"""``import torch_bridge`` where torch is not installed says how to install it (torch is
the optional ``gemsym[torch]`` extra), in one exception and not a bare ``import torch``
failure; the package is the generator's output (test_codegen checks that)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# None in sys.modules makes ``import torch`` fail exactly as where torch is not installed
NO_TORCH = "import sys; sys.modules['torch'] = None; import torch_bridge"


def test_import_without_torch_names_the_extra():
    proc = subprocess.run([sys.executable, "-c", NO_TORCH], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: torch_bridge needs PyTorch"), proc.stderr
    assert "pip install 'gemsym[torch]'" in last
    # the original "No module named" error is not chained in: one exception, one message
    assert "During handling" not in proc.stderr and proc.stderr.count("Traceback") == 1


def test_import_without_torch_is_an_import_error_for_callers():
    code = NO_TORCH.replace("import torch_bridge", "") + (
        "\ntry:\n    import torch_bridge\nexcept ImportError as e:\n"
        "    print(type(e).__name__, e.name)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.split() == ["ModuleNotFoundError", "torch"], proc.stderr
