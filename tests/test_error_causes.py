"""The measured causes of benchmarks/error_causes.py: each entry names a row the catalogue or
built-in measure scripts really write (a renamed row would leave its cause unused), and a
cause covers a row only up to the error it was measured at."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import error_causes  # noqa: E402
import measure_catalogue_errors as cat  # noqa: E402
import measure_errors as builtin  # noqa: E402


def _labels() -> set[str]:
    rows = {cat._label(name, params) for name, params in cat.regimes()}
    rows |= {builtin._label(family, params) for family, params in builtin.CONFIGS}
    return rows


@pytest.mark.parametrize("key", sorted(error_causes.CAUSES))
def test_every_cause_names_a_measured_row(key):
    label, dtype, quantity = key
    assert label in _labels()
    assert dtype in ("float16", "bfloat16", "float32", "float64")
    assert quantity == "f" or quantity.startswith("d_")


def test_a_cause_covers_only_up_to_its_measured_error():
    (label, dtype, quantity), cause = next(iter(error_causes.CAUSES.items()))
    assert error_causes.cause_of(label, dtype, quantity, cause.covers) == cause.text
    assert error_causes.cause_of(label, dtype, quantity, cause.covers * 1.01) is None
    assert error_causes.cause_of(label, "bfloat16" if dtype != "bfloat16" else "float16",
                                 quantity, 4.1) is None
